import { select } from 'd3-selection';
import { curveBasis, line } from 'd3-shape';
import { zoom as d3zoom, zoomIdentity } from 'd3-zoom';
import type { ZoomBehavior, ZoomTransform } from 'd3-zoom';
import { clear, h, s } from './dom';
import { layeredLayout } from './layout';
import type { LayoutResult } from './layout';
import { layerId } from './graphModel';
import type { GraphItem, GraphModel, VisibleGraph } from './graphModel';

export interface GraphViewOptions {
  /** Graphs with more layers than this open with their scopes collapsed. */
  collapseThreshold: number;
  /** Called when a layer node is clicked. */
  onSelectLayer?: (layerIndex: number) => void;
  /** Size used before the view has layout (hidden tab, jsdom). */
  fallbackSize?: { width: number; height: number };
}

const NODE_HEIGHT = 36;
const CHAR_WIDTH = 6.6;


/** The edge labels' 9 px monospace advance and line height, to keep two labels from being drawn over each other. */
const EDGE_LABEL_CHAR_PX = 5.6;
const EDGE_LABEL_LINE_PX = 11;

/** Node boxes are sized from their text length, which needs no DOM measurement and so works before layout. */
export function nodeWidth(item: GraphItem): number {
  // Scope labels carry a two-character disclosure mark.
  const chars = Math.max(item.label.length + (item.kind === 'scope' ? 2 : 0), Math.min(item.detail.length, 40));
  return Math.max(72, Math.min(260, Math.round(chars * CHAR_WIDTH + 20)));
}

function truncate(text: string, max: number): string {
  return text.length > max ? `…${text.slice(text.length - max + 1)}` : text;
}

interface Drawn {
  el: SVGGElement;
  /** The layer group the element belongs in while it is in view. */
  parent: SVGGElement;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Whether the element is in the document now. */
  shown: boolean;
}

/**
 * The graph panel: a layered layout drawn with plain SVG shapes, panned and zoomed with d3-zoom. To stay fluid on
 * thousands of nodes only what is in view is in the document: Chromium relayouts every child of the <svg> when the
 * zoom transform changes (measured at 150 ms a frame for 2,000 nodes even with the off-screen ones display:none), so
 * off-screen elements are detached after each zoom frame and reattached as they come into view. Edge labels drop out
 * when zoomed far out. Name scopes collapse to a single node and expand on click.
 */
export class GraphView {
  readonly element: HTMLElement;
  readonly svg: SVGSVGElement;
  private readonly viewport: SVGGElement;
  private readonly zoomBehavior: ZoomBehavior<SVGSVGElement, unknown>;
  private expanded: Set<string>;
  private graph: VisibleGraph = { items: [], edges: [], clusters: [] };
  private layout: LayoutResult | null = null;
  private drawn: Drawn[] = [];
  private nodeEls = new Map<string, SVGGElement>();
  private transform: ZoomTransform = zoomIdentity;
  private frame = 0;
  private selected: string | null = null;
  private size: { width: number; height: number } | null = null;
  private placed = false;
  private lastSearch: { query: string; index: number } | null = null;
  /** Ids of the drawn items that stand for a layer matching the live search. */
  private matched = new Set<string>();
  private matchQuery = '';

