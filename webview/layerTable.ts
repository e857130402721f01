import type { LayerSummary } from '../src/core/analysis/types';
import { h } from './dom';
import { COLUMNS, columnById, filterRows, sortRows, visibleRange } from './tableModel';
import type { Column, ColumnId, SortDirection, SortState } from './tableModel';

/**
 * The order in which columns give way when the table is too narrow for all of them: first the receptive field and
 * activation memory (they have their own tabs), then the row number, MACs, the op (the name usually says it) and the
 * parameter count. The layer name and its output shape always stay.
 */
const DROP_ORDER: readonly ColumnId[] = ['rf', 'memory', 'index', 'macs', 'op', 'params'];
/** Cell padding (left + right, webview.css .lt-cell) plus room for a sort arrow in the header. */
const CELL_PADDING_PX = 14;
/** Longest text a column is sized for; longer names are clipped at their start. */
const MAX_CHARS = 64;

export interface LayerTableOptions {
  /** Pixel height of one row; must match --ls-row-height in webview.css. */
  rowHeight?: number;
  /** Used when the scroll container has no layout yet (hidden tab, jsdom). */
  viewportHeight?: number;
  /** Called when a row is clicked or Enter is pressed on it, with the layer's index in the model. */
  onActivate?: (layerIndex: number) => void;
  /** Called when selecting a hidden layer cleared the filters, so the controls that set them can follow. */
  onFilterCleared?: () => void;
}

/**
 * The torchinfo-like layer table, virtualised: only the rows in view (plus a small overscan) exist in the DOM, so a
 * 20,000-layer model scrolls like a 20-layer one. It follows the ARIA grid pattern: the grid element holds focus and
 * points at the active row with aria-activedescendant; every row carries aria-rowindex against aria-rowcount.
 */
export class LayerTable {
  readonly element: HTMLElement;
  readonly grid: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly body: HTMLElement;
  private readonly headers = new Map<ColumnId, HTMLElement>();
  private readonly rowHeight: number;
  private rows: number[] = [];
  private query = '';
  private hidePassThrough = true;
  private sort: SortState | null = null;
  /** Position of the active row within `rows`, or -1. */
  private active = -1;
  private frame = 0;
  /** Columns shown, in COLUMNS order; narrow views drop the least needed ones before names and shapes get cut. */
  private shown: readonly Column[] = COLUMNS;
  private fittedWidth = -1;
  private contentChars: Map<ColumnId, number> | null = null;
  private readonly idPrefix: string;
  private static instances = 0;

  constructor(
    private readonly doc: Document,
    private readonly layers: readonly LayerSummary[],
    private readonly options: LayerTableOptions = {},
  ) {
    this.rowHeight = options.rowHeight ?? 22;
    this.idPrefix = `lt${LayerTable.instances++}-row-`;
    this.grid = h(doc, 'div', {
      class: 'lt-grid',
      role: 'grid',
      tabindex: 0,
      'aria-label': 'Layers',
      'aria-colcount': COLUMNS.length,
    });
    const headRow = h(doc, 'div', { class: 'lt-row lt-head', role: 'row', 'aria-rowindex': 1 });
    COLUMNS.forEach((column, i) => {
      const cell = h(
        doc,
        'div',
        {
          class: `lt-cell lt-col-${column.id}${column.numeric ? ' lt-num' : ''}`,
          role: 'columnheader',
          'aria-colindex': i + 1,
          'aria-sort': 'none',
          title: `Sort by ${column.title}`,
        },
        column.title,
      );
      cell.addEventListener('click', () => this.toggleSort(column.id));
      // Headers are in the tab order so that sorting works from the keyboard too.
      cell.tabIndex = 0;
      cell.addEventListener('keydown', (e) => {
        if (e.key !== 'Enter' && e.key !== ' ') return;
        e.preventDefault();
        e.stopPropagation();
        this.toggleSort(column.id);
      });
      this.headers.set(column.id, cell);
      headRow.appendChild(cell);
    });
    this.body = h(doc, 'div', { class: 'lt-body', role: 'rowgroup' });
    this.spacer = h(doc, 'div', { class: 'lt-spacer' }, this.body);
    this.scroller = h(doc, 'div', { class: 'lt-scroll' }, this.spacer);
    this.grid.append(h(doc, 'div', { class: 'lt-headgroup', role: 'rowgroup' }, headRow), this.scroller);
    this.element = h(doc, 'div', { class: 'layer-table' }, this.grid);

    this.scroller.addEventListener('scroll', () => this.scheduleRender());
    this.grid.addEventListener('keydown', (e) => this.onKey(e));
    this.body.addEventListener('click', (e) => {
      const row = (e.target as Element | null)?.closest?.('[data-pos]');
      if (!row) return;
      this.setActive(Number(row.getAttribute('data-pos')), false);
      this.activate();
    });
    const view = doc.defaultView as (Window & { ResizeObserver?: typeof ResizeObserver }) | null;
    if (view?.ResizeObserver) new view.ResizeObserver(() => this.scheduleRender()).observe(this.scroller);
    this.refresh();
  }

