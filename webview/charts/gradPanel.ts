import { scaleLinear, scaleLog } from 'd3-scale';
import type { GradParam, GradReport, Histogram } from '../../src/core/reports';
import { clear, controlValue, h, layoutWidth, onWidthChange, s } from '../dom';
import type { PanelFactory, PanelHost, ResultPanel } from '../panels';
import { formatDuration, formatValue as num } from '../../src/core/format';

/**
 * The gradient-flow panel: per-parameter gradient norms on a log scale in graph order with the vanishing and
 * exploding bands marked, the gradient histograms, the numerical check against the lectures' thresholds, and the
 * saliency map of an image input. `renderGradPanel` is the pure chart (report, options, document) → detached element;
 * `createGradPanel` is the factory the inspector shell mounts (webview/panels.ts). Every number drawn comes from the
 * report; nothing is computed here beyond scales.
 */

export interface GradPanelOptions {
  /** Bar metric: the gradient's L2 norm, or the update ratio lr*|g|/|w|. */
  metric?: 'l2' | 'ratio';
  /** The band limits core computed (GradReport.bands); without them no band is drawn. */
  bands?: GradReport['bands'];
  /** The input image as a data: URL, drawn under the saliency map. */
  imageHref?: string;
  onSelectParam?: (name: string) => void;
  width?: number;
}

/** The bar's value: the gradient norm, or the update ratio lr*|g|/|w| that core computed. */
function metricOf(p: GradParam, metric: 'l2' | 'ratio'): number {
  return metric === 'ratio' ? (p.updateRatio ?? 0) : p.l2;
}

/**
 * Horizontal bars, one per parameter in graph order, on a log axis. The shaded bands and each bar's class come from
 * the report (core decides what is vanishing, exploding or dead; for the update ratio, what is too low or too high);
 * exactly-zero values are drawn as a marker at the left edge, labelled "0".
 */
export function gradNormBars(params: readonly GradParam[], options: GradPanelOptions, doc: Document): SVGSVGElement {
  const metric = options.metric ?? 'l2';
  const limits = options.bands ? (metric === 'l2' ? { low: options.bands.low, high: options.bands.high } : options.bands.updateRatio) : undefined;
  const width = options.width ?? 720;
  const barHeight = 16;
  const top = 28;
  const labelWidth = Math.min(240, Math.max(80, ...params.map((p) => p.name.length * 6.4 + 10)));
  const valueWidth = 70;
  const values = params.map((p) => metricOf(p, metric));
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  const lo = Math.min(...positive, ...(limits && limits.low > 0 ? [limits.low / 10] : [])) || 1e-12;
  const hi = Math.max(...positive, ...(limits && limits.high > 0 ? [limits.high * 10] : [])) || 1;
  const x = scaleLog()
    .domain([lo, hi])
    .range([labelWidth, width - valueWidth])
    .clamp(true);
  const height = top + params.length * barHeight + 24;
  const svg = s(doc, 'svg', {
    class: 'grad-bars',
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': `Gradient ${metric === 'l2' ? 'norm' : 'update ratio'} per parameter, log scale`,
  });
  svg.appendChild(s(doc, 'text', { class: 'chart-title', x: 0, y: 14 }, metric === 'l2' ? 'Gradient norm |g| per parameter (log scale)' : 'Update ratio lr·|g|/|w| per parameter (log scale)'));
  if (limits && limits.low > 0 && limits.high > 0) {
    const { low, high } = limits;
    const bandTop = top - 4;
    const bandHeight = params.length * barHeight + 8;
    svg.appendChild(
      s(doc, 'rect', { class: 'band band-vanishing', x: labelWidth, y: bandTop, width: Math.max(0, x(low) - labelWidth), height: bandHeight, 'data-limit': low }),
    );
    svg.appendChild(
      s(doc, 'rect', { class: 'band band-exploding', x: x(high), y: bandTop, width: Math.max(0, width - valueWidth - x(high)), height: bandHeight, 'data-limit': high }),
    );
  }
  params.forEach((p, i) => {
    const v = values[i];
    const y = top + i * barHeight;
    const zero = !(v > 0);
    // The l2 bars carry core's band; update ratios are low or high against core's limits, drawn in the same colours.
    const band = metric === 'l2' ? (p.band ?? 'ok') : zero ? 'dead' : limits && v < limits.low ? 'vanishing' : limits && v > limits.high ? 'exploding' : 'ok';
    const g = s(doc, 'g', { class: `grad-row band-${band}`, 'data-param': p.name, tabindex: 0 });
    g.appendChild(s(doc, 'text', { class: 'grad-label', x: labelWidth - 6, y: y + barHeight - 4, 'text-anchor': 'end' }, p.name));
    const w = zero ? 2 : Math.max(1, x(v) - labelWidth);
    g.appendChild(s(doc, 'rect', { class: 'grad-bar', x: labelWidth, y: y + 2, width: w, height: barHeight - 4, 'data-value': v }));
    g.appendChild(s(doc, 'text', { class: 'grad-value', x: width - valueWidth + 4, y: y + barHeight - 4 }, zero ? '0' : num(v)));
    g.appendChild(s(doc, 'title', {}, `${p.name} [${p.shape.join('×')}]: |g| ${num(p.l2)}, |w| ${num(p.weightL2)}, lr·|g|/|w| ${p.updateRatio === undefined ? '-' : num(p.updateRatio)}`));
    if (options.onSelectParam) {
      const select = options.onSelectParam;
      g.addEventListener('click', () => select(p.name));
    }
    svg.appendChild(g);
  });
  const axisY = top + params.length * barHeight + 14;
  for (const t of x.ticks(6).filter((_, i, all) => all.length <= 8 || i % 2 === 0)) {
    svg.appendChild(s(doc, 'text', { class: 'axis-tick', x: x(t), y: axisY, 'text-anchor': 'middle' }, num(t)));
  }
  return svg;
}