  constructor(
    private readonly doc: Document,
    readonly model: GraphModel,
    private readonly options: GraphViewOptions,
  ) {
    this.expanded = model.initialExpansion(options.collapseThreshold);
    this.viewport = s(doc, 'g', { class: 'gv-viewport' });
    this.svg = s(
      doc,
      'svg',
      {
        class: 'gv-svg',
        role: 'img',
        tabindex: 0,
        'aria-label': 'Model graph. Arrow keys pan, plus and minus zoom, 0 fits; the layer table lists the same layers.',
      },
      this.viewport,
    );
    this.element = h(doc, 'div', { class: 'graph-view' }, this.svg);
    this.zoomBehavior = d3zoom<SVGSVGElement, unknown>()
      .scaleExtent([0.02, 4])
      // d3's default touch test reads the global navigator; ask the document's own window instead.
      .touchable(() => (doc.defaultView?.navigator?.maxTouchPoints ?? 0) > 0)
      // An explicit extent: d3's default reads SVG length properties that only a laid-out browser page has.
      .extent(() => {
        const { width, height } = this.viewSize();
        return [
          [0, 0],
          [width, height],
        ];
      })
      .on('zoom', (event: { transform: ZoomTransform }) => {
        this.transform = event.transform;
        this.viewport.setAttribute('transform', event.transform.toString());
        this.scheduleCull();
      });
    select(this.svg).call(this.zoomBehavior).on('dblclick.zoom', null);
    const view = doc.defaultView as (Window & { ResizeObserver?: typeof ResizeObserver }) | null;
    if (view?.ResizeObserver) {
      new view.ResizeObserver((entries) => {
        const box = entries[entries.length - 1]?.contentRect;
        if (!box || box.width === 0 || box.height === 0) return;
        const first = this.size === null && !this.placed;
        this.size = { width: box.width, height: box.height };
        // The graph was laid out before the view had a size (a hidden tab); place it properly now that it has one.
        if (first) {
          this.placed = true;
          if (this.selected && this.layout?.nodes.has(this.selected)) this.centreOn(this.selected);
          else this.initialView();
        } else {
          this.scheduleCull();
        }
        // Observe the HTML container: for an <svg>, ResizeObserver reports its content's bounding box instead.
      }).observe(this.element);
    }
    this.svg.addEventListener('click', (e) => this.onClick(e));
    this.svg.addEventListener('keydown', (e) => this.onKey(e));
    this.redraw();
  }

  /** Keys of the expanded scopes. */
  get expandedScopes(): ReadonlySet<string> {
    return this.expanded;
  }

  get visibleGraph(): VisibleGraph {
    return this.graph;
  }

  get currentLayout(): LayoutResult | null {
    return this.layout;
  }

  /** Node groups currently displayed (not culled), for tests and diagnostics. */
  get shownNodeCount(): number {
    return this.drawn.filter((d) => d.shown).length;
  }

  toggleScope(key: string): void {
    if (this.expanded.has(key)) {
      // Collapsing a scope also collapses everything inside it, so that reopening it starts from an outline.
      for (const k of [...this.expanded]) if (k === key || k.startsWith(key + '/')) this.expanded.delete(k);
    } else {
      this.expanded.add(key);
    }
    // Keep the toggled scope in view: centre on whatever now stands for its first layer.
    const first = this.firstLayerIn(key);
    this.redraw(first >= 0 ? this.model.ownerOf(first, this.expanded) : undefined);
  }

  private firstLayerIn(key: string): number {
    let scope = this.model.scope(key);
    while (scope) {
      if (scope.layers.length > 0) return Math.min(...scope.layers);
      scope = scope.children[0];
    }
    return -1;
  }

  expandAll(): void {
    this.expanded = new Set(this.model.collapsibleKeys());
    this.redraw();
  }

  collapseAll(): void {
    this.expanded = new Set();
    this.redraw();
  }

  /** Expands the scopes around a layer, selects its node and centres the view on it. */
  revealLayer(layerIndex: number): void {
    let changed = false;
    for (const key of this.model.ancestors(layerIndex)) {
      const scope = this.model.scope(key);
      if (scope && scope.size > 1 && !this.expanded.has(key)) {
        this.expanded.add(key);
        changed = true;
      }
    }
    if (changed) this.redraw();
    this.select(layerId(layerIndex));
    this.centreOn(layerId(layerIndex));
  }

  /**
   * Finds layers whose name or op contains the query and reveals one: the first, or the next one when the same query
   * is searched again (Enter in the search box steps through the matches). Returns the match count and position.
   */
  search(query: string): { count: number; index: number } {
    const q = query.trim().toLowerCase();
    if (!q) return { count: 0, index: -1 };
    const hits = this.matchingLayers(q);
    if (hits.length === 0) {
      this.lastSearch = null;
      return { count: 0, index: -1 };
    }
    const index = this.lastSearch && this.lastSearch.query === q ? (this.lastSearch.index + 1) % hits.length : 0;
    this.lastSearch = { query: q, index };
    this.revealLayer(hits[index]!);
    return { count: hits.length, index };
  }