  /** Layer indices in display order, after filtering and sorting. */
  get displayedRows(): readonly number[] {
    return this.rows;
  }

  /** Number of row elements currently in the DOM, excluding the header. */
  get renderedRowCount(): number {
    return this.body.childElementCount;
  }

  /** The model index of the active row, or -1. */
  get activeLayer(): number {
    return this.active >= 0 ? (this.rows[this.active] ?? -1) : -1;
  }

  setFilter(query: string): void {
    const activeLayer = this.activeLayer;
    this.query = query;
    this.refresh(activeLayer);
  }

  /** Whether parameter-free Constant and Identity rows are hidden (they are by default). */
  setHidePassThrough(hide: boolean): void {
    const activeLayer = this.activeLayer;
    this.hidePassThrough = hide;
    this.refresh(activeLayer);
  }

  setSort(sort: SortState | null): void {
    const activeLayer = this.activeLayer;
    this.sort = sort;
    for (const [id, cell] of this.headers) cell.setAttribute('aria-sort', sort && sort.column === id ? sort.direction : 'none');
    this.refresh(activeLayer);
  }

  /** Makes a layer the active row and scrolls it into view; clears the filter if the filter hides it. */
  select(layerIndex: number): void {
    let pos = this.rows.indexOf(layerIndex);
    if (pos < 0 && (this.query || this.hidePassThrough)) {
      this.query = '';
      this.hidePassThrough = false;
      this.options.onFilterCleared?.();
      this.refresh();
      pos = this.rows.indexOf(layerIndex);
    }
    if (pos >= 0) this.setActive(pos, true);
  }

  /** Ids of the columns currently shown. */
  get shownColumns(): ColumnId[] {
    return this.shown.map((c) => c.id);
  }

  /**
   * Sizes each column for its longest text and, when the table is narrower than all of them together, hides columns
   * in DROP_ORDER until the rest fit. The name column takes whatever width is left over.
   */
  fitColumns(available: number, charWidth: number): void {
    this.applyColumns(available, charWidth);
    this.render();
  }

  private applyColumns(available: number, charWidth: number): void {
    this.fittedWidth = available;
    this.contentChars ??= this.measureContent();
    const widths = new Map<ColumnId, number>();
    for (const column of COLUMNS) {
      const chars = Math.max(this.contentChars.get(column.id) ?? 0, column.title.length + 2);
      widths.set(column.id, Math.ceil(Math.min(MAX_CHARS, chars) * charWidth + CELL_PADDING_PX));
    }
    const shown = new Set(COLUMNS.map((c) => c.id));
    const total = (): number => [...shown].reduce((sum, id) => sum + widths.get(id)!, 0);
    for (const id of DROP_ORDER) {
      if (total() <= available) break;
      shown.delete(id);
    }
    this.shown = COLUMNS.filter((c) => shown.has(c.id));
    const nameMin = Math.min(widths.get('name')!, Math.max(120, available - (total() - widths.get('name')!)));
    const template = this.shown.map((c) => (c.id === 'name' ? `minmax(${nameMin}px, 1fr)` : `${widths.get(c.id)}px`)).join(' ');
    this.grid.style.setProperty('--lt-columns', template);
    this.spacer.style.minWidth = `${total() - widths.get('name')! + nameMin}px`;
    for (const [id, cell] of this.headers) cell.hidden = !shown.has(id);
    this.grid.setAttribute('data-columns', this.shownColumns.join(' '));
  }

  private measureContent(): Map<ColumnId, number> {
    const chars = new Map<ColumnId, number>();
    // Every row counts, so that scrolling never reveals a wider value; past 20,000 rows a sample is enough.
    const step = Math.max(1, Math.floor(this.layers.length / 20_000));
    for (let i = 0; i < this.layers.length; i += step) {
      for (const column of COLUMNS) {
        const n = column.text(this.layers[i]!, i).length;
        if (n > (chars.get(column.id) ?? 0)) chars.set(column.id, n);
      }
    }
    return chars;
  }

  /** Width of one character of the table's text, measured in the page; 7 px where there is no layout (tests). */
  private charWidth(): number {
    const probe = h(this.doc, 'span', { class: 'lt-cell lt-col-name lt-measure' }, '0'.repeat(20));
    this.grid.appendChild(probe);
    const width = probe.getBoundingClientRect().width / 20;
    probe.remove();
    return width > 0 ? width : 7;
  }

