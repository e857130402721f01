import type { ModelSummary } from '../src/core/analysis/types';
import type { Dim } from '../src/core/ir/types';
import { formatShape } from '../src/core/format';
import { opFamily } from '../src/core/ir/opCatalogue';
import type { OpFamily } from '../src/core/ir/opCatalogue';
import { allScopes, buildScopeTree, scopeKey, scopePath } from '../src/core/analysis/scopes';
import type { ScopeNode } from '../src/core/analysis/scopes';

/**
 * The graph as the view draws it: layers, graph inputs and outputs, and collapsed name scopes standing in for all the
 * layers inside them. Edges follow tensors from producer to consumer and are labelled with the tensor's shape. This
 * module decides what is visible; layout.ts decides where it goes.
 */

export type GraphItemKind = 'layer' | 'scope' | 'input' | 'output';

export interface GraphItem {
  id: string;
  kind: GraphItemKind;
  /** First text line: the op, the scope's name, or the value's name. */
  label: string;
  /** Second text line: the layer's name, the scope's layer count, or the value's shape. */
  detail: string;
  family: OpFamily;
  /** For layers, the index into summary.layers. */
  layerIndex?: number;
  /** For scopes, the scope key. */
  scope?: string;
  /** How many layers the item stands for. */
  size: number;
}

export interface GraphEdge {
  from: string;
  to: string;
  /** The shape of the (first) tensor on the edge. */
  label: string;
  /** How many distinct tensors the edge carries, after collapsing. */
  tensors: number;
}

export interface VisibleGraph {
  items: GraphItem[];
  edges: GraphEdge[];
  /** Expanded scopes that contain at least two visible items, for drawing cluster boxes. */
  clusters: { key: string; name: string; members: string[] }[];
}

export const layerId = (index: number): string => `layer:${index}`;
export const scopeId = (key: string): string => `scope:${key}`;
export const inputId = (name: string): string => `in:${name}`;
export const outputId = (name: string): string => `out:${name}`;

/** Below this many visible items the initial expansion opens scopes regardless of the threshold. */
const MIN_USEFUL_ITEMS = 8;

/** A scope of a single layer is not worth a box of its own: it is always shown open. */
function collapsible(scope: ScopeNode): boolean {
  return scope.size > 1;
}

export class GraphModel {
  readonly tree: ScopeNode;
  private readonly scopesByKey = new Map<string, ScopeNode>();
  private readonly paths: string[][];
  private readonly producer = new Map<string, number>();
  private readonly shapes = new Map<string, Dim[] | null>();

  constructor(readonly summary: ModelSummary) {
    this.tree = buildScopeTree(summary.layers);
    for (const scope of allScopes(this.tree)) this.scopesByKey.set(scope.key, scope);
    this.paths = summary.layers.map((layer) => scopePath(layer.name));
    summary.layers.forEach((layer, i) => {
      for (const out of layer.outputs) {
        this.producer.set(out.name, i);
        this.shapes.set(out.name, out.shape);
      }
    });
    for (const input of summary.inputs) if (!this.shapes.has(input.name)) this.shapes.set(input.name, input.shape);
  }

  scope(key: string): ScopeNode | undefined {
    return this.scopesByKey.get(key);
  }

  /** Keys of the scopes that contain a layer, outermost first. */
  ancestors(layerIndex: number): string[] {
    const path = this.paths[layerIndex] ?? [];
    return path.map((_, i) => scopeKey(path.slice(0, i + 1)));
  }

  /** The id of the visible item that stands for a layer under the given expansion. */
  ownerOf(layerIndex: number, expanded: ReadonlySet<string>): string {
    for (const key of this.ancestors(layerIndex)) {
      const scope = this.scopesByKey.get(key)!;
      if (collapsible(scope) && !expanded.has(key)) return scopeId(key);
    }
    return layerId(layerIndex);
  }

  /** Every collapsible scope, for "expand all". */
  collapsibleKeys(): string[] {
    return allScopes(this.tree)
      .filter((s) => s.path.length > 0 && collapsible(s))
      .map((s) => s.key);
  }

