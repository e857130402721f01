import { strict as assert } from 'node:assert';
import { inferOne, shapeOf, t } from './helpers';

describe('shape rules: losses', () => {
  it('losses are scalars unless reduction is none', () => {
    assert.deepEqual(shapeOf('SoftmaxCrossEntropyLoss', [t(['N', 10]), t(['N'], 'int64')], {}, { opset: 13 }), []);
    const r = inferOne('SoftmaxCrossEntropyLoss', [t(['N', 10, 5]), t(['N', 5], 'int64')], { reduction: 'none' }, { opset: 13, outputs: 2 });
    assert.deepEqual(r.types.map((x) => x?.shape), [['N', 5], ['N', 10, 5]]);
    assert.deepEqual(shapeOf('NegativeLogLikelihoodLoss', [t([3, 5]), t([3], 'int64')], { reduction: 'none' }, { opset: 13 }), [3]);
  });
});
