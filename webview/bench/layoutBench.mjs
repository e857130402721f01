// Measures the graph layout on a synthetic transformer-sized graph: Layerscope's own layered layout against the
// well-kept layered layouts a webview could load instead: elkjs (its bundled, single-threaded build), dagre and
// d3-dag's Sugiyama. Each library gets its own defaults for a top-down layered drawing.
// Run with: npx tsx webview/bench/layoutBench.mjs [nodeCount]
import ELK from 'elkjs/lib/elk.bundled.js';
import dagre from '@dagrejs/dagre';
import { graphConnect, sugiyama, decrossTwoLayer, coordSimplex, layeringLongestPath } from 'd3-dag';
import { layeredLayout } from '../layout.ts';

const target = Number(process.argv[2] ?? 2000);

/** A ViT-like encoder: per block LayerNorm, Q/K/V MatMuls, attention, projection, residual Add, MLP, residual Add. */
function transformerGraph(count) {
  const nodes = [];
  const edges = [];
  const add = (id, ...from) => {
    nodes.push({ id, width: 120, height: 36 });
    for (const f of from) edges.push({ from: f, to: id });
    return id;
  };
  let x = add('input');
  for (let b = 0; nodes.length < count; b++) {
    const p = `b${b}/`;
    const ln = add(p + 'ln1', x);
    const q = add(p + 'q', ln);
    const k = add(p + 'k', ln);
    const v = add(p + 'v', ln);
    const kt = add(p + 'kT', k);
    const s = add(p + 'scores', q, kt);
    const sc = add(p + 'scale', s);
    const sm = add(p + 'softmax', sc);
    const av = add(p + 'attnV', sm, v);
    const r = add(p + 'reshape', av);
    const o = add(p + 'proj', r);
    const res1 = add(p + 'add1', x, o);
    const ln2 = add(p + 'ln2', res1);
    const f1 = add(p + 'fc1', ln2);
    const g = add(p + 'gelu', f1);
    const f2 = add(p + 'fc2', g);
    x = add(p + 'add2', res1, f2);
  }
  return { nodes, edges };
}

const { nodes, edges } = transformerGraph(target);
console.log(`graph: ${nodes.length} nodes, ${edges.length} edges`);

for (let run = 0; run < 3; run++) {
  const t0 = performance.now();
  const result = layeredLayout(nodes, edges);
  console.log(`layeredLayout run ${run}: ${(performance.now() - t0).toFixed(1)} ms (${result.width.toFixed(0)}×${result.height.toFixed(0)})`);
}

const elk = new ELK();
for (let run = 0; run < 2; run++) {
  const t0 = performance.now();
  await elk.layout({
    id: 'root',
    layoutOptions: { 'elk.algorithm': 'layered', 'elk.direction': 'DOWN' },
    children: nodes.map((n) => ({ id: n.id, width: n.width, height: n.height })),
    edges: edges.map((e, i) => ({ id: `e${i}`, sources: [e.from], targets: [e.to] })),
  });
  console.log(`elkjs layered run ${run}: ${(performance.now() - t0).toFixed(1)} ms`);
}

for (let run = 0; run < 2; run++) {
  const t0 = performance.now();
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'TB' });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: n.width, height: n.height });
  for (const e of edges) g.setEdge(e.from, e.to);
  dagre.layout(g);
  console.log(`dagre run ${run}: ${(performance.now() - t0).toFixed(1)} ms`);
}

// d3-dag's defaults (optimal decrossing, quadratic coordinates) do not finish on thousands of nodes; these are its
// documented fast choices.
for (let run = 0; run < 2; run++) {
  const t0 = performance.now();
  const dag = graphConnect()(edges.map((e) => [e.from, e.to]));
  const layout = sugiyama()
    .layering(layeringLongestPath())
    .decross(decrossTwoLayer())
    .coord(coordSimplex())
    .nodeSize(() => [120, 36]);
  layout(dag);
  console.log(`d3-dag sugiyama (longest path, two-layer, simplex) run ${run}: ${(performance.now() - t0).toFixed(1)} ms`);
}
