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

/**
 * The check a gradient probe runs unless told otherwise: 'fast', one joint directional derivative over every
 * parameter tensor at once (`jointCoefficients` below), and only where that does not pass, one directional derivative
 * per tensor (`checkDirection`) to find the broken one. A number N instead samples N coordinates per tensor
 * (`--check N`); 0 turns it off.
 */
export type CheckSetting = number | 'fast';
export const DEFAULT_CHECK: CheckSetting = 'fast';

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

/**
 * How a tensor was judged: 'joint' (the joint direction over all tensors passed, so every tensor passed with it),
 * 'direction' (its own directional derivative) or 'coordinates' (`--check N`).
 */
export type CheckMethod = 'joint' | 'direction' | 'coordinates';

/**
 * The joint check's bar, which decides only whether the per-tensor check runs: above it, every tensor is checked on
 * its own, and those per-tensor verdicts are the ones reported, so a noisy joint derivative costs time, never a false
 * alarm. It is tight because an error in one tensor is diluted among all the others: with every tensor contributing
 * equally (`jointCoefficients`), one of T tensors whose gradient is zeroed or halved moves the joint derivative by
 * about 1/T, doubled by about 1/(2T); in float32 this bar catches a doubled gradient in one tensor of up to about 100.
 * Correct float32 gradients stay below it: at most 1.6e-3 on the samples, 2e-5 on MobileNetV2 and SqueezeNet,
 * 2e-4 on ResNet-18 at 224×224, and 2.6e-3 at 96×96, where crossed ReLU kinks dominate.
 */
export const JOINT_FINE: Record<'float32' | 'float64', number> = { float32: 5e-3, float64: 1e-6 };

/**
 * The directional check in float32 measures one derivative of the whole loss, good to a few percent (measured on
 * correct gradients of ResNet-18, MobileNetV2 and SqueezeNet exports: at most 3%); it says "fine" below 1e-1, so that
 * correct gradients never raise a warning, and still calls the order-one errors of a wrong rule wrong.
 */
export function checkThresholds(dtype: DataType, method: CheckMethod = 'coordinates'): CheckThresholds {
  if (method === 'joint') {
    const bar = dtype === 'float64' ? JOINT_FINE.float64 : JOINT_FINE.float32;
    return { fine: bar, wrong: bar };
  }
  if (dtype === 'float64') return { fine: 1e-4, wrong: 1e-2 };
  return method === 'direction' ? { fine: 1e-1, wrong: 3e-1 } : { fine: 3e-2, wrong: 3e-1 };
}

/** 'kink': the loss has no gradient at this point along the check's direction (units exactly on a ReLU kink). */
export type CheckVerdict = 'fine' | 'uncomfortable' | 'wrong' | 'kink';

