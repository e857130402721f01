import { inferShapes } from '../analysis/shapes';
import { UserInputError } from '../errors';
import { isFloatType, isParameterType } from '../ir/dtypes';
import { indexGraph } from '../ir/graphIndex';
import { inlineValues } from '../ir/tensorData';
import { defaultOpset, type DataType, type Model, type Node, type Shape, type TensorType, type ValueInfo } from '../ir/types';
import { dtypeCodeOf, Emitter } from './emitter';
import { buildLoss, type LossSpec } from './losses';
import { gradRules, NON_DIFFERENTIABLE_OPS } from './rules';
import type { GradContext, RuleEntry } from './ruleTypes';

/**
 * Builds the backward pass of a model as an ordinary ONNX graph (README's "Gradient probes"): the forward graph, then the
 * loss, then one gradient rule per forward node in reverse order, all in one graph so that a single session on any
 * execution provider runs both passes. The input model is never modified; the result is a new in-memory model.
 */

export interface BackwardOptions {
  loss: LossSpec;
  /** The graph output the loss reads. Defaults to the first output. */
  output?: string;
  /** Also output the gradient of every intermediate activation (default true). */
  activations?: boolean;
}

export interface ActivationGrad {
  /** The forward value. */
  name: string;
  /** The node that produced it, and its op. */
  node: string;
  op: string;
}

export interface BackwardResult {
  model: Model;
  /** Name of the scalar loss output. */
  loss: string;
  /** An extra input the caller must feed (class indices or a regression target), when the loss needs one. */
  target?: { name: string; dtype: DataType };
  /** Forward value name -> graph output holding its gradient (parameters, inputs and activations). */
  gradNames: Map<string, string>;
  /** Trainable float initializers, in the order the graph first uses them. */
  params: string[];
  /** Float graph inputs (not initializers) whose gradients are outputs. */
  inputs: string[];
  activations: ActivationGrad[];
  floatType: DataType;
  /** The default-domain opset of the built model (raised to 16 when the model's own allowed it). */
  opset: number;
  /** The shape of the output the loss reads, as far as shape inference knows it (for checking class indices). */
  outputShape: Shape;
  /** How many of the graph's first nodes are the forward pass and the loss (the numerical check copies them). */
  forwardNodes: number;
}

/** Ops that changed meaning between opsets 13 and 16, which stop the builder from raising the opset. */
const OPSET_16_CHANGED = new Set(['RoiAlign']);

function tensorTypeOf(v: ValueInfo): TensorType | undefined {
  return v.type && v.type.kind === 'tensor' ? v.type.tensor : undefined;
}

function nodeLabel(node: Node): string {
  return node.name || `${node.opType} -> ${node.outputs[0] ?? '?'}`;
}

