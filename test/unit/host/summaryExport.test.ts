import * as assert from 'node:assert/strict';
import { formatSummaryJson, formatSummaryMarkdown } from '../../../src/cli/summaryFormat';
import type { ModelSummary } from '../../../src/core/analysis/types';
import { csvField, EXPORT_EXTENSIONS, formatSummary, formatSummaryCsv } from '../../../src/host/summaryExport';

function summary(): ModelSummary {
  return {
    format: 'onnx',
    opset: 13,
    inputs: [{ name: 'input', shape: ['N', 3, 8, 8], dtype: 'float32' }],
    outputs: [{ name: 'out', shape: ['N', 4, 8, 8], dtype: 'float32' }],
    totals: { params: 112, trainableParams: 112, nonTrainableParams: 0, macs: 6912, paramBytes: 448, activationBytes: 2048 },
    layers: [
      {
        name: 'conv, "first"',
        op: 'Conv',
        inputs: ['input', 'w', 'b'],
        outputs: [{ name: 'y', shape: ['N', 4, 8, 8] }],
        params: 112,
        macs: 6912,
        receptiveField: { size: [3, 3], stride: [1, 1], start: [-1, -1], global: false },
        activationBytes: 1024,
      },
      {
        name: '<img src=x onerror=alert(1)>',
        op: 'Relu',
        inputs: ['y'],
        outputs: [{ name: 'out', shape: ['N', 4, 8, 8] }],
        params: 0,
        macs: 0,
        receptiveField: { size: [3, 3], stride: [1, 1], start: [-1, -1], global: false },
        activationBytes: 1024,
      },
    ],
    warnings: [],
  };
}

/** A small RFC 4180 reader, so the test checks what a spreadsheet would read rather than the exact bytes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

describe('host/summaryExport', () => {
  it('quotes CSV fields only when they need it', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField(42), '42');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
  });

  it('writes one CSV row per layer that reads back to the same names and numbers', () => {
    const rows = parseCsv(formatSummaryCsv(summary()));
    assert.equal(rows.length, 3);
    assert.deepEqual(rows[0], ['name', 'op', 'output_shape', 'params', 'macs', 'activation_bytes', 'receptive_field']);
    assert.equal(rows[1]![0], 'conv, "first"');
    assert.equal(rows[1]![3], '112');
    assert.equal(rows[1]![4], '6912');
    assert.equal(rows[2]![0], '<img src=x onerror=alert(1)>');
    assert.equal(rows[2]![1], 'Relu');
    assert.ok(rows.every((r) => r.length === 7));
  });

  it('uses the CLI printers for JSON and Markdown', () => {
    const s = summary();
    assert.equal(formatSummary(s, 'json'), formatSummaryJson(s));
    assert.deepEqual(JSON.parse(formatSummary(s, 'json')).totals, s.totals);
    assert.equal(formatSummary(s, 'markdown'), formatSummaryMarkdown(s));
    assert.equal(formatSummary(s, 'csv'), formatSummaryCsv(s));
    assert.deepEqual(EXPORT_EXTENSIONS, { markdown: 'md', json: 'json', csv: 'csv' });
  });
});
