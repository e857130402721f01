/// <reference lib="dom" />
import { strict as assert } from 'node:assert';
import { renderHeader } from '../../../webview/header';
import { deeperBnConvNet, makeDocument } from './fixtures';

describe('webview/header', () => {
  it('shows the model facts, its inputs and outputs, and every total', () => {
    const { document } = makeDocument();
    const summary = deeperBnConvNet();
    summary.memory = { inputBytes: 12288, forwardBackwardBytes: 2_000_000, paramBytes: 1_047_400, estimatedTotalBytes: 3_059_688, paramBytesByDtype: { float32: 1_047_400 } };
    summary.model!.metadata = { author: 'lecture' };
    const header = renderHeader(document, summary, 'DeeperBNConvNet');
    assert.equal(header.parentNode, null);
    assert.match(header.querySelector('.hd-facts')!.textContent!, /producer pytorch · opset 13 · IR v8 · 24 layers/);
    const io = [...header.querySelectorAll('.hd-io li')].map((li) => li.textContent);
    assert.deepEqual(io, ['input [1, 3, 32, 32] float32', 'output [1, 10] float32']);
    const keys = [...header.querySelectorAll('.hd-stat')].map((s) => s.getAttribute('data-key'));
    assert.deepEqual(keys, ['params', 'trainableParams', 'nonTrainableParams', 'macs', 'paramBytes', 'activationBytes', 'estimatedTotalBytes']);
    const total = header.querySelector('.hd-stat[data-key="estimatedTotalBytes"] .hd-stat-value')!.textContent;
    assert.equal(total, '3.06 MB');
    assert.equal(header.querySelector('.hd-metadata dd')!.textContent, 'lecture');
    assert.equal(header.querySelector('.hd-warnings')!.getAttribute('heading'), 'Warnings (1)');
  });

  it('lists the modules of a PyTorch source file', () => {
    const { document } = makeDocument();
    const summary = deeperBnConvNet();
    summary.format = 'python';
    summary.modules = [
      { name: 'Net', line: 12, params: 17020, layers: [{ name: 'net.0', line: 15, type: 'Conv2d', params: 420, outputShape: [1, 15, 32, 32] }] },
      { name: 'Head', line: 40, params: null, layers: [] },
    ];
    const items = [...renderHeader(document, summary, 'Net').querySelectorAll('.hd-modules li')].map((li) => li.textContent);
    assert.deepEqual(items, ['Net line 12: 17,020 params, 1 layers', 'Head line 40: params unknown, 0 layers']);
  });

  it('leaves the warnings box out when there are none', () => {
    const { document } = makeDocument();
    const summary = deeperBnConvNet();
    summary.warnings = [];
    assert.equal(renderHeader(document, summary, 't').querySelector('.hd-warnings'), null);
  });
});
