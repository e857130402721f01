/**
 * A small Sugiyama-style layered layout: longest-path layering, dummy nodes for long edges, barycentric crossing
 * reduction, and a median-pull coordinate assignment. elkjs gives prettier results on small graphs, but it needs
 * seconds for a 2,000-node transformer in a webview (see webview/bench/layoutBench.mjs); this runs in tens of
 * milliseconds, which keeps expanding and collapsing scopes interactive.
 */

export interface LayoutNodeInput {
  id: string;
  width: number;
  height: number;
}

export interface LayoutEdgeInput {
  from: string;
  to: string;
}

export interface LayoutOptions {
  /** Vertical space between layers. */
  layerGap?: number;
  /** Horizontal space between neighbouring nodes. */
  nodeGap?: number;
  /** Barycentre sweeps (down and up count as one each). */
  sweeps?: number;
}

export interface LayoutResult {
  /** Centre positions. */
  nodes: Map<string, { x: number; y: number; width: number; height: number; layer: number }>;
  /** Polylines from the source's bottom to the target's top, through the dummy nodes of long edges. */
  edges: { from: string; to: string; points: { x: number; y: number }[] }[];
  width: number;
  height: number;
}

interface Vertex {
  id: string;
  width: number;
  height: number;
  layer: number;
  order: number;
  x: number;
  dummy: boolean;
  up: number[];
  down: number[];
}

