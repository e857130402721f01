import { scaleLinear } from 'd3-scale';
import type { ProbeLayer } from '../../src/core/reports';
import { s } from '../dom';
import { formatValue } from '../../src/core/format';

/**
 * Mean and standard deviation of each layer's activations against depth (graph order): the lectures' "layer mean"
 * and "layer std" plots, where a collapse or an explosion across depth shows as a line heading to zero or up.
 */

export interface DepthChartOptions {
  onSelect?: (name: string) => void;
  width?: number;
  height?: number;
}

export function depthChart(layers: readonly ProbeLayer[], options: DepthChartOptions, doc: Document): SVGSVGElement {
  const width = options.width ?? 640;
  const height = options.height ?? 200;
  const margin = { left: 48, right: 12, top: 22, bottom: 22 };
  const svg = s(doc, 'svg', { class: 'chart probe-depth', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Activation mean and std against depth' });
  svg.appendChild(s(doc, 'text', { class: 'chart-title', x: 0, y: 14 }, 'Mean and std by layer'));
  if (layers.length === 0) return svg;
  const values = layers.flatMap((l) => [l.stats.mean, l.stats.std]);
  const lo = Math.min(0, ...values);
  const hi = Math.max(1e-12, ...values);
  const x = scaleLinear().domain([0, Math.max(1, layers.length - 1)]).range([margin.left, width - margin.right]);
  const y = scaleLinear().domain([lo, hi]).nice().range([height - margin.bottom, margin.top]);
  for (const t of y.ticks(4)) {
    svg.appendChild(s(doc, 'line', { class: 'grid-line', x1: margin.left, x2: width - margin.right, y1: y(t), y2: y(t) }));
    svg.appendChild(s(doc, 'text', { class: 'axis-label', x: margin.left - 6, y: y(t) + 4, 'text-anchor': 'end' }, formatValue(t)));
  }
  const series: { key: 'mean' | 'std'; cls: string }[] = [
    { key: 'mean', cls: 'series-mean' },
    { key: 'std', cls: 'series-std' },
  ];
  for (const { key, cls } of series) {
    const d = layers.map((l, i) => `${i === 0 ? 'M' : 'L'}${x(i)},${y(l.stats[key])}`).join('');
    svg.appendChild(s(doc, 'path', { class: `depth-line ${cls}`, d, fill: 'none' }));
    layers.forEach((l, i) => {
      const dot = s(doc, 'circle', { class: `depth-dot ${cls}`, cx: x(i), cy: y(l.stats[key]), r: 3, 'data-layer': l.name, 'data-value': l.stats[key] });
      dot.appendChild(s(doc, 'title', {}, `${l.name}: ${key} ${formatValue(l.stats[key])}`));
      if (options.onSelect) {
        const select = options.onSelect;
        dot.addEventListener('click', () => select(l.name));
      }
      svg.appendChild(dot);
    });
  }
  const legendX = width - margin.right - 120;
  svg.appendChild(s(doc, 'text', { class: 'legend series-mean', x: legendX, y: 14 }, '● mean'));
  svg.appendChild(s(doc, 'text', { class: 'legend series-std', x: legendX + 60, y: 14 }, '● std'));
  svg.appendChild(s(doc, 'text', { class: 'axis-label', x: margin.left, y: height - 4 }, 'first layer'));
  svg.appendChild(s(doc, 'text', { class: 'axis-label', x: width - margin.right, y: height - 4, 'text-anchor': 'end' }, 'last layer'));
  return svg;
}