/** Small multiples of each parameter's gradient histogram, in graph order. */
export function gradHistograms(params: readonly GradParam[], options: { columns?: number; cellWidth?: number }, doc: Document): SVGSVGElement {
  const withHist = params.filter((p): p is GradParam & { histogram: Histogram } => p.histogram !== undefined && p.histogram.counts.length > 0);
  const columns = Math.max(1, options.columns ?? 4);
  const cw = options.cellWidth ?? 170;
  const ch = 80;
  const rows = Math.ceil(withHist.length / columns);
  const svg = s(doc, 'svg', { class: 'grad-histograms', width: columns * cw, height: rows * ch, role: 'img', 'aria-label': 'Gradient histograms per parameter' });
  withHist.forEach((p, i) => {
    const cell = s(doc, 'g', { class: 'hist-cell', 'data-param': p.name, transform: `translate(${(i % columns) * cw},${Math.floor(i / columns) * ch})` });
    const counts = p.histogram.counts;
    const maxCount = Math.max(1, ...counts);
    const bx = scaleLinear().domain([0, counts.length]).range([4, cw - 8]);
    const by = scaleLinear().domain([0, maxCount]).range([0, ch - 34]);
    cell.appendChild(s(doc, 'text', { class: 'hist-title', x: 4, y: 12 }, p.name));
    counts.forEach((c, k) => {
      const hgt = by(c);
      cell.appendChild(s(doc, 'rect', { class: 'hist-bar', x: bx(k), y: ch - 18 - hgt, width: Math.max(0.5, bx(k + 1) - bx(k) - 0.5), height: hgt, 'data-count': c }));
    });
    const e = p.histogram.edges;
    cell.appendChild(s(doc, 'text', { class: 'axis-tick', x: 4, y: ch - 4 }, num(e[0])));
    cell.appendChild(s(doc, 'text', { class: 'axis-tick', x: cw - 8, y: ch - 4, 'text-anchor': 'end' }, num(e[e.length - 1])));
    svg.appendChild(cell);
  });
  return svg;
}