  /**
   * Marks, as the user types, every drawn node that is or holds a layer whose name or op contains the query (a
   * collapsed scope lights up when something inside it matches). Returns how many layers match; nothing moves.
   */
  highlight(query: string): number {
    this.matchQuery = query.trim().toLowerCase();
    const count = this.updateMatches();
    for (const [id, el] of this.nodeEls) el.classList.toggle('gv-match', this.matched.has(id));
    return count;
  }

  /** Recomputes which drawn items stand for matching layers (after typing, or after scopes open or close). */
  private updateMatches(): number {
    const hits = this.matchQuery ? this.matchingLayers(this.matchQuery) : [];
    this.matched = new Set(hits.map((i) => this.model.ownerOf(i, this.expanded)));
    return hits.length;
  }

  private matchingLayers(q: string): number[] {
    const hits: number[] = [];
    this.model.summary.layers.forEach((layer, i) => {
      if (layer.name.toLowerCase().includes(q) || layer.op.toLowerCase().includes(q)) hits.push(i);
    });
    return hits;
  }

  /** Fits the whole graph into the view. */
  fit(): void {
    if (!this.layout) return;
    const { width, height } = this.viewSize();
    const k = Math.min(1, 0.95 * Math.min(width / Math.max(1, this.layout.width), height / Math.max(1, this.layout.height)));
    const scale = Math.max(0.02, k);
    const t = zoomIdentity
      .translate((width - this.layout.width * scale) / 2, Math.max(8, (height - this.layout.height * scale) / 2))
      .scale(scale);
    this.applyTransform(t);
  }

  /**
   * The view's size, cached: reading clientWidth during a zoom frame forces a synchronous layout of the whole page,
   * which cost seconds per gesture on a 2,000-node graph. A ResizeObserver keeps the cache current.
   */
  private viewSize(): { width: number; height: number } {
    if (!this.size) {
      const width = this.svg.clientWidth || this.options.fallbackSize?.width || 800;
      const height = this.svg.clientHeight || this.options.fallbackSize?.height || 600;
      // Only a laid-out size is worth keeping; before layout the fallback is used and asked again next time.
      if (this.svg.clientWidth > 0 && this.svg.clientHeight > 0) this.size = { width, height };
      return { width, height };
    }
    return this.size;
  }

  private applyTransform(t: ZoomTransform): void {
    select(this.svg).call(this.zoomBehavior.transform, t);
    // d3-zoom reports through its event; set the state directly too so that it holds without a layout engine.
    this.transform = t;
    this.viewport.setAttribute('transform', t.toString());
    this.cull();
  }

  private centreOn(id: string): void {
    const node = this.layout?.nodes.get(id);
    if (!node) return;
    const { width, height } = this.viewSize();
    const k = Math.max(this.transform.k, 0.6);
    this.applyTransform(zoomIdentity.translate(width / 2 - node.x * k, height / 2 - node.y * k).scale(k));
  }

  private select(id: string): void {
    if (this.selected) this.nodeEls.get(this.selected)?.classList.remove('gv-selected');
    this.selected = id;
    this.nodeEls.get(id)?.classList.add('gv-selected');
  }

  /** Keyboard pan and zoom, so the graph is usable without a pointer. */
  private onKey(e: KeyboardEvent): void {
    const step = 80;
    const pans: Record<string, [number, number]> = {
      ArrowLeft: [step, 0],
      ArrowRight: [-step, 0],
      ArrowUp: [0, step],
      ArrowDown: [0, -step],
    };
    const t = this.transform;
    let next: ZoomTransform | null = null;
    if (e.key in pans) {
      const [dx, dy] = pans[e.key]!;
      next = zoomIdentity.translate(t.x + dx, t.y + dy).scale(t.k);
    } else if (e.key === '+' || e.key === '=' || e.key === '-') {
      const { width, height } = this.viewSize();
      const k = Math.max(0.02, Math.min(4, t.k * (e.key === '-' ? 1 / 1.25 : 1.25)));
      // Zoom about the centre of the view.
      const cx = (width / 2 - t.x) / t.k;
      const cy = (height / 2 - t.y) / t.k;
      next = zoomIdentity.translate(width / 2 - cx * k, height / 2 - cy * k).scale(k);
    } else if (e.key === '0') {
      e.preventDefault();
      this.fit();
      return;
    }
    if (next) {
      e.preventDefault();
      this.applyTransform(next);
    }
  }

