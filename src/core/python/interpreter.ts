import { UserInputError, isUserInputError } from '../errors';
import type { Dim } from '../ir/types';
import { applyTorchLayer, broadcastTensorShapes, flattenShape, mergeTensorRf, positionsAfterMerge } from './layerShapes';
import type { LayerApplication, ShapedTensor } from './layerShapes';
import { CONTAINERS, bindForwardArgs, bindLayerArgs, forwardInputName, isKnownLayer, layerParams } from './layers';
import { where } from './lowerContext';
import { copyLayer } from './rebase';
import type { SyntaxNode } from './syntax';
import { applyLayerRules } from './layerFragment';
import { namesWrittenIn } from './writtenNames';
import { importedTrees } from './imports';
import type { Importer } from './imports';
import { RunAbandoned, rangeOf } from './trace';
import type { Diagnostic, ForwardEmitter, LayerTrace, ScopeObserver } from './trace';
import { ownParamSizes } from './params';
import type { ClassValue, FuncValue, LayerValue, ParamRef, SourceRange, TensorValue, Value } from './values';
import { isInt, num, unknown } from './values';
import type { Bound } from './tensorValues';
import { binaryBound, isFloatType, isPoint, monotoneBound, point, toInteger } from './tensorValues';

/**
 * A small static interpreter for the subset of Python that model definitions use: constants, arithmetic, tuples,
 * lists and their comprehensions, if/for over known values, calls into the user's own functions and classes, and
 * torch.nn constructors. It never runs user code: it evaluates what is knowable and marks the rest unknown. The same
 * interpreter walks `forward` with tensors as values, which propagates shapes.
 */

export type { Diagnostic, ForwardEmitter, LayerCall, LayerTrace, ScopeObserver } from './trace';
export { RunAbandoned, rangeOf } from './trace';

type Scope = Map<string, Value>;

