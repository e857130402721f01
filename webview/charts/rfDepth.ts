import { scaleLinear } from 'd3-scale';
import { s } from '../dom';
import type { DepthPoint } from '../receptiveField';

export interface RfDepthOptions {
  width?: number;
  height?: number;
  title?: string;
  /** A layer index to mark, usually the one picked in the explorer. */
  highlight?: number;
}

/**
 * Receptive-field size against depth: the lecture's "receptive fields grow over depth" figure. Pure: returns a
 * detached <svg> whose points carry their values as data attributes.
 */
export function rfDepthChart(points: readonly DepthPoint[], options: RfDepthOptions, doc: Document): SVGSVGElement {
  const width = options.width ?? 520;
  const height = options.height ?? 260;
  const m = { top: 44, right: 16, bottom: 36, left: 48 };
  const title = options.title ?? 'Receptive field size over depth';
  const svg = s(doc, 'svg', { class: 'chart rf-depth', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title });
  svg.appendChild(s(doc, 'text', { class: 'chart-title', x: 0, y: 14 }, title));
  if (points.length === 0) {
    svg.appendChild(s(doc, 'text', { class: 'chart-empty', x: width / 2, y: height / 2 }, 'No convolution or pooling layers'));
    return svg;
  }
  const x = scaleLinear()
    .domain([1, Math.max(2, points.length)])
    .range([m.left, width - m.right]);
  const y = scaleLinear()
    .domain([0, Math.max(...points.map((p) => p.size))])
    .nice()
    .range([height - m.bottom, m.top]);
  const axes = s(doc, 'g', { class: 'axis' });
  axes.appendChild(s(doc, 'line', { x1: m.left, x2: width - m.right, y1: height - m.bottom, y2: height - m.bottom }));
  axes.appendChild(s(doc, 'line', { x1: m.left, x2: m.left, y1: m.top, y2: height - m.bottom }));
  for (const t of y.ticks(5)) {
    axes.appendChild(s(doc, 'line', { class: 'tick', x1: m.left - 4, x2: m.left, y1: y(t), y2: y(t) }));
    axes.appendChild(s(doc, 'text', { class: 'tick-label y', x: m.left - 6, y: y(t) + 4 }, String(t)));
  }
  for (const t of x.ticks(Math.min(10, points.length)).filter(Number.isInteger)) {
    axes.appendChild(s(doc, 'text', { class: 'tick-label x', x: x(t), y: height - m.bottom + 14 }, String(t)));
  }
  axes.appendChild(s(doc, 'text', { class: 'axis-label', x: (m.left + width - m.right) / 2, y: height - 4 }, 'depth (conv / pool layers)'));
  axes.appendChild(s(doc, 'text', { class: 'axis-label', x: 4, y: m.top - 12 }, 'RF size (px)'));
  svg.appendChild(axes);
  const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.depth)},${y(p.size)}`).join('');
  svg.appendChild(s(doc, 'path', { class: 'rf-line', d }));
  for (const p of points) {
    svg.appendChild(
      s(
        doc,
        'circle',
        {
          class: p.layerIndex === options.highlight ? 'rf-point rf-highlight' : 'rf-point',
          cx: x(p.depth),
          cy: y(p.size),
          r: p.layerIndex === options.highlight ? 6 : 4,
          'data-depth': p.depth,
          'data-size': p.size,
          'data-layer': p.layerIndex,
        },
        s(doc, 'title', {}, `${p.name} (${p.op}): ${p.size}`),
      ),
    );
  }
  return svg;
}
