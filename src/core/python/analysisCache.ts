import type { Node as TreeSitterNode } from 'web-tree-sitter';
import type { Dim } from '../ir/types';
import { Interpreter } from './interpreter';
import { RunAbandoned, rangeOf } from './trace';
import type { Diagnostic, LayerTrace, ScopeObserver } from './trace';
import { Rebaser, namedRows } from './rebase';
import type { LineMap } from './rebase';
import { snapshotStatement } from './syntax';
import type { StatementSnapshot, SyntaxNode } from './syntax';
import type { ClassValue, LayerValue, SourceRange, Value } from './values';

/**
 * Lets the analysis of a file that is being typed in redo only what an edit can change. The work is split into
 * units: running each top-level statement, propagating shapes through each module-level instance, and building and
 * shaping each class that no instance uses. A unit that runs records what it read from module scope; the next
 * version replays it instead of running it when its statement's text is unchanged and every name it read still has
 * the same value. Classes and functions compare by identity, and a class statement that is replayed keeps its class
 * object, so an edit to class Fire reruns the statement `class Fire`, which makes a new class, which fails the check
 * of every unit that read `Fire`, and so on outward. Constants compare by value.
 *
 * Statements are kept as snapshots (syntax.ts), which move with their text: when lines are inserted above a class,
 * its cached results are copied onto the new lines (rebase.ts), or recomputed if a message names a line that moved.
 * Summaries and lenses derived from a replayed instance are reused with it, and moved with it when it moved.
 *
 * Anything a replayed result might share with code that runs afresh disables the replay instead: units that read a
 * mutable module-level value (a list, a dict, a module instance) are never kept, and if such a read reaches a
 * replayed value, the run stops and starts again without that cached result. The result is therefore the same as an
 * analysis without the cache; the tests check exactly that after each of a sequence of edits.
 */

/** What a unit did when it ran, enough to replay it without running it. */
interface Effects {
  /** Module-level names read, with the value each had (undefined: unbound). */
  reads: Array<[string, Value | undefined]>;
  diagnostics: Diagnostic[];
  traces: LayerTrace[];
  /** Lines that message texts name (of those the interpreter reported, the ones the texts really name). */
  citedRows: number[];
}

interface StatementMemo extends Effects {
  /** Whether an earlier statement had already ended the module, which changes what this one does. */
  moduleDone: boolean;
  writes: Array<[string, Value]>;
}

interface ShapeMemo extends Effects {
  /** The instance the shapes were propagated through: replayable only with the same one. */
  instance: LayerValue;
  inputShape: Dim[] | null;
  output: Dim[] | null;
}

/** A class that no instance uses, built with its defaults and shaped. */
export interface DefaultModule {
  instance: LayerValue;
  inputShape: Dim[] | null;
  output: Dim[] | null;
}

interface DefaultMemo extends Effects {
  /** The input shape asked for before the instance existed (a comment, an option). */
  requested: Dim[] | null;
  result: DefaultModule;
}

/**
 * How a derived result moves with its lines: a copy on the new lines (with the rebaser's copies of its layers), or
 * undefined when it cannot move (a text in it names a line that moved).
 */
export type MoveDerived<T> = (value: T, r: Rebaser) => T | undefined;

/** One derived result: the key it was computed for (positions as SourceRange objects, so they move too) and the value. */
interface Derived {
  key: string;
  parts: readonly unknown[];
  value: unknown;
  move: MoveDerived<unknown>;
}

/** Results derived from an instance (summaries, lenses), by kind, kept apart from the memos of the units. */
type DerivedResults = WeakMap<LayerValue, Map<string, Derived>>;

/** The units of work of one analysis, each run directly or through the cache. `S` is a top-level statement. */
export interface AnalysisRun<S extends { readonly node: SyntaxNode }> {
  readonly interpreter: Interpreter;
  /** Runs one top-level statement. */
  statement(stmt: S, execute: () => void): void;
  /** Propagates shapes through the `index`th instance bound by a statement. */
  shapes(stmt: S, index: number, instance: LayerValue, inputShape: Dim[] | null, compute: () => Dim[] | null): Dim[] | null;
  /** Builds and shapes a class that no instance uses. */
  defaultModule(cls: ClassValue, requested: Dim[] | null, compute: () => DefaultModule): DefaultModule;
  /**
   * A result derived from an instance (a summary, lenses); `key` is everything else the result shows, with positions as
   * SourceRange objects; `move` puts the result on new lines when its instance's source moved.
   */
  derive<T>(instance: LayerValue, kind: string, key: readonly unknown[], compute: () => T, move: MoveDerived<T>): T;
}

