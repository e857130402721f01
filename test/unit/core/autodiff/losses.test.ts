import * as assert from 'node:assert/strict';
import { buildBackward } from '../../../../src/core/autodiff';
import { checkGradients, feed, GraphBuilder } from './gradHarness';

/** The probe losses: their values against a direct computation, and their gradients against finite differences. */
describe('autodiff: losses', () => {
  const D = 'float64';

  function linearModel(): { model: ReturnType<GraphBuilder['model']> } {
    const b = new GraphBuilder();
    const x = b.input('x', D, ['N', 4]);
    const w = b.initializer('fc.weight', D, [3, 4], feed(D, [3, 4], 9).data as number[]);
    const y = b.op('Gemm', [x, w], { transB: 1 }, { output: 'logits' });
    b.output(y, D, ['N', 3]);
    return { model: b.model(17) };
  }

  function logits(x: number[], w: number[]): number[][] {
    const out: number[][] = [];
    for (let n = 0; n < x.length / 4; n++) {
      out.push([0, 1, 2].map((k) => [0, 1, 2, 3].reduce((s, j) => s + x[n * 4 + j] * w[k * 4 + j], 0)));
    }
    return out;
  }

  it('cross-entropy is the batch mean of -log softmax at the target, with per-sample and single targets', async () => {
    const { model } = linearModel();
    const x = feed(D, [2, 4], 1);
    const w = feed(D, [3, 4], 9).data as number[];
    const z = logits(x.data as number[], w);
    const lse = (row: number[]): number => Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
    const expected = (z.reduce((s, row, n) => s + lse(row) - row[[2, 0][n]], 0)) / 2;
    const r = await checkGradients(model, { x }, {
      loss: { kind: 'cross-entropy' },
      extraFeeds: { layerscope_target: { dtype: 'int64', dims: [2], data: [2, 0] } },
      initializers: ['fc.weight'],
    });
    assert.ok(Math.abs(r.loss - expected) < 1e-12, `loss ${r.loss} vs ${expected}`);
    const single = await checkGradients(model, { x }, {
      loss: { kind: 'cross-entropy' },
      extraFeeds: { layerscope_target: { dtype: 'int64', dims: [], data: [1] } },
    });
    const expected1 = (z.reduce((s, row) => s + lse(row) - row[1], 0)) / 2;
    assert.ok(Math.abs(single.loss - expected1) < 1e-12);
    assert.equal(r.backward.target?.name, 'layerscope_target');
  });

  it('mse is the mean squared difference to a target tensor', async () => {
    const { model } = linearModel();
    const x = feed(D, [2, 4], 1);
    const t = feed(D, [2, 3], 5);
    const z = logits(x.data as number[], feed(D, [3, 4], 9).data as number[]).flat();
    const expected = z.reduce((s, v, i) => s + (v - (t.data as number[])[i]) ** 2, 0) / 6;
    const r = await checkGradients(model, { x }, { loss: { kind: 'mse' }, extraFeeds: { layerscope_target: t } });
    assert.ok(Math.abs(r.loss - expected) < 1e-12);
  });

  it('sum and mean of one output unit (saliency)', async () => {
    const { model } = linearModel();
    const x = feed(D, [2, 4], 1);
    const z = logits(x.data as number[], feed(D, [3, 4], 9).data as number[]);
    const r = await checkGradients(model, { x }, { loss: { kind: 'sum', unit: 2 } });
    assert.ok(Math.abs(r.loss - (z[0][2] + z[1][2])) < 1e-12);
    const m = await checkGradients(model, { x }, { loss: { kind: 'mean' } });
    assert.ok(Math.abs(m.loss - z.flat().reduce((s, v) => s + v, 0) / 6) < 1e-12);
  });

  it('refuses models below opset 13 with a clear message', () => {
    const b = new GraphBuilder();
    const x = b.input('x', D, [2]);
    b.output(b.op('Relu', [x]), D, [2]);
    assert.throws(() => buildBackward(b.model(11), { loss: { kind: 'sum' } }), /opset 13 or later.*opset 11/);
  });

  it('never modifies the model it is given', () => {
    const { model } = linearModel();
    const before = JSON.stringify(model, (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v));
    const r = buildBackward(model, { loss: { kind: 'cross-entropy' } });
    assert.equal(JSON.stringify(model, (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v)), before);
    assert.ok(r.model.graph.nodes.length > model.graph.nodes.length);
    assert.deepEqual(r.params, ['fc.weight']);
    assert.deepEqual(r.inputs, ['x']);
    assert.deepEqual(r.activations.map((a) => a.name), ['logits']);
  });
});