  private onClick(e: MouseEvent): void {
    const target = (e.target as Element | null)?.closest?.('[data-id]');
    if (!target) return;
    const id = target.getAttribute('data-id')!;
    if (id.startsWith('scope:') || id.startsWith('cluster:')) {
      this.toggleScope(id.slice(id.indexOf(':') + 1));
      return;
    }
    if (id.startsWith('layer:')) {
      const index = Number(id.slice('layer:'.length));
      this.select(id);
      this.options.onSelectLayer?.(index);
    }
  }

  /** Recomputes what is visible, lays it out and redraws it, centred on `focus` when given. */
  redraw(focus?: string): void {
    const doc = this.doc;
    this.graph = this.model.visible(this.expanded);
    this.updateMatches();
    const items = new Map(this.graph.items.map((item) => [item.id, item]));
    this.layout = layeredLayout(
      this.graph.items.map((item) => ({ id: item.id, width: nodeWidth(item), height: NODE_HEIGHT })),
      this.graph.edges,
    );
    clear(this.viewport);
    this.drawn = [];
    this.nodeEls.clear();

    const clusterLayer = s(doc, 'g', { class: 'gv-clusters' });
    const edgeLayer = s(doc, 'g', { class: 'gv-edges' });
    const nodeLayer = s(doc, 'g', { class: 'gv-nodes' });
    // Elements join their layer group only when culling finds them in view.
    this.viewport.append(clusterLayer, edgeLayer, nodeLayer);

    for (const cluster of this.graph.clusters) {
      let x0 = Infinity;
      let y0 = Infinity;
      let x1 = -Infinity;
      let y1 = -Infinity;
      for (const m of cluster.members) {
        const n = this.layout.nodes.get(m);
        if (!n) continue;
        x0 = Math.min(x0, n.x - n.width / 2);
        x1 = Math.max(x1, n.x + n.width / 2);
        y0 = Math.min(y0, n.y - n.height / 2);
        y1 = Math.max(y1, n.y + n.height / 2);
      }
      if (!Number.isFinite(x0)) continue;
      const depth = cluster.key.split('/').length;
      // Outer scopes get wider margins so that nested boxes and their labels do not sit on top of each other.
      const pad = 8 + 14 * Math.max(0, 3 - depth);
      const g = s(
        doc,
        'g',
        { class: 'gv-cluster', 'data-id': `cluster:${cluster.key}` },
        s(doc, 'rect', { x: x0 - pad, y: y0 - pad - 12, width: x1 - x0 + 2 * pad, height: y1 - y0 + 2 * pad + 12, rx: 6 }),
        s(doc, 'text', { x: x0 - pad + 6, y: y0 - pad, class: 'gv-cluster-label' }, `▾ ${truncate(cluster.name, 60)}`),
        s(doc, 'title', {}, `${cluster.name}: click to collapse`),
      );
      this.drawn.push({ el: g, parent: clusterLayer, x0: x0 - pad, y0: y0 - pad - 12, x1: x1 + pad, y1: y1 + pad, shown: false });
    }

    const path = line<{ x: number; y: number }>()
      .x((p) => p.x)
      .y((p) => p.y)
      .curve(curveBasis);
    const edgeLabels = new Map(this.graph.edges.map((e) => [`${e.from}\u0000${e.to}`, e]));
    // A tensor that fans out to several consumers is labelled once, under its producer.
    const labelled = new Set<string>();
    // Labels that would overlap one already placed move down a line, or give way to the edge's tooltip.
    const placed: { x0: number; y0: number; x1: number; y1: number }[] = [];
    const place = (text: string, x: number, y: number): { x: number; y: number } | null => {
      const width = text.length * EDGE_LABEL_CHAR_PX;
      for (const dy of [0, EDGE_LABEL_LINE_PX]) {
        const box = { x0: x, y0: y + dy - EDGE_LABEL_LINE_PX, x1: x + width, y1: y + dy };
        if (placed.some((b) => box.x0 < b.x1 && b.x0 < box.x1 && box.y0 < b.y1 && b.y0 < box.y1)) continue;
        placed.push(box);
        return { x, y: y + dy };
      }
      return null;
    };
    for (const edge of this.layout.edges) {
      const info = edgeLabels.get(`${edge.from}\u0000${edge.to}`);
      const pts = edge.points;
      const first = pts[0]!;
      const second = pts[1] ?? first;
      let label = info ? (info.tensors > 1 ? `${info.label} +${info.tensors - 1}` : info.label) : '';
      if (labelled.has(`${edge.from}\u0000${label}`)) label = '';
      else labelled.add(`${edge.from}\u0000${label}`);
      const at = label && label !== '?' ? place(label, (first.x + second.x) / 2 + 4, first.y + 14) : null;
      const g = s(
        doc,
        'g',
        { class: 'gv-edge' },
        s(doc, 'path', { d: path(pts) ?? '' }),
        at ? s(doc, 'text', { class: 'gv-edge-label', x: at.x, y: at.y }, label) : label && label !== '?' ? s(doc, 'title', {}, label) : null,
      );
      let x0 = Infinity;
      let y0 = Infinity;
      let x1 = -Infinity;
      let y1 = -Infinity;
      for (const p of pts) {
        x0 = Math.min(x0, p.x);
        x1 = Math.max(x1, p.x + 80);
        y0 = Math.min(y0, p.y);
        y1 = Math.max(y1, p.y + 16);
      }
      this.drawn.push({ el: g, parent: edgeLayer, x0, y0, x1, y1, shown: false });
    }

    for (const item of this.graph.items) {
      const n = this.layout.nodes.get(item.id)!;
      const x = n.x - n.width / 2;
      const y = n.y - n.height / 2;
      const maxChars = Math.floor((n.width - 12) / CHAR_WIDTH);
      const g = s(
        doc,
        'g',
        {
          class: `gv-node gv-${item.kind} op-${item.family}`,
          'data-id': item.id,
          transform: `translate(${x},${y})`,
        },
        s(doc, 'rect', { width: n.width, height: n.height, rx: item.kind === 'scope' ? 2 : 5 }),
        s(doc, 'text', { class: 'gv-label', x: n.width / 2, y: 15 }, truncate(item.kind === 'scope' ? `▸ ${item.label}` : item.label, maxChars)),
        s(doc, 'text', { class: 'gv-detail', x: n.width / 2, y: 29 }, truncate(item.detail, maxChars)),
        s(doc, 'title', {}, item.kind === 'scope' ? `${item.label} (${item.detail}): click to expand` : `${item.label} ${item.detail}`),
      );
      if (items.get(item.id)?.id === this.selected) g.classList.add('gv-selected');
      if (this.matched.has(item.id)) g.classList.add('gv-match');
      this.nodeEls.set(item.id, g);
      this.drawn.push({ el: g, parent: nodeLayer, x0: x, y0: y, x1: x + n.width, y1: y + n.height, shown: false });
    }
    this.svg.setAttribute('data-nodes', String(this.graph.items.length));
    if (focus && this.layout.nodes.has(focus)) this.centreOn(focus);
    else this.initialView();
  }

