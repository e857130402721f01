import * as assert from 'node:assert/strict';
import { GraphBuilder } from '../../../../src/core/ir/builder';
import { formatAttribute, nodeDetails } from '../../../../src/core/analysis/nodeDetails';
import { summarizeModel } from '../../../../src/core/analysis/summary';

const zeros = (n: number): number[] => new Array<number>(n).fill(0);

describe('core/analysis/nodeDetails', () => {
  it('gives a Conv its attributes, input and output shapes, weights and counts', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 3, 16, 16]);
    const w = b.initializer('conv.weight', 'float32', [8, 3, 3, 3], zeros(216));
    const bias = b.initializer('conv.bias', 'float32', [8], zeros(8));
    const passed = b.op('Identity', [bias], {}, { name: 'Identity_0' });
    const y = b.op('Conv', [x, w, passed], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1 }, { name: 'conv' });
    b.output(b.op('Relu', [y], {}, { name: 'relu' }));
    const model = b.model(13);
    const summary = summarizeModel(model);
    const index = summary.layers.findIndex((l) => l.name === 'conv');
    const d = nodeDetails(model, summary, index)!;
    assert.equal(d.op, 'Conv');
    assert.deepEqual(d.attributes, [
      { name: 'kernel_shape', value: '[3, 3]' },
      { name: 'strides', value: '[2, 2]' },
      { name: 'pads', value: '[1, 1, 1, 1]' },
      { name: 'dilations', value: '[1, 1]' },
      { name: 'group', value: '1' },
    ]);
    assert.deepEqual(d.inputs[0], { name: 'x', shape: [1, 3, 16, 16], dtype: 'float32' });
    assert.deepEqual(d.inputs[1], { name: 'conv.weight', shape: [8, 3, 3, 3], dtype: 'float32', stored: { elements: 216, source: 'conv.weight' } });
    assert.deepEqual(d.inputs[2]!.stored, { elements: 8, source: 'conv.bias' }, 'a bias handed over through an Identity is a stored weight');
    assert.deepEqual(d.outputs[0]!.shape, [1, 8, 8, 8]);
    assert.equal(d.params, 224);
    assert.equal(d.macs, 8 * 8 * 8 * 27);
    assert.equal(nodeDetails(model, summary, 999), null);
  });

  it('writes every attribute kind on one line and cuts long lists', () => {
    assert.equal(formatAttribute({ name: 'a', type: 'float', value: 0.5 }), '0.5');
    assert.equal(formatAttribute({ name: 'a', type: 'string', value: 'NOTSET' }), 'NOTSET');
    assert.match(formatAttribute({ name: 'a', type: 'ints', value: Array.from({ length: 40 }, (_, i) => i) }), /^\[0, 1, .*15, … 24 more\]$/);
    assert.equal(formatAttribute({ name: 'a', type: 'ref', refAttrName: 'alpha', refType: 'float' }), "= caller's alpha");
  });
});
