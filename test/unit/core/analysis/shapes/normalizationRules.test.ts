import { strict as assert } from 'node:assert';
import { inferOne, shapeOf, t } from './helpers';

describe('shape rules: normalisation', () => {
  it('BatchNormalization keeps the shape; its statistics outputs are per channel', () => {
    const r = inferOne('BatchNormalization', [t(['N', 15, 16, 16]), t([15]), t([15]), t([15]), t([15])], { training_mode: 1 }, { outputs: 3, opset: 15 });
    assert.deepEqual(r.types.map((x) => x?.shape), [['N', 15, 16, 16], [15], [15]]);
  });
  it('BatchNormalization warns when the scale does not match the channels', () => {
    const r = inferOne('BatchNormalization', [t([1, 15, 4, 4]), t([16]), t([16]), t([16]), t([16])]);
    assert.equal(r.warnings[0].code, 'shape-mismatch');
  });
  it('LayerNormalization gives Mean and InvStdDev with the normalised axes set to 1', () => {
    const r = inferOne('LayerNormalization', [t(['B', 'S', 768]), t([768]), t([768])], { axis: -1 }, { outputs: 3 });
    assert.deepEqual(r.types[0]?.shape, ['B', 'S', 768]);
    assert.deepEqual(r.types[1], { dtype: 'float32', shape: ['B', 'S', 1] });
    assert.deepEqual(r.types[2]?.shape, ['B', 'S', 1]);
    const s = inferOne('LayerNormalization', [t([2, 3, 4, 5]), t([4, 5])], { axis: 2 }, { outputs: 2 });
    assert.deepEqual(s.types[1]?.shape, [2, 3, 1, 1]);
  });
  it('InstanceNormalization, GroupNormalization and LRN keep the shape', () => {
    assert.deepEqual(shapeOf('InstanceNormalization', [t([2, 8, 5, 5]), t([8]), t([8])]), [2, 8, 5, 5]);
    assert.deepEqual(shapeOf('GroupNormalization', [t([2, 8, 5, 5]), t([8]), t([8])], { num_groups: 4 }, { opset: 21 }), [2, 8, 5, 5]);
    assert.deepEqual(shapeOf('LRN', [t([1, 96, 55, 55])], { size: 5 }), [1, 96, 55, 55]);
  });
  it('GroupNormalization warns when channels do not divide into groups', () => {
    assert.equal(inferOne('GroupNormalization', [t([2, 6, 5]), t([6]), t([6])], { num_groups: 4 }, { opset: 21 }).warnings[0].code, 'shape-mismatch');
  });
});