/** An analysis without a cache: nothing will be replayed, so every unit simply runs. */
export class DirectRun implements AnalysisRun<{ readonly node: SyntaxNode }> {
  readonly interpreter = new Interpreter();

  statement(_stmt: unknown, execute: () => void): void {
    execute();
  }

  shapes(_stmt: unknown, _index: number, _instance: LayerValue, _inputShape: Dim[] | null, compute: () => Dim[] | null): Dim[] | null {
    return compute();
  }

  defaultModule(_cls: ClassValue, _requested: Dim[] | null, compute: () => DefaultModule): DefaultModule {
    return compute();
  }

  derive<T>(_instance: LayerValue, _kind: string, _key: readonly unknown[], compute: () => T): T {
    return compute();
  }
}

/** One top-level statement, kept across versions of the file while its text is unchanged. */
export class StatementRecord {
  exec?: StatementMemo;
  /** Shape memos of the instances the statement binds, in the order the analysis finds them. */
  shapes: Array<ShapeMemo | undefined> = [];

  constructor(readonly snapshot: StatementSnapshot) {}

  get node(): SyntaxNode {
    return this.snapshot.node;
  }

  forget(): void {
    this.exec = undefined;
    this.shapes = [];
  }
}

/** Thrown when a cached result turns out to be shared with code that runs afresh; the run starts again without it. */
export class CacheConflict extends RunAbandoned {}

export class AnalysisCache {
  private records: StatementRecord[] = [];
  private lineCount = 0;
  /** Memos of classes built with their defaults, by class object (which lives as long as its statement is replayed). */
  private defaults = new Map<ClassValue, DefaultMemo>();
  private derived: DerivedResults = new WeakMap();

  /**
   * This version's top-level statements. A statement whose text (and starting column) is unchanged keeps its record
   * and snapshot; if it moved, its snapshot moves and its cached results are copied onto the new lines. A statement
   * with a syntax error is always snapshotted afresh, because error recovery depends on its surroundings.
   */
  load(root: TreeSitterNode, source: string): StatementRecord[] {
    const unused = new Map<string, StatementRecord[]>();
    for (const r of this.records) {
      if (r.snapshot.hasError) continue;
      const key = keyOf(r.node.type, r.snapshot.column, r.snapshot.text);
      const list = unused.get(key);
      if (list) list.push(r);
      else unused.set(key, [r]);
    }
    const next: StatementRecord[] = [];
    const moves: Array<{ record: StatementRecord; from: number }> = [];
    for (const node of root.namedChildren) {
      if (!node) continue;
      const start = node.startPosition;
      const reused = node.hasError ? undefined : unused.get(keyOf(node.type, start.column, source.slice(node.startIndex, node.endIndex)))?.shift();
      if (reused) {
        moves.push({ record: reused, from: reused.snapshot.row });
        reused.snapshot.row = start.row;
        next.push(reused);
      } else next.push(new StatementRecord(snapshotStatement(node, source)));
    }
    if (moves.some((m) => m.from !== m.record.snapshot.row)) this.rebase(moves);
    this.records = next;
    this.lineCount = countLines(source);
    return next;
  }

  /** Starts an analysis run of the loaded version; with `replay` false it only records, for the next version. */
  begin(replay: boolean): CacheRun {
    return new CacheRun(this.defaults, this.derived, replay);
  }

  /** Keeps what a finished run may let the next version replay. */
  commit(run: CacheRun, statements: StatementRecord[]): void {
    this.defaults = run.commit(statements);
  }

  clear(): void {
    this.records = [];
    this.defaults = new Map();
    this.derived = new WeakMap();
    this.lineCount = 0;
  }