export function buildBackward(model: Model, options: BackwardOptions): BackwardResult {
  const graph = model.graph;
  const modelOpset = defaultOpset(model);
  if (modelOpset < 13) {
    throw new UserInputError(
      `gradient probes need ONNX opset 13 or later; this model uses opset ${modelOpset} (re-export it with a newer opset)`,
    );
  }
  // ScatterElements with reduction='add' (MaxPool, Gather, Pad gradients) needs opset 16; 13-15 mean the same for
  // every op but RoiAlign, so raising the opset is safe and lets one set of rules serve all of them.
  let opset = modelOpset;
  if (opset < 16) {
    const blocker = graph.nodes.find((n) => (n.domain === '' || n.domain === 'ai.onnx') && OPSET_16_CHANGED.has(n.opType));
    if (blocker) throw new UserInputError(`gradient probes cannot handle ${blocker.opType} (node '${nodeLabel(blocker)}') at opset ${opset}`);
    opset = 16;
  }
  for (const n of graph.nodes) {
    if (n.domain !== '' && n.domain !== 'ai.onnx') {
      throw new UserInputError(`gradient probes support only standard ONNX ops; node '${nodeLabel(n)}' is ${n.domain}.${n.opType}`);
    }
  }

  let types = new Map<string, TensorType>();
  let constants = new Map<string, number[]>();
  try {
    const inferred = inferShapes(model);
    types = inferred.types;
    for (const [k, v] of inferred.constants) constants.set(k, v.values);
  } catch {
    // Shape inference is an aid, not a requirement: every rule has a run-time fallback or a clear refusal.
    types = new Map();
    constants = new Map();
  }
  // Declared types fill in whatever shape inference did not give (or all of it, if it failed).
  for (const v of [...graph.inputs, ...graph.valueInfo, ...graph.outputs]) {
    const t = tensorTypeOf(v);
    if (t && !types.has(v.name)) types.set(v.name, t);
  }
  for (const t of graph.initializers) {
    if (!types.has(t.name)) types.set(t.name, { dtype: t.dtype, shape: [...t.dims] });
    if (!constants.has(t.name) && t.dims.reduce((a, b) => a * b, 1) <= 64) {
      const vals = inlineValues(t);
      if (vals) constants.set(t.name, vals);
    }
  }

  const output = options.output ?? graph.outputs[0]?.name;
  if (!output) throw new UserInputError('the model has no outputs to take a loss of');
  if (!graph.outputs.some((o) => o.name === output) && !graph.nodes.some((n) => n.outputs.includes(output))) {
    throw new UserInputError(`no output named '${output}' in the model`);
  }
  const initNames = new Set(graph.initializers.map((t) => t.name));
  const floatInputs = graph.inputs.filter((i) => {
    const t = tensorTypeOf(i);
    return !initNames.has(i.name) && t !== undefined && isFloatType(t.dtype);
  });
  const floatType: DataType = types.get(output)?.dtype ?? tensorTypeOf(floatInputs[0] ?? { name: '', type: null })?.dtype ?? 'float32';
  if (!isParameterType(floatType)) throw new UserInputError(`the output '${output}' is not a float tensor (${floatType})`);

  const used: string[] = [];
  for (const v of [...graph.inputs, ...graph.outputs, ...graph.valueInfo]) used.push(v.name);
  for (const t of graph.initializers) used.push(t.name);
  for (const n of graph.nodes) used.push(n.name, ...n.outputs);
  const e = new Emitter(used, floatType, opset, types);

  // The forward copy: MaxPool nodes get their Indices output, which their gradient rule routes through.
  const forward: Node[] = graph.nodes.map((n) => {
    if ((n.opType === 'MaxPool') && (n.outputs.length < 2 || n.outputs[1] === '')) {
      return { ...n, outputs: [n.outputs[0], e.fresh(`${n.outputs[0]}_indices`)] };
    }
    return n;
  });

  const built = buildLoss(e, output, options.loss);
  const lossNodes = e.nodes.splice(0, e.nodes.length);
  const allForward = [...forward, ...lossNodes];
  const forwardGraph = {
    ...graph,
    nodes: allForward,
    inputs: built.target ? [...graph.inputs, { name: built.target.name, type: null }] : graph.inputs,
    initializers: [...graph.initializers, ...e.initializers],
  };
  const index = indexGraph(forwardGraph);

  const entryOf = (n: Node): RuleEntry | undefined => gradRules[n.opType];
  const isDiffSlot = (n: Node, i: number): boolean => {
    const entry = entryOf(n);
    if (!entry) return !NON_DIFFERENTIABLE_OPS.has(n.opType);
    return entry.diff === 'all' || entry.diff.includes(i);
  };

  // Parameters: float initializers read in a differentiable position somewhere. Exporters route tied tensors through
  // Identity nodes (PyTorch merges identical BatchNorm running statistics that way), so look through those.
  const readDifferentiably = (name: string, depth = 0): boolean =>
    (index.consumers.get(name) ?? []).some((n) =>
      n.inputs.some((input, i) => {
        if (input !== name) return false;
        if (n.opType === 'Identity' && depth < 32) return readDifferentiably(n.outputs[0], depth + 1);
        return isDiffSlot(n, i);
      }),
    );
  const params: string[] = [];
  const paramSet = new Set<string>();
  const initByName = new Map(graph.initializers.map((t) => [t.name, t]));
  for (const n of index.order) {
    for (const name of n.inputs) {
      const t = initByName.get(name);
      if (!t || paramSet.has(name) || !isParameterType(t.dtype) || !readDifferentiably(name)) continue;
      paramSet.add(name);
      params.push(name);
    }
  }

  // Which values depend on a parameter or an input (forward), and which feed the loss (backward).
  const requiresGrad = new Set<string>([...paramSet, ...floatInputs.map((i) => i.name)]);
  for (const n of index.order) {
    if (NON_DIFFERENTIABLE_OPS.has(n.opType)) continue;
    if (!n.inputs.some((name, i) => name !== '' && requiresGrad.has(name) && isDiffSlot(n, i))) continue;
    n.outputs.forEach((o, i) => {
      if (o === '') return;
      const t = types.get(o);
      if (t && !isFloatType(t.dtype)) return;
      // MaxPool's Indices output is integer even when shape inference has not seen it.
      if (n.opType === 'MaxPool' && i === 1) return;
      requiresGrad.add(o);
    });
  }
  const reaches = new Set<string>([built.loss]);
  for (let k = index.order.length - 1; k >= 0; k--) {
    const n = index.order[k];
    if (n.outputs.some((o) => reaches.has(o))) for (const i of n.inputs) if (i !== '') reaches.add(i);
  }

  const contributions = new Map<string, string[]>();
  const summed = new Map<string, string>();
  const gradOf = (name: string): string | undefined => {
    const done = summed.get(name);
    if (done) return done;
    const parts = contributions.get(name);
    if (!parts || parts.length === 0) return undefined;
    const g = e.sum(parts);
    summed.set(name, g);
    return g;
  };
  contributions.set(built.loss, [e.constF(1)]);

  for (let k = index.order.length - 1; k >= 0; k--) {
    const node = index.order[k];
    if (NON_DIFFERENTIABLE_OPS.has(node.opType)) continue;
    const needs = node.inputs.map((name, i) => name !== '' && requiresGrad.has(name) && isDiffSlot(node, i));
    if (!needs.some(Boolean)) continue;
    const gy = node.outputs.map((o) => (o === '' ? undefined : gradOf(o)));
    if (!gy.some((g) => g !== undefined)) continue;
    const unsupported = (why: string): never => {
      throw new UserInputError(`cannot build the gradient of node '${nodeLabel(node)}' (${node.opType}): ${why}`);
    };
    const entry = entryOf(node);
    if (!entry) unsupported(`no gradient rule for ${node.opType}`);
    for (const slot of entry!.constant ?? []) {
      const name = node.inputs[slot];
      if (name && requiresGrad.has(name)) unsupported(`input ${slot + 1} ('${name}') must be a constant, but it depends on parameters`);
    }
    const ctx: GradContext = {
      e,
      node,
      gy,
      needs,
      constant: (name) => constants.get(name),
      gradOrZeros: (i) => gy[i] ?? e.zerosLike(node.outputs[i]),
      unsupported,
    };
    const grads = entry!.rule(ctx);
    node.inputs.forEach((name, i) => {
      const g = grads[i];
      if (!needs[i] || g === undefined) return;
      const list = contributions.get(name);
      if (list) list.push(g);
      else contributions.set(name, [g]);
    });
  }

  // Name every requested gradient with its own output, so that two values sharing one gradient still get two outputs.
  const gradNames = new Map<string, string>();
  const newOutputs: ValueInfo[] = [{ name: built.loss, type: { kind: 'tensor', tensor: { dtype: floatType, shape: [] } } }];
  const emitGrad = (value: string): void => {
    if (gradNames.has(value)) return;
    const g = gradOf(value) ?? e.zerosLike(value);
    const name = e.fresh(`${value}_grad`);
    e.nodes.push({ name: e.fresh(`grad/Identity_${value}`), opType: 'Identity', domain: '', inputs: [g], outputs: [name], attributes: [] });
    gradNames.set(value, name);
    newOutputs.push({ name, type: { kind: 'tensor', tensor: { dtype: types.get(value)?.dtype ?? floatType, shape: null } } });
  };
  const inputs = floatInputs.map((i) => i.name);
  for (const name of inputs) emitGrad(name);
  for (const name of params) emitGrad(name);
  const activations: ActivationGrad[] = [];
  const lossNodeSet = new Set(lossNodes);
  if (options.activations !== false) {
    for (const n of index.order) {
      if (lossNodeSet.has(n)) continue;
      for (const o of n.outputs) {
        if (o === '' || !requiresGrad.has(o) || !reaches.has(o) || gradNames.has(o)) continue;
        activations.push({ name: o, node: n.name, op: n.opType });
        emitGrad(o);
      }
    }
  }

  const existingOutputs = new Set(graph.outputs.map((o) => o.name));
  const result: Model = {
    ...model,
    opsetImports: model.opsetImports.map((o) => (o.domain === '' || o.domain === 'ai.onnx' ? { ...o, version: opset } : o)),
    graph: {
      ...graph,
      nodes: [...allForward, ...e.nodes],
      inputs: built.target
        ? [...graph.inputs, { name: built.target.name, type: { kind: 'tensor', tensor: { dtype: built.target.dtype, shape: null } } }]
        : graph.inputs,
      outputs: [...graph.outputs, ...newOutputs.filter((o) => !existingOutputs.has(o.name))],
      initializers: [...graph.initializers, ...e.initializers],
    },
  };
  return {
    model: result,
    loss: built.loss,
    target: built.target,
    gradNames,
    params,
    inputs,
    activations,
    floatType,
    opset,
    outputShape: types.get(output)?.shape ?? null,
    forwardNodes: allForward.length,
  };
}

