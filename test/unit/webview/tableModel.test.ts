import { strict as assert } from 'node:assert';
import { COLUMNS, filterRows, formatRf, sortRows, visibleRange } from '../../../webview/tableModel';
import { deeperBnConvNet } from './fixtures';

describe('webview/tableModel', () => {
  const { layers } = deeperBnConvNet();

  it('filters by name or op, case-insensitively', () => {
    const relu = filterRows(layers, 'relu');
    assert.equal(relu.length, 7);
    assert.ok(relu.every((i) => layers[i]!.op === 'Relu'));
    assert.deepEqual(filterRows(layers, 'net.3/'), [3]);
    assert.equal(filterRows(layers, '').length, layers.length);
  });

  it('sorts by every column in both directions', () => {
    const all = layers.map((_, i) => i);
    for (const column of COLUMNS) {
      const asc = sortRows(layers, all, { column: column.id, direction: 'ascending' });
      const desc = sortRows(layers, all, { column: column.id, direction: 'descending' });
      assert.equal(asc.length, layers.length);
      for (let i = 1; i < asc.length; i++) {
        const a = column.key(layers[asc[i - 1]!]!, asc[i - 1]!);
        const b = column.key(layers[asc[i]!]!, asc[i]!);
        if (typeof a === 'number' && typeof b === 'number') assert.ok(a <= b, `${column.id} ascending`);
        else assert.ok(String(a).localeCompare(String(b)) <= 0, `${column.id} ascending`);
      }
      const first = column.key(layers[desc[0]!]!, desc[0]!);
      const last = column.key(layers[asc[asc.length - 1]!]!, asc[asc.length - 1]!);
      assert.deepEqual(first, last, `${column.id}: descending starts where ascending ends`);
    }
  });

  it('sorts params numerically, not as text', () => {
    const sorted = sortRows(layers, layers.map((_, i) => i), { column: 'params', direction: 'descending' });
    const max = Math.max(...layers.map((l) => l.params));
    assert.equal(layers[sorted[0]!]!.params, max);
  });

  it('shows receptive fields compactly', () => {
    assert.equal(formatRf({ size: [7, 7], stride: [2, 2], start: [0, 0], global: false }), '7×7 /2×2');
    assert.equal(formatRf({ global: true }), 'global');
    assert.equal(formatRf(null), '');
  });

  it('computes the visible window with overscan, clamped to the rows', () => {
    assert.deepEqual(visibleRange(0, 220, 22, 20000, 5), { first: 0, last: 15 });
    assert.deepEqual(visibleRange(22 * 10000, 220, 22, 20000, 5), { first: 9995, last: 10015 });
    assert.deepEqual(visibleRange(22 * 19995, 220, 22, 20000, 5), { first: 19990, last: 19999 });
  });
});
