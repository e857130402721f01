import type { GradReport, ProbeReport } from '../src/core/reports';
import { clear, h } from './dom';
import { formatCompact } from './format';
import type { PanelFactory, PanelHost, ResultPanel } from './panels';

/**
 * Plain tables for probe and gradient results, used only when the richer chart panels (webview/charts/probePanel.ts
 * and gradPanel.ts) are not in the bundle. They keep results visible rather than dropping them.
 */

function runBar(host: PanelHost, label: string, message: 'runProbe' | 'runGradProbe'): HTMLElement {
  const doc = host.document;
  if (!host.trusted) {
    return h(doc, 'p', { class: 'panel-restricted' }, 'Probes run the model, so they are off in Restricted Mode. Trust this workspace to enable them.');
  }
  const button = h(doc, 'vscode-button', {}, label);
  button.addEventListener('click', () => host.post({ type: message }));
  return h(doc, 'div', { class: 'panel-actions' }, button);
}

function table(doc: Document, headers: string[], rows: string[][]): HTMLElement {
  return h(
    doc,
    'table',
    { class: 'simple-table' },
    h(doc, 'thead', {}, h(doc, 'tr', {}, ...headers.map((t) => h(doc, 'th', { scope: 'col' }, t)))),
    h(doc, 'tbody', {}, ...rows.map((r) => h(doc, 'tr', {}, ...r.map((c) => h(doc, 'td', {}, c))))),
  );
}

const num = (v: number): string => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toFixed(4));

export const fallbackProbePanel: PanelFactory<ProbeReport> = (host) => {
  const doc = host.document;
  const body = h(doc, 'div', { class: 'panel-body' }, 'No probe has run yet.');
  const element = h(doc, 'section', { class: 'result-panel', 'aria-label': 'Activation probe' }, runBar(host, 'Run probe', 'runProbe'), body);
  const panel: ResultPanel<ProbeReport> = {
    element,
    update(report) {
      clear(body);
      body.append(
        h(doc, 'p', {}, `Ran on ${report.executionProvider} in ${report.timing.totalMs.toFixed(1)} ms.`),
        h(doc, 'ul', { class: 'diagnostics' }, ...report.diagnostics.map((d) => h(doc, 'li', {}, `${d.kind}: ${d.message}`))),
        table(
          doc,
          ['Layer', 'Op', 'mean', 'std', 'min', 'max', 'zero'],
          report.layers.map((l) => [l.name, l.op, num(l.stats.mean), num(l.stats.std), num(l.stats.min), num(l.stats.max), `${(l.stats.fracZero * 100).toFixed(1)}%`]),
        ),
      );
    },
  };
  return panel;
};

export const fallbackGradPanel: PanelFactory<GradReport> = (host) => {
  const doc = host.document;
  const body = h(doc, 'div', { class: 'panel-body' }, 'No gradient probe has run yet.');
  const element = h(doc, 'section', { class: 'result-panel', 'aria-label': 'Gradient probe' }, runBar(host, 'Run gradient probe', 'runGradProbe'), body);
  return {
    element,
    update(report) {
      clear(body);
      body.append(
        h(doc, 'p', {}, `Loss ${num(report.loss)} on ${report.executionProvider}.`),
        table(
          doc,
          ['Parameter', 'shape', '|grad|', '|weight|', 'ratio'],
          report.params.map((p) => [p.name, `[${p.shape.join(', ')}]`, num(p.l2), num(p.weightL2), p.weightL2 > 0 ? num(p.l2 / p.weightL2) : '']),
        ),
        ...(report.check
          ? [h(doc, 'p', {}, `Gradient check: ${formatCompact(report.check.sampled)} sampled, max relative error ${num(report.check.maxRelError)}.`)]
          : []),
      );
    },
  };
};
