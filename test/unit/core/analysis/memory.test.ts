import * as assert from 'node:assert/strict';
import { GraphBuilder } from '../../../../src/core/ir/builder';
import { activationBytes, estimateMemory, tensorBytes } from '../../../../src/core/analysis/memory';
import { inferShapes } from '../../../../src/core/analysis/shapes/index';

describe('core/analysis/memory', () => {
  it('tensorBytes uses the element size of the dtype and refuses unknown dims', () => {
    assert.equal(tensorBytes({ dtype: 'float32', shape: [1, 64, 112, 112] }), 64 * 112 * 112 * 4);
    assert.equal(tensorBytes({ dtype: 'float16', shape: [3, 5] }), 30);
    assert.equal(tensorBytes({ dtype: 'int64', shape: [] }), 8);
    assert.equal(tensorBytes({ dtype: 'float32', shape: ['N', 3] }), undefined);
    assert.equal(tensorBytes({ dtype: 'float32', shape: null }), undefined);
  });

  it('sums activation bytes per node output and builds the torchinfo-style estimate', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 3, 4, 4]);
    const y = b.op('Relu', [x], {}, { name: 'relu' });
    const s = b.op('Shape', [y], {}, { name: 'shape' });
    const z = b.op('Sigmoid', [y], {}, { name: 'sig' });
    b.output(z);
    b.output(s);
    const model = b.model();
    const types = inferShapes(model).types;
    const r = activationBytes(model.graph, types);
    const byName = new Map([...r.perNode].map(([n, v]) => [n.name, v]));
    assert.equal(byName.get('relu'), 2 * 3 * 16 * 4);
    assert.equal(byName.get('sig'), 2 * 3 * 16 * 4);
    // Shape's output is metadata, not an activation a forward pass keeps.
    assert.equal(byName.get('shape'), 0);
    assert.equal(r.total, 2 * 2 * 3 * 16 * 4);
    const m = estimateMemory(model.graph, types, r.total, 1000, { float32: 1000 });
    assert.equal(m.inputBytes, 2 * 3 * 16 * 4);
    assert.equal(m.forwardBackwardBytes, 2 * r.total);
    assert.equal(m.paramBytes, 1000);
    assert.equal(m.estimatedTotalBytes, m.inputBytes + m.forwardBackwardBytes + 1000);
  });

  it('counts outputs with unknown shapes as unknown rather than zero-sized', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', ['N', 3]);
    b.output(b.op('Relu', [x]));
    const model = b.model();
    const r = activationBytes(model.graph, inferShapes(model).types);
    assert.equal(r.total, 0);
    assert.equal(r.unknownOutputs, 1);
  });
});