  /**
   * Small graphs fit the view. Large ones open at a readable scale at the top, where the inputs are, rather than
   * shrunk to an unreadable stripe; the rest is a scroll away, and culling keeps it cheap until then.
   */
  private initialView(): void {
    if (!this.layout) return;
    const { width, height } = this.viewSize();
    const fitScale = Math.min(width / Math.max(1, this.layout.width), height / Math.max(1, this.layout.height)) * 0.95;
    if (fitScale >= 0.5) {
      this.fit();
      return;
    }
    const k = Math.max(0.5, Math.min(1, (0.95 * width) / Math.max(1, this.layout.width)));
    const first = this.graph.items[0] ? this.layout.nodes.get(this.graph.items[0].id) : undefined;
    const focusX = this.layout.width * k <= width ? this.layout.width / 2 : (first?.x ?? 0);
    this.applyTransform(zoomIdentity.translate(width / 2 - focusX * k, 24).scale(k));
  }

  private scheduleCull(): void {
    if (this.frame) return;
    const view = this.doc.defaultView;
    if (view?.requestAnimationFrame) {
      this.frame = view.requestAnimationFrame(() => {
        this.frame = 0;
        this.cull();
      });
    } else {
      this.cull();
    }
  }

  /** Hides what lies outside the viewport, and edge labels when they would be too small to read. */
  private cull(): void {
    const { width, height } = this.viewSize();
    const t = this.transform;
    const margin = 100 / t.k;
    const wx0 = -t.x / t.k - margin;
    const wy0 = -t.y / t.k - margin;
    const wx1 = (width - t.x) / t.k + margin;
    const wy1 = (height - t.y) / t.k + margin;
    for (const d of this.drawn) {
      const shown = d.x1 >= wx0 && d.x0 <= wx1 && d.y1 >= wy0 && d.y0 <= wy1;
      if (shown !== d.shown) {
        d.shown = shown;
        if (shown) d.parent.appendChild(d.el);
        else d.el.remove();
      }
    }
    this.svg.classList.toggle('gv-far', t.k < 0.45);
    this.svg.classList.toggle('gv-very-far', t.k < 0.2);
  }

