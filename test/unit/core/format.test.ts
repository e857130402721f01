import { strict as assert } from 'node:assert';
import { formatBytes, formatCount, formatDuration, formatPercent, formatScaled, formatShape, formatValue } from '../../../src/core/format';

/**
 * core/format.ts is the one place numbers are formatted for every view (CLI, exports, inspector, lenses); the webview
 * and the CLI used to print the same count as 11.7 M and 11.69 M.
 */
describe('core/format', () => {
  it('groups digits like torchinfo', () => {
    assert.equal(formatCount(11689512), '11,689,512');
    assert.equal(formatCount(0), '0');
    assert.equal(formatCount(-1234), '-1,234');
    assert.equal(formatCount(null), '?');
  });

  it('shortens counts to three significant digits with an SI prefix, as model zoos print sizes', () => {
    assert.equal(formatScaled(11689512), '11.7 M');
    assert.equal(formatScaled(1814083944), '1.81 G');
    assert.equal(formatScaled(138357544), '138 M');
    assert.equal(formatScaled(9472), '9.47 k');
    assert.equal(formatScaled(2_000_000), '2 M');
    assert.equal(formatScaled(1_760_000, 'MACs'), '1.76 MMACs');
    assert.equal(formatScaled(12), '12');
    assert.equal(formatScaled(999), '999');
    assert.equal(formatScaled(null), '?');
  });

  it('moves to the next prefix when rounding reaches 1,000', () => {
    assert.equal(formatScaled(999_999), '1 M');
    assert.equal(formatScaled(999_499), '999 k');
    assert.equal(formatScaled(999_950_000), '1 G');
  });

  it('prints bytes in decimal units by the same rule', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(46738848), '46.7 MB');
    assert.equal(formatBytes(1024), '1.02 kB');
    assert.equal(formatBytes(null), '?');
  });

  it('prints measured values in plain notation between 1e-3 and 1e4 and scientific outside', () => {
    assert.equal(formatValue(0), '0');
    assert.equal(formatValue(0.012345), '0.0123');
    assert.equal(formatValue(42.149), '42.1');
    assert.equal(formatValue(-2.5), '-2.5');
    assert.equal(formatValue(1.2345e-5), '1.23e-5');
    assert.equal(formatValue(3.4e6), '3.4e+6');
    assert.equal(formatValue(1234.5678, 4), '1235');
    assert.equal(formatValue(Number.NaN), 'NaN');
  });

  it('prints percentages and durations', () => {
    assert.equal(formatPercent(0.4567), '45.7%');
    assert.equal(formatPercent(0), '0.0%');
    assert.equal(formatDuration(0.4213), '0.421 ms');
    assert.equal(formatDuration(12.34), '12.3 ms');
    assert.equal(formatDuration(1234), '1.23 s');
    assert.equal(formatDuration(144_000), '144 s');
  });

  it('prints symbolic and unknown dimensions', () => {
    assert.equal(formatShape([1, 64, 112, 112]), '[1, 64, 112, 112]');
    assert.equal(formatShape(['N', 3, null]), '[N, 3, ?]');
    assert.equal(formatShape(null), '?');
  });
});
