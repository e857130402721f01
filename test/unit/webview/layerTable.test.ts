/// <reference lib="dom" />
import { strict as assert } from 'node:assert';
import { LayerTable } from '../../../webview/layerTable';
import { blockChain, deeperBnConvNet, makeDocument } from './fixtures';

function key(grid: HTMLElement, key: string): void {
  grid.dispatchEvent(new (grid.ownerDocument.defaultView!.KeyboardEvent)('keydown', { key, bubbles: true }));
}

describe('webview/layerTable', () => {
  it('renders only the visible rows of 20,000 and follows scrolling', () => {
    const { document } = makeDocument();
    const summary = blockChain(20000);
    const table = new LayerTable(document, summary.layers, { viewportHeight: 440, rowHeight: 22 });
    document.body.appendChild(table.element);
    assert.equal(table.grid.getAttribute('role'), 'grid');
    assert.equal(table.grid.getAttribute('aria-rowcount'), '20001');
    assert.ok(table.renderedRowCount > 0 && table.renderedRowCount < 60, `rendered ${table.renderedRowCount}`);
    const scroller = table.element.querySelector('.lt-scroll') as HTMLElement;
    let top = 0;
    Object.defineProperty(scroller, 'scrollTop', { get: () => top, set: (v: number) => (top = v) });
    top = 22 * 15000;
    table.render();
    const indices = [...table.element.querySelectorAll('.lt-body [role="row"]')].map((r) => Number(r.getAttribute('aria-rowindex')));
    assert.ok(indices.includes(15002), 'row 15,000 (aria-rowindex 15,002) is rendered after scrolling');
    assert.ok(indices.every((i) => i > 14900 && i < 15100));
    assert.ok(table.renderedRowCount < 60);
    const spacer = table.element.querySelector('.lt-spacer') as HTMLElement;
    assert.equal(spacer.style.height, `${20000 * 22}px`);
  });

  it('marks up rows and cells with grid roles', () => {
    const { document } = makeDocument();
    const table = new LayerTable(document, deeperBnConvNet().layers, { viewportHeight: 1000 });
    const row = table.element.querySelector('.lt-body [role="row"]')!;
    assert.equal(row.getAttribute('aria-rowindex'), '2');
    assert.equal(row.querySelectorAll('[role="gridcell"]').length, 8);
    assert.equal(table.element.querySelectorAll('[role="columnheader"]').length, 8);
  });

  it('sorts when a header is clicked and reports aria-sort', () => {
    const { document } = makeDocument();
    const summary = deeperBnConvNet();
    const table = new LayerTable(document, summary.layers, { viewportHeight: 1000 });
    const header = [...table.element.querySelectorAll('[role="columnheader"]')].find((h) => h.textContent === 'Params') as HTMLElement;
    header.click();
    assert.equal(header.getAttribute('aria-sort'), 'descending');
    const firstRowParams = summary.layers[table.displayedRows[0]!]!.params;
    assert.equal(firstRowParams, Math.max(...summary.layers.map((l) => l.params)));
    const firstCell = table.element.querySelector('.lt-body [role="row"] .lt-col-params')!.textContent;
    assert.equal(firstCell, firstRowParams.toLocaleString('en-US'));
    header.click();
    assert.equal(header.getAttribute('aria-sort'), 'ascending');
    assert.equal(summary.layers[table.displayedRows[0]!]!.params, Math.min(...summary.layers.map((l) => l.params)));
    header.click();
    assert.equal(header.getAttribute('aria-sort'), 'none');
    assert.deepEqual(table.displayedRows, summary.layers.map((_, i) => i));
  });

  it('sorts from the keyboard on a focused header without activating a row', () => {
    const { document } = makeDocument();
    const activated: number[] = [];
    const summary = deeperBnConvNet();
    const table = new LayerTable(document, summary.layers, { viewportHeight: 1000, onActivate: (i) => activated.push(i) });
    const header = [...table.element.querySelectorAll('[role="columnheader"]')].find((h) => h.textContent === 'MACs') as HTMLElement;
    header.dispatchEvent(new (document.defaultView!.KeyboardEvent)('keydown', { key: 'Enter', bubbles: true }));
    assert.equal(header.getAttribute('aria-sort'), 'descending');
    assert.equal(summary.layers[table.displayedRows[0]!]!.macs, Math.max(...summary.layers.map((l) => l.macs)));
    assert.deepEqual(activated, []);
  });

  it('filters rows and updates the row count', () => {
    const { document } = makeDocument();
    const table = new LayerTable(document, deeperBnConvNet().layers, { viewportHeight: 1000 });
    table.setFilter('batchnorm');
    assert.equal(table.displayedRows.length, 7);
    assert.equal(table.grid.getAttribute('aria-rowcount'), '8');
    assert.equal(table.renderedRowCount, 7);
  });

  it('moves with the arrow keys and activates with Enter and clicks', () => {
    const { document } = makeDocument();
    const activated: number[] = [];
    const table = new LayerTable(document, deeperBnConvNet().layers, { viewportHeight: 1000, onActivate: (i) => activated.push(i) });
    document.body.appendChild(table.element);
    // The first arrow press lands on the first row; the next ones move from there.
    key(table.grid, 'ArrowDown');
    key(table.grid, 'ArrowDown');
    key(table.grid, 'ArrowDown');
    key(table.grid, 'ArrowDown');
    key(table.grid, 'ArrowUp');
    assert.equal(table.activeLayer, 2);
    const activeId = table.grid.getAttribute('aria-activedescendant')!;
    assert.equal(document.getElementById(activeId)?.getAttribute('aria-selected'), 'true');
    key(table.grid, 'Enter');
    key(table.grid, 'End');
    key(table.grid, 'Enter');
    assert.deepEqual(activated, [2, 23]);
    (table.element.querySelector('[data-layer="5"] .lt-col-name') as HTMLElement).click();
    assert.deepEqual(activated, [2, 23, 5]);
  });

  it('selects a layer hidden by the filter by clearing the filter', () => {
    const { document } = makeDocument();
    const table = new LayerTable(document, deeperBnConvNet().layers, { viewportHeight: 1000 });
    table.setFilter('Relu');
    table.select(0);
    assert.equal(table.activeLayer, 0);
    assert.equal(table.displayedRows.length, 24);
  });

  it('drops low-priority columns before it cuts names and shapes, in a fixed order', () => {
    const { document } = makeDocument();
    const summary = deeperBnConvNet();
    const table = new LayerTable(document, summary.layers, { viewportHeight: 440 });
    document.body.appendChild(table.element);
    table.fitColumns(5000, 7);
    assert.deepEqual(table.shownColumns, ['index', 'name', 'op', 'output', 'params', 'macs', 'rf', 'memory']);
    const seen: string[][] = [];
    for (let width = 1200; width >= 200; width -= 20) {
      table.fitColumns(width, 7);
      seen.push(table.shownColumns);
    }
    const distinct = [...new Set(seen.map((c) => c.join(' ')))];
    assert.deepEqual(distinct, [
      'index name op output params macs rf memory',
      'index name op output params macs memory',
      'index name op output params macs',
      'name op output params macs',
      'name op output params',
      'name output params',
      'name output',
    ]);
    // The rows follow the header.
    const row = table.element.querySelector('.lt-body .lt-row')!;
    assert.equal(row.querySelectorAll('.lt-cell').length, 2);
    assert.ok(row.querySelector('.lt-col-name') && row.querySelector('.lt-col-output'));
    const grid = table.grid as HTMLElement;
    assert.match(grid.style.getPropertyValue('--lt-columns'), /^minmax\(\d+px, 1fr\) \d+px$/);
  });

  it('hides parameter-free Constant and Identity rows until asked, and shows one when it is selected', () => {
    const { document } = makeDocument();
    const summary = deeperBnConvNet();
    const layers = [
      { ...summary.layers[0]!, name: 'Identity_0', op: 'Identity', params: 0 },
      { ...summary.layers[0]!, name: 'Constant_1', op: 'Constant', params: 0 },
      { ...summary.layers[0]!, name: 'Identity_2', op: 'Identity', params: 8 },
      ...summary.layers,
    ];
    let cleared = 0;
    const table = new LayerTable(document, layers, { viewportHeight: 440, onFilterCleared: () => cleared++ });
    assert.equal(table.displayedRows.length, layers.length - 2, 'an Identity that holds parameters stays');
    assert.ok(!table.displayedRows.includes(0) && !table.displayedRows.includes(1));
    table.setHidePassThrough(false);
    assert.equal(table.displayedRows.length, layers.length);
    table.setHidePassThrough(true);
    table.select(1);
    assert.equal(table.activeLayer, 1, 'selecting a hidden row (from the graph) shows it');
    assert.equal(cleared, 1);
  });
});
