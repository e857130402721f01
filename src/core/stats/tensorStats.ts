import type { Histogram, TensorStats } from '../reports';
import { quantileInPlace, selectKth } from './quantile';
import { loadTensor } from './wasmStatsKernels';

/**
 * Per-value activation statistics: what `layerscope probe` reports for each layer.
 *
 * Everything is computed in a fixed number of passes over the tensor, in float64 accumulators:
 * 1. count, sum, min, max, exact zeros, saturated elements;
 * 2. squared deviations from the mean (two-pass variance, no cancellation), the user-facing histogram, and a fine
 *    internal histogram (about 1024 bins);
 * 3. for large tensors, only the elements in the few fine bins that hold the wanted order statistics are gathered and
 *    selected. The percentiles are therefore exact (linear interpolation, NumPy's default), not a sketch, at a cost
 *    close to one extra pass.
 *
 * For large float32 tensors, which is every activation a probe fetches, the three passes run in WebAssembly
 * (wasmStatsKernels.ts); the TypeScript loops in this file are the reference they are tested against.
 *
 * Non-finite elements (NaN, ±Infinity) are counted apart and left out of the moments, percentiles and histogram, so
 * that one overflow does not turn every figure into NaN; the diagnostics report them instead.
 */

/** Which activation's saturation rule applies: tanh |y| > 0.99; sigmoid y < 0.01 or y > 0.99. */
export type Saturation = 'tanh' | 'sigmoid' | 'none';

export interface StatsOptions {
  /** Histogram bins; 64 by default. */
  bins?: number;
  saturation?: Saturation;
  /**
   * Whether to find the percentiles (pass 3), true by default. A gradient probe's summaries show no percentiles, and
   * skipping them saves about a third of the time over ResNet-18's 11 million gradients; p01, p50 and p99 are then NaN.
   */
  percentiles?: boolean;
}

export interface ValueStats {
  stats: TensorStats;
  histogram: Histogram;
  /** NaN and infinite elements, left out of every other figure. */
  nonFinite: number;
}

export const DEFAULT_BINS = 64;
const PERCENTILES = [0.01, 0.5, 0.99] as const;
/** What `percentiles: false` reports for p01, p50 and p99 (a Float64Array, like the computed ones; see below). */
const NO_PERCENTILES = new Float64Array([NaN, NaN, NaN]);
const SMALL = 2048;
/** Gathered bins up to this size are sorted; larger ones are selected in. */
const SORT_MAX = 16384;
/** The bin number that marks a non-finite element; fine bins never reach it (at most 1024 + bins). */
const NO_BIN = 0xffff;

let scratch = new Uint16Array(0);

/** A reused per-element bin buffer: statistics run one tensor at a time per thread, so one buffer serves them all. */
function scratchBins(n: number): Uint16Array {
  if (scratch.length < n) scratch = new Uint16Array(Math.max(n, scratch.length * 2));
  return scratch;
}
/**
 * About this many fine bins. More make the gathered bins smaller but cost two loops over the fine histogram per tensor,
 * which a probe runs once per value before V8 has optimised them; 1024 keeps both small.
 */
const FINE_TARGET = 1024;

type Values = Float32Array | Float64Array;

/** The saturation rule for an ONNX op type: Tanh and Sigmoid (and HardSigmoid) have one, others none. */
export function saturationFor(opType: string): Saturation {
  if (opType === 'Tanh') return 'tanh';
  if (opType === 'Sigmoid' || opType === 'HardSigmoid') return 'sigmoid';
  return 'none';
}