  /** Renders the rows in view now; normally renders are batched per animation frame. */
  render(): void {
    this.frame = 0;
    const available = this.scroller.clientWidth;
    if (available > 0 && available !== this.fittedWidth) this.applyColumns(available, this.charWidth());
    const viewport = this.scroller.clientHeight || this.options.viewportHeight || 400;
    const { first, last } = visibleRange(this.scroller.scrollTop, viewport, this.rowHeight, this.rows.length);
    const doc = this.doc;
    const fragment = doc.createDocumentFragment();
    for (let pos = first; pos <= last; pos++) {
      const layerIndex = this.rows[pos]!;
      const layer = this.layers[layerIndex]!;
      const row = h(doc, 'div', {
        class: pos === this.active ? 'lt-row lt-active' : 'lt-row',
        role: 'row',
        id: this.idPrefix + pos,
        'aria-rowindex': pos + 2,
        'aria-selected': pos === this.active ? 'true' : 'false',
        'data-pos': pos,
        'data-layer': layerIndex,
      });
      row.style.transform = `translateY(${pos * this.rowHeight}px)`;
      this.shown.forEach((column) => {
        const i = COLUMNS.indexOf(column);
        const text = column.text(layer, layerIndex);
        row.appendChild(
          h(
            doc,
            'div',
            {
              class: `lt-cell lt-col-${column.id}${column.numeric ? ' lt-num' : ''}`,
              role: 'gridcell',
              'aria-colindex': i + 1,
              title: column.id === 'name' ? text : null,
            },
            // Names keep their informative end visible: the cell clips at the start (see webview.css).
            column.id === 'name' ? h(doc, 'span', { class: 'lt-name' }, text) : text,
          ),
        );
      });
      fragment.appendChild(row);
    }
    this.body.replaceChildren(fragment);
  }

  private refresh(keepLayer = -1): void {
    const filtered = filterRows(this.layers, this.query, this.hidePassThrough);
    this.rows = this.sort ? sortRows(this.layers, filtered, this.sort) : filtered;
    this.grid.setAttribute('aria-rowcount', String(this.rows.length + 1));
    this.spacer.style.height = `${this.rows.length * this.rowHeight}px`;
    this.active = keepLayer >= 0 ? this.rows.indexOf(keepLayer) : -1;
    this.updateActiveDescendant();
    this.render();
  }

  /** Cycles a column through its natural direction, the opposite one, and model order. */
  private toggleSort(column: ColumnId): void {
    // A new order starts at its top, where the largest (or first) rows now are.
    this.scroller.scrollTop = 0;
    const natural: SortDirection = columnById(column).numeric && column !== 'index' ? 'descending' : 'ascending';
    if (!this.sort || this.sort.column !== column) this.setSort({ column, direction: natural });
    else if (this.sort.direction === natural)
      this.setSort({ column, direction: natural === 'ascending' ? 'descending' : 'ascending' });
    else this.setSort(null);
  }

  private setActive(pos: number, scroll: boolean): void {
    if (this.rows.length === 0) return;
    this.active = Math.max(0, Math.min(this.rows.length - 1, pos));
    if (scroll) {
      const viewport = this.scroller.clientHeight || this.options.viewportHeight || 400;
      const top = this.active * this.rowHeight;
      if (top < this.scroller.scrollTop) this.scroller.scrollTop = top;
      else if (top + this.rowHeight > this.scroller.scrollTop + viewport) this.scroller.scrollTop = top + this.rowHeight - viewport;
    }
    this.updateActiveDescendant();
    this.render();
  }

  private updateActiveDescendant(): void {
    if (this.active >= 0) this.grid.setAttribute('aria-activedescendant', this.idPrefix + this.active);
    else this.grid.removeAttribute('aria-activedescendant');
  }

  private activate(): void {
    const layer = this.activeLayer;
    if (layer >= 0) this.options.onActivate?.(layer);
  }

  private onKey(e: KeyboardEvent): void {
    const page = Math.max(1, Math.floor((this.scroller.clientHeight || this.options.viewportHeight || 400) / this.rowHeight) - 1);
    const moves: Record<string, number> = {
      ArrowDown: this.active + 1,
      ArrowUp: this.active - 1,
      PageDown: this.active + page,
      PageUp: this.active - page,
      Home: 0,
      End: this.rows.length - 1,
    };
    if (e.key in moves) {
      e.preventDefault();
      this.setActive(this.active < 0 && e.key !== 'End' ? 0 : moves[e.key]!, true);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      this.activate();
    }
  }

  private scheduleRender(): void {
    if (this.frame) return;
    const view = this.doc.defaultView;
    if (view?.requestAnimationFrame) this.frame = view.requestAnimationFrame(() => this.render());
    else this.render();
  }
}
