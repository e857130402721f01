import type { LayerSummary } from './types';

/**
 * Name scopes, for grouping layers in the graph, the breakdown chart and `layerscope summary --by-scope`: one reading
 * of exporter naming and one set of per-scope totals for every view. The numbers summed are the per-layer params and
 * MACs of the analysis.
 *
 * PyTorch's exporter names nodes like `/layer1/layer1.0/conv1/Conv`, where each path segment repeats its parent's
 * qualified name; module paths read from Python source look like `layer1.0.conv1`. Both mean the scope path
 * layer1 / 0 / conv1.
 */
export function scopePath(layerName: string): string[] {
  if (layerName.includes('/')) {
    const segments = layerName.split('/').filter((seg) => seg.length > 0);
    // The last segment names the op instance (Conv, Conv_1), not a module.
    segments.pop();
    const path: string[] = [];
    let previous = '';
    for (const segment of segments) {
      // PyTorch's exporter writes a child either by its full path (`/layer2/layer2.0/`) or by its path under the
      // previous segment (`/downsample/downsample.0/`): either prefix names the parent, so only the rest is new.
      const qualified = path.join('.');
      const parent = qualified && segment.startsWith(qualified + '.') ? qualified : previous && segment.startsWith(previous + '.') ? previous : '';
      const local = parent ? segment.slice(parent.length + 1) : segment;
      for (const part of local.split('.')) if (part) path.push(part);
      previous = segment;
    }
    return path;
  }
  if (layerName.includes('.')) {
    // A dotted module path names the layer itself last; its parents are the scope.
    const parts = layerName.split('.').filter((p) => p.length > 0);
    parts.pop();
    return parts;
  }
  return [];
}

/** The key of a scope path, used as an id. The separator cannot appear inside a segment. */
export function scopeKey(path: readonly string[]): string {
  return path.join('/');
}

export interface ScopeNode {
  /** The last segment, for display. */
  name: string;
  /** The full path, e.g. ['layer1', '0']. */
  path: string[];
  key: string;
  children: ScopeNode[];
  /** Indices into the layer list of the layers directly in this scope. */
  layers: number[];
  /** Number of layers in this scope and all sub-scopes. */
  size: number;
  params: number;
  macs: number;
}

/** Builds the scope tree of a layer list; the root has the empty path and holds every layer. */
export function buildScopeTree(layers: readonly LayerSummary[]): ScopeNode {
  const root: ScopeNode = { name: '', path: [], key: '', children: [], layers: [], size: 0, params: 0, macs: 0 };
  const byKey = new Map<string, ScopeNode>([['', root]]);
  layers.forEach((layer, index) => {
    const path = scopePath(layer.name);
    let node = root;
    for (let depth = 1; depth <= path.length; depth++) {
      const sub = path.slice(0, depth);
      const key = scopeKey(sub);
      let child = byKey.get(key);
      if (!child) {
        child = { name: sub[depth - 1]!, path: sub, key, children: [], layers: [], size: 0, params: 0, macs: 0 };
        byKey.set(key, child);
        node.children.push(child);
      }
      node = child;
    }
    node.layers.push(index);
  });
  const total = (node: ScopeNode): void => {
    node.size = node.layers.length;
    node.params = 0;
    node.macs = 0;
    for (const i of node.layers) {
      node.params += layers[i]!.params;
      node.macs += layers[i]!.macs;
    }
    for (const child of node.children) {
      total(child);
      node.size += child.size;
      node.params += child.params;
      node.macs += child.macs;
    }
  };
  total(root);
  return root;
}

/** Every scope of the tree, parents before children. */
export function allScopes(root: ScopeNode): ScopeNode[] {
  const out: ScopeNode[] = [];
  const walk = (node: ScopeNode): void => {
    out.push(node);
    for (const child of node.children) walk(child);
  };
  walk(root);
  return out;
}

export interface BreakdownItem {
  label: string;
  value: number;
  /** How many layers contributed. */
  count: number;
}

export type BreakdownMetric = 'params' | 'macs';

/**
 * Sums a metric by op type or by scope at a given depth, largest first. Layers outside any scope at that depth are
 * grouped under their own shallower path, or '(top level)' when they have none.
 */
export function breakdown(
  layers: readonly Pick<LayerSummary, 'name' | 'op' | 'params' | 'macs'>[],
  groupBy: 'op' | 'scope',
  metric: BreakdownMetric,
  depth = 1,
): BreakdownItem[] {
  const groups = new Map<string, BreakdownItem>();
  for (const layer of layers) {
    let label: string;
    if (groupBy === 'op') {
      label = layer.op;
    } else {
      const path = scopePath(layer.name).slice(0, depth);
      label = path.length > 0 ? path.join('.') : '(top level)';
    }
    const item = groups.get(label) ?? { label, value: 0, count: 0 };
    item.value += layer[metric];
    item.count += 1;
    groups.set(label, item);
  }
  return [...groups.values()].sort((a, b) => b.value - a.value || a.label.localeCompare(b.label));
}
