import { scaleLinear, scaleSymlog } from 'd3-scale';
import type { ProbeLayer } from '../../src/core/reports';
import { s } from '../dom';
import { formatPercent, formatValue } from '../../src/core/format';

/**
 * Per-layer activation histograms, in graph order: small multiples (one small chart per layer, each on its own x
 * range) or a ridgeline (every layer on one shared x axis, stacked by depth), which is how the lectures draw the
 * weight-initialisation figures. Pure: data and options in, a detached SVG out.
 */

export interface HistogramOptions {
  /** Called with the layer's node name when its chart is clicked. */
  onSelect?: (name: string) => void;
  /** Share one x range across all layers, so that a collapse towards zero is visible at a glance. */
  sharedX?: boolean;
  cellWidth?: number;
  cellHeight?: number;
  columns?: number;
  /** Heights on a logarithmic count axis (symmetric log, so that a count of 1 still shows), as TensorBoard offers. */
  logCounts?: boolean;
  /** Draw the counts without the exact zeros that the probe counted apart, and say what fraction they were. */
  excludeZeros?: boolean;
}

/** The series to draw: the counts, or the probe's counts without exact zeros where it computed them. */
function seriesOf(layer: ProbeLayer, options: HistogramOptions): number[] {
  return options.excludeZeros && layer.histogram.countsExcludingZeros ? layer.histogram.countsExcludingZeros : layer.histogram.counts;
}

/** A count scale from 0 to the series' peak onto [0, height]: linear, or symmetric log. */
function countScale(max: number, height: number, options: HistogramOptions): (c: number) => number {
  return (options.logCounts ? scaleSymlog() : scaleLinear()).domain([0, Math.max(1, max)]).range([0, height]);
}

/** "zeros 83%" for a layer whose exact zeros are left out of its drawn histogram; empty otherwise. */
function zeroNote(layer: ProbeLayer, options: HistogramOptions): string {
  if (!options.excludeZeros || !layer.histogram.countsExcludingZeros) return '';
  // One decimal, as `layerscope probe` prints the zero fraction.
  return `zeros ${formatPercent(layer.stats.fracZero)}`;
}

/** Average advance of an 11 px UI-font character, to fit labels into their space instead of letting them overlap. */
const CHAR_PX = 6.2;

/** The layer's name and op, cut at the front (the end of a scope path says most) to fit `px` pixels. */
function label(layer: ProbeLayer, px: number): string {
  const suffix = ` (${layer.op})`;
  const room = Math.max(4, Math.floor(px / CHAR_PX) - suffix.length);
  const name = layer.name.length > room ? `…${layer.name.slice(-(room - 1))}` : layer.name;
  return `${name}${suffix}`;
}

/** The shared x range: the union of every layer's histogram range. */
function unionRange(layers: readonly ProbeLayer[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const l of layers) {
    const e = l.histogram.edges;
    if (e.length < 2) continue;
    lo = Math.min(lo, e[0]!);
    hi = Math.max(hi, e[e.length - 1]!);
  }
  return Number.isFinite(lo) && hi > lo ? [lo, hi] : [-1, 1];
}

function bars(doc: Document, layer: ProbeLayer, x: (v: number) => number, height: number, options: HistogramOptions): SVGGElement {
  const { edges } = layer.histogram;
  const counts = seriesOf(layer, options);
  const y = countScale(Math.max(...counts), height, options);
  const g = s(doc, 'g', { class: 'hist-bars' });
  counts.forEach((c, i) => {
    if (c <= 0) return;
    const x0 = x(edges[i]!);
    const x1 = x(edges[i + 1]!);
    const h = Math.max(0.5, y(c));
    g.appendChild(s(doc, 'rect', { class: 'hist-bar', x: x0, y: height - h, width: Math.max(0.5, x1 - x0), height: h, 'data-count': c }));
  });
  return g;
}

function clickable(el: SVGElement, name: string, options: HistogramOptions): void {
  el.setAttribute('data-layer', name);
  el.setAttribute('tabindex', '0');
  el.setAttribute('role', 'button');
  if (!options.onSelect) return;
  const select = options.onSelect;
  el.addEventListener('click', () => select(name));
  el.addEventListener('keydown', (e) => {
    const key = (e as KeyboardEvent).key;
    if (key === 'Enter' || key === ' ') select(name);
  });
}

