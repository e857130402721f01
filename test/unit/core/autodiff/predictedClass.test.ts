import * as assert from 'node:assert/strict';
import { predictedClasses } from '../../../../src/core/autodiff/predictedClass';

/** The predicted-class target: argmax over the last axis, with PyTorch's tie and NaN rules (checked by hand here; the oracle test compares with torch.argmax on real models). */
describe('core: predicted class', () => {
  it('takes the argmax of each row over the last axis and keeps the leading dims', () => {
    const r = predictedClasses(Float32Array.from([0.1, 0.7, 0.2, 3, -1, 2]), [2, 3]);
    assert.deepEqual(r, { dims: [2], classes: [1, 0] });
    assert.deepEqual(predictedClasses([1, 5, 2, 4, 9, 0, 0, 0], [2, 2, 2]), { dims: [2, 2], classes: [1, 1, 0, 0] });
    assert.deepEqual(predictedClasses([2, 7, 1], [3]), { dims: [], classes: [1] });
  });

  it('gives the first of tied maxima, and a NaN wins as in torch.argmax', () => {
    assert.deepEqual(predictedClasses([4, 4, 1], [1, 3]).classes, [0]);
    assert.deepEqual(predictedClasses([1, NaN, 9, NaN], [1, 4]).classes, [1]);
    assert.deepEqual(predictedClasses([NaN, 9], [1, 2]).classes, [0]);
  });

  it('refuses an output with no class axis', () => {
    assert.throws(() => predictedClasses([1], []), /scalar/);
    assert.throws(() => predictedClasses([], [2, 0]), /no classes/);
  });
});
