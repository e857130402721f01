import { basename } from 'node:path';
import { UserInputError } from '../core/errors';
import { MAX_IMAGE_FILE_BYTES, MAX_NPY_BYTES } from '../core/limits';
import { readRegularFile } from '../core/regularFile';
import { InputBudget } from './inputBudget';
import type { DataType, Dim, Model, ValueInfo } from '../core/ir/types';
import { decodeImage } from '../core/image/decode';
import { imageToNchw } from '../core/image/preprocess';
import { readNpy } from '../core/npy/npy';
import type { NpyArray } from '../core/npy/npy';
import { SeededRandom } from '../core/stats/random';
import { float32ToFloat16Bits } from '../core/ir/tensorData';
import type { Feed, FeedDtype } from './protocol';

/**
 * Probe inputs: seeded random tensors, .npy files (one per input name), or an image. The result is a list of feeds
 * with concrete shapes, which also fix the symbolic dimensions for shape inference and the memory estimate.
 */

export type InputSource =
  | { kind: 'npy'; name?: string; path: string }
  | { kind: 'image'; name?: string; path: string; mean?: number[]; std?: number[] };

export interface InputOptions {
  sources?: InputSource[];
  /** Explicit shapes, by input name ('' when the model has one input and the name was left out). */
  shapes?: Record<string, number[]>;
  random?: 'normal' | 'uniform';
  seed?: number;
  /** The batch size that replaces a symbolic or unknown first dimension. Default 1. */
  batch?: number;
  /** The most bytes the inputs may take, checked before each is allocated. Default: an eighth of free memory. */
  memoryBudgetBytes?: number;
}

interface ModelInput {
  name: string;
  dtype: DataType;
  shape: Dim[] | null;
}

/** Graph inputs that are not initializers: what the caller must feed. */
export function modelInputs(model: Model): ModelInput[] {
  const inits = new Set(model.graph.initializers.map((t) => t.name));
  return model.graph.inputs
    .filter((v) => !inits.has(v.name))
    .map((v: ValueInfo) => {
      const t = v.type && (v.type.kind === 'tensor' || v.type.kind === 'sparseTensor') ? v.type.tensor : null;
      return { name: v.name, dtype: t?.dtype ?? 'float32', shape: t?.shape ?? null };
    });
}

const FEED_TYPES: Partial<Record<DataType, FeedDtype>> = {
  float32: 'float32',
  float64: 'float64',
  float16: 'float16',
  int64: 'int64',
  int32: 'int32',
  uint8: 'uint8',
  bool: 'bool',
};

const FEED_BYTES: Record<FeedDtype, number> = { float32: 4, float64: 8, float16: 2, int64: 8, int32: 4, uint8: 1, bool: 1 };

function feedDtype(input: ModelInput): FeedDtype {
  const t = FEED_TYPES[input.dtype];
  if (!t) throw new UserInputError(`input '${input.name}' has type ${input.dtype}, which probes cannot feed yet`);
  return t;
}

function count(dims: number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function allocate(dtype: FeedDtype, n: number): Feed['data'] {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'float16':
      return new Uint16Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'int32':
      return new Int32Array(n);
    default:
      return new Uint8Array(n);
  }
}

/** Converts .npy data to the input's element type; only lossless or float-to-float conversions are allowed. */
function convertNpy(arr: NpyArray, input: ModelInput, dtype: FeedDtype, label: string): Feed['data'] {
  const src = arr.data;
  const isFloat = (t: string): boolean => t === 'float32' || t === 'float64' || t === 'float16';
  if (dtype === arr.dtype) return src;
  const n = src.length;
  if (isFloat(dtype) && (isFloat(arr.dtype) || arr.dtype === 'uint8')) {
    const out = allocate(dtype, n);
    for (let i = 0; i < n; i++) {
      const v = Number(src[i]!);
      (out as Float32Array)[i] = dtype === 'float16' ? float32ToFloat16Bits(v) : v;
    }
    return out;
  }
  if ((dtype === 'int64' || dtype === 'int32') && (arr.dtype === 'int64' || arr.dtype === 'uint8')) {
    const out = allocate(dtype, n);
    for (let i = 0; i < n; i++) {
      if (dtype === 'int64') (out as BigInt64Array)[i] = BigInt(src[i]!);
      else (out as Int32Array)[i] = Number(src[i]!);
    }
    return out;
  }
  throw new UserInputError(`${label}: holds ${arr.dtype} but input '${input.name}' takes ${input.dtype}`);
}

function checkShape(dims: number[], input: ModelInput, label: string): void {
  if (!input.shape) return;
  const ok = dims.length === input.shape.length && input.shape.every((d, i) => typeof d !== 'number' || d === dims[i]);
  if (!ok) {
    const want = input.shape.map((d) => (d === null ? '?' : String(d))).join('×');
    throw new UserInputError(`${label}: shape ${dims.join('×')} does not fit input '${input.name}' (${want})`);
  }
}

