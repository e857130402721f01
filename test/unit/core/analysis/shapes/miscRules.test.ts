import { strict as assert } from 'node:assert';
import { c, inferOne, shapeOf, t } from './helpers';

describe('shape rules: detection, sampling and image layout', () => {
  it('RoiAlign gives [rois, C, output_height, output_width]', () => {
    assert.deepEqual(shapeOf('RoiAlign', [t([1, 256, 50, 50]), t(['R', 4]), t(['R'], 'int64')], { output_height: 7, output_width: 7 }), ['R', 256, 7, 7]);
  });
  it('GridSample takes spatial sizes from the grid', () => {
    assert.deepEqual(shapeOf('GridSample', [t(['N', 3, 32, 32]), t(['N', 10, 12, 2])], {}, { opset: 16 }), ['N', 3, 10, 12]);
  });
  it('NonMaxSuppression and Unique have data-dependent sizes', () => {
    assert.deepEqual(inferOne('NonMaxSuppression', [t([1, 6, 4]), t([1, 1, 6])]).types[0], { dtype: 'int64', shape: [null, 3] });
    const u = inferOne('Unique', [t([6])], {}, { outputs: 4, opset: 11 });
    assert.deepEqual(u.types.map((x) => x?.shape), [[null], [null], [null], [null]]);
  });
  it('CenterCropPad, AffineGrid and Col2Im take sizes from constant inputs', () => {
    assert.deepEqual(shapeOf('CenterCropPad', [t([20, 10, 3]), c([10, 7])], { axes: [0, 1] }, { opset: 18 }), [10, 7, 3]);
    assert.deepEqual(shapeOf('AffineGrid', [t([2, 2, 3]), c([2, 3, 5, 6])], {}, { opset: 20 }), [2, 5, 6, 2]);
    assert.deepEqual(shapeOf('Col2Im', [t([1, 18, 25]), c([5, 5]), c([3, 3])], {}, { opset: 18 }), [1, 2, 5, 5]);
  });
});
