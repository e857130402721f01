import { strict as assert } from 'node:assert';
import { GraphBuilder } from '../../../../../src/core/ir/builder';
import { makeTensor } from '../../../../../src/core/ir/tensorData';
import { inferShapes } from '../../../../../src/core/analysis/shapes/index';
import { c, inferOne, shapeOf, t } from './helpers';

describe('shape rules: constants, generators and resampling', () => {
  it('Constant reads value, value_ints and value_float', () => {
    assert.deepEqual(inferOne('Constant', [], { value: makeTensor('v', 'float32', [2, 2], [1, 2, 3, 4]) }).values[0], { dtype: 'float32', dims: [2, 2], values: [1, 2, 3, 4] });
    assert.deepEqual(inferOne('Constant', [], { value_ints: [1, 2] }).types[0], { dtype: 'int64', shape: [2] });
    assert.deepEqual(inferOne('Constant', [], { value_int: 3 }).values[0], { dtype: 'int64', dims: [], values: [3] });
  });
  it('ConstantOfShape takes its shape from the input and its type from value', () => {
    assert.deepEqual(inferOne('ConstantOfShape', [c([2, 3])]).types[0], { dtype: 'float32', shape: [2, 3] });
    const r = inferOne('ConstantOfShape', [c([3])], { value: makeTensor('v', 'int64', [1], [7]) });
    assert.deepEqual(r.values[0], { dtype: 'int64', dims: [3], values: [7, 7, 7] });
    assert.deepEqual(shapeOf('ConstantOfShape', [t([4], 'int64')]), [null, null, null, null]);
  });
  it('Range has max(ceil((limit - start) / delta), 0) elements and folds small ones', () => {
    const r = inferOne('Range', [c([0], 'int64', []), c([10], 'int64', []), c([3], 'int64', [])]);
    assert.deepEqual(r.values[0], { dtype: 'int64', dims: [4], values: [0, 3, 6, 9] });
    assert.deepEqual(shapeOf('Range', [c([10], 'int64', []), c([4], 'int64', []), c([-2], 'int64', [])]), [3]);
    assert.deepEqual(shapeOf('Range', [c([1], 'float32', []), c([0], 'float32', []), c([1], 'float32', [])]), [0]);
    assert.deepEqual(shapeOf('Range', [t([], 'int64'), c([4], 'int64', []), c([1], 'int64', [])]), [null]);
  });
  it('Range(0, T, 1) over a symbolic T has T elements', () => {
    const b = new GraphBuilder();
    const x = b.input('ids', 'int64', ['B', 'T']);
    const s = b.op('Shape', [x]);
    const len = b.op('Gather', [s, b.initializer('one', 'int64', [], [1])]);
    const r = b.op('Range', [b.initializer('zero', 'int64', [], [0]), len, b.initializer('step', 'int64', [], [1])]);
    assert.deepEqual(inferShapes(b.model(13)).types.get(r), { dtype: 'int64', shape: ['T'] });
  });
  it('EyeLike and the random generators take shapes from the input or the shape attribute', () => {
    assert.deepEqual(inferOne('EyeLike', [t([3, 4])], { dtype: 7 }).types[0], { dtype: 'int64', shape: [3, 4] });
    assert.deepEqual(inferOne('RandomNormal', [], { shape: [2, 5] }).types[0], { dtype: 'float32', shape: [2, 5] });
    assert.deepEqual(shapeOf('RandomUniformLike', [t(['N', 3])]), ['N', 3]);
  });
  describe('Resize and Upsample', () => {
    it('Resize uses floor(in * scale) or sizes (opset 11+: X, roi, scales, sizes)', () => {
      assert.deepEqual(shapeOf('Resize', [t(['N', 3, 16, 16]), c([], 'float32'), c([1, 1, 2, 2], 'float32')], {}, { opset: 13 }), ['N', 3, 32, 32]);
      assert.deepEqual(shapeOf('Resize', [t([1, 3, 15, 15]), null, c([1, 1, 0.5, 0.5], 'float32')], {}, { opset: 13 }), [1, 3, 7, 7]);
      assert.deepEqual(shapeOf('Resize', [t([1, 3, 16, 16]), c([], 'float32'), c([], 'float32'), c([1, 3, 20, 24])], {}, { opset: 11 }), [1, 3, 20, 24]);
    });
    it('Resize opset 10 takes scales as its second input', () => {
      assert.deepEqual(shapeOf('Resize', [t([1, 3, 4, 4]), c([1, 1, 3, 3], 'float32')], {}, { opset: 10 }), [1, 3, 12, 12]);
    });
    it('Resize honours axes and keep_aspect_ratio_policy (opset 18)', () => {
      assert.deepEqual(shapeOf('Resize', [t([1, 3, 10, 20]), null, null, c([5, 5])], { axes: [2, 3], keep_aspect_ratio_policy: 'not_larger' }, { opset: 18 }), [1, 3, 3, 5]);
      assert.deepEqual(shapeOf('Resize', [t([1, 3, 10, 20]), null, null, c([5, 5])], { axes: [2, 3], keep_aspect_ratio_policy: 'not_smaller' }, { opset: 18 }), [1, 3, 5, 10]);
    });
    it('Resize with unknown scales keeps the rank only', () => {
      assert.deepEqual(shapeOf('Resize', [t([1, 3, 4, 4]), null, t([4])], {}, { opset: 13 }), [null, null, null, null]);
    });
    it('Upsample reads scales as an attribute (opset 7) or input (opset 9)', () => {
      assert.deepEqual(shapeOf('Upsample', [t([1, 3, 4, 4])], { scales: { floats: [1, 1, 2, 2] } }, { opset: 7 }), [1, 3, 8, 8]);
      assert.deepEqual(shapeOf('Upsample', [t([1, 3, 4, 4]), c([1, 1, 2, 3], 'float32')], {}, { opset: 9 }), [1, 3, 8, 12]);
    });
  });
});