export interface LossModel {
  model: Model;
  loss: string;
  /** With `countKinks`: a scalar output, the number of ReLU-family units whose input sits exactly on a kink. */
  kinks?: string;
  target?: { name: string; dtype: DataType };
}

/**
 * The forward graph plus the loss, and nothing else: what the numerical check runs many times. The parameters in
 * `exposeParams` become graph inputs instead of initializers, so that a perturbed copy can be fed without writing a
 * new model for every coordinate. (onnxruntime-node ignores feeds for initializers that are also listed as inputs,
 * so they must stop being initializers; the caller feeds their values on every run.)
 */
export function buildLossModel(model: Model, options: { loss: LossSpec; output?: string; exposeParams?: string[]; countKinks?: boolean }): LossModel {
  const graph = model.graph;
  const output = options.output ?? graph.outputs[0]?.name;
  if (!output) throw new UserInputError('the model has no outputs to take a loss of');
  let floatType: DataType = 'float32';
  const declared = graph.outputs.find((o) => o.name === output);
  const t = declared ? tensorTypeOf(declared) : undefined;
  if (t && isParameterType(t.dtype)) floatType = t.dtype;
  const used: string[] = [];
  for (const v of [...graph.inputs, ...graph.outputs, ...graph.valueInfo]) used.push(v.name);
  for (const x of graph.initializers) used.push(x.name);
  for (const n of graph.nodes) used.push(n.name, ...n.outputs);
  const opset = Math.max(defaultOpset(model), 13);
  const e = new Emitter(used, floatType, opset);
  const built = buildLoss(e, output, options.loss);
  const kinks = options.countKinks ? countKinks(e, graph.nodes) : undefined;
  const inputNames = new Set(graph.inputs.map((i) => i.name));
  const exposed: ValueInfo[] = [];
  for (const name of options.exposeParams ?? []) {
    const init = graph.initializers.find((x) => x.name === name);
    if (!init || inputNames.has(name)) continue;
    exposed.push({ name, type: { kind: 'tensor', tensor: { dtype: init.dtype, shape: [...init.dims] } } });
  }
  const exposedNames = new Set(exposed.map((v) => v.name));
  const targetInputs: ValueInfo[] = built.target
    ? [{ name: built.target.name, type: { kind: 'tensor', tensor: { dtype: built.target.dtype, shape: null } } }]
    : [];
  return {
    model: {
      ...model,
      graph: {
        ...graph,
        nodes: [...graph.nodes, ...e.nodes],
        inputs: [...graph.inputs, ...exposed, ...targetInputs],
        outputs: [
          { name: built.loss, type: { kind: 'tensor', tensor: { dtype: floatType, shape: [] } } },
          ...(kinks ? [{ name: kinks, type: { kind: 'tensor' as const, tensor: { dtype: floatType, shape: [] } } }] : []),
        ],
        initializers: [...graph.initializers.filter((x) => !exposedNames.has(x.name)), ...e.initializers],
      },
    },
    loss: built.loss,
    target: built.target,
    ...(kinks ? { kinks } : {}),
  };
}

