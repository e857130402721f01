import { strict as assert } from 'node:assert';
import { inferOne, shapeOf, t } from './helpers';

describe('shape rules: fused attention', () => {
  it('Attention (opset 23) with 4-D and 3-D inputs, and its present key and value', () => {
    const r = inferOne('Attention', [t(['B', 8, 'S', 64]), t(['B', 2, 'S', 64]), t(['B', 2, 'S', 32]), null, t(['B', 2, 'P', 64]), t(['B', 2, 'P', 32])], {}, { opset: 23, outputs: 3 });
    assert.deepEqual(r.types.map((x) => x?.shape), [['B', 8, 'S', 32], ['B', 2, null, 64], ['B', 2, null, 32]]);
    assert.deepEqual(shapeOf('Attention', [t([2, 10, 512]), t([2, 12, 128]), t([2, 12, 128])], { q_num_heads: 8, kv_num_heads: 2 }, { opset: 23 }), [2, 10, 512]);
    assert.deepEqual(shapeOf('RotaryEmbedding', [t(['B', 'S', 8, 64]), t(['B', 'S'], 'int64')], {}, { opset: 23 }), ['B', 'S', 8, 64]);
  });
});
