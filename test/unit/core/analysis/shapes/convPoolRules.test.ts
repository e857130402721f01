import { strict as assert } from 'node:assert';
import { c, inferOne, shapeOf, t } from './helpers';

/** Weights as graph inputs: only their shapes matter to the rules. */
const w = (shape: number[]) => t(shape);

describe('shape rules: convolution and pooling', () => {
  describe('Conv', () => {
    it('applies floor((in + pads - dilated kernel) / stride) + 1', () => {
      assert.deepEqual(shapeOf('Conv', [t([1, 3, 32, 32]), w([15, 3, 3, 3])], { pads: [1, 1, 1, 1], strides: [2, 2] }), [1, 15, 16, 16]);
      assert.deepEqual(shapeOf('Conv', [t([1, 3, 227, 227]), w([96, 3, 11, 11])], { strides: [4, 4] }), [1, 96, 55, 55]);
    });
    it('handles dilation, asymmetric pads and 1-D and 3-D inputs', () => {
      assert.deepEqual(shapeOf('Conv', [t([1, 1, 10, 10]), w([4, 1, 3, 3])], { dilations: [2, 2] }), [1, 4, 6, 6]);
      assert.deepEqual(shapeOf('Conv', [t([1, 1, 10, 10]), w([4, 1, 3, 3])], { pads: [0, 1, 2, 0] }), [1, 4, 10, 9]);
      assert.deepEqual(shapeOf('Conv', [t([2, 8, 100]), w([16, 8, 5])], { strides: [3] }), [2, 16, 32]);
      assert.deepEqual(shapeOf('Conv', [t([1, 2, 8, 8, 8]), w([4, 2, 3, 3, 3])], {}), [1, 4, 6, 6, 6]);
    });
    it('uses ceil(in / stride) for SAME_UPPER and SAME_LOWER, and no padding for VALID', () => {
      assert.deepEqual(shapeOf('Conv', [t([1, 3, 7, 7]), w([8, 3, 3, 3])], { auto_pad: 'SAME_UPPER', strides: [2, 2] }), [1, 8, 4, 4]);
      assert.deepEqual(shapeOf('Conv', [t([1, 3, 7, 7]), w([8, 3, 3, 3])], { auto_pad: 'SAME_LOWER' }), [1, 8, 7, 7]);
      assert.deepEqual(shapeOf('Conv', [t([1, 3, 7, 7]), w([8, 3, 3, 3])], { auto_pad: 'VALID', strides: [2, 2], pads: [5, 5, 5, 5] }), [1, 8, 3, 3]);
    });
    it('checks input channels against weight channels times group', () => {
      assert.deepEqual(shapeOf('Conv', [t([1, 32, 8, 8]), w([32, 1, 3, 3])], { group: 32, pads: [1, 1, 1, 1] }), [1, 32, 8, 8]);
      const r = inferOne('Conv', [t([1, 4, 8, 8]), w([8, 3, 3, 3])]);
      assert.equal(r.types[0]?.shape, null);
      assert.match(r.warnings[0].message, /4 channels/);
    });
    it('keeps a symbolic batch and makes symbolic spatial sizes unknown', () => {
      assert.deepEqual(shapeOf('Conv', [t(['N', 3, 'H', 32]), w([8, 3, 3, 3])]), ['N', 8, null, 30]);
    });
    it('warns when the kernel is larger than the padded input', () => {
      const r = inferOne('Conv', [t([1, 3, 2, 2]), w([8, 3, 5, 5])]);
      assert.equal(r.warnings[0].code, 'shape-mismatch');
    });
  });

  describe('ConvTranspose', () => {
    it('applies stride * (in - 1) + output_padding + dilated kernel - pads', () => {
      assert.deepEqual(shapeOf('ConvTranspose', [t([1, 16, 8, 8]), w([16, 4, 3, 3])], { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }), [1, 4, 16, 16]);
      assert.deepEqual(shapeOf('ConvTranspose', [t([1, 1, 3, 3]), w([1, 2, 3, 3])]), [1, 2, 5, 5]);
    });
    it('multiplies output channels by group', () => {
      assert.deepEqual(shapeOf('ConvTranspose', [t([1, 4, 5]), w([4, 3, 2])], { group: 2 }), [1, 6, 6]);
    });
    it('takes output_shape when given, and in * stride for SAME padding', () => {
      assert.deepEqual(shapeOf('ConvTranspose', [t([1, 1, 3, 3]), w([1, 2, 3, 3])], { strides: [3, 2], output_shape: [10, 8] }), [1, 2, 10, 8]);
      assert.deepEqual(shapeOf('ConvTranspose', [t([1, 1, 3, 3]), w([1, 2, 3, 3])], { strides: [2, 2], auto_pad: 'SAME_UPPER' }), [1, 2, 6, 6]);
    });
  });

  describe('pools', () => {
    it('MaxPool follows the window formula and gives int64 Indices', () => {
      const r = inferOne('MaxPool', [t([1, 64, 112, 112])], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, { outputs: 2 });
      assert.deepEqual(r.types[0]?.shape, [1, 64, 56, 56]);
      assert.deepEqual(r.types[1], { dtype: 'int64', shape: [1, 64, 56, 56] });
    });
    it('ceil_mode rounds up, but the last window must start inside the input', () => {
      assert.deepEqual(shapeOf('MaxPool', [t([1, 1, 32, 32])], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }), [1, 1, 16, 16]);
      assert.deepEqual(shapeOf('MaxPool', [t([1, 1, 32, 32])], { kernel_shape: [3, 3], strides: [2, 2] }), [1, 1, 15, 15]);
      // 6 + 1 + 1 - 2 = 6, ceil(6 / 2) + 1 = 4: the fourth window starts at 3 * 2 = 6 < 6 + 1, so it stays.
      assert.deepEqual(shapeOf('MaxPool', [t([1, 1, 6])], { kernel_shape: [2], strides: [2], pads: [1, 1], ceil_mode: 1 }), [1, 1, 4]);
      // 5 + 0 - 2 = 3, ceil(3 / 2) + 1 = 3: a third window would start at 4 < 5, so it stays.
      assert.deepEqual(shapeOf('AveragePool', [t([1, 1, 5])], { kernel_shape: [2], strides: [2], ceil_mode: 1 }), [1, 1, 3]);
      // 4 + 1 + 1 - 2 = 4, ceil(4 / 3) + 1 = 3, but the third window would start at 6 >= 4 + 1, so it is dropped.
      assert.deepEqual(shapeOf('AveragePool', [t([1, 1, 4])], { kernel_shape: [2], strides: [3], pads: [1, 1], ceil_mode: 1 }), [1, 1, 2]);
    });
    it('supports dilations and auto_pad', () => {
      assert.deepEqual(shapeOf('MaxPool', [t([1, 1, 10, 10])], { kernel_shape: [2, 2], dilations: [2, 2] }), [1, 1, 8, 8]);
      assert.deepEqual(shapeOf('AveragePool', [t([1, 1, 5, 5])], { kernel_shape: [2, 2], strides: [2, 2], auto_pad: 'SAME_UPPER' }), [1, 1, 3, 3]);
      assert.deepEqual(shapeOf('LpPool', [t([1, 1, 5, 5])], { kernel_shape: [2, 2], strides: [2, 2], auto_pad: 'VALID' }), [1, 1, 2, 2]);
    });
    it('global pools keep batch and channels and make every spatial axis 1', () => {
      assert.deepEqual(shapeOf('GlobalAveragePool', [t(['N', 512, 7, 7])]), ['N', 512, 1, 1]);
      assert.deepEqual(shapeOf('GlobalMaxPool', [t([2, 3, 4, 5, 6])]), [2, 3, 1, 1, 1]);
      assert.deepEqual(shapeOf('GlobalLpPool', [t([2, 3, 9])]), [2, 3, 1]);
    });
    it('MaxUnpool inverts the pooling window, or takes output_shape', () => {
      assert.deepEqual(shapeOf('MaxUnpool', [t([1, 1, 2, 2]), t([1, 1, 2, 2], 'int64')], { kernel_shape: [2, 2], strides: [2, 2] }), [1, 1, 4, 4]);
      assert.deepEqual(shapeOf('MaxUnpool', [t([1, 1, 2, 2]), t([1, 1, 2, 2], 'int64'), c([1, 1, 5, 5])], { kernel_shape: [2, 2], strides: [2, 2] }), [1, 1, 5, 5]);
    });
  });

  describe('quantised convolutions', () => {
    it('ConvInteger gives int32 and QLinearConv reads its weight at input 3', () => {
      assert.deepEqual(inferOne('ConvInteger', [t([1, 1, 5, 5], 'uint8'), t([1, 1, 3, 3], 'uint8')]).types[0], { dtype: 'int32', shape: [1, 1, 3, 3] });
      const q = inferOne('QLinearConv', [t([1, 1, 7, 7], 'uint8'), t([]), t([], 'uint8'), t([4, 1, 1, 1], 'uint8'), t([]), t([], 'uint8'), t([]), t([], 'uint8')]);
      assert.deepEqual(q.types[0], { dtype: 'uint8', shape: [1, 4, 7, 7] });
    });
  });
});
