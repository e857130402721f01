/// <reference lib="dom" />
import { strict as assert } from 'node:assert';
import { checkThresholds, checkVerdict } from '../../../src/core/autodiff/gradCheck';
import { gradientBands, UPDATE_RATIO_LIMITS, updateRatio } from '../../../src/core/autodiff/gradReport';
import type { GradParam, GradReport } from '../../../src/core/reports';
import type { WebviewToHost } from '../../../src/protocol/messages';
import { checkSection, createGradPanel, gradHistograms, gradNormBars, renderGradPanel, saliencyOverlay } from '../../../webview/charts/gradPanel';
import * as gradPanelModule from '../../../webview/charts/gradPanel';
import { pickFactory } from '../../../webview/panels';
import { makeDocument } from './fixtures';

function param(name: string, l2: number, weightL2: number, check?: number): GradParam {
  return {
    name,
    shape: [15, 15, 3, 3],
    l2,
    mean: 0,
    std: l2 / 45,
    maxAbs: l2 / 5,
    weightL2,
    histogram: { edges: [-1, -0.5, 0, 0.5, 1], counts: [1, 4, 9, 2] },
    updateRatio: updateRatio(l2, weightL2, 1e-3),
    ...(check !== undefined ? { check: { sampled: 20, maxRelError: check, method: 'coordinates' as const, verdict: checkVerdict(check, 'float32') } } : {}),
  };
}

/** The report fields core fills in (bands, verdicts), filled by core's own functions: the panel only draws them. */
function withBands(params: GradParam[]): { params: GradParam[]; bands: GradReport['bands'] } {
  const b = gradientBands(params.map((p) => p.l2));
  return {
    params: params.map((p, i) => ({ ...p, band: b.bands[i] })),
    bands: { low: b.low, high: b.high, decades: b.decades, learningRate: 1e-3, updateRatio: { ...UPDATE_RATIO_LIMITS } },
  };
}

/** Display fixture: gradients that shrink by five decades towards the input, one dead tensor, a saliency map. */
const report: GradReport = {
  executionProvider: 'cpu',
  loss: 2.3026,
  input: { name: 'input', l2: 1.2e-5, shape: [1, 3, 4, 4], saliency: { width: 4, height: 4, values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16] } },
  ...withBands([param('net.0.weight', 1e-7, 2, 0.001), param('net.2.weight', 1e-3, 2, 0.5), param('net.4.weight', 0, 2), param('net.6.weight', 1e-2, 2, 0.02), param('fc.weight', 3e-2, 1)]),
  activations: [{ name: '/relu/Relu_output_0', l2: 0.02 }],
  check: { sampled: 60, maxRelError: 0.5, worst: 'net.2.weight', method: 'coordinates', verdict: 'wrong', thresholds: checkThresholds('float32') },
  diagnostics: [{ kind: 'vanishing-gradients', node: 'net.0.weight', message: 'first layers <b>not markup</b>' }],
  timing: { totalMs: 1234 },
};

