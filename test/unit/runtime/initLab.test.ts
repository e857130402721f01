import { strict as assert } from 'node:assert';
import type { ProbeReport } from '../../../src/core/reports';
import { INIT_LAB_CASES, buildInitLabModel, findInitLabCase, initLabStd } from '../../../src/runtime/initLab';
import { probeModel } from '../../../src/runtime/probe';

/**
 * The lectures' weight-initialisation experiment, at a smaller width so that it runs in seconds. The fixed-std cases
 * keep std·√Din at the lecture's value, so the outcomes are the lecture's.
 */
describe('runtime/initLab', function () {
  this.timeout(120_000);

  async function probeCase(id: string, width: number, seed = 1): Promise<ProbeReport> {
    const model = buildInitLabModel(findInitLabCase(id)!, { width, seed });
    return (await probeModel(model, { provider: 'cpu', seed, random: 'normal' })).report;
  }
  const acts = (r: ProbeReport): ProbeReport['layers'] => r.layers.filter((l) => l.op === 'Tanh' || l.op === 'Relu');
  const kinds = (r: ProbeReport): string[] => r.diagnostics.map((d) => d.kind);

  it('builds six layers of the lecture shape with the right weight scale', () => {
    const m = buildInitLabModel(findInitLabCase('relu-he')!, { width: 64 });
    assert.equal(m.graph.nodes.length, 12);
    assert.deepEqual(m.graph.initializers[0]!.dims, [64, 64]);
    assert.equal(m.graph.inputs[0]!.type?.kind === 'tensor' && m.graph.inputs[0]!.type.tensor.shape?.join('x'), '16x64');
    assert.equal(initLabStd('normal-0.01', 4096), 0.01);
    assert.equal(initLabStd('normal-0.05', 4096), 0.05);
    assert.equal(initLabStd('xavier', 4096), 1 / 64);
    assert.equal(INIT_LAB_CASES.length, 5);
  });

  it('tanh with N(0, 0.01²): activations collapse to zero', async () => {
    const r = await probeCase('tanh-0.01', 512);
    const a = acts(r);
    assert.equal(a.length, 6);
    assert.ok(a[5]!.stats.std < 0.1 * a[0]!.stats.std, `last std ${a[5]!.stats.std}`);
    for (let i = 1; i < a.length; i++) assert.ok(a[i]!.stats.std < a[i - 1]!.stats.std);
    assert.ok(kinds(r).includes('vanishing-activations'));
  });

  it('tanh with N(0, 0.05²): activations saturate', async () => {
    const r = await probeCase('tanh-0.05', 512);
    for (const l of acts(r)) assert.ok(l.stats.fracSaturated > 0.25, `${l.name} saturated ${l.stats.fracSaturated}`);
    assert.equal(r.diagnostics.filter((d) => d.kind === 'saturated').length, 6);
    assert.ok(!kinds(r).includes('vanishing-activations'));
  });

  it('tanh with Xavier: stable, no diagnostics', async () => {
    const r = await probeCase('tanh-xavier', 512);
    const a = acts(r);
    assert.ok(a[5]!.stats.std > 0.2 && a[5]!.stats.std < a[0]!.stats.std);
    for (const l of a) assert.ok(l.stats.fracSaturated < 0.05);
    assert.deepEqual(r.diagnostics, []);
  });

  it('ReLU with Xavier: collapses (the variance halves at every layer)', async () => {
    const r = await probeCase('relu-xavier', 512);
    const a = acts(r);
    const perLayer = Math.pow(a[5]!.stats.std / a[0]!.stats.std, 1 / 5);
    assert.ok(Math.abs(perLayer - Math.SQRT1_2) < 0.07, `per-layer ratio ${perLayer}`);
    assert.ok(kinds(r).includes('vanishing-activations'));
  });

  it('ReLU with He: every layer mean ≈ 1/√π ≈ 0.56 and std ≈ √(1 − 1/π) ≈ 0.83', async () => {
    const r = await probeCase('relu-he', 1024);
    const a = acts(r);
    const mean = 1 / Math.sqrt(Math.PI);
    const std = Math.sqrt(1 - 1 / Math.PI);
    for (const l of a) {
      assert.ok(Math.abs(l.stats.mean - mean) < 0.1 * mean, `${l.name} mean ${l.stats.mean}`);
      assert.ok(Math.abs(l.stats.std - std) < 0.1 * std, `${l.name} std ${l.stats.std}`);
    }
    const avgMean = a.reduce((s, l) => s + l.stats.mean, 0) / a.length;
    const avgStd = a.reduce((s, l) => s + l.stats.std, 0) / a.length;
    assert.ok(Math.abs(avgMean - mean) < 0.04 * mean, `average mean ${avgMean}`);
    assert.ok(Math.abs(avgStd - std) < 0.04 * std, `average std ${avgStd}`);
    assert.deepEqual(kinds(r), []);
  });
});
