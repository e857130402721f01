import type { ProbeLayer, ProbeReport } from '../../src/core/reports';
import { isActivationOp } from '../../src/core/ir/opCatalogue';
import { checked, clear, controlValue, h, layoutWidth, onWidthChange } from '../dom';
import type { PanelFactory, PanelHost, ResultPanel } from '../panels';
import { depthChart } from './probeDepth';
import { histogramRidgeline, histogramSmallMultiples } from './probeHistograms';
import { formatDuration } from '../../src/core/format';

/**
 * The activation probe panel: a header saying which execution provider ran, the diagnostics (each links to its
 * layer), mean and std against depth, and the per-layer histograms in graph order. `renderProbePanel` is the pure
 * chart (report, options, document) → detached element; `createProbePanel` is the factory the inspector shell mounts
 * (webview/panels.ts), which adds the run button and the layout controls.
 */

export type ProbeLayout = 'grid' | 'ridgeline';
export type ProbeFilter = 'all' | 'activations';

export interface ProbePanelOptions {
  layout?: ProbeLayout;
  /** 'activations' shows only nonlinearity outputs, as the lectures' figures do. Default: that when there are ≥ 3. */
  filter?: ProbeFilter;
  /** Histograms on one shared x range. Default true. */
  sharedX?: boolean;
  /** Called with a node name when a histogram, a depth point or a diagnostic is clicked. */
  onSelectLayer?: (name: string) => void;
  width?: number;
  /** A logarithmic count axis for the histograms. */
  logCounts?: boolean;
  /** Histograms without exact zeros (their fraction is written on each chart). */
  excludeZeros?: boolean;
}

/** Element-wise nonlinearities, mirrored from the core's diagnostics so that the webview needs no core import. */

export function defaultFilter(report: ProbeReport): ProbeFilter {
  return report.layers.filter((l) => isActivationOp(l.op)).length >= 3 ? 'activations' : 'all';
}

export function visibleLayers(report: ProbeReport, filter: ProbeFilter): ProbeLayer[] {
  return filter === 'activations' ? report.layers.filter((l) => isActivationOp(l.op)) : [...report.layers];
}

export function renderProbePanel(report: ProbeReport, options: ProbePanelOptions, doc: Document): HTMLElement {
  const filter = options.filter ?? defaultFilter(report);
  const layers = visibleLayers(report, filter);
  const select = options.onSelectLayer;
  const width = options.width ?? 800;

  const header = h(
    doc,
    'p',
    { class: 'probe-header' },
    `Ran on `,
    h(doc, 'strong', { class: 'probe-provider' }, report.executionProvider),
    ` in ${formatDuration(report.timing.totalMs)} · ${report.layers.length} values probed`,
    filter === 'activations' ? ` · showing the ${layers.length} activation outputs` : '',
  );
  const parts: HTMLElement[] = [header];
  if (report.cpuFallbackNodes && report.cpuFallbackNodes.length > 0) {
    const names = report.cpuFallbackNodes;
    parts.push(
      h(
        doc,
        'p',
        { class: 'probe-fallback' },
        `${names.length} node${names.length === 1 ? '' : 's'} ran on the CPU instead of ${report.executionProvider}: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}`,
      ),
    );
  }

  const diag = h(doc, 'ul', { class: 'probe-diagnostics', 'aria-label': 'Diagnostics' });
  if (report.diagnostics.length === 0) diag.appendChild(h(doc, 'li', { class: 'probe-diagnostic none' }, 'No problems found.'));
  for (const d of report.diagnostics) {
    const link = h(doc, 'a', { class: 'diag-link', href: '#', 'data-node': d.node }, d.node);
    link.addEventListener('click', (e) => {
      e.preventDefault();
      select?.(d.node);
    });
    diag.appendChild(h(doc, 'li', { class: `probe-diagnostic kind-${d.kind}`, 'data-kind': d.kind }, h(doc, 'span', { class: 'diag-kind' }, d.kind), ' ', link, ': ', d.message));
  }
  parts.push(h(doc, 'section', { class: 'probe-section' }, h(doc, 'h3', {}, 'Diagnostics'), diag));

  parts.push(h(doc, 'section', { class: 'probe-section' }, depthChart(layers, { width, ...(select ? { onSelect: select } : {}) }, doc)));

  // Cells of about 200 px that fill the width: the grid gains or loses columns as the panel is resized.
  const columns = Math.max(1, Math.floor(width / 200));
  const histOptions = {
    sharedX: options.sharedX ?? true,
    columns,
    cellWidth: Math.floor(width / columns),
    logCounts: options.logCounts ?? false,
    excludeZeros: options.excludeZeros ?? false,
    ...(select ? { onSelect: select } : {}),
  };
  const hist = (options.layout ?? 'grid') === 'ridgeline' ? histogramRidgeline(layers, { ...histOptions, cellWidth: width / 3 }, doc) : histogramSmallMultiples(layers, histOptions, doc);
  parts.push(h(doc, 'section', { class: 'probe-section' }, h(doc, 'h3', {}, 'Histograms by layer'), hist));

  return h(doc, 'div', { class: 'probe-panel' }, ...parts);
}

