import type { Diagnostic, LayerTrace } from './trace';
import type { LayerValue, SourceRange, Value } from './values';

/**
 * Moves cached analysis results to the lines their source now starts on, after lines were inserted or deleted above
 * it. Results are copied, never changed in place, because the previous analysis (shown while the user is mid-edit)
 * still holds them. Copies keep the sharing of the originals: a layer reached twice is copied once, and the copy of
 * a trace points to the copy of its layer.
 */

/** Old 0-based line to new, or undefined for a line whose text did not survive the edit. */
export type LineMap = (row: number) => number | undefined;

export class Rebaser {
  private readonly copies = new Map<object, object>();
  /** Set when a result names a line that has no new line: it cannot be moved and must be recomputed. */
  failed = false;
  /** Set when some line a result names is now elsewhere; if not, the originals can be kept instead of the copies. */
  moved = false;

  constructor(private readonly lines: LineMap) {}

  /** The new row of `row`, or undefined (and the rebase failed) when its text did not survive the edit. */
  line(row: number): number | undefined {
    const moved = this.lines(row);
    if (moved === undefined) this.failed = true;
    else if (moved !== row) this.moved = true;
    return moved;
  }

  private row(row: number): number {
    return this.line(row) ?? row;
  }

  range(r: SourceRange): SourceRange {
    // A position in another file does not move with this file's edits.
    if (r.file) return r;
    const seen = this.copies.get(r) as SourceRange | undefined;
    if (seen) return seen;
    const copy = { ...r, line: this.row(r.line), endLine: this.row(r.endLine) };
    this.copies.set(r, copy);
    return copy;
  }

  diagnostic(d: Diagnostic): Diagnostic {
    return { ...d, range: this.range(d.range) };
  }

  trace(t: LayerTrace): LayerTrace {
    const seen = this.copies.get(t) as LayerTrace | undefined;
    if (seen) return seen;
    const copy = { ...t, layer: this.layer(t.layer) };
    this.copies.set(t, copy);
    return copy;
  }

  layer(l: LayerValue): LayerValue {
    const seen = this.copies.get(l) as LayerValue | undefined;
    if (seen) return seen;
    // Registered before its parts are copied, so that a cycle (a bound method in attrs) ends at the copy.
    const copy: LayerValue = { ...l };
    this.copies.set(l, copy);
    copy.range = this.range(l.range);
    copy.args = this.map(l.args);
    copy.children = l.children.map(([name, child]) => [name, this.layer(child)]);
    if (l.attrs) copy.attrs = this.map(l.attrs);
    return copy;
  }

  /**
   * Values without positions (numbers, strings, unknowns, torch names, classes, functions, tensors) are shared: the
   * analysis never changes them once built. A class's own position is refreshed when its statement is replayed.
   */
  value(v: Value): Value {
    switch (v.kind) {
      case 'layer':
        return this.layer(v);
      case 'seq': {
        const seen = this.copies.get(v) as Value | undefined;
        if (seen) return seen;
        const copy = { ...v, items: [] as Value[] };
        this.copies.set(v, copy);
        copy.items = v.items.map((x) => this.value(x));
        return copy;
      }
      case 'dict': {
        const seen = this.copies.get(v) as Value | undefined;
        if (seen) return seen;
        const copy = { ...v, entries: [] as Array<[Value, Value]> };
        this.copies.set(v, copy);
        copy.entries = v.entries.map(([k, x]) => [this.value(k), this.value(x)]);
        return copy;
      }
      case 'func':
        return v.self ? { ...v, self: this.layer(v.self) } : v;
      case 'method':
        return { ...v, target: this.value(v.target) };
      case 'super':
        return { ...v, self: this.layer(v.self) };
      default:
        return v;
    }
  }

  private map(m: Map<string, Value>): Map<string, Value> {
    const copy = new Map<string, Value>();
    for (const [k, v] of m) copy.set(k, this.value(v));
    return copy;
  }
}

/** A copy of a layer tree on the same lines, for code that may change it while the original must stay as it is. */
export function copyLayer(layer: LayerValue): LayerValue {
  return new Rebaser((row) => row).layer(layer);
}

/**
 * The lines (0-based rows) that texts in `result` name as `line N`: messages, reasons, formulas and string values at
 * any depth. The interpreter reports every line it may name in a message (`citedLine`), also where no message ends up
 * naming it (a container's line is reported whether or not the container has a problem); which of those a cached
 * result really names decides whether it can move with its lines. Syntax snapshots (`node`), another file's module
 * scope (`globals`) and the values a unit read from module scope (`reads`, which belong to other statements) are not
 * searched.
 */
export function namedRows(result: unknown): Set<number> {
  const rows = new Set<number>();
  const seen = new Set<object>();
  const stack: unknown[] = [result];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('line ')) for (const m of v.matchAll(/\bline (\d+)\b/g)) rows.add(Number(m[1]) - 1);
      continue;
    }
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    seen.add(v);
    if (v instanceof Map) {
      for (const [k, x] of v) stack.push(k, x);
    } else if (v instanceof Set || Array.isArray(v)) {
      for (const x of v) stack.push(x);
    } else {
      for (const k in v) if (k !== 'node' && k !== 'globals' && k !== 'reads') stack.push((v as Record<string, unknown>)[k]);
    }
  }
  return rows;
}