export function checkVerdict(relError: number, dtype: DataType, method: CheckMethod = 'coordinates'): Exclude<CheckVerdict, 'kink'> {
  const t = checkThresholds(dtype, method);
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
 * The rounding noise of one central difference: the loss is known to about machine epsilon times its size (times
 * `ulps` for the sums inside the model), and the difference divides that by 2h. The per-coordinate check uses 4; the
 * directional check 32 (DIRECTION_NOISE_ULPS), because it must not call a gradient wrong that is below what float32
 * can resolve: a softmax output's mean is constant, and its finite differences are a few ulps of the loss.
 */
export function finiteDifferenceNoise(loss: number, dtype: DataType, step = finiteDifferenceStep(dtype), ulps = 4): number {
  const epsilon = dtype === 'float64' ? 2.2e-16 : 1.2e-7;
  return (ulps * epsilon * Math.max(Math.abs(loss), 1e-3)) / (2 * step);
}

export const DIRECTION_NOISE_ULPS = 32;

/**
 * The fast check's second stage, run where the joint direction did not pass (PyTorch's `gradcheck(fast_mode=True)`
 * idea): per parameter tensor, one directional derivative instead of many coordinates, two forward runs whatever the
 * tensor's size. The direction is the unit
 * vector along the backward graph's own gradient plus a seeded random sign vector of the same length, normalised:
 * along the gradient the derivative is as large as it can be, far above float32 rounding even for tensors of millions
 * of elements (a purely random direction would see |g|/sqrt(n) and drown in noise), and the random half catches a
 * wrong gradient that happens to lie along the true one's sphere. A wrong rule shows as an analytic derivative g·v
 * that the finite difference of the loss does not reproduce. The step is spread over every element, so each weight
 * moves by a small fraction of its typical size and ReLU kinks are rarely crossed.
 */
export function checkDirection(gradient: ArrayLike<number>, seed: number): Float64Array {
  const n = gradient.length;
  const v = new Float64Array(n);
  fillDirection(v, new Float64Array(n), new Float64Array(n), gradient, Math.sqrt(dot(gradient, gradient)), seed, 1);
  const norm = Math.sqrt(dot(v, v));
  if (norm > 0) for (let i = 0; i < n; i++) v[i] = v[i]! / norm;
  return v;
}

/**
 * The seeded random signs of a direction: bit (i mod 32) of the xorshift32 state drawn for element i's block of 32.
 * `fillDirection` draws them inline, because a call per element made the joint check's passes over ResNet-18's 11
 * million weights cost more than its forward runs.
 */
function signState(seed: number): number {
  return (seed * 2654435761) >>> 0 || 1;
}

function nextState(s: number): number {
  s ^= s << 13;
  s ^= s >>> 17;
  s ^= s << 5;
  return s;
}

/**
 * The signs `fillDirection` draws for `seed`, as ±1 values: what the gradient graph's own joint check reads
 * (jointCheckGraph.ts), so that its direction and the JavaScript one of the retry are the same.
 */
export function fillSigns(out: Float32Array | Float64Array, seed: number): Float32Array | Float64Array {
  return out instanceof Float32Array ? fillSigns32(out, seed) : fillSigns64(out, seed);
}

/** ±1 in float32 written as bit patterns (1.0f, with the sign bit where the drawn bit is 0): 2.4 million in a few ms. */
function fillSigns32(out: Float32Array, seed: number): Float32Array {
  const bits = new Int32Array(out.buffer, out.byteOffset, out.length);
  const n = out.length;
  let state = signState(seed);
  for (let base = 0; base < n; base += 32) {
    state = nextState(state);
    const end = Math.min(32, n - base);
    for (let j = 0; j < end; j++) bits[base + j] = ((((state >>> j) & 1) ^ 1) << 31) | 0x3f800000;
  }
  return out;
}

function fillSigns64(out: Float64Array, seed: number): Float64Array {
  let state = signState(seed);
  for (let i = 0; i < out.length; i++) {
    if ((i & 31) === 0) state = nextState(state);
    out[i] = (state >>> (i & 31)) & 1 ? 1 : -1;
  }
  return out;
}

/**
 * The fast check's default relative step: each element moves by about this fraction of the tensor's RMS. In float32,
 * 1e-3 settles ResNet-18, MobileNetV2 and SqueezeNet in one step for almost every tensor; where it does not (rounding
 * on a small bias gradient, or ReLU kinks crossed), the worker retries once DIRECTION_STEP_RETRY times larger or
 * smaller.
 */
export function directionStepFraction(dtype: DataType): number {
  return dtype === 'float64' ? 1e-6 : 1e-3;
}

/** How much larger or smaller the retried step is. */
export const DIRECTION_STEP_RETRY = 10;

/**
 * The fast check's step along its unit direction for a tensor of `count` elements with L2 norm `weightL2`: the
 * fraction above of the weights' RMS per element, with a floor for tensors that are all zero (fresh biases).
 */
export function directionStep(fraction: number, weightL2: number, count: number): number {
  return fraction * Math.max(weightL2, 1e-2 * Math.sqrt(Math.max(count, 1)));
}

/** The dot product of two vectors in float64. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** A directional check's outcome: the relative error, and whether the loss had a kink along the direction. */
export interface DirectionalError {
  relError: number;
  kink: boolean;
}

/**
 * The error of one directional derivative `analytic` against the one-sided finite differences `minus` = (L(w) -
 * L(w - hv)) / h and `plus` = (L(w + hv) - L(w)) / h. Where they agree the loss is smooth along v and the central
 * difference (their mean) is compared as usual. Where they disagree beyond the "fine" threshold, the step crossed a
 * kink: ReLU-family units sitting exactly at 0 (exported nets with zero biases and all-zero patches produce those
 * exactly, MobileNetV2's ReLU6 among them), where every subgradient convention is as right as another. The analytic
 * value is then compared with the interval between the one-sided slopes, which every valid convention lands in, so
 * that a kink is not reported as a wrong gradient while a wrong rule still is.
 */
export function directionalError(analytic: number, minus: number, plus: number, noiseFloor: number, dtype: DataType): DirectionalError {
  const t = checkThresholds(dtype, 'direction');
  const scale = Math.max(Math.abs(analytic), Math.abs(minus), Math.abs(plus), noiseFloor);
  if (scale === 0) return { relError: 0, kink: false };
  // A tenth of the "fine" bar: curvature alone also parts the one-sided slopes a little, and a false kink costs only
  // a retry with a smaller step, while a missed one lets crossed ReLU kinks look like a wrong gradient.
  const kink = Math.abs(plus - minus) > (t.fine / 10) * Math.max(Math.abs(plus), Math.abs(minus)) + 4 * noiseFloor;
  if (!kink) return { relError: relativeError([analytic], [(plus + minus) / 2], noiseFloor), kink: false };
  const lo = Math.min(minus, plus);
  const hi = Math.max(minus, plus);
  const outside = analytic < lo ? lo - analytic : analytic > hi ? analytic - hi : 0;
  return { relError: outside / scale, kink: true };
}

/**
 * The joint check's per-tensor coefficients. Tensor t moves by `coefficient[t]` along its part d_t of the joint
 * direction (`fillDirection`), so the joint derivative is the sum over tensors of coefficient[t] * (g_t . d_t).
 * Left at each tensor's own step (`directionStep`), a tensor with a large gradient would dominate that sum and hide
 * an error in a small one (one bias among ResNet's convolutions). So each tensor's share is brought to the median
 * share: large shares are scaled down, small ones up, but no tensor moves more than JOINT_MAX_STRETCH times its own
 * step (beyond that a tensor with an almost-zero gradient would be pushed out of the region where the loss is
 * linear). `slopes[t]` estimates g_t . d_t from the backward graph under test; its gradient part |g_t| is enough.
 */
export function jointCoefficients(steps: readonly number[], slopes: readonly number[]): number[] {
  const shares = steps.map((h, t) => Math.abs(h * slopes[t]!)).filter((x) => x > 0 && Number.isFinite(x)).sort((a, b) => a - b);
  if (shares.length === 0) return [...steps];
  const target = shares[Math.floor(shares.length / 2)]!;
  return steps.map((h, t) => {
    const share = Math.abs(h * slopes[t]!);
    if (!(share > 0) || !Number.isFinite(share)) return h * JOINT_MAX_STRETCH;
    return h * Math.min(JOINT_MAX_STRETCH, target / share);
  });
}

/**
 * One tensor's part of the joint direction, written straight into the two perturbed copies the check feeds:
 * d = g/|g| + s/sqrt(n), with s the seeded random signs (`checkDirection` is d normalised; the joint check leaves it
 * at |d| about sqrt(2)), and plus = values + step * d, minus = values - step * d. Returns g . d, the analytic slope
 * along it, from the same pass: ResNet-18 has 11 million weights, and every pass over them costs about as much as a
 * forward run.
 */
export function fillDirection(
  plus: Float32Array | Float64Array,
  minus: Float32Array | Float64Array,
  values: ArrayLike<number>,
  gradient: ArrayLike<number>,
  gradientL2: number,
  seed: number,
  step: number,
): number {
  const n = values.length;
  const gScale = gradientL2 > 0 && Number.isFinite(gradientL2) ? 1 / gradientL2 : 0;
  const rScale = 1 / Math.sqrt(Math.max(n, 1));
  const a = step * gScale;
  const b = step * rScale;
  let state = signState(seed);
  let g2 = 0;
  let gs = 0;
  for (let i = 0; i < n; i++) {
    if ((i & 31) === 0) state = nextState(state);
    const g = gradient[i]!;
    const w = values[i]!;
    g2 += g * g;
    if ((state >>> (i & 31)) & 1) {
      gs += g;
      plus[i] = w + a * g + b;
      minus[i] = w - a * g - b;
    } else {
      gs -= g;
      plus[i] = w + a * g - b;
      minus[i] = w - a * g + b;
    }
  }
  return gScale * g2 + rScale * gs;
}

/**
 * The joint check's first step along its direction, in units of the coefficients above: the step at which the loss
 * should change by JOINT_LOSS_CHANGE of itself, at most 1. All tensors move at once, so on a large model each moves
 * far less than in its own check. Measured on correct float32 gradients, a fixed step fits no model: the error of
 * ResNet-18 (96×96) falls with the step (2e-2 at 1, 3.5e-3 at 0.01: crossed kinks), while a two-layer sample's rises
 * (5e-4 at 1, 1e-2 at 0.01: its loss hardly changes, and rounding dominates). Aiming at a loss change of 1e-3 of the
 * loss lands both near their best (2e-3 and 5e-4).
 */
export function jointStep(loss: number, analytic: number): number {
  const wanted = (JOINT_LOSS_CHANGE * Math.max(Math.abs(loss), 1e-3)) / Math.abs(analytic);
  return Number.isFinite(wanted) && wanted > 0 ? Math.min(1, wanted) : 1;
}

export const JOINT_LOSS_CHANGE = 1e-3;

/** How far beyond its own step (`directionStep`) the joint check may move a tensor whose gradient is small. */
export const JOINT_MAX_STRETCH = 10;

/**
 * The joint check's rounding floor: a central difference in float32 is uncertain by a few ulps of the loss over 2h,
 * and the joint bar is tight, so the floor is that noise over the bar. A loss that does not depend on the weights at
 * all (the mean of a softmax) then passes instead of sending every tensor to its own check for a one-ulp difference,
 * while a real joint derivative, aimed at moving the loss by JOINT_LOSS_CHANGE of itself, stays 20 times above it.
 */
export function jointNoiseFloor(loss: number, dtype: DataType, step: number): number {
  return finiteDifferenceNoise(loss, dtype, step, 4) / checkThresholds(dtype, 'joint').fine;
}

/**
 * The joint check's error: the analytic joint derivative against the central difference, the mean of the one-sided
 * slopes `minus` and `plus` (see `directionalError`). Unlike the per-tensor check, no kink interval excuses a
 * difference: crossed kinks only send the check on to the per-tensor one. `kink` says that the one-sided slopes part
 * by more than the bar, so that a retry should use a smaller step rather than a larger one.
 */
export function jointError(analytic: number, minus: number, plus: number, noiseFloor: number, dtype: DataType): DirectionalError {
  const bar = checkThresholds(dtype, 'joint').fine;
  const scale = Math.max(Math.abs(analytic), Math.abs(minus), Math.abs(plus), noiseFloor);
  if (scale === 0) return { relError: 0, kink: false };
  const relError = relativeError([analytic], [(plus + minus) / 2], noiseFloor);
  return { relError, kink: Math.abs(plus - minus) > bar * scale + 4 * noiseFloor };
}
