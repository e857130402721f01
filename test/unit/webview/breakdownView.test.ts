/// <reference lib="dom" />
import { strict as assert } from 'node:assert';
import { BreakdownView } from '../../../webview/breakdownView';
import { deeperBnConvNet, makeDocument } from './fixtures';

describe('webview/breakdownView', () => {
  it('charts params and MACs by scope, then by op', () => {
    const { document } = makeDocument();
    const summary = deeperBnConvNet();
    const view = new BreakdownView(document, summary.layers);
    const titles = () => [...view.element.querySelectorAll('.chart-title')].map((t) => t.textContent);
    assert.deepEqual(titles(), ['Parameters by scope (depth 1)', 'MACs by scope (depth 1)']);
    view.set('op', 1);
    assert.deepEqual(titles(), ['Parameters by op type', 'MACs by op type']);
    const macBars = [...view.element.querySelectorAll('svg.bar-chart')[1]!.querySelectorAll('g.bar')];
    // Ops without MACs are left out of the MACs chart.
    assert.deepEqual(macBars.map((b) => b.getAttribute('data-label')), ['Conv', 'Gemm']);
    const convMacs = summary.layers.filter((l) => l.op === 'Conv').reduce((a, l) => a + l.macs, 0);
    assert.equal(Number(macBars[0]!.getAttribute('data-value')), convMacs);
  });
});
