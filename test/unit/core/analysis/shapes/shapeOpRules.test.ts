import { strict as assert } from 'node:assert';
import { GraphBuilder } from '../../../../../src/core/ir/builder';
import { inferShapes } from '../../../../../src/core/analysis/shapes/index';
import { c, inferOne, shapeOf, t } from './helpers';

describe('shape rules: shape manipulation', () => {
  describe('Flatten', () => {
    it('splits at axis into two products', () => {
      assert.deepEqual(shapeOf('Flatten', [t([2, 3, 4, 5])], { axis: 2 }), [6, 20]);
      assert.deepEqual(shapeOf('Flatten', [t(['N', 15, 2, 2])]), ['N', 60]);
      assert.deepEqual(shapeOf('Flatten', [t([2, 3, 4])], { axis: 0 }), [1, 24]);
      assert.deepEqual(shapeOf('Flatten', [t([2, 3, 4])], { axis: -1 }), [6, 4]);
      assert.deepEqual(shapeOf('Flatten', [t([2, 3])], { axis: 2 }), [6, 1]);
    });
    it('multiplies symbols into monomials, and an unknown factor makes the product unknown', () => {
      assert.deepEqual(shapeOf('Flatten', [t(['N', 'C', 4])], { axis: 1 }), ['N', '4*C']);
      assert.deepEqual(shapeOf('Flatten', [t(['N', null, 4])], { axis: 1 }), ['N', null]);
    });
  });

  describe('Reshape', () => {
    it('resolves 0 (copy) and -1 (infer)', () => {
      assert.deepEqual(shapeOf('Reshape', [t([2, 3, 4]), c([0, -1])]), [2, 12]);
      assert.deepEqual(shapeOf('Reshape', [t([2, 3, 4]), c([4, 3, 2])]), [4, 3, 2]);
      assert.deepEqual(shapeOf('Reshape', [t([2, 3, 4]), c([-1])]), [24]);
    });
    it('keeps symbols and cancels them when inferring -1', () => {
      assert.deepEqual(shapeOf('Reshape', [t(['N', 15, 2, 2]), c([0, -1])]), ['N', 60]);
      assert.deepEqual(shapeOf('Reshape', [t(['N', 'S', 768]), c([0, 0, 12, 64])]), ['N', 'S', 12, 64]);
      assert.deepEqual(shapeOf('Reshape', [t(['N', 12, 64]), c([-1, 768])]), ['N', 768]);
      assert.deepEqual(shapeOf('Reshape', [t(['N', 'S', 64]), c([0, -1])]), ['N', '64*S']);
      assert.deepEqual(shapeOf('Reshape', [t([197, '12*N', 64]), c([197, -1, 768])]), [197, 'N', 768]);
      assert.deepEqual(shapeOf('Reshape', [t(['N', null, 64]), c([0, -1])]), ['N', null]);
    });
    it('with allowzero, 0 is a real zero-size dim', () => {
      assert.deepEqual(shapeOf('Reshape', [t([0, 4]), c([0, 4])], { allowzero: 1 }, { opset: 14 }), [0, 4]);
    });
    it('reads the shape attribute before opset 5', () => {
      assert.deepEqual(shapeOf('Reshape', [t([2, 6])], { shape: [3, 4] }, { opset: 4 }), [3, 4]);
    });
    it('knows only the rank when the shape is computed at run time', () => {
      assert.deepEqual(shapeOf('Reshape', [t([2, 6]), t([3], 'int64')]), [null, null, null]);
    });
    it("warns 'shape-mismatch' with the element counts", () => {
      const r = inferOne('Reshape', [t([2, 3]), c([4, 2])]);
      assert.equal(r.types[0]?.shape, null);
      assert.match(r.warnings[0].message, /6 elements.*8 elements/);
      assert.equal(inferOne('Reshape', [t([2, 3]), c([4, -1])]).warnings[0].code, 'shape-mismatch');
    });
  });

  it('Transpose permutes, reversing by default', () => {
    assert.deepEqual(shapeOf('Transpose', [t(['N', 3, 224, 224])], { perm: [0, 2, 3, 1] }), ['N', 224, 224, 3]);
    assert.deepEqual(shapeOf('Transpose', [t([2, 3, 4])]), [4, 3, 2]);
    assert.equal(inferOne('Transpose', [t([2, 3])], { perm: [0] }).warnings[0].code, 'shape-mismatch');
  });

  it('Transpose folds known values (the pads-reversal pattern of PyTorch exports)', () => {
    const r = inferOne('Transpose', [c([1, 2, 3, 4, 5, 6], 'int64', [3, 2])], { perm: [1, 0] });
    assert.deepEqual(r.values[0], { dtype: 'int64', dims: [2, 3], values: [1, 3, 5, 2, 4, 6] });
  });

  describe('Squeeze and Unsqueeze', () => {
    it('read axes from an attribute before opset 13 and from an input after', () => {
      assert.deepEqual(shapeOf('Squeeze', [t([1, 3, 1, 5])], { axes: [0, 2] }, { opset: 11 }), [3, 5]);
      assert.deepEqual(shapeOf('Squeeze', [t([1, 3, 1, 5]), c([-2])], {}, { opset: 13 }), [1, 3, 5]);
      assert.deepEqual(shapeOf('Unsqueeze', [t([3, 5])], { axes: [0, 3] }, { opset: 11 }), [1, 3, 5, 1]);
      assert.deepEqual(shapeOf('Unsqueeze', [t([3, 5]), c([-1])], {}, { opset: 13 }), [3, 5, 1]);
    });
    it('Squeeze without axes drops every 1', () => {
      assert.deepEqual(shapeOf('Squeeze', [t([1, 3, 1, 'N'])], {}, { opset: 13 }), [3, 'N']);
    });
    it('refuses to squeeze an axis that is not 1', () => {
      assert.equal(inferOne('Squeeze', [t([2, 3]), c([0])], {}, { opset: 13 }).warnings[0].code, 'shape-mismatch');
    });
  });

  describe('Concat', () => {
    it('adds sizes on the axis and merges the others', () => {
      assert.deepEqual(shapeOf('Concat', [t(['N', 64, 28, 28]), t(['N', 32, 28, 28])], { axis: 1 }), ['N', 96, 28, 28]);
      assert.deepEqual(shapeOf('Concat', [t([2, 3]), t([2, 4]), t([2, 5])], { axis: -1 }), [2, 12]);
      assert.deepEqual(shapeOf('Concat', [t(['N', 3]), t(['M', 3])], { axis: 0 }), [null, 3]);
    });
    it('defaults axis to 1 in Concat-1 and requires it later', () => {
      assert.deepEqual(shapeOf('Concat', [t([2, 3]), t([2, 4])], {}, { opset: 1 }), [2, 7]);
      assert.match(inferOne('Concat', [t([2, 3]), t([2, 4])]).warnings[0].message, /axis is required/);
    });
    it('warns about differing ranks or other dims', () => {
      assert.match(inferOne('Concat', [t([2, 3]), t([2, 3, 1])], { axis: 0 }).warnings[0].message, /rank/);
      assert.equal(inferOne('Concat', [t([2, 3]), t([4, 4])], { axis: 0 }).warnings[0].code, 'shape-mismatch');
    });
    it('folds known values', () => {
      assert.deepEqual(inferOne('Concat', [c([1, 2]), c([3])], { axis: 0 }).values[0]?.values, [1, 2, 3]);
    });
  });

  describe('Split', () => {
    it('uses the split input (opset 13) or attribute (before)', () => {
      const a = inferOne('Split', [t([6, 4]), c([2, 4])], { axis: 0 }, { outputs: 2, opset: 13 });
      assert.deepEqual(a.types.map((x) => x?.shape), [[2, 4], [4, 4]]);
      const b = inferOne('Split', [t([6, 4])], { axis: 1, split: [1, 3] }, { outputs: 2, opset: 11 });
      assert.deepEqual(b.types.map((x) => x?.shape), [[6, 1], [6, 3]]);
    });
    it('splits evenly by output count, and by num_outputs with a smaller last chunk from opset 18', () => {
      const a = inferOne('Split', [t([6, 4])], {}, { outputs: 3, opset: 13 });
      assert.deepEqual(a.types.map((x) => x?.shape), [[2, 4], [2, 4], [2, 4]]);
      const b = inferOne('Split', [t([7])], { num_outputs: 3 }, { outputs: 3, opset: 18 });
      assert.deepEqual(b.types.map((x) => x?.shape), [[3], [3], [1]]);
    });
    it('warns when sizes do not add up', () => {
      assert.equal(inferOne('Split', [t([6]), c([2, 2])], {}, { outputs: 2, opset: 13 }).warnings[0].code, 'shape-mismatch');
    });
  });

  describe('Slice', () => {
    it('clamps and handles negative indices and steps (opset 10+ inputs)', () => {
      assert.deepEqual(shapeOf('Slice', [t([20, 10, 5]), c([0, 0]), c([3, 10]), c([0, 1])]), [3, 10, 5]);
      assert.deepEqual(shapeOf('Slice', [t([20, 10, 5]), c([-3]), c([2 ** 63]), c([1])]), [20, 3, 5]);
      assert.deepEqual(shapeOf('Slice', [t([10]), c([-1]), c([-(2 ** 63)]), c([0]), c([-1])]), [10]);
      assert.deepEqual(shapeOf('Slice', [t([10]), c([0]), c([10]), c([0]), c([3])]), [4]);
      assert.deepEqual(shapeOf('Slice', [t([10]), c([8]), c([2]), c([0]), c([-2])]), [3]);
      assert.deepEqual(shapeOf('Slice', [t([10]), c([5]), c([100])]), [5]);
      assert.deepEqual(shapeOf('Slice', [t([10]), c([5]), c([2])]), [0]);
    });
    it('reads attributes before opset 10', () => {
      assert.deepEqual(shapeOf('Slice', [t([20, 10, 5])], { starts: [1], ends: [1000], axes: [1] }, { opset: 9 }), [20, 9, 5]);
    });
    it('keeps a symbolic axis sliced whole, and x[-k:] has k elements', () => {
      assert.deepEqual(shapeOf('Slice', [t(['N', 'S', 8]), c([0, -1]), c([2 ** 63, 2 ** 63]), c([0, 1])]), ['N', 1, 8]);
      assert.deepEqual(shapeOf('Slice', [t(['N', 'S', 8]), c([1]), c([3]), c([1])]), ['N', null, 8]);
    });
    it('keeps step-1 slices whose bounds are multiples of the axis symbol', () => {
      const b = new GraphBuilder();
      const a = b.input('a', 'float32', ['N', 4]);
      const x = b.input('x', 'float32', ['2*N', 4]);
      const n = b.op('Gather', [b.op('Shape', [a]), b.initializer('zero', 'int64', [], [0])]);
      const start = b.op('Unsqueeze', [n, b.initializer('ax', 'int64', [1], [0])]);
      const end = b.op('Mul', [start, b.initializer('two', 'int64', [1], [2])]);
      const axes = b.initializer('axes', 'int64', [1], [0]);
      const second = b.op('Slice', [x, start, end, axes]);
      const first = b.op('Slice', [x, b.initializer('z', 'int64', [1], [0]), start, axes]);
      const past = b.op('Slice', [x, end, b.initializer('big', 'int64', [1], [2 ** 62]), axes]);
      const r = inferShapes(b.model(13));
      assert.deepEqual(r.types.get(end)?.shape, [1]);
      assert.deepEqual(r.types.get(second)?.shape, ['N', 4]);
      assert.deepEqual(r.types.get(first)?.shape, ['N', 4]);
      assert.deepEqual(r.types.get(past)?.shape, [0, 4]);
    });
    it('folds slices of known values', () => {
      assert.deepEqual(inferOne('Slice', [c([1, 2, 3, 4, 5]), c([-1]), c([-(2 ** 63)]), c([0]), c([-2])]).values[0]?.values, [5, 3, 1]);
    });
  });

  describe('Gather family', () => {
    it('Gather puts the indices shape in place of the axis', () => {
      assert.deepEqual(shapeOf('Gather', [t([5, 4, 3]), t([2, 7], 'int64')], { axis: 1 }), [5, 2, 7, 3]);
      assert.deepEqual(shapeOf('Gather', [t([50257, 768]), t(['B', 'S'], 'int64')]), ['B', 'S', 768]);
      assert.deepEqual(shapeOf('Gather', [t([5, 4]), c([1], 'int64', [])]), [4]);
    });
    it('Gather folds and warns about out-of-range indices', () => {
      assert.deepEqual(inferOne('Gather', [c([10, 20, 30]), c([-1, 0])]).values[0]?.values, [30, 10]);
      assert.equal(inferOne('Gather', [c([10, 20, 30]), c([3])]).warnings[0].code, 'shape-mismatch');
    });
    it('GatherElements takes the indices shape; GatherND follows batch_dims', () => {
      assert.deepEqual(shapeOf('GatherElements', [t([3, 3]), t([2, 3], 'int64')], { axis: 1 }), [2, 3]);
      assert.deepEqual(shapeOf('GatherND', [t([2, 2]), t([2, 2], 'int64')]), [2]);
      assert.deepEqual(shapeOf('GatherND', [t([2, 2, 2]), t([2, 1], 'int64')], { batch_dims: 1 }), [2, 2]);
    });
  });

  describe('Shape and Size', () => {
    it('Shape gives an int64 vector and honours start and end', () => {
      assert.deepEqual(inferOne('Shape', [t(['N', 3, 4])]).types[0], { dtype: 'int64', shape: [3] });
      assert.deepEqual(inferOne('Shape', [t([2, 3, 4, 5])], { start: 1, end: -1 }, { opset: 15 }).values[0]?.values, [3, 4]);
      assert.deepEqual(inferOne('Shape', [t([2, 3, 4, 5])], { start: -1 }, { opset: 15 }).values[0]?.values, [5]);
    });
    it('Size gives an int64 scalar with the element count', () => {
      assert.deepEqual(inferOne('Size', [t([2, 3, 4])]).values[0], { dtype: 'int64', dims: [], values: [24] });
      assert.deepEqual(inferOne('Size', [t(['N', 3])]).types[0], { dtype: 'int64', shape: [] });
    });
  });

  it('Expand broadcasts the input against the shape', () => {
    assert.deepEqual(shapeOf('Expand', [t([3, 1]), c([2, 1, 6])]), [2, 3, 6]);
    assert.deepEqual(shapeOf('Expand', [t(['N', 1, 4]), c([1, 5, 1])]), ['N', 5, 4]);
  });

  it('Tile multiplies each dim by its repeat', () => {
    assert.deepEqual(shapeOf('Tile', [t([2, 3]), c([2, 1])]), [4, 3]);
    assert.deepEqual(shapeOf('Tile', [t(['N', 3]), c([1, 2])]), ['N', 6]);
  });

  describe('Pad', () => {
    it('adds begin and end pads (input from opset 11, attribute before)', () => {
      assert.deepEqual(shapeOf('Pad', [t([1, 3, 4, 4]), c([0, 0, 1, 2, 0, 0, 1, 2])]), [1, 3, 6, 8]);
      assert.deepEqual(shapeOf('Pad', [t([1, 3, 4, 4])], { pads: [0, 0, 1, 1, 0, 0, 1, 1] }, { opset: 2 }), [1, 3, 6, 6]);
      assert.deepEqual(shapeOf('Pad', [t(['N', 4]), c([0, -1, 0, -1])]), ['N', 2]);
    });
    it('pads only the given axes from opset 18', () => {
      assert.deepEqual(shapeOf('Pad', [t([1, 3, 4, 4]), c([1, 1]), null, c([-1])], {}, { opset: 18 }), [1, 3, 4, 6]);
    });
  });

  it('DepthToSpace and SpaceToDepth move channels into space and back', () => {
    assert.deepEqual(shapeOf('DepthToSpace', [t([1, 8, 2, 3])], { blocksize: 2 }), [1, 2, 4, 6]);
    assert.deepEqual(shapeOf('SpaceToDepth', [t([1, 2, 4, 6])], { blocksize: 2 }), [1, 8, 2, 3]);
  });

  it('OneHot inserts depth at axis and takes the values type', () => {
    assert.deepEqual(inferOne('OneHot', [t([2, 3], 'int64'), c([10], 'int64', []), t([2], 'float32')]).types[0], { dtype: 'float32', shape: [2, 3, 10] });
    assert.deepEqual(shapeOf('OneHot', [t([2, 3], 'int64'), c([10], 'int64', []), t([2])], { axis: 0 }), [10, 2, 3]);
  });

  it('NonZero has an unknown count; Compress an unknown length', () => {
    assert.deepEqual(inferOne('NonZero', [t([2, 3])]).types[0], { dtype: 'int64', shape: [2, null] });
    assert.deepEqual(shapeOf('Compress', [t([4, 3]), t([4], 'bool')], { axis: 0 }), [null, 3]);
  });
});
