import type { DataType } from '../ir/types';

/**
 * The numerical gradient check that the lectures' debugging checklist asks for ("compare them against numerical
 * gradients", cs231n's neural-networks-3 notes): central differences (L(w + h) - L(w - h)) / 2h on a sample of
 * coordinates of every parameter tensor, compared with the backward graph's gradient by relative error.
 *
 * The relative error of a tensor is |g_backward - g_numeric| / max(|g_backward|, |g_numeric|) over its sampled
 * coordinates taken together (L2 norms). Per-coordinate ratios are meaningless where the gradient is almost zero
 * (dead units, kinks), and the vector form is what the thresholds below are usually applied to in practice.
 */

/** Default number of coordinates sampled per parameter tensor. */
export const DEFAULT_CHECK_SAMPLES = 20;

/**
 * Thresholds on the relative error, from cs231n's advice in float64: above 1e-2 the gradient is probably wrong;
 * 1e-4 to 1e-2 is uncomfortable; below 1e-4 is fine for objectives with kinks (ReLU, max pooling), and below 1e-7
 * is excellent. In float32 the loss itself carries only about seven digits, so a central difference with a usable
 * step is good to about 1e-3 at best, and ReLU kinks crossed by the step add more; measured on correct backward
 * graphs of small ConvNets, float32 errors reach a few percent. There the bar is 3e-2 for "fine" and 3e-1 for
 * "probably wrong": a wrong gradient rule gives errors of order one.
 */
export interface CheckThresholds {
  fine: number;
  wrong: number;
}

export function checkThresholds(dtype: DataType): CheckThresholds {
  return dtype === 'float64' ? { fine: 1e-4, wrong: 1e-2 } : { fine: 3e-2, wrong: 3e-1 };
}

export type CheckVerdict = 'fine' | 'uncomfortable' | 'wrong';

export function checkVerdict(relError: number, dtype: DataType): CheckVerdict {
  const t = checkThresholds(dtype);
  if (!(relError <= t.wrong)) return 'wrong';
  return relError <= t.fine ? 'fine' : 'uncomfortable';
}

/**
 * The finite-difference step. cs231n suggests about 1e-5 in float64; in float32 the step must be much larger for the
 * loss difference to rise above rounding, at the price of some truncation error.
 */
export function finiteDifferenceStep(dtype: DataType): number {
  // In float32, 1e-3 balanced rounding noise against kink crossings best on the lecture ConvNet (tried 1e-4 to 3e-2).
  return dtype === 'float64' ? 1e-6 : 1e-3;
}

/** `k` distinct indices in [0, n), chosen by a seeded generator so that runs repeat. All of them when n <= k. */
export function sampleIndices(n: number, k: number, seed = 1): number[] {
  if (k <= 0 || n <= 0) return [];
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  let s = (seed * 2654435761) >>> 0 || 1;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const chosen = new Set<number>();
  while (chosen.size < k) chosen.add(Math.floor(next() * n));
  return [...chosen].sort((a, b) => a - b);
}

/**
 * Relative error between two gradient samples, as defined above; 0 when both are exactly zero. `noiseFloor` is the
 * per-coordinate size below which a finite difference is rounding noise (see `finiteDifferenceNoise`); it keeps a
 * tensor whose gradient is almost zero from looking wrong in float32.
 */
export function relativeError(analytic: readonly number[], numeric: readonly number[], noiseFloor = 0): number {
  let diff = 0;
  let a = 0;
  let n = 0;
  for (let i = 0; i < analytic.length; i++) {
    diff += (analytic[i] - numeric[i]) ** 2;
    a += analytic[i] ** 2;
    n += numeric[i] ** 2;
  }
  const denom = Math.max(Math.sqrt(a), Math.sqrt(n), noiseFloor * Math.sqrt(analytic.length));
  if (denom === 0) return 0;
  return Math.sqrt(diff) / denom;
}

/** Central difference from the two losses at w + h and w - h. */
export function centralDifference(lossPlus: number, lossMinus: number, step: number): number {
  return (lossPlus - lossMinus) / (2 * step);
}

/**
 * The rounding noise of one central difference: the loss is known to about machine epsilon times its size (times a
 * small factor for the sums inside the model), and the difference divides that by 2h.
 */
export function finiteDifferenceNoise(loss: number, dtype: DataType, step = finiteDifferenceStep(dtype)): number {
  const epsilon = dtype === 'float64' ? 2.2e-16 : 1.2e-7;
  return (4 * epsilon * Math.max(Math.abs(loss), 1e-3)) / (2 * step);
}
