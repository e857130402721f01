import { strict as assert } from 'node:assert';
import { c, inferOne, shapeOf, t } from './helpers';

describe('shape rules: detection, sampling, losses and contrib ops', () => {
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
  it('losses are scalars unless reduction is none', () => {
    assert.deepEqual(shapeOf('SoftmaxCrossEntropyLoss', [t(['N', 10]), t(['N'], 'int64')], {}, { opset: 13 }), []);
    const r = inferOne('SoftmaxCrossEntropyLoss', [t(['N', 10, 5]), t(['N', 5], 'int64')], { reduction: 'none' }, { opset: 13, outputs: 2 });
    assert.deepEqual(r.types.map((x) => x?.shape), [['N', 5], ['N', 10, 5]]);
    assert.deepEqual(shapeOf('NegativeLogLikelihoodLoss', [t([3, 5]), t([3], 'int64')], { reduction: 'none' }, { opset: 13 }), [3]);
  });
  it('ConvInteger gives int32 and QLinearConv reads its weight at input 3', () => {
    assert.deepEqual(inferOne('ConvInteger', [t([1, 1, 5, 5], 'uint8'), t([1, 1, 3, 3], 'uint8')]).types[0], { dtype: 'int32', shape: [1, 1, 3, 3] });
    const q = inferOne('QLinearConv', [t([1, 1, 7, 7], 'uint8'), t([]), t([], 'uint8'), t([4, 1, 1, 1], 'uint8'), t([]), t([], 'uint8'), t([]), t([], 'uint8')]);
    assert.deepEqual(q.types[0], { dtype: 'uint8', shape: [1, 4, 7, 7] });
  });
  it('signal ops take sizes from their scalar inputs', () => {
    assert.deepEqual(inferOne('HannWindow', [c([10], 'int64', [])], {}, { opset: 17 }).types[0], { dtype: 'float32', shape: [10] });
    assert.deepEqual(shapeOf('DFT', [t([3, 5, 1])], { onesided: 1 }, { opset: 17 }), [3, 3, 2]);
    assert.deepEqual(shapeOf('DFT', [t([3, 5, 2]), c([8], 'int64', [])], {}, { opset: 17 }), [3, 8, 2]);
    assert.deepEqual(shapeOf('STFT', [t([1, 128, 1]), c([8], 'int64', []), t([16])], {}, { opset: 17 }), [1, 15, 9, 2]);
    assert.deepEqual(shapeOf('MelWeightMatrix', [c([8], 'int64', []), c([16], 'int64', []), c([8000], 'int64', []), c([0], 'float32', []), c([4000], 'float32', [])], {}, { opset: 17 }), [9, 8]);
    assert.deepEqual(shapeOf('TfIdfVectorizer', [t([2, 6], 'int32')], { ngram_indexes: [0, 1, 2, 3, 4, 5, 6] }, { opset: 9 }), [2, 7]);
  });
  it('training optimisers give each updated tensor its parameter shape', () => {
    const r = inferOne('Adagrad', [t([]), t([], 'int64'), t([3, 4]), t([5]), t([3, 4]), t([5]), t([3, 4]), t([5])], {}, { outputs: 4, domain: 'ai.onnx.preview.training' });
    assert.deepEqual(r.types.map((x) => x?.shape), [[3, 4], [5], [3, 4], [5]]);
    assert.deepEqual(r.warnings, []);
  });
  it('Attention (opset 23) with 4-D and 3-D inputs, and its present key and value', () => {
    const r = inferOne('Attention', [t(['B', 8, 'S', 64]), t(['B', 2, 'S', 64]), t(['B', 2, 'S', 32]), null, t(['B', 2, 'P', 64]), t(['B', 2, 'P', 32])], {}, { opset: 23, outputs: 3 });
    assert.deepEqual(r.types.map((x) => x?.shape), [['B', 8, 'S', 32], ['B', 2, null, 64], ['B', 2, null, 32]]);
    assert.deepEqual(shapeOf('Attention', [t([2, 10, 512]), t([2, 12, 128]), t([2, 12, 128])], { q_num_heads: 8, kv_num_heads: 2 }, { opset: 23 }), [2, 10, 512]);
    assert.deepEqual(shapeOf('RotaryEmbedding', [t(['B', 'S', 8, 64]), t(['B', 'S'], 'int64')], {}, { opset: 23 }), ['B', 'S', 8, 64]);
  });
  it('CenterCropPad, AffineGrid and Col2Im take sizes from constant inputs', () => {
    assert.deepEqual(shapeOf('CenterCropPad', [t([20, 10, 3]), c([10, 7])], { axes: [0, 1] }, { opset: 18 }), [10, 7, 3]);
    assert.deepEqual(shapeOf('AffineGrid', [t([2, 2, 3]), c([2, 3, 5, 6])], {}, { opset: 20 }), [2, 5, 6, 2]);
    assert.deepEqual(shapeOf('Col2Im', [t([1, 18, 25]), c([5, 5]), c([3, 3])], {}, { opset: 18 }), [1, 2, 5, 5]);
  });
  it('knows a few com.microsoft contrib ops', () => {
    const ms = { domain: 'com.microsoft' };
    const r = inferOne('FastGelu', [t(['B', 'S', 768])], {}, ms);
    assert.deepEqual(r.types[0]?.shape, ['B', 'S', 768]);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(shapeOf('FusedMatMul', [t([2, 5, 3]), t([2, 4, 5])], { transA: 1, transB: 1 }, ms), [2, 3, 4]);
    assert.deepEqual(shapeOf('Attention', [t(['B', 'S', 768]), t([768, 2304]), t([2304])], { num_heads: 12 }, ms), ['B', 'S', 768]);
    assert.deepEqual(shapeOf('QLinearAdd', [t([1, 8, 4, 4], 'uint8'), t([]), t([], 'uint8'), t([8, 1, 1], 'uint8')], {}, ms), [1, 8, 4, 4]);
    assert.deepEqual(shapeOf('MatMulNBits', [t(['B', 'S', 4096]), t([11008, 128, 16], 'uint8'), t([11008 * 128])], { N: 11008, K: 4096 }, ms), ['B', 'S', 11008]);
    assert.deepEqual(shapeOf('FusedConv', [t([1, 3, 8, 8]), t([4, 3, 3, 3])], { activation: 'Relu' }, ms), [1, 4, 6, 6]);
    assert.equal(inferOne('NoSuchContribOp', [t([1])], {}, ms).warnings[0].code, 'unknown-op');
  });
});
