import type { LayerSummary, ReceptiveField } from '../src/core/analysis/types';
import { formatBytes, formatCount, formatShape } from '../src/core/format';

/**
 * The layer table's columns as data: how each is shown and how it sorts. Sorting and filtering are pure functions
 * over row indices, so that the virtual table only ever moves numbers around and tests need no DOM.
 */

export type ColumnId = 'index' | 'name' | 'op' | 'output' | 'params' | 'macs' | 'rf' | 'memory';

export interface Column {
  id: ColumnId;
  title: string;
  numeric: boolean;
  text(layer: LayerSummary, index: number): string;
  /** The value compared when sorting; strings compare with localeCompare, numbers numerically. */
  key(layer: LayerSummary, index: number): number | string;
}

export function formatRf(rf: ReceptiveField | null): string {
  if (!rf) return '';
  if (rf.global) return 'global';
  return `${rf.size.join('×')} /${rf.stride.join('×')}`;
}

function rfKey(rf: ReceptiveField | null): number {
  if (!rf) return -1;
  if (rf.global) return Number.MAX_SAFE_INTEGER;
  return Math.max(0, ...rf.size);
}

function outputShapeText(layer: LayerSummary): string {
  const first = layer.outputs[0];
  if (!first) return '';
  const text = formatShape(first.shape);
  return layer.outputs.length > 1 ? `${text} +${layer.outputs.length - 1}` : text;
}

function outputElements(layer: LayerSummary): number {
  const shape = layer.outputs[0]?.shape;
  if (!shape) return -1;
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') return -1;
    n *= d;
  }
  return n;
}

export const COLUMNS: readonly Column[] = [
  { id: 'index', title: '#', numeric: true, text: (_l, i) => String(i + 1), key: (_l, i) => i },
  { id: 'name', title: 'Layer', numeric: false, text: (l) => l.name, key: (l) => l.name },
  { id: 'op', title: 'Op', numeric: false, text: (l) => l.op, key: (l) => l.op },
  { id: 'output', title: 'Output shape', numeric: false, text: outputShapeText, key: outputElements },
  { id: 'params', title: 'Params', numeric: true, text: (l) => formatCount(l.params), key: (l) => l.params },
  { id: 'macs', title: 'MACs', numeric: true, text: (l) => formatCount(l.macs), key: (l) => l.macs },
  { id: 'rf', title: 'Receptive field', numeric: false, text: (l) => formatRf(l.receptiveField), key: (l) => rfKey(l.receptiveField) },
  {
    id: 'memory',
    title: 'Activations',
    numeric: true,
    text: (l) => (l.activationBytes > 0 ? formatBytes(l.activationBytes) : ''),
    key: (l) => l.activationBytes,
  },
];

export function columnById(id: ColumnId): Column {
  const column = COLUMNS.find((c) => c.id === id);
  if (!column) throw new Error(`unknown column ${id}`);
  return column;
}

export type SortDirection = 'ascending' | 'descending';

export interface SortState {
  column: ColumnId;
  direction: SortDirection;
}

/** Indices of the layers whose name or op contains the query, case-insensitively, in model order. */
export function filterRows(layers: readonly LayerSummary[], query: string, hidePassThrough = false): number[] {
  const q = query.trim().toLowerCase();
  const out: number[] = [];
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    if (hidePassThrough && isPassThrough(layer)) continue;
    if (!q || layer.name.toLowerCase().includes(q) || layer.op.toLowerCase().includes(q)) out.push(i);
  }
  return out;
}

/**
 * Constant and Identity nodes that hold no parameters of their own: exporters write dozens of them (142 "layers" of a
 * tiny transformer), and they are not layers to a reader. The table hides them unless asked.
 */
export function isPassThrough(layer: LayerSummary): boolean {
  return (layer.op === 'Constant' || layer.op === 'Identity') && layer.params === 0;
}

/** Sorts row indices by a column; ties keep model order so that the result is stable and predictable. */
export function sortRows(layers: readonly LayerSummary[], rows: readonly number[], sort: SortState): number[] {
  const column = columnById(sort.column);
  const sign = sort.direction === 'ascending' ? 1 : -1;
  const keys = new Map<number, number | string>();
  for (const i of rows) keys.set(i, column.key(layers[i]!, i));
  return [...rows].sort((a, b) => {
    const ka = keys.get(a)!;
    const kb = keys.get(b)!;
    let c: number;
    if (typeof ka === 'number' && typeof kb === 'number') c = ka - kb;
    else c = String(ka).localeCompare(String(kb));
    return c !== 0 ? sign * c : a - b;
  });
}

/** The rows a viewport of a given height shows, with a little overscan so that fast scrolling never shows gaps. */
export function visibleRange(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  rowCount: number,
  overscan = 8,
): { first: number; last: number } {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(rowCount - 1, Math.ceil((scrollTop + viewportHeight) / rowHeight) + overscan);
  return { first, last };
}
