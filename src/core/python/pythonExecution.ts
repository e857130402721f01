import { isUserInputError } from '../errors';
import { copyLayer } from './rebase';
import type { SyntaxNode } from './syntax';
import { namesWrittenIn } from './writtenNames';
import { importedTrees } from './imports';
import type { Importer } from './imports';
import { RunAbandoned, rangeOf } from './trace';
import type { Diagnostic, ScopeObserver } from './trace';
import type { ClassValue, FuncValue, LayerValue, Value } from './values';
import { num, unknown } from './values';

/**
 * Generic Python evaluation for the static interpreter: statements, expressions, functions, classes, imports and the
 * standard library that model definitions use (constants, arithmetic, tuples, lists, dicts and their comprehensions,
 * if/for over known values, calls into the user's own functions and classes). It never runs user code: it evaluates
 * what is knowable and marks the rest unknown, with the reason and line.
 *
 * What torch adds (modules, parameters, containers, tensors and forward passes) lives in interpreter.ts, whose
 * Interpreter extends this class and overrides the hooks below, as Netron's `pytorch.Execution` extends
 * `python.Execution`. Instances of user classes are LayerValues here too (a plain class's with `plain` set), because a
 * user class may turn out to be a module only once its bases are read.
 */

export type Scope = Map<string, Value>;

export interface Frame {
  locals: Scope;
  globals: Scope;
  self?: LayerValue;
  cls?: ClassValue;
  returned?: Value;
  done?: boolean;
  /** Set in a function (not a method) that skipped a loop or branch it could not follow which may build modules. */
  uncertain?: string;
  /** A `break` or `continue` on its way to the innermost loop. */
  jump?: 'break' | 'continue';
  /** Set when a branch that may break or continue the innermost loop could not be decided. */
  loopUnknown?: string;
}

const MAX_STEPS = 200_000;

/** Steps for a whole file (all statements, classes and forward runs), so that a file of many costly statements ends. */
const MAX_FILE_STEPS = 5_000_000;

export const MAX_DEPTH = 40;

export const MAX_LOOP = 10_000;

/** The longest list or string the interpreter builds; past it the value is unknown (`[0] * 10**12` must not allocate). */
const MAX_ITEMS = 100_000;

export function truthy(v: Value): boolean | null {
  switch (v.kind) {
    case 'bool':
      return v.value;
    case 'num':
      return v.value !== 0;
    case 'str':
      return v.value.length > 0;
    case 'none':
      return false;
    case 'seq':
      return v.items.length > 0;
    case 'dict':
      return v.entries.length > 0;
    case 'unknown':
      return null;
    case 'tensor':
      // `if x.mean() > 0:` depends on the data, which static analysis does not have.
      return null;
    default:
      return true;
  }
}

/**
 * Does this subtree contain anything that could create or register sub-modules? Constructor calls (torch.nn or the
 * user's own capitalised classes), attribute assignments on self and list growth can; isinstance checks, nn.init
 * calls and `raise SomeError(...)` cannot.
 */
