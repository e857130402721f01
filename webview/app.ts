import type { GradReport, ProbeReport } from '../src/core/reports';
import type { HostToWebview, InitMessage, PaneLayout, ProbeKind, WebviewToHost } from '../src/protocol/messages';
import { BreakdownView } from './breakdownView';
import { clear, controlValue, h } from './dom';
import { GraphModel } from './graphModel';
import { GraphView } from './graphView';
import { renderHeader } from './header';
import { LayerTable } from './layerTable';
import { isPassThrough } from './tableModel';
import { pickFactory } from './panels';
import type { PanelHost, PanelName, PanelReports, ResultPanel } from './panels';
import { RfExplorer } from './rfExplorer';
import { NodeDetailsPanel } from './nodeDetails';
import { SplitPane } from './splitPane';
import { svgToPngBase64 } from './exportImage';

export interface AppOptions {
  /** Loads webview/charts/<name>Panel.ts when the bundle has it; rejects or resolves null otherwise. */
  loadPanel?: (name: PanelName) => Promise<unknown>;
  /** Size for views that have no layout yet (tests). */
  fallbackSize?: { width: number; height: number };
}

const TABS = ['Layers & graph', 'Breakdown', 'Receptive field', 'Probes', 'Gradients'] as const;

/**
 * The inspector shell. It owns no numbers: it receives the ModelSummary in one init message and hands pieces of it
 * to the views. Host messages arrive through `handle`; everything the view wants from the host goes through `post`.
 */
export class InspectorApp {
  private init: InitMessage | null = null;
  private table: LayerTable | null = null;
  private graph: GraphView | null = null;
  private rf: RfExplorer | null = null;
  private tabs: HTMLElement | null = null;
  private split: SplitPane | null = null;
  private details: NodeDetailsPanel | null = null;
  private readonly status: HTMLElement;
  private readonly content: HTMLElement;
  private readonly panels: { probe: ResultPanel<ProbeReport> | null; grad: ResultPanel<GradReport> | null } = { probe: null, grad: null };
  private readonly panelBoxes = new Map<PanelName, HTMLElement>();
  private readonly pending: { probe: ProbeReport | null; grad: GradReport | null } = { probe: null, grad: null };

  constructor(
    private readonly doc: Document,
    root: HTMLElement,
    private readonly post: (message: WebviewToHost) => void,
    private readonly options: AppOptions = {},
  ) {
    this.status = h(doc, 'div', { class: 'status', role: 'status', 'aria-live': 'polite' });
    this.content = h(doc, 'div', { class: 'content' }, h(doc, 'p', { class: 'loading' }, 'Loading model…'));
    root.replaceChildren(this.status, this.content);
  }

  get layerTable(): LayerTable | null {
    return this.table;
  }

  get graphView(): GraphView | null {
    return this.graph;
  }

  get splitPane(): SplitPane | null {
    return this.split;
  }

  get rfExplorer(): RfExplorer | null {
    return this.rf;
  }

  handle(message: HostToWebview): void {
    switch (message.type) {
      case 'init':
        this.render(message);
        break;
      case 'revealLayer':
        this.revealByName(message.name);
        break;
      case 'nodeDetails':
        if (this.details?.shown || message.details) this.details?.show(message.details);
        break;
      case 'busy':
        this.setStatus(message.message, 'busy', message.cancel);
        break;
      case 'error':
        // A model that failed to load shows its error alone, not above a "Loading model…" that will never finish.
        if (!this.init) this.content.replaceChildren();
        this.setStatus(message.message, 'error');
        break;
      case 'probeResult':
        this.deliver('probe', message.report);
        break;
      case 'gradResult':
        this.deliver('grad', message.report);
        break;
    }
  }

  /** Selects a layer in the table and reveals it in the graph. Returns false when the model has no such layer. */
  revealByName(name: string): boolean {
    const layers = this.init?.summary.layers ?? [];
    const index = layers.findIndex((l) => l.name === name || l.outputs.some((o) => o.name === name));
    if (index < 0) {
      this.setStatus(`No layer named ${name}.`, 'error');
      return false;
    }
    this.selectTab(0);
    this.table?.select(index);
    this.graph?.revealLayer(index);
    this.rf?.showLayer(index);
    return true;
  }

