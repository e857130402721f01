import { byteSize, isParameterType } from '../ir/dtypes';
import { getTensor, subgraphsOf } from '../ir/attributes';
import { elementCount } from '../ir/tensorData';
import type { DataType, Graph, Node, Tensor } from '../ir/types';
import type { ParamInfo, PerNode } from './types';

/**
 * Parameter counting (docs/json-contract.md's `params`).
 *
 * What counts: elements of float initializers (float32, float64, float16, bfloat16) that some node reads, dense or
 * sparse (a sparse initializer counts its stored values, because those are what training updates). Integer tensors
 * such as Reshape shapes or quantised weights' zero points are never parameters.
 *
 * Per node versus totals: a node's `params` counts every parameter tensor it reads, so a weight shared by two nodes
 * (tied embeddings, a reused layer) appears in both rows, which is what a user looking at either row expects to see.
 * The totals count each tensor once, by name, so they equal what the file stores; the rows can therefore add up to
 * more than the totals, and the summary says by how much (summary.ts sharedParamsNote). A parameter passed through
 * Identity nodes belongs to the layers that read the Identity's output, not to the Identity.
 *
 * Constant nodes: docs/json-contract.md counts initializers, and PyTorch's exporter (constant folding on, its default) writes
 * every weight, folded BatchNorm included, as an initializer. Some exporters and some export settings put weights in
 * Constant nodes instead. A float Constant counts as a parameter only when it feeds a weight slot of a layer
 * (Conv's W and B, Gemm's B and C, a MatMul operand, a normalisation's scale and bias, a recurrent op's W, R and B),
 * so that such files report their real size, while the scalars that exported arithmetic is full of (the 1/sqrt(d) of
 * attention, the epsilon of a manual LayerNorm) do not.
 *
 * Non-trainable: BatchNormalization's running mean and variance (inputs 3 and 4), and the scales of quantisation
 * nodes. A tensor is non-trainable only when every use of it is a non-trainable slot.
 */

/** Inputs that hold running statistics or fixed scales rather than learned weights. */
const NON_TRAINABLE_SLOTS: Record<string, readonly number[]> = {
  BatchNormalization: [3, 4],
  QuantizeLinear: [1],
  DequantizeLinear: [1],
};

/**
 * Float inputs that are configuration, not weights: resize factors, clip bounds, a pad value. Exporters write these
 * as initializers too, and counting them would make totals disagree with the framework's own count.
 */
const CONFIGURATION_SLOTS: Record<string, readonly number[]> = {
  Resize: [1, 2],
  Upsample: [1],
  Clip: [1, 2],
  Pad: [2],
  ConstantOfShape: [0],
  Range: [0, 1, 2],
  Dropout: [1],
};

/** Weight slots of layer ops, used to decide when a float Constant node is really a parameter. */
const WEIGHT_SLOTS: Record<string, readonly number[]> = {
  Conv: [1, 2],
  ConvTranspose: [1, 2],
  Gemm: [0, 1, 2],
  MatMul: [0, 1],
  BatchNormalization: [1, 2, 3, 4],
  InstanceNormalization: [1, 2],
  LayerNormalization: [1, 2],
  GroupNormalization: [1, 2],
  LSTM: [1, 2, 3],
  GRU: [1, 2, 3],
  RNN: [1, 2, 3],
  PRelu: [1],
  Embedding: [0],
};

/** One tensor that counts as a parameter, with how the model uses it. */
export interface ParamTensor {
  name: string;
  dtype: DataType;
  /** Elements that count: all of a dense tensor's, the stored values of a sparse one. */
  elements: number;
  bytes: number;
  trainable: boolean;
  /** Where it came from, so the inspector can say why a Constant counted. */
  origin: 'initializer' | 'sparseInitializer' | 'constant';
}

export interface ParamTotals {
  params: number;
  trainableParams: number;
  nonTrainableParams: number;
  paramBytes: number;
  paramBytesByDtype: Record<string, number>;
}

export interface ParamAnalysis {
  perNode: PerNode<ParamInfo>;
  /** Every parameter tensor the model uses, each once. */
  tensors: ParamTensor[];
  totals: ParamTotals;
  /** Parameter tensors read by more than one node: each user's row counts them, the totals once. */
  shared: { name: string; elements: number; users: number }[];
  /** Identity outputs that stand for a parameter tensor (see parameterAliases). */
  aliases: ReadonlyMap<string, string>;
}

interface Candidate {
  name: string;
  dtype: DataType;
  elements: number;
  bytes: number;
  origin: ParamTensor['origin'];
}