function mayBuildModules(n: SyntaxNode): boolean {
  if (n.type === 'raise_statement' || n.type === 'comment' || n.type === 'string') return false;
  if (n.type === 'expression_statement' || n.type === 'return_statement') {
    return /\bnn\.[A-Z]\w*\s*\(|self\.[A-Za-z_]\w*\s*=[^=]|\.append\(|\.extend\(|\.insert\(|add_module|register_module|setattr|\b[A-Z]\w*\s*\(/.test(n.text);
  }
  for (const c of n.namedChildren) if (c && mayBuildModules(c)) return true;
  return false;
}

/**
 * A function found on a class, as reading it through an instance binds it: a plain method takes the instance, a
 * classmethod the instance's class, a staticmethod nothing.
 */
function bindMethod(v: FuncValue, self: LayerValue, cls: ClassValue): FuncValue {
  if (v.binding === 'static') return v;
  if (v.binding === 'class') return { ...v, boundClass: cls };
  return { ...v, self };
}

const dataclassFieldsOf = new WeakMap<ClassValue, Array<[string, Value | undefined]>>();

/** The fields of a dataclass (its own after its bases'), or undefined for a class that is not one. */
export function dataclassFields(cls: ClassValue): Array<[string, Value | undefined]> | undefined {
  const own = dataclassFieldsOf.get(cls);
  if (!own) return undefined;
  const inherited = cls.bases.flatMap((b) => (b.kind === 'class' ? dataclassFields(b) ?? [] : []));
  return [...inherited.filter(([n]) => !own.some(([m]) => m === n)), ...own];
}

/** An int result, or unknown past 2^53 where a double no longer holds every integer. */
function exactInt(v: number): Value {
  return Number.isSafeInteger(v) ? num(v, true) : unknown(`the integer ${Number.isFinite(v) ? v.toExponential(3) : 'result'} is too large to be exact here`);
}

/** A list or string longer than the interpreter builds: unknown, with the length it would have had. */
function tooLong(n: number, what = 'list'): Value {
  return unknown(`a ${what} of ${Number.isFinite(n) && n < 1e15 ? n.toLocaleString('en-US') : 'very many'} items is longer than Layerscope follows (${MAX_ITEMS.toLocaleString('en-US')})`, what === 'list');
}

/**
 * A value imported from another module. Imported modules are evaluated once and shared by every analysis, so
 * mutable values (a module instance, a list) are copied: what one file does to them must not reach another analysis.
 */
function importedValue(v: Value): Value {
  if (v.kind === 'layer') return copyLayer(v);
  if (v.kind === 'seq' && !v.tuple) return { ...v, items: [...v.items] };
  if (v.kind === 'dict') return { ...v, entries: v.entries.map(([k, x]) => [k, x]) };
  return v;
}

export function describeShort(v: Value): string {
  return v.kind === 'unknown' ? v.reason : v.kind;
}

class Budget extends Error {}

class Unresolvable extends Error {}

/** Why `set(…)` is unknown: its iteration order is Python's hash order; `len(set(…))` is read from the items instead. */
const SET_REASON = 'a set (its order is not followed)';
const BUILTINS = new Set(['set', 'range', 'len', 'int', 'float', 'abs', 'round', 'min', 'max', 'sum', 'list', 'tuple', 'enumerate', 'zip', 'reversed', 'isinstance', 'hasattr', 'getattr', 'setattr', 'delattr', 'super', 'print', 'dict', 'str', 'bool', 'object']);

function compareValues(op: string, a: Value, b: Value): boolean | null {
  if (op === 'is' || op === 'is not') {
    if (a.kind === 'unknown' || b.kind === 'unknown') return null;
    const same = (a.kind === 'none' && b.kind === 'none') || (a.kind === 'bool' && b.kind === 'bool' && a.value === b.value) || a === b;
    const r = b.kind === 'none' || a.kind === 'none' ? same : a === b || same;
    return op === 'is' ? r : !r;
  }
  if (op === 'in' || op === 'not in') {
    const items = b.kind === 'seq' ? b.items : b.kind === 'dict' ? b.entries.map(([k]) => k) : null;
    if (!items || a.kind === 'unknown') return null;
    const results = items.map((x) => compareValues('==', a, x));
    const found = results.includes(true) ? true : results.includes(null) ? null : false;
    if (found === null) return null;
    return op === 'in' ? found : !found;
  }
  const av = a.kind === 'num' ? a.value : a.kind === 'bool' ? Number(a.value) : a.kind === 'str' ? a.value : a.kind === 'none' ? null : undefined;
  const bv = b.kind === 'num' ? b.value : b.kind === 'bool' ? Number(b.value) : b.kind === 'str' ? b.value : b.kind === 'none' ? null : undefined;
  if (av === undefined || bv === undefined) return null;
  switch (op) {
    case '==':
      return av === bv;
    case '!=':
      return av !== bv;
    case '<':
      return av !== null && bv !== null && av < bv;
    case '<=':
      return av !== null && bv !== null && av <= bv;
    case '>':
      return av !== null && bv !== null && av > bv;
    case '>=':
      return av !== null && bv !== null && av >= bv;
    default:
      return null;
  }
}

/** `"layer%d" % i` and `"%s_%d" % (a, b)`: the conversions model code uses for module names. */
function formatPercent(fmt: string, args: Value): Value {
  const items = args.kind === 'seq' && args.tuple ? args.items : [args];
  let k = 0;
  let failed = false;
  const out = fmt.replace(/%([dis%])/g, (_m, c: string) => {
    if (c === '%') return '%';
    const v = items[k++];
    if (v && v.kind === 'num') return String(c === 's' ? v.value : Math.trunc(v.value));
    if (v && v.kind === 'str' && c === 's') return v.value;
    failed = true;
    return '';
  });
  return failed || k !== items.length ? unknown('string formatting') : { kind: 'str', value: out };
}

export function pySlice<T>(items: T[], start: number | null, stop: number | null, step: number | null): T[] {
  const n = items.length;
  const st = step ?? 1;
  if (st !== 1) {
    const out: T[] = [];
    const s0 = start === null ? (st > 0 ? 0 : n - 1) : start < 0 ? n + start : start;
    const e0 = stop === null ? (st > 0 ? n : -1) : stop < 0 ? n + stop : stop;
    for (let k = s0; st > 0 ? k < e0 : k > e0; k += st) if (k >= 0 && k < n) out.push(items[k]);
    return out;
  }
  const s = start === null ? 0 : start < 0 ? Math.max(0, n + start) : Math.min(start, n);
  const e = stop === null ? n : stop < 0 ? Math.max(0, n + stop) : Math.min(stop, n);
  return items.slice(s, e);
}

const COMPARISONS = new Set(['==', '!=', '<', '<=', '>', '>=']);

export abstract class PythonExecution {
  readonly diagnostics: Diagnostic[] = [];
  observer?: ScopeObserver;
  /** Follows imports to other files when set (imports.ts); without it imported names stay opaque. */
  importer?: Importer;
  /** The path of the file being analysed, for relative imports. */
  file?: string;
  /** Set for the interpreter of an imported module. */
  imported = false;
  /** The decorators of the definition being run (`@dataclass` changes what a class's constructor is). */
  protected decorators?: string[];
  protected steps = 0;
  protected fileSteps = 0;
  protected depth = 0;
  protected readonly moduleFrame: Frame;

  constructor(readonly globals: Scope = new Map()) {
    this.moduleFrame = { locals: globals, globals };
  }

  // ---- module level -------------------------------------------------------------------------------------------

  /** Runs a module's top-level statements, binding imports, constants, classes and functions. */
  execModule(root: SyntaxNode): void {
    for (const stmt of root.namedChildren) if (stmt) this.execTopLevel(stmt);
  }

  /** Runs one top-level statement in module scope, with its own step budget. */
  execTopLevel(stmt: SyntaxNode): void {
    this.resetBudget();
    try {
      this.execStatement(stmt, this.moduleFrame, true);
    } catch (e) {
      if (!(e instanceof Budget)) throw e;
    }
  }

  /**
   * True once a top-level statement has ended the module (a stray `return`, or an if statement that may return):
   * later if, for and with blocks are then skipped, so a statement's effect depends on this too.
   */
  get moduleDone(): boolean {
    return this.moduleFrame.done === true;
  }

  /** `line N` for a message, reported to the observer because the text has to change when the line moves. */
  protected lineOf(node: SyntaxNode): string {
    const row = node.startPosition.row;
    const file = importedTrees.get((node as { tree?: object }).tree ?? node);
    // A line of an imported module is named with its file; it does not move with this file's edits.
    if (file) return `${file.split(/[\\/]/).slice(-2).join('/')} line ${row + 1}`;
    this.observer?.citedLine(row);
    return `line ${row + 1}`;
  }

  /** Binds a name in a scope; bindings in module scope are reported to the observer. */
  protected bind(scope: Scope, name: string, value: Value): void {
    scope.set(name, value);
    if (scope === this.globals) this.observer?.wroteGlobal(name, value);
  }

  /** Each top-level statement, class and forward run gets its own step budget, so one runaway loop costs only itself. */
  resetBudget(): void {
    this.steps = 0;
  }

  protected tick(): void {
    if (++this.steps > MAX_STEPS) throw new Budget();
    if (++this.fileSteps > MAX_FILE_STEPS) throw new Budget();
  }

  execBlock(block: SyntaxNode | null, frame: Frame): void {
    if (!block) return;
    for (const stmt of block.namedChildren) {
      if (!stmt || frame.done || frame.jump) return;
      this.execStatement(stmt, frame, false);
    }
  }

  protected execStatement(stmt: SyntaxNode, frame: Frame, topLevel: boolean): void {
    this.tick();
    switch (stmt.type) {
      case 'import_statement':
      case 'import_from_statement':
        this.execImport(stmt, frame.locals, frame);
        return;
      case 'class_definition':
        this.bind(frame.locals, stmt.childForFieldName('name')?.text ?? '?', this.defineClass(stmt, frame));
        return;
      case 'decorated_definition': {
        const def = stmt.childForFieldName('definition');
        this.decorators = stmt.namedChildren.filter((c) => c?.type === 'decorator').map((c) => c!.text);
        try {
          if (def) this.execStatement(def, frame, topLevel);
        } finally {
          this.decorators = undefined;
        }
        return;
      }
      case 'function_definition':
        this.bind(frame.locals, stmt.childForFieldName('name')?.text ?? '?', { kind: 'func', name: stmt.childForFieldName('name')?.text ?? '?', node: stmt, ...this.scopeOf(frame) });
        return;
      case 'expression_statement': {
        const e = stmt.namedChild(0);
        if (!e) return;
        if (e.type === 'assignment') this.execAssignment(e, frame);
        else if (e.type === 'augmented_assignment') this.execAugmented(e, frame);
        else this.evalSafe(e, frame);
        return;
      }
      case 'return_statement': {
        const e = stmt.namedChild(0);
        frame.returned = e ? this.evalSafe(e, frame) : { kind: 'none' };
        frame.done = true;
        return;
      }
      case 'if_statement':
        this.execIf(stmt, frame, topLevel);
        return;
      case 'for_statement':
        this.execFor(stmt, frame, topLevel);
        return;
      case 'with_statement':
        this.execBlock(stmt.childForFieldName('body'), frame);
        return;
      case 'break_statement':
        frame.jump = 'break';
        return;
      case 'continue_statement':
        frame.jump = 'continue';
        return;
      case 'pass_statement':
      case 'comment':
      case 'assert_statement':
      case 'global_statement':
      case 'nonlocal_statement':
      case 'future_import_statement':
      case 'raise_statement':
        return;
      case 'delete_statement':
        this.execDelete(stmt, frame);
        return;
      default:
        // while loops, try blocks and the like are not followed. Inside a constructor they may hide sub-modules.
        if (stmt.type === 'try_statement') {
          this.execBlock(stmt.childForFieldName('body'), frame);
          // The handlers run only if the body raised, which it does not do statically; but they may rebind names.
          for (const h of stmt.namedChildren) if (h && h !== stmt.childForFieldName('body') && h.type !== 'comment') this.notFollowed(h, frame, `${this.lineOf(h)}: an ${h.type.replace(/_/g, ' ')} is not followed statically`, false);
        } else this.notFollowed(stmt, frame, `${this.lineOf(stmt)}: a ${stmt.type.replace(/_/g, ' ')} is not followed statically`, topLevel);
    }
  }

  protected execIf(stmt: SyntaxNode, frame: Frame, topLevel: boolean): void {
    const cond = stmt.childForFieldName('condition');
    let decided: boolean | null = null;
    // The analysed file runs its `__main__` block (where models are often built); an imported module does not.
    if (topLevel && cond && /__name__\s*==\s*['"]__main__['"]/.test(cond.text)) decided = !this.imported;
    else if (cond) decided = truthy(this.evalSafe(cond, frame));
    if (decided === true) {
      this.execBlock(stmt.childForFieldName('consequence'), frame);
      return;
    }
    const alternatives = stmt.childrenForFieldName('alternative').filter((x): x is SyntaxNode => x !== null);
    if (decided === false) {
      for (const alt of alternatives) {
        if (alt.type === 'else_clause') {
          this.execBlock(alt.childForFieldName('body'), frame);
          return;
        }
        const c = alt.childForFieldName('condition');
        const t = c ? truthy(this.evalSafe(c, frame)) : null;
        if (t === true) {
          this.execBlock(alt.childForFieldName('consequence'), frame);
          return;
        }
        if (t === null) {
          this.unknownBranch(stmt, frame, topLevel);
          return;
        }
      }
      return;
    }
    this.unknownBranch(stmt, frame, topLevel);
  }

  /**
   * A statement that was skipped because it could not be followed: whatever it may have changed becomes unknown. In a
   * constructor the module may lack sub-modules; in a helper function what it returns may; names it assigns lose
   * their values (a tensor its shape), and modules whose attributes it sets are marked, wherever they are.
   */
  protected notFollowed(stmt: SyntaxNode, frame: Frame, reason: string, topLevel: boolean): void {
    const builds = mayBuildModules(stmt);
    if (builds && !topLevel) {
      if (frame.self && !this.inForward) frame.self.incomplete ??= reason;
      else if (!frame.self && frame !== this.moduleFrame) frame.uncertain ??= reason;
    }
    const names = new Set<string>();
    const objects: SyntaxNode[] = [];
    const walk = (n: SyntaxNode, target: boolean): void => {
      if (n.type === 'function_definition' || n.type === 'class_definition' || n.type === 'lambda') return;
      if (target) {
        if (n.type === 'identifier') names.add(n.text);
        else if (n.type === 'attribute' || n.type === 'subscript') {
          const obj = n.childForFieldName(n.type === 'attribute' ? 'object' : 'value');
          if (obj) objects.push(obj);
          if (n.type === 'subscript' && obj?.type === 'identifier') names.add(obj.text);
        } else for (const c of n.namedChildren) if (c) walk(c, true);
        return;
      }
      if (n.type === 'assignment' || n.type === 'augmented_assignment' || n.type === 'for_statement' || n.type === 'for_in_clause') {
        const left = n.childForFieldName('left');
        if (left) walk(left, true);
      } else if (n.type === 'named_expression') {
        const name = n.childForFieldName('name');
        if (name) names.add(name.text);
      } else if (n.type === 'delete_statement') {
        for (const c of n.namedChildren) if (c) walk(c, true);
      } else if (n.type === 'call') {
        // `model.requires_grad_(False)`, `layers.append(m)` and the like change the object they are called on.
        const fn = n.childForFieldName('function');
        const obj = fn?.type === 'attribute' ? fn.childForFieldName('object') : null;
        const method = fn?.type === 'attribute' ? fn.childForFieldName('attribute')?.text ?? '' : '';
        if (obj && /^(append|extend|insert|pop|remove|clear|update|add_module|register_\w+|requires_grad_|apply|setdefault|__setitem__|__delitem__)$/.test(method)) {
          objects.push(obj);
          if (obj.type === 'identifier') names.add(obj.text);
        }
        if (fn?.type === 'identifier' && /^(setattr|delattr)$/.test(fn.text)) {
          const first = n.childForFieldName('arguments')?.namedChildren.find((c) => c && c.type !== 'comment');
          if (first) objects.push(first);
        }
      }
      for (const c of n.namedChildren) if (c) walk(c, false);
    };
    walk(stmt, false);
    for (const name of names) {
      if (name === 'self') continue;
      const scope = frame.locals.has(name) || frame.locals === frame.globals ? frame.locals : frame.globals.has(name) ? null : frame.locals;
      if (!scope) continue;
      const old = scope.get(name);
      if (old?.kind === 'layer') old.incomplete ??= reason;
      this.bind(scope, name, old?.kind === 'tensor' ? { kind: 'tensor', shape: null } : unknown(reason, true));
    }
    for (const obj of objects) {
      if (obj.type === 'identifier' && obj.text === 'self' && frame.self) {
        if (!this.inForward) frame.self.incomplete ??= reason;
        continue;
      }
      let v: Value;
      try {
        v = this.evaluate(obj, frame);
      } catch (e) {
        if (e instanceof Budget || e instanceof RunAbandoned) throw e;
        continue;
      }
      if (v.kind === 'layer' && (!this.inForward || v !== frame.self)) v.incomplete ??= reason;
      else if (v.kind === 'tensor' && v.param) v.param.owner.incomplete ??= reason;
      else if (v.kind === 'seq' || v.kind === 'dict') for (const it of v.kind === 'seq' ? v.items : v.entries.map(([, x]) => x)) if (it.kind === 'layer') it.incomplete ??= reason;
    }
  }

  protected unknownBranch(stmt: SyntaxNode, frame: Frame, topLevel = false): void {
    const reason = `${this.lineOf(stmt)}: the condition of this if statement is not known statically`;
    this.notFollowed(stmt, frame, reason, topLevel);
    this.forgetSelfAttrs(stmt, frame, reason);
    if (/\b(break|continue)\b/.test(stmt.text)) {
      // Whether the loop goes on is unknown: the loop as a whole is not followed from here.
      frame.loopUnknown ??= reason;
      frame.jump = 'break';
    }
    if (frame.returned === undefined && /\breturn\b/.test(stmt.text)) {
      frame.returned = unknown(`${this.lineOf(stmt)}: the return depends on a condition that is not known statically`, true);
      frame.done = true;
    }
  }

  protected execFor(stmt: SyntaxNode, frame: Frame, topLevel: boolean): void {
    const left = stmt.childForFieldName('left');
    const right = stmt.childForFieldName('right');
    const body = stmt.childForFieldName('body');
    const iterable = right ? this.evalSafe(right, frame) : unknown('no iterable');
    const iter = this.iterate(iterable);
    if (!iter || !left) {
      const why = iterable.kind === 'unknown' ? `: ${iterable.reason}` : '';
      const reason = `${this.lineOf(stmt)}: this loop runs over something not known statically${why}`;
      this.notFollowed(stmt, frame, reason, topLevel);
      this.forgetSelfAttrs(stmt, frame, reason);
      if (frame.returned === undefined && /\breturn\b/.test(stmt.text)) {
        frame.returned = unknown(`${this.lineOf(stmt)}: the return is inside a loop that is not followed`, true);
        frame.done = true;
      }
      return;
    }
    let broke = false;
    for (const item of iter) {
      this.bindTarget(left, item, frame);
      this.execBlock(body, frame);
      const jump = frame.jump;
      frame.jump = undefined;
      if (frame.loopUnknown) {
        const why = frame.loopUnknown;
        frame.loopUnknown = undefined;
        this.notFollowed(stmt, frame, why, topLevel);
        return;
      }
      if (frame.done) return;
      if (jump === 'break') {
        broke = true;
        break;
      }
    }
    if (!broke) this.execBlock(stmt.namedChildren.find((c) => c?.type === 'else_clause')?.childForFieldName('body') ?? null, frame);
  }

  /**
   * A block that is not followed may also set plain attributes of `self` (a channel count, a flag): they become
   * unknown, with the reason, and a container it would have grown is incomplete. Names and other objects it writes
   * are handled by notFollowed.
   */
  protected forgetSelfAttrs(block: SyntaxNode, frame: Frame, reason: string): void {
    for (const attr of namesWrittenIn(block).selfAttrs) {
      const v = frame.self?.children.find(([n]) => n === attr)?.[1] ?? frame.self?.attrs?.get(attr);
      if (v?.kind === 'layer') v.incomplete ??= reason;
      else if (v) frame.self!.attrs!.set(attr, unknown(reason));
    }
  }

  protected iterate(v: Value): Value[] | null {
    if (v.kind === 'seq') return v.items;
    if (v.kind === 'dict') return v.entries.map(([k]) => k);
    if (v.kind === 'str') return [...v.value].map((c) => ({ kind: 'str', value: c }));
    return this.iterateObject(v);
  }

  protected bindTarget(target: SyntaxNode, value: Value, frame: Frame): void {
    switch (target.type) {
      case 'identifier':
        this.bind(frame.locals, target.text, value);
        return;
      case 'pattern_list':
      case 'tuple_pattern':
      case 'list_pattern':
      case 'tuple':
      case 'list': {
        const targets = target.namedChildren.filter((x): x is SyntaxNode => x !== null);
        const items = value.kind === 'seq' && value.items.length === targets.length ? value.items : null;
        targets.forEach((t, i) => this.bindTarget(t, items ? items[i] : unknown('cannot unpack', true), frame));
        return;
      }
      case 'attribute': {
        const obj = target.childForFieldName('object');
        const attr = target.childForFieldName('attribute')?.text ?? '';
        if (!obj) return;
        if (obj.type === 'identifier' && obj.text === 'self' && frame.self) this.setSelfAttr(frame.self, attr, value, target);
        else this.setAttr(this.evalSafe(obj, frame), attr, value, target);
        return;
      }
      case 'subscript': {
        const obj = target.childForFieldName('value');
        const container = obj ? this.evalSafe(obj, frame) : undefined;
        const idx = target.childForFieldName('subscript');
        const key = idx ? this.evalSafe(idx, frame) : unknown('index');
        if (container?.kind === 'dict' && key.kind === 'str') {
          const e = container.entries.find(([k]) => k.kind === 'str' && k.value === key.value);
          if (e) e[1] = value;
          else container.entries.push([key, value]);
        } else if (container) this.setItem(container, key, value);
        return;
      }
      default:
        return;
    }
  }

  protected execAssignment(node: SyntaxNode, frame: Frame): void {
    const left = node.childForFieldName('left');
    const right = node.childForFieldName('right');
    if (!left) return;
    if (!right) {
      // An annotation without a value (`x: int`) binds nothing.
      return;
    }
    const value = this.evalSafe(right, frame);
    // Chained assignment `a = b = 1` parses as nested assignments on the right.
    this.bindTarget(left, value, frame);
  }

  protected execAugmented(node: SyntaxNode, frame: Frame): void {
    const left = node.childForFieldName('left');
    const right = node.childForFieldName('right');
    const op = node.childForFieldName('operator')?.text.replace('=', '') ?? '+';
    if (!left || !right) return;
    const a = this.evalSafe(left, frame);
    const b = this.evalSafe(right, frame);
    if (this.extendInPlace(op, a, b, node)) return;
    if (a.kind === 'seq' && op === '+' && !a.tuple) {
      const items = this.iterate(b);
      if (items) a.items.push(...items);
      else this.bindTarget(left, unknown('a list extended with unknown items', true), frame);
      return;
    }
    this.bindTarget(left, this.binary(op, a, b, node), frame);
  }

  protected execImport(stmt: SyntaxNode, scope: Scope, frame: Frame): void {
    const from = this.fileOf(frame);
    if (stmt.type === 'import_statement') {
      for (const n of stmt.childrenForFieldName('name')) {
        if (!n) continue;
        if (n.type === 'aliased_import') {
          const path = n.childForFieldName('name')?.text ?? '';
          const file = this.importer?.find(path, 0, from);
          this.bind(scope, n.childForFieldName('alias')?.text ?? path, file ? { kind: 'module', name: path, file } : { kind: 'torchRef', path });
        } else {
          const path = n.text;
          const head = path.split('.')[0];
          const file = this.importer?.find(head, 0, from);
          this.bind(scope, head, file ? { kind: 'module', name: head, file } : { kind: 'torchRef', path: head });
        }
      }
      return;
    }
    const fullName = stmt.childForFieldName('module_name')?.text ?? '';
    const level = /^\.*/.exec(fullName)![0].length;
    const moduleName = fullName.slice(level);
    const file = level > 0 || this.importer ? this.importer?.find(moduleName, level, from) : undefined;
    if (stmt.namedChildren.some((c) => c?.type === 'wildcard_import')) {
      const library = this.wildcardNames(moduleName, level);
      if (library) for (const [name, v] of library) this.bind(scope, name, v);
      else if (file) {
        const ns = this.importer!.load(file);
        if (typeof ns === 'string') return;
        const all = ns.get('__all__');
        const names = all?.kind === 'seq' && all.items.every((x) => x.kind === 'str') ? all.items.map((x) => (x as { value: string }).value) : [...ns.keys()].filter((k) => !k.startsWith('_'));
        for (const name of names) {
          const v = ns.get(name);
          if (v) this.bind(scope, name, importedValue(v));
        }
      }
      return;
    }
    for (const n of stmt.childrenForFieldName('name')) {
      if (!n) continue;
      const name = n.type === 'aliased_import' ? n.childForFieldName('name')?.text ?? '' : n.text;
      const as = n.type === 'aliased_import' ? n.childForFieldName('alias')?.text ?? name : name;
      this.bind(scope, as, file ? this.moduleAttr({ kind: 'module', name: moduleName || '.', file }, name) : { kind: 'torchRef', path: `${moduleName}.${name}` });
    }
  }

  /**
   * The module scope a function or class defined here keeps: only an imported module's. The analysed file's own
   * definitions read the scope of whichever run calls them, because the analysis cache replays them into later runs.
   */
  protected scopeOf(frame: Frame): { globals?: Map<string, Value> } {
    return this.imported ? { globals: frame.globals } : {};
  }

  /** The file whose code runs in this frame: an imported module's, or the analysed file's. */
  protected fileOf(frame: Frame): string | undefined {
    if (frame.globals === this.globals) return this.file;
    const f = frame.globals.get('__file__');
    return f?.kind === 'str' ? f.value : this.file;
  }

  /** A name read from an imported module: a submodule of a package, or a name its code binds. */
  protected moduleAttr(mod: { kind: 'module'; name: string; file: string }, name: string): Value {
    const importer = this.importer;
    if (!importer) return { kind: 'torchRef', path: `${mod.name}.${name}` };
    // A name the package's __init__ binds wins over a submodule of that name (`from .alexnet import *` binds the
    // function alexnet over the module alexnet), as in Python.
    const ns = importer.load(mod.file);
    const bound = typeof ns === 'string' ? undefined : ns.get(name);
    if (bound) return importedValue(bound);
    if (mod.file.endsWith('__init__.py')) {
      const sub = importer.find(name, 1, mod.file);
      if (sub) return { kind: 'module', name: `${mod.name}.${name}`, file: sub };
    }
    if (typeof ns === 'string') return { kind: 'torchRef', path: `${mod.name}.${name}` };
    return unknown(`${name} is not defined in ${mod.name}`, true);
  }

  // ---- classes and functions ----------------------------------------------------------------------------------

  protected defineClass(node: SyntaxNode, frame: Frame): ClassValue {
    const bases: Value[] = [];
    const sup = node.childForFieldName('superclasses');
    for (const b of sup?.namedChildren ?? []) {
      if (!b || b.type === 'keyword_argument') continue;
      bases.push(this.evalSafe(b, frame));
    }
    const definesForward = (node.childForFieldName('body')?.namedChildren ?? []).some((c) => {
      const def = c?.type === 'decorated_definition' ? c.childForFieldName('definition') : c;
      return def?.type === 'function_definition' && def.childForFieldName('name')?.text === 'forward';
    });
    const isModule = this.isModuleClass(bases, definesForward);
    const cls: ClassValue = { kind: 'class', name: node.childForFieldName('name')?.text ?? '?', node, bases, isModule, attrs: new Map(), range: rangeOf(node), ...this.scopeOf(frame) };
    // Class-level constants (`expansion = 4`) are evaluated once, in the class's own scope.
    const classFrame: Frame = { locals: cls.attrs, globals: frame.globals };
    const decorated = (this.decorators ?? []).some((d) => /^@\s*(dataclasses\.)?dataclass\b/.test(d));
    this.decorators = undefined;
    if (decorated) {
      // A dataclass's annotated names are the fields of its generated __init__, in order.
      const fields: Array<[string, Value | undefined]> = [];
      for (const stmt of node.childForFieldName('body')?.namedChildren ?? []) {
        const a = stmt?.type === 'expression_statement' ? stmt.namedChild(0) : null;
        if (a?.type !== 'assignment' || !a.childForFieldName('type') || a.childForFieldName('left')?.type !== 'identifier') continue;
        const right = a.childForFieldName('right');
        fields.push([a.childForFieldName('left')!.text, right ? this.evalSafe(right, classFrame) : undefined]);
      }
      dataclassFieldsOf.set(cls, fields);
    }
    for (const stmt of node.childForFieldName('body')?.namedChildren ?? []) {
      if (!stmt) continue;
      if (stmt.type === 'expression_statement' && stmt.namedChild(0)?.type === 'assignment') {
        try {
          this.execAssignment(stmt.namedChild(0)!, classFrame);
        } catch (e) {
          if (e instanceof Budget || e instanceof RunAbandoned) throw e;
        }
      } else if (stmt.type === 'function_definition' || stmt.type === 'decorated_definition') {
        const def = stmt.type === 'decorated_definition' ? stmt.childForFieldName('definition') : stmt;
        const name = def?.childForFieldName('name')?.text;
        const decorators = stmt.type === 'decorated_definition' ? stmt.namedChildren.filter((c) => c?.type === 'decorator').map((c) => c!.text.replace(/^@\s*/, '')) : [];
        const binding = decorators.includes('staticmethod') ? 'static' : decorators.includes('classmethod') ? 'class' : undefined;
        if (def && name) cls.attrs.set(name, { kind: 'func', name, node: def, cls, ...(binding ? { binding } : {}), ...this.scopeOf(frame) } as FuncValue);
      }
    }
    return cls;
  }

  protected findMethod(cls: ClassValue, name: string): FuncValue | undefined {
    const own = cls.attrs.get(name);
    if (own && own.kind === 'func') return own;
    for (const b of cls.bases) {
      if (b.kind === 'class') {
        const m = this.findMethod(b, name);
        if (m) return m;
      }
    }
    return undefined;
  }

  protected classAttr(cls: ClassValue, name: string): Value | undefined {
    const own = cls.attrs.get(name);
    if (own !== undefined) {
      this.observer?.readClassAttr(own);
      return own;
    }
    for (const b of cls.bases) if (b.kind === 'class') {
      const v = this.classAttr(b, name);
      if (v) return v;
    }
    return undefined;
  }

  /** The generated `__init__` of a dataclass: its fields in order, from the arguments or their defaults. */
  protected initDataclass(self: LayerValue, fields: Array<[string, Value | undefined]>, positional: Value[], keywords: Map<string, Value>): void {
    fields.forEach(([name, dflt], k) => {
      const v = k < positional.length ? positional[k] : keywords.get(name) ?? dflt ?? unknown(`the field '${name}' was not given`, true);
      self.attrs!.set(name, v);
    });
  }

  callFunction(fn: FuncValue, positional: Value[], keywords: Map<string, Value>, self?: LayerValue, cls?: ClassValue): Value {
    const node = fn.node as SyntaxNode;
    if (this.depth > MAX_DEPTH) return unknown('recursion too deep', true);
    const locals: Scope = new Map();
    const globals = fn.globals ?? this.globals;
    const frame: Frame = { locals, globals, ...(self ? { self } : {}), ...(cls ? { cls } : {}) };
    const params = node.childForFieldName('parameters');
    let pi = 0;
    const extraKw = new Map(keywords);
    for (const p of params?.namedChildren ?? []) {
      if (!p) continue;
      let name: string | undefined;
      let def: SyntaxNode | null = null;
      if (p.type === 'identifier') name = p.text;
      else if (p.type === 'typed_parameter') {
        const id = p.namedChildren.find((c) => c?.type === 'identifier');
        if (id) name = id.text;
        else {
          const splat = p.namedChild(0);
          if (splat?.type === 'list_splat_pattern') {
            locals.set(splat.namedChild(0)?.text ?? '_', { kind: 'seq', items: positional.slice(pi), tuple: true });
            pi = positional.length;
            continue;
          }
          if (splat?.type === 'dictionary_splat_pattern') {
            locals.set(splat.namedChild(0)?.text ?? '_', { kind: 'dict', entries: [...extraKw].map(([k, v]) => [{ kind: 'str', value: k }, v]) });
            continue;
          }
        }
      } else if (p.type === 'default_parameter' || p.type === 'typed_default_parameter') {
        name = p.childForFieldName('name')?.text;
        def = p.childForFieldName('value');
      } else if (p.type === 'list_splat_pattern') {
        locals.set(p.namedChild(0)?.text ?? '_', { kind: 'seq', items: positional.slice(pi), tuple: true });
        pi = positional.length;
        continue;
      } else if (p.type === 'dictionary_splat_pattern') {
        locals.set(p.namedChild(0)?.text ?? '_', { kind: 'dict', entries: [...extraKw].map(([k, v]) => [{ kind: 'str', value: k }, v]) });
        continue;
      } else continue;
      if (!name) continue;
      if (pi < positional.length) locals.set(name, positional[pi++]);
      else if (extraKw.has(name)) {
        locals.set(name, extraKw.get(name)!);
        extraKw.delete(name);
      } else if (def) locals.set(name, this.evalSafe(def, { locals: globals, globals }));
      else locals.set(name, unknown(`the argument '${name}' has no default and was not given`, true));
    }
    this.depth++;
    try {
      this.execBlock(node.childForFieldName('body'), frame);
    } finally {
      this.depth--;
    }
    const returned = frame.returned ?? { kind: 'none' };
    if (frame.uncertain) {
      // A helper that skipped a loop or branch which may build modules returns something that may lack them.
      if (returned.kind === 'layer') {
        if (returned.category !== 'torch') returned.incomplete ??= frame.uncertain;
        return returned;
      }
      if (returned.kind === 'seq' || returned.kind === 'dict' || returned.kind === 'unknown') return unknown(frame.uncertain, true);
    }
    return returned;
  }

  // ---- expressions --------------------------------------------------------------------------------------------

  evalSafe(node: SyntaxNode, frame: Frame): Value {
    try {
      return this.evaluate(node, frame);
    } catch (e) {
      // The step budget, lowering errors (which name the layer the user must change) and an abandoned run end it all.
      if (e instanceof Budget || e instanceof RunAbandoned || isUserInputError(e)) throw e;
      return unknown(`could not evaluate ${node.text.slice(0, 40)}`, true);
    }
  }

  protected lookup(name: string, frame: Frame): Value {
    if (frame.locals !== frame.globals && frame.locals.has(name)) return frame.locals.get(name)!;
    const global = frame.globals.get(name);
    if (frame.globals === this.globals) this.observer?.readGlobal(name, global);
    if (global !== undefined) return global;
    switch (name) {
      case 'True':
        return { kind: 'bool', value: true };
      case 'False':
        return { kind: 'bool', value: false };
      case 'None':
        return { kind: 'none' };
      case 'self':
        return frame.self ?? unknown('self outside a method', true);
      default:
        return BUILTINS.has(name) ? { kind: 'torchRef', path: `builtins.${name}` } : unknown(`'${name}' is not known statically`, true);
    }
  }

  evaluate(node: SyntaxNode, frame: Frame): Value {
    this.tick();
    switch (node.type) {
      case 'integer': {
        const t = node.text.replace(/_/g, '').toLowerCase();
        const v = t.startsWith('0x') ? parseInt(t, 16) : t.startsWith('0o') ? parseInt(t.slice(2), 8) : t.startsWith('0b') ? parseInt(t.slice(2), 2) : Number(t);
        return exactInt(v);
      }
      case 'float':
        return num(Number(node.text.replace(/_/g, '')), false);
      case 'string': {
        let text = '';
        for (const c of node.namedChildren) {
          if (!c) continue;
          if (c.type === 'string_content') text += c.text;
          else if (c.type === 'interpolation') {
            const expr = c.namedChild(0);
            const v = expr ? this.evaluate(expr, frame) : unknown('f-string');
            const piece = v.kind === 'str' ? v.value : v.kind === 'num' ? String(v.value) : null;
            if (piece === null) return unknown(`the f-string ${node.text.slice(0, 40)} is not known statically`);
            text += piece;
          } else if (c.type === 'escape_sequence') text += JSON.parse(`"${c.text.replace(/"/g, '\\"')}"`);
        }
        return { kind: 'str', value: text };
      }
      case 'concatenated_string':
        return { kind: 'str', value: node.namedChildren.map((c) => (c ? this.evaluate(c, frame) : unknown(''))).map((v) => (v.kind === 'str' ? v.value : '')).join('') };
      case 'true':
        return { kind: 'bool', value: true };
      case 'false':
        return { kind: 'bool', value: false };
      case 'none':
        return { kind: 'none' };
      case 'identifier':
        return this.lookup(node.text, frame);
      case 'parenthesized_expression': {
        const inner = node.namedChild(0);
        return inner ? this.evaluate(inner, frame) : unknown('empty parentheses');
      }
      case 'tuple':
      case 'list':
      case 'set': {
        const items: Value[] = [];
        for (const c of node.namedChildren) {
          if (!c || c.type === 'comment') continue;
          if (c.type === 'list_splat') {
            const inner = this.iterate(this.evaluate(c.namedChild(0)!, frame));
            if (!inner) return unknown(`unpacking ${c.text} is not known statically`, true);
            items.push(...inner);
          } else items.push(this.evaluate(c, frame));
        }
        if (items.length > MAX_ITEMS) return tooLong(items.length);
        return { kind: 'seq', items, tuple: node.type === 'tuple' };
      }
      case 'expression_list':
        return { kind: 'seq', items: node.namedChildren.filter((c) => c !== null && c.type !== 'comment').map((c) => this.evaluate(c!, frame)), tuple: true };
      case 'dictionary': {
        const entries: Array<[Value, Value]> = [];
        for (const c of node.namedChildren) {
          if (c?.type === 'pair') entries.push([this.evaluate(c.childForFieldName('key')!, frame), this.evaluate(c.childForFieldName('value')!, frame)]);
          else if (c?.type === 'dictionary_splat') {
            const v = this.evaluate(c.namedChild(0)!, frame);
            if (v.kind !== 'dict') return unknown(`unpacking ${c.text} is not known statically`, true);
            entries.push(...v.entries);
          }
        }
        return { kind: 'dict', entries };
      }
      case 'list_comprehension':
      case 'generator_expression':
      case 'set_comprehension':
      case 'dictionary_comprehension':
        return this.comprehension(node, frame);
      case 'binary_operator': {
        const a = this.evaluate(node.childForFieldName('left')!, frame);
        const b = this.evaluate(node.childForFieldName('right')!, frame);
        return this.binary(node.childForFieldName('operator')!.text, a, b, node);
      }
      case 'unary_operator': {
        const v = this.evaluate(node.childForFieldName('argument')!, frame);
        const op = node.childForFieldName('operator')!.text;
        if (v.kind === 'num') return num(op === '-' ? -v.value : op === '~' ? ~v.value : v.value, v.isInt);
        return this.unaryObject(op, v, node) ?? unknown(`${node.text} is not known statically`);
      }
      case 'not_operator': {
        const t = truthy(this.evaluate(node.childForFieldName('argument')!, frame));
        return t === null ? unknown('a condition') : { kind: 'bool', value: !t };
      }
      case 'boolean_operator': {
        const a = this.evaluate(node.childForFieldName('left')!, frame);
        const op = node.childForFieldName('operator')!.text;
        const ta = truthy(a);
        if (ta === null) return unknown('a condition');
        if (op === 'and') return ta ? this.evaluate(node.childForFieldName('right')!, frame) : a;
        return ta ? a : this.evaluate(node.childForFieldName('right')!, frame);
      }
      case 'comparison_operator':
        return this.compare(node, frame);
      case 'conditional_expression': {
        const [a, cond, b] = node.namedChildren;
        const t = truthy(this.evaluate(cond!, frame));
        if (t === null) return unknown(`the condition ${cond!.text} is not known statically`, true);
        return this.evaluate(t ? a! : b!, frame);
      }
      case 'attribute':
        return this.attribute(this.evaluate(node.childForFieldName('object')!, frame), node.childForFieldName('attribute')!.text, frame);
      case 'subscript':
        return this.subscript(node, frame);
      case 'call':
        return this.call(node, frame);
      case 'keyword_argument':
        return this.evaluate(node.childForFieldName('value')!, frame);
      case 'lambda':
        return unknown('a lambda', true);
      default:
        return unknown(`${node.type.replace(/_/g, ' ')} is not evaluated statically`, true);
    }
  }

  protected comprehension(node: SyntaxNode, frame: Frame): Value {
    const body = node.childForFieldName('body');
    const clauses = node.namedChildren.filter((c): c is SyntaxNode => c !== null && (c.type === 'for_in_clause' || c.type === 'if_clause'));
    const out: Value[] = [];
    // In module scope the comprehension's names shadow the module's without copying it, so that every module-level
    // name it reads is a lookup that the observer sees.
    const locals: Scope = frame.locals === frame.globals ? new Map() : new Map(frame.locals);
    const inner: Frame = { ...frame, locals };
    const run = (idx: number): boolean => {
      if (idx === clauses.length) {
        if (body?.type === 'pair') out.push({ kind: 'seq', items: [this.evaluate(body.childForFieldName('key')!, inner), this.evaluate(body.childForFieldName('value')!, inner)], tuple: true });
        else out.push(body ? this.evaluate(body, inner) : unknown('empty'));
        if (out.length >= MAX_LOOP) throw new Unresolvable('a comprehension too long to follow');
        return true;
      }
      const c = clauses[idx];
      if (c.type === 'if_clause') {
        const t = truthy(this.evaluate(c.namedChild(0)!, inner));
        if (t === null) throw new Unresolvable(`the condition ${c.text} is not known statically`);
        return t ? run(idx + 1) : true;
      }
      const items = this.iterate(this.evaluate(c.childForFieldName('right')!, inner));
      if (!items) throw new Unresolvable(`the range of ${c.text} is not known statically`);
      for (const item of items) {
        this.bindTarget(c.childForFieldName('left')!, item, inner);
        if (!run(idx + 1)) return false;
      }
      return true;
    };
    try {
      run(0);
    } catch (e) {
      if (e instanceof Unresolvable) return unknown(e.message, true);
      throw e;
    }
    if (node.type === 'dictionary_comprehension') {
      const entries: Array<[Value, Value]> = [];
      for (const kv of out) {
        const [k, v] = (kv as { items: Value[] }).items;
        const e = entries.find(([x]) => compareValues('==', x, k) === true);
        if (e) e[1] = v;
        else entries.push([k, v]);
      }
      return { kind: 'dict', entries };
    }
    return { kind: 'seq', items: out, tuple: false };
  }

  binary(op: string, a: Value, b: Value, node: SyntaxNode): Value {
    if (a.kind === 'num' && b.kind === 'num') {
      const bothInt = a.isInt && b.isInt;
      // Python's ints are exact at any size; a double is exact only up to 2^53, so a larger int is unknown.
      const num = (v: number, isInt: boolean): Value => (isInt ? exactInt(v) : { kind: 'num', value: v, isInt: false });
      switch (op) {
        case '+':
          return num(a.value + b.value, bothInt);
        case '-':
          return num(a.value - b.value, bothInt);
        case '*':
          return num(a.value * b.value, bothInt);
        case '/':
          return num(a.value / b.value, false);
        case '//':
          return b.value === 0 ? unknown('division by zero') : num(Math.floor(a.value / b.value), bothInt);
        case '%':
          return b.value === 0 ? unknown('division by zero') : num(((a.value % b.value) + b.value) % b.value, bothInt);
        case '**':
          return num(a.value ** b.value, bothInt && b.value >= 0);
        case '<<':
          return num(a.value * 2 ** b.value, true);
        case '>>':
          return num(Math.floor(a.value / 2 ** b.value), true);
        default:
          return unknown(`${op} is not evaluated`);
      }
    }
    if (a.kind === 'seq' && b.kind === 'seq' && op === '+') {
      if (a.items.length + b.items.length > MAX_ITEMS) return tooLong(a.items.length + b.items.length);
      return { kind: 'seq', items: [...a.items, ...b.items], tuple: a.tuple };
    }
    if (a.kind === 'num' && b.kind === 'seq' && op === '*') return this.binary(op, b, a, node);
    if (a.kind === 'seq' && b.kind === 'num' && op === '*' && b.isInt) {
      const n = Math.max(0, b.value);
      if (a.items.length * n > MAX_ITEMS) return tooLong(a.items.length * n);
      const items: Value[] = [];
      for (let k = 0; k < n; k++) items.push(...a.items);
      return { kind: 'seq', items, tuple: a.tuple };
    }
    if (a.kind === 'str' && b.kind === 'str' && op === '+') return a.value.length + b.value.length > MAX_ITEMS ? tooLong(a.value.length + b.value.length, 'string') : { kind: 'str', value: a.value + b.value };
    if (a.kind === 'str' && b.kind === 'num' && op === '*' && b.isInt) return a.value.length * Math.max(0, b.value) > MAX_ITEMS ? tooLong(a.value.length * b.value, 'string') : { kind: 'str', value: a.value.repeat(Math.max(0, b.value)) };
    if (a.kind === 'str' && op === '%') return formatPercent(a.value, b);
    const special = this.binaryObject(op, a, b, node);
    if (special) return special;
    if (a.kind === 'bool' && b.kind === 'num') return this.binary(op, num(a.value ? 1 : 0, true), b, node);
    if (a.kind === 'num' && b.kind === 'bool') return this.binary(op, a, num(b.value ? 1 : 0, true), node);
    const why = a.kind === 'unknown' ? a.reason : b.kind === 'unknown' ? b.reason : `${a.kind} ${op} ${b.kind}`;
    return unknown(why);
  }

  protected compare(node: SyntaxNode, frame: Frame): Value {
    const operands = node.namedChildren.filter((c): c is SyntaxNode => c !== null);
    const ops = node.children.filter((c) => c && !c.isNamed).map((c) => c!.text);
    // `is not` and `not in` are two tokens.
    const merged: string[] = [];
    for (let k = 0; k < ops.length; k++) {
      if ((ops[k] === 'is' && ops[k + 1] === 'not') || (ops[k] === 'not' && ops[k + 1] === 'in')) {
        merged.push(`${ops[k]} ${ops[k + 1]}`);
        k++;
      } else merged.push(ops[k]);
    }
    let left = this.evaluate(operands[0], frame);
    if (merged.length === 1 && COMPARISONS.has(merged[0])) {
      // A comparison with a tensor is an elementwise bool tensor (masks are made this way), not a Python bool.
      const right = this.evaluate(operands[1], frame);
      const special = this.compareObject(merged[0], left, right, node);
      if (special) return special;
      const r = compareValues(merged[0], left, right);
      return r === null ? unknown(`the comparison ${node.text} is not known statically`) : { kind: 'bool', value: r };
    }
    for (let k = 0; k < merged.length; k++) {
      const right = this.evaluate(operands[k + 1], frame);
      const r = compareValues(merged[k], left, right);
      if (r === null) return unknown(`the comparison ${node.text} is not known statically`);
      if (!r) return { kind: 'bool', value: false };
      left = right;
    }
    return { kind: 'bool', value: true };
  }

  protected subscript(node: SyntaxNode, frame: Frame): Value {
    const v = this.evaluate(node.childForFieldName('value')!, frame);
    const idxNode = node.childForFieldName('subscript');
    if (!idxNode) return unknown('subscript');
    const special = this.subscriptObject(v, node.childrenForFieldName('subscript').filter((c): c is SyntaxNode => c !== null && c.type !== 'comment'), node, frame);
    if (special) return special;
    if (idxNode.type === 'slice') {
      const parts = this.sliceBounds(idxNode, frame);
      if (typeof parts === 'string') return unknown(parts);
      if (v.kind === 'seq') return { kind: 'seq', items: pySlice(v.items, parts[0], parts[1], parts[2]), tuple: v.tuple };
      return this.sliceObject(v, parts, node) ?? unknown('slice of an unknown value', true);
    }
    const idx = this.evaluate(idxNode, frame);
    if (v.kind === 'seq' && idx.kind === 'num') {
      const i = idx.value < 0 ? v.items.length + idx.value : idx.value;
      return v.items[i] ?? unknown('index out of range');
    }
    if (v.kind === 'dict') {
      const e = v.entries.find(([k]) => compareValues('==', k, idx) === true);
      return e ? e[1] : unknown(`key ${node.text} is not known`, true);
    }
    return this.indexObject(v, idx, node) ?? unknown(`${node.text.slice(0, 40)} is not known statically`, true);
  }

  protected attribute(obj: Value, name: string, frame: Frame): Value {
    switch (obj.kind) {
      case 'torchRef':
        // math.inf is how some masks spell infinity.
        if (obj.path === 'math' && name === 'inf') return num(Infinity, false);
        return { kind: 'torchRef', path: `${obj.path}.${name}` };
      case 'layer':
        return this.instanceAttribute(obj, name) ?? unknown(`${obj.type}.${name} is not known statically`, true);
      case 'class': {
        const v = this.classAttr(obj, name);
        if (v && v.kind === 'func' && v.binding === 'class') return { ...v, boundClass: obj };
        return v ?? unknown(`${obj.name}.${name} is not known`, true);
      }
      case 'super': {
        for (const b of obj.cls.bases) {
          if (b.kind === 'class') {
            const m = this.findMethod(b, name);
            if (m) return { ...m, self: obj.self };
          }
        }
        return { kind: 'method', name: `super.${name}`, target: obj.self };
      }
      case 'module':
        return this.moduleAttr(obj, name);
      case 'seq':
      case 'dict':
      case 'str':
        return { kind: 'method', name, target: obj };
      default:
        void frame;
        return unknown(`.${name} of ${obj.kind === 'unknown' ? obj.reason : obj.kind}`, true);
    }
  }

  /** The bounds of a slice node (`a:b:c`), each null when left out; a string says why they are not known. */
  protected sliceBounds(slice: SyntaxNode, frame: Frame): Array<number | null> | string {
    const parts: Array<number | null> = [null, null, null];
    let k = 0;
    for (const ch of slice.children) {
      if (!ch) continue;
      if (ch.type === ':') k++;
      else {
        const e = this.evaluate(ch, frame);
        if ((e.kind !== 'num' || !e.isInt) && e.kind !== 'none') return `the slice bound ${ch.text} is not known statically`;
        parts[k] = e.kind === 'num' ? e.value : null;
      }
    }
    return parts;
  }

  /** An attribute of an instance: its own (set by its constructor), then its class's, a method bound to it. */
  protected instanceAttribute(obj: LayerValue, name: string): Value | undefined {
    if (obj.attrs?.has(name)) return obj.attrs.get(name)!;
    if (obj.classRef) {
      const v = this.classAttr(obj.classRef, name);
      if (v && v.kind === 'func') return bindMethod(v, obj, obj.classRef);
      if (v) return v;
    }
    return undefined;
  }

  protected call(node: SyntaxNode, frame: Frame): Value {
    const fnNode = node.childForFieldName('function')!;
    const argsNode = node.childForFieldName('arguments');
    const positional: Value[] = [];
    const keywords = new Map<string, Value>();
    let splatUnknown: string | undefined;
    for (const a of argsNode?.namedChildren ?? []) {
      if (!a || a.type === 'comment') continue;
      if (a.type === 'keyword_argument') keywords.set(a.childForFieldName('name')!.text, this.evaluate(a.childForFieldName('value')!, frame));
      else if (a.type === 'list_splat') {
        const v = this.evaluate(a.namedChild(0)!, frame);
        const items = this.iterate(v);
        if (items) positional.push(...items);
        else splatUnknown = `*${a.namedChild(0)!.text} is ${v.kind === 'unknown' ? v.reason : 'not known statically'}`;
      } else if (a.type === 'dictionary_splat') {
        const v = this.evaluate(a.namedChild(0)!, frame);
        if (v.kind === 'dict') for (const [k, val] of v.entries) if (k.kind === 'str') keywords.set(k.value, val);
        else splatUnknown = `**${a.namedChild(0)!.text} is not known statically`;
      } else positional.push(this.evaluate(a, frame));
    }
    // len(set(items)): how many distinct items (RegNet counts its stages so). A set's iteration order is not followed,
    // so a set is otherwise unknown.
    if (fnNode.type === 'identifier' && fnNode.text === 'len' && !frame.locals.has('len') && positional.length === 1 && positional[0].kind === 'unknown' && positional[0].reason === SET_REASON) {
      const inner = argsNode?.namedChildren.find((c) => c !== null && c.type !== 'comment');
      const items = inner?.type === 'call' ? this.iterate(this.evaluate(inner.childForFieldName('arguments')?.namedChildren.find((c) => c !== null && c.type !== 'comment') ?? inner, frame)) : null;
      if (items) {
        const distinct: Value[] = [];
        for (const it of items) {
          const same = distinct.map((d) => compareValues('==', d, it));
          if (same.some((x) => x === null) || (it.kind !== 'num' && it.kind !== 'str' && it.kind !== 'bool')) return unknown(`${this.lineOf(node)}: len(set(…)) of values not known statically`);
          if (!same.includes(true)) distinct.push(it);
        }
        return num(distinct.length, true);
      }
    }
    // super() and super(Cls, self) resolve against the class whose method is running, as Python's zero-argument form does.
    if (fnNode.type === 'identifier' && fnNode.text === 'super' && frame.self && frame.cls && !frame.locals.has('super')) {
      return { kind: 'super', self: frame.self, cls: frame.cls };
    }
    const fn = this.evaluate(fnNode, frame);
    return this.apply(fn, positional, keywords, node, frame, splatUnknown);
  }

  apply(fn: Value, positional: Value[], keywords: Map<string, Value>, node: SyntaxNode, frame: Frame, splatUnknown?: string): Value {
    switch (fn.kind) {
      case 'torchRef':
        return this.callExternal(fn.path, positional, keywords, node, splatUnknown);
      case 'class':
        return this.instantiateClass(fn, positional, keywords, node, splatUnknown);
      case 'func': {
        if (splatUnknown) return unknown(splatUnknown, true);
        if (fn.boundClass) return this.callFunction(fn, [fn.boundClass, ...positional], keywords, undefined, fn.cls);
        const self = fn.self;
        return this.callFunction(fn, self ? [self, ...positional] : positional, keywords, self, fn.cls);
      }
      case 'partial': {
        const merged = new Map(fn.keywords);
        for (const [k, v] of keywords) merged.set(k, v);
        return this.apply(fn.fn, [...fn.positional, ...positional], merged, node, frame, splatUnknown);
      }
      case 'layer':
        return this.callInstance(fn, positional, keywords, node);
      case 'method':
        return this.callMethod(fn.name, fn.target, positional, keywords, node, frame);
      case 'super':
        return unknown('super');
      default:
        return unknown(fn.kind === 'unknown' ? `${node.childForFieldName('function')?.text ?? 'a call'}(…): ${fn.reason}` : `calling a ${fn.kind}`, true);
    }
  }


  protected builtin(name: string, positional: Value[], keywords: Map<string, Value>): Value {
    const ints = positional.map((p) => (p.kind === 'num' ? p.value : p.kind === 'bool' ? (p.value ? 1 : 0) : null));
    switch (name) {
      case 'range': {
        if (ints.some((x) => x === null) || ints.length === 0) return unknown('range over values not known statically', true);
        const [a, b, st] = ints.length === 1 ? [0, ints[0]!, 1] : [ints[0]!, ints[1]!, ints[2] ?? 1];
        const items: Value[] = [];
        for (let k = a; st > 0 ? k < b : k > b; k += st) {
          items.push(num(k, true));
          if (items.length > MAX_LOOP) return unknown('a range too long to follow', true);
        }
        return { kind: 'seq', items, tuple: false };
      }
      case 'len': {
        const v = positional[0];
        if (v?.kind === 'seq') return num(v.items.length, true);
        if (v?.kind === 'dict') return num(v.entries.length, true);
        if (v?.kind === 'str') return num(v.value.length, true);
        return unknown('len of an unknown value');
      }
      case 'int':
        return ints[0] !== null && ints[0] !== undefined ? num(Math.trunc(ints[0]), true) : unknown('int(…)');
      case 'float': {
        // float('-inf') is how masks spell minus infinity; Python also reads 'inf', 'nan' and numbers in strings.
        const text = positional[0]?.kind === 'str' ? positional[0].value.trim().toLowerCase() : null;
        if (text !== null) {
          const special: Record<string, number> = { inf: Infinity, '+inf': Infinity, '-inf': -Infinity, infinity: Infinity, '-infinity': -Infinity, nan: NaN };
          const v = text in special ? special[text] : /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/.test(text) ? Number(text) : null;
          return v === null ? unknown('float(…) of a string that is not a number') : num(v, false);
        }
        return ints[0] !== null && ints[0] !== undefined ? num(ints[0], false) : unknown('float(…)');
      }
      case 'abs':
        return ints[0] !== null && ints[0] !== undefined ? num(Math.abs(ints[0]), (positional[0] as { isInt?: boolean }).isInt ?? true) : unknown('abs');
      case 'round':
        return ints[0] !== null && ints[0] !== undefined ? num(Math.round(ints[0]), true) : unknown('round');
      case 'min':
      case 'max': {
        const vals = positional.length === 1 && positional[0].kind === 'seq' ? positional[0].items : positional;
        if (vals.every((v) => v.kind === 'num')) {
          const ns = vals.map((v) => (v as { value: number }).value);
          const r = name === 'min' ? Math.min(...ns) : Math.max(...ns);
          return num(r, vals.every((v) => (v as { isInt: boolean }).isInt));
        }
        return unknown(`${name}(…)`);
      }
      case 'sum': {
        const v = positional[0];
        if (v?.kind === 'seq' && v.items.every((x) => x.kind === 'num')) return num(v.items.reduce((a, x) => a + (x as { value: number }).value, 0), v.items.every((x) => (x as { isInt: boolean }).isInt));
        return unknown('sum');
      }
      case 'list':
      case 'tuple': {
        if (positional.length === 0) return { kind: 'seq', items: [], tuple: name === 'tuple' };
        const items = this.iterate(positional[0]);
        return items ? { kind: 'seq', items: [...items], tuple: name === 'tuple' } : unknown(`${name}(…) of an unknown value`, true);
      }
      case 'enumerate': {
        const items = positional[0] ? this.iterate(positional[0]) : null;
        const start = ints[1] ?? 0;
        return items ? { kind: 'seq', items: items.map((v, k) => ({ kind: 'seq', items: [num(k + start, true), v], tuple: true })), tuple: false } : unknown('enumerate of an unknown value', true);
      }
      case 'zip': {
        const lists = positional.map((p) => this.iterate(p));
        if (lists.some((l) => !l)) return unknown('zip of an unknown value', true);
        const n = Math.min(...lists.map((l) => l!.length));
        return { kind: 'seq', items: Array.from({ length: n }, (_, k) => ({ kind: 'seq', items: lists.map((l) => l![k]), tuple: true }) as Value), tuple: false };
      }
      case 'reversed': {
        const items = positional[0] ? this.iterate(positional[0]) : null;
        return items ? { kind: 'seq', items: [...items].reverse(), tuple: false } : unknown('reversed', true);
      }
      case 'isinstance':
        return unknown(`${name}(…)`, true);
      case 'str': {
        const v = positional[0];
        if (!v) return { kind: 'str', value: '' };
        if (v.kind === 'str') return v;
        if (v.kind === 'num' && v.isInt) return { kind: 'str', value: String(v.value) };
        if (v.kind === 'bool') return { kind: 'str', value: v.value ? 'True' : 'False' };
        if (v.kind === 'none') return { kind: 'str', value: 'None' };
        return unknown('str(…)');
      }
      case 'bool': {
        const t = positional[0] ? truthy(positional[0]) : false;
        return t === null ? unknown('bool(…)') : { kind: 'bool', value: t };
      }
      case 'super':
        void keywords;
        return unknown('super');
      case 'print':
        return { kind: 'none' };
      case 'set':
        return unknown(SET_REASON, true);
      default:
        return unknown(`${name}(…)`, true);
    }
  }

  protected callMethod(name: string, target: Value, positional: Value[], keywords: Map<string, Value>, node: SyntaxNode, frame: Frame): Value {
    if (target.kind === 'seq') {
      if (name === 'append' && !target.tuple) {
        target.items.push(positional[0] ?? unknown('append'));
        return { kind: 'none' };
      }
      if (name === 'extend' && !target.tuple) {
        const items = positional[0] ? this.iterate(positional[0]) : null;
        if (items) target.items.push(...items);
        else target.items.push(unknown('a list extended with unknown items', true));
        return { kind: 'none' };
      }
      if (name === 'insert' && positional[0]?.kind === 'num') {
        target.items.splice(positional[0].value, 0, positional[1] ?? unknown('insert'));
        return { kind: 'none' };
      }
      if (name === 'index' || name === 'count') return unknown(name);
      if (name === 'pop' && !target.tuple) {
        if (positional[0]?.kind === 'num') {
          const i = positional[0].value < 0 ? target.items.length + positional[0].value : positional[0].value;
          return target.items.splice(i, 1)[0] ?? unknown('pop');
        }
        return target.items.pop() ?? unknown('pop');
      }
      if (name === 'copy') return { kind: 'seq', items: [...target.items], tuple: false };
      return unknown(`list.${name}`, true);
    }
    if (target.kind === 'dict') {
      if (name === 'items') return { kind: 'seq', items: target.entries.map(([k, v]) => ({ kind: 'seq', items: [k, v], tuple: true }) as Value), tuple: false };
      if (name === 'keys') return { kind: 'seq', items: target.entries.map(([k]) => k), tuple: false };
      if (name === 'values') return { kind: 'seq', items: target.entries.map(([, v]) => v), tuple: false };
      if (name === 'get') {
        const e = target.entries.find(([k]) => compareValues('==', k, positional[0] ?? { kind: 'none' }) === true);
        return e ? e[1] : positional[1] ?? { kind: 'none' };
      }
      if (name === 'update' && positional[0]?.kind === 'dict') {
        for (const [k, v] of positional[0].entries) {
          const e = target.entries.find(([x]) => compareValues('==', x, k) === true);
          if (e) e[1] = v;
          else target.entries.push([k, v]);
        }
        for (const [k, v] of keywords) target.entries.push([{ kind: 'str', value: k }, v]);
        return { kind: 'none' };
      }
      if (name === 'pop' || name === 'setdefault') {
        // kwargs.pop('name', default): the value (or the default) out of a dict whose keys are known.
        const key = positional[0] ?? { kind: 'none' };
        const i = target.entries.findIndex(([k]) => compareValues('==', k, key) === true);
        if (i >= 0) {
          const v = target.entries[i][1];
          if (name === 'pop') target.entries.splice(i, 1);
          return v;
        }
        if (target.entries.some(([k]) => compareValues('==', k, key) === null)) return unknown(`dict.${name}`, true);
        const dflt = positional[1] ?? (name === 'setdefault' ? { kind: 'none' } : unknown(`${this.lineOf(node)}: ${describeShort(key)} is not in the dict`, true));
        if (name === 'setdefault') target.entries.push([key, dflt]);
        return dflt;
      }
      if (name === 'copy') return { kind: 'dict', entries: target.entries.map(([k, v]) => [k, v]) };
      return unknown(`dict.${name}`, true);
    }
    if (target.kind === 'str') {
      const arg = positional[0];
      const text = target.value;
      const strs = arg?.kind === 'str' ? [arg.value] : arg?.kind === 'seq' && arg.items.every((x) => x.kind === 'str') ? arg.items.map((x) => (x as { value: string }).value) : null;
      if ((name === 'startswith' || name === 'endswith') && strs) return { kind: 'bool', value: strs.some((p) => (name === 'startswith' ? text.startsWith(p) : text.endsWith(p))) };
      if (name === 'lower' || name === 'upper') return { kind: 'str', value: name === 'lower' ? text.toLowerCase() : text.toUpperCase() };
      if (name === 'strip' && !arg) return { kind: 'str', value: text.trim() };
      if (name === 'replace' && arg?.kind === 'str' && positional[1]?.kind === 'str' && !positional[2]) return { kind: 'str', value: text.split(arg.value).join(positional[1].value) };
      if (name === 'split' && (arg === undefined || (arg.kind === 'str' && arg.value !== '')) && !positional[1]) {
        const parts = arg ? text.split(arg.value) : text.split(/\s+/).filter((x) => x !== '');
        return { kind: 'seq', items: parts.map((v) => ({ kind: 'str', value: v }) as Value), tuple: false };
      }
      if (name === 'join' && arg) {
        const items = this.iterate(arg);
        if (items && items.every((x) => x.kind === 'str')) return { kind: 'str', value: items.map((x) => (x as { value: string }).value).join(text) };
      }
      if (name === 'format') return unknown('str.format');
      return unknown(`str.${name}`);
    }
    void frame;
    return unknown(`.${name}(…)`, true);
  }

  // ---- module semantics: the module tree, parameters and buffers ----------------------------------------------

  /** `del target`: a sub-module or attribute of a module, an item of a list or dict, or a local name. */
  protected execDelete(stmt: SyntaxNode, frame: Frame): void {
    const targets = stmt.namedChildren.flatMap((c) => (c && c.type === 'expression_list' ? c.namedChildren : [c])).filter((c): c is SyntaxNode => c !== null);
    for (const t of targets) {
      if (t.type === 'attribute') {
        const obj = this.evalSafe(t.childForFieldName('object')!, frame);
        const attr = t.childForFieldName('attribute')?.text ?? '';
        if (obj.kind === 'layer') this.deleteAttr(obj, attr, t);
      } else if (t.type === 'subscript') {
        const obj = this.evalSafe(t.childForFieldName('value')!, frame);
        const idxNode = t.childForFieldName('subscript');
        const idx = idxNode && idxNode.type !== 'slice' ? this.evalSafe(idxNode, frame) : unknown('a slice');
        if (obj.kind === 'seq' && idx.kind === 'num') obj.items.splice(idx.value < 0 ? obj.items.length + idx.value : idx.value, 1);
        else if (obj.kind === 'dict') {
          const i = obj.entries.findIndex(([k]) => compareValues('==', k, idx) === true);
          if (i >= 0) obj.entries.splice(i, 1);
        } else if (obj.kind === 'layer') this.deleteItem(obj, idx, t);
        else if (obj.kind === 'seq' || obj.kind === 'unknown') {
          // Nothing countable is known to be removed; a list of modules becomes unknown.
          this.bindTarget(t.childForFieldName('value')!, unknown(`${this.lineOf(t)}: del ${t.text} is not known statically`, true), frame);
        }
      } else if (t.type === 'identifier') frame.locals.delete(t.text);
    }
  }

  // ---- hooks: what the objects of a library add ---------------------------------------------------------------

  /** Whether a class with these bases is one whose instances the library models (a torch module). */
  protected abstract isModuleClass(bases: Value[], definesForward: boolean): boolean;
  /** Calling a class: a new instance, its constructor run statically. */
  protected abstract instantiateClass(cls: ClassValue, positional: Value[], keywords: Map<string, Value>, node: SyntaxNode, splatUnknown?: string): Value;
  /** Calling an instance (a module's forward). */
  protected abstract callInstance(obj: LayerValue, positional: Value[], keywords: Map<string, Value>, node: SyntaxNode): Value;
  /** `self.attr = value` inside a method, and `obj.attr = value` on any other value. */
  protected abstract setSelfAttr(self: LayerValue, attr: string, value: Value, where: SyntaxNode): void;
  protected abstract setAttr(obj: Value, attr: string, value: Value, where: SyntaxNode): void;
  /** `del obj.attr` and `del obj[key]` on an instance. */
  protected abstract deleteAttr(obj: LayerValue, attr: string, where: SyntaxNode): void;
  protected abstract deleteItem(obj: LayerValue, key: Value, where: SyntaxNode): void;

  /** True while a forward pass runs: a statement it cannot follow then leaves the module's own counts alone. */
  protected get inForward(): boolean {
    return false;
  }

  /**
   * A call of a name that is not the user's own (`math.ceil`, `functools.partial`, a builtin): the standard library
   * the interpreter knows, by its full dotted path. A library's Execution adds its own names first.
   */
  protected callExternal(path: string, positional: Value[], keywords: Map<string, Value>, _node: SyntaxNode, splatUnknown?: string): Value {
    // typing.OrderedDict called builds a collections.OrderedDict (torchvision's maxvit.py imports it from typing).
    if (path === 'collections.OrderedDict' || path === 'typing.OrderedDict' || path === 'builtins.dict') {
      const src = positional[0];
      const entries: Array<[Value, Value]> = [];
      if (src && src.kind === 'seq') {
        for (const it of src.items) if (it.kind === 'seq' && it.items.length === 2) entries.push([it.items[0], it.items[1]]);
        else return unknown('an OrderedDict of unknown items', true);
      } else if (src && src.kind === 'dict') entries.push(...src.entries);
      else if (src) return unknown('an OrderedDict of unknown items', true);
      for (const [k, v] of keywords) entries.push([{ kind: 'str', value: k }, v]);
      return { kind: 'dict', entries };
    }
    if (path.startsWith('builtins.')) return this.builtin(path.slice(9), positional, keywords);
    if (path.startsWith('math.') && /^math\.(ceil|floor|sqrt|log|log2|exp|pow|fabs|gcd|isqrt)$/.test(path)) {
      const xs = positional.map((p) => (p.kind === 'num' ? p.value : p.kind === 'bool' ? Number(p.value) : null));
      if (xs.length === 0 || xs.some((x) => x === null)) return unknown(`${path}(…) of values not known statically`);
      const [a, b] = xs as number[];
      switch (path.slice(5)) {
        case 'ceil':
          return exactInt(Math.ceil(a));
        case 'floor':
          return exactInt(Math.floor(a));
        case 'isqrt':
          return exactInt(Math.floor(Math.sqrt(a)));
        case 'gcd': {
          let [x, y] = [Math.abs(a), Math.abs(b ?? 0)];
          while (y) [x, y] = [y, x % y];
          return exactInt(x);
        }
        case 'sqrt':
          return num(Math.sqrt(a), false);
        case 'log':
          return num(b === undefined ? Math.log(a) : Math.log(a) / Math.log(b), false);
        case 'log2':
          return num(Math.log2(a), false);
        case 'exp':
          return num(Math.exp(a), false);
        case 'pow':
          return num(a ** b, false);
        default:
          return num(Math.abs(a), false);
      }
    }
    if (path === 'typing.cast' && positional.length === 2) return positional[1];
    if (path === 'functools.partial') {
      if (splatUnknown || positional.length === 0) return unknown(splatUnknown ?? 'functools.partial without a function', true);
      return { kind: 'partial', fn: positional[0], positional: positional.slice(1), keywords: new Map(keywords) };
    }
    return unknown(`${path}(…) is not known statically`, true);
  }

  /** What `from M import *` binds for a module that is not a file Layerscope reads (a library's own names). */
  protected wildcardNames(_moduleName: string, _level: number): Array<[string, Value]> | undefined {
    return undefined;
  }

  /** Iterating a value that is not a list, tuple, dict or string; null when it cannot be followed. */
  protected iterateObject(_v: Value): Value[] | null {
    return null;
  }

  /** `obj[key] = value` on a value that is not a dict. */
  protected setItem(_container: Value, _key: Value, _value: Value): void {}

  /** `a op= b` done in place on an object (a ModuleList extended by `+=`); false when the library has no such rule. */
  protected extendInPlace(_op: string, _a: Value, _b: Value, _node: SyntaxNode): boolean {
    return false;
  }

  /** Operators on a library's values (tensors); undefined where the library has no rule for the operands. */
  protected unaryObject(_op: string, _v: Value, _node: SyntaxNode): Value | undefined {
    return undefined;
  }

  protected binaryObject(_op: string, _a: Value, _b: Value, _node: SyntaxNode): Value | undefined {
    return undefined;
  }

  protected compareObject(_op: string, _a: Value, _b: Value, _node: SyntaxNode): Value | undefined {
    return undefined;
  }

  /** `v[…]` read from the index expressions themselves (a tensor's basic indexing); undefined to index as usual. */
  protected subscriptObject(_v: Value, _items: SyntaxNode[], _node: SyntaxNode, _frame: Frame): Value | undefined {
    return undefined;
  }

  /** `v[start:stop:step]` and `v[key]` on values that are not lists, tuples or dicts. */
  protected sliceObject(_v: Value, _parts: Array<number | null>, _node: SyntaxNode): Value | undefined {
    return undefined;
  }

  protected indexObject(_v: Value, _idx: Value, _node: SyntaxNode): Value | undefined {
    return undefined;
  }
}