export function layeredLayout(
  nodes: readonly LayoutNodeInput[],
  edges: readonly LayoutEdgeInput[],
  options: LayoutOptions = {},
): LayoutResult {
  const layerGap = options.layerGap ?? 48;
  const nodeGap = options.nodeGap ?? 24;
  const sweeps = options.sweeps ?? 8;
  const index = new Map<string, number>();
  const vertices: Vertex[] = nodes.map((n, i) => {
    index.set(n.id, i);
    return { id: n.id, width: n.width, height: n.height, layer: 0, order: 0, x: 0, dummy: false, up: [], down: [] };
  });
  const realEdges = edges
    .map((e) => ({ from: index.get(e.from), to: index.get(e.to) }))
    .filter((e): e is { from: number; to: number } => e.from !== undefined && e.to !== undefined && e.from !== e.to);

  // Layering by longest path over a topological order. Models are acyclic, but the view must not hang on a bad
  // file, so edges that close a cycle are reversed (they are the ones Kahn's algorithm never releases).
  const n = vertices.length;
  const outs: number[][] = Array.from({ length: n }, () => []);
  const indegree = new Array<number>(n).fill(0);
  for (const e of realEdges) {
    outs[e.from]!.push(e.to);
    indegree[e.to]!++;
  }
  const order: number[] = [];
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (indegree[i] === 0) queue.push(i);
  const placed = new Array<boolean>(n).fill(false);
  for (let head = 0; order.length < n; ) {
    if (head >= queue.length) {
      // A cycle: release the first unplaced vertex to break it.
      const next = placed.findIndex((p) => !p);
      queue.push(next);
    }
    const v = queue[head++]!;
    if (placed[v]) continue;
    placed[v] = true;
    order.push(v);
    for (const w of outs[v]!) if (--indegree[w]! === 0 && !placed[w]) queue.push(w);
  }
  const rank = new Array<number>(n).fill(0);
  order.forEach((v, i) => (rank[v] = i));
  for (const v of order) {
    for (const w of outs[v]!) if (rank[w]! > rank[v]!) vertices[w]!.layer = Math.max(vertices[w]!.layer, vertices[v]!.layer + 1);
  }
  // Pull sources down next to their first consumer, so that graph inputs and weights-only branches do not all sit
  // in layer 0 far from where they are used.
  const hasIncoming = new Array<boolean>(n).fill(false);
  for (const e of realEdges) hasIncoming[e.to] = true;
  for (let k = order.length - 1; k >= 0; k--) {
    const v = order[k]!;
    const consumers = outs[v]!.filter((w) => rank[w]! > rank[v]!);
    if (consumers.length > 0 && !hasIncoming[v]) {
      vertices[v]!.layer = Math.max(0, Math.min(...consumers.map((w) => vertices[w]!.layer)) - 1);
    }
  }

  // Long edges become chains of dummy vertices, one per layer crossed.
  const chains: { from: string; to: string; path: number[] }[] = [];
  for (const e of realEdges) {
    let a = e.from;
    let b = e.to;
    if (vertices[a]!.layer > vertices[b]!.layer) [a, b] = [b, a];
    const path = [a];
    let prev = a;
    for (let layer = vertices[a]!.layer + 1; layer < vertices[b]!.layer; layer++) {
      const d = vertices.length;
      vertices.push({ id: '', width: 8, height: 0, layer, order: 0, x: 0, dummy: true, up: [], down: [] });
      vertices[prev]!.down.push(d);
      vertices[d]!.up.push(prev);
      path.push(d);
      prev = d;
    }
    if (vertices[prev]!.layer === vertices[b]!.layer) {
      // Same-layer edges only arise from broken cycles; draw them straight across.
    } else {
      vertices[prev]!.down.push(b);
      vertices[b]!.up.push(prev);
    }
    path.push(b);
    chains.push({ from: nodes[e.from]!.id, to: nodes[e.to]!.id, path: a === e.from ? path : path.reverse() });
  }

  // Initial order: depth-first from the sources, which keeps chains of a block together.
  const layerCount = vertices.reduce((m, v) => Math.max(m, v.layer + 1), 0);
  const layers: number[][] = Array.from({ length: layerCount }, () => []);
  const visited = new Array<boolean>(vertices.length).fill(false);
  const stack: number[] = [];
  for (let i = vertices.length - 1; i >= 0; i--) if (vertices[i]!.up.length === 0) stack.push(i);
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (visited[v]) continue;
    visited[v] = true;
    layers[vertices[v]!.layer]!.push(v);
    const down = vertices[v]!.down;
    for (let i = down.length - 1; i >= 0; i--) if (!visited[down[i]!]) stack.push(down[i]!);
  }
  vertices.forEach((v, i) => {
    if (!visited[i]) layers[v.layer]!.push(i);
  });
  const renumber = (layer: number[]): void => layer.forEach((v, i) => (vertices[v]!.order = i));
  layers.forEach(renumber);

  // Barycentre sweeps: each vertex moves to the mean position of its neighbours in the layer just fixed.
  const bary = (v: number, neighbours: number[]): number => {
    if (neighbours.length === 0) return vertices[v]!.order;
    let sum = 0;
    for (const w of neighbours) sum += vertices[w]!.order;
    return sum / neighbours.length;
  };
  for (let s = 0; s < sweeps; s++) {
    const downward = s % 2 === 0;
    const range = downward ? [...layers.keys()].slice(1) : [...layers.keys()].reverse().slice(1);
    for (const l of range) {
      const layer = layers[l]!;
      const keys = new Map<number, number>();
      for (const v of layer) keys.set(v, bary(v, downward ? vertices[v]!.up : vertices[v]!.down));
      layer.sort((a, b) => keys.get(a)! - keys.get(b)! || vertices[a]!.order - vertices[b]!.order);
      renumber(layer);
    }
  }

  // Coordinates: pack each layer left to right, then repeatedly pull vertices toward their neighbours' mean x while
  // keeping the order and the minimum gap (a forward pass pushes right, a backward pass pulls back left).
  for (const layer of layers) {
    let x = 0;
    for (const v of layer) {
      const vx = vertices[v]!;
      vx.x = x + vx.width / 2;
      x += vx.width + nodeGap;
    }
  }
  // Places a layer as close to the desired positions as the order and gaps allow: the mean of a left-to-right
  // push and a right-to-left push. Both satisfy the gap constraints, so their mean does too, and it is unbiased.
  const place = (layer: number[], desired: number[]): void => {
    const gap = (i: number): number => (vertices[layer[i]!]!.width + vertices[layer[i + 1]!]!.width) / 2 + nodeGap;
    const right = desired.slice();
    for (let i = 1; i < layer.length; i++) right[i] = Math.max(right[i]!, right[i - 1]! + gap(i - 1));
    const left = desired.slice();
    for (let i = layer.length - 2; i >= 0; i--) left[i] = Math.min(left[i]!, left[i + 1]! - gap(i));
    layer.forEach((v, i) => (vertices[v]!.x = (left[i]! + right[i]!) / 2));
  };
  // A vertex follows its real neighbours when it has any: letting the dummy chains of skip connections pull on it
  // would shift every residual block sideways by half a node and make a deep network drift across the canvas.
  const meanX = (v: number, neighbours: number[]): number => {
    const real = neighbours.filter((w) => !vertices[w]!.dummy);
    const pull = real.length > 0 ? real : neighbours;
    if (pull.length === 0) return vertices[v]!.x;
    let sum = 0;
    for (const w of pull) sum += vertices[w]!.x;
    return sum / pull.length;
  };
  for (let s = 0; s < 6; s++) {
    const downward = s % 2 === 0;
    const range = downward ? [...layers.keys()] : [...layers.keys()].reverse();
    for (const l of range) {
      const layer = layers[l]!;
      place(
        layer,
        layer.map((v) => {
          const vx = vertices[v]!;
          const primary = downward ? vx.up : vx.down;
          return meanX(v, primary.length > 0 ? primary : [...vx.up, ...vx.down]);
        }),
      );
    }
  }

  // Shift everything to start at x = 0 and stack the layers by their tallest vertex.
  let minX = Infinity;
  let maxX = -Infinity;
  for (const v of vertices) {
    minX = Math.min(minX, v.x - v.width / 2);
    maxX = Math.max(maxX, v.x + v.width / 2);
  }
  if (!Number.isFinite(minX)) minX = maxX = 0;
  const layerY: number[] = [];
  const layerHeight = layers.map((layer) => layer.reduce((m, v) => Math.max(m, vertices[v]!.height), 0));
  let y = 0;
  for (let l = 0; l < layerCount; l++) {
    layerY.push(y + layerHeight[l]! / 2);
    y += layerHeight[l]! + layerGap;
  }

  const result: LayoutResult = { nodes: new Map(), edges: [], width: maxX - minX, height: Math.max(0, y - layerGap) };
  nodes.forEach((node, i) => {
    const v = vertices[i]!;
    result.nodes.set(node.id, { x: v.x - minX, y: layerY[v.layer]!, width: v.width, height: v.height, layer: v.layer });
  });
  for (const chain of chains) {
    const points = chain.path.map((vi, k) => {
      const v = vertices[vi]!;
      const yy = layerY[v.layer]!;
      if (v.dummy) return { x: v.x - minX, y: yy };
      const last = k === chain.path.length - 1;
      return { x: v.x - minX, y: last ? yy - v.height / 2 : yy + v.height / 2 };
    });
    result.edges.push({ from: chain.from, to: chain.to, points });
  }
  return result;
}
