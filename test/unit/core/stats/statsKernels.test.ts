import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SeededRandom } from '../../../../src/core/stats/random';
import { computeTensorStats } from '../../../../src/core/stats/tensorStats';
import type { ValueStats } from '../../../../src/core/stats/tensorStats';
import { loadTensor } from '../../../../src/core/stats/wasmStatsKernels';
import { l2Norm } from '../../../../src/core/autodiff/gradStats';

const root = join(__dirname, '..', '..', '..', '..');

/** The same figures, up to the summation order of the moments: the kernels sum four lanes at a time. */
function assertSameStats(fast: ValueStats, reference: ValueStats, label: string): void {
  const close = (a: number, b: number, what: string): void =>
    assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${label}: ${what} ${a} vs ${b}`);
  close(fast.stats.mean, reference.stats.mean, 'mean');
  close(fast.stats.std, reference.stats.std, 'std');
  const { mean: _m, std: _s, ...exactFast } = fast.stats;
  const { mean: _m2, std: _s2, ...exactReference } = reference.stats;
  assert.deepEqual(exactFast, exactReference, `${label}: count, extremes, fractions and percentiles`);
  assert.deepEqual(fast.histogram, reference.histogram, `${label}: histogram`);
  assert.equal(fast.nonFinite, reference.nonFinite, `${label}: non-finite count`);
}

describe('core/stats/wasmStatsKernels', () => {
  it('is assembled from statsKernels.wat as committed (npm run build:kernels)', async () => {
    const script = (await import(join(root, 'scripts', 'buildStatsKernels.mjs'))) as {
      assembleStatsKernels(): Promise<Buffer>;
      kernelsSource(bytes: Buffer): string;
    };
    const expected = script.kernelsSource(await script.assembleStatsKernels());
    assert.equal(readFileSync(join(root, 'src', 'core', 'stats', 'statsKernelsWasm.ts'), 'utf8'), expected);
  });

  it('scans sums, extremes and zeros, including the elements after the last group of four', () => {
    // The maximum and the minimum are among the last three, which the four-lane loop leaves to the tail loop.
    const values = Float32Array.from([1, -2, 0, 3.5, 0, 7, -9.25]);
    const tensor = loadTensor(values, 8);
    assert.ok(tensor, 'the kernels load in Node');
    assert.deepEqual(tensor.scan(), { sum: 0.25, min: -9.25, max: 7, zeros: 2, negatives: 2 });
  });

  it('bins each element as the reference does and gathers the chosen bins in order', () => {
    // Multiples of 1/16, exact in float32, so that each bin is plain to see.
    const values = Float32Array.from([0, 0.125, 0.5, 0.875, 1, 0.375, 0.625, 0.0625, 0.9375]);
    const tensor = loadTensor(values, 8)!;
    const fine = new Int32Array(8);
    const mean = 0.5;
    const m2 = tensor.bin(mean, 0, 8, fine);
    // trunc((v - 0) * 8), with 1.0 capped at the last bin.
    assert.deepEqual([...fine], [2, 1, 0, 1, 1, 1, 0, 3]);
    const expected = [...values].reduce((a, v) => a + (v - mean) ** 2, 0);
    assert.ok(Math.abs(m2 - expected) < 1e-12);
    assert.deepEqual([...tensor.gather([7, 0], [0, 3], 5)], [0.875, 1, 0.9375, 0, 0.0625]);
  });

  it('sums the squares of the finite elements only, as the gradient norms need', () => {
    const values = Float32Array.from([3, NaN, -4, Infinity, 0.5, -Infinity, 2]);
    assert.equal(loadTensor(values, 1)!.sumOfSquares(), 9 + 16 + 0.25 + 4);
    const random = new SeededRandom(5);
    const large = new Float32Array(10_001);
    random.fillNormal(large, 1e-3);
    large[17] = NaN;
    large[10_000] = -Infinity;
    // Float64 copies take the TypeScript loop.
    const reference = l2Norm(Float64Array.from(large));
    assert.ok(Math.abs(l2Norm(large) - reference) <= 1e-12 * reference, `${l2Norm(large)} vs ${reference}`);
  });

  it('gives the statistics of the TypeScript loops on large tensors of every kind', () => {
    const random = new SeededRandom(11);
    const n = 50_003; // not a multiple of four, so the tail loop runs
    const normal = new Float32Array(n);
    random.fillNormal(normal, 3, 0.5);
    const cases: [string, Float32Array][] = [
      ['normal', normal],
      ['relu', normal.map((v) => Math.max(0, v))],
      ['non-positive', normal.map((v) => Math.min(0, v))],
      ['saturating tanh', normal.map((v) => Math.tanh(4 * v))],
      ['constant', new Float32Array(n).fill(0.75)],
      ['zeros', new Float32Array(n)],
      ['tiny range', normal.map((v) => 1e-30 * v)],
      // Like a weight gradient: most elements exactly zero, between negative and positive ones.
      ['zeros between signs', normal.map((v, i) => (i % 5 < 3 ? 0 : v))],
      // Most elements in one fine bin, but not equal: the percentile search must narrow that bin down.
      ['one peaked bin', normal.map((v, i) => (i % 50 === 0 ? v * 1000 : v * 1e-3))],
      ['with NaN and infinity', normal.map((v, i) => (i % 997 === 0 ? NaN : i % 1009 === 0 ? -Infinity : v))],
    ];
    for (const [label, values] of cases) {
      for (const bins of [64, 10]) {
        for (const saturation of ['none', 'tanh', 'sigmoid'] as const) {
          // Float64 copies of float32 values are exact, and float64 tensors always take the TypeScript loops.
          assertSameStats(computeTensorStats(values, { bins, saturation }), computeTensorStats(Float64Array.from(values), { bins, saturation }), `${label}, ${bins} bins, ${saturation}`);
        }
      }
    }
  });
});