export function computeTensorStats(input: Values | ArrayLike<number>, options: StatsOptions = {}): ValueStats {
  const values: Values = input instanceof Float32Array || input instanceof Float64Array ? input : Float64Array.from(input);
  const bins = Math.max(1, Math.floor(options.bins ?? DEFAULT_BINS));
  const saturation = options.saturation ?? 'none';
  const n = values.length;

  // The fine histogram always exists: its bins nest exactly in the user-facing ones (K fine bins per bin), so one index
  // computation per element serves both, and for large tensors it locates the percentiles.
  const perBin = Math.max(1, Math.ceil(FINE_TARGET / bins));
  const fineBins = bins * perBin;
  // Large float32 tensors (every activation a probe fetches) go through the WebAssembly kernels; the loops below are
  // the reference, and serve float64, small tensors, and tensors with NaN or infinite elements.
  let kernel = values instanceof Float32Array && n > SMALL ? loadTensor(values, fineBins) : null;

  // Pass 1.
  let scan: Scan;
  if (kernel) {
    const k = kernel.scan();
    if (k.sum - k.sum === 0) scan = { finite: n, ...k };
    else {
      kernel = null;
      scan = scanValues(values);
    }
  } else scan = scanValues(values);
  const { finite, sum, min, max, zeros } = scan;
  const saturated = countSaturated(values, saturation);
  const nonFinite = n - finite;
  if (finite === 0) {
    return {
      stats: { count: n, mean: 0, std: 0, min: 0, max: 0, fracZero: 0, fracSaturated: n > 0 ? saturated / n : 0, p01: 0, p50: 0, p99: 0 },
      histogram: { edges: linspace(-0.5, 0.5, bins), counts: new Array<number>(bins).fill(0) },
      nonFinite,
    };
  }
  const mean = sum / finite;

  // NumPy widens a degenerate range by half a unit on each side; doing the same keeps histograms comparable.
  let lo = min;
  let hi = max;
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const edges = linspace(lo, hi, bins);
  const fine = new Int32Array(fineBins);
  const fineScale = fineBins / (hi - lo);

  // Pass 2. Each element's fine bin is kept (2 bytes per element), so that gathering the percentile bins afterwards
  // (pass 3) reads small integers instead of recomputing from the floats.
  let m2: number;
  let gather: GatherBins;
  if (kernel) {
    const k = kernel;
    m2 = k.bin(mean, lo, fineScale, fine);
    gather = (wanted, starts, total) => k.gather(wanted, starts, total);
  } else {
    const binOf = scratchBins(n);
    m2 = finite === n ? binAllFinite(values, binOf, mean, lo, fineScale, fine) : binSkippingNonFinite(values, binOf, mean, lo, fineScale, fine);
    gather = (wanted, starts, total) => gatherWithLoops(values, binOf, wanted, starts, total);
  }
  const counts = new Array<number>(bins).fill(0);
  for (let f = 0; f < fineBins; f++) counts[(f / perBin) | 0] += fine[f]!;
  // The same histogram without the exact zeros, for ReLU outputs whose spike at zero hides everything else (the panel's
  // "exclude exact zeros" view). Zero falls in the fine bin that the binning loops give it, hence in this bin.
  let countsExcludingZeros: number[] | undefined;
  if (zeros > 0) {
    countsExcludingZeros = counts.slice();
    countsExcludingZeros[(Math.min(((0 - lo) * fineScale) | 0, fineBins - 1) / perBin) | 0] -= zeros;
  }

  // Float64Arrays, not arrays: an array holding only zeros (ReLU percentiles) and one holding fractions have different
  // element kinds, and alternating between them made the optimised code of this function bail out on every call.
  const percentiles =
    options.percentiles === false ? NO_PERCENTILES : finite > SMALL ? percentilesFromFineHistogram(gather, finite, fine, { zeros, negatives: scan.negatives }) : percentilesDirect(values, finite);

  return {
    stats: {
      count: n,
      mean,
      std: Math.sqrt(m2 / finite),
      min,
      max,
      fracZero: zeros / n,
      fracSaturated: saturated / n,
      p01: percentiles[0]!,
      p50: percentiles[1]!,
      p99: percentiles[2]!,
    },
    histogram: { edges, counts, ...(countsExcludingZeros ? { countsExcludingZeros } : {}) },
    nonFinite,
  };
}

/*
 * The per-element loops live in small functions of their own, each with one job and no rarely taken paths. A probe
 * calls the statistics once per value, in a fresh process, so the loops must reach optimised code quickly and stay
 * there: in one large function, the first rare path taken (a small tensor, a bin that needs gathering) discarded the
 * optimised code, and the loops then ran unoptimised at about 5× the cost.
 */

/** Elements beyond the saturation threshold of the value's activation. */
function countSaturated(values: Values, saturation: Saturation): number {
  if (saturation === 'none') return 0;
  const n = values.length;
  let saturated = 0;
  if (saturation === 'tanh') {
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      saturated += Number(v > 0.99 || v < -0.99);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      saturated += Number(v < 0.01 || v > 0.99);
    }
  }
  return saturated;
}

/**
 * Pass 2 when every element is finite: the sum of squared deviations from the mean, each element's fine bin, and the
 * fine histogram. Two interleaved counter tables halve the store-to-load dependency chains when neighbouring elements
 * share a bin (ReLU zeros).
 */
