import { scaleLinear } from 'd3-scale';
import { s } from '../dom';
import type { BreakdownItem } from '../../src/core/analysis/scopes';
import { formatPercent } from '../../src/core/format';

export interface BarChartOptions {
  title: string;
  /** Formats a value for its label. */
  format: (value: number) => string;
  /** Bars beyond this are summed into one "other" bar. */
  maxBars?: number;
  width?: number;
  barHeight?: number;
}

/**
 * A sorted horizontal bar chart, for parameters and MACs by scope or by op. Pure: everything comes in as arguments
 * and a detached <svg> comes out. Labels are text nodes, so names with markup stay text.
 */
export function barChart(items: readonly BreakdownItem[], options: BarChartOptions, doc: Document): SVGSVGElement {
  const width = options.width ?? 640;
  const barHeight = options.barHeight ?? 20;
  const maxBars = options.maxBars ?? 20;
  const shown = items.slice(0, maxBars).map((item) => ({ ...item }));
  if (items.length > maxBars) {
    const rest = items.slice(maxBars);
    shown.push({
      label: `(${rest.length} more)`,
      value: rest.reduce((a, b) => a + b.value, 0),
      count: rest.reduce((a, b) => a + b.count, 0),
    });
  }
  const total = items.reduce((a, b) => a + b.value, 0);
  const labelWidth = Math.min(260, Math.max(80, ...shown.map((item) => item.label.length * 6.6 + 12)));
  const valueWidth = 120;
  const top = 24;
  const height = top + shown.length * barHeight + 8;
  const x = scaleLinear()
    .domain([0, Math.max(1, ...shown.map((item) => item.value))])
    .range([0, Math.max(10, width - labelWidth - valueWidth)]);
  const svg = s(doc, 'svg', {
    class: 'chart bar-chart',
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': options.title,
  });
  svg.appendChild(s(doc, 'text', { class: 'chart-title', x: 0, y: 14 }, options.title));
  shown.forEach((item, i) => {
    const y = top + i * barHeight;
    const share = total > 0 ? item.value / total : 0;
    const label = item.label.length > 40 ? `…${item.label.slice(-39)}` : item.label;
    svg.appendChild(
      s(
        doc,
        'g',
        { class: 'bar', 'data-label': item.label, 'data-value': item.value, transform: `translate(0,${y})` },
        s(doc, 'text', { class: 'bar-label', x: labelWidth - 6, y: barHeight * 0.7 }, label),
        s(doc, 'rect', { x: labelWidth, y: 2, width: Math.max(item.value > 0 ? 1 : 0, x(item.value)), height: barHeight - 4 }),
        s(
          doc,
          'text',
          { class: 'bar-value', x: labelWidth + x(item.value) + 6, y: barHeight * 0.7 },
          `${options.format(item.value)} (${formatPercent(share)})`,
        ),
        s(doc, 'title', {}, `${item.label}: ${options.format(item.value)}, ${item.count} layer${item.count === 1 ? '' : 's'}`),
      ),
    );
  });
  return svg;
}
