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

  // Coordinates, after Brandes and Köpf: each vertex is aligned with a median upper neighbour into a vertical block
  // that shares one x, so chains and long edges run straight; blocks are then packed as tightly as the order and
  // gaps allow. Packing leftwards and rightwards and averaging the two keeps the drawing balanced without drift.
  const left = assignX(vertices, layers, nodeGap, false);
  const right = assignX(vertices, layers, nodeGap, true);
  const centre = (xs: number[]): number => {
    let lo = Infinity;
    let hi = -Infinity;
    xs.forEach((x, i) => {
      lo = Math.min(lo, x - vertices[i]!.width / 2);
      hi = Math.max(hi, x + vertices[i]!.width / 2);
    });
    return (lo + hi) / 2;
  };
  const shift = centre(left) - centre(right);
  vertices.forEach((v, i) => (v.x = (left[i]! + right[i]! + shift) / 2));

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

/**
 * One Brandes–Köpf pass: vertical alignment with the upper median neighbours, then compaction as a longest path over
 * the "is left of" relation between blocks. `mirror` packs from the right instead (by reversing each layer's order).
 */
function assignX(vertices: readonly Vertex[], layers: readonly number[][], nodeGap: number, mirror: boolean): number[] {
  const n = vertices.length;
  const order = new Array<number>(n).fill(0);
  const rows = layers.map((layer) => (mirror ? [...layer].reverse() : [...layer]));
  rows.forEach((row) => row.forEach((v, i) => (order[v] = i)));
  const root = Array.from({ length: n }, (_, i) => i);
  const align = Array.from({ length: n }, (_, i) => i);
  for (let l = 1; l < rows.length; l++) {
    let r = -1;
    for (const v of rows[l]!) {
      const ups = [...vertices[v]!.up].sort((a, b) => order[a]! - order[b]!);
      if (ups.length === 0) continue;
      // Prefer a dummy neighbour, so that long edges stay straight even where a real parent also competes.
      const dummyUp = ups.find((u) => vertices[u]!.dummy && vertices[v]!.dummy);
      const medians = dummyUp !== undefined ? [dummyUp] : [ups[Math.floor((ups.length - 1) / 2)]!, ups[Math.ceil((ups.length - 1) / 2)]!];
      for (const m of medians) {
        if (align[v] !== v) break;
        if (align[m] === m && order[m]! > r) {
          align[m] = v;
          root[v] = root[m]!;
          align[v] = root[v]!;
          r = order[m]!;
        }
      }
    }
  }
  // Block graph: block(u) must sit left of block(w) when u is w's left neighbour in some layer.
  const sep = new Map<number, Map<number, number>>();
  const indegree = new Array<number>(n).fill(0);
  for (const row of rows) {
    for (let i = 1; i < row.length; i++) {
      const u = row[i - 1]!;
      const w = row[i]!;
      const a = root[u]!;
      const b = root[w]!;
      if (a === b) continue;
      const gap = (vertices[u]!.width + vertices[w]!.width) / 2 + nodeGap;
      let out = sep.get(a);
      if (!out) sep.set(a, (out = new Map()));
      const existing = out.get(b);
      if (existing === undefined) indegree[b]!++;
      if (existing === undefined || existing < gap) out.set(b, gap);
    }
  }
  const blockX = new Array<number>(n).fill(0);
  const queue: number[] = [];
  for (let v = 0; v < n; v++) if (root[v] === v && indegree[v] === 0) queue.push(v);
  for (let head = 0; head < queue.length; head++) {
    const a = queue[head]!;
    for (const [b, gap] of sep.get(a) ?? []) {
      blockX[b] = Math.max(blockX[b]!, blockX[a]! + gap);
      if (--indegree[b]! === 0) queue.push(b);
    }
  }
  return vertices.map((_, v) => (mirror ? -blockX[root[v]!]! : blockX[root[v]!]!));
}