  /**
   * The expansion a graph opens with. Small graphs open fully. Larger ones open breadth-first, expanding a scope only
   * while the number of visible items stays within the threshold, so that a 20,000-node model opens as a readable
   * outline of its top-level blocks.
   */
  initialExpansion(threshold: number): Set<string> {
    const keys = this.collapsibleKeys();
    if (this.summary.layers.length <= threshold) return new Set(keys);
    const expanded = new Set<string>();
    const itemCount = (scope: ScopeNode): number => scope.layers.length + scope.children.length;
    let visible = itemCount(this.tree);
    const queue: ScopeNode[] = [...this.tree.children];
    while (queue.length > 0) {
      const scope = queue.shift()!;
      if (!collapsible(scope)) continue;
      const delta = itemCount(scope) - 1;
      // A view of a handful of boxes says nothing, so wrappers such as a lone top-level module always open.
      if (visible + delta > threshold && visible >= MIN_USEFUL_ITEMS) continue;
      visible += delta;
      expanded.add(scope.key);
      queue.push(...scope.children);
    }
    return expanded;
  }

  /** The items and edges visible under an expansion. */
  visible(expanded: ReadonlySet<string>): VisibleGraph {
    const { summary } = this;
    const items: GraphItem[] = [];
    const seen = new Set<string>();
    const owners = summary.layers.map((_, i) => this.ownerOf(i, expanded));
    summary.inputs.forEach((input) => {
      items.push({
        id: inputId(input.name),
        kind: 'input',
        label: input.name,
        detail: formatShape(input.shape),
        family: 'io',
        size: 0,
      });
    });
    summary.layers.forEach((layer, i) => {
      const owner = owners[i]!;
      if (seen.has(owner)) return;
      seen.add(owner);
      if (owner.startsWith('scope:')) {
        const scope = this.scopesByKey.get(owner.slice('scope:'.length))!;
        items.push({
          id: owner,
          kind: 'scope',
          label: scope.path.join('.'),
          detail: `${scope.size} layers`,
          family: 'scope',
          scope: scope.key,
          size: scope.size,
        });
      } else {
        items.push({ id: owner, kind: 'layer', label: layer.op, detail: layer.name, family: opFamily(layer.op), layerIndex: i, size: 1 });
      }
    });
    summary.outputs.forEach((output) => {
      items.push({
        id: outputId(output.name),
        kind: 'output',
        label: output.name,
        detail: formatShape(output.shape),
        family: 'io',
        size: 0,
      });
    });

    const edges = new Map<string, GraphEdge>();
    const addEdge = (from: string, to: string, value: string): void => {
      if (from === to) return;
      const key = `${from}\u0000${to}`;
      const existing = edges.get(key);
      if (existing) {
        existing.tensors += 1;
        return;
      }
      edges.set(key, { from, to, label: formatShape(this.shapes.get(value) ?? null), tensors: 1 });
    };
    const graphInputs = new Set(summary.inputs.map((v) => v.name));
    summary.layers.forEach((layer, i) => {
      for (const value of layer.inputs) {
        if (!value) continue;
        const p = this.producer.get(value);
        if (p !== undefined) addEdge(owners[p]!, owners[i]!, value);
        else if (graphInputs.has(value)) addEdge(inputId(value), owners[i]!, value);
      }
    });
    for (const output of summary.outputs) {
      const p = this.producer.get(output.name);
      if (p !== undefined) addEdge(owners[p]!, outputId(output.name), output.name);
      else if (graphInputs.has(output.name)) addEdge(inputId(output.name), outputId(output.name), output.name);
    }

    const clusters: VisibleGraph['clusters'] = [];
    const members = new Map<string, Set<string>>();
    summary.layers.forEach((_, i) => {
      const owner = owners[i]!;
      for (const key of this.ancestors(i)) {
        if (!expanded.has(key) || owner === scopeId(key)) break;
        let set = members.get(key);
        if (!set) members.set(key, (set = new Set()));
        set.add(owner);
      }
    });
    for (const [key, set] of members) {
      if (set.size >= 2) clusters.push({ key, name: this.scopesByKey.get(key)!.path.join('.'), members: [...set] });
    }
    return { items, edges: [...edges.values()], clusters };
  }
}
