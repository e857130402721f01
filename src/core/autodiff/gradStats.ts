import type { Histogram } from '../reports';
import { computeTensorStats } from '../stats/tensorStats';
import { loadTensor } from '../stats/wasmStatsKernels';

/**
 * Summaries of gradient tensors: what a gradient probe reports per parameter, per activation and for the input.
 * Sums run in float64 whatever the tensor's type, so that a norm over millions of float32 elements keeps its digits.
 */

export interface GradSummary {
  l2: number;
  mean: number;
  /** Population standard deviation. */
  std: number;
  maxAbs: number;
  histogram: Histogram;
  /** NaN and infinite elements, left out of the other figures. */
  nonFinite: number;
  count: number;
}

/** Below this many elements, copying a tensor into the WebAssembly kernels' memory costs more than it saves. */
const KERNEL_MIN_ELEMENTS = 2048;

export function l2Norm(values: ArrayLike<number>): number {
  // A gradient probe takes the norm of every activation's gradient once, in a fresh process: large float32 tensors go
  // to the WebAssembly kernel, which needs no warm-up. Only finite elements count, on both paths.
  if (values instanceof Float32Array && values.length > KERNEL_MIN_ELEMENTS) {
    const tensor = loadTensor(values, 1);
    if (tensor) return Math.sqrt(tensor.sumOfSquares());
  }
  // Scaled accumulation would be safer against overflow, but float64 sums of float32 squares cannot overflow.
  let s = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) s += v * v;
  }
  return Math.sqrt(s);
}

export function summarizeGradient(values: Float32Array | Float64Array | ArrayLike<number>, bins = 32): GradSummary {
  const { stats, histogram, nonFinite } = computeTensorStats(values, { bins, percentiles: false });
  // The sum of squares from the moments, without another pass: sum (v - mean)^2 + n mean^2 adds two non-negative
  // terms, so nothing cancels, and it is the finite elements' sum of squares to rounding.
  const finite = values.length - nonFinite;
  return {
    l2: Math.sqrt(finite * (stats.std * stats.std + stats.mean * stats.mean)),
    mean: stats.mean,
    std: stats.std,
    maxAbs: Math.max(Math.abs(stats.min), Math.abs(stats.max)) || 0,
    histogram,
    nonFinite,
    count: values.length,
  };
}

export interface SaliencyMap {
  width: number;
  height: number;
  /** Row-major, max over channels of |d loss / d pixel| for the first image of the batch. */
  values: number[];
}

/**
 * The saliency map of an image input (Simonyan et al. 2014): the largest absolute input gradient over the colour
 * channels at each pixel. Only inputs shaped [N, C, H, W] with 1, 3 or 4 channels count as images.
 */
export function saliencyMap(grad: ArrayLike<number>, dims: readonly number[]): SaliencyMap | undefined {
  if (dims.length !== 4) return undefined;
  const [, c, h, w] = dims;
  if (![1, 3, 4].includes(c) || h < 2 || w < 2) return undefined;
  const values = new Array<number>(h * w).fill(0);
  for (let ch = 0; ch < c; ch++) {
    const base = ch * h * w;
    for (let i = 0; i < h * w; i++) {
      const v = Math.abs(grad[base + i]);
      if (v > values[i]) values[i] = v;
    }
  }
  return { width: w, height: h, values };
}
