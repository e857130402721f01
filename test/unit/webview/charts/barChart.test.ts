/// <reference lib="dom" />
import { strict as assert } from 'node:assert';
import { barChart } from '../../../../webview/charts/barChart';
import { makeDocument } from '../fixtures';

describe('webview/charts/barChart', () => {
  const items = [
    { label: 'layer4', value: 8_393_728, count: 12 },
    { label: 'layer3', value: 2_099_712, count: 12 },
    { label: 'fc', value: 513_000, count: 1 },
  ];

  it('draws one bar per item with lengths proportional to the values', () => {
    const { document } = makeDocument();
    const svg = barChart(items, { title: 'Parameters by scope', format: String, width: 600 }, document);
    assert.equal(svg.tagName, 'svg');
    assert.equal(svg.parentNode, null, 'returns a detached node');
    const bars = [...svg.querySelectorAll('g.bar')];
    assert.deepEqual(bars.map((b) => b.getAttribute('data-label')), ['layer4', 'layer3', 'fc']);
    const widths = bars.map((b) => Number(b.querySelector('rect')!.getAttribute('width')));
    assert.ok(Math.abs(widths[1]! / widths[0]! - 2_099_712 / 8_393_728) < 1e-9);
    assert.equal(svg.querySelector('.chart-title')!.textContent, 'Parameters by scope');
    assert.match(bars[0]!.querySelector('.bar-value')!.textContent!, /^8393728 \(76\.3%\)$/);
  });

  it('folds the tail into one bar', () => {
    const { document } = makeDocument();
    const many = Array.from({ length: 30 }, (_, i) => ({ label: `s${i}`, value: 30 - i, count: 1 }));
    const svg = barChart(many, { title: 't', format: String, maxBars: 10 }, document);
    const bars = [...svg.querySelectorAll('g.bar')];
    assert.equal(bars.length, 11);
    assert.equal(bars[10]!.getAttribute('data-label'), '(20 more)');
    assert.equal(Number(bars[10]!.getAttribute('data-value')), (20 * 21) / 2);
  });
});