/** The numerical check: the overall verdict with its thresholds, then one row per checked tensor, all from the report. */
export function checkSection(report: GradReport, doc: Document): HTMLElement {
  const check = report.check;
  if (!check) return h(doc, 'p', { class: 'grad-check none' }, 'The numerical check did not run (--check 0).');
  const verdict = check.verdict ?? 'uncomfortable';
  const timing = report.timing;
  const cost =
    typeof timing?.checkMs !== 'number'
      ? ''
      : timing.checkRunsInRun
        ? ` Its first ${timing.checkRunsInRun} forward runs ran inside the gradient run (${formatDuration(timing.runMs ?? 0)} with the backward pass); the rest of the check took ${formatDuration(timing.checkMs)}.`
        : ` The check took ${formatDuration(timing.checkMs)}.`;
  const joint = check.joint;
  const text =
    check.method === 'joint' && joint
      ? `One joint random direction over all ${joint.tensors} tensors: relative error ${num(joint.relError)} — passed (below ${joint.threshold}), so every tensor passed with it; no tensor was checked on its own.`
      : (joint ? `The joint direction over all ${joint.tensors} tensors did not pass (relative error ${num(joint.relError)}, above ${joint.threshold}), so each tensor was checked on its own. ` : '') +
        `${check.method === 'direction' ? `One random direction per tensor (${check.sampled} tensors)` : `Central differences on ${check.sampled} coordinates`}: worst relative error ${num(check.maxRelError)}` +
        (check.worst ? ` (${check.worst})` : '') +
        ` — ${verdict}.` +
        (check.thresholds ? ` Fine below ${check.thresholds.fine}, probably wrong above ${check.thresholds.wrong}.` : '') +
        (check.notJudged ? ` ${check.notJudged} tensor(s) not judged: units sit exactly on a ReLU kink for this input.` : '');
  const summary = h(doc, 'p', { class: `grad-check-summary check-${verdict}`, 'data-verdict': verdict, 'data-method': check.method ?? '' }, text + cost);
  const rows = report.params
    .filter((p) => p.check)
    .map((p) => {
      const c = p.check!.verdict ?? '';
      const jointly = p.check!.method === 'joint';
      return h(
        doc,
        'tr',
        { class: `check-${c}`, 'data-param': p.name, 'data-method': p.check!.method ?? '' },
        h(doc, 'td', {}, p.name),
        h(doc, 'td', {}, jointly ? 'joint' : String(p.check!.sampled)),
        h(doc, 'td', {}, jointly ? '—' : num(p.check!.maxRelError)),
        h(doc, 'td', {}, jointly ? `${c} (joint check)` : c),
      );
    });
  const table = h(
    doc,
    'table',
    { class: 'grad-check-table' },
    h(doc, 'thead', {}, h(doc, 'tr', {}, h(doc, 'th', {}, 'Parameter'), h(doc, 'th', {}, 'sampled'), h(doc, 'th', {}, 'relative error (own)'), h(doc, 'th', {}, 'verdict'))),
    h(doc, 'tbody', {}, ...rows),
  );
  return h(doc, 'div', { class: 'grad-check' }, summary, table);
}

/**
 * The saliency map as a grid of cells whose opacity is |d loss / d pixel| over the map's maximum, downsampled by
 * max-pooling to at most `maxCells` per side, over the input image when one is given.
 */
export function saliencyOverlay(
  saliency: { width: number; height: number; values: number[] },
  options: { size?: number; maxCells?: number; imageHref?: string },
  doc: Document,
): SVGSVGElement {
  const size = options.size ?? 224;
  const maxCells = options.maxCells ?? 56;
  const step = Math.max(1, Math.ceil(Math.max(saliency.width, saliency.height) / maxCells));
  const cols = Math.ceil(saliency.width / step);
  const rows = Math.ceil(saliency.height / step);
  const pooled: number[] = new Array<number>(cols * rows).fill(0);
  for (let yy = 0; yy < saliency.height; yy++) {
    for (let xx = 0; xx < saliency.width; xx++) {
      const k = Math.floor(yy / step) * cols + Math.floor(xx / step);
      pooled[k] = Math.max(pooled[k], saliency.values[yy * saliency.width + xx]);
    }
  }
  const peak = Math.max(...pooled) || 1;
  const scale = size / Math.max(saliency.width, saliency.height);
  const w = saliency.width * scale;
  const hgt = saliency.height * scale;
  const svg = s(doc, 'svg', { class: 'saliency', width: w, height: hgt, viewBox: `0 0 ${w} ${hgt}`, role: 'img', 'aria-label': 'Saliency map: |d loss / d input| per pixel' });
  if (options.imageHref) svg.appendChild(s(doc, 'image', { href: options.imageHref, x: 0, y: 0, width: w, height: hgt, preserveAspectRatio: 'none' }));
  const cell = step * scale;
  pooled.forEach((v, k) => {
    if (v <= 0) return;
    svg.appendChild(
      s(doc, 'rect', { class: 'saliency-cell', x: (k % cols) * cell, y: Math.floor(k / cols) * cell, width: cell, height: cell, 'fill-opacity': Math.round((v / peak) * 1000) / 1000 }),
    );
  });
  return svg;
}

