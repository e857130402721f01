import type { LayerSummary } from '../src/core/analysis/types';
import { barChart } from './charts/barChart';
import { clear, controlValue, h, layoutWidth, onWidthChange } from './dom';
import { formatScaled } from '../src/core/format';
import { breakdown } from '../src/core/analysis/scopes';
import type { BreakdownMetric } from '../src/core/analysis/scopes';

/**
 * Parameters and MACs by scope and by op, as sorted bar charts. The controls pick the grouping and the scope depth;
 * the sums are of the core's per-layer numbers.
 */
export class BreakdownView {
  readonly element: HTMLElement;
  private readonly charts: HTMLElement;
  private groupBy: 'scope' | 'op' = 'scope';
  private depth = 1;

  constructor(
    private readonly doc: Document,
    private readonly layers: readonly LayerSummary[],
  ) {
    const group = h(doc, 'vscode-single-select', { 'aria-label': 'Group by', class: 'bd-group' });
    group.append(h(doc, 'vscode-option', { value: 'scope' }, 'by scope'), h(doc, 'vscode-option', { value: 'op' }, 'by op type'));
    group.addEventListener('change', () => this.set(controlValue(group) === 'op' ? 'op' : 'scope', this.depth));
    const depth = h(doc, 'vscode-single-select', { 'aria-label': 'Scope depth', class: 'bd-depth' });
    for (let d = 1; d <= 4; d++) depth.appendChild(h(doc, 'vscode-option', { value: d }, `depth ${d}`));
    depth.addEventListener('change', () => this.set(this.groupBy, Number(controlValue(depth)) || 1));
    this.charts = h(doc, 'div', { class: 'bd-charts' });
    this.element = h(
      doc,
      'section',
      { class: 'breakdown', 'aria-label': 'Parameter breakdown' },
      h(doc, 'div', { class: 'bd-controls' }, h(doc, 'label', {}, 'Group '), group, depth),
      this.charts,
    );
    this.render();
    // Laid out again for a new width, so that labels keep their size instead of shrinking with the chart.
    onWidthChange(this.charts, () => this.render());
  }

  set(groupBy: 'scope' | 'op', depth: number): void {
    this.groupBy = groupBy;
    this.depth = depth;
    this.render();
  }

  private render(): void {
    // Two charts side by side when there is room for both at a readable width, else one under the other.
    const available = layoutWidth(this.charts, 1296);
    const width = available >= 900 ? Math.floor((available - 16) / 2) : Math.max(320, available);
    clear(this.charts);
    const metrics: [BreakdownMetric, string][] = [
      ['params', 'Parameters'],
      ['macs', 'MACs'],
    ];
    for (const [metric, title] of metrics) {
      const items = breakdown(this.layers, this.groupBy, metric, this.depth).filter((item) => item.value > 0);
      const by = this.groupBy === 'op' ? 'op type' : `scope (depth ${this.depth})`;
      this.charts.appendChild(barChart(items, { title: `${title} by ${by}`, format: (n) => formatScaled(n), width }, this.doc));
    }
  }
}
