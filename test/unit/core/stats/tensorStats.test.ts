import { strict as assert } from 'node:assert';
import { computeTensorStats } from '../../../../src/core/stats/tensorStats';
import { mergeMoments, momentsOf, populationStd } from '../../../../src/core/stats/moments';
import { quantileInPlace, selectKth } from '../../../../src/core/stats/quantile';

/** A small deterministic generator so that failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** NumPy's linear-interpolation percentile by sorting: the brute-force reference. */
function bruteQuantile(values: number[], q: number): number {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const pos = q * (s.length - 1);
  const k = Math.floor(pos);
  return k + 1 < s.length ? s[k]! + (s[k + 1]! - s[k]!) * (pos - k) : s[k]!;
}

function bruteHistogram(values: number[], bins: number): number[] {
  const f = values.filter((v) => Number.isFinite(v));
  let lo = f.reduce((a, b) => Math.min(a, b), Infinity);
  let hi = f.reduce((a, b) => Math.max(a, b), -Infinity);
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const counts = new Array<number>(bins).fill(0);
  for (const v of f) counts[Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins))]!++;
  return counts;
}

function close(actual: number, expected: number, rel = 1e-9, label = ''): void {
  assert.ok(Math.abs(actual - expected) <= rel * Math.max(1, Math.abs(expected)), `${label}: ${actual} vs ${expected}`);
}