/**
 * Counts the units whose input sits exactly on a ReLU, LeakyReLU or Clip kink (x == 0, or x == a Clip bound). There
 * the loss has no gradient, only one-sided slopes, and the backward graph follows one convention (PyTorch's; for
 * Clip, torch.clamp's, while nn.ReLU6 exports the same Clip with the other): a numerical check cannot judge the
 * tensors upstream. Exported random-init nets produce such units exactly (zero biases and all-zero patches through a
 * depthwise conv), so the check reports them instead of calling the gradient wrong.
 */
function countKinks(e: Emitter, nodes: Node[]): string | undefined {
  const hits: string[] = [];
  for (const n of nodes) {
    const x = n.inputs[0];
    if (!x || (n.domain !== '' && n.domain !== 'ai.onnx')) continue;
    let at: string | undefined;
    if (n.opType === 'Relu' || n.opType === 'LeakyRelu') at = e.op('Equal', [x, e.constF(0)]);
    else if (n.opType === 'Clip') {
      for (const bound of [n.inputs[1], n.inputs[2]]) {
        if (!bound) continue;
        const eq = e.op('Equal', [x, bound]);
        at = at ? e.op('Or', [at, eq]) : eq;
      }
    }
    if (at) hits.push(e.reduceSum(e.op('Cast', [at], { to: dtypeCodeOf(e.floatType) }), null, false));
  }
  if (hits.length === 0) return undefined;
  return hits.reduce((sum, h) => e.op('Add', [sum, h]));
}