  private setStatus(message: string | null, kind: 'busy' | 'error', cancel?: ProbeKind): void {
    clear(this.status);
    this.status.className = message ? `status status-${kind}` : 'status';
    if (!message) return;
    if (kind === 'busy') this.status.appendChild(h(this.doc, 'vscode-progress-ring', { class: 'status-ring' }));
    this.status.appendChild(h(this.doc, 'span', {}, message));
    if (kind === 'busy' && cancel) {
      const button = h(this.doc, 'vscode-button', { class: 'status-cancel', secondary: '', 'aria-label': `Cancel the ${cancel} probe` }, 'Cancel');
      button.addEventListener('click', () => {
        button.setAttribute('disabled', '');
        this.post({ type: 'cancelProbe', probe: cancel });
      });
      this.status.appendChild(button);
    }
  }

  private selectTab(index: number): void {
    if (!this.tabs) return;
    this.tabs.setAttribute('selected-index', String(index));
    (this.tabs as HTMLElement & { selectedIndex?: number }).selectedIndex = index;
  }

  private render(init: InitMessage): void {
    const doc = this.doc;
    const view = doc.defaultView;
    const started = view?.performance.now() ?? 0;
    this.init = init;
    const { summary } = init;
    const header = renderHeader(doc, summary, init.title);
    const actions = h(doc, 'div', { class: 'hd-actions' });
    const button = (label: string, message: WebviewToHost): HTMLElement => {
      const el = h(doc, 'vscode-button', { secondary: true }, label);
      el.addEventListener('click', () => this.post(message));
      return el;
    };
    actions.append(
      button('Copy as Markdown', { type: 'copyMarkdown' }),
      button('Export Markdown', { type: 'exportSummary', format: 'markdown' }),
      button('Export JSON', { type: 'exportSummary', format: 'json' }),
      button('Export CSV', { type: 'exportSummary', format: 'csv' }),
    );
    header.appendChild(actions);

    // Layers and graph side by side, so that choosing a row shows its node without leaving the table.
    const passThrough = summary.layers.filter(isPassThrough).length;
    const showPassThrough = h(doc, 'vscode-checkbox', { class: 'lt-show-pass-through', title: 'Constant and Identity nodes without parameters of their own' }, `Constant/Identity (${passThrough})`);
    const table = new LayerTable(doc, summary.layers, {
      viewportHeight: this.options.fallbackSize?.height,
      onFilterCleared: () => {
        (showPassThrough as HTMLElement & { checked?: boolean }).checked = true;
        (filter as HTMLElement & { value?: string }).value = '';
      },
      onActivate: (index) => {
        this.graph?.revealLayer(index);
        this.rf?.showLayer(index);
        if (this.details?.shown) this.post({ type: 'nodeDetails', layer: index });
        this.post({ type: 'layerSelected', name: summary.layers[index]!.name });
      },
    });
    this.table = table;
    const filter = h(doc, 'vscode-textfield', { placeholder: 'Filter layers by name or op', 'aria-label': 'Filter layers', class: 'lt-filter' });
    filter.addEventListener('input', () => table.setFilter(controlValue(filter)));
    showPassThrough.addEventListener('change', () => table.setHidePassThrough(!(showPassThrough as HTMLElement & { checked?: boolean }).checked));

    const model = new GraphModel(summary);
    const graph = new GraphView(doc, model, {
      collapseThreshold: init.collapseThreshold,
      fallbackSize: this.options.fallbackSize,
      onSelectLayer: (index) => {
        table.select(index);
        this.rf?.showLayer(index);
        this.post({ type: 'nodeDetails', layer: index });
        this.post({ type: 'layerSelected', name: summary.layers[index]!.name });
      },
    });
    this.graph = graph;
    const details = new NodeDetailsPanel(doc, () => graph.element.focus());
    this.details = details;
    // Live search, as in Netron: matches light up while typing, with a count beside the box; Enter steps through
    // them. A miss only changes the count, so nothing on the page moves.
    const search = h(doc, 'vscode-textfield', { placeholder: 'Search graph', 'aria-label': 'Search graph', class: 'gv-search' });
    const searchCount = h(doc, 'span', { class: 'gv-search-count', role: 'status', 'aria-live': 'polite' });
    search.addEventListener('input', () => {
      const query = controlValue(search);
      const count = graph.highlight(query);
      // Like find-as-you-type in an editor, the view moves to the first match; Enter then steps to the next.
      if (count > 0) graph.search(query);
      searchCount.textContent = query.trim() ? (count === 0 ? 'No match' : `${count} match${count === 1 ? '' : 'es'}`) : '';
      searchCount.classList.toggle('gv-search-miss', query.trim() !== '' && count === 0);
    });
    search.addEventListener('keydown', (e) => {
      if ((e as KeyboardEvent).key !== 'Enter') return;
      const { count, index } = graph.search(controlValue(search));
      if (count > 0) searchCount.textContent = `${index + 1} of ${count} matches`;
    });
    const tool = (label: string, run: () => void, title?: string): HTMLElement => {
      const el = h(doc, 'vscode-button', { secondary: true, title: title ?? null }, label);
      el.addEventListener('click', run);
      return el;
    };
    let split: SplitPane | null = null;
    const maximize = (pane: 'first' | 'second', what: string): HTMLElement => {
      const el = h(doc, 'vscode-button', { secondary: true, class: 'ls-maximize', 'data-pane': pane, title: `Maximise the ${what}`, 'aria-pressed': 'false' }, 'Maximise');
      el.addEventListener('click', () => split?.toggleMaximized(pane));
      return el;
    };
    const tableMax = maximize('first', 'layer table');
    const graphMax = maximize('second', 'graph');
    const tableBar = h(
      doc,
      'div',
      { class: 'ls-pane-header lt-toolbar', role: 'toolbar', 'aria-label': 'Layer table' },
      filter,
      passThrough > 0 ? showPassThrough : null,
      tableMax,
    );
    const graphBar = h(
      doc,
      'div',
      { class: 'ls-pane-header gv-toolbar', role: 'toolbar', 'aria-label': 'Graph' },
      search,
      searchCount,
      tool('Fit', () => graph.fit(), 'Fit the whole graph in view (0)'),
      tool('Expand all', () => graph.expandAll()),
      tool('Collapse all', () => graph.collapseAll()),
      tool('SVG', () => this.post({ type: 'saveImage', format: 'svg', data: graph.exportSvg().svg }), 'Save the graph as SVG'),
      tool('PNG', () => void this.exportPng(), 'Save the graph as PNG'),
      graphMax,
    );
    const syncMaximize = (layout: PaneLayout): void => {
      for (const [button, pane] of [[tableMax, 'first'], [graphMax, 'second']] as const) {
        const on = layout.maximized === pane;
        button.setAttribute('aria-pressed', String(on));
        button.textContent = on ? 'Restore' : 'Maximise';
      }
    };
    split = new SplitPane(
      doc,
      h(doc, 'div', { class: 'ls-pane ls-table-pane' }, tableBar, table.element),
      h(doc, 'div', { class: 'ls-pane ls-graph-pane' }, graphBar, h(doc, 'div', { class: 'gv-body' }, graph.element, details.element)),
      {
        ...(init.layout ? { initial: init.layout } : {}),
        onChange: (layout) => {
          syncMaximize(layout);
          this.post({ type: 'layoutChanged', layout });
        },
      },
    );
    this.split = split;
    syncMaximize(split.layout);

    this.rf = new RfExplorer(doc, summary);
    const breakdownView = new BreakdownView(doc, summary.layers);
    this.panelBoxes.set('probe', h(doc, 'div', { class: 'panel-box' }));
    this.panelBoxes.set('grad', h(doc, 'div', { class: 'panel-box' }));

    const tabs = h(doc, 'vscode-tabs', { class: 'ls-tabs', 'selected-index': init.panel === 'probe' ? 3 : init.panel === 'grad' ? 4 : 0 });
    const bodies = [split.element, breakdownView.element, this.rf.element, this.panelBoxes.get('probe')!, this.panelBoxes.get('grad')!];
    TABS.forEach((title, i) => {
      tabs.appendChild(h(doc, 'vscode-tab-header', { slot: 'header' }, title));
      tabs.appendChild(h(doc, 'vscode-tab-panel', {}, bodies[i]!));
    });
    this.tabs = tabs;
    this.content.replaceChildren(header, tabs);
    this.fitPanels(header, tabs);
    void this.mountPanel('probe');
    void this.mountPanel('grad');
    // The second animation frame after the DOM is built is the first one painted with it; the host logs this time
    // and the editor benchmark reads it.
    if (view?.requestAnimationFrame) {
      view.requestAnimationFrame(() =>
        view.requestAnimationFrame(() =>
          this.post({
            type: 'rendered',
            what: `header, table and graph (${summary.layers.length} layers, ${graph.visibleGraph.items.length} graph items)`,
            ms: view.performance.now() - started,
          }),
        ),
      );
    }
  }