export function histogramSmallMultiples(layers: readonly ProbeLayer[], options: HistogramOptions, doc: Document): SVGSVGElement {
  const cw = options.cellWidth ?? 200;
  const ch = options.cellHeight ?? 96;
  const columns = Math.max(1, options.columns ?? 4);
  const rows = Math.ceil(layers.length / columns);
  const width = columns * cw;
  const height = Math.max(1, rows) * ch;
  const svg = s(doc, 'svg', { class: 'chart probe-histograms small-multiples', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Activation histograms per layer' });
  const shared = options.sharedX ? unionRange(layers) : null;
  // Title, then a row for the mean/std and the zero fraction, then the plot, then the x-axis ends: no two texts share
  // a line, whatever the cell width.
  const plotTop = 30;
  const plotBottom = 16;
  const plotH = ch - plotTop - plotBottom;
  layers.forEach((layer, i) => {
    const col = i % columns;
    const row = Math.floor(i / columns);
    const e = layer.histogram.edges;
    const domain: [number, number] = shared ?? [e[0] ?? 0, e[e.length - 1] ?? 1];
    const x = scaleLinear().domain(domain).range([6, cw - 8]);
    const cell = s(doc, 'g', { class: 'hist-cell', transform: `translate(${col * cw},${row * ch})` });
    cell.appendChild(s(doc, 'title', {}, `${layer.name} (${layer.op}): mean ${formatValue(layer.stats.mean)}, std ${formatValue(layer.stats.std)}`));
    cell.appendChild(s(doc, 'rect', { class: 'hist-frame', x: 0.5, y: 0.5, width: cw - 3, height: ch - 3, fill: 'none' }));
    cell.appendChild(s(doc, 'text', { class: 'hist-title', x: 6, y: 13 }, label(layer, cw - 12)));
    const plot = bars(doc, layer, x, plotH, options);
    const zeros = zeroNote(layer, options);
    cell.appendChild(s(doc, 'text', { class: 'hist-stat', x: 6, y: 26 }, `μ ${formatValue(layer.stats.mean)} σ ${formatValue(layer.stats.std)}`));
    if (zeros) cell.appendChild(s(doc, 'text', { class: 'hist-zeros', x: cw - 8, y: 26, 'text-anchor': 'end' }, zeros));
    plot.setAttribute('transform', `translate(0,${plotTop})`);
    cell.appendChild(plot);
    cell.appendChild(s(doc, 'text', { class: 'hist-axis', x: 6, y: ch - 5 }, formatValue(domain[0])));
    cell.appendChild(s(doc, 'text', { class: 'hist-axis', x: cw - 8, y: ch - 5, 'text-anchor': 'end' }, formatValue(domain[1])));
    clickable(cell, layer.name, options);
    svg.appendChild(cell);
  });
  return svg;
}

/**
 * A ridgeline: one row per layer, top to bottom in graph order, all on the shared x axis. Each row's curve is scaled to
 * its own peak, so that the shape of every distribution is visible even when one layer holds most of the mass.
 */
export function histogramRidgeline(layers: readonly ProbeLayer[], options: HistogramOptions, doc: Document): SVGSVGElement {
  const width = options.cellWidth ? options.cellWidth * 3 : 640;
  const rowH = options.cellHeight ? options.cellHeight / 3 : 30;
  // The labels take up to 220 px, and never more than 40% of a narrow chart.
  const labelW = Math.min(220, Math.floor(width * 0.4));
  const overlap = 1.6;
  const top = 8 + rowH * (overlap - 1);
  const height = top + layers.length * rowH + 24;
  const [lo, hi] = unionRange(layers);
  const x = scaleLinear().domain([lo, hi]).range([labelW, width - 10]);
  const svg = s(doc, 'svg', { class: 'chart probe-histograms ridgeline', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Activation histograms per layer (ridgeline)' });
  layers.forEach((layer, i) => {
    const base = top + (i + 1) * rowH;
    const { edges } = layer.histogram;
    const counts = seriesOf(layer, options);
    const amp = rowH * overlap;
    const height = countScale(Math.max(...counts), amp, options);
    let d = `M${x(edges[0] ?? lo)},${base}`;
    counts.forEach((c, j) => {
      const y = base - height(c);
      d += `L${x(edges[j]!)},${y}L${x(edges[j + 1]!)},${y}`;
    });
    d += `L${x(edges[edges.length - 1] ?? hi)},${base}Z`;
    const row = s(doc, 'g', { class: 'ridge-row' });
    row.appendChild(s(doc, 'title', {}, `${layer.name} (${layer.op}): mean ${formatValue(layer.stats.mean)}, std ${formatValue(layer.stats.std)}`));
    row.appendChild(s(doc, 'path', { class: 'ridge-area', d }));
    const zeros = zeroNote(layer, options);
    const room = labelW - 12 - (zeros ? (zeros.length + 3) * CHAR_PX : 0);
    row.appendChild(s(doc, 'text', { class: 'ridge-label', x: labelW - 8, y: base - 3, 'text-anchor': 'end' }, zeros ? `${label(layer, room)} · ${zeros}` : label(layer, room)));
    clickable(row, layer.name, options);
    svg.appendChild(row);
  });
  const axisY = top + layers.length * rowH + 16;
  svg.appendChild(s(doc, 'text', { class: 'hist-axis', x: labelW, y: axisY }, formatValue(lo)));
  svg.appendChild(s(doc, 'text', { class: 'hist-axis', x: width - 10, y: axisY, 'text-anchor': 'end' }, formatValue(hi)));
  if (lo < 0 && hi > 0) svg.appendChild(s(doc, 'line', { class: 'ridge-zero', x1: x(0), x2: x(0), y1: 4, y2: axisY - 10 }));
  return svg;
}