  /** Copies every cached result onto the lines its source moved to; a result that names a vanished line is dropped. */
  private rebase(moves: Array<{ record: StatementRecord; from: number }>): void {
    const to = new Int32Array(this.lineCount).fill(-1);
    for (const { record, from } of moves) {
      for (let k = 0; k < record.snapshot.lineCount; k++) to[from + k] = record.snapshot.row + k;
    }
    const lines = (row: number): number | undefined => (row >= 0 && row < to.length && to[row] >= 0 ? to[row] : undefined);
    const effects = <T extends Effects>(memo: T, r: Rebaser): T => ({ ...memo, diagnostics: memo.diagnostics.map((d) => r.diagnostic(d)), traces: memo.traces.map((t) => r.trace(t)) });
    for (const { record } of moves) {
      if (![record.exec, ...record.shapes].every((m) => !m || keepsCitations(m, lines))) {
        record.forget();
        continue;
      }
      // One rebaser for the statement and its shapes, so that a shape memo's instance is the copy its statement binds.
      const r = new Rebaser(lines);
      const exec = record.exec && { ...effects(record.exec, r), writes: record.exec.writes.map(([n, v]): [string, Value] => [n, r.value(v)]) };
      const shapes = record.shapes.map((s) => s && { ...effects(s, r), instance: r.layer(s.instance) });
      if (r.failed) record.forget();
      else if (r.moved) {
        // Results that did not move keep their objects, so that what is derived from them (lenses) is reused too.
        for (const s of record.shapes) if (s) this.moveDerived(s.instance, r);
        record.exec = exec;
        record.shapes = shapes;
      }
    }
    for (const [cls, memo] of this.defaults) {
      if (!keepsCitations(memo, lines)) {
        this.defaults.delete(cls);
        continue;
      }
      const r = new Rebaser(lines);
      const copy = { ...effects(memo, r), result: { ...memo.result, instance: r.layer(memo.result.instance) } };
      if (r.failed) this.defaults.delete(cls);
      else if (r.moved) {
        this.defaults.set(cls, copy);
        this.moveDerived(memo.result.instance, r);
      }
    }
  }

  /**
   * Gives the moved copy of an instance the results derived from the original, moved too (their keys' positions and
   * their lenses' lines), so that the lenses of a class below an added line are not built again. A result that cannot
   * move is left out and is derived afresh.
   */
  private moveDerived(original: LayerValue, r: Rebaser): void {
    const byKind = this.derived.get(original);
    if (!byKind) return;
    const moved = new Map<string, Derived>();
    for (const [kind, d] of byKind) {
      const parts = d.parts.map((p) => (isRange(p) ? r.range(p) : p));
      const value = r.failed ? undefined : d.move(d.value, r);
      if (value !== undefined && !r.failed) moved.set(kind, { ...d, key: JSON.stringify(parts), parts, value });
    }
    if (moved.size > 0) this.derived.set(r.layer(original), moved);
  }
}

function isRange(p: unknown): p is SourceRange {
  return typeof p === 'object' && p !== null && typeof (p as SourceRange).line === 'number' && typeof (p as SourceRange).endLine === 'number';
}

/**
 * Keeps of the lines a fresh memo reported only those its texts name. The interpreter reports every line it may name
 * in a message (a container reports its line whether or not it has a problem), and a memo that names a line must be
 * recomputed when that line moves; narrowed once here, while the unit has just run, a memo of a class without messages
 * can move with its lines when lines are added above it. A text naming a line is made in the run that reports it.
 */
function narrowCitations<T extends Effects>(memo: T): T {
  if (memo.citedRows.length === 0) return memo;
  const named = namedRows(memo);
  memo.citedRows = memo.citedRows.filter((row) => named.has(row));
  return memo;
}

/** Whether a memo's texts stay true when it moves with its lines: none of the lines they name moved. */
function keepsCitations(memo: Effects, lines: LineMap): boolean {
  return memo.citedRows.every((row) => lines(row) === row);
}

function keyOf(type: string, column: number, text: string): string {
  return `${type}\u0000${column}\u0000${text}`;
}

function countLines(source: string): number {
  let n = 1;
  for (let i = source.indexOf('\n'); i >= 0; i = source.indexOf('\n', i + 1)) n++;
  return n;
}

/** A unit running afresh: what it reads, writes, reports and traces. */
class Recording {
  readonly reads = new Map<string, Value | undefined>();
  readonly writes: Array<[string, Value]> = [];
  readonly written = new Set<string>();
  readonly traces: LayerTrace[] = [];
  readonly citedRows: number[] = [];
  /** It read a mutable value from outside itself, so its result depends on who else touches that value. */
  impure = false;
  /** A later unit read a mutable value it bound, so the value must be built afresh every time. */
  exposed = false;

  constructor(readonly diagnosticsFrom: number) {}

  effects(interp: Interpreter): Effects {
    return { reads: [...this.reads], diagnostics: interp.diagnostics.slice(this.diagnosticsFrom), traces: this.traces, citedRows: this.citedRows };
  }
}

/** Who bound a module-level name in this run. */
interface Binder {
  record?: StatementRecord;
  /** Bound by a replayed memo, whose value must not meet code that runs afresh. */
  replayed: boolean;
  recording?: Recording;
}