function binAllFinite(values: Values, binOf: Uint16Array, mean: number, lo: number, fineScale: number, fine: Int32Array): number {
  const n = values.length;
  const lastFine = fine.length - 1;
  const fineB = new Int32Array(fine.length);
  let m2 = 0;
  let m2b = 0;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const v = values[i]!;
    const w = values[i + 1]!;
    const d = v - mean;
    const e = w - mean;
    m2 += d * d;
    m2b += e * e;
    const f = Math.min(((v - lo) * fineScale) | 0, lastFine);
    const g = Math.min(((w - lo) * fineScale) | 0, lastFine);
    binOf[i] = f;
    binOf[i + 1] = g;
    fine[f]!++;
    fineB[g]!++;
  }
  for (; i < n; i++) {
    const v = values[i]!;
    const d = v - mean;
    m2 += d * d;
    const f = Math.min(((v - lo) * fineScale) | 0, lastFine);
    binOf[i] = f;
    fine[f]!++;
  }
  for (let f = 0; f <= lastFine; f++) fine[f]! += fineB[f]!;
  return m2 + m2b;
}

/** Pass 2 when some elements are NaN or infinite: those get the NO_BIN mark and count nowhere. */
function binSkippingNonFinite(values: Values, binOf: Uint16Array, mean: number, lo: number, fineScale: number, fine: Int32Array): number {
  const n = values.length;
  const lastFine = fine.length - 1;
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v - v !== 0) {
      binOf[i] = NO_BIN;
      continue;
    }
    const d = v - mean;
    m2 += d * d;
    const f = Math.min(((v - lo) * fineScale) | 0, lastFine);
    binOf[i] = f;
    fine[f]!++;
  }
  return m2;
}

/**
 * Pass 3 as the percentile search asks for it: the elements of the fine bins `wanted`, bin i's elements contiguous from
 * `starts[i]`, `total` in all.
 */
type GatherBins = (wanted: readonly number[], starts: readonly number[], total: number) => Values;

function gatherWithLoops(values: Values, binOf: Uint16Array, wanted: readonly number[], starts: readonly number[], total: number): Values {
  const out: Values = values instanceof Float32Array ? new Float32Array(total) : new Float64Array(total);
  if (wanted.length === 0) return out;
  // Indexed by bin number, NO_BIN (non-finite elements) included: the slot of a gathered bin, or -1.
  const slotOf = new Int32Array(NO_BIN + 1).fill(-1);
  wanted.forEach((b, slot) => (slotOf[b] = slot));
  gatherBins(values, binOf, slotOf, Int32Array.from(starts), out);
  return out;
}

/**
 * Pass 3: copies every element whose fine bin has a slot (`slotOf[bin] >= 0`) into `out`, each slot's elements
 * contiguous from `cursor[slot]`, which advances.
 */
function gatherBins(values: Values, binOf: Uint16Array, slotOf: Int32Array, cursor: Int32Array, out: Values): void {
  const n = values.length;
  for (let i = 0; i < n; i++) {
    const slot = slotOf[binOf[i]!]!;
    if (slot >= 0) out[cursor[slot]!++] = values[i]!;
  }
}

function linspace(lo: number, hi: number, bins: number): number[] {
  const edges = new Array<number>(bins + 1);
  for (let i = 0; i <= bins; i++) edges[i] = lo + ((hi - lo) * i) / bins;
  edges[bins] = hi;
  return edges;
}

/** Fine bins of each refinement step in kthByRefinement. */
const REFINE_BINS = 1024;

/**
 * The rank-th smallest (0-based) of finite `values`, by repeated histograms: each step bins the values over their own
 * range with the WebAssembly kernels, keeps only the bin that holds the rank, and stops once what is left is small
 * enough to sort. Each step divides the work by about a thousand, where one selection over millions of elements in
 * fresh JavaScript would not. Float64 values, and values so repetitive that binning stops narrowing them, fall back
 * to selection.
 */
function kthByRefinement(values: Values, rank: number): number {
  let current: Values = values;
  let r = rank;
  for (let step = 0; current.length > SORT_MAX && current instanceof Float32Array && step < 8; step++) {
    const tensor = loadTensor(current, REFINE_BINS);
    if (!tensor) break;
    const { min, max } = tensor.scan();
    if (min === max) return min;
    const counts = new Int32Array(REFINE_BINS);
    // Only the counts matter here; the sum of squares the kernel also returns (about a mean of 0) is not used.
    tensor.bin(0, min, REFINE_BINS / (max - min), counts);
    let before = 0;
    let b = 0;
    while (before + counts[b]! <= r) before += counts[b++]!;
    current = tensor.gather([b], [0], counts[b]!);
    r -= before;
  }
  if (current.length > SORT_MAX) return selectKth(current, r);
  return current.sort()[r]!;
}

/** Copies the finite values and selects: fine for tensors small enough that a copy costs nothing. */
function percentilesDirect(values: Values, finite: number): Float64Array {
  const copy = values instanceof Float32Array ? new Float32Array(finite) : new Float64Array(finite);
  let j = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v === 0) copy[j++] = v;
  }
  return Float64Array.from(PERCENTILES, (q) => quantileInPlace(copy, q));
}

