import { strict as assert } from 'node:assert';
import { formatBytes as cliFormatBytes } from '../../../src/cli/summaryFormat';
import { formatBytes, formatCompact, formatInt, formatShape } from '../../../webview/format';

describe('webview/format', () => {
  it('groups digits like torchinfo', () => {
    assert.equal(formatInt(11689512), '11,689,512');
    assert.equal(formatInt(0), '0');
    assert.equal(formatInt(-1234), '-1,234');
  });

  it('abbreviates large counts', () => {
    assert.equal(formatCompact(1814083944), '1.81 G');
    assert.equal(formatCompact(9472), '9.47 k');
    assert.equal(formatCompact(12), '12');
  });

  it('prints bytes in decimal units, as the CLI does (one formatter, core/format.ts)', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(46738848), '46.74 MB');
    assert.equal(formatBytes(1024), '1.02 kB');
    assert.equal(formatBytes(46738848), cliFormatBytes(46738848));
  });

  it('prints symbolic and unknown dimensions', () => {
    assert.equal(formatShape([1, 64, 112, 112]), '[1, 64, 112, 112]');
    assert.equal(formatShape(['N', 3, null]), '[N, 3, ?]');
    assert.equal(formatShape(null), '?');
  });
});
