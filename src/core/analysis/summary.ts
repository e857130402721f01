import { UserInputError } from '../errors';
import { DEFAULT_MAX_NODES } from '../limits';
import { indexGraph } from '../ir/graphIndex';
import type { Dim, Model, TensorType, ValueInfo } from '../ir/types';
import { defaultOpset } from '../ir/types';
import { countMacs } from './macs';
import { checkNodeCount, countNodes } from './nodeCount';
import { activationBytes, estimateMemory } from './memory';
import { countParams } from './params';
import type { ParamAnalysis } from './params';
import { computeReceptiveFields } from './receptiveField';
import { dimPerUnit, dimSymbols, inferShapes } from './shapes/index';
import type { AnalysisWarning, LayerSummary, ModelSummary, ValueSummary } from './types';
import { formatCount } from '../format';

/**
 * The whole static analysis of a model in one object: what `layerscope summary --json` prints, what the inspector
 * draws. Layers are the top-level graph's nodes in topological order; nodes inside If/Loop/Scan bodies are part of
 * the node that owns them.
 */

export interface SummaryOptions {
  /** Fixes input dims, as `--input-shape NAME=1x3x224x224` does. Names must be graph inputs. */
  inputShapes?: Record<string, Dim[]>;
  /**
   * Graphs with more nodes than this (subgraphs included) are refused with a UserInputError instead of being
   * analysed, so that a pathological file cannot make the tool appear to hang. Default DEFAULT_MAX_NODES.
   */
  maxNodes?: number;
}

/** Real exports, large language models included, stay well below this; see SummaryOptions.maxNodes. */
export { DEFAULT_MAX_NODES, countNodes };

export function summarizeModel(model: Model, options: SummaryOptions = {}): ModelSummary {
  const graph = model.graph;
  const maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
  checkNodeCount(model, maxNodes);
  const index = indexGraph(graph);
  const initializerNames = index.initializerNames;
  const realInputs = graph.inputs.filter((i) => !initializerNames.has(i.name));
  const inputShapes = checkInputShapes(options.inputShapes, realInputs);

  const shapes = inferShapes(model, { ...(inputShapes ? { inputShapes } : {}), maxNodes });
  const types = shapes.types;
  const params = countParams(graph);
  // MACs and activation sizes are counted per unit of each symbolic dim (a batch "N" counts as 1), and a warning
  // says so; dims that are not known at all still make a node count 0 with a warning, never a guess.
  const symbols = new Set<string>();
  const perUnitTypes = perUnitOfSymbols(types, symbols);
  const macs = countMacs(graph, perUnitTypes);
  const activations = activationBytes(graph, perUnitTypes);
  const fields = computeReceptiveFields(graph, { types, constants: shapes.constants }, index.order);

  const layers: LayerSummary[] = index.order.map((node) => {
    const p = params.perNode.get(node);
    const layer: LayerSummary = {
      name: node.name,
      op: node.domain && node.domain !== 'ai.onnx' ? `${node.domain}.${node.opType}` : node.opType,
      inputs: [...node.inputs],
      outputs: node.outputs.map((name) => {
        const t = types.get(name);
        return t ? { name, shape: t.shape ? [...t.shape] : null, dtype: t.dtype } : { name, shape: null };
      }),
      params: p ? p.params : 0,
      macs: macs.perNode.get(node) ?? 0,
      receptiveField: fields.perNode.get(node) ?? null,
      activationBytes: activations.perNode.get(node) ?? 0,
    };
    if (node.source) layer.line = node.source.line;
    return layer;
  });

  const warnings: AnalysisWarning[] = [...shapes.warnings, ...macs.warnings, ...fields.warnings];
  if (symbols.size > 0 && (macs.total > 0 || activations.total > 0)) {
    const list = [...symbols].slice(0, 5).join(', ');
    warnings.push({
      code: 'symbolic-dims-as-one',
      message: `MACs and activation sizes are per ${[...symbols].slice(0, 5).map((s) => `${s}=1`).join(', ')}: the symbolic dim(s) ${list} are not fixed; use --input-shape to set them`,
    });
  }
  const folded = foldedBatchNormNote(model, params);
  if (folded) warnings.push(folded);
  const shared = sharedParamsNote(params, layers.reduce((sum, l) => sum + l.params, 0));
  if (shared) warnings.push(shared);
  if (activations.unknownOutputs > 0) {
    warnings.push({
      code: 'activation-bytes-partial',
      message: `activation bytes leave out ${activations.unknownOutputs} node output(s) whose shapes are not known; --input-shape may fix them`,
    });
  }

  const memory = estimateMemory(graph, perUnitTypes, activations.total, params.totals.paramBytes, params.totals.paramBytesByDtype);
  const metadata: Record<string, string> = {};
  for (const e of model.metadataProps) metadata[e.key] = e.value;
  return {
    format: model.format,
    opset: defaultOpset(model),
    model: {
      name: graph.name,
      ...(model.producerName !== undefined ? { producer: [model.producerName, model.producerVersion].filter(Boolean).join(' ') } : {}),
      irVersion: model.irVersion,
      ...(model.docString ? { docString: model.docString } : {}),
      metadata,
    },
    inputs: realInputs.map((v) => valueSummary(v, types)),
    outputs: graph.outputs.map((v) => valueSummary(v, types)),
    totals: {
      params: params.totals.params,
      trainableParams: params.totals.trainableParams,
      nonTrainableParams: params.totals.nonTrainableParams,
      macs: macs.total,
      paramBytes: params.totals.paramBytes,
      activationBytes: activations.total,
    },
    memory,
    layers,
    warnings: dedupe(warnings.map((w) => w.message)),
  };
}

