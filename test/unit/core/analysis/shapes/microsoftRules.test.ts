import { strict as assert } from 'node:assert';
import { inferOne, shapeOf, t } from './helpers';

describe('shape rules: com.microsoft contrib ops', () => {
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