/** The factory the inspector shell looks for (webview/panels.ts: `createProbePanel`). */
export const createProbePanel: PanelFactory<ProbeReport> = (host: PanelHost): ResultPanel<ProbeReport> => {
  const doc = host.document;
  let report: ProbeReport | null = null;
  let layout: ProbeLayout = 'grid';
  let filter: ProbeFilter | null = null;

  const body = h(doc, 'div', { class: 'panel-body' }, 'No probe has run yet.');
  const controls = h(doc, 'div', { class: 'panel-actions probe-controls' });
  if (host.trusted) {
    const run = h(doc, 'vscode-button', { class: 'probe-run' }, 'Run probe');
    run.addEventListener('click', () => host.post({ type: 'runProbe' }));
    controls.appendChild(run);
  } else {
    controls.appendChild(h(doc, 'p', { class: 'panel-restricted' }, 'Probes run the model, so they are off in Restricted Mode. Trust this workspace to enable them.'));
  }
  const layoutSelect = h(doc, 'vscode-single-select', { class: 'probe-layout', 'aria-label': 'Histogram layout' }, h(doc, 'vscode-option', { value: 'grid' }, 'Small multiples'), h(doc, 'vscode-option', { value: 'ridgeline' }, 'Ridgeline'));
  const filterSelect = h(doc, 'vscode-single-select', { class: 'probe-filter', 'aria-label': 'Layers shown' }, h(doc, 'vscode-option', { value: 'activations' }, 'Activation outputs'), h(doc, 'vscode-option', { value: 'all' }, 'Every value'));
  const logToggle = h(doc, 'vscode-checkbox', { class: 'probe-log-counts', title: 'Bar heights on a logarithmic count axis' }, 'Log counts');
  const zerosToggle = h(doc, 'vscode-checkbox', { class: 'probe-exclude-zeros', title: 'Leave exact zeros out of the histograms and show their fraction instead' }, 'Exclude exact zeros');
  let logCounts = false;
  let excludeZeros = false;
  layoutSelect.addEventListener('change', () => {
    layout = controlValue(layoutSelect) === 'ridgeline' ? 'ridgeline' : 'grid';
    render();
  });
  filterSelect.addEventListener('change', () => {
    filter = controlValue(filterSelect) === 'all' ? 'all' : 'activations';
    render();
  });
  logToggle.addEventListener('change', () => {
    logCounts = checked(logToggle);
    render();
  });
  zerosToggle.addEventListener('change', () => {
    excludeZeros = checked(zerosToggle);
    render();
  });
  controls.append(layoutSelect, filterSelect, logToggle, zerosToggle);

  function render(): void {
    if (!report) return;
    clear(body);
    const f = filter ?? defaultFilter(report);
    (filterSelect as HTMLElement & { value?: string }).value = f;
    const width = layoutWidth(body, 800);
    body.appendChild(renderProbePanel(report, { layout, filter: f, logCounts, excludeZeros, width, onSelectLayer: (name) => host.revealLayer(name) }, doc));
  }
  // The charts are laid out again for a new width: their text keeps its size and the grid its cell width.
  onWidthChange(body, () => render());

  const element = h(doc, 'section', { class: 'result-panel probe-result', 'aria-label': 'Activation probe' }, controls, body);
  return {
    element,
    update(next) {
      report = next;
      render();
    },
  };
};