describe('core/stats', () => {
  describe('moments', () => {
    it('merges chunks exactly (Chan) and matches the two-pass result', () => {
      const r = rng(1);
      const xs = Array.from({ length: 1000 }, () => 1e6 + normal(r));
      const whole = momentsOf(xs);
      let merged = momentsOf([]);
      for (let i = 0; i < xs.length; i += 37) merged = mergeMoments(merged, momentsOf(xs.slice(i, i + 37)));
      assert.equal(merged.count, 1000);
      close(merged.mean, whole.mean, 1e-12, 'mean');
      close(populationStd(merged), populationStd(whole), 1e-7, 'std');
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
      close(populationStd(whole), Math.sqrt(variance), 1e-9, 'population std');
    });
  });

  describe('quantile', () => {
    it('selects the k-th smallest, including with many ties', () => {
      const r = rng(2);
      for (const n of [1, 2, 7, 100, 1001]) {
        const xs = Array.from({ length: n }, () => (r() < 0.5 ? 0 : Math.round(normal(r) * 3)));
        const sorted = [...xs].sort((a, b) => a - b);
        for (const k of [0, Math.floor(n / 3), n - 1]) {
          assert.equal(selectKth(Float64Array.from(xs), k), sorted[k]);
        }
        for (const q of [0, 0.01, 0.5, 0.99, 1]) {
          close(quantileInPlace(Float64Array.from(xs), q), bruteQuantile(xs, q), 1e-12, `n=${n} q=${q}`);
        }
      }
    });
  });

  describe('computeTensorStats', () => {
    // Sizes on both sides of the direct/fine-histogram switch (65536), with ties (ReLU zeros) and outliers.
    const cases: [string, number, (r: () => number) => number][] = [
      ['normal small', 5000, (r) => normal(r)],
      ['relu large', 200_000, (r) => Math.max(0, normal(r))],
      ['heavy tail large', 150_000, (r) => normal(r) ** 3 * 100],
      ['few distinct large', 100_000, (r) => Math.floor(r() * 5)],
    ];
    for (const [label, n, gen] of cases) {
      it(`matches brute force: ${label}`, () => {
        const r = rng(n);
        const xs = Array.from({ length: n }, () => gen(r));
        const data = Float32Array.from(xs);
        const ref = Array.from(data);
        const { stats, histogram } = computeTensorStats(data, { bins: 64 });
        const mean = ref.reduce((a, b) => a + b, 0) / n;
        const std = Math.sqrt(ref.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
        assert.equal(stats.count, n);
        close(stats.mean, mean, 1e-9, 'mean');
        close(stats.std, std, 1e-9, 'std');
        assert.equal(stats.min, ref.reduce((a, b) => Math.min(a, b), Infinity));
        assert.equal(stats.max, ref.reduce((a, b) => Math.max(a, b), -Infinity));
        close(stats.fracZero, ref.filter((v) => v === 0).length / n, 0, 'fracZero');
        close(stats.p01, bruteQuantile(ref, 0.01), 1e-12, 'p01');
        close(stats.p50, bruteQuantile(ref, 0.5), 1e-12, 'p50');
        close(stats.p99, bruteQuantile(ref, 0.99), 1e-12, 'p99');
        assert.equal(histogram.counts.length, 64);
        assert.equal(histogram.edges.length, 65);
        assert.equal(histogram.edges[0], stats.min);
        assert.equal(histogram.edges[64], stats.max);
        assert.equal(histogram.counts.reduce((a, b) => a + b, 0), n);
        const brute = bruteHistogram(ref, 64);
        // Edge rounding may move an element across a bin boundary; nothing more.
        const moved = histogram.counts.reduce((a, c, i) => a + Math.abs(c - brute[i]!), 0);
        assert.ok(moved <= 4, `histogram differs by ${moved} elements`);
        // Without the exact zeros: the brute-force histogram of the nonzero elements on the same edges.
        const zeros = ref.filter((v) => v === 0).length;
        if (zeros === 0) assert.equal(histogram.countsExcludingZeros, undefined);
        else {
          const withoutZeros = histogram.countsExcludingZeros!;
          assert.equal(withoutZeros.reduce((a, b) => a + b, 0), n - zeros);
          const bruteNonzero = bruteHistogramOn(ref.filter((v) => v !== 0), histogram.edges);
          const movedNonzero = withoutZeros.reduce((a, c, i) => a + Math.abs(c - bruteNonzero[i]!), 0);
          assert.ok(movedNonzero <= 4, `the histogram without zeros differs by ${movedNonzero} elements`);
          assert.ok(withoutZeros.every((c) => c >= 0));
        }
      });
    }

    it('leaves exact zeros out of an interior bin without touching the others', () => {
      const data = Float32Array.from([-2, -1, 0, 0, 0, 0.25, 1, 2]);
      const { histogram } = computeTensorStats(data, { bins: 4 });
      assert.deepEqual(histogram.edges, [-2, -1, 0, 1, 2]);
      assert.deepEqual(histogram.counts, [1, 1, 4, 2]);
      assert.deepEqual(histogram.countsExcludingZeros, [1, 1, 1, 2]);
      assert.deepEqual(computeTensorStats(Float32Array.from([0, 0]), { bins: 2 }).histogram.countsExcludingZeros, [0, 0]);
    });

    it('counts saturation by the activation rule and honours the bin count', () => {
      const xs = new Float32Array([-1, -0.995, -0.5, 0, 0.2, 0.991, 0.999, 1]);
      assert.equal(computeTensorStats(xs, { saturation: 'tanh' }).stats.fracSaturated, 5 / 8);
      const s = new Float32Array([0, 0.005, 0.5, 0.98, 0.995, 1]);
      assert.equal(computeTensorStats(s, { saturation: 'sigmoid' }).stats.fracSaturated, 4 / 6);
      assert.equal(computeTensorStats(s).stats.fracSaturated, 0);
      assert.equal(computeTensorStats(s, { bins: 10 }).histogram.counts.length, 10);
    });

    it('widens a constant tensor like NumPy and keeps non-finite values out of the figures', () => {
      const c = computeTensorStats(new Float32Array([2, 2, 2]), { bins: 4 });
      assert.deepEqual(c.histogram.edges, [1.5, 1.75, 2, 2.25, 2.5]);
      assert.deepEqual(c.histogram.counts, [0, 0, 3, 0]);
      assert.equal(c.stats.std, 0);
      const nf = computeTensorStats(new Float32Array([1, NaN, 3, Infinity]));
      assert.equal(nf.nonFinite, 2);
      assert.equal(nf.stats.mean, 2);
      assert.equal(nf.stats.max, 3);
      assert.equal(nf.stats.count, 4);
    });
  });
});

/** Counts on given edges: [e_i, e_{i+1}) with the last bin closed, as NumPy bins. */
function bruteHistogramOn(values: number[], edges: number[]): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const v of values) {
    let i = edges.findIndex((e, k) => k > 0 && v < e) - 1;
    if (i < 0) i = edges.length - 2;
    if (v >= edges[0]! && v <= edges[edges.length - 1]!) counts[Math.max(0, i)]++;
  }
  return counts;
}