/**
 * Finds, for each wanted rank, the fine bin that holds it, gathers only those bins' elements in one more pass, and
 * selects within them. Ranks are 0-based positions among the sorted finite values.
 */
interface Extremes {
  /** Exact zeros, and the finite elements below zero: in sorted order the zeros hold ranks negatives … negatives + zeros − 1. */
  zeros: number;
  negatives: number;
}

interface Scan {
  finite: number;
  sum: number;
  min: number;
  max: number;
  zeros: number;
  negatives: number;
}

/**
 * Sum, extremes and exact zeros. The common case has no NaN or infinity, and the loop then needs no check per
 * element: any non-finite element makes the sum non-finite, and only then is the careful loop run.
 */
function scanValues(values: Values): Scan {
  const n = values.length;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  // Counting with a comparison turned into 0 or 1, not an `if`, keeps the loop free of a branch that ReLU outputs
  // (half zeros, in no pattern) would mispredict on every other element: that alone made it 4× slower.
  let nonZeros = 0;
  let negatives = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
    nonZeros += Number(v !== 0);
    negatives += Number(v < 0);
  }
  if (sum - sum === 0) return { finite: n, sum, min, max, zeros: n - nonZeros, negatives };
  let finite = 0;
  let zeros = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  negatives = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v - v !== 0) continue;
    finite++;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
    if (v === 0) zeros++;
    if (v < 0) negatives++;
  }
  return { finite, sum, min, max, zeros, negatives };
}

function percentilesFromFineHistogram(gather: GatherBins, finite: number, fine: Int32Array, ext: Extremes): Float64Array {
  const fineBins = fine.length;
  const cumulative = new Float64Array(fineBins + 1);
  for (let b = 0; b < fineBins; b++) cumulative[b + 1] = cumulative[b]! + fine[b]!;
  const binOfRank = (r: number): number => {
    // Binary search for the bin b with cumulative[b] <= r < cumulative[b + 1].
    let a = 0;
    let z = fineBins - 1;
    while (a < z) {
      const m = (a + z) >>> 1;
      if (cumulative[m + 1]! <= r) a = m + 1;
      else z = m;
    }
    return a;
  };
  const wanted: { q: number; k: number; frac: number; bk: number; bk1: number }[] = PERCENTILES.map((q) => {
    const pos = q * (finite - 1);
    const k = Math.floor(pos);
    const frac = pos - k;
    const k1 = Math.min(k + 1, finite - 1);
    return { q, k, frac, bk: binOfRank(k), bk1: binOfRank(k1) };
  });
  // The ranks that fall among the exact zeros are known without looking. Otherwise the bin holding half of a ReLU
  // output, or most of a gradient, would have to be gathered and searched.
  const known = (r: number): number | undefined => (r >= ext.negatives && r < ext.negatives + ext.zeros ? 0 : undefined);
  // The bins to gather, each given a contiguous run of one buffer, sized by the bin's count.
  const gatherStart = new Map<number, number>();
  let gathered = 0;
  for (const w of wanted) {
    const ranks: [number, number][] = [
      [w.k, w.bk],
      [Math.min(w.k + 1, finite - 1), w.bk1],
    ];
    for (const [r, b] of ranks) {
      if (known(r) === undefined && !gatherStart.has(b)) {
        gatherStart.set(b, gathered);
        gathered += fine[b]!;
      }
    }
  }
  const out = gather([...gatherStart.keys()], [...gatherStart.values()], gathered);
  // A gathered bin usually holds about 1/1024 of the tensor and is sorted once, by the typed array's native sort, which
  // needs no warm-up where a selection loop in JavaScript would run unoptimised in a fresh process. A peaked
  // distribution (gradients: nearly all of them close to zero) can put most of the tensor in one bin; that bin is
  // narrowed down by histograms of its own instead (kthByRefinement).
  const sorted = new Set<number>();
  const valueAtRank = (r: number, b: number): number => {
    const k = known(r);
    if (k !== undefined) return k;
    const start = gatherStart.get(b)!;
    const bin = out.subarray(start, start + fine[b]!);
    const rank = r - cumulative[b]!;
    if (bin.length > SORT_MAX) return kthByRefinement(bin, rank);
    if (!sorted.has(b)) {
      bin.sort();
      sorted.add(b);
    }
    return bin[rank]!;
  };
  return Float64Array.from(wanted, (w) => {
    const lower = valueAtRank(w.k, w.bk);
    if (w.frac === 0) return lower;
    const upper = valueAtRank(Math.min(w.k + 1, finite - 1), w.bk1);
    return lower + (upper - lower) * w.frac;
  });
}
