/// <reference lib="dom" />
import { strict as assert } from 'node:assert';
import type { ProbeLayer, ProbeReport } from '../../../src/core/reports';
import type { WebviewToHost } from '../../../src/protocol/messages';
import { createProbePanel, defaultFilter, renderProbePanel } from '../../../webview/charts/probePanel';
import { histogramRidgeline, histogramSmallMultiples } from '../../../webview/charts/probeHistograms';
import { depthChart } from '../../../webview/charts/probeDepth';
import { pickFactory } from '../../../webview/panels';
import * as probePanelModule from '../../../webview/charts/probePanel';
import { makeDocument } from './fixtures';

function layer(name: string, op: string, mean: number, std: number, counts: number[], lo = -1, hi = 1): ProbeLayer {
  const edges = counts.map((_, i) => lo + ((hi - lo) * i) / counts.length).concat([hi]);
  return {
    name,
    op,
    output: `${name}_output_0`,
    shape: [16, 512],
    stats: { count: 8192, mean, std, min: lo, max: hi, fracZero: 0, fracSaturated: 0, p01: lo, p50: 0, p99: hi },
    histogram: { edges, counts },
  };
}

/** Display fixture shaped like the init lab's tanh report: a collapse towards zero. */
const report: ProbeReport = {
  executionProvider: 'cuda',
  cpuFallbackNodes: ['/Shape'],
  timing: { totalMs: 81.2 },
  layers: [
    layer('/layers.0/MatMul', 'MatMul', 0, 0.6, [1, 5, 9, 5, 1], -2, 2),
    layer('/layers.0/Tanh', 'Tanh', 0, 0.5, [2, 4, 8, 4, 2]),
    layer('/layers.1/MatMul', 'MatMul', 0, 0.2, [1, 3, 20, 3, 1], -1, 1),
    layer('/layers.1/Tanh', 'Tanh', 0, 0.2, [1, 3, 12, 3, 1], -0.5, 0.5),
    layer('/layers.2/Tanh', 'Tanh', 0, 0.05, [0, 1, 30, 1, 0], -0.1, 0.1),
  ],
  diagnostics: [{ kind: 'vanishing-activations', node: '/layers.1/Tanh', message: 'Activations shrink with depth <b>not markup</b>' }],
};