interface Frame {
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
const MAX_DEPTH = 40;
const MAX_LOOP = 10_000;
/** The longest list or string the interpreter builds; past it the value is unknown (`[0] * 10**12` must not allocate). */
export const MAX_ITEMS = 100_000;


const MODULE_BASES = new Set(['torch.nn.Module', 'torch.nn.modules.module.Module', 'torch.nn.Sequential', 'torch.nn.ModuleList', 'torch.nn.ModuleDict']);

/** The torch container a user class derives from, directly or through other user classes. */
function containerBase(cls: ClassValue): string | undefined {
  for (const b of cls.bases) {
    if (b.kind === 'torchRef') {
      const p = normalize(b.path);
      if (p === 'torch.nn.Sequential' || p === 'torch.nn.ModuleList' || p === 'torch.nn.ModuleDict') return p.slice('torch.nn.'.length);
    } else if (b.kind === 'class') {
      const inner = containerBase(b);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** The torch.nn layer a user class derives from (`class LayerNorm2d(nn.LayerNorm)`), directly or through user classes. */
function torchLayerBase(cls: ClassValue): string | undefined {
  for (const b of cls.bases) {
    if (b.kind === 'torchRef') {
      const p = normalize(b.path);
      if (p.startsWith('torch.nn.') && !MODULE_BASES.has(p) && isKnownLayer(p.slice('torch.nn.'.length))) return p.slice('torch.nn.'.length);
    } else if (b.kind === 'class') {
      const inner = torchLayerBase(b);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** Bases that are plain Python (object, ABC, Enum, a typing generic): they add no modules and no parameters. */
const PLAIN_BASES = /^(builtins\.object|object|abc\.ABC|ABC|enum\.\w+|typing\.\w+|Generic|NamedTuple|Exception|dataclasses?\.\w+)$/;

/** A base Layerscope cannot read (an import it did not follow), by name; undefined when every base is known. */
function unreadBase(cls: ClassValue): string | undefined {
  for (const b of cls.bases) {
    if (b.kind === 'torchRef') {
      const p = normalize(b.path);
      if (MODULE_BASES.has(p) || PLAIN_BASES.test(p) || (p.startsWith('torch.nn.') && isKnownLayer(p.slice('torch.nn.'.length)))) continue;
      return b.path;
    }
    if (b.kind === 'unknown') return b.reason;
    if (b.kind === 'class') {
      const inner = unreadBase(b);
      if (inner) return inner;
    }
  }
  return undefined;
}

function truthy(v: Value): boolean | null {
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

export class Interpreter {
  readonly diagnostics: Diagnostic[] = [];
  readonly traces = new Map<LayerValue, LayerTrace>();
  emitter?: ForwardEmitter;
  observer?: ScopeObserver;
  /** Follows imports to other files when set (imports.ts); without it imported names stay opaque. */
  importer?: Importer;
  /** The path of the file being analysed, for relative imports. */
  file?: string;
  /** Set for the interpreter of an imported module. */
  imported = false;
  /** The decorators of the definition being run (`@dataclass` changes what a class's constructor is). */
  private decorators?: string[];
  /** The emitter whose run is under way, so that only its outermost call copies the module. */
  private emitting?: ForwardEmitter;
  private steps = 0;
  private fileSteps = 0;
  private depth = 0;
  /** Above 0 while a forward pass runs: what it cannot follow leaves the module's counts alone. */
  private forwardDepth = 0;
  /**
   * The element values of 1-D tensors and arrays built outside forward whose every element is known (np.linspace,
   * RegNet's width arithmetic), by identity, for `.tolist()`; see tensorValues.ts.
   */
  private readonly elements = new WeakMap<TensorValue, Bound[]>();
  /** Above 0 while shapes are propagated for the analysis; forward calls in the file's own code are not traced. */
  private shapingDepth = 0;
  private readonly moduleFrame: Frame;

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
  private lineOf(node: SyntaxNode): string {
    const row = node.startPosition.row;
    const file = importedTrees.get((node as { tree?: object }).tree ?? node);
    // A line of an imported module is named with its file; it does not move with this file's edits.
    if (file) return `${file.split(/[\\/]/).slice(-2).join('/')} line ${row + 1}`;
    this.observer?.citedLine(row);
    return `line ${row + 1}`;
  }

  /** Binds a name in a scope; bindings in module scope are reported to the observer. */
  private bind(scope: Scope, name: string, value: Value): void {
    scope.set(name, value);
    if (scope === this.globals) this.observer?.wroteGlobal(name, value);
  }

  /** Each top-level statement, class and forward run gets its own step budget, so one runaway loop costs only itself. */
  resetBudget(): void {
    this.steps = 0;
  }

  private tick(): void {
    if (++this.steps > MAX_STEPS) throw new Budget();
    if (++this.fileSteps > MAX_FILE_STEPS) throw new Budget();
  }

  /**
   * Propagates shapes from the input the analysis chose (a `# layerscope: input` comment, a setting, an option).
   * Forward calls in the file's own code (`model(torch.randn(…))` under `if __name__ == "__main__":`) never decide
   * the shapes: outside this, calling a module at module level does nothing, and layers are not traced.
   */
  shapes<T>(run: () => T): T {
    this.shapingDepth++;
    try {
      return run();
    } finally {
      this.shapingDepth--;
    }
  }

  // ---- statements ---------------------------------------------------------------------------------------------

  execBlock(block: SyntaxNode | null, frame: Frame): void {
    if (!block) return;
    for (const stmt of block.namedChildren) {
      if (!stmt || frame.done || frame.jump) return;
      this.execStatement(stmt, frame, false);
    }
  }

  private execStatement(stmt: SyntaxNode, frame: Frame, topLevel: boolean): void {
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

  private execIf(stmt: SyntaxNode, frame: Frame, topLevel: boolean): void {
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
  private notFollowed(stmt: SyntaxNode, frame: Frame, reason: string, topLevel: boolean): void {
    const builds = mayBuildModules(stmt);
    if (builds && !topLevel) {
      if (frame.self && this.forwardDepth === 0) frame.self.incomplete ??= reason;
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
        if (this.forwardDepth === 0) frame.self.incomplete ??= reason;
        continue;
      }
      let v: Value;
      try {
        v = this.evaluate(obj, frame);
      } catch (e) {
        if (e instanceof Budget || e instanceof RunAbandoned) throw e;
        continue;
      }
      if (v.kind === 'layer' && (this.forwardDepth === 0 || v !== frame.self)) v.incomplete ??= reason;
      else if (v.kind === 'tensor' && v.param) v.param.owner.incomplete ??= reason;
      else if (v.kind === 'seq' || v.kind === 'dict') for (const it of v.kind === 'seq' ? v.items : v.entries.map(([, x]) => x)) if (it.kind === 'layer') it.incomplete ??= reason;
    }
  }

  private unknownBranch(stmt: SyntaxNode, frame: Frame, topLevel = false): void {
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

  private execFor(stmt: SyntaxNode, frame: Frame, topLevel: boolean): void {
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
  private forgetSelfAttrs(block: SyntaxNode, frame: Frame, reason: string): void {
    for (const attr of namesWrittenIn(block).selfAttrs) {
      const v = frame.self?.children.find(([n]) => n === attr)?.[1] ?? frame.self?.attrs?.get(attr);
      if (v?.kind === 'layer') v.incomplete ??= reason;
      else if (v) frame.self!.attrs!.set(attr, unknown(reason));
    }
  }

  private iterate(v: Value): Value[] | null {
    if (v.kind === 'seq') return v.items;
    if (v.kind === 'dict') return v.entries.map(([k]) => k);
    if (v.kind === 'str') return [...v.value].map((c) => ({ kind: 'str', value: c }));
    if (v.kind === 'layer' && (v.category === 'container' || containerBaseOf(v))) {
      if (v.incomplete) return null;
      return v.type === 'ModuleDict' || containerBaseOf(v) === 'ModuleDict' ? v.children.map(([k]) => ({ kind: 'str', value: k })) : v.children.map(([, c]) => c);
    }
    return null;
  }

  private bindTarget(target: SyntaxNode, value: Value, frame: Frame): void {
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
        } else if (container?.kind === 'layer' && container.type === 'ModuleDict' && key.kind === 'str' && isModuleValue(value)) {
          this.addChild(container, key.value, value);
        }
        return;
      }
      default:
        return;
    }
  }

  private setSelfAttr(self: LayerValue, attr: string, value: Value, where: SyntaxNode): void {
    if (isModuleValue(value) && !self.plain) {
      this.addChild(self, attr, value);
      self.attrs?.delete(attr);
      return;
    }
    const had = self.children.findIndex(([n]) => n === attr);
    if (had >= 0 && value.kind === 'none') self.children.splice(had, 1);
    if (value.kind === 'unknown' && value.maybeModule) {
      self.incomplete ??= `${this.lineOf(where)}: self.${attr} is ${value.reason}, which may be a module`;
    }
    self.attrs?.set(attr, value);
  }

  private addChild(parent: LayerValue, name: string, child: LayerValue): void {
    const i = parent.children.findIndex(([n]) => n === name);
    if (i >= 0) parent.children[i] = [name, child];
    else parent.children.push([name, child]);
  }

  private execAssignment(node: SyntaxNode, frame: Frame): void {
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

  private execAugmented(node: SyntaxNode, frame: Frame): void {
    const left = node.childForFieldName('left');
    const right = node.childForFieldName('right');
    const op = node.childForFieldName('operator')?.text.replace('=', '') ?? '+';
    if (!left || !right) return;
    const a = this.evalSafe(left, frame);
    const b = this.evalSafe(right, frame);
    if (a.kind === 'layer' && a.category === 'container' && op === '+') {
      // `self.layers += [...]` extends a ModuleList in place, as extend does.
      this.extendContainer(a, this.iterate(b), node);
      return;
    }
    if (a.kind === 'seq' && op === '+' && !a.tuple) {
      const items = this.iterate(b);
      if (items) a.items.push(...items);
      else this.bindTarget(left, unknown('a list extended with unknown items', true), frame);
      return;
    }
    this.bindTarget(left, this.binary(op, a, b, node), frame);
  }

  /** Appends modules to a ModuleList or Sequential; an item that is not a known module leaves the container incomplete. */
  private extendContainer(target: LayerValue, items: Value[] | null, node: SyntaxNode): void {
    if (!items) {
      target.incomplete ??= `${this.lineOf(node)}: the ${target.type} is extended with items not known statically`;
      return;
    }
    for (const it of items) {
      if (isModuleValue(it)) target.children.push([String(target.children.length), it]);
      else target.incomplete ??= `${this.lineOf(node)}: ${target.type} item ${target.children.length} is ${it.kind === 'unknown' ? it.reason : `a ${it.kind}, not a module`}`;
    }
  }

  private execImport(stmt: SyntaxNode, scope: Scope, frame: Frame): void {
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
      if (moduleName === 'torch.nn' && level === 0) for (const name of ['Module', 'Sequential', 'Conv2d', 'Linear']) this.bind(scope, name, { kind: 'torchRef', path: `torch.nn.${name}` });
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
  private scopeOf(frame: Frame): { globals?: Map<string, Value> } {
    return this.imported ? { globals: frame.globals } : {};
  }

  /** The file whose code runs in this frame: an imported module's, or the analysed file's. */
  private fileOf(frame: Frame): string | undefined {
    if (frame.globals === this.globals) return this.file;
    const f = frame.globals.get('__file__');
    return f?.kind === 'str' ? f.value : this.file;
  }

  /** A name read from an imported module: a submodule of a package, or a name its code binds. */
  private moduleAttr(mod: { kind: 'module'; name: string; file: string }, name: string): Value {
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

  private defineClass(node: SyntaxNode, frame: Frame): ClassValue {
    const bases: Value[] = [];
    const sup = node.childForFieldName('superclasses');
    for (const b of sup?.namedChildren ?? []) {
      if (!b || b.type === 'keyword_argument') continue;
      bases.push(this.evalSafe(b, frame));
    }
    // A class is a module when a base is one: nn.Module or a container, a torch.nn layer, a module class of the file,
    // or a class from an import Layerscope did not read whose body defines forward (it is counted as unknown then).
    const definesForward = (node.childForFieldName('body')?.namedChildren ?? []).some((c) => {
      const def = c?.type === 'decorated_definition' ? c.childForFieldName('definition') : c;
      return def?.type === 'function_definition' && def.childForFieldName('name')?.text === 'forward';
    });
    const isModule = bases.some(
      (b) =>
        (b.kind === 'torchRef' && (MODULE_BASES.has(normalize(b.path)) || (normalize(b.path).startsWith('torch.nn.') && isKnownLayer(normalize(b.path).slice('torch.nn.'.length))))) ||
        (b.kind === 'class' && b.isModule) ||
        (definesForward && ((b.kind === 'torchRef' && !PLAIN_BASES.test(normalize(b.path))) || (b.kind === 'unknown'))),
    );
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

  private findMethod(cls: ClassValue, name: string): FuncValue | undefined {
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

  private classAttr(cls: ClassValue, name: string): Value | undefined {
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

  /** Instantiates a user nn.Module subclass: runs its constructor statically. */
  instantiate(cls: ClassValue, positional: Value[], keywords: Map<string, Value>, range: SourceRange, plain = false): LayerValue {
    const self: LayerValue = { kind: 'layer', type: cls.name, category: 'user', args: new Map(), children: [], own: null, range, attrs: new Map(), classRef: cls, ...(plain ? { plain } : {}) };
    const init = this.findMethod(cls, '__init__');
    const fields = init ? undefined : dataclassFields(cls);
    if (fields) this.initDataclass(self, fields, positional, keywords);
    else if (init) {
      this.callFunction(init as Value & { kind: 'func' }, [self, ...positional], keywords, self, init.cls ?? cls);
    } else {
      const torchType = torchLayerBase(cls);
      const unread = unreadBase(cls);
      if (unread) self.incomplete = `${cls.name} derives from ${unread}, which Layerscope cannot read`;
      // Without a constructor of its own, the torch layer's constructor takes the arguments.
      else if (torchType) this.initTorchBase(self, torchType, positional, keywords);
    }
    return self;
  }

  /** The generated `__init__` of a dataclass: its fields in order, from the arguments or their defaults. */
  private initDataclass(self: LayerValue, fields: Array<[string, Value | undefined]>, positional: Value[], keywords: Map<string, Value>): void {
    fields.forEach(([name, dflt], k) => {
      const v = k < positional.length ? positional[k] : keywords.get(name) ?? dflt ?? unknown(`the field '${name}' was not given`, true);
      self.attrs!.set(name, v);
    });
  }

  /** `super().__init__(…)` of a class deriving from a torch.nn layer: the layer's parameters become the instance's own. */
  private initTorchBase(self: LayerValue, type: string, positional: Value[], keywords: Map<string, Value>): void {
    self.torchType = type;
    const bound = bindLayerArgs(type, positional, keywords);
    for (const [k, v] of bound.args) self.args.set(k, v);
    if (bound.error) {
      self.reason = bound.error;
      self.own = null;
      return;
    }
    const r = layerParams(type, bound.args);
    self.own = r.count;
    if (r.formula) self.formula = r.formula;
    if (r.reason) self.reason = r.reason;
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

  private lookup(name: string, frame: Frame): Value {
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
        if (v.kind !== 'tensor') return unknown(`${node.text} is not known statically`);
        // -x and ~x are ops of their own in the graph; only +x is x itself.
        return op === '+' ? v : this.emitOp(op === '-' ? 'neg' : 'not', [v], sameShape(v), [], new Map(), node);
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

  private comprehension(node: SyntaxNode, frame: Frame): Value {
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
    if (a.kind === 'tensor' || b.kind === 'tensor') return this.tensorBinary(op, a, b, node);
    if (a.kind === 'bool' && b.kind === 'num') return this.binary(op, num(a.value ? 1 : 0, true), b, node);
    if (a.kind === 'num' && b.kind === 'bool') return this.binary(op, a, num(b.value ? 1 : 0, true), node);
    const why = a.kind === 'unknown' ? a.reason : b.kind === 'unknown' ? b.reason : `${a.kind} ${op} ${b.kind}`;
    return unknown(why);
  }

  private compare(node: SyntaxNode, frame: Frame): Value {
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
      if (left.kind === 'tensor' || right.kind === 'tensor') return this.tensorCompare(merged[0], left, right, node);
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

  private subscript(node: SyntaxNode, frame: Frame): Value {
    const v = this.evaluate(node.childForFieldName('value')!, frame);
    const idxNode = node.childForFieldName('subscript');
    if (!idxNode) return unknown('subscript');
    if (v.kind === 'tensor' && this.buildingTensors) return this.tensorIndex(v, node.childrenForFieldName('subscript').filter((c): c is SyntaxNode => c !== null && c.type !== 'comment'), frame);
    if (idxNode.type === 'slice') {
      const parts = this.sliceBounds(idxNode, frame);
      if (typeof parts === 'string') return unknown(parts);
      if (v.kind === 'seq') return { kind: 'seq', items: pySlice(v.items, parts[0], parts[1], parts[2]), tuple: v.tuple };
      if (v.kind === 'layer' && v.category === 'container') {
        const kids = pySlice(v.children, parts[0], parts[1], parts[2]);
        return { ...v, children: kids };
      }
      if (v.kind === 'tensor') return { kind: 'tensor', shape: null };
      return unknown('slice of an unknown value', true);
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
    if (v.kind === 'layer' && v.category === 'container') {
      if (idx.kind === 'num') {
        const i = idx.value < 0 ? v.children.length + idx.value : idx.value;
        return v.children[i]?.[1] ?? unknown('index out of range', true);
      }
      if (idx.kind === 'str') return v.children.find(([n]) => n === idx.value)?.[1] ?? unknown('no such module', true);
    }
    if (v.kind === 'tensor') return { kind: 'tensor', shape: null };
    return unknown(`${node.text.slice(0, 40)} is not known statically`, true);
  }

  /**
   * Whether tensor code runs outside a forward pass and outside the lowering: in `__init__` and the helpers it calls,
   * where tensors are built only to be kept (buffers such as Swin's relative position index). There the interpreter
   * follows the shapes and element types of indexing, meshgrid and elementwise math exactly, without graph ops.
   */
  private get buildingTensors(): boolean {
    return !this.emitter && this.forwardDepth === 0;
  }

  /** The bounds of a slice node (`a:b:c`), each null when left out; a string says why they are not known. */
  private sliceBounds(slice: SyntaxNode, frame: Frame): Array<number | null> | string {
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

  /**
   * `t[:, :, None]`, `t[..., 0]`, `t[1:3]`: the shape and element type of basic indexing, as PyTorch computes them
   * (a slice keeps a dim, with Python's slice length; an int drops it; None inserts a 1; `...` stands for the dims
   * not named). Indexing with a tensor or a value not known statically gives a tensor of unknown shape.
   */
  private tensorIndex(x: TensorValue, items: SyntaxNode[], frame: Frame): Value {
    const opaque: TensorValue = { kind: 'tensor', shape: null };
    const shape = x.shape;
    if (!shape) return opaque;
    type Ix = { kind: 'slice'; bounds: Array<number | null> } | { kind: 'int'; value: number } | { kind: 'none' } | { kind: 'ellipsis' };
    const ix: Ix[] = [];
    for (const it of items) {
      if (it.type === 'slice') {
        const b = this.sliceBounds(it, frame);
        if (typeof b === 'string') return opaque;
        ix.push({ kind: 'slice', bounds: b });
      } else if (it.type === 'ellipsis') ix.push({ kind: 'ellipsis' });
      else {
        const e = this.evaluate(it, frame);
        if (e.kind === 'none') ix.push({ kind: 'none' });
        else if (e.kind === 'num' && e.isInt) ix.push({ kind: 'int', value: e.value });
        else return opaque;
      }
    }
    const named = ix.filter((i) => i.kind === 'slice' || i.kind === 'int').length;
    const ellipses = ix.filter((i) => i.kind === 'ellipsis').length;
    if (ellipses > 1 || named > shape.length) return opaque;
    const out: Dim[] = [];
    let d = 0;
    for (const i of ix) {
      if (i.kind === 'none') out.push(1);
      else if (i.kind === 'ellipsis') {
        const n = shape.length - named;
        out.push(...shape.slice(d, d + n));
        d += n;
      } else if (i.kind === 'int') {
        const size = shape[d++];
        if (typeof size !== 'number' || i.value >= size || i.value < -size) return opaque;
      } else {
        const size = shape[d++];
        const [a, b, st] = i.bounds;
        if (st !== null && st <= 0) return opaque;
        if (a === null && b === null && (st === null || st === 1)) out.push(size);
        else if (typeof size !== 'number') out.push(null);
        else out.push(pySliceLength(size, a, b, st ?? 1));
      }
    }
    out.push(...shape.slice(d));
    return { kind: 'tensor', shape: out, ...(x.dtype ? { dtype: x.dtype } : {}) };
  }

  private attribute(obj: Value, name: string, frame: Frame): Value {
    switch (obj.kind) {
      case 'torchRef':
        // math.inf is how some masks spell infinity.
        if (obj.path === 'math' && name === 'inf') return num(Infinity, false);
        return { kind: 'torchRef', path: `${obj.path}.${name}` };
      case 'layer': {
        const child = obj.children.find(([n]) => n === name);
        if (child) return child[1];
        if (obj.attrs?.has(name)) return obj.attrs.get(name)!;
        if (obj.classRef) {
          const v = this.classAttr(obj.classRef, name);
          if (v && v.kind === 'func') return bindMethod(v, obj, obj.classRef);
          if (v) return v;
        }
        if ((obj.category === 'torch' || obj.torchType) && obj.args.has(name)) return obj.args.get(name)!;
        if (LAYER_METHODS.has(name)) return { kind: 'method', name, target: obj };
        const param = this.paramOf(obj, name);
        if (param) return param;
        // The lowering builds the model in eval mode (BatchNorm reads its running statistics, Dropout passes through),
        // so forward code that asks sees the same: `F.dropout(x, training=self.training)` passes through too. The
        // lens's shapes are the lowered model's, so its forward passes are in eval mode as well (stochastic depth
        // returns its input; an auxiliary head under `if self.training` is not run).
        if (name === 'training' && (this.emitter || this.shapingDepth > 0)) return { kind: 'bool', value: false };
        return unknown(`${obj.type}.${name} is not known statically`, true);
      }
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
      case 'tensor':
        if (name === 'shape') return obj.shape ? { kind: 'seq', items: obj.shape.map((d) => (typeof d === 'number' ? num(d, true) : unknown('a dim'))), tuple: true } : unknown('shape');
        if (name === 'T') return { kind: 'tensor', shape: obj.shape ? [...obj.shape].reverse() : null };
        return { kind: 'method', name, target: obj };
      case 'seq':
      case 'dict':
      case 'str':
        return { kind: 'method', name, target: obj };
      default:
        void frame;
        return unknown(`.${name} of ${obj.kind === 'unknown' ? obj.reason : obj.kind}`, true);
    }
  }

  private call(node: SyntaxNode, frame: Frame): Value {
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
        return this.callTorch(normalize(fn.path), positional, keywords, node, splatUnknown);
      case 'class': {
        if (!fn.isModule) {
          // A plain class (a config record, a helper): an object whose attributes its constructor sets.
          // A class whose base Layerscope cannot read may be a module (`class MLPBlock(MLP)` with MLP from an import
          // not followed): its instance is unknown and may be a module, so an owner that keeps it is incomplete.
          const unread = unreadBase(fn);
          if (unread) return unknown(`${fn.name}(…) (its base ${unread} is not read)`, true);
          if (splatUnknown) return unknown(`${fn.name}(…) is not a module`, false);
          return this.instantiate(fn, positional, keywords, rangeOf(node), true);
        }
        if (splatUnknown) {
          const l = this.instantiate(fn, positional, keywords, rangeOf(node));
          l.incomplete = splatUnknown;
          return l;
        }
        return this.instantiate(fn, positional, keywords, rangeOf(node));
      }
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
        return this.callLayer(fn, positional, keywords, node);
      case 'method':
        return this.callMethod(fn.name, fn.target, positional, keywords, node, frame);
      case 'super':
        return unknown('super');
      default:
        return unknown(fn.kind === 'unknown' ? `${node.childForFieldName('function')?.text ?? 'a call'}(…): ${fn.reason}` : `calling a ${fn.kind}`, true);
    }
  }


  private callTorch(path: string, positional: Value[], keywords: Map<string, Value>, node: SyntaxNode, splatUnknown?: string): Value {
    if (path === 'torch.nn.Transformer.generate_square_subsequent_mask') {
      // PyTorch 1.13 builds it as torch.triu(torch.full((sz, sz), float('-inf')), diagonal=1), and so does this.
      const size = positional[0] ?? keywords.get('sz') ?? unknown('the mask size');
      const full = this.callTorch('torch.full', [{ kind: 'seq', items: [size, size], tuple: true }, num(-Infinity, false)], new Map(), node);
      return this.tensorFunction('torch.triu', [full], new Map([['diagonal', num(1, true)]]), node);
    }
    if (path.startsWith('torch.nn.') && !path.startsWith('torch.nn.functional.') && !path.startsWith('torch.nn.init.') && !path.startsWith('torch.nn.utils.')) {
      // Source positions cross into wasm, so they are read only for calls that build a layer.
      const range = rangeOf(node);
      const type = path.slice('torch.nn.'.length);
      if (type === 'Parameter') {
        const t = positional[0];
        const p = t && t.kind === 'tensor' && t.shape && t.shape.every((d) => typeof d === 'number') ? (t.shape as number[]).reduce((a, b) => a * b, 1) : null;
        const grad = keywords.get('requires_grad') ?? positional[1];
        const trainable = grad === undefined || truthy(grad) !== false;
        if (p === null) this.observer?.citedLine(range.line);
        return { kind: 'layer', type: 'Parameter', category: 'torch', args: new Map(), children: [], own: p === null ? null : { params: p, trainable: trainable ? p : 0, buffers: 0 }, range, formula: p === null ? undefined : `Parameter: ${(t as TensorValue).shape!.join('·')} = ${p.toLocaleString('en-US')}`, reason: p === null ? `${range.file ? 'a Parameter' : `line ${range.line + 1}`}: the Parameter's shape is not known statically` : undefined } as LayerValue;
      }
      if (CONTAINERS.has(type)) return this.container(type, positional, keywords, range, splatUnknown);
      if (type === 'Module') return unknown('nn.Module()', false);
      const layer: LayerValue = { kind: 'layer', type, category: 'torch', args: new Map(), children: [], own: null, range };
      if (splatUnknown) {
        layer.reason = `${type}: ${splatUnknown}`;
        return layer;
      }
      if (!isKnownLayer(type)) {
        layer.reason = `Layerscope does not know nn.${type}`;
        return layer;
      }
      const bound = bindLayerArgs(type, positional, keywords);
      layer.args = bound.args;
      if (bound.error) {
        layer.reason = bound.error;
        return layer;
      }
      const r = layerParams(type, bound.args);
      layer.own = r.count;
      if (r.formula) layer.formula = r.formula;
      if (r.reason) layer.reason = r.reason;
      if (type === 'TransformerEncoderLayer' || type === 'TransformerDecoderLayer') layer.args.set('_composite', { kind: 'bool', value: true });
      return layer;
    }
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
    if (path === 'builtins.setattr' || path === 'builtins.getattr' || path === 'builtins.delattr' || path === 'builtins.hasattr') return this.attrBuiltin(path.slice(9), positional, node);
    if (path === 'builtins.isinstance') return isInstance(positional[0], positional[1]);
    if (path.startsWith('builtins.')) return this.builtin(path.slice(9), positional, keywords);
    if (/^torch\.(zeros|ones|full|randn|rand|empty|Tensor|FloatTensor)$/.test(path)) {
      const fname = path.slice('torch.'.length);
      const sizeArgs = fname === 'full' ? [positional[0] ?? keywords.get('size') ?? unknown('size')] : positional.length === 0 && keywords.has('size') ? [keywords.get('size')!] : positional;
      const dims = sizeArgs.length === 1 && sizeArgs[0].kind === 'seq' ? sizeArgs[0].items : sizeArgs;
      const dtypeV = keywords.get('dtype');
      const dtype = dtypeV ? dtypeName(dtypeV) : 'float32';
      const out: ShapedTensor = { kind: 'tensor', shape: dims.map((d) => (d.kind === 'num' && d.isInt ? d.value : null)), ...(dtype ? { dtype } : {}) };
      // Only constant fills become graph values; random and uninitialised tensors have no value the graph could hold.
      if (fname === 'zeros' || fname === 'ones') return this.emitOp(fname, [], out, [], keywords, node);
      if (fname === 'full') return this.emitOp('full', [], out, [positional[1] ?? keywords.get('fill_value') ?? unknown('fill_value')], keywords, node);
      return out;
    }
    if (path === 'torch.tensor') {
      const data = positional[0] ?? keywords.get('data');
      const shape = data ? literalShape(data) : null;
      if (!shape) return unknown('torch.tensor(…) of data not known statically');
      const flat = (v: Value): Value[] => (v.kind === 'seq' ? v.items.flatMap(flat) : [v]);
      const items = flat(data!);
      const dtypeV = keywords.get('dtype');
      const dtype = dtypeV ? dtypeName(dtypeV) : items.every((v) => v.kind === 'bool') ? 'bool' : items.every((v) => v.kind === 'bool' || (v.kind === 'num' && v.isInt)) ? 'int64' : 'float32';
      const made = this.emitOp('tensor', [], { kind: 'tensor', shape, ...(dtype ? { dtype } : {}) }, [data!], keywords, node);
      if (this.buildingTensors && shape.length === 1 && (dtype === 'int64' || dtype === 'float32') && items.every((v) => v.kind === 'num' && (v.isInt || dtype === 'float32'))) {
        this.elements.set(made, items.map((v) => point(dtype === 'float32' ? Math.fround((v as { value: number }).value) : (v as { value: number }).value)));
      }
      return made;
    }
    if (path === 'torch.arange' && !this.emitter) {
      // Only its shape and element type are read (buffers, sizes); the lowering does not build it.
      const [a, b, st] = positional.length === 1 ? [num(0, true), positional[0], num(1, true)] : [positional[0], positional[1], positional[2] ?? num(1, true)];
      if (a?.kind !== 'num' || b?.kind !== 'num' || st?.kind !== 'num' || st.value === 0) return unknown('torch.arange(…) with bounds not known statically');
      const n = Math.max(0, Math.ceil((b.value - a.value) / st.value));
      const dtypeV = keywords.get('dtype');
      const dtype = dtypeV ? dtypeName(dtypeV) : a.isInt && b.isInt && st.isInt ? 'int64' : 'float32';
      const out: TensorValue = { kind: 'tensor', shape: [n], ...(dtype ? { dtype } : {}) };
      // Integer ranges keep their values (RegNet computes its widths from one).
      if (dtype === 'int64' && a.isInt && st.isInt && n <= MAX_LOOP) this.elements.set(out, Array.from({ length: n }, (_, k) => point(a.value + k * st.value)));
      return out;
    }
    if (path.startsWith('torch.') || path.startsWith('F.')) return this.tensorFunction(path, positional, keywords, node);
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
    if (path === 'numpy.linspace') return this.linspace(positional, keywords);
    if (path === 'typing.cast' && positional.length === 2) return positional[1];
    if (path === 'copy.copy' || path === 'copy.deepcopy') {
      const v = positional[0];
      if (!v) return unknown(`${path}()`);
      if (v.kind === 'layer') {
        // deepcopy gives new modules (their parameters count again); copy shares the sub-modules of the original.
        if (path === 'copy.deepcopy') return copyLayer(v);
        return { ...v, children: [...v.children], args: new Map(v.args), ...(v.attrs ? { attrs: new Map(v.attrs) } : {}) };
      }
      if (v.kind === 'seq') return { ...v, items: path === 'copy.deepcopy' ? v.items.map((x) => (x.kind === 'layer' ? copyLayer(x) : x)) : [...v.items] };
      if (v.kind === 'dict') return { ...v, entries: v.entries.map(([k, x]) => [k, path === 'copy.deepcopy' && x.kind === 'layer' ? copyLayer(x) : x]) };
      return v;
    }
    if (path === 'functools.partial') {
      if (splatUnknown || positional.length === 0) return unknown(splatUnknown ?? 'functools.partial without a function', true);
      return { kind: 'partial', fn: positional[0], positional: positional.slice(1), keywords: new Map(keywords) };
    }
    return unknown(`${path}(…) is not known statically`, true);
  }

  /**
   * `np.linspace(start, stop, num)` as numpy computes it (float64: `arange(num) * step + start`, with the last item
   * set to `stop`), as a 1-D array whose items `.tolist()` reads back (MaxViT's stochastic-depth probabilities).
   */
  private linspace(positional: Value[], keywords: Map<string, Value>): Value {
    const arg = (k: number, name: string): Value | undefined => positional[k] ?? keywords.get(name);
    const [start, stop, count] = [arg(0, 'start'), arg(1, 'stop'), arg(2, 'num') ?? num(50, true)];
    const extra = [...keywords.keys()].some((k) => !['start', 'stop', 'num'].includes(k)) || positional.length > 3;
    if (extra || start?.kind !== 'num' || stop?.kind !== 'num' || !isInt(count) || count.value < 0 || count.value > MAX_LOOP) return unknown('np.linspace(…) of values not known statically');
    const n = count.value;
    const div = n - 1;
    const delta = stop.value - start.value;
    const step = div > 0 ? delta / div : NaN;
    const items = Array.from({ length: n }, (_, k) => (div > 0 ? (step === 0 ? (k / div) * delta : k * step) : k * delta) + start.value);
    if (n > 1) items[n - 1] = stop.value;
    const out: TensorValue = { kind: 'tensor', shape: [n], dtype: 'float64' };
    this.elements.set(out, items.map(point));
    return out;
  }

  private container(type: string, positional: Value[], keywords: Map<string, Value>, range: SourceRange, splatUnknown?: string): LayerValue {
    const layer: LayerValue = { kind: 'layer', type, category: 'container', args: new Map(), children: [], own: { params: 0, trainable: 0, buffers: 0 }, range };
    this.observer?.citedLine(range.line);
    const at = `line ${range.line + 1}`;
    if (splatUnknown) {
      layer.incomplete = `${at}: ${splatUnknown}`;
      return layer;
    }
    const add = (name: string, v: Value): void => {
      if (isModuleValue(v)) layer.children.push([name, v]);
      else layer.incomplete ??= `${at}: ${type} item ${name} is ${v.kind === 'unknown' ? v.reason : `a ${v.kind}, not a module`}`;
    };
    if (type === 'Sequential') {
      if (positional.length === 1 && positional[0].kind === 'dict') {
        for (const [k, v] of positional[0].entries) add(k.kind === 'str' ? k.value : '?', v);
      } else positional.forEach((v, i) => add(String(i), v));
    } else if (type === 'ModuleList') {
      const src = positional[0] ?? keywords.get('modules');
      if (src) {
        const items = this.iterate(src);
        if (items) items.forEach((v, i) => add(String(i), v));
        else layer.incomplete = `${at}: the ModuleList's contents are ${src.kind === 'unknown' ? src.reason : 'not known statically'}`;
      }
    } else {
      const src = positional[0] ?? keywords.get('modules');
      if (src && src.kind === 'dict') for (const [k, v] of src.entries) add(k.kind === 'str' ? k.value : '?', v);
      else if (src) layer.incomplete = `${at}: the ModuleDict's contents are ${src.kind === 'unknown' ? src.reason : 'not known statically'}`;
    }
    return layer;
  }

  /** setattr, getattr, delattr and hasattr with names known statically act as the attribute syntax would. */
  private attrBuiltin(name: string, positional: Value[], node: SyntaxNode): Value {
    const [obj, key, third] = positional;
    if (!obj || key?.kind !== 'str') {
      const reason = `${this.lineOf(node)}: ${name} with a name not known statically`;
      if (obj?.kind === 'layer' && (name === 'setattr' || name === 'delattr')) obj.incomplete ??= reason;
      return unknown(reason, true);
    }
    if (name === 'setattr') {
      if (third) this.setAttr(obj, key.value, third, node);
      return { kind: 'none' };
    }
    if (name === 'delattr') {
      if (obj.kind === 'layer') this.deleteAttr(obj, key.value, node);
      return { kind: 'none' };
    }
    const has = obj.kind === 'layer' ? this.hasAttribute(obj, key.value) : null;
    if (name === 'hasattr') return has === null ? unknown(`hasattr(…, '${key.value}')`) : { kind: 'bool', value: has };
    if (has === false && third) return third;
    if (has === false) return unknown(`${this.lineOf(node)}: getattr of a missing attribute '${key.value}'`, true);
    return this.attribute(obj, key.value, { locals: new Map(), globals: this.globals });
  }

  /** Whether a user module has an attribute, when that is known: null for torch layers and unread bases. */
  private hasAttribute(l: LayerValue, name: string): boolean | null {
    if (l.children.some(([n]) => n === name) || l.attrs?.has(name)) return true;
    if (l.classRef && this.classAttr(l.classRef, name) !== undefined) return true;
    if (l.category === 'torch' || l.torchType || l.incomplete || (l.classRef && unreadBase(l.classRef))) return null;
    if (LAYER_METHODS.has(name) || name === 'training' || name === 'forward') return true;
    return false;
  }

  private builtin(name: string, positional: Value[], keywords: Map<string, Value>): Value {
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
        if (v?.kind === 'layer' && v.category === 'container') return num(v.children.length, true);
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

  private callMethod(name: string, target: Value, positional: Value[], keywords: Map<string, Value>, node: SyntaxNode, frame: Frame): Value {
    if (name.startsWith('super.')) {
      // super().__init__() of nn.Module: nothing to do. Other inherited methods are unknown.
      if (name !== 'super.__init__') return unknown(`${name}`, true);
      // nn.Sequential/ModuleList/ModuleDict subclasses pass their layers to the container's constructor.
      const self = target.kind === 'layer' ? target : undefined;
      const superCls = frame.cls;
      // super() inside a method of class C starts at C's bases: a base that is a user class runs its own __init__.
      if (self && superCls) {
        for (const b of superCls.bases) {
          if (b.kind !== 'class') continue;
          const init = this.findMethod(b, '__init__');
          if (init) return this.callFunction(init, [self, ...positional], keywords, self, init.cls ?? b);
          const fields = dataclassFields(b);
          if (fields) {
            this.initDataclass(self, fields, positional, keywords);
            return { kind: 'none' };
          }
        }
        const unread = unreadBase(superCls);
        if (unread) {
          self.incomplete ??= `${this.lineOf(node)}: ${superCls.name} derives from ${unread}, which Layerscope cannot read`;
          return { kind: 'none' };
        }
        const torchType = torchLayerBase(superCls);
        if (torchType) {
          this.initTorchBase(self, torchType, positional, keywords);
          return { kind: 'none' };
        }
      }
      const base = self?.classRef ? containerBase(self.classRef) : undefined;
      if (self && base && (positional.length > 0 || keywords.size > 0)) {
        const built = this.container(base, positional, keywords, self.range);
        for (const [k, v] of built.children) this.addChild(self, k, v);
        if (built.incomplete) self.incomplete ??= built.incomplete;
      }
      return { kind: 'none' };
    }
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
    if (target.kind === 'layer') return this.layerMethod(name, target, positional, keywords, node, frame);
    if (target.kind === 'tensor') return this.tensorMethod(name, target, positional, keywords, node);
    void frame;
    return unknown(`.${name}(…)`, true);
  }

  // ---- module semantics: the module tree, parameters and buffers ----------------------------------------------

  private layerMethod(name: string, target: LayerValue, positional: Value[], keywords: Map<string, Value>, node: SyntaxNode, frame: Frame): Value {
    if ((name === 'add_module' || name === 'register_module') && positional.length >= 2) {
      const [k, v] = positional;
      if (k.kind === 'str' && isModuleValue(v)) this.addChild(target, k.value, v);
      else if (k.kind === 'str' && v.kind === 'none') this.removeChild(target, k.value);
      else target.incomplete ??= `${this.lineOf(node)}: add_module with a name or module not known statically`;
      return { kind: 'none' };
    }
    if ((name === 'append' || name === 'extend') && target.category === 'container') {
      this.extendContainer(target, name === 'append' ? (positional[0] ? [positional[0]] : null) : positional[0] ? this.iterate(positional[0]) : null, node);
      return target;
    }
    if (name === 'insert' && target.category === 'container' && positional[0]?.kind === 'num' && positional[1] !== undefined && isModuleValue(positional[1])) {
      const items = target.children.map(([, c]) => c);
      const at = positional[0].value < 0 ? Math.max(0, items.length + positional[0].value) : Math.min(positional[0].value, items.length);
      items.splice(at, 0, positional[1]);
      target.children = items.map((c, k) => [String(k), c]);
      return { kind: 'none' };
    }
    if (name === 'register_parameter') {
      const [k, v] = [positional[0] ?? keywords.get('name'), positional[1] ?? keywords.get('param')];
      if (k?.kind === 'str' && v?.kind === 'layer' && v.type === 'Parameter') this.addChild(target, k.value, v);
      else if (k?.kind === 'str' && v?.kind === 'none') this.removeChild(target, k.value);
      else target.incomplete ??= `${this.lineOf(node)}: register_parameter with a name or value not known statically`;
      return { kind: 'none' };
    }
    if (name === 'register_buffer') {
      this.registerBuffer(target, positional[0] ?? keywords.get('name'), positional[1] ?? keywords.get('tensor'), node);
      return { kind: 'none' };
    }
    if (name === 'requires_grad_') {
      const flagV = positional[0] ?? keywords.get('requires_grad') ?? { kind: 'bool', value: true };
      const on = truthy(flagV);
      for (const l of moduleTree(target)) {
        if (on === null) l.incomplete ??= `${this.lineOf(node)}: requires_grad_(${describeShort(flagV)}) is not known statically`;
        else setFrozen(l, '*', !on);
      }
      return target;
    }
    if (name === 'children' || name === 'named_children') {
      const kids = uniqueChildren(target).filter(([, c]) => c.type !== 'Parameter');
      return { kind: 'seq', items: kids.map(([k, c]) => (name === 'children' ? c : pair(k, c))), tuple: false };
    }
    if (name === 'modules' || name === 'named_modules') {
      const out: Value[] = [];
      const walk = (l: LayerValue, prefix: string, seen: Set<LayerValue>): void => {
        if (seen.has(l) || l.type === 'Parameter') return;
        seen.add(l);
        out.push(name === 'modules' ? l : pair(prefix, l));
        for (const [k, c] of l.children) walk(c, prefix ? `${prefix}.${k}` : k, seen);
      };
      walk(target, '', new Set());
      return { kind: 'seq', items: out, tuple: false };
    }
    if (name === 'parameters' || name === 'named_parameters') {
      const list = this.parameterList(target);
      if (typeof list === 'string') return unknown(`${this.lineOf(node)}: ${name}() of ${target.type}: ${list}`, true);
      return { kind: 'seq', items: list.map(([k, t]) => (name === 'parameters' ? t : pair(k, t))), tuple: false };
    }
    if (target.type === 'ModuleDict' || containerBaseOf(target) === 'ModuleDict') {
      if (name === 'items') return { kind: 'seq', items: target.children.map(([k, c]) => pair(k, c)), tuple: false };
      if (name === 'keys') return { kind: 'seq', items: target.children.map(([k]) => ({ kind: 'str', value: k }) as Value), tuple: false };
      if (name === 'values') return { kind: 'seq', items: target.children.map(([, c]) => c), tuple: false };
    }
    if (name === 'apply' && positional[0]) {
      // Module.apply(fn) calls fn on every submodule, children first, then the module itself.
      const order: LayerValue[] = [];
      const walk = (l: LayerValue, seen: Set<LayerValue>): void => {
        if (seen.has(l) || l.type === 'Parameter') return;
        seen.add(l);
        for (const [, c] of l.children) walk(c, seen);
        order.push(l);
      };
      walk(target, new Set());
      for (const l of order) this.apply(positional[0], [l], new Map(), node, frame);
      return target;
    }
    // model.to(device), model.eval() and the like return the module itself; none changes a count.
    if (['to', 'cuda', 'cpu', 'eval', 'train', 'float', 'double', 'half', 'zero_grad'].includes(name)) return target;
    return unknown(`${target.type}.${name}(…)`, true);
  }

  /** `self.register_buffer(name, tensor, persistent)`: a floating-point buffer of known shape adds its values. */
  private registerBuffer(target: LayerValue, nameV: Value | undefined, tensor: Value | undefined, node: SyntaxNode): void {
    if (nameV?.kind !== 'str' || !tensor) {
      target.incomplete ??= `${this.lineOf(node)}: register_buffer with a name not known statically`;
      return;
    }
    if (tensor.kind === 'none') return;
    const own = (target.own ??= { params: 0, trainable: 0, buffers: 0 });
    if (tensor.kind !== 'tensor' || !tensor.shape || !tensor.shape.every((d) => typeof d === 'number')) {
      target.incomplete ??= `${this.lineOf(node)}: the shape of buffer '${nameV.value}' is not known statically`;
      return;
    }
    if (!tensor.dtype) {
      target.incomplete ??= `${this.lineOf(node)}: the dtype of buffer '${nameV.value}' is not known statically`;
      return;
    }
    if (!/^(float|bfloat|complex)/.test(tensor.dtype)) return;
    target.own = { ...own, buffers: own.buffers + (tensor.shape as number[]).reduce((a, b) => a * b, 1) };
  }

  /** `model.parameters()` as PyTorch lists them (each parameter once), by dotted name; a string says why not. */
  private parameterList(root: LayerValue): Array<[string, TensorValue]> | string {
    const out: Array<[string, TensorValue]> = [];
    const seenLayers = new Set<LayerValue>();
    const seenParams = new Set<string>();
    const keyOf = (r: ParamRef): string => `${layerId(r.owner)}:${r.name}`;
    const visit = (l: LayerValue, prefix: string): string | undefined => {
      if (seenLayers.has(l)) return undefined;
      seenLayers.add(l);
      if (l.incomplete) return l.incomplete;
      if (l.type === 'Parameter') {
        const ref = { owner: l, name: '*' };
        if (!seenParams.has(keyOf(ref))) out.push([prefix, { kind: 'tensor', shape: null, param: ref }]);
        seenParams.add(keyOf(ref));
        return undefined;
      }
      if (l.own && l.own.params > 0) {
        const sizes = ownParamSizes(l);
        if (!sizes) return `the parameters of ${l.type} are not known one by one`;
        for (const [pname] of sizes) {
          const by = l.replaced?.get(pname);
          if (by === null) continue;
          const ref: ParamRef = by && !('kind' in by) ? by : by ? { owner: by, name: '*' } : { owner: l, name: pname };
          if (seenParams.has(keyOf(ref))) continue;
          seenParams.add(keyOf(ref));
          out.push([prefix ? `${prefix}.${pname}` : pname, { kind: 'tensor', shape: null, param: ref }]);
        }
      }
      for (const [k, c] of l.children) {
        const why = visit(c, prefix ? `${prefix}.${k}` : k);
        if (why) return why;
      }
      return undefined;
    };
    return visit(root, '') ?? out;
  }

  /** `layer.weight` and the like: the parameter as a tensor that knows whose parameter it is. */
  private paramOf(layer: LayerValue, name: string): Value | undefined {
    const by = layer.replaced?.get(name);
    if (by === null) return { kind: 'none' };
    if (by) return { kind: 'tensor', shape: null, param: 'kind' in by ? { owner: by, name: '*' } : by };
    if (ownParamSizes(layer)?.has(name) || ((layer.category === 'torch' || layer.torchType) && /^(weight|bias)$|_(weight|bias)(_|$)/.test(name))) {
      return { kind: 'tensor', shape: null, param: { owner: layer, name } };
    }
    return undefined;
  }

  /**
   * `obj.attr = value` on a module or a parameter: registering, replacing or removing a sub-module, tying or replacing
   * a parameter, and turning requires_grad off or on.
   */
  private setAttr(obj: Value, attr: string, value: Value, where: SyntaxNode): void {
    if (obj.kind === 'tensor' && obj.param) {
      if (attr === 'requires_grad') {
        const on = truthy(value);
        if (on === null) obj.param.owner.incomplete ??= `${this.lineOf(where)}: requires_grad is set to a value not known statically`;
        else setFrozen(obj.param.owner, obj.param.name, !on);
      }
      return;
    }
    if (obj.kind !== 'layer') return;
    if (obj.type === 'Parameter' && attr === 'requires_grad') {
      const on = truthy(value);
      if (on === null) obj.incomplete ??= `${this.lineOf(where)}: requires_grad is set to a value not known statically`;
      else setFrozen(obj, '*', !on);
      return;
    }
    const isParamName = this.paramOf(obj, attr) !== undefined;
    if (isParamName && (obj.category === 'torch' || obj.torchType)) {
      // A torch layer's own parameter replaced: tied to another parameter, a new nn.Parameter, or removed.
      const replaced = (obj.replaced ??= new Map());
      if (value.kind === 'tensor' && value.param && !(value.param.owner === obj && value.param.name === attr)) replaced.set(attr, value.param.name === '*' ? value.param.owner : value.param);
      else if (value.kind === 'layer' && value.type === 'Parameter') replaced.set(attr, value);
      else if (value.kind === 'none') replaced.set(attr, null);
      else if (!(value.kind === 'tensor' && value.param)) obj.incomplete ??= `${this.lineOf(where)}: ${obj.type}.${attr} is set to ${value.kind === 'unknown' ? value.reason : `a ${value.kind}`}`;
      return;
    }
    if (obj.category === 'torch') {
      // Hyperparameters such as `bn.momentum = 0.01` or `conv.stride = 2` change no count; shapes read the new value.
      if (obj.args.has(attr)) obj.args.set(attr, value);
      return;
    }
    this.setSelfAttr(obj, attr, value, where);
  }

  private removeChild(parent: LayerValue, name: string): boolean {
    const i = parent.children.findIndex(([n]) => n === name);
    if (i >= 0) parent.children.splice(i, 1);
    return i >= 0;
  }

  /** `del target`: a sub-module or attribute of a module, an item of a list or dict, or a local name. */
  private execDelete(stmt: SyntaxNode, frame: Frame): void {
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
        } else if (obj.kind === 'layer' && obj.category !== 'torch') {
          if (idx.kind === 'str') this.removeChild(obj, idx.value);
          else if (idx.kind === 'num' && obj.type !== 'ModuleDict') {
            const items = obj.children.map(([, c]) => c);
            items.splice(idx.value < 0 ? items.length + idx.value : idx.value, 1);
            obj.children = items.map((c, k) => [String(k), c]);
          } else obj.incomplete ??= `${this.lineOf(t)}: del ${t.text} is not known statically`;
        } else if (obj.kind === 'seq' || obj.kind === 'unknown') {
          // Nothing countable is known to be removed; a list of modules becomes unknown.
          this.bindTarget(t.childForFieldName('value')!, unknown(`${this.lineOf(t)}: del ${t.text} is not known statically`, true), frame);
        }
      } else if (t.type === 'identifier') frame.locals.delete(t.text);
    }
  }

  private deleteAttr(obj: LayerValue, attr: string, where: SyntaxNode): void {
    if (this.removeChild(obj, attr)) return;
    if (obj.attrs?.delete(attr)) return;
    if ((obj.category === 'torch' || obj.torchType) && this.paramOf(obj, attr)) {
      (obj.replaced ??= new Map()).set(attr, null);
      return;
    }
    if (obj.category !== 'torch') obj.incomplete ??= `${this.lineOf(where)}: del of ${obj.type}.${attr}, which Layerscope does not know`;
  }

  // ---- forward pass: tensors --------------------------------------------------------------------------------

  /** Calls a layer value: on tensors in forward code, this is where shapes propagate. */
  callLayer(layer: LayerValue, positional: Value[], keywords: Map<string, Value>, node: SyntaxNode): Value {
    if (this.emitter && this.emitting !== this.emitter) {
      // A forward pass may change its module (`self.fc = nn.Linear(…)` inside forward). One run for an emitter
      // (lowering) works on a copy, because the module belongs to an analysis whose results the analysis cache replays
      // into later versions of the file unchanged.
      this.emitting = this.emitter;
      try {
        return this.callLayer(copyLayer(layer), positional, keywords, node);
      } finally {
        this.emitting = undefined;
      }
    }
    if (!this.emitter && this.shapingDepth === 0 && this.depth === 0) return { kind: 'tensor', shape: null };
    if (layer.category === 'torch') return this.callTorchLayer(layer, positional, keywords, node);
    const input = positional[0];
    if (!input || input.kind !== 'tensor') {
      if (layer.category === 'user' && layer.classRef) return this.runForward(layer, positional, keywords);
      return { kind: 'tensor', shape: null };
    }
    if (layer.category === 'container') {
      if (layer.type !== 'Sequential') return { kind: 'tensor', shape: null };
      let x: Value = opaqueInput(layer, input);
      for (const [, child] of layer.children) {
        x = this.callLayer(child, [x], new Map(), node);
        if (x.kind !== 'tensor') return { kind: 'tensor', shape: null };
      }
      this.trace(layer, input, x as ShapedTensor, { output: x as ShapedTensor, macs: null });
      return x;
    }
    if (layer.torchType && layer.classRef && !this.findMethod(layer.classRef, 'forward')) {
      // A subclass of a torch layer without a forward of its own runs the layer's forward: shapes, MACs and lowering
      // are the layer's, under the subclass's name.
      const view = torchView(layer);
      const out = this.callTorchLayer(view, positional, keywords, node);
      const t = this.traces.get(view);
      if (t && !this.traces.has(layer)) {
        const own = { ...t, layer };
        this.traces.set(layer, own);
        this.observer?.traced(own);
      }
      return out;
    }
    const out = this.runForward(layer, positional, keywords);
    if (out.kind === 'tensor') this.trace(layer, input, out, { output: out, macs: null });
    return out;
  }

  /**
   * Calls a torch.nn layer. Its arguments, keywords included, are bound to the names of PyTorch's forward, so that the
   * shape rules and the lowering see a mask, a memory or an initial state however the call passes it.
   */
  private callTorchLayer(layer: LayerValue, positional: Value[], keywords: Map<string, Value>, node: SyntaxNode): Value {
    const bound = bindForwardArgs(layer.type, positional, keywords);
    if (bound.error) {
      // PyTorch raises a TypeError here, so the lowering stops rather than leave the argument out.
      if (this.emitter) throw new UserInputError(`${where(layer)}: on ${this.lineOf(node)}, ${bound.error}`);
      this.diagnostics.push({ range: rangeOf(node), message: bound.error });
      return { kind: 'tensor', shape: null };
    }
    const input = bound.args.get(forwardInputName(layer.type));
    if (!input || input.kind !== 'tensor') return { kind: 'tensor', shape: null };
    const app = applyLayerRules(layer, input as ShapedTensor, bound.args, rangeOf(node));
    if (app.mismatch) {
      // PyTorch would raise here too; the lowering says why instead of failing later on the missing output.
      if (this.emitter) throw new UserInputError(`${where(layer)}: on ${this.lineOf(node)}, ${app.mismatch}`);
      this.diagnostics.push({ range: layer.range, message: app.mismatch });
    }
    let output: ShapedTensor = app.output;
    if (this.emitter) {
      const name = this.emitter.layer(layer, { args: bound.args, range: rangeOf(node) }, output);
      if (name) output = { ...output, irName: name };
      else output = { ...output };
    }
    this.trace(layer, input, output, app);
    if (app.mismatch) return { kind: 'tensor', shape: null };
    if (layer.type === 'LSTM' || layer.type === 'GRU' || layer.type === 'RNN') {
      // (output, h_n) or (output, (h_n, c_n)); the hidden states are not lowered, so they carry no IR name.
      const h: Value = { kind: 'tensor', shape: null };
      return { kind: 'seq', items: [output, layer.type === 'LSTM' ? { kind: 'seq', items: [h, h], tuple: true } : h], tuple: true };
    }
    if (layer.type === 'MultiheadAttention') {
      // The attention weights are not lowered either; with need_weights=False PyTorch returns None in their place.
      const needWeights = bound.args.get('need_weights');
      const weights: Value = needWeights?.kind === 'bool' && !needWeights.value ? { kind: 'none' } : { kind: 'tensor', shape: null };
      return { kind: 'seq', items: [output, weights], tuple: true };
    }
    return output;
  }

  private trace(layer: LayerValue, input: TensorValue, output: ShapedTensor, app: LayerApplication): void {
    if (!this.emitter && this.shapingDepth === 0) return;
    const seen = this.traces.get(layer);
    if (seen) {
      // A module called again in the same pass (shared, or reused in a loop): its MACs are counted per call.
      seen.calls = (seen.calls ?? 1) + 1;
      seen.totalMacs = seen.totalMacs === null || app.macs === null ? null : (seen.totalMacs ?? seen.macs ?? 0) + app.macs;
      return;
    }
    const trace: LayerTrace = {
      layer,
      input: input.shape ? [...input.shape] : null,
      output: output.shape ? [...output.shape] : null,
      macs: app.macs,
      ...(app.sizeFormula ? { sizeFormula: app.sizeFormula } : {}),
      ...(app.unknownBecause || (!output.shape && output.unknownBecause) ? { unknownBecause: app.unknownBecause ?? output.unknownBecause } : {}),
      ...(output.rf ? { rf: output.rf } : {}),
    };
    this.traces.set(layer, trace);
    this.observer?.traced(trace);
  }

  /** Runs a user module's forward with the given inputs. */
  runForward(layer: LayerValue, positional: Value[], keywords: Map<string, Value>): Value {
    const cls = layer.classRef;
    if (!cls) return { kind: 'tensor', shape: null };
    const fwd = this.findMethod(cls, 'forward');
    if (!fwd) {
      // An nn.Sequential subclass without its own forward chains its children, as nn.Sequential.forward does.
      const input = positional[0];
      if (containerBase(cls) === 'Sequential' && input && input.kind === 'tensor') {
        let x: Value = opaqueInput(layer, input);
        for (const [, child] of layer.children) {
          x = this.callLayer(child, [x], new Map(), cls.node as SyntaxNode);
          if (x.kind !== 'tensor') return { kind: 'tensor', shape: null };
        }
        return x;
      }
      return { kind: 'tensor', shape: null };
    }
    if (this.depth > MAX_DEPTH) return { kind: 'tensor', shape: null };
    this.forwardDepth++;
    this.emitter?.enterModule?.(layer);
    try {
      return this.callFunction(fwd, [layer, ...positional], keywords, layer, fwd.cls ?? cls);
    } finally {
      this.emitter?.exitModule?.(layer);
      this.forwardDepth--;
    }
  }

  private tensorBinary(op: string, a: Value, b: Value, node: SyntaxNode): Value {
    const ta = a.kind === 'tensor' ? a : null;
    const tb = b.kind === 'tensor' ? b : null;
    let shape: Dim[] | null = null;
    if (ta && tb) {
      const b2 = broadcastTensorShapes(ta.shape, tb.shape);
      if (b2 === undefined) {
        this.diagnostics.push({ range: rangeOf(node), message: `${op === '+' ? 'Adding' : 'Combining'} tensors of shapes ${fmtShape(ta.shape)} and ${fmtShape(tb.shape)}: they do not broadcast` });
        return { kind: 'tensor', shape: null };
      }
      shape = b2;
    } else shape = (ta ?? tb)!.shape;
    const other = ta && tb ? null : ta ? b : a;
    // An operand the interpreter could not evaluate may be a tensor, whose shape would broadcast with this one's.
    if (other?.kind === 'unknown') return { kind: 'tensor', shape: null, unknownBecause: `${this.lineOf(node)}: ${other.reason}` } as ShapedTensor;
    const out: ShapedTensor = { kind: 'tensor', shape: shape ? [...shape] : null };
    const dtype = ta && tb ? (ta.dtype === tb.dtype ? ta.dtype : undefined) : (ta ?? tb)!.dtype;
    if (dtype && (ta && tb ? true : other?.kind === 'num' && (/^(float|bfloat)/.test(dtype) || (other.isInt && op !== '/')))) out.dtype = dtype;
    else if (this.buildingTensors && dtype && /^(int|uint|bool)/.test(dtype) && other?.kind === 'num' && (!other.isInt || op === '/')) {
      // An integer tensor with a Python float, or divided (true division), is float32, PyTorch's default float type.
      out.dtype = 'float32';
    }
    if (this.buildingTensors && out.dtype && shape?.length === 1 && typeof shape[0] === 'number') {
      const [ea, eb] = [this.operandElements(a, shape[0]), this.operandElements(b, shape[0])];
      if (ea && eb) {
        const els = ea.map((x, k) => binaryBound(op, x, eb[k], out.dtype!));
        if (els.every((e): e is Bound => e !== null)) this.elements.set(out, els);
      }
    }
    const rf = mergeTensorRf([ta, tb].filter((t): t is ShapedTensor => t !== null), shape);
    if (rf) out.rf = rf;
    if (this.emitter) {
      const name = this.emitter.op(`binary${op}`, [ta, tb].filter((t): t is TensorValue => t !== null) as ShapedTensor[], out, [a, b], new Map(), rangeOf(node));
      if (name) out.irName = name;
    }
    return out;
  }

  /** The elements of an operand of a 1-D op of length n: a tensor's known values (broadcast from one), or a scalar. */
  private operandElements(v: Value, n: number): Bound[] | null {
    if (v.kind === 'num') return Array.from({ length: n }, () => point(v.value));
    if (v.kind === 'bool') return Array.from({ length: n }, () => point(v.value ? 1 : 0));
    if (v.kind !== 'tensor') return null;
    const els = this.elements.get(v);
    if (!els) return null;
    return els.length === n ? els : els.length === 1 ? Array.from({ length: n }, () => els[0]) : null;
  }

  /** `a == b`, `a < b` and the like with a tensor on either side: a bool tensor of the broadcast shape. */
  private tensorCompare(op: string, a: Value, b: Value, node: SyntaxNode): Value {
    const ta = a.kind === 'tensor' ? a : null;
    const tb = b.kind === 'tensor' ? b : null;
    const shape = ta && tb ? broadcastTensorShapes(ta.shape, tb.shape) : (ta ?? tb)!.shape;
    if (shape === undefined) {
      this.diagnostics.push({ range: rangeOf(node), message: `Comparing tensors of shapes ${fmtShape(ta!.shape)} and ${fmtShape(tb!.shape)}: they do not broadcast` });
      return { kind: 'tensor', shape: null };
    }
    return this.emitOp(`compare${op}`, [ta, tb].filter((t): t is TensorValue => t !== null), { kind: 'tensor', shape: shape ? [...shape] : null }, [a, b], new Map(), node);
  }

  private emitOp(name: string, inputs: TensorValue[], out: ShapedTensor, args: Value[], keywords: Map<string, Value>, node: SyntaxNode): ShapedTensor {
    if (!out.dtype) {
      // Element types follow the input, except for comparisons (bool) and casts (their target).
      const dtype = name.startsWith('compare') || name === 'not' ? 'bool' : name === 'cast' ? (args[0]?.kind === 'none' ? inputs[0]?.dtype : args[0] ? dtypeName(args[0]) : undefined) : name === 'tensor' ? undefined : inputs.length > 0 && inputs.every((t) => t.dtype === inputs[0].dtype) ? inputs[0].dtype : undefined;
      if (dtype) out = { ...out, dtype };
    }
    if (this.emitter) {
      const ir = this.emitter.op(name, inputs as ShapedTensor[], out, args, keywords, rangeOf(node));
      if (ir) return { ...out, irName: ir };
      return { ...out };
    }
    return out;
  }

  private tensorFunction(path: string, positional: Value[], keywords: Map<string, Value>, node: SyntaxNode): Value {
    const fname = path.split('.').pop()!;
    const x = positional[0];
    if (this.buildingTensors) {
      const built = this.buildTensor(fname, positional, keywords, node);
      if (built) return built;
    }
    if (fname === 'cat' || fname === 'concat' || fname === 'stack') {
      const list = positional[0];
      const dimV = positional[1] ?? keywords.get('dim') ?? num(0, true);
      if (list?.kind !== 'seq' || !list.items.every((t) => t.kind === 'tensor') || dimV.kind !== 'num') return { kind: 'tensor', shape: null };
      const ts = list.items as TensorValue[];
      let shape: Dim[] | null = null;
      if (ts.every((t) => t.shape) && ts.length > 0) {
        const rank = ts[0].shape!.length;
        const d = dimV.value < 0 ? rank + (fname === 'stack' ? 1 : 0) + dimV.value : dimV.value;
        if (fname === 'stack') shape = [...ts[0].shape!.slice(0, d), ts.length, ...ts[0].shape!.slice(d)];
        else if (ts.every((t) => t.shape!.length === rank)) {
          shape = ts[0].shape!.map((_, k) => (k === d ? (ts.every((t) => typeof t.shape![k] === 'number') ? ts.reduce((acc, t) => acc + (t.shape![k] as number), 0) : null) : ts[0].shape![k]));
        }
      }
      const rf = mergeTensorRf(ts as ShapedTensor[], shape);
      return this.emitOp(fname, ts, { kind: 'tensor', shape, ...(rf ? { rf } : {}) }, [num(typeof dimV.value === 'number' ? dimV.value : 0, true)], keywords, node);
    }
    if (!x || x.kind !== 'tensor') return unknown(`${path}(…)`, true);
    // torch.transpose(x, 1, 2) and the like are the tensor methods of the same names.
    if (/^(transpose|swapaxes|swapdims|permute|reshape|unsqueeze|chunk)$/.test(fname)) return this.tensorMethod(fname, x, positional.slice(1), keywords, node);
    if (fname === 'triu' || fname === 'tril') {
      return this.emitOp(fname, [x], sameShape(x), [positional[1] ?? keywords.get('diagonal') ?? num(0, true)], keywords, node);
    }
    if (fname === 'logical_not') return this.emitOp('not', [x], sameShape(x), [], keywords, node);
    if (fname === 'flatten') {
      const sd = positional[1] ?? keywords.get('start_dim') ?? num(0, true);
      const ed = positional[2] ?? keywords.get('end_dim') ?? num(-1, true);
      if (sd.kind !== 'num' || ed.kind !== 'num') return { kind: 'tensor', shape: null };
      return this.emitOp('flatten', [x], flattenShape(x as ShapedTensor, sd.value, ed.value), [num(sd.value, true), num(ed.value, true)], keywords, node);
    }
    if (/^(max_pool|avg_pool)[123]d$/.test(fname)) {
      const n = Number(fname.slice(-2, -1));
      const type = fname.startsWith('max') ? `MaxPool${n}d` : `AvgPool${n}d`;
      // F.max_poolNd takes ceil_mode before return_indices, the other way round from nn.MaxPoolNd, so those two are
      // passed on by name.
      const byName = new Map(keywords);
      if (type.startsWith('Max')) {
        if (positional[5]) byName.set('ceil_mode', positional[5]);
        if (positional[6]) byName.set('return_indices', positional[6]);
      }
      const bound = bindLayerArgs(type, type.startsWith('Max') ? positional.slice(1, 5) : positional.slice(1), byName);
      if (bound.error && this.emitter) throw new UserInputError(`${this.lineOf(node)}: ${bound.error.replace(type, `F.${fname}`)}`);
      const fake: LayerValue = { kind: 'layer', type, category: 'torch', args: bound.args, children: [], own: { params: 0, trainable: 0, buffers: 0 }, range: rangeOf(node) };
      const app = applyTorchLayer(fake, x as ShapedTensor);
      return this.emitOp(type, [x], app.output, [], bound.args, node);
    }
    if (/^adaptive_(avg|max)_pool[123]d$/.test(fname)) {
      const n = Number(fname.slice(-2, -1));
      const type = fname.includes('avg') ? `AdaptiveAvgPool${n}d` : `AdaptiveMaxPool${n}d`;
      const bound = bindLayerArgs(type, positional.slice(1), keywords);
      if (bound.error && this.emitter) throw new UserInputError(`${this.lineOf(node)}: ${bound.error.replace(type, `F.${fname}`)}`);
      const fake: LayerValue = { kind: 'layer', type, category: 'torch', args: bound.args, children: [], own: { params: 0, trainable: 0, buffers: 0 }, range: rangeOf(node) };
      const app = applyTorchLayer(fake, x as ShapedTensor);
      return this.emitOp(type, [x], app.output, [], bound.args, node);
    }
    if (/^(relu|relu6|gelu|silu|sigmoid|tanh|elu|selu|leaky_relu|hardswish|hardsigmoid|mish|softplus|dropout|dropout2d|softmax|log_softmax|relu_|sigmoid_|tanh_|abs|exp|log|sqrt|neg|clamp|clip|hardtanh)$/.test(fname)) {
      const out: ShapedTensor = { kind: 'tensor', shape: x.shape ? [...x.shape] : null, ...((x as ShapedTensor).rf ? { rf: (x as ShapedTensor).rf } : {}), ...(x.factors ? { factors: x.factors } : {}) };
      return this.emitOp(fname.replace(/_$/, ''), [x], out, positional.slice(1), keywords, node);
    }
    return { kind: 'tensor', shape: null };
  }

  /**
   * Tensor functions followed only while building tensors outside forward (see buildingTensors): their shape and
   * element type, as PyTorch 1.13 defines them; undefined for the functions the general rules handle.
   */
  private buildTensor(fname: string, positional: Value[], keywords: Map<string, Value>, node: SyntaxNode): Value | undefined {
    if (fname === 'meshgrid') {
      const ts = positional.length === 1 && positional[0].kind === 'seq' ? positional[0].items : positional;
      const indexing = keywords.get('indexing');
      // 1.13 warns without `indexing` and then uses 'ij'.
      const mode = indexing === undefined ? 'ij' : indexing.kind === 'str' ? indexing.value : null;
      const sizes = ts.map((t) => (t.kind === 'tensor' && t.shape && t.shape.length <= 1 ? (t.shape.length === 0 ? 1 : t.shape[0]) : undefined));
      if ((mode !== 'ij' && mode !== 'xy') || ts.length === 0 || sizes.some((n) => n === undefined)) return unknown('torch.meshgrid(…) of tensors not known statically');
      const dims = sizes as Dim[];
      if (mode === 'xy' && dims.length >= 2) [dims[0], dims[1]] = [dims[1], dims[0]];
      const dtype = (ts[0] as TensorValue).dtype;
      const same = ts.every((t) => (t as TensorValue).dtype === dtype);
      return { kind: 'seq', items: ts.map(() => ({ kind: 'tensor', shape: [...dims], ...(dtype && same ? { dtype } : {}) }) as Value), tuple: true };
    }
    if (fname === 'pow' && positional[0]?.kind === 'num' && positional[1]?.kind === 'tensor' && positional[1].dtype === 'float32' && keywords.size === 0) {
      // torch.pow(base, t) with a Python number as the base (RegNet's w_m ** capacity), in float32.
      const [base, t] = [positional[0].value, positional[1]];
      const out: TensorValue = { kind: 'tensor', shape: t.shape ? [...t.shape] : null, dtype: 'float32' };
      const c = Math.fround(base);
      this.setElements(out, c > 0 ? this.elements.get(t)?.map((b) => monotoneBound((v) => c ** v, b)) : undefined);
      return out;
    }
    const x = positional[0];
    if (x?.kind !== 'tensor') return undefined;
    if ((fname === 'divide' || fname === 'div') && positional[1] && keywords.size === 0) return this.tensorBinary('/', x, positional[1], node);
    if (fname === 'sign' || fname === 'log2' || fname === 'abs' || fname === 'log' || fname === 'exp' || fname === 'sqrt') {
      // sign and abs keep the element type; the others turn integers into float32 (the default dtype).
      const dtype = fname === 'sign' || fname === 'abs' ? x.dtype : x.dtype && /^(float|bfloat|complex)/.test(x.dtype) ? x.dtype : x.dtype ? 'float32' : undefined;
      const out: TensorValue = { kind: 'tensor', shape: x.shape ? [...x.shape] : null, ...(dtype ? { dtype } : {}) };
      if (fname === 'log' && dtype === 'float32') this.setElements(out, this.elements.get(x)?.map((b) => (b.lo > 0 ? monotoneBound(Math.log, b) : null)));
      return out;
    }
    if (fname === 'round' && positional.length === 1 && keywords.size === 0 && x.dtype) {
      // Half to even, as torch.round does; integer tensors are unchanged.
      const out: TensorValue = { kind: 'tensor', shape: x.shape ? [...x.shape] : null, dtype: x.dtype };
      this.setElements(out, this.elements.get(x)?.map((b) => (isFloatType(x.dtype!) ? toInteger(b, 'round') : b)));
      return out;
    }
    if (fname === 'diff' && positional.length === 1 && keywords.size === 0 && x.shape?.length === 1 && typeof x.shape[0] === 'number' && x.shape[0] > 0 && x.dtype === 'int64') {
      const out: TensorValue = { kind: 'tensor', shape: [x.shape[0] - 1], dtype: 'int64' };
      const els = this.elements.get(x);
      this.setElements(out, els?.slice(1).map((b, k) => binaryBound('-', b, els[k], 'int64')));
      return out;
    }
    return undefined;
  }

  /**
   * `x.chunk(chunks, dim)`: PyTorch's split size is ceil(size / chunks), so there may be fewer chunks than asked and
   * the last one smaller; each chunk is a slice of `x` along `dim`. Unknown unless that dim's size is known, since the
   * number of chunks depends on it.
   */
  private chunk(x: TensorValue, positional: Value[], keywords: Map<string, Value>, node: SyntaxNode): Value {
    const chunks = positional[0] ?? keywords.get('chunks');
    const dimV = positional[1] ?? keywords.get('dim') ?? num(0, true);
    const shape = x.shape;
    if (!shape || !isInt(chunks) || chunks.value <= 0 || !isInt(dimV) || dimV.value >= shape.length || dimV.value < -shape.length) return unknown(`${this.lineOf(node)}: chunk(…) of a tensor whose shape is not known statically`);
    const dim = dimV.value < 0 ? shape.length + dimV.value : dimV.value;
    const size = shape[dim];
    if (typeof size !== 'number' || size === 0) return unknown(`${this.lineOf(node)}: chunk(…) along a dim whose size is not known statically`);
    const step = Math.ceil(size / chunks.value);
    const parts: Value[] = [];
    for (let start = 0; start < size; start += step) {
      const end = Math.min(size, start + step);
      const out: ShapedTensor = { kind: 'tensor', shape: shape.map((d, k) => (k === dim ? end - start : d)), ...(x.dtype ? { dtype: x.dtype } : {}) };
      parts.push(this.emitOp('slice', [x], out, [num(dim, true), num(start, true), num(end, true)], new Map(), node));
    }
    return { kind: 'seq', items: parts, tuple: true };
  }

  /** Records a tensor's element values when every one is known. */
  private setElements(t: TensorValue, els: Array<Bound | null> | undefined): void {
    if (els && els.every((e): e is Bound => e !== null)) this.elements.set(t, els);
  }

  private tensorMethod(name: string, x: TensorValue, positional: Value[], keywords: Map<string, Value>, node: SyntaxNode): Value {
    const shape = x.shape;
    if (name === 'tolist') {
      const els = this.elements.get(x);
      if (els && els.every(isPoint)) return { kind: 'seq', items: els.map((b) => num(b.lo, x.dtype !== undefined && !isFloatType(x.dtype))), tuple: false };
      return unknown(`${this.lineOf(node)}: the values of this tensor are not known statically`);
    }
    if (name === 'size') {
      if (positional.length === 0) return shape ? { kind: 'seq', items: shape.map((d) => (typeof d === 'number' ? num(d, true) : unknown('a dim'))), tuple: true } : unknown('size');
      const d = positional[0];
      if (!shape || d.kind !== 'num') return unknown('a dim');
      const k = d.value < 0 ? shape.length + d.value : d.value;
      const v = shape[k];
      return typeof v === 'number' ? num(v, true) : unknown('a dim');
    }
    if (name === 'dim' || name === 'ndimension') return shape ? num(shape.length, true) : unknown('rank');
    if (name === 'view' || name === 'reshape') {
      const dims = positional.length === 1 && positional[0].kind === 'seq' ? positional[0].items : positional;
      if (!shape || dims.some((d) => d.kind !== 'num')) return this.emitOp('reshape', [x], { kind: 'tensor', shape: dims.map((d) => (d.kind === 'num' && d.value >= 0 ? d.value : null)) }, dims, keywords, node);
      const vals = dims.map((d) => (d as { value: number }).value);
      const total = shape.every((d) => typeof d === 'number') ? (shape as number[]).reduce((a, b) => a * b, 1) : null;
      const known = vals.filter((v) => v !== -1).reduce((a, b) => a * b, 1);
      const out: Dim[] = vals.map((v) => (v === -1 ? (total !== null && known > 0 && total % known === 0 ? total / known : null) : v));
      if (total !== null && !vals.includes(-1) && known !== total) {
        this.diagnostics.push({ range: rangeOf(node), message: `${name}(${vals.join(', ')}) needs ${known} elements; the tensor has ${fmtShape(shape)} = ${total}` });
        return { kind: 'tensor', shape: null };
      }
      const last = out.length - 1;
      let factors: number[] | undefined;
      // x.view(x.size(0), -1) flattens everything after the batch, which is what mismatch messages explain.
      if (vals.length === 2 && shape.length > 2 && vals[0] === shape[0] && shape.slice(1).every((d) => typeof d === 'number')) factors = shape.slice(1) as number[];
      const res: ShapedTensor = { kind: 'tensor', shape: out, ...positionsAfterMerge(x as ShapedTensor), ...(factors && last === 1 ? { factors } : {}) };
      return this.emitOp('reshape', [x], res, vals.map((v) => num(v, true)), keywords, node);
    }
    if (name === 'flatten') return this.tensorFunction('torch.flatten', [x, ...positional], keywords, node);
    if (['relu', 'sigmoid', 'tanh', 'relu_', 'sigmoid_', 'tanh_', 'softmax', 'log_softmax', 'exp', 'abs', 'neg', 'sqrt', 'clamp'].includes(name)) {
      return this.tensorFunction(`torch.${name}`, [x, ...positional], keywords, node);
    }
    if (name === 'requires_grad_' && x.param) {
      const on = truthy(positional[0] ?? keywords.get('requires_grad') ?? { kind: 'bool', value: true });
      if (on === null) x.param.owner.incomplete ??= `${this.lineOf(node)}: requires_grad_ with a value not known statically`;
      else setFrozen(x.param.owner, x.param.name, !on);
      return x;
    }
    if (['contiguous', 'cuda', 'cpu', 'detach', 'clone', 'requires_grad_'].includes(name)) return x;
    // In-place fills and initialisers (`torch.empty(…).normal_(std=0.02)`) return the tensor itself.
    if (/^(normal|uniform|zero|fill|trunc_normal|copy|clamp|mul|add|div|sub)_$/.test(name)) return x;
    if (name in CAST_METHODS) {
      const cast = this.emitOp('cast', [x], castShape(x), [{ kind: 'torchRef', path: CAST_METHODS[name] }], keywords, node);
      const els = this.buildingTensors ? this.elements.get(x) : undefined;
      // A cast to an integer type truncates; to float32 it rounds, which keeps each interval's ends in order.
      const to = cast.dtype;
      if (els && (to === 'float32' || to === 'int64' || to === 'int32')) {
        this.setElements(cast, els.map((b) => (to === 'float32' ? { lo: Math.fround(b.lo), hi: Math.fround(b.hi) } : Math.abs(b.lo) < 2 ** 31 && Math.abs(b.hi) < 2 ** 31 ? toInteger(b, 'trunc') : null)));
      }
      return cast;
    }
    if (name === 'to' || name === 'type' || name === 'type_as') return this.emitOp('cast', [x], castShape(x), [castTarget(name, positional, keywords, node)], new Map(), node);
    if (name === 'triu' || name === 'tril' || name === 'logical_not') return this.tensorFunction(`torch.${name}`, [x, ...positional], keywords, node);
    if (name in COMPARISON_METHODS) return positional[0] ? this.tensorCompare(COMPARISON_METHODS[name], x, positional[0], node) : unknown(`${name}(…) without an operand`);
    if (name === 'masked_fill') {
      const mask = positional[0] ?? keywords.get('mask');
      const value = positional[1] ?? keywords.get('value');
      if (mask?.kind !== 'tensor' || !value) return { kind: 'tensor', shape: null };
      const out = broadcastTensorShapes(shape, mask.shape);
      return this.emitOp('masked_fill', [x, mask], { kind: 'tensor', shape: out ? [...out] : null }, [mask, value], new Map(), node);
    }
    if (name === 'unsqueeze' && shape && positional[0]?.kind === 'num') {
      const d = positional[0].value < 0 ? shape.length + 1 + positional[0].value : positional[0].value;
      return this.emitOp('unsqueeze', [x], { kind: 'tensor', shape: [...shape.slice(0, d), 1, ...shape.slice(d)] }, [num(d, true)], new Map(), node);
    }
    if (name === 'chunk') return this.chunk(x, positional, keywords, node);
    if (name === 'swapaxes' || name === 'swapdims') name = 'transpose';
    if ((name === 'transpose' || name === 'permute') && shape) {
      const given = name === 'permute' ? (positional.length === 1 && positional[0].kind === 'seq' ? positional[0].items : positional) : null;
      let perm: number[] | null = null;
      if (given && given.length === shape.length && given.every((p) => p.kind === 'num')) perm = given.map((p) => ((p as { value: number }).value + shape.length) % shape.length);
      if (!given && positional.length === 2 && positional.every((p) => p.kind === 'num')) {
        const [a, b] = positional.map((p) => ((p as { value: number }).value + shape.length) % shape.length);
        perm = shape.map((_, k) => k);
        [perm[a], perm[b]] = [perm[b], perm[a]];
      }
      if (perm) return this.emitOp('transpose', [x], { kind: 'tensor', shape: perm.map((k) => shape[k]) }, perm.map((k) => num(k, true)), new Map(), node);
    }
    if (this.buildingTensors) {
      const built = this.buildTensor(name, [x, ...positional], keywords, node);
      if (built) return built;
    }
    if ((name === 'mean' || name === 'sum' || name === 'amax') && shape) {
      const dimV = positional[0] ?? keywords.get('dim');
      const keep = keywords.get('keepdim');
      const keepdim = keep?.kind === 'bool' && keep.value;
      if (!dimV) return { kind: 'tensor', shape: [] };
      const dims = (dimV.kind === 'seq' ? dimV.items : [dimV]).map((d) => (d.kind === 'num' ? (d.value + shape.length) % shape.length : -1));
      if (dims.includes(-1)) return { kind: 'tensor', shape: null };
      // sum of bools and integers is int64; mean and amax keep the element type (mean of integers is an error).
      const dtype = name === 'sum' && x.dtype && !/^(float|bfloat|complex)/.test(x.dtype) ? 'int64' : name === 'mean' && x.dtype && !/^(float|bfloat|complex)/.test(x.dtype) ? undefined : x.dtype;
      return { kind: 'tensor', shape: keepdim ? shape.map((d, k) => (dims.includes(k) ? 1 : d)) : shape.filter((_, k) => !dims.includes(k)), rf: { global: true }, ...(dtype ? { dtype } : {}) } as ShapedTensor;
    }
    return { kind: 'tensor', shape: null };
  }
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

/** Methods of modules the interpreter follows (module-tree queries, registration, and the ones returning the module). */
const LAYER_METHODS = new Set(['append', 'extend', 'insert', 'add_module', 'register_module', 'register_buffer', 'register_parameter', 'modules', 'children', 'named_children', 'named_modules', 'parameters', 'named_parameters', 'buffers', 'items', 'keys', 'values', 'to', 'cuda', 'cpu', 'eval', 'train', 'float', 'double', 'half', 'requires_grad_', 'apply', 'zero_grad', 'load_state_dict']);

/** The module itself and every module under it, each once (what `model.modules()` yields), Parameters included. */
function moduleTree(root: LayerValue): LayerValue[] {
  const out: LayerValue[] = [];
  const seen = new Set<LayerValue>();
  const walk = (l: LayerValue): void => {
    if (seen.has(l)) return;
    seen.add(l);
    out.push(l);
    for (const [, c] of l.children) walk(c);
  };
  walk(root);
  return out;
}

const dataclassFieldsOf = new WeakMap<ClassValue, Array<[string, Value | undefined]>>();
/** The fields of a dataclass (its own after its bases'), or undefined for a class that is not one. */
function dataclassFields(cls: ClassValue): Array<[string, Value | undefined]> | undefined {
  const own = dataclassFieldsOf.get(cls);
  if (!own) return undefined;
  const inherited = cls.bases.flatMap((b) => (b.kind === 'class' ? dataclassFields(b) ?? [] : []));
  return [...inherited.filter(([n]) => !own.some(([m]) => m === n)), ...own];
}

const torchViews = new WeakMap<LayerValue, LayerValue>();
/** The torch layer a torch-layer subclass instance is, for the shape rules and the lowering (one object per instance). */
function torchView(layer: LayerValue): LayerValue {
  let view = torchViews.get(layer);
  if (!view) {
    view = { kind: 'layer', type: layer.torchType!, category: 'torch', args: layer.args, children: [], own: layer.own, range: layer.range, ...(layer.formula ? { formula: layer.formula } : {}), ...(layer.replaced ? { replaced: layer.replaced } : {}) };
    torchViews.set(layer, view);
  }
  return view;
}

/** Children by name, a module registered under two names once, as `named_children()` yields them. */
function uniqueChildren(l: LayerValue): Array<[string, LayerValue]> {
  const seen = new Set<LayerValue>();
  return l.children.filter(([, c]) => (seen.has(c) ? false : (seen.add(c), true)));
}

function pair(k: string, v: Value): Value {
  return { kind: 'seq', items: [{ kind: 'str', value: k }, v], tuple: true };
}

/** Records requires_grad for one of a layer's own parameters (`*`: all of them). */
function setFrozen(layer: LayerValue, name: string, frozen: boolean): void {
  if (frozen) (layer.frozen ??= new Set()).add(name);
  else if (name === '*') layer.frozen = undefined;
  else if (layer.frozen?.has('*')) {
    // Unfreezing one parameter of a fully frozen layer needs the other names; without them the split is unknown.
    const sizes = ownParamSizes(layer);
    if (sizes) layer.frozen = new Set([...sizes.keys()].filter((k) => k !== name));
    else layer.incomplete ??= `requires_grad of ${layer.type}.${name} is changed on its own`;
  } else layer.frozen?.delete(name);
}

const layerIds = new WeakMap<LayerValue, number>();
let nextLayerId = 0;
function layerId(l: LayerValue): number {
  let id = layerIds.get(l);
  if (id === undefined) layerIds.set(l, (id = nextLayerId++));
  return id;
}

/** isinstance(x, cls) where both are known: torch layers by type, user modules by class, plain values by kind. */
function isInstance(x: Value | undefined, cls: Value | undefined): Value {
  if (!x || !cls) return unknown('isinstance(…)');
  if (cls.kind === 'seq') {
    let any: boolean | null = false;
    for (const c of cls.items) {
      const r = isInstance(x, c);
      if (r.kind !== 'bool') any = any === true ? true : null;
      else if (r.value) any = true;
    }
    return any === null ? unknown('isinstance(…)') : { kind: 'bool', value: any };
  }
  if (cls.kind === 'torchRef') {
    const p = normalize(cls.path);
    const plain: Record<string, string[]> = { 'builtins.int': ['num:int', 'bool'], 'builtins.float': ['num:float'], 'builtins.bool': ['bool'], 'builtins.str': ['str'], 'builtins.list': ['seq:list'], 'builtins.tuple': ['seq:tuple'], 'builtins.dict': ['dict'] };
    if (p in plain) {
      if (x.kind === 'unknown' || x.kind === 'layer' || x.kind === 'tensor') return x.kind === 'unknown' ? unknown('isinstance(…)') : { kind: 'bool', value: false };
      const tag = x.kind === 'num' ? `num:${x.isInt ? 'int' : 'float'}` : x.kind === 'seq' ? `seq:${x.tuple ? 'tuple' : 'list'}` : x.kind;
      return { kind: 'bool', value: plain[p].includes(tag) };
    }
    if (x.kind !== 'layer') return x.kind === 'unknown' ? unknown('isinstance(…)') : { kind: 'bool', value: false };
    if (p === 'torch.nn.Module') return { kind: 'bool', value: true };
    if (!p.startsWith('torch.nn.')) return unknown('isinstance(…)');
    const type = p.slice('torch.nn.'.length);
    if (!isKnownLayer(type) && !CONTAINERS.has(type)) return unknown(`isinstance(…, ${cls.path})`);
    if (x.category === 'user') return x.torchType === type || (x.classRef && containerBase(x.classRef) === type) ? { kind: 'bool', value: true } : x.torchType || (x.classRef && unreadBase(x.classRef)) ? unknown('isinstance(…)') : { kind: 'bool', value: false };
    return { kind: 'bool', value: x.type === type };
  }
  if (cls.kind === 'class') {
    if (x.kind !== 'layer') return x.kind === 'unknown' ? unknown('isinstance(…)') : { kind: 'bool', value: false };
    const derives = (c: ClassValue | undefined): boolean => !!c && (c === cls || c.bases.some((b) => b.kind === 'class' && derives(b)));
    return { kind: 'bool', value: derives(x.classRef) };
  }
  return unknown('isinstance(…)');
}

/** A torch dtype value as a name (`float32`, `int64`), or undefined when it is not one known statically. */
function dtypeName(v: Value): string | undefined {
  if (v.kind === 'tensor') return v.dtype;
  if (v.kind !== 'torchRef') return undefined;
  const names: Record<string, string> = { float: 'float32', float32: 'float32', float64: 'float64', double: 'float64', half: 'float16', float16: 'float16', bfloat16: 'bfloat16', long: 'int64', int64: 'int64', int: 'int32', int32: 'int32', int16: 'int16', int8: 'int8', uint8: 'uint8', bool: 'bool' };
  const m = /^torch\.(\w+)$/.exec(v.path);
  return m ? names[m[1]] : undefined;
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

/** A module value: a layer, container or module instance, not a plain object of a user class. */
function isModuleValue(v: Value): v is LayerValue {
  return v.kind === 'layer' && !v.plain;
}

function describeShort(v: Value): string {
  return v.kind === 'unknown' ? v.reason : v.kind;
}

function containerBaseOf(l: LayerValue): string | undefined {
  return l.classRef ? containerBase(l.classRef) : undefined;
}

/** Evaluates an imported module's top-level statements into `globals` (the ModuleEvaluator of imports.ts). */
export function evaluateImportedModule(tree: { rootNode: unknown }, file: string, importer: Importer, globals: Map<string, Value>): void {
  const interp = new Interpreter(globals);
  interp.importer = importer;
  interp.file = file;
  interp.imported = true;
  globals.set('__file__', { kind: 'str', value: file });
  interp.execModule(tree.rootNode as SyntaxNode);
}

class Budget extends Error {}
class Unresolvable extends Error {}

/** Why `set(…)` is unknown: its iteration order is Python's hash order; `len(set(…))` is read from the items instead. */
const SET_REASON = 'a set (its order is not followed)';
const BUILTINS = new Set(['set', 'range', 'len', 'int', 'float', 'abs', 'round', 'min', 'max', 'sum', 'list', 'tuple', 'enumerate', 'zip', 'reversed', 'isinstance', 'hasattr', 'getattr', 'setattr', 'delattr', 'super', 'print', 'dict', 'str', 'bool', 'object']);

/** Spellings of the same torch path: `nn.X` through an alias is already expanded; this folds submodule paths. */
function normalize(path: string): string {
  return path
    .replace(/^torch\.nn\.modules\.[a-z_]+\./, 'torch.nn.')
    .replace(/^torch\.nn\.functional\./, 'F.')
    .replace(/^torch\.nn\.(parameter\.)?Parameter$/, 'torch.nn.Parameter');
}

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

function pySlice<T>(items: T[], start: number | null, stop: number | null, step: number | null): T[] {
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

/**
 * What a Sequential passes to its first item. When some of its items could not be read, where they sit among the
 * known ones is unknown too, so every shape from here on is unknown (with the reason) rather than computed as if the
 * unread items were absent.
 */
/** How many items `range(size)[a:b:step]` has, with Python's clamping of the bounds (a positive step). */
function pySliceLength(size: number, a: number | null, b: number | null, step: number): number {
  const clamp = (v: number | null, dflt: number): number => (v === null ? dflt : v < 0 ? Math.max(0, size + v) : Math.min(v, size));
  const start = clamp(a, 0);
  const stop = clamp(b, size);
  return stop > start ? Math.ceil((stop - start) / step) : 0;
}

function opaqueInput(layer: LayerValue, input: TensorValue): TensorValue {
  if (!layer.incomplete) return input;
  return { kind: 'tensor', shape: null, unknownBecause: `the ${layer.type} on line ${layer.range.line + 1} has items Layerscope cannot read (${layer.incomplete})` } as ShapedTensor;
}

const COMPARISONS = new Set(['==', '!=', '<', '<=', '>', '>=']);
const COMPARISON_METHODS: Record<string, string> = { eq: '==', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' };
/** Tensor methods that convert to one dtype, by the torch dtype they convert to. */
const CAST_METHODS: Record<string, string> = { float: 'torch.float32', bool: 'torch.bool', long: 'torch.int64', int: 'torch.int32' };

/** A tensor with the same shape (and receptive field and flatten factors) as `x`, as elementwise ops give. */
function sameShape(x: TensorValue): ShapedTensor {
  const rf = (x as ShapedTensor).rf;
  return { kind: 'tensor', shape: x.shape ? [...x.shape] : null, ...(rf ? { rf } : {}), ...(x.factors ? { factors: x.factors } : {}), ...((x as ShapedTensor).positionsMixed ? { positionsMixed: true } : {}), ...(x.dtype ? { dtype: x.dtype } : {}) };
}

/** The result of a cast: `x`'s shape, and the element type the cast target gives (emitOp fills it in), not `x`'s. */
function castShape(x: TensorValue): ShapedTensor {
  const { dtype: _from, ...rest } = sameShape(x);
  return rest;
}

/**
 * What `x.to(…)`, `x.type(…)` or `x.type_as(…)` converts to: a torch dtype, another tensor (whose dtype it takes), or
 * none for a move between devices. `x.to(device)` with a device the interpreter cannot read is a move only when the
 * argument is spelled as a device (`device`, `self.device`, `x.device`, `torch.device('cuda')`); anything else might be
 * a dtype, and stays unknown so that the lowering refuses it instead of guessing.
 */
function castTarget(name: string, positional: Value[], keywords: Map<string, Value>, node: SyntaxNode): Value {
  const dtype = keywords.get('dtype');
  if (dtype) return dtype;
  const argNodes = node.childForFieldName('arguments')?.namedChildren.filter((c) => c !== null && c.type !== 'keyword_argument' && c.type !== 'comment') ?? [];
  for (let k = 0; k < positional.length; k++) {
    const v = positional[k];
    if (v.kind === 'torchRef' || v.kind === 'tensor') return v;
    if (v.kind === 'method' && v.name === 'dtype' && v.target.kind === 'tensor') return v.target;
    if (v.kind === 'str' || v.kind === 'none' || (v.kind === 'method' && v.name === 'device')) continue;
    if (name === 'to' && /(^|\.)device(\(.*\))?$/s.test(argNodes[k]?.text ?? '')) continue;
    return unknown(`${argNodes[k]?.text ?? 'an argument'} is not known to be a device or a dtype`);
  }
  return name === 'to' ? { kind: 'none' } : unknown(`${name}(…) without a dtype`);
}

/** The shape of a literal nested list of numbers and bools, as torch.tensor reads it, or null when it is not one. */
function literalShape(v: Value): Dim[] | null {
  if (v.kind === 'num' || v.kind === 'bool') return [];
  if (v.kind !== 'seq') return null;
  const inner = v.items.map(literalShape);
  if (inner.some((s) => s === null)) return null;
  if (inner.length > 0 && inner.some((s) => s!.join() !== inner[0]!.join())) return null;
  return [v.items.length, ...(inner[0] ?? [])];
}

function fmtShape(s: Dim[] | null): string {
  return s ? s.map((d) => (d === null ? '?' : String(d))).join('×') : '?';
}
