import type { LayerSummary } from '../src/core/analysis/types';
import { h } from './dom';
import { COLUMNS, columnById, filterRows, sortRows, visibleRange } from './tableModel';
import type { ColumnId, SortDirection, SortState } from './tableModel';

export interface LayerTableOptions {
  /** Pixel height of one row; must match --ls-row-height in webview.css. */
  rowHeight?: number;
  /** Used when the scroll container has no layout yet (hidden tab, jsdom). */
  viewportHeight?: number;
  /** Called when a row is clicked or Enter is pressed on it, with the layer's index in the model. */
  onActivate?: (layerIndex: number) => void;
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
  private sort: SortState | null = null;
  /** Position of the active row within `rows`, or -1. */
  private active = -1;
  private frame = 0;
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

  setSort(sort: SortState | null): void {
    const activeLayer = this.activeLayer;
    this.sort = sort;
    for (const [id, cell] of this.headers) cell.setAttribute('aria-sort', sort && sort.column === id ? sort.direction : 'none');
    this.refresh(activeLayer);
  }

  /** Makes a layer the active row and scrolls it into view; clears the filter if the filter hides it. */
  select(layerIndex: number): void {
    let pos = this.rows.indexOf(layerIndex);
    if (pos < 0 && this.query) {
      this.query = '';
      this.refresh();
      pos = this.rows.indexOf(layerIndex);
    }
    if (pos >= 0) this.setActive(pos, true);
  }

  /** Renders the rows in view now; normally renders are batched per animation frame. */
  render(): void {
    this.frame = 0;
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
      COLUMNS.forEach((column, i) => {
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
    const filtered = filterRows(this.layers, this.query);
    this.rows = this.sort ? sortRows(this.layers, filtered, this.sort) : filtered;
    this.grid.setAttribute('aria-rowcount', String(this.rows.length + 1));
    this.spacer.style.height = `${this.rows.length * this.rowHeight}px`;
    this.active = keepLayer >= 0 ? this.rows.indexOf(keepLayer) : -1;
    this.updateActiveDescendant();
    this.render();
  }

  /** Cycles a column through its natural direction, the opposite one, and model order. */
  private toggleSort(column: ColumnId): void {
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
