import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { summarizeModel } from '../../../src/core/analysis/summary';
import { readOnnxBytes } from '../../../src/core/onnx/reader';
import { csvField, markdownText, singleLineField, terminalText } from '../../../src/core/safeText';
import { formatSummary } from '../../../src/host/summaryExport';
import { RAW_UNSAFE, expectRefusal, expectSuccess, useSandbox } from './harness';
import { hostileNames } from './onnxBombs';

/**
 * Issue 11, classes 6, 7 and 10: names, op types, producers and paths from a hostile file reach the terminal, the
 * Markdown export, "Copy as Markdown" and the CSV export escaped, never raw.
 */

/** The cells of a Markdown table row, split on pipes that are not escaped. */
function markdownCells(row: string): string[] {
  return row
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

/** RFC 4180 records, enough to count rows and fields. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') record.push(field), (field = '');
    else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      (record = []), (field = ''), i++;
    } else field += c;
  }
  return records;
}

describe('hostile input: text in every output format', function () {
  this.timeout(120_000);
  const sandbox = useSandbox();

  it('the table output escapes ESC, BEL, CR, U+202E and C1 controls in names, ops, producer and warnings', () => {
    const file = sandbox().file('names.onnx', hostileNames());
    const r = expectSuccess(sandbox(), ['summary', file]);
    assert.match(r.stdout, /esc\\u001b\[2Jclear \(Relu\)/);
    assert.match(r.stdout, /bell\\u0007cr\\u000doverwrite/);
    assert.match(r.stdout, /rlo\\u202etxt\.exe/);
    assert.match(r.stdout, /new\\u000aline \(Relu\)/);
    assert.match(r.stdout, /producer prod\\u001b\[31mred\\u009b/);
    assert.match(r.stdout, /Input: {2}in\\u202eput/);
  });

  it('the JSON output stays valid JSON and carries the names exactly', () => {
    const file = sandbox().file('names.onnx', hostileNames());
    const r = expectSuccess(sandbox(), ['summary', file, '--json']);
    const json = JSON.parse(r.stdout) as { layers: Array<{ name: string }>; model: { producer: string } };
    assert.equal(json.layers[0].name, 'esc\u001b[2Jclear');
    assert.equal(json.layers[2].name, 'rlo\u202etxt.exe');
    assert.equal(json.model.producer, 'prod\u001b[31mred\u009b');
  });

  it('--markdown keeps every row at six columns and lets no HTML, link or line break through', () => {
    const file = sandbox().file('names.onnx', hostileNames());
    const r = expectSuccess(sandbox(), ['summary', file, '--markdown']);
    const rows = r.stdout.split('\n').filter((l) => l.startsWith('|'));
    const layerRows = rows.slice(2, 2 + 10);
    assert.equal(layerRows.length, 10);
    for (const row of layerRows) assert.equal(markdownCells(row).length, 6, row);
    assert.doesNotMatch(r.stdout, /<script|<img|<b>|(?<!\\)\]\(javascript:/);
    assert.match(r.stdout, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(r.stdout, /\[click\\\]\(javascript:alert\(1\)\)/);
    assert.match(r.stdout, /\| pipe\\\|cell\\\|break \|/);
    assert.match(r.stdout, /\| evil\.Op\\\|With&lt;b&gt;Pipe&lt;\/b&gt; \|/);
  });

  it('a path with a newline or escape keeps the Model: header on one line', () => {
    const dir = path.join(sandbox().inputs, 'two\nlines\u001b[2J');
    fs.mkdirSync(dir);
    const file = path.join(dir, 'm.onnx');
    fs.writeFileSync(file, hostileNames());
    const r = expectSuccess(sandbox(), ['summary', file]);
    const header = r.stdout.split('\n')[0];
    assert.match(header, /^Model: .*two\\u000alines\\u001b\[2J\/m\.onnx \(/);
    // On stderr the message is one line: the newline became a space, the escape is spelled out.
    expectRefusal(sandbox(), ['summary', path.join(dir, 'missing.onnx')], /two lines\\u001b\[2J\/missing\.onnx: no such file/);
  });

  it('an unknown command with control characters is escaped on stderr', () => {
    expectRefusal(sandbox(), ['sum\u001b]0;x\u0007mary'], /unknown command 'sum\\u001b\]0;x\\u0007mary'/);
  });

  it('Copy as Markdown and the CSV export escape the same way, CSV against formula injection too', () => {
    const summary = summarizeModel(readOnnxBytes(hostileNames()));
    const md = formatSummary(summary, 'markdown');
    assert.doesNotMatch(md, /<script|(?<!\\)\]\(javascript:/);
    assert.ok(!RAW_UNSAFE.test(md));
    const csv = formatSummary(summary, 'csv');
    // A header and ten layers of seven fields each: the name with a newline is quoted, so it does not start a record.
    const records = parseCsv(csv);
    assert.equal(records.length, 11);
    for (const r of records) assert.equal(r.length, 7);
    assert.equal(records[5][0], 'new\nline');
    assert.equal(records[9][0], `'=HYPERLINK("http://evil","x")`);
    assert.match(csv, /\r\n"'=HYPERLINK\(""http:\/\/evil"",""x""\)",Relu,/);
    assert.doesNotMatch(csv, /\r\n"?=/);
  });

  it('the escaping functions, one by one', () => {
    assert.equal(terminalText('a\u001b[31mb\u0007c\rd\u202ee\u009bf\u2066g\n\th'), 'a\\u001b[31mb\\u0007c\\u000dd\\u202ee\\u009bf\\u2066g\n\th');
    assert.equal(singleLineField('a\nb\tc'), 'a\\u000ab\\u0009c');
    assert.equal(markdownText('a|b<i>[x](y)*z_`'), 'a\\|b&lt;i&gt;[x\\](y)\\*z\\_\\`');
    assert.equal(markdownText('![i][r] [r]: javascript:x [1, 2]'), '![i\\][r] [r\\]: javascript:x [1, 2]');
    assert.equal(markdownText('x\ny'), 'x\\\\u000ay');
    for (const lead of ['=', '+', '-', '@', '\t', '\r']) assert.equal(csvField(`${lead}1+1`).replace(/^"/, '').startsWith(`'${lead}`), true, lead);
    assert.equal(csvField(-5), '-5');
    assert.equal(csvField('plain'), 'plain');
    // JSON that went through terminalText parses to the same value.
    const value = { s: 'x\u202ey\u007fz\u0085' };
    assert.deepEqual(JSON.parse(terminalText(JSON.stringify(value))), value);
  });
});