  /**
   * Gives the tab panels the height left under the header, so the table and graph end at the window's bottom edge
   * whatever the header's height (it grows with warnings and at narrow widths); the page scrolls only below 320 px.
   */
  private fitPanels(header: HTMLElement, tabs: HTMLElement): void {
    const view = this.doc.defaultView as (Window & { ResizeObserver?: typeof ResizeObserver }) | null;
    if (!view?.ResizeObserver) return;
    const fit = (): void => {
      const panel = tabs.querySelector('vscode-tab-panel:not([hidden])') ?? tabs.querySelector('vscode-tab-panel');
      if (!panel) return;
      const top = panel.getBoundingClientRect().top + view.scrollY;
      if (top <= 0) return;
      tabs.style.setProperty('--ls-panel-height', `${Math.max(320, view.innerHeight - top - 4)}px`);
    };
    const observer = new view.ResizeObserver(() => fit());
    observer.observe(header);
    observer.observe(this.doc.documentElement);
    tabs.addEventListener('vsc-tabs-select', () => view.requestAnimationFrame(fit));
  }

  private panelHost(): PanelHost {
    return {
      document: this.doc,
      summary: this.init?.summary ?? null,
      trusted: this.init?.trusted ?? false,
      post: (message) => this.post(message),
      revealLayer: (name) => void this.revealByName(name),
    };
  }