export function renderGradPanel(report: GradReport, options: GradPanelOptions, doc: Document): HTMLElement {
  const select = options.onSelectParam;
  const parts: HTMLElement[] = [];
  parts.push(
    h(
      doc,
      'p',
      { class: 'grad-header' },
      'Ran on ',
      h(doc, 'strong', { class: 'grad-provider' }, report.executionProvider),
      ` · loss ${num(report.loss)} · input gradient |g| (${report.input.name}) ${num(report.input.l2)}`,
      report.predictedClasses
        ? ` · target: the predicted class (${report.predictedClasses.slice(0, 8).join(', ')}${report.predictedClasses.length > 8 ? ', …' : ''})`
        : '',
      report.timing ? ` · ${formatDuration(report.timing.totalMs)}` : '',
    ),
  );
  const diagnostics = report.diagnostics ?? [];
  const diag = h(doc, 'ul', { class: 'grad-diagnostics', 'aria-label': 'Diagnostics' });
  if (diagnostics.length === 0) diag.appendChild(h(doc, 'li', { class: 'grad-diagnostic none' }, 'No problems found.'));
  for (const d of diagnostics) {
    const link = h(doc, 'a', { class: 'diag-link', href: '#', 'data-node': d.node }, d.node);
    link.addEventListener('click', (e) => {
      e.preventDefault();
      select?.(d.node);
    });
    diag.appendChild(h(doc, 'li', { class: `grad-diagnostic kind-${d.kind}`, 'data-kind': d.kind }, h(doc, 'span', { class: 'diag-kind' }, d.kind), ' ', link, ': ', d.message));
  }
  parts.push(h(doc, 'section', { class: 'grad-section' }, h(doc, 'h3', {}, 'Diagnostics'), diag));
  parts.push(h(doc, 'section', { class: 'grad-section' }, gradNormBars(report.params, { ...options, ...(report.bands ? { bands: report.bands } : {}) }, doc)));
  parts.push(h(doc, 'section', { class: 'grad-section' }, h(doc, 'h3', {}, 'Numerical gradient check'), checkSection(report, doc)));
  if (report.input.saliency) {
    parts.push(
      h(
        doc,
        'section',
        { class: 'grad-section' },
        h(doc, 'h3', {}, `Saliency: where the loss is sensitive to ${report.input.name}`),
        saliencyOverlay(report.input.saliency, options.imageHref ? { imageHref: options.imageHref } : {}, doc),
      ),
    );
  }
  parts.push(
    h(doc, 'section', { class: 'grad-section' }, h(doc, 'h3', {}, 'Gradient histograms'), gradHistograms(report.params, { columns: Math.max(1, Math.floor((options.width ?? 720) / 180)) }, doc)),
  );
  if (report.activations.length > 0) {
    const rows = report.activations.map((a) => h(doc, 'tr', { 'data-value': a.name }, h(doc, 'td', {}, a.name), h(doc, 'td', {}, num(a.l2))));
    parts.push(
      h(
        doc,
        'section',
        { class: 'grad-section' },
        h(doc, 'h3', {}, 'Activation gradients'),
        h(doc, 'table', { class: 'grad-activations' }, h(doc, 'thead', {}, h(doc, 'tr', {}, h(doc, 'th', {}, 'Value'), h(doc, 'th', {}, '|g|'))), h(doc, 'tbody', {}, ...rows)),
      ),
    );
  }
  return h(doc, 'div', { class: 'grad-panel' }, ...parts);
}

/** The factory the inspector shell looks for (webview/panels.ts: `createGradPanel`). */
export const createGradPanel: PanelFactory<GradReport> = (host: PanelHost): ResultPanel<GradReport> => {
  const doc = host.document;
  let report: GradReport | null = null;
  let metric: 'l2' | 'ratio' = 'l2';
  const body = h(doc, 'div', { class: 'panel-body' }, 'No gradient probe has run yet.');
  const controls = h(doc, 'div', { class: 'panel-actions grad-controls' });
  if (host.trusted) {
    const run = h(doc, 'vscode-button', { class: 'grad-run' }, 'Run gradient probe');
    run.addEventListener('click', () => host.post({ type: 'runGradProbe' }));
    controls.appendChild(run);
  } else {
    controls.appendChild(h(doc, 'p', { class: 'panel-restricted' }, 'Gradient probes run the model, so they are off in Restricted Mode. Trust this workspace to enable them.'));
  }
  const metricSelect = h(doc, 'vscode-single-select', { class: 'grad-metric', 'aria-label': 'Bar metric' }, h(doc, 'vscode-option', { value: 'l2' }, 'Gradient norm |g|'), h(doc, 'vscode-option', { value: 'ratio' }, 'Update ratio |g|/|w|'));
  metricSelect.addEventListener('change', () => {
    metric = controlValue(metricSelect) === 'ratio' ? 'ratio' : 'l2';
    render();
  });
  controls.appendChild(metricSelect);
  function render(): void {
    if (!report) return;
    clear(body);
    body.appendChild(renderGradPanel(report, { metric, width: layoutWidth(body, 720), onSelectParam: (name) => host.revealLayer(name) }, doc));
  }
  // Laid out again for a new width, so that labels keep their size instead of shrinking with the chart.
  onWidthChange(body, () => render());
  const element = h(doc, 'section', { class: 'result-panel grad-result', 'aria-label': 'Gradient probe' }, controls, body);
  return {
    element,
    update(next) {
      report = next;
      render();
    },
  };
};
