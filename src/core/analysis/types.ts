import type { DataType, Dim, Node, TensorType } from '../ir/types';

/**
 * Result types of the static analyses. These objects are what the CLI prints with --json and what the webview draws:
 * field names follow docs/json-contract.md exactly, because other tools read them.
 */

/** Something the analysis could not fully understand. It never stops the analysis. */
export interface AnalysisWarning {
  /** A stable machine-readable kind, such as 'unknown-op' or 'value-info-mismatch'. */
  code: string;
  message: string;
  /** The node the warning is about, when there is one. */
  node?: string;
}

/** A tensor whose values are known statically (shape arithmetic, constants). Only small tensors are folded. */
export interface ConstValue {
  dtype: DataType;
  dims: number[];
  values: number[];
}

export interface ShapeInferenceOptions {
  /** Fixes input dims, for example { input: [1, 3, 224, 224] } from `--input-shape`. */
  inputShapes?: Record<string, Dim[]>;
  /** Tensors larger than this many elements are not folded. */
  maxFoldElements?: number;
  /**
   * The most model-local function body nodes inference inlines, counted at every call site that cannot reuse an
   * earlier call's result; past it, a UserInputError. Default DEFAULT_MAX_NODES (src/core/limits.ts).
   */
  maxNodes?: number;
}

export interface ShapeInferenceResult {
  /** The inferred type of every value (graph inputs, initializers and node outputs) that could be inferred. */
  types: Map<string, TensorType>;
  /** Values known at analysis time: initializers with inline bytes, Constant outputs, folded shape arithmetic. */
  constants: Map<string, ConstValue>;
  warnings: AnalysisWarning[];
}

/**
 * The receptive field of one unit of a node's output, per spatial axis (Araujo et al., Distill 2019). Downstream of a
 * stride > 1 ConvTranspose the field depends on the unit: `size` is then the largest over the units, `sizes` lists
 * every size that occurs (ascending, per axis), and `start` is unit 0's own centre.
 */
export type ReceptiveField =
  | { size: number[]; stride: number[]; start: number[]; global: false; sizes?: number[][] }
  | { global: true };

export interface ParamInfo {
  /** Float initializer elements the node reads (docs/json-contract.md: float, double, float16, bfloat16). */
  params: number;
  trainable: number;
  nonTrainable: number;
}

export interface LayerOutput {
  name: string;
  shape: Dim[] | null;
  dtype?: DataType;
}

/** One row of the summary: one node of the top-level graph. Field names are the CLI contract's. */
export interface LayerSummary {
  name: string;
  op: string;
  inputs: string[];
  outputs: LayerOutput[];
  params: number;
  macs: number;
  receptiveField: ReceptiveField | null;
  /** Bytes of this node's outputs, when their shapes are fully known; 0 otherwise. */
  activationBytes: number;
  /** Where the node came from in Python source; absent for ONNX files. */
  line?: number;
}

/**
 * A model's totals. Every field of an ONNX model's totals is known; a Python source summary whose main model could
 * not be counted or converted has null (shown as `?`) where the number is not known exactly, never a stand-in 0.
 */
export interface Totals {
  params: number | null;
  trainableParams: number | null;
  nonTrainableParams: number | null;
  macs: number | null;
  paramBytes: number | null;
  activationBytes: number | null;
}

/** The torchinfo-style memory estimate. */
export interface MemoryEstimate {
  inputBytes: number;
  /** Forward activations, doubled for the gradients a backward pass keeps (torchinfo's convention). */
  forwardBackwardBytes: number;
  paramBytes: number;
  estimatedTotalBytes: number;
  /** Parameter bytes per element type. */
  paramBytesByDtype: Record<string, number>;
}

export interface ValueSummary {
  name: string;
  shape: Dim[] | null;
  dtype: DataType | null;
}

/** A layer of a PyTorch module as read from source, for `summary file.py` (docs/json-contract.md's `modules` array). */
export interface SourceLayerSummary {
  name: string;
  line: number;
  type: string;
  /** null when an argument could not be resolved statically. */
  params: number | null;
  outputShape: Dim[] | null;
}

export interface SourceModuleSummary {
  name: string;
  line: number;
  params: number | null;
  layers: SourceLayerSummary[];
}

export interface ModelSummary {
  format: 'onnx' | 'python';
  opset: number;
  /** Header information beyond the contract, for the inspector. */
  model?: {
    name?: string;
    producer?: string;
    irVersion?: number;
    docString?: string;
    metadata?: Record<string, string>;
  };
  inputs: ValueSummary[];
  outputs: ValueSummary[];
  totals: Totals;
  memory?: MemoryEstimate;
  layers: LayerSummary[];
  warnings: string[];
  modules?: SourceModuleSummary[];
}

/** A per-node map produced by an analysis, keyed by the node object itself so that unnamed nodes work. */
export type PerNode<T> = Map<Node, T>;
