/// <reference lib="dom" />
import { strict as assert } from 'node:assert';
import type { WebviewToHost } from '../../../src/protocol/messages';
import type { ProbeReport } from '../../../src/core/reports';
import { InspectorApp } from '../../../webview/app';
import type { PanelHost } from '../../../webview/panels';
import { HOSTILE, deeperBnConvNet, hostileModel, makeDocument } from './fixtures';

function start(loadPanel?: (name: 'probe' | 'grad') => Promise<unknown>) {
  const { document, window } = makeDocument();
  const posted: WebviewToHost[] = [];
  const root = document.getElementById('root')!;
  const app = new InspectorApp(document, root, (m) => posted.push(m), { loadPanel, fallbackSize: { width: 800, height: 600 } });
  return { document, window, root, app, posted };
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

const probeReport: ProbeReport = {
  executionProvider: 'cpu',
  timing: { totalMs: 12.5 },
  layers: [
    {
      name: '/net/net.2/Relu',
      op: 'Relu',
      output: '/net/net.2/Relu_output_0',
      shape: [1, 16, 32, 32],
      stats: { count: 16384, mean: 0.5, std: 0.8, min: 0, max: 4, fracZero: 0.5, fracSaturated: 0, p01: 0, p50: 0.1, p99: 3 },
      histogram: { edges: [0, 1, 2], counts: [10, 5] },
    },
  ],
  diagnostics: [],
};

describe('webview/app', () => {
  it('renders header totals, the table and the graph from one init message', () => {
    const { app, root } = start();
    const summary = deeperBnConvNet();
    app.handle({ type: 'init', panel: 'inspector', title: 'DeeperBNConvNet', summary, trusted: true, collapseThreshold: 500 });
    assert.equal(root.querySelector('.hd-title')!.textContent, 'DeeperBNConvNet');
    const stat = (key: string) => root.querySelector(`.hd-stat[data-key="${key}"] .hd-stat-value`)!.textContent;
    assert.equal(stat('trainableParams'), summary.totals.trainableParams!.toLocaleString('en-US'));
    assert.equal(stat('nonTrainableParams'), summary.totals.nonTrainableParams!.toLocaleString('en-US'));
    assert.match(root.querySelector('.hd-facts')!.textContent!, /opset 13/);
    assert.equal(root.querySelectorAll('.hd-warnings li').length, 1);
    assert.ok(root.querySelector('[role="grid"]'));
    assert.equal(app.graphView!.visibleGraph.items.filter((i) => i.kind === 'layer').length, summary.layers.length);
    assert.ok(root.querySelectorAll('g.gv-node.gv-layer').length > 0);
    assert.equal(root.querySelectorAll('vscode-tab-header').length, 5);
  });

  it('never lets markup from the model reach the DOM as HTML', async () => {
    const { app, root, window } = start();
    app.handle({ type: 'init', panel: 'inspector', title: HOSTILE, summary: hostileModel(), trusted: true, collapseThreshold: 500 });
    app.handle({ type: 'error', message: HOSTILE });
    app.handle({ type: 'probeResult', report: { ...probeReport, layers: [{ ...probeReport.layers[0]!, name: HOSTILE }] } });
    await tick();
    assert.equal(root.querySelectorAll('img, script, b').length, 0, 'no element was parsed from model strings');
    assert.equal((window as unknown as { pwned?: number }).pwned, undefined);
    assert.equal(root.querySelector('.hd-title')!.textContent, HOSTILE, 'the markup is shown as text');
    assert.ok(root.textContent!.includes(HOSTILE));
    const cells = [...root.querySelectorAll('.lt-col-name')].map((c) => c.textContent);
    assert.ok(cells.some((t) => t!.includes('<script>')));
    // Every attribute value that carries a model string is an attribute, not markup.
    for (const el of root.querySelectorAll('*')) {
      for (const attr of el.getAttributeNames()) assert.ok(!attr.startsWith('on'), `no event handler attribute ${attr}`);
    }
  });

  it('keeps markup inert in the real probe and gradient panels too', async () => {
    const { app, root, window } = start((name) => import(`../../../webview/charts/${name}Panel.ts`));
    app.handle({ type: 'init', panel: 'inspector', title: HOSTILE, summary: hostileModel(), trusted: true, collapseThreshold: 500 });
    await tick();
    app.handle({
      type: 'probeResult',
      report: {
        ...probeReport,
        layers: [{ ...probeReport.layers[0]!, name: HOSTILE, output: HOSTILE }],
        diagnostics: [{ kind: 'dead-relu', node: HOSTILE, message: HOSTILE }],
      },
    });
    app.handle({
      type: 'gradResult',
      report: {
        executionProvider: 'cpu',
        loss: 2.3,
        input: { name: HOSTILE, l2: 0.1 },
        params: [{ name: HOSTILE, shape: [4, 3], l2: 0.5, mean: 0, std: 0.1, maxAbs: 0.2, weightL2: 3 }],
        activations: [{ name: HOSTILE, l2: 0.02 }],
      },
    });
    // Loading (and, under tsx, compiling) the panel modules takes a while; results wait for them.
    const boxesShowResults = () =>
      [...root.querySelectorAll('.panel-box')].every((box) => box.textContent!.includes('<script>'));
    for (let waited = 0; waited < 10_000 && !boxesShowResults(); waited += 50) await new Promise((r) => setTimeout(r, 50));
    assert.equal(root.querySelectorAll('img, script, b').length, 0);
    assert.equal((window as unknown as { pwned?: number }).pwned, undefined);
    const boxes = [...root.querySelectorAll('.panel-box')];
    assert.equal(boxes.length, 2);
    for (const box of boxes) assert.ok(box.textContent!.includes('<script>'), 'each panel shows the hostile name as text');
  });

  it('reveals a layer by name in the table and the graph', () => {
    const { app, root } = start();
    const summary = deeperBnConvNet();
    app.handle({ type: 'init', panel: 'inspector', title: 't', summary, trusted: true, collapseThreshold: 500 });
    app.handle({ type: 'revealLayer', name: '/net/net.9/Conv' });
    assert.equal(app.layerTable!.activeLayer, 9);
    assert.ok(root.querySelector('[data-id="layer:9"]')!.classList.contains('gv-selected'));
    assert.equal(app.rfExplorer!.currentLayer, 9);
  });

  it('posts layerSelected when a row is clicked', () => {
    const { app, root, posted } = start();
    app.handle({ type: 'init', panel: 'inspector', title: 't', summary: deeperBnConvNet(), trusted: true, collapseThreshold: 500 });
    (root.querySelector('.lt-body [data-layer="3"] .lt-col-op') as HTMLElement).click();
    assert.deepEqual(posted.at(-1), { type: 'layerSelected', name: '/net/net.3/Conv' });
    assert.ok(root.querySelector('[data-id="layer:3"]')!.classList.contains('gv-selected'));
  });

  it('reports the first paint to the host', async () => {
    const { app, posted } = start();
    app.handle({ type: 'init', panel: 'inspector', title: 't', summary: deeperBnConvNet(), trusted: true, collapseThreshold: 500 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const rendered = posted.find((m) => m.type === 'rendered');
    assert.ok(rendered && rendered.type === 'rendered');
    assert.match(rendered.what, /24 layers/);
    assert.ok(rendered.ms >= 0);
  });

  it('shows busy and error states', () => {
    const { app, root } = start();
    app.handle({ type: 'busy', message: 'Running probe…' });
    assert.match(root.querySelector('.status')!.textContent!, /Running probe/);
    app.handle({ type: 'busy', message: null });
    assert.equal(root.querySelector('.status')!.textContent, '');
  });

  it('offers Cancel beside a running probe and asks the host to cancel that probe', () => {
    const { app, root, posted } = start();
    app.handle({ type: 'busy', message: 'Loading model…' });
    assert.equal(root.querySelector('.status-cancel'), null, 'no Cancel where nothing can be cancelled');
    for (const probe of ['gradient', 'activation'] as const) {
      app.handle({ type: 'busy', message: 'Probe running…', cancel: probe });
      const button = root.querySelector('.status-cancel') as HTMLElement;
      assert.ok(button, `a Cancel button for the ${probe} probe`);
      button.click();
      assert.deepEqual(posted[posted.length - 1], { type: 'cancelProbe', probe });
      assert.ok(button.hasAttribute('disabled'), 'Cancel is disabled once pressed');
    }
    app.handle({ type: 'busy', message: null });
    assert.equal(root.querySelector('.status-cancel'), null, 'the button goes with the line');
  });

  it('mounts a panel module when the bundle has one and forwards its results', async () => {
    const updates: ProbeReport[] = [];
    let host: PanelHost | null = null;
    const loadPanel = async (name: 'probe' | 'grad') => {
      if (name !== 'probe') throw new Error('not bundled');
      return {
        createProbePanel: (h: PanelHost) => {
          host = h;
          return { element: h.document.createElement('div'), update: (r: ProbeReport) => updates.push(r) };
        },
      };
    };
    const { app, root, posted } = start(loadPanel);
    app.handle({ type: 'init', panel: 'probe', title: 't', summary: deeperBnConvNet(), trusted: false, collapseThreshold: 500 });
    app.handle({ type: 'probeResult', report: probeReport });
    await tick();
    assert.equal(updates.length, 1, 'a result that arrived before the panel loaded is delivered once it has');
    assert.equal(host!.trusted, false);
    host!.post({ type: 'runProbe' });
    assert.deepEqual(posted.at(-1), { type: 'runProbe' });
    // The gradient panel failed to load: its message shows, and is logged, instead of a lesser stand-in.
    assert.match(root.querySelector('.panel-error')!.textContent!, /The grad panel could not load: not bundled/);
    assert.ok(posted.some((m) => m.type === 'log' && /grad panel could not load: not bundled/.test(m.message)));
  });

  it('asks the host for a clicked node\'s details and shows them beside the graph', () => {
    const { app, root, posted, window } = start();
    const summary = deeperBnConvNet();
    app.handle({ type: 'init', panel: 'inspector', title: 'DeeperBNConvNet', summary, trusted: true, collapseThreshold: 500 });
    app.graphView!.fit();
    const node = root.querySelector('.gv-node.op-conv')!;
    node.dispatchEvent(new (window as unknown as typeof globalThis).MouseEvent('click', { bubbles: true }));
    const request = posted.find((m) => m.type === 'nodeDetails') as { type: 'nodeDetails'; layer: number } | undefined;
    assert.ok(request, 'a nodeDetails request');
    assert.equal(summary.layers[request.layer]!.op, 'Conv');
    const panel = root.querySelector('.node-details') as HTMLElement;
    assert.equal(panel.hidden, true, 'hidden until the answer arrives');
    app.handle({
      type: 'nodeDetails',
      details: { layer: request.layer, name: 'conv', op: 'Conv', attributes: [{ name: 'strides', value: '[2, 2]' }], inputs: [], outputs: [], params: 448, macs: 1000 },
    });
    assert.equal(panel.hidden, false);
    assert.match(panel.textContent ?? '', /strides\[2, 2\]/);
    assert.match(panel.querySelector('.nd-params')!.textContent ?? '', /448/);
  });
});
