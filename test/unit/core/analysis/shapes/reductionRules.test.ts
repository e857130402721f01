import { strict as assert } from 'node:assert';
import { c, inferOne, shapeOf, t } from './helpers';

describe('shape rules: reductions', () => {
  it('Reduce* read axes as an attribute before opset 18 and keep dims by default', () => {
    for (const op of ['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare']) {
      assert.deepEqual(shapeOf(op, [t(['N', 64, 7, 7])], { axes: [2, 3] }, { opset: 13 }), ['N', 64, 1, 1], op);
      assert.deepEqual(shapeOf(op, [t(['N', 64, 7, 7]), c([-1, -2])], { keepdims: 0 }, { opset: 18 }), ['N', 64], op);
    }
  });
  it('ReduceSum takes axes as an input from opset 13', () => {
    assert.deepEqual(shapeOf('ReduceSum', [t([2, 3, 4]), c([1])], { keepdims: 0 }, { opset: 13 }), [2, 4]);
    assert.deepEqual(shapeOf('ReduceSum', [t([2, 3, 4])], { axes: [1] }, { opset: 11 }), [2, 1, 4]);
  });
  it('no axes reduce everything, unless noop_with_empty_axes', () => {
    assert.deepEqual(shapeOf('ReduceMean', [t([2, 3])], { keepdims: 0 }, { opset: 18 }), []);
    assert.deepEqual(shapeOf('ReduceMean', [t([2, 3])], {}, { opset: 18 }), [1, 1]);
    assert.deepEqual(shapeOf('ReduceSum', [t([2, 3])], { noop_with_empty_axes: 1 }, { opset: 13 }), [2, 3]);
  });
  it('unknown axes leave the rank (with keepdims) but not the sizes', () => {
    assert.deepEqual(shapeOf('ReduceSum', [t([2, 1, 4]), t([1], 'int64')], {}, { opset: 13 }), [null, 1, null]);
  });
  it('ArgMax and ArgMin give int64 along one axis', () => {
    assert.deepEqual(inferOne('ArgMax', [t(['N', 10])], { axis: 1, keepdims: 0 }).types[0], { dtype: 'int64', shape: ['N'] });
    assert.deepEqual(shapeOf('ArgMin', [t([3, 4, 5])], { axis: -1 }), [3, 4, 1]);
  });
  it('TopK gives values and int64 indices with k on the axis', () => {
    const r = inferOne('TopK', [t(['N', 1000]), c([5])], {}, { outputs: 2 });
    assert.deepEqual(r.types[0], { dtype: 'float32', shape: ['N', 5] });
    assert.deepEqual(r.types[1], { dtype: 'int64', shape: ['N', 5] });
    assert.deepEqual(shapeOf('TopK', [t([4, 9])], { k: 3, axis: 0 }, { opset: 1, outputs: 2 }), [3, 9]);
    assert.deepEqual(shapeOf('TopK', [t([4, 9]), t([1], 'int64')], {}, { outputs: 2 }), [4, null]);
  });
  it('folds ReduceProd over a known shape', () => {
    assert.deepEqual(inferOne('ReduceProd', [c([2, 3, 4])], { keepdims: 0 }, { opset: 13 }).values[0], { dtype: 'int64', dims: [], values: [24] });
  });
});