describe('webview/charts/probePanel', () => {
  it('draws one histogram per visible layer in graph order, bars proportional to counts', () => {
    const { document } = makeDocument();
    const svg = histogramSmallMultiples(report.layers, { sharedX: false }, document);
    assert.equal(svg.parentNode, null);
    const cells = [...svg.querySelectorAll('g.hist-cell')];
    assert.deepEqual(cells.map((c) => c.getAttribute('data-layer')), report.layers.map((l) => l.name));
    const bars = [...cells[2]!.querySelectorAll('rect.hist-bar')].map((r) => Number(r.getAttribute('height')));
    assert.equal(bars.length, 5);
    assert.ok(Math.abs(bars[2]! / bars[1]! - 20 / 3) < 1e-9);
  });

  it('puts every layer on the shared x range in the ridgeline', () => {
    const { document } = makeDocument();
    const svg = histogramRidgeline(report.layers, {}, document);
    const rows = [...svg.querySelectorAll('g.ridge-row')];
    assert.equal(rows.length, 5);
    const axis = [...svg.querySelectorAll('text.hist-axis')].map((t) => t.textContent);
    assert.deepEqual(axis, ['-2', '2']);
    assert.ok(svg.querySelector('line.ridge-zero'));
  });

  it('plots mean and std against depth', () => {
    const { document } = makeDocument();
    const svg = depthChart(report.layers, {}, document);
    const std = [...svg.querySelectorAll('circle.series-std')];
    assert.equal(std.length, 5);
    const ys = std.map((c) => Number(c.getAttribute('cy')));
    // SVG y grows downwards: a shrinking std climbs down the chart, so y increases from layer 1 to layer 3.
    assert.ok(ys[0]! < ys[2]! && ys[2]! < ys[4]!);
  });

  it('renders provider, fallback nodes, diagnostics as text with links, and filters to activations', () => {
    const { document } = makeDocument();
    const selected: string[] = [];
    assert.equal(defaultFilter(report), 'activations');
    const el = renderProbePanel(report, { onSelectLayer: (n) => selected.push(n) }, document);
    assert.equal(el.querySelector('.probe-provider')!.textContent, 'cuda');
    assert.match(el.querySelector('.probe-fallback')!.textContent!, /1 node ran on the CPU instead of cuda: \/Shape/);
    const diag = el.querySelector('.probe-diagnostic')!;
    assert.equal(diag.querySelector('b'), null, 'messages are text, never markup');
    assert.match(diag.textContent!, /<b>not markup<\/b>/);
    (diag.querySelector('a.diag-link') as HTMLElement).click();
    assert.deepEqual(selected, ['/layers.1/Tanh']);
    assert.equal(el.querySelectorAll('g.hist-cell').length, 3, 'only the three Tanh outputs');
    (el.querySelector('g.hist-cell') as unknown as HTMLElement).dispatchEvent(new (document.defaultView!.MouseEvent)('click'));
    assert.deepEqual(selected, ['/layers.1/Tanh', '/layers.0/Tanh']);
    const all = renderProbePanel(report, { filter: 'all', layout: 'ridgeline' }, document);
    assert.equal(all.querySelectorAll('g.ridge-row').length, 5);
  });

  it('is the factory the shell picks up: run button, updates, reveal on click, restricted mode', () => {
    const { document } = makeDocument();
    const factory = pickFactory('probe', probePanelModule);
    assert.ok(factory);
    const posted: WebviewToHost[] = [];
    const revealed: string[] = [];
    const panel = createProbePanel({ document, summary: null, trusted: true, post: (m) => posted.push(m), revealLayer: (n) => revealed.push(n) });
    (panel.element.querySelector('.probe-run') as HTMLElement).click();
    assert.deepEqual(posted, [{ type: 'runProbe' }]);
    assert.match(panel.element.textContent!, /No probe has run yet/);
    panel.update(report);
    assert.equal(panel.element.querySelectorAll('g.hist-cell').length, 3);
    assert.equal(panel.element.querySelectorAll('select').length, 0, 'no plain <select>: the dropdowns are vscode-single-select');
    const filter = panel.element.querySelector('vscode-single-select.probe-filter') as HTMLElement & { value?: string };
    filter.value = 'all';
    filter.dispatchEvent(new (document.defaultView!.Event)('change'));
    assert.equal(panel.element.querySelectorAll('g.hist-cell').length, 5);
    (panel.element.querySelector('a.diag-link') as HTMLElement).click();
    assert.deepEqual(revealed, ['/layers.1/Tanh']);
    const restricted = createProbePanel({ document, summary: null, trusted: false, post: () => undefined, revealLayer: () => undefined });
    assert.equal(restricted.element.querySelector('.probe-run'), null);
    assert.match(restricted.element.textContent!, /Restricted Mode/);
  });

  describe('log counts and exact zeros', () => {
    // A ReLU output: 900 exact zeros in the first bin, which also holds 20 small positive values.
    const relu: ProbeLayer = {
      ...layer('/relu/Relu', 'Relu', 0.3, 0.4, [920, 40, 30, 10], 0, 2),
      stats: { count: 1000, mean: 0.3, std: 0.4, min: 0, max: 2, fracZero: 0.9, fracSaturated: 0, p01: 0, p50: 0, p99: 1.8 },
      histogram: { edges: [0, 0.5, 1, 1.5, 2], counts: [920, 40, 30, 10], countsExcludingZeros: [20, 40, 30, 10] },
    };
    const heights = (svg: SVGSVGElement): number[] => [...svg.querySelectorAll('rect.hist-bar')].map((r) => Number(r.getAttribute('height')));
    const plotH = 96 - 30 - 16; // the cell height less the title and stat rows and the axis row

    it('draws the counts without exact zeros when asked, and writes the zero fraction on the chart', () => {
      const { document } = makeDocument();
      const plain = histogramSmallMultiples([relu], { columns: 1 }, document);
      assert.deepEqual(heights(plain).map((x) => +x.toFixed(3)), [920, 40, 30, 10].map((c) => +((c / 920) * plotH).toFixed(3)));
      assert.equal(plain.querySelector('.hist-zeros'), null);
      const excluded = histogramSmallMultiples([relu], { columns: 1, excludeZeros: true }, document);
      assert.deepEqual(heights(excluded).map((x) => +x.toFixed(3)), [20, 40, 30, 10].map((c) => +((c / 40) * plotH).toFixed(3)));
      assert.equal(excluded.querySelector('.hist-zeros')!.textContent, 'zeros 90.0%');
      // A layer without exact zeros has no such series: it is drawn as it is, with no note.
      const dense = histogramSmallMultiples([report.layers[0]!], { columns: 1, excludeZeros: true }, document);
      assert.equal(dense.querySelector('.hist-zeros'), null);
      const ridge = histogramRidgeline([relu], { excludeZeros: true }, document);
      assert.match(ridge.querySelector('.ridge-label')!.textContent!, /zeros 90\.0%/);
    });

    it('puts bar heights on a symmetric-log count axis', () => {
      const { document } = makeDocument();
      const logged = heights(histogramSmallMultiples([relu], { columns: 1, logCounts: true }, document));
      // d3's symlog with constant 1: log1p(c) / log1p(max) of the plot height.
      const expected = [920, 40, 30, 10].map((c) => (Math.log1p(c) / Math.log1p(920)) * plotH);
      logged.forEach((hgt, i) => assert.ok(Math.abs(hgt - expected[i]!) < 1e-9, `bar ${i}: ${hgt} vs ${expected[i]}`));
      assert.ok(logged[3]! > 0.3 * logged[0]!, 'a small bin stays visible beside the zero spike');
    });

    it('lets the panel switch both on, and redraws', () => {
      const { document } = makeDocument();
      const panel = createProbePanel({ document, summary: null, trusted: true, post: () => undefined, revealLayer: () => undefined });
      panel.update({ ...report, layers: [relu], diagnostics: [] });
      const toggle = (cls: string) => {
        const box = panel.element.querySelector(`vscode-checkbox.${cls}`) as HTMLElement & { checked?: boolean };
        box.checked = true;
        box.dispatchEvent(new (document.defaultView!.Event)('change'));
      };
      const before = heights(panel.element.querySelector('svg.small-multiples') as SVGSVGElement);
      toggle('probe-exclude-zeros');
      assert.match(panel.element.querySelector('.hist-zeros')!.textContent!, /zeros 90\.0%/);
      toggle('probe-log-counts');
      const after = heights(panel.element.querySelector('svg.small-multiples') as SVGSVGElement);
      assert.notDeepEqual(after, before);
      assert.ok(Math.abs(after[1]! - plotH) < 1e-9, 'without zeros, the 40-count bin is the peak');
    });
  });

  describe('narrow panels', () => {
    const long = (i: number): ProbeLayer => layer(`/encoder/layers.${i}/self_attention/out_proj/MatMul`, 'MatMul', 0, 1, [1, 2, 3, 2, 1]);
    const texts = (svg: SVGSVGElement, cls: string) => [...svg.querySelectorAll(`text.${cls}`)].map((t) => t.textContent ?? '');

    it('fits each title to its cell and keeps every text of a cell on its own row', () => {
      const { document } = makeDocument();
      for (const cw of [140, 200, 320]) {
        const svg = histogramSmallMultiples([long(0), long(1)], { columns: 2, cellWidth: cw }, document);
        for (const title of texts(svg, 'hist-title')) assert.ok(title.length * 6.2 <= cw - 12 + 1e-9, `"${title}" fits ${cw - 12} px`);
        assert.ok(texts(svg, 'hist-title').every((t) => t.endsWith('(MatMul)') && t.startsWith('…')), 'the op stays, the front of the path goes');
        const cell = svg.querySelector('g.hist-cell')!;
        const rows = [...cell.querySelectorAll('text')].map((t) => `${t.getAttribute('y')}:${t.getAttribute('text-anchor') ?? 'start'}`);
        assert.equal(new Set(rows).size, rows.length, `no two texts share a row and an anchor: ${rows.join(' ')}`);
      }
    });

    it('lays the grid out for the panel width: fewer columns, same text size, no scaling', () => {
      const { document } = makeDocument();
      const layers = Array.from({ length: 6 }, (_, i) => ({ ...long(i), op: 'Relu' }));
      const narrow = renderProbePanel({ ...report, layers }, { width: 420, filter: 'all' }, document).querySelector('svg.small-multiples')!;
      const wide = renderProbePanel({ ...report, layers }, { width: 1200, filter: 'all' }, document).querySelector('svg.small-multiples')!;
      assert.equal(Number(narrow.getAttribute('width')), 420);
      assert.equal(Number(wide.getAttribute('width')), 1200);
      assert.equal(narrow.querySelectorAll('g.hist-cell').length, 6);
      // 2 columns at 420 px, 6 at 1200 px: the narrow grid is three rows high instead of being shrunk.
      assert.equal(Number(narrow.getAttribute('height')), 3 * Number(wide.getAttribute('height')));
      const ridge = histogramRidgeline(layers, { cellWidth: 100 }, document);
      for (const t of texts(ridge, 'ridge-label')) assert.ok(t.length * 6.2 <= 120 - 12 + 1e-9, `ridgeline label "${t}" fits its 40%`);
    });
  });
});
