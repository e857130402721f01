import * as assert from 'node:assert/strict';
import {
  assembleGradReport,
  checkVerdict,
  finiteDifferenceNoise,
  relativeError,
  saliencyMap,
  sampleIndices,
  summarizeGradient,
  type GradRun,
  type ParamRun,
} from '../../../../src/core/autodiff';
import { checkDirection, dot, fillDirection, JOINT_MAX_STRETCH, jointCoefficients, jointError, jointStep } from '../../../../src/core/autodiff/gradCheck';

function param(name: string, dims: number[], values: number[], weightL2 = 1, check?: ParamRun['check']): ParamRun {
  return { name, dims, summary: summarizeGradient(Float64Array.from(values), 8), weightL2, ...(check ? { check } : {}) };
}

function run(params: ParamRun[], floatType: 'float32' | 'float64' = 'float64'): GradRun {
  return { executionProvider: 'cpu', loss: 2.3, floatType, input: { name: 'x', dims: [1, 3], l2: 0.5 }, params, activations: [{ name: 'h', l2: 0.1 }] };
}

describe('autodiff: gradient report', () => {
  it('summarizes a gradient: L2, mean, population std, max |g|, histogram, non-finite count', () => {
    const s = summarizeGradient(Float32Array.from([3, -4, 0, 0, NaN]), 4);
    assert.equal(s.l2, 5);
    assert.ok(Math.abs(s.mean - -0.25) < 1e-12);
    assert.ok(Math.abs(s.std - Math.sqrt((3.25 ** 2 + 3.75 ** 2 + 0.0625 * 2) / 4)) < 1e-12);
    assert.equal(s.maxAbs, 4);
    assert.equal(s.nonFinite, 1);
    assert.equal(s.histogram.counts.reduce((a, b) => a + b, 0), 4);
  });

  it('relative error: vector form, zero for two zero vectors, floored by rounding noise', () => {
    assert.equal(relativeError([0, 0], [0, 0]), 0);
    assert.ok(Math.abs(relativeError([1, 0], [0, 1]) - Math.SQRT2) < 1e-12);
    assert.ok(Math.abs(relativeError([1, 1], [1.01, 0.99]) - Math.sqrt(2e-4) / Math.sqrt(1.01 ** 2 + 0.99 ** 2)) < 1e-12);
    // A tiny gradient compared with pure noise is not "wrong" once the noise floor is known.
    assert.ok(relativeError([1e-9], [3e-9], 1e-6) < 1e-2);
    assert.ok(finiteDifferenceNoise(2.3, 'float32') > finiteDifferenceNoise(2.3, 'float64'));
  });

  it('verdicts follow the lecture thresholds in float64 and the looser float32 bars', () => {
    assert.equal(checkVerdict(1e-7, 'float64'), 'fine');
    assert.equal(checkVerdict(1e-3, 'float64'), 'uncomfortable');
    assert.equal(checkVerdict(0.05, 'float64'), 'wrong');
    assert.equal(checkVerdict(0.01, 'float32'), 'fine');
    assert.equal(checkVerdict(0.5, 'float32'), 'wrong');
    assert.equal(checkVerdict(NaN, 'float32'), 'wrong');
  });

  it('samples distinct, sorted, repeatable indices', () => {
    const a = sampleIndices(1000, 20, 3);
    assert.equal(new Set(a).size, 20);
    assert.deepEqual(a, [...a].sort((x, y) => x - y));
    assert.deepEqual(a, sampleIndices(1000, 20, 3));
    assert.notDeepEqual(a, sampleIndices(1000, 20, 4));
    assert.deepEqual(sampleIndices(3, 20), [0, 1, 2]);
    assert.deepEqual(sampleIndices(10, 0), []);
  });

  it('saliency is the max over channels of |gradient| for the first image', () => {
    const g = [1, -2, 3, -4, /* channel 1 */ -5, 1, 0, 2, /* channel 2 */ 0, 0, 0, 6, /* second image */ 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9];
    const s = saliencyMap(g, [2, 3, 2, 2]);
    assert.deepEqual(s, { width: 2, height: 2, values: [5, 2, 3, 6] });
    assert.equal(saliencyMap(g, [2, 6, 2, 2]), undefined, 'six channels are not an image');
    assert.equal(saliencyMap(g, [16]), undefined);
  });

  it('assembles the CLI contract fields and the worst numerical check', () => {
    const r = assembleGradReport(
      run([
        param('w1', [2, 2], [0.1, 0.2, 0.3, 0.4], 2, { analytic: [0.1, 0.2], numeric: [0.1, 0.2], noiseFloor: 0 }),
        param('b1', [2], [0.5, 0.5], 1, { analytic: [0.5], numeric: [0.6], noiseFloor: 0 }),
      ]),
    );
    assert.deepEqual(Object.keys(r).sort(), ['activations', 'bands', 'check', 'diagnostics', 'executionProvider', 'input', 'loss', 'params']);
    assert.deepEqual(Object.keys(r.params[0]).sort(), ['band', 'check', 'histogram', 'l2', 'maxAbs', 'mean', 'name', 'shape', 'std', 'updateRatio', 'weightL2']);
    // The verdicts, bands and update ratios the views draw come with the report.
    assert.equal(r.params[0].updateRatio, (1e-3 * r.params[0].l2) / 2);
    assert.equal(r.params[1].check?.verdict, 'wrong', 'float64: above 1e-2');
    assert.equal(r.params[0].check?.verdict, 'fine');
    assert.deepEqual(r.check?.thresholds, { fine: 1e-4, wrong: 1e-2 });
    assert.equal(r.bands?.learningRate, 1e-3);
    assert.equal(r.params[0].weightL2, 2);
    assert.equal(r.check?.sampled, 3);
    assert.equal(r.check?.worst, 'b1');
    assert.ok(Math.abs(r.check!.maxRelError - 0.1 / 0.6) < 1e-12);
    assert.ok(r.diagnostics!.some((d) => d.kind === 'gradient-check' && d.node === 'b1'));
  });

  it('the joint direction weighs every tensor alike, within a stretch, and its step aims at a small loss change', () => {
    // Shares h * (g . u): 1, 100, 0.5, 1e-4 (too small to stretch up to the median), 0 (a dead tensor).
    const steps = [1, 2, 0.5, 1, 3];
    const slopes = [1, 50, 1, 1e-4, 0];
    const c = jointCoefficients(steps, slopes);
    const shares = c.map((x, t) => x * slopes[t]!);
    assert.ok(Math.abs(shares[0]! - 1) < 1e-12 && Math.abs(shares[1]! - 1) < 1e-12 && Math.abs(shares[2]! - 1) < 1e-12, String(shares));
    assert.equal(c[3], steps[3]! * JOINT_MAX_STRETCH);
    assert.equal(c[4], steps[4]! * JOINT_MAX_STRETCH);
    assert.equal(jointStep(2, 4), 5e-4);
    assert.equal(jointStep(2, 0), 1);
    assert.equal(jointStep(2, 1e-9), 1);
    // The joint error is the central difference's; crossed kinks excuse nothing and ask for a smaller retry.
    assert.ok(Math.abs(jointError(1, 0.99, 1.01, 0, 'float32').relError) < 1e-12);
    const kinked = jointError(1, 0.9, 1.1, 0, 'float32');
    assert.equal(kinked.kink, true);
    assert.ok(jointError(1.02, 1, 1, 0, 'float32').relError > 0.019);
  });

  it('one direction for both stages: the joint check writes it unnormalised, with its slope, in one pass', () => {
    const g = Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i * 0.37) * (i % 7));
    const v = checkDirection(g, 5);
    assert.ok(Math.abs(dot(v, v) - 1) < 1e-12);
    assert.ok(dot(g, v) > 0, 'along the gradient');
    const w = Float64Array.from(g, (x) => x * 3 + 1);
    const plus = new Float64Array(g.length);
    const minus = new Float64Array(g.length);
    const slope = fillDirection(plus, minus, w, g, Math.sqrt(dot(g, g)), 5, 0.25);
    const d = plus.map((x, i) => (x - w[i]!) / 0.25);
    const norm = Math.sqrt(dot(d, d));
    assert.ok(Math.abs(norm - Math.SQRT2) < 0.1, String(norm));
    assert.ok(d.every((x, i) => Math.abs(x / norm - v[i]!) < 1e-9), 'the same direction as the per-tensor stage');
    assert.ok(minus.every((x, i) => Math.abs(x - (w[i]! - 0.25 * d[i]!)) < 1e-12));
    assert.ok(Math.abs(slope - dot(g, d)) < 1e-9 * Math.abs(slope));
    assert.notDeepEqual(checkDirection(g, 6), v, 'another seed, another direction');
  });

  it('a passed joint check judges every tensor, and says so; a failed one leaves the per-tensor verdicts', () => {
    const jointly = (): ParamRun['check'] => ({ analytic: [], numeric: [], noiseFloor: 0, method: 'joint' });
    const passed = assembleGradReport({
      ...run([param('w1', [2, 2], [0.1, 0.2, 0.3, 0.4], 2, jointly()), param('b1', [2], [0.5, 0.5], 1, jointly())], 'float32'),
      joint: { analytic: 1, oneSided: [0.9995, 1.0005], noiseFloor: 0, tensors: 2 },
    });
    assert.equal(passed.check?.method, 'joint');
    assert.equal(passed.check?.verdict, 'fine');
    assert.equal(passed.check?.sampled, 2);
    assert.equal(passed.check?.joint?.passed, true);
    assert.equal(passed.check?.joint?.threshold, 5e-3);
    assert.deepEqual(passed.params.map((p) => [p.check?.method, p.check?.verdict]), [['joint', 'fine'], ['joint', 'fine']]);
    const failed = assembleGradReport({
      ...run(
        [
          param('w1', [2, 2], [0.1, 0.2, 0.3, 0.4], 2, { analytic: [1], numeric: [1], oneSided: [1, 1], noiseFloor: 0, method: 'direction' }),
          param('b1', [2], [0.5, 0.5], 1, { analytic: [2], numeric: [1], oneSided: [1, 1], noiseFloor: 0, method: 'direction' }),
        ],
        'float32',
      ),
      joint: { analytic: 1.5, oneSided: [1, 1], noiseFloor: 0, tensors: 2 },
    });
    assert.equal(failed.check?.method, 'direction');
    assert.equal(failed.check?.joint?.passed, false);
    assert.equal(failed.check?.worst, 'b1');
    assert.deepEqual(failed.params.map((p) => p.check?.verdict), ['fine', 'wrong']);
  });

  it('diagnoses vanishing and exploding gradients from first versus last layers', () => {
    const layers = (scales: number[]): ParamRun[] => scales.map((s, i) => param(`w${i}`, [4, 4], new Array(16).fill(s), 4));
    const vanishing = assembleGradReport(run(layers([1e-7, 1e-6, 1e-3, 1e-2])));
    assert.ok(vanishing.diagnostics!.some((d) => d.kind === 'vanishing-gradients' && d.node === 'w0'));
    const exploding = assembleGradReport(run(layers([1e3, 10, 1, 1])));
    assert.ok(exploding.diagnostics!.some((d) => d.kind === 'exploding-gradients'));
    const healthy = assembleGradReport(run(layers([0.01, 0.02, 0.01, 0.03])));
    assert.ok(!healthy.diagnostics!.some((d) => /vanishing|exploding/.test(d.kind)));
  });

  it('flags dead parameters and update ratios far from 1e-3', () => {
    const r = assembleGradReport(
      run([param('dead', [2, 2], [0, 0, 0, 0], 1), param('big', [2, 2], [500, 500, 500, 500], 1), param('tiny', [2, 2], [1e-9, 1e-9, 1e-9, 1e-9], 10)]),
    );
    const kinds = r.diagnostics!.map((d) => `${d.kind}:${d.node}`);
    assert.ok(kinds.includes('dead-params:dead'));
    assert.ok(kinds.includes('update-ratio:big'));
    assert.ok(kinds.includes('update-ratio:tiny'));
  });
});
