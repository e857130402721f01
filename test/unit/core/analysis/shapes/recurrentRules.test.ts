import { strict as assert } from 'node:assert';
import { inferOne, t } from './helpers';

describe('shape rules: recurrent', () => {
  it('LSTM gives Y, Y_h and Y_c for layout 0', () => {
    const r = inferOne('LSTM', [t(['S', 'N', 10]), t([1, 80, 10]), t([1, 80, 20])], { hidden_size: 20 }, { outputs: 3 });
    assert.deepEqual(r.types.map((x) => x?.shape), [['S', 1, 'N', 20], [1, 'N', 20], [1, 'N', 20]]);
  });
  it('bidirectional doubles the direction axis; layout 1 puts batch first', () => {
    const r = inferOne('LSTM', [t([4, 7, 10]), t([2, 80, 10]), t([2, 80, 20])], { hidden_size: 20, direction: 'bidirectional', layout: 1 }, { outputs: 3, opset: 14 });
    assert.deepEqual(r.types.map((x) => x?.shape), [[4, 7, 2, 20], [4, 2, 20], [4, 2, 20]]);
  });
  it('GRU and RNN take the hidden size from R when the attribute is missing', () => {
    const g = inferOne('GRU', [t([5, 3, 8]), t([1, 48, 8]), t([1, 48, 16])], {}, { outputs: 2 });
    assert.deepEqual(g.types.map((x) => x?.shape), [[5, 1, 3, 16], [1, 3, 16]]);
    const r = inferOne('RNN', [t([5, 3, 8]), t([1, 16, 8]), t([1, 16, 16])], { direction: 'reverse' }, { outputs: 2 });
    assert.deepEqual(r.types.map((x) => x?.shape), [[5, 1, 3, 16], [1, 3, 16]]);
  });
  it('warns when W disagrees with the direction', () => {
    assert.equal(inferOne('RNN', [t([5, 3, 8]), t([1, 16, 8]), t([1, 16, 16])], { direction: 'bidirectional' }).warnings[0].code, 'shape-mismatch');
  });
});