describe('webview/charts/gradPanel', () => {
  it('draws one bar per parameter in graph order on a log scale, with the bands marked', () => {
    const { document } = makeDocument();
    const svg = gradNormBars(report.params, { width: 700, bands: report.bands }, document);
    assert.equal(svg.parentNode, null);
    const rows = [...svg.querySelectorAll('g.grad-row')];
    assert.deepEqual(rows.map((r) => r.getAttribute('data-param')), report.params.map((p) => p.name));
    const widths = rows.map((r) => Number(r.querySelector('rect.grad-bar')!.getAttribute('width')));
    // Log scale: equal ratios give equal length differences (1e-3 -> 1e-2 and 1e-2 -> 1e-1 would match).
    const d1 = widths[3] - widths[1];
    const d2 = widths[4] - widths[3];
    assert.ok(Math.abs(d1 / d2 - 1 / Math.log10(3)) < 1e-6, `${d1} ${d2}`);
    assert.ok(rows[0].classList.contains('band-vanishing'), 'five decades below the median is in the vanishing band');
    assert.ok(rows[2].classList.contains('band-dead'));
    assert.equal(rows[2].querySelector('text.grad-value')!.textContent, '0');
    assert.equal(svg.querySelectorAll('rect.band-vanishing').length, 1);
    assert.equal(svg.querySelectorAll('rect.band-exploding').length, 1);
  });

  it('switches the bars to the update ratio lr*|g|/|w| that core computed, flagged against core\'s limits', () => {
    const { document } = makeDocument();
    const svg = gradNormBars(report.params, { metric: 'ratio', bands: report.bands }, document);
    const values = [...svg.querySelectorAll('rect.grad-bar')].map((r) => Number(r.getAttribute('data-value')));
    assert.deepEqual(values, [5e-11, 5e-7, 0, 5e-6, 3e-5].map((v, i) => report.params[i]!.updateRatio ?? v));
    assert.ok(Math.abs(values[0]! - 5e-11) < 1e-20);
    const rows = [...svg.querySelectorAll('g.grad-row')];
    assert.ok(rows[0]!.classList.contains('band-vanishing'), 'below 1e-6 is too low');
    assert.ok(rows[4]!.classList.contains('band-ok'));
    assert.equal(Number(svg.querySelector('rect.band-vanishing')!.getAttribute('data-limit')), UPDATE_RATIO_LIMITS.low);
  });

  it('draws a histogram per parameter with bar heights proportional to counts', () => {
    const { document } = makeDocument();
    const svg = gradHistograms(report.params, { columns: 2 }, document);
    const cells = [...svg.querySelectorAll('g.hist-cell')];
    assert.equal(cells.length, 5);
    const heights = [...cells[0].querySelectorAll('rect.hist-bar')].map((r) => Number(r.getAttribute('height')));
    assert.ok(Math.abs(heights[2] / heights[1] - 9 / 4) < 1e-9);
  });

  it('shows the check verdicts and thresholds the report carries, deciding none itself', () => {
    const { document } = makeDocument();
    const el = checkSection({ ...report, check: { ...report.check!, verdict: 'fine', method: 'direction', sampled: 5 }, timing: { totalMs: 100, checkMs: 42 } }, document);
    const summary = el.querySelector('.grad-check-summary')!;
    assert.equal(summary.getAttribute('data-verdict'), 'fine', 'the report says fine, although 0.5 is above the float32 bar');
    assert.match(summary.textContent ?? '', /One random direction per tensor \(5 tensors\).*Fine below 0\.03, probably wrong above 0\.3\..*took 42 ms/);
  });

  it('says which method judged each tensor: the joint check, or the tensor\'s own check after the joint one failed', () => {
    const { document } = makeDocument();
    const joint = { relError: 2e-4, tensors: 3, passed: true, threshold: 5e-3 };
    const passed: GradReport = {
      ...report,
      params: report.params.map((p) => ({ ...p, check: { sampled: 1, maxRelError: 2e-4, method: 'joint' as const, verdict: 'fine' as const } })),
      check: { sampled: 3, maxRelError: 2e-4, method: 'joint', verdict: 'fine', thresholds: { fine: 5e-3, wrong: 5e-3 }, joint },
    };
    const el = checkSection(passed, document);
    assert.equal(el.querySelector('.grad-check-summary')!.getAttribute('data-method'), 'joint');
    assert.match(el.querySelector('.grad-check-summary')!.textContent ?? '', /One joint random direction over all 3 tensors: relative error 2e-4 — passed \(below 0\.005\), so every tensor passed with it/);
    assert.deepEqual([...el.querySelectorAll('.grad-check-table tbody tr td:last-child')].map((c) => c.textContent), report.params.map(() => 'fine (joint check)'));
    const failed = checkSection({ ...report, check: { ...report.check!, method: 'direction', joint: { ...joint, relError: 0.04, passed: false } } }, document);
    assert.match(failed.querySelector('.grad-check-summary')!.textContent ?? '', /joint direction over all 3 tensors did not pass .* each tensor was checked on its own\. Central|joint direction over all 3 tensors did not pass .* each tensor was checked on its own\. One random direction/);
    assert.ok(![...failed.querySelectorAll('.grad-check-table tbody tr td:last-child')].some((c) => /joint/.test(c.textContent ?? '')));
  });

  it('saliency cells are max-pooled and scaled by the peak', () => {
    const { document } = makeDocument();
    const svg = saliencyOverlay(report.input.saliency!, { size: 40, maxCells: 2, imageHref: 'data:image/png;base64,AAAA' }, document);
    const cells = [...svg.querySelectorAll('rect.saliency-cell')].map((r) => Number(r.getAttribute('fill-opacity')));
    assert.deepEqual(cells, [Number((5 / 16).toFixed(3)), Number((7 / 16).toFixed(3)), Number((13 / 16).toFixed(3)), 1]);
    assert.equal(svg.querySelectorAll('image').length, 1);
  });

  it('renders the whole panel: header, diagnostics as text, check verdicts, saliency, activations', () => {
    const { document } = makeDocument();
    const selected: string[] = [];
    const el = renderGradPanel(report, { onSelectParam: (n) => selected.push(n) }, document);
    assert.match(el.querySelector('.grad-header')!.textContent!, /loss 2\.3/);
    assert.equal(el.querySelectorAll('b').length, 0, 'diagnostic text is never parsed as markup');
    (el.querySelector('a.diag-link') as HTMLElement).dispatchEvent(new document.defaultView!.Event('click'));
    assert.deepEqual(selected, ['net.0.weight']);
    assert.equal(el.querySelector('.grad-check-summary')!.getAttribute('data-verdict'), 'wrong');
    assert.deepEqual([...el.querySelectorAll('.grad-check-table tbody tr')].map((r) => r.className), ['check-fine', 'check-wrong', 'check-fine']);
    assert.ok(el.querySelector('svg.saliency'));
    assert.equal(el.querySelectorAll('.grad-activations tbody tr').length, 1);
  });

  it('names the predicted classes a --target predicted probe used', () => {
    const { document } = makeDocument();
    assert.doesNotMatch(renderGradPanel(report, {}, document).querySelector('.grad-header')!.textContent!, /predicted/);
    const el = renderGradPanel({ ...report, predictedClasses: [3, 7] }, {}, document);
    assert.match(el.querySelector('.grad-header')!.textContent!, /target: the predicted class \(3, 7\)/);
  });

  it('is the factory the shell mounts: run button posts runGradProbe, update renders, restricted mode explains', () => {
    const { document } = makeDocument();
    assert.equal(pickFactory('grad', gradPanelModule), createGradPanel);
    const posted: WebviewToHost[] = [];
    const panel = createGradPanel({ document, summary: null, trusted: true, post: (m) => posted.push(m), revealLayer: () => undefined });
    (panel.element.querySelector('.grad-run') as HTMLElement).dispatchEvent(new document.defaultView!.Event('click'));
    assert.deepEqual(posted, [{ type: 'runGradProbe' }]);
    panel.update(report);
    assert.ok(panel.element.querySelector('svg.grad-bars'));
    const restricted = createGradPanel({ document, summary: null, trusted: false, post: () => undefined, revealLayer: () => undefined });
    assert.equal(restricted.element.querySelector('.grad-run'), null);
    assert.match(restricted.element.textContent!, /Restricted Mode/);
  });
});
