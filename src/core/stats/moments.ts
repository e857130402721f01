/**
 * Count, mean and the sum of squared deviations (M2) of a stream of numbers, mergeable with Chan et al.'s parallel
 * formula. Merging per-chunk moments keeps the variance accurate where the naive sum-of-squares formula would cancel,
 * and lets a probe split one tensor over several runs (or workers) and still report exact figures.
 */
export interface Moments {
  count: number;
  mean: number;
  /** Sum of squared deviations from the mean. Population variance is m2 / count. */
  m2: number;
}

export const EMPTY_MOMENTS: Moments = { count: 0, mean: 0, m2: 0 };

/** Chan, Golub and LeVeque's pairwise update: exact for any split of the data. */
export function mergeMoments(a: Moments, b: Moments): Moments {
  if (a.count === 0) return { ...b };
  if (b.count === 0) return { ...a };
  const count = a.count + b.count;
  const delta = b.mean - a.mean;
  const mean = a.mean + (delta * b.count) / count;
  const m2 = a.m2 + b.m2 + (delta * delta * a.count * b.count) / count;
  return { count, mean, m2 };
}

/** Two passes over one chunk in float64: the mean first, then squared deviations from it. Non-finite values are skipped. */
export function momentsOf(values: ArrayLike<number>): Moments {
  let count = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v === 0) {
      sum += v;
      count++;
    }
  }
  if (count === 0) return { ...EMPTY_MOMENTS };
  const mean = sum / count;
  let m2 = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v === 0) m2 += (v - mean) * (v - mean);
  }
  return { count, mean, m2 };
}

/** Population standard deviation, as docs/json-contract.md asks. */
export function populationStd(m: Moments): number {
  return m.count > 0 ? Math.sqrt(Math.max(0, m.m2 / m.count)) : 0;
}