  /** A standalone SVG document of the whole graph, with the theme's colours inlined so it renders elsewhere. */
  exportSvg(): { svg: string; width: number; height: number } {
    const doc = this.doc;
    const layout = this.layout;
    const width = Math.ceil((layout?.width ?? 0) + 40);
    const height = Math.ceil((layout?.height ?? 0) + 60);
    // Everything goes back in the document for the export, so that computed styles can be read; culling restores
    // the in-view set afterwards.
    for (const d of this.drawn) {
      if (!d.shown) {
        d.parent.appendChild(d.el);
        d.shown = true;
      }
    }
    const clone = this.svg.cloneNode(true) as SVGSVGElement;
    const originals = [this.svg, ...Array.from(this.svg.querySelectorAll('*'))];
    const copies = [clone, ...Array.from(clone.querySelectorAll('*'))];
    const view = doc.defaultView;
    const props = ['fill', 'stroke', 'stroke-width', 'stroke-dasharray', 'font-family', 'font-size', 'font-weight', 'text-anchor', 'opacity', 'fill-opacity'];
    originals.forEach((orig, i) => {
      const copy = copies[i] as SVGElement | HTMLElement;
      if (!view?.getComputedStyle) return;
      const computed = view.getComputedStyle(orig);
      for (const p of props) {
        const v = computed.getPropertyValue(p);
        if (v) copy.style.setProperty(p, v);
      }
    });
    clone.setAttribute('width', String(width));
    clone.setAttribute('height', String(height));
    clone.setAttribute('viewBox', `-20 -30 ${width} ${height}`);
    clone.classList.remove('gv-far', 'gv-very-far');
    const vp = clone.querySelector('.gv-viewport');
    vp?.removeAttribute('transform');
    const background = view?.getComputedStyle ? view.getComputedStyle(doc.body).getPropertyValue('background-color') : '';
    if (background) {
      const rect = s(doc, 'rect', { x: -20, y: -30, width, height });
      rect.style.setProperty('fill', background);
      clone.insertBefore(rect, clone.firstChild);
    }
    const serializer = new (view?.XMLSerializer ?? XMLSerializer)();
    const text = serializer.serializeToString(clone);
    this.cull();
    return { svg: text, width, height };
  }
}