  private async mountPanel<N extends PanelName>(name: N): Promise<void> {
    const host = this.panelHost();
    let panel: ResultPanel<PanelReports[N]>;
    try {
      const factory = pickFactory(name, await this.options.loadPanel?.(name));
      if (!factory) throw new Error(`webview/charts/${name}Panel.ts has no ${name} panel factory`);
      panel = factory(host);
    } catch (error) {
      // A panel that cannot load is a bug to report, not something to hide behind a lesser view.
      const message = `The ${name} panel could not load: ${error instanceof Error ? error.message : String(error)}`;
      this.post({ type: 'log', level: 'error', message });
      panel = { element: h(this.doc, 'p', { class: 'panel-error', role: 'alert' }, message), update: () => undefined };
    }
    (this.panels as Record<PanelName, ResultPanel<unknown> | null>)[name] = panel as ResultPanel<unknown>;
    this.panelBoxes.get(name)?.replaceChildren(panel.element);
    const pending = this.pending[name];
    if (pending) {
      this.pending[name] = null;
      this.deliver(name, pending as PanelReports[N]);
    }
  }

  private deliver<N extends PanelName>(name: N, report: PanelReports[N]): void {
    const panel = (this.panels as Record<PanelName, ResultPanel<unknown> | null>)[name];
    if (!panel) {
      (this.pending as Record<PanelName, unknown>)[name] = report;
      return;
    }
    this.setStatus(null, 'busy');
    this.selectTab(name === 'probe' ? 3 : 4);
    panel.update(report);
  }

  private async exportPng(): Promise<void> {
    if (!this.graph) return;
    try {
      const { svg, width, height } = this.graph.exportSvg();
      this.post({ type: 'saveImage', format: 'png', data: await svgToPngBase64(this.doc, svg, width, height) });
    } catch (error) {
      this.setStatus(`PNG export failed: ${error instanceof Error ? error.message : String(error)}`, 'error');
    }
  }
}