/** Counts the parameters of a graph's nodes; nodes inside subgraphs are attributed to the node that owns them. */
export function countParams(graph: Graph): ParamAnalysis {
  const candidates = new Map<string, Candidate>();
  for (const t of graph.initializers) {
    if (isParameterType(t.dtype)) candidates.set(t.name, denseCandidate(t, 'initializer'));
  }
  for (const s of graph.sparseInitializers) {
    if (!isParameterType(s.values.dtype)) continue;
    const elements = elementCount(s.values.dims);
    candidates.set(s.values.name, {
      name: s.values.name,
      dtype: s.values.dtype,
      elements,
      bytes: byteSize(s.values.dtype, elements),
      origin: 'sparseInitializer',
    });
  }
  addConstantCandidates(graph, candidates);

  // Every (tensor, slot) use, per node, including uses by nodes inside the node's subgraphs. A value that an Identity
  // passes through from a parameter is that parameter: the layer reading it owns it, not the Identity.
  const aliases = parameterAliases(graph, candidates);
  const perNode: PerNode<ParamInfo> = new Map();
  const trainableUse = new Map<string, boolean>();
  const users = new Map<string, number>();
  for (const node of graph.nodes) {
    const seen = new Map<string, boolean>();
    if (!(node.opType === 'Identity' && node.domain === '' && aliases.has(node.outputs[0] ?? ''))) collectUses(node, candidates, seen, new Set(), aliases);
    let params = 0;
    let trainable = 0;
    for (const [name, isTrainable] of seen) {
      users.set(name, (users.get(name) ?? 0) + 1);
      const c = candidates.get(name);
      if (!c) continue;
      params += c.elements;
      if (isTrainable) trainable += c.elements;
      trainableUse.set(name, (trainableUse.get(name) ?? false) || isTrainable);
    }
    perNode.set(node, { params, trainable, nonTrainable: params - trainable });
  }

  const tensors: ParamTensor[] = [];
  const totals: ParamTotals = { params: 0, trainableParams: 0, nonTrainableParams: 0, paramBytes: 0, paramBytesByDtype: {} };
  for (const [name, isTrainable] of trainableUse) {
    const c = candidates.get(name);
    if (!c) continue;
    tensors.push({ ...c, trainable: isTrainable });
    totals.params += c.elements;
    if (isTrainable) totals.trainableParams += c.elements;
    else totals.nonTrainableParams += c.elements;
    totals.paramBytes += c.bytes;
    totals.paramBytesByDtype[c.dtype] = (totals.paramBytesByDtype[c.dtype] ?? 0) + c.bytes;
  }
  const shared = tensors.filter((t) => (users.get(t.name) ?? 0) > 1).map((t) => ({ name: t.name, elements: t.elements, users: users.get(t.name)! }));
  return { perNode, tensors, totals, shared, aliases };
}

/**
 * Outputs of Identity nodes whose input is (through any chain of Identities) a parameter, mapped to that parameter.
 * PyTorch's exporter writes equal tensors once and hands each user a copy through an Identity node (ResNet-18's
 * folded BatchNorm biases of a fresh model are all zero, so one tensor serves four convolutions per stage).
 */
export function parameterAliases(graph: Graph, candidates: ReadonlyMap<string, unknown>): Map<string, string> {
  const aliases = new Map<string, string>();
  let changed = true;
  while (changed) {
    changed = false;
    for (const node of graph.nodes) {
      if (node.opType !== 'Identity' || node.domain !== '' || node.inputs.length !== 1 || node.outputs.length !== 1) continue;
      const out = node.outputs[0]!;
      if (aliases.has(out) || candidates.has(out)) continue;
      const source = candidates.has(node.inputs[0]!) ? node.inputs[0]! : aliases.get(node.inputs[0]!);
      if (source !== undefined) {
        aliases.set(out, source);
        changed = true;
      }
    }
  }
  return aliases;
}

function denseCandidate(t: Tensor, origin: ParamTensor['origin']): Candidate {
  const elements = elementCount(t.dims);
  return { name: t.name, dtype: t.dtype, elements, bytes: byteSize(t.dtype, elements), origin };
}

/** Float Constant nodes whose output feeds a layer's weight slot (see the file comment for why). */
function addConstantCandidates(graph: Graph, candidates: Map<string, Candidate>): void {
  const constants = new Map<string, Tensor>();
  for (const node of graph.nodes) {
    if (node.opType !== 'Constant' || node.domain !== '' || node.outputs.length !== 1) continue;
    const value = getTensor(node, 'value');
    if (value && isParameterType(value.dtype)) constants.set(node.outputs[0], value);
  }
  if (constants.size === 0) return;
  const producers = new Map<string, Node>();
  for (const node of graph.nodes) for (const o of node.outputs) producers.set(o, node);
  for (const node of graph.nodes) {
    const slots = WEIGHT_SLOTS[node.opType];
    node.inputs.forEach((input, i) => {
      const value = constants.get(input);
      if (!value || candidates.has(input)) return;
      let isWeight = slots !== undefined && slots.includes(i);
      // MatMul followed by Add is how exporters write a Linear layer's bias.
      if (!isWeight && node.opType === 'Add' && node.inputs.length === 2) {
        const other = producers.get(node.inputs[1 - i]);
        isWeight = other !== undefined && (other.opType === 'MatMul' || other.opType === 'Gemm');
      }
      // A MatMul operand only counts when the other side is data; two constants multiplied are not a layer.
      if (isWeight && node.opType === 'MatMul' && constants.has(node.inputs[1 - i])) isWeight = false;
      if (isWeight && elementCount(value.dims) > 1) candidates.set(input, { ...denseCandidate(value, 'constant'), name: input });
    });
  }
}

function collectUses(
  node: Node,
  candidates: Map<string, Candidate>,
  seen: Map<string, boolean>,
  shadowed: Set<string>,
  aliases: ReadonlyMap<string, string>,
): void {
  const nonTrainable = NON_TRAINABLE_SLOTS[node.opType] ?? [];
  const configuration = CONFIGURATION_SLOTS[node.opType] ?? [];
  node.inputs.forEach((raw, i) => {
    if (raw === '' || shadowed.has(raw)) return;
    const input = aliases.get(raw) ?? raw;
    if (!candidates.has(input)) return;
    if (node.domain === '' && configuration.includes(i)) return;
    const isTrainable = !(node.domain === '' && nonTrainable.includes(i));
    seen.set(input, (seen.get(input) ?? false) || isTrainable);
  });
  for (const sub of subgraphsOf(node)) {
    // Names a subgraph defines itself hide the outer initializers of the same name.
    const inner = new Set(shadowed);
    for (const v of sub.inputs) inner.add(v.name);
    for (const t of sub.initializers) inner.add(t.name);
    for (const n of sub.nodes) for (const o of n.outputs) inner.add(o);
    for (const n of sub.nodes) collectUses(n, candidates, seen, inner, aliases);
  }
}
