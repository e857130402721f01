import * as assert from 'node:assert/strict';
import { formatReceptiveField, formatScaled, formatShape, formatSummaryJson, formatSummaryMarkdown, formatSummaryTable } from '../../../src/cli/summaryFormat';
import type { ModelSummary } from '../../../src/core/analysis/types';

function summary(): ModelSummary {
  return {
    format: 'onnx',
    opset: 13,
    inputs: [{ name: 'input', shape: ['N', 3, 8, 8], dtype: 'float32' }],
    outputs: [{ name: 'out', shape: ['N', 2], dtype: 'float32' }],
    totals: { params: 1234567, trainableParams: 1234000, nonTrainableParams: 567, macs: 2500000000, paramBytes: 4938268, activationBytes: 100 },
    layers: [
      {
        name: 'a|b',
        op: 'Conv',
        inputs: ['input'],
        outputs: [{ name: 'y', shape: ['N', 4, 8, 8] }],
        params: 1234567,
        macs: 2500000000,
        receptiveField: { size: [3, 3], stride: [1, 1], start: [0, 0], global: false },
        activationBytes: 100,
      },
    ],
    warnings: ['something odd'],
  };
}

describe('cli/summaryFormat', () => {
  it('formats shapes, scaled counts and receptive fields', () => {
    assert.equal(formatShape(['N', 3, null]), '[N, 3, ?]');
    assert.equal(formatShape(null), '?');
    assert.equal(formatScaled(1814083944), '1.81 G');
    assert.equal(formatScaled(999), '999');
    assert.equal(formatReceptiveField({ size: [7, 7], stride: [2, 2], start: [0, 0], global: false }), '7x7 /2x2 @0,0');
    assert.equal(formatReceptiveField({ global: true }), 'global');
    assert.equal(formatReceptiveField(null), '-');
  });

  it('the table has the layer row, the totals and the warnings', () => {
    const text = formatSummaryTable(summary());
    assert.match(text, /a\|b \(Conv\)\s+\[N, 4, 8, 8\]\s+1,234,567\s+2,500,000,000\s+3x3 \/1x1 @0,0/);
    assert.match(text, /Total params: 1,234,567/);
    assert.match(text, /Non-trainable params: 567/);
    assert.match(text, /Total MACs: 2,500,000,000 \(2.5 G\)/);
    assert.match(text, /  - something odd/);
  });

  it('markdown escapes pipes inside cells', () => {
    const text = formatSummaryMarkdown(summary());
    assert.ok(text.includes('| a\\|b | Conv | [N, 4, 8, 8] | 1,234,567 | 2,500,000,000 | 3x3 /1x1 @0,0 |'), text);
  });

  it('JSON is the summary object itself', () => {
    assert.deepEqual(JSON.parse(formatSummaryJson(summary())), summary());
  });
});