/** One analysis run: replays what it can, runs and records the rest, and keeps what may be replayed next time. */
export class CacheRun implements AnalysisRun<StatementRecord>, ScopeObserver {
  readonly interpreter = new Interpreter();
  private recording?: Recording;
  private recordingFor?: StatementRecord;
  private readonly binders = new Map<string, Binder>();
  private readonly replayedLayers = new Set<LayerValue>();
  private readonly execOutcomes = new Map<StatementRecord, { memo: StatementMemo; keep: () => boolean }>();
  private readonly shapeOutcomes = new Map<StatementRecord, Array<ShapeMemo | undefined>>();
  private readonly defaultOutcomes = new Map<ClassValue, DefaultMemo>();

  constructor(
    private readonly defaults: ReadonlyMap<ClassValue, DefaultMemo>,
    private readonly derived: DerivedResults,
    private readonly replay: boolean,
  ) {
    this.interpreter.observer = this;
  }

  statement(record: StatementRecord, execute: () => void): void {
    const interp = this.interpreter;
    const memo = this.replay ? record.exec : undefined;
    if (memo && memo.moduleDone === interp.moduleDone && this.verified(memo.reads)) {
      for (const [name, value] of memo.writes) {
        if (value.kind === 'class') refreshRange(value);
        else if (value.kind === 'layer') this.replayedLayers.add(value);
        interp.globals.set(name, value);
        this.binders.set(name, { record, replayed: true });
      }
      this.restore(memo);
      this.execOutcomes.set(record, { memo, keep: () => true });
      return;
    }
    const moduleDone = interp.moduleDone;
    const rec = this.run(execute, record);
    const fresh: StatementMemo = narrowCitations({ ...rec.effects(interp), moduleDone, writes: rec.writes });
    const changedModule = interp.moduleDone !== moduleDone;
    this.execOutcomes.set(record, { memo: fresh, keep: () => !rec.impure && !rec.exposed && !changedModule && rec.writes.every(([, v]) => storable(v)) });
  }

  shapes(record: StatementRecord, index: number, instance: LayerValue, inputShape: Dim[] | null, compute: () => Dim[] | null): Dim[] | null {
    const outcomes = this.shapeOutcomes.get(record) ?? [];
    this.shapeOutcomes.set(record, outcomes);
    const memo = this.replay ? record.shapes[index] : undefined;
    if (memo && memo.instance === instance && sameDims(memo.inputShape, inputShape) && this.verified(memo.reads)) {
      this.restore(memo);
      outcomes[index] = memo;
      return memo.output;
    }
    if (this.replayedLayers.has(instance)) {
      // The instance came from the cache in the state its last shape run left it; running forward again on it
      // could differ from running it on a fresh instance, so its statement has to run afresh.
      record.forget();
      throw new CacheConflict('a replayed instance needs a new shape run');
    }
    let output: Dim[] | null = null;
    const rec = this.run(() => {
      output = compute();
    });
    outcomes[index] = rec.impure ? undefined : narrowCitations({ ...rec.effects(this.interpreter), instance, inputShape, output });
    return output;
  }

  defaultModule(cls: ClassValue, requested: Dim[] | null, compute: () => DefaultModule): DefaultModule {
    const memo = this.replay ? this.defaults.get(cls) : undefined;
    if (memo && sameDims(memo.requested, requested) && this.verified(memo.reads)) {
      this.restore(memo);
      this.defaultOutcomes.set(cls, memo);
      return memo.result;
    }
    let result: DefaultModule | undefined;
    const rec = this.run(() => {
      result = compute();
    });
    if (!rec.impure) this.defaultOutcomes.set(cls, narrowCitations({ ...rec.effects(this.interpreter), requested, result: result! }));
    return result!;
  }

  /**
   * Reused while it is the same instance object and `key` is unchanged. The same object has the same layers and the
   * same traces: a replayed instance brings the traces its memo restored, and an instance that changes is a new object.
   */
  derive<T>(instance: LayerValue, kind: string, key: readonly unknown[], compute: () => T, move: MoveDerived<T>): T {
    let byKind = this.derived.get(instance);
    if (!byKind) this.derived.set(instance, (byKind = new Map()));
    const text = JSON.stringify(key);
    const hit = byKind.get(kind);
    if (hit && hit.key === text) return hit.value as T;
    const value = compute();
    byKind.set(kind, { key: text, parts: key, value, move: move as MoveDerived<unknown> });
    return value;
  }

  /**
   * Stores in each statement's record what the next version may replay, and returns the default-instance memos to
   * keep. A statement's memo is kept only with all its shape memos: replaying it without them would make the next
   * run propagate shapes through a cached instance, which is a conflict.
   */
  commit(statements: StatementRecord[]): Map<ClassValue, DefaultMemo> {
    for (const record of statements) {
      const exec = this.execOutcomes.get(record);
      const shapes = this.shapeOutcomes.get(record) ?? [];
      if (exec && exec.keep() && shapes.every((s) => s !== undefined)) {
        record.exec = exec.memo;
        record.shapes = shapes;
      } else record.forget();
    }
    return this.defaultOutcomes;
  }

