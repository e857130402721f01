/**
 * Order statistics by selection. Selecting is O(n) where sorting is O(n log n), which matters when a probe computes
 * percentiles of every activation in a network. The three-way partition keeps ReLU outputs (half of them exactly zero)
 * linear instead of quadratic.
 */

type Numbers = Float64Array | Float32Array;

/** Rearranges `a[lo..hi]` so that a[k] is the k-th smallest (0-based) and returns it. */
export function selectKth(a: Numbers, k: number, lo = 0, hi = a.length - 1): number {
  if (k < lo || k > hi) throw new RangeError(`selectKth: k=${k} outside [${lo}, ${hi}]`);
  while (hi > lo) {
    // Median of three as the pivot keeps sorted and reversed inputs linear.
    const mid = (lo + hi) >>> 1;
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    // Dutch national flag: [lo, lt) < pivot, [lt, i) == pivot, (gt, hi] > pivot.
    let lt = lo;
    let gt = hi;
    let i = lo;
    while (i <= gt) {
      const v = a[i]!;
      if (v < pivot) {
        a[i] = a[lt]!;
        a[lt] = v;
        lt++;
        i++;
      } else if (v > pivot) {
        a[i] = a[gt]!;
        a[gt] = v;
        gt--;
      } else {
        i++;
      }
    }
    if (k < lt) hi = lt - 1;
    else if (k > gt) lo = gt + 1;
    else return pivot;
  }
  return a[k]!;
}

/** The smallest value of a[lo..hi]. */
function minOf(a: Numbers, lo: number, hi: number): number {
  let m = Infinity;
  for (let i = lo; i <= hi; i++) if (a[i]! < m) m = a[i]!;
  return m;
}

/**
 * The q-quantile (0 ≤ q ≤ 1) with linear interpolation between order statistics, which is NumPy's default
 * (`np.percentile(x, 100 q)`) and torch.quantile's. The array is reordered in place.
 */
export function quantileInPlace(a: Numbers, q: number): number {
  const n = a.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const k = Math.floor(pos);
  const lower = selectKth(a, k);
  const frac = pos - k;
  if (frac === 0 || k + 1 >= n) return lower;
  // After selection everything right of k is ≥ a[k], so the next order statistic is the minimum of that side.
  const upper = minOf(a, k + 1, n - 1);
  return lower + (upper - lower) * frac;
}

/** Position (0-based, fractional) of the q-quantile among n sorted values, as quantileInPlace interpolates it. */
export function quantilePosition(n: number, q: number): number {
  return q * (n - 1);
}
