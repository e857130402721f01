import { strict as assert } from 'node:assert';
import { inferOne, t } from './helpers';

describe('shape rules: training optimisers', () => {
  it('training optimisers give each updated tensor its parameter shape', () => {
    const r = inferOne('Adagrad', [t([]), t([], 'int64'), t([3, 4]), t([5]), t([3, 4]), t([5]), t([3, 4]), t([5])], {}, { outputs: 4, domain: 'ai.onnx.preview.training' });
    assert.deepEqual(r.types.map((x) => x?.shape), [[3, 4], [5], [3, 4], [5]]);
    assert.deepEqual(r.warnings, []);
  });
});
