/// <reference lib="dom" />
import { strict as assert } from 'node:assert';
import { GraphModel, layerId } from '../../../webview/graphModel';
import { GraphView } from '../../../webview/graphView';
import { blockChain, deeperBnConvNet, makeDocument } from './fixtures';

describe('webview/graphView', () => {
  it('draws a node for every layer of a small graph, coloured by op family', () => {
    const { document } = makeDocument();
    const summary = deeperBnConvNet();
    const view = new GraphView(document, new GraphModel(summary), { collapseThreshold: 500 });
    document.body.appendChild(view.element);
    // Only what is in view is in the document; fitting the whole graph brings every node in.
    view.fit();
    const nodes = view.svg.querySelectorAll('g.gv-node.gv-layer');
    assert.equal(nodes.length, summary.layers.length);
    assert.equal(view.svg.querySelectorAll('g.gv-node.op-conv').length, 7);
    assert.equal(view.svg.querySelectorAll('g.gv-node.op-norm').length, 7);
    const labels = [...view.svg.querySelectorAll('.gv-edge-label')].map((t) => t.textContent);
    assert.ok(labels.includes('[1, 16, 32, 32]'));
  });

  it('never draws two edge labels over each other where a node fans out', () => {
    const { document } = makeDocument();
    const base = deeperBnConvNet();
    // A Split whose four outputs feed four convolutions side by side: four different shapes leave one node.
    const split = { ...base.layers[0]!, name: '/split/Split', op: 'Split', inputs: ['input'], outputs: [0, 1, 2, 3].map((k) => ({ name: `part${k}`, shape: [1, 64, 224, 224 + k], dtype: 'float32' as const })), params: 0, macs: 0 };
    const convs = [0, 1, 2, 3].map((k) => ({ ...base.layers[0]!, name: `/branch${k}/Conv`, inputs: [`part${k}`], outputs: [{ name: `out${k}`, shape: [1, 64, 112, 112 + k], dtype: 'float32' as const }] }));
    const summary = { ...base, layers: [split, ...convs] };
    const view = new GraphView(document, new GraphModel(summary), { collapseThreshold: 500 });
    document.body.appendChild(view.element);
    view.fit();
    const boxes = [...view.svg.querySelectorAll('.gv-edge-label')].map((t) => {
      const x = Number(t.getAttribute('x'));
      const y = Number(t.getAttribute('y'));
      return { x0: x, x1: x + (t.textContent ?? '').length * 5.6, y0: y - 11, y1: y, text: t.textContent };
    });
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i]!;
        const b = boxes[j]!;
        assert.ok(!(a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1), `"${a.text}" and "${b.text}" overlap`);
      }
    }
    // A label that had no room is not lost: it is the edge's tooltip.
    const tooltips = [...view.svg.querySelectorAll('g.gv-edge > title')].map((t) => t.textContent);
    const branch = [...boxes.map((b) => b.text), ...tooltips].filter((t) => /^\[1, 64, 224, 22[4-7]\]$/.test(t ?? ''));
    assert.equal(new Set(branch).size, 4, `each of the four tensors is labelled or has a tooltip: ${branch.join(' ')}`);
    assert.ok(boxes.length >= 2, 'at least two labels found room');
  });

  it('opens a 20,000-layer graph collapsed and expands a scope on click', () => {
    const { document } = makeDocument();
    const summary = blockChain(20000);
    const view = new GraphView(document, new GraphModel(summary), { collapseThreshold: 300 });
    view.fit();
    const scopes = view.svg.querySelectorAll('g.gv-node.gv-scope');
    assert.ok(scopes.length > 0);
    assert.equal(view.visibleGraph.items.filter((i) => i.kind === 'layer').length, 0, 'no single layer is drawn');
    const target = scopes[0] as SVGGElement;
    const key = target.getAttribute('data-id')!.slice('scope:'.length);
    target.querySelector('rect')!.dispatchEvent(new (document.defaultView!.MouseEvent)('click', { bubbles: true }));
    assert.ok(view.expandedScopes.has(key));
    assert.ok(!view.svg.querySelector(`[data-id="scope:${key}"]`), 'the expanded scope is no longer a node');
  });

  it('reveals a hidden layer by expanding its scopes and selecting it', () => {
    const { document } = makeDocument();
    const view = new GraphView(document, new GraphModel(blockChain(2000)), { collapseThreshold: 100 });
    assert.ok(!view.svg.querySelector(`[data-id="${layerId(1234)}"]`));
    view.revealLayer(1234);
    const node = view.svg.querySelector(`[data-id="${layerId(1234)}"]`);
    assert.ok(node, 'the layer is drawn');
    assert.ok(node.classList.contains('gv-selected'));
    const inDocument = view.svg.querySelectorAll('g.gv-node').length;
    assert.ok(inDocument > 0 && inDocument < view.visibleGraph.items.length, `off-screen nodes are detached (${inDocument})`);
    assert.equal(view.shownNodeCount, view.svg.querySelectorAll('.gv-viewport > g > g').length);
  });

  it('steps through search matches', () => {
    const { document } = makeDocument();
    const view = new GraphView(document, new GraphModel(deeperBnConvNet()), { collapseThreshold: 500 });
    assert.deepEqual(view.search('conv'), { count: 7, index: 0 });
    assert.ok(view.svg.querySelector(`[data-id="${layerId(0)}"]`)!.classList.contains('gv-selected'));
    assert.deepEqual(view.search('Conv'), { count: 7, index: 1 });
    assert.ok(view.svg.querySelector(`[data-id="${layerId(3)}"]`)!.classList.contains('gv-selected'));
    assert.deepEqual(view.search('relu'), { count: 7, index: 0 });
    assert.deepEqual(view.search('no such layer'), { count: 0, index: -1 });
  });

  it('reports clicks on layers', () => {
    const { document } = makeDocument();
    const selected: number[] = [];
    const view = new GraphView(document, new GraphModel(deeperBnConvNet()), { collapseThreshold: 500, onSelectLayer: (i) => selected.push(i) });
    view.fit();
    const node = view.svg.querySelector(`[data-id="${layerId(4)}"] text`)!;
    node.dispatchEvent(new (document.defaultView!.MouseEvent)('click', { bubbles: true }));
    assert.deepEqual(selected, [4]);
  });

  it('pans and zooms with the keyboard', () => {
    const { document } = makeDocument();
    const view = new GraphView(document, new GraphModel(deeperBnConvNet()), { collapseThreshold: 500 });
    const key = (k: string) => view.svg.dispatchEvent(new (document.defaultView!.KeyboardEvent)('keydown', { key: k, bubbles: true }));
    const transform = () => view.svg.querySelector('.gv-viewport')!.getAttribute('transform')!;
    const parse = () => transform().match(/-?\d+(?:\.\d+)?(?:e-?\d+)?/g)!.map(Number);
    const [x0, y0, k0] = parse() as [number, number, number];
    key('ArrowRight');
    const [x1, y1] = parse() as [number, number];
    assert.equal(x1, x0 - 80);
    assert.equal(y1, y0);
    key('+');
    assert.ok(Math.abs(parse()[2]! - k0 * 1.25) < 1e-9);
    assert.equal(view.svg.getAttribute('tabindex'), '0');
  });

  it('exports a standalone SVG of the whole graph', () => {
    const { document } = makeDocument();
    const summary = deeperBnConvNet();
    const view = new GraphView(document, new GraphModel(summary), { collapseThreshold: 500 });
    const before = view.svg.querySelectorAll('g.gv-node').length;
    const { svg, width, height } = view.exportSvg();
    assert.equal(view.svg.querySelectorAll('g.gv-node').length, before, 'the live view is culled again afterwards');
    assert.ok(width > 0 && height > 0);
    const parsed = new (document.defaultView!.DOMParser)().parseFromString(svg, 'image/svg+xml');
    assert.equal(parsed.querySelector('parsererror'), null);
    assert.equal(parsed.documentElement.namespaceURI, 'http://www.w3.org/2000/svg');
    assert.ok(svg.startsWith('<svg'));
    assert.equal(parsed.querySelectorAll('g.gv-node.gv-layer').length, summary.layers.length);
    assert.equal(parsed.querySelector('.gv-viewport')!.getAttribute('transform'), null);
  });

  it('highlights matches as the query is typed, scopes holding a match included, without moving the view', () => {
    const { document } = makeDocument();
    const summary = deeperBnConvNet();
    const view = new GraphView(document, new GraphModel(summary), { collapseThreshold: 500 });
    document.body.appendChild(view.element);
    view.fit();
    const before = view.svg.querySelector('.gv-viewport')!.getAttribute('transform');
    assert.equal(view.highlight('batchnorm'), 7);
    assert.equal(view.svg.querySelectorAll('g.gv-node.gv-match').length, 7);
    assert.equal(view.svg.querySelector('.gv-viewport')!.getAttribute('transform'), before, 'highlighting alone does not pan');
    assert.equal(view.highlight('no such layer'), 0);
    assert.equal(view.svg.querySelectorAll('g.gv-node.gv-match').length, 0);
    assert.equal(view.highlight(''), 0);

    const big = new GraphView(document, new GraphModel(blockChain(2000)), { collapseThreshold: 300 });
    big.fit();
    const name = blockChain(2000).layers[1500]!.name;
    assert.equal(big.highlight(name), 1);
    const lit = [...big.svg.querySelectorAll('g.gv-node.gv-match')];
    assert.equal(lit.length, 1);
    assert.ok(lit[0]!.classList.contains('gv-scope'), 'the collapsed scope that holds the match lights up');
  });
});
