import { strict as assert } from 'node:assert';
import { c, inferOne, shapeOf, t } from './helpers';

describe('shape rules: signal processing', () => {
  it('signal ops take sizes from their scalar inputs', () => {
    assert.deepEqual(inferOne('HannWindow', [c([10], 'int64', [])], {}, { opset: 17 }).types[0], { dtype: 'float32', shape: [10] });
    assert.deepEqual(shapeOf('DFT', [t([3, 5, 1])], { onesided: 1 }, { opset: 17 }), [3, 3, 2]);
    assert.deepEqual(shapeOf('DFT', [t([3, 5, 2]), c([8], 'int64', [])], {}, { opset: 17 }), [3, 8, 2]);
    assert.deepEqual(shapeOf('STFT', [t([1, 128, 1]), c([8], 'int64', []), t([16])], {}, { opset: 17 }), [1, 15, 9, 2]);
    assert.deepEqual(shapeOf('MelWeightMatrix', [c([8], 'int64', []), c([16], 'int64', []), c([8000], 'int64', []), c([0], 'float32', []), c([4000], 'float32', [])], {}, { opset: 17 }), [9, 8]);
    assert.deepEqual(shapeOf('TfIdfVectorizer', [t([2, 6], 'int32')], { ngram_indexes: [0, 1, 2, 3, 4, 5, 6] }, { opset: 9 }), [2, 7]);
  });
});