/** Counts nodes at every graph level, stopping early once past `limit` so that counting is cheap too. */

function checkInputShapes(given: Record<string, Dim[]> | undefined, inputs: ValueInfo[]): Record<string, Dim[]> | undefined {
  if (!given || Object.keys(given).length === 0) return undefined;
  const out: Record<string, Dim[]> = {};
  for (const [name, dims] of Object.entries(given)) {
    const input = inputs.find((i) => i.name === name);
    if (!input) {
      const names = inputs.map((i) => i.name).join(', ') || 'none';
      throw new UserInputError(`--input-shape names '${name}', which is not an input of the model (inputs: ${names})`);
    }
    const declared = input.type && input.type.kind === 'tensor' ? input.type.tensor.shape : null;
    if (declared && declared.length !== dims.length) {
      throw new UserInputError(
        `--input-shape ${name} has ${dims.length} dims but the model declares ${declared.length} ([${declared.map((d) => d ?? '?').join(', ')}])`,
      );
    }
    out[name] = dims;
  }
  return out;
}

/** The same types with every symbolic dim set to 1; the symbols met are added to `symbols`. */
function perUnitOfSymbols(types: ReadonlyMap<string, TensorType>, symbols: Set<string>): Map<string, TensorType> {
  const out = new Map<string, TensorType>();
  for (const [name, t] of types) {
    if (t.shape && t.shape.some((d) => typeof d === 'string')) {
      out.set(name, {
        dtype: t.dtype,
        shape: t.shape.map((d) => {
          if (typeof d !== 'string') return d;
          // A product such as "12*N" (a batch folded into attention heads) is 12 per unit of N, not 1.
          for (const symbol of dimSymbols(d)) symbols.add(symbol);
          return dimPerUnit(d) ?? 1;
        }),
      });
    } else {
      out.set(name, t);
    }
  }
  return out;
}

function valueSummary(v: ValueInfo, types: ReadonlyMap<string, TensorType>): ValueSummary {
  const inferred = types.get(v.name);
  const declared = v.type && (v.type.kind === 'tensor' || v.type.kind === 'sparseTensor') ? v.type.tensor : undefined;
  const t = inferred ?? declared;
  return { name: v.name, shape: t?.shape ? [...t.shape] : null, dtype: t ? t.dtype : null };
}

/**
 * PyTorch's exporter (eval mode, constant folding on: the defaults) fuses each BatchNorm that follows a convolution
 * into the convolution's weight and bias. The fused tensors lose their module names and become `onnx::Conv_<n>`
 * initializers. The file then holds fewer parameters than the PyTorch module (16,930 instead of 17,020 for the
 * lectures' DeeperBNConvNet): the counts stay the file's truth, and this note says why they differ from the module's.
 */
function foldedBatchNormNote(model: Model, params: ParamAnalysis): AnalysisWarning | undefined {
  const graph = model.graph;
  const isTorch = (model.producerName ?? '').toLowerCase().includes('pytorch');
  const fusedNames = new Set(params.tensors.map((t) => t.name).filter((n) => /^onnx::Conv_\d+$/.test(n)));
  let folded = 0;
  for (const node of graph.nodes) {
    // The exporter may hand a fused weight to its Conv through an Identity (when two fused tensors are equal).
    const weight = node.inputs[1] ? (params.aliases.get(node.inputs[1]) ?? node.inputs[1]) : undefined;
    if (node.opType === 'Conv' && weight && fusedNames.has(weight)) folded++;
  }
  if (!isTorch || folded === 0) return undefined;
  return {
    code: 'batchnorm-folded',
    message:
      `BatchNormalization appears to have been folded into ${folded} convolution(s) by the exporter: the parameter counts are those stored in the file, ` +
      'which lack BatchNorm\'s scale, shift and running statistics, so they are lower than the PyTorch module\'s count (export with training=TrainingMode.TRAINING or do_constant_folding=False to keep BatchNorm)',
  };
}

/**
 * A tensor read by several layers is in each of their rows and once in the totals (params.ts), so the Params column
 * adds up to more than the header. Say by how much and why, so the two numbers reconcile instead of disagreeing.
 */
function sharedParamsNote(params: ParamAnalysis, rowSum: number): AnalysisWarning | undefined {
  if (params.shared.length === 0) return undefined;
  const extra = rowSum - params.totals.params;
  const biggest = [...params.shared].sort((a, b) => b.elements * (b.users - 1) - a.elements * (a.users - 1))[0]!;
  return {
    code: 'shared-parameters',
    message:
      `${params.shared.length} parameter tensor(s) are shared by several layers (largest: ${biggest.name}, ${formatCount(biggest.elements)} elements read by ${biggest.users} layers): ` +
      `each layer's Params counts them, the totals count them once, so the Params column sums to ${formatCount(rowSum)}, ${formatCount(extra)} more than the total`,
  };
}

function dedupe(messages: string[]): string[] {
  return [...new Set(messages)];
}
