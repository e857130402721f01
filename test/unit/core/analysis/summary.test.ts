import * as assert from 'node:assert/strict';
import { GraphBuilder } from '../../../../src/core/ir/builder';
import { isUserInputError } from '../../../../src/core/errors';
import type { Model } from '../../../../src/core/ir/types';
import { countNodes, summarizeModel } from '../../../../src/core/analysis/summary';
import { buildDeeperBnConvNet } from '../../../../scripts/makeSamples';

const zeros = (n: number): number[] => new Array<number>(n).fill(0);

function smallNet(): Model {
  const b = new GraphBuilder('small');
  const x = b.input('input', 'float32', ['N', 3, 8, 8]);
  const w = b.initializer('conv.weight', 'float32', [4, 3, 3, 3], zeros(108));
  const c = b.op('Conv', [x, w], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: '/conv/Conv' });
  const r = b.op('Relu', [c], {}, { name: '/relu/Relu' });
  const g = b.op('GlobalAveragePool', [r], {}, { name: '/pool/GlobalAveragePool' });
  const f = b.op('Flatten', [g], {}, { name: '/Flatten' });
  const fw = b.initializer('fc.weight', 'float32', [2, 4], zeros(8));
  const fb = b.initializer('fc.bias', 'float32', [2], zeros(2));
  b.output(b.op('Gemm', [f, fw, fb], { transB: 1 }, { name: '/fc/Gemm', output: 'output' }), 'float32', ['N', 2]);
  return b.model(13);
}

describe('core/analysis/summary', () => {
  it('combines shapes, params, MACs, fields and memory with the contract field names', () => {
    const s = summarizeModel(smallNet(), { inputShapes: { input: [2, 3, 8, 8] } });
    assert.equal(s.format, 'onnx');
    assert.equal(s.opset, 13);
    assert.deepEqual(s.inputs, [{ name: 'input', shape: [2, 3, 8, 8], dtype: 'float32' }]);
    assert.deepEqual(s.outputs, [{ name: 'output', shape: [2, 2], dtype: 'float32' }]);
    assert.deepEqual(Object.keys(s.totals).sort(), ['activationBytes', 'macs', 'nonTrainableParams', 'paramBytes', 'params', 'trainableParams']);
    assert.equal(s.totals.params, 108 + 10);
    assert.equal(s.totals.macs, 2 * 4 * 64 * 27 + 2 * 4 * 2);
    assert.equal(s.totals.paramBytes, 118 * 4);
    const conv = s.layers[0];
    assert.equal(conv.name, '/conv/Conv');
    assert.equal(conv.op, 'Conv');
    assert.deepEqual(conv.inputs, ['input', 'conv.weight']);
    assert.deepEqual(conv.outputs[0].shape, [2, 4, 8, 8]);
    assert.equal(conv.params, 108);
    assert.deepEqual(conv.receptiveField, { size: [3, 3], stride: [1, 1], start: [0, 0], global: false });
    assert.deepEqual(s.layers.map((l) => l.op), ['Conv', 'Relu', 'GlobalAveragePool', 'Flatten', 'Gemm']);
    assert.equal(s.totals.activationBytes, s.layers.reduce((a, l) => a + l.activationBytes, 0));
    assert.equal(s.memory?.inputBytes, 2 * 3 * 64 * 4);
    assert.deepEqual(s.warnings, []);
  });

  it('keeps a symbolic batch and says that MACs are per N=1', () => {
    const s = summarizeModel(smallNet());
    assert.deepEqual(s.inputs[0].shape, ['N', 3, 8, 8]);
    assert.equal(s.totals.macs, 4 * 64 * 27 + 4 * 2);
    assert.ok(s.warnings.some((w) => /per N=1/.test(w)), s.warnings.join('\n'));
  });

  it('lists layers in topological order even when the file does not', () => {
    const m = smallNet();
    m.graph.nodes.reverse();
    const s = summarizeModel(m);
    assert.deepEqual(s.layers.map((l) => l.op), ['Conv', 'Relu', 'GlobalAveragePool', 'Flatten', 'Gemm']);
  });

  it('refuses cycles, dangling inputs and duplicate outputs with GraphStructureError', () => {
    const cyclic = smallNet();
    cyclic.graph.nodes[0].inputs[0] = cyclic.graph.nodes[1].outputs[0];
    assert.throws(() => summarizeModel(cyclic), (e: Error) => e.name === 'GraphStructureError' && /cycle/.test(e.message));
    const dangling = smallNet();
    dangling.graph.nodes[1].inputs[0] = 'nowhere';
    assert.throws(() => summarizeModel(dangling), (e: Error) => e.name === 'GraphStructureError' && /nowhere/.test(e.message));
    const duplicate = smallNet();
    duplicate.graph.nodes[1].outputs[0] = duplicate.graph.nodes[0].outputs[0];
    assert.throws(() => summarizeModel(duplicate), (e: Error) => e.name === 'GraphStructureError' && /duplicate/.test(e.message));
  });

  it('refuses --input-shape for an unknown input or with the wrong rank', () => {
    assert.throws(() => summarizeModel(smallNet(), { inputShapes: { image: [1, 3, 8, 8] } }), (e: unknown) => isUserInputError(e) && /image/.test((e as Error).message));
    assert.throws(() => summarizeModel(smallNet(), { inputShapes: { input: [1, 3, 8] } }), (e: unknown) => isUserInputError(e) && /3 dims/.test((e as Error).message));
  });

  it('refuses graphs over the node limit, counting subgraph nodes too', () => {
    const b = new GraphBuilder();
    let x = b.input('x', 'float32', [1]);
    for (let i = 0; i < 20; i++) x = b.op('Relu', [x]);
    b.output(x);
    const m = b.model();
    assert.equal(countNodes(m.graph), 20);
    assert.throws(() => summarizeModel(m, { maxNodes: 10 }), (e: unknown) => isUserInputError(e) && /more than 10 nodes/.test((e as Error).message));
    assert.equal(summarizeModel(m, { maxNodes: 20 }).layers.length, 20);
  });

  it('reports a folded-BatchNorm export as stored (16,930) and explains the difference', () => {
    const folded = summarizeModel(buildDeeperBnConvNet({ foldBatchNorm: true }));
    assert.equal(folded.totals.params, 16930);
    assert.ok(folded.warnings.some((w) => /BatchNormalization appears to have been folded into 3 convolution/.test(w)), folded.warnings.join('\n'));
    const kept = summarizeModel(buildDeeperBnConvNet());
    assert.ok(!kept.warnings.some((w) => /folded/.test(w)));
  });
});