/** A concrete shape for an input: the explicit one, else the model's with symbolic dims replaced by the batch or 1. */
function concreteShape(input: ModelInput, options: InputOptions, single: boolean): number[] {
  const given = options.shapes?.[input.name] ?? (single ? options.shapes?.[''] : undefined);
  if (given) {
    checkShape(given, input, '--input-shape');
    return given;
  }
  if (!input.shape) throw new UserInputError(`input '${input.name}' has no declared shape; give one with --input-shape ${input.name}=1x3x224x224`);
  return input.shape.map((d, i) => (typeof d === 'number' ? d : i === 0 ? (options.batch ?? 1) : 1));
}

export function buildFeeds(model: Model, options: InputOptions = {}): Feed[] {
  const inputs = modelInputs(model);
  if (inputs.length === 0) throw new UserInputError('the model has no inputs to feed');
  const single = inputs.length === 1;
  const byName = new Map<string, InputSource>();
  const unnamed: InputSource[] = [];
  for (const s of options.sources ?? []) {
    if (s.name) {
      if (!inputs.some((i) => i.name === s.name)) {
        throw new UserInputError(`--input ${s.name}=…: the model has no input named '${s.name}' (inputs: ${inputs.map((i) => i.name).join(', ')})`);
      }
      byName.set(s.name, s);
    } else unnamed.push(s);
  }
  // Unnamed files go to the remaining inputs in order, which is what a user with one input expects.
  for (const input of inputs) {
    if (!byName.has(input.name) && unnamed.length > 0) byName.set(input.name, unnamed.shift()!);
  }
  if (unnamed.length > 0) throw new UserInputError(`more input files than model inputs (${inputs.length})`);

  const rng = new SeededRandom(options.seed ?? 0);
  const budget = new InputBudget(options.memoryBudgetBytes);
  return inputs.map((input) => {
    const dtype = feedDtype(input);
    const source = byName.get(input.name);
    const what = `input '${input.name}'`;
    if (source?.kind === 'npy') {
      const label = basename(source.path);
      const arr = readNpy(readRegularFile(source.path, Math.min(MAX_NPY_BYTES, budget.remaining), label), label);
      checkShape(arr.shape, input, label);
      budget.charge(what, arr.shape, arr.data.BYTES_PER_ELEMENT + (arr.dtype === dtype ? 0 : FEED_BYTES[dtype]));
      return { name: input.name, dtype, dims: arr.shape, data: convertNpy(arr, input, dtype, label) };
    }
    if (source?.kind === 'image') {
      const label = basename(source.path);
      if (dtype !== 'float32') throw new UserInputError(`${label}: input '${input.name}' takes ${input.dtype}, not an image`);
      const shape = input.shape;
      if (shape && shape.length !== 4) throw new UserInputError(`${label}: input '${input.name}' is not an image input [N, C, H, W]`);
      const image = decodeImage(readRegularFile(source.path, MAX_IMAGE_FILE_BYTES, label), label);
      const c = shape && typeof shape[1] === 'number' ? shape[1] : 3;
      if (c !== 1 && c !== 3) throw new UserInputError(`${label}: input '${input.name}' has ${c} channels; images give 1 or 3`);
      const h = shape && typeof shape[2] === 'number' ? shape[2] : image.height;
      const w = shape && typeof shape[3] === 'number' ? shape[3] : image.width;
      const batch = shape && typeof shape[0] === 'number' ? shape[0] : (options.batch ?? 1);
      budget.charge(what, [batch, c, h, w], 4);
      const data = imageToNchw(image, { height: h, width: w, channels: c, batch, ...(source.mean ? { mean: source.mean } : {}), ...(source.std ? { std: source.std } : {}) });
      return { name: input.name, dtype, dims: [batch, c, h, w], data };
    }
    const dims = concreteShape(input, options, single);
    // A float16 input is drawn in float32 first.
    budget.charge(what, dims, FEED_BYTES[dtype] + (dtype === 'float16' ? 4 : 0));
    const data = allocate(dtype, count(dims));
    if (dtype === 'float32' || dtype === 'float64') {
      if (options.random === 'uniform') rng.fillUniform(data as Float32Array);
      else rng.fillNormal(data as Float32Array);
    } else if (dtype === 'float16') {
      const tmp = new Float32Array(data.length);
      if (options.random === 'uniform') rng.fillUniform(tmp);
      else rng.fillNormal(tmp);
      for (let i = 0; i < tmp.length; i++) (data as Uint16Array)[i] = float32ToFloat16Bits(tmp[i]!);
    }
    // Integer and boolean inputs (token ids, masks) stay zero: a valid index for any embedding table.
    return { name: input.name, dtype, dims, data };
  });
}