  /** Stops observing; the interpreter outlives the run (lowering reuses it). */
  end(): void {
    this.interpreter.observer = undefined;
  }

  // ---- ScopeObserver ------------------------------------------------------------------------------------------

  readGlobal(name: string, value: Value | undefined): void {
    const rec = this.recording;
    if (!rec || rec.written.has(name)) return;
    if (!rec.reads.has(name)) rec.reads.set(name, value);
    if (value === undefined || isFrozen(value)) return;
    const binder = this.binders.get(name);
    if (binder?.replayed) {
      binder.record?.forget();
      throw new CacheConflict(`'${name}' is a cached mutable value`);
    }
    rec.impure = true;
    if (binder?.recording) binder.recording.exposed = true;
  }

  wroteGlobal(name: string, value: Value): void {
    const rec = this.recording;
    if (!rec) return;
    rec.writes.push([name, value]);
    rec.written.add(name);
    if (!this.recordingFor) rec.impure = true;
    this.binders.set(name, { ...(this.recordingFor ? { record: this.recordingFor } : {}), replayed: false, recording: rec });
  }

  readClassAttr(value: Value): void {
    if (this.recording && !isFrozen(value)) this.recording.impure = true;
  }

  citedLine(row: number): void {
    this.recording?.citedRows.push(row);
  }

  traced(trace: LayerTrace): void {
    this.recording?.traces.push(trace);
  }

  // ---- helpers ------------------------------------------------------------------------------------------------

  private run(execute: () => void, record?: StatementRecord): Recording {
    const rec = new Recording(this.interpreter.diagnostics.length);
    this.recording = rec;
    this.recordingFor = record;
    try {
      execute();
    } finally {
      this.recording = undefined;
      this.recordingFor = undefined;
    }
    return rec;
  }

  private verified(reads: Array<[string, Value | undefined]>): boolean {
    const globals = this.interpreter.globals;
    return reads.every(([name, value]) => sameValue(globals.get(name), value));
  }

  private restore(effects: Effects): void {
    this.interpreter.diagnostics.push(...effects.diagnostics);
    for (const t of effects.traces) this.interpreter.traces.set(t.layer, t);
  }
}

/** A replayed class keeps its object; if its statement moved, the object's range follows the snapshot. */
function refreshRange(cls: ClassValue): void {
  const range = rangeOf(cls.node as SyntaxNode);
  if (range.line !== cls.range.line) cls.range = range;
}

/** Values that nothing can change once built; everything else may be mutated by code that reads it. */
function isFrozen(v: Value): boolean {
  switch (v.kind) {
    case 'num':
    case 'str':
    case 'bool':
    case 'none':
    case 'unknown':
    case 'torchRef':
    case 'class':
      return true;
    case 'func':
      return v.self === undefined;
    case 'seq':
      return v.tuple && v.items.every(isFrozen);
    default:
      return false;
  }
}

/** What a replayed statement may bind: frozen values, classes whose attributes are frozen, and fresh instances. */
function storable(v: Value): boolean {
  if (v.kind === 'class') return v.bases.every(isFrozen) && [...v.attrs.values()].every(isFrozen);
  if (v.kind === 'layer') return v.category === 'user';
  return isFrozen(v);
}

/** Whether a module-level name still has the value a cached unit read: the same object, or an equal frozen value. */
function sameValue(a: Value | undefined, b: Value | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  switch (a.kind) {
    case 'num':
      return b.kind === 'num' && Object.is(a.value, b.value) && a.isInt === b.isInt;
    case 'str':
      return b.kind === 'str' && a.value === b.value;
    case 'bool':
      return b.kind === 'bool' && a.value === b.value;
    case 'none':
      return b.kind === 'none';
    case 'torchRef':
      return b.kind === 'torchRef' && a.path === b.path;
    case 'unknown':
      return b.kind === 'unknown' && a.reason === b.reason && a.maybeModule === b.maybeModule;
    case 'seq':
      return b.kind === 'seq' && a.tuple && b.tuple && a.items.length === b.items.length && a.items.every((x, i) => sameValue(x, b.items[i]));
    default:
      return false;
  }
}

function sameDims(a: Dim[] | null, b: Dim[] | null): boolean {
  if (a === b) return true;
  return !!a && !!b && a.length === b.length && a.every((d, i) => d === b[i]);
}
