import { strict as assert } from 'node:assert';
import { makeTensor } from '../../../../../src/core/ir/tensorData';
import { castNumber, foldBroadcast, toConstValue, valueFromTensor } from '../../../../../src/core/analysis/shapes/partialValue';

describe('shape partial values', () => {
  it('decodes small inline tensors and leaves large or file-backed ones alone', () => {
    assert.deepEqual(valueFromTensor(makeTensor('a', 'int64', [2], [3, -1]), 10), { dtype: 'int64', dims: [2], values: [3, -1] });
    assert.equal(valueFromTensor(makeTensor('b', 'float32', [20], new Array(20).fill(0)), 10), undefined);
    assert.equal(valueFromTensor({ name: 'c', dtype: 'int64', dims: [1], data: { kind: 'file', path: '/x', offset: 0, length: 8 } }, 10), undefined);
  });
  it('folds elementwise with numpy broadcasting', () => {
    const a = { dtype: 'int64' as const, dims: [2, 1], values: [1, 2] };
    const b = { dtype: 'int64' as const, dims: [3], values: [10, 20, 30] };
    assert.deepEqual(foldBroadcast([a, b], [2, 3], ([x, y]) => (x as number) + (y as number)), [11, 21, 31, 12, 22, 32]);
  });
  it('casts to the element type and keeps symbols out of constants', () => {
    assert.equal(castNumber(2.7, 'int32'), 2);
    assert.equal(castNumber(-2.7, 'int64'), -2);
    assert.equal(castNumber(5, 'bool'), 1);
    assert.equal(toConstValue({ dtype: 'int64', dims: [2], values: ['N', 3] }), undefined);
    assert.deepEqual(toConstValue({ dtype: 'int64', dims: [2], values: [1, 3] }), { dtype: 'int64', dims: [2], values: [1, 3] });
  });
});
