import { UserInputError } from '../errors';
import type { Dim } from '../ir/types';
import { applyTorchLayer, broadcastTensorShapes, carriesPositions, flattenShape, mergeTensorRf, positionsAfterMerge, spatialAxisCount } from './layerShapes';
import type { LayerApplication, ShapedTensor } from './layerShapes';
import { CONTAINERS, bindForwardArgs, bindLayerArgs, forwardInputName, isKnownLayer, layerParams } from './layers';
import { where } from './lowerContext';
import { copyLayer } from './rebase';
import type { SyntaxNode } from './syntax';
import { applyLayerRules } from './layerFragment';
import type { Importer } from './imports';
import { PythonExecution, MAX_DEPTH, MAX_LOOP, dataclassFields, describeShort, pySlice, truthy } from './pythonExecution';
import type { Frame } from './pythonExecution';
import { rangeOf } from './trace';
import type { ForwardEmitter, LayerTrace } from './trace';
import { ownParamSizes } from './params';
import type { ClassValue, LayerValue, ParamRef, SourceRange, TensorFill, TensorValue, Value } from './values';
import { isInt, num, unknown } from './values';
import type { Bound } from './tensorValues';
import { binaryBound, isFloatType, isPoint, monotoneBound, point, toInteger } from './tensorValues';

/**
 * Torch semantics on top of the generic Python evaluation of pythonExecution.ts (as Netron's `pytorch.Execution`
 * extends `python.Execution`): torch.nn constructors and the module tree they build, parameters and buffers with
 * their identity (sharing, tying, deletion, requires_grad), containers, subclasses of torch layers, and forward
 * passes, where tensors are values whose shapes propagate through the core's layer rules. It never runs user code.
 */

export type { Diagnostic, ForwardEmitter, LayerCall, LayerTrace, ScopeObserver } from './trace';
export { RunAbandoned, rangeOf } from './trace';

/** Spellings of the same torch path: `nn.X` through an alias is already expanded; this folds submodule paths. */
export function normalize(path: string): string {
  return path
    .replace(/^torch\.nn\.modules\.[a-z_]+\./, 'torch.nn.')
    .replace(/^torch\.nn\.functional\./, 'F.')
    .replace(/^torch\.nn\.(parameter\.)?Parameter$/, 'torch.nn.Parameter');
}

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

export class Interpreter extends PythonExecution {
  readonly traces = new Map<LayerValue, LayerTrace>();
  emitter?: ForwardEmitter;
  /** The emitter whose run is under way, so that only its outermost call copies the module. */
  private emitting?: ForwardEmitter;
  /** Above 0 while a forward pass runs: what it cannot follow leaves the module's counts alone. */
  private forwardDepth = 0;
  /**
   * The element values of 1-D tensors and arrays built outside forward whose every element is known (np.linspace,
   * RegNet's width arithmetic), by identity, for `.tolist()`; see tensorValues.ts.
   */
  private readonly elements = new WeakMap<TensorValue, Bound[]>();
  /** Above 0 while shapes are propagated for the analysis; forward calls in the file's own code are not traced. */
  private shapingDepth = 0;

  // ---- the hooks of PythonExecution ---------------------------------------------------------------------------

  protected override subscriptObject(v: Value, items: SyntaxNode[], node: SyntaxNode, frame: Frame): Value | undefined {
    return v.kind === 'tensor' ? this.tensorIndex(v, items, node, frame) : undefined;
  }

  /**
   * Whether tensor code runs outside a forward pass and outside the lowering: in `__init__` and the helpers it calls,
   * where tensors are built only to be kept (buffers such as Swin's relative position index). There the interpreter
   * follows the shapes and element types of indexing, meshgrid and elementwise math exactly, without graph ops.
   */
  private get buildingTensors(): boolean {
    return !this.emitter && this.forwardDepth === 0;
  }

  /**
   * `t[:, :, None]`, `t[..., 0]`, `t[1:3]`: the shape and element type of basic indexing, as PyTorch computes them
   * (a slice keeps a dim, with Python's slice length; an int drops it; None inserts a 1; `...` stands for the dims
   * not named). Indexing with a tensor or a value not known statically gives a tensor of unknown shape.
   */
  private tensorIndex(x: TensorValue, items: SyntaxNode[], node: SyntaxNode, frame: Frame): Value {
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
        else if (e.kind === 'tensor' && items.length === 1) return this.gatherIndex(x, e, node);
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
    const result: ShapedTensor = { kind: 'tensor', shape: out, ...(x.dtype ? { dtype: x.dtype } : {}) };
    if (this.buildingTensors) return result;
    // In forward the index becomes graph ops (lower.ts basicIndex), read back from this encoding.
    const encoded = ix.map((i): Value => (i.kind === 'slice' ? { kind: 'seq', items: [{ kind: 'str', value: 'slice' }, ...i.bounds.map((b): Value => (b === null ? { kind: 'none' } : num(b, true)))], tuple: true } : i.kind === 'int' ? num(i.value, true) : i.kind === 'none' ? { kind: 'none' } : { kind: 'str', value: '...' }));
    return this.emitOp('index', [x], result, encoded, new Map(), node);
  }

  /**
   * `table[index]` with one integer tensor (an embedding-style lookup along dim 0, as MaxViT's relative position bias
   * reads its table): the index's shape followed by the table's other dims. A bool mask, or an index whose element
   * type is not known to be an integer, gives a tensor of unknown shape, since a mask keeps a data-dependent count.
   */
  private gatherIndex(x: TensorValue, index: TensorValue, node: SyntaxNode): Value {
    if (!x.shape || !index.shape || x.shape.length === 0 || !index.dtype || !/^u?int/.test(index.dtype)) return { kind: 'tensor', shape: null };
    const out: ShapedTensor = { kind: 'tensor', shape: [...index.shape, ...x.shape.slice(1)], ...(x.dtype ? { dtype: x.dtype } : {}) };
    return this.buildingTensors ? out : this.emitOp('gather', [x, index], out, [], new Map(), node);
  }

  protected override get inForward(): boolean {
    return this.forwardDepth > 0;
  }

  /**
   * A class is a module when a base is one: nn.Module or a container, a torch.nn layer, a module class of the file,
   * or a class from an import Layerscope did not read whose body defines forward (it is counted as unknown then).
   */
  protected isModuleClass(bases: Value[], definesForward: boolean): boolean {
    return bases.some(
      (b) =>
        (b.kind === 'torchRef' && (MODULE_BASES.has(normalize(b.path)) || (normalize(b.path).startsWith('torch.nn.') && isKnownLayer(normalize(b.path).slice('torch.nn.'.length))))) ||
        (b.kind === 'class' && b.isModule) ||
        (definesForward && ((b.kind === 'torchRef' && !PLAIN_BASES.test(normalize(b.path))) || b.kind === 'unknown')),
    );
  }

  protected instantiateClass(fn: ClassValue, positional: Value[], keywords: Map<string, Value>, node: SyntaxNode, splatUnknown?: string): Value {
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

  protected callInstance(obj: LayerValue, positional: Value[], keywords: Map<string, Value>, node: SyntaxNode): Value {
    return this.callLayer(obj, positional, keywords, node);
  }

  /** An nn.Parameter read as a tensor in forward: the shape it was made with, and its graph value when lowering. */
  private parameterTensor(p: LayerValue): TensorValue {
    const data = p.args.get('data');
    const shape = data?.kind === 'tensor' ? data.shape : null;
    const out: TensorValue = { kind: 'tensor', shape: shape ? [...shape] : null, dtype: 'float32', param: { owner: p, name: '*' } };
    if (this.emitter?.parameter && shape && shape.every((d) => typeof d === 'number')) {
      const ir = this.emitter.parameter(p, shape as number[], data?.kind === 'tensor' ? data.fill : undefined);
      if (ir) out.irName = ir;
    }
    return out;
  }

  protected override wildcardNames(moduleName: string, level: number): Array<[string, Value]> | undefined {
    if (moduleName !== 'torch.nn' || level !== 0) return undefined;
    return ['Module', 'Sequential', 'Conv2d', 'Linear'].map((name) => [name, { kind: 'torchRef', path: `torch.nn.${name}` }]);
  }

  protected override iterateObject(v: Value): Value[] | null {
    if (v.kind === 'layer' && (v.category === 'container' || containerBaseOf(v))) {
      if (v.incomplete) return null;
      return v.type === 'ModuleDict' || containerBaseOf(v) === 'ModuleDict' ? v.children.map(([k]) => ({ kind: 'str', value: k })) : v.children.map(([, c]) => c);
    }
    return null;
  }

  protected override setItem(container: Value, key: Value, value: Value): void {
    if (container.kind === 'layer' && container.type === 'ModuleDict' && key.kind === 'str' && isModuleValue(value)) this.addChild(container, key.value, value);
  }

  protected override extendInPlace(op: string, a: Value, b: Value, node: SyntaxNode): boolean {
    if (a.kind !== 'layer' || a.category !== 'container' || op !== '+') return false;
    // `self.layers += [...]` extends a ModuleList in place, as extend does.
    this.extendContainer(a, this.iterate(b), node);
    return true;
  }

  protected override unaryObject(op: string, v: Value, node: SyntaxNode): Value | undefined {
    if (v.kind !== 'tensor') return undefined;
    // -x and ~x are ops of their own in the graph; only +x is x itself.
    return op === '+' ? v : this.emitOp(op === '-' ? 'neg' : 'not', [v], sameShape(v), [], new Map(), node);
  }

  protected override binaryObject(op: string, a: Value, b: Value, node: SyntaxNode): Value | undefined {
    return a.kind === 'tensor' || b.kind === 'tensor' ? this.tensorBinary(op, a, b, node) : undefined;
  }

  protected override compareObject(op: string, a: Value, b: Value, node: SyntaxNode): Value | undefined {
    // A comparison with a tensor is an elementwise bool tensor (masks are made this way), not a Python bool.
    return a.kind === 'tensor' || b.kind === 'tensor' ? this.tensorCompare(op, a, b, node) : undefined;
  }

  protected override sliceObject(v: Value, parts: Array<number | null>): Value | undefined {
    if (v.kind === 'layer' && v.category === 'container') return { ...v, children: pySlice(v.children, parts[0], parts[1], parts[2]) };
    return undefined;
  }

  protected override indexObject(v: Value, idx: Value): Value | undefined {
    if (v.kind === 'layer' && v.category === 'container') {
      if (idx.kind === 'num') {
        const i = idx.value < 0 ? v.children.length + idx.value : idx.value;
        return v.children[i]?.[1] ?? unknown('index out of range', true);
      }
      if (idx.kind === 'str') return v.children.find(([n]) => n === idx.value)?.[1] ?? unknown('no such module', true);
    }
    return undefined;
  }

  protected override attribute(obj: Value, name: string, frame: Frame): Value {
    if (obj.kind === 'tensor') {
      if (name === 'shape') return obj.shape ? { kind: 'seq', items: obj.shape.map((d) => (typeof d === 'number' ? num(d, true) : unknown('a dim'))), tuple: true } : unknown('shape');
      if (name === 'T') return { kind: 'tensor', shape: obj.shape ? [...obj.shape].reverse() : null };
      return { kind: 'method', name, target: obj };
    }
    return super.attribute(obj, name, frame);
  }

  /**
   * A module's sub-modules come first, then what the instance and its class hold, then the torch layer's own. Inside
   * forward an nn.Parameter held directly (`self.cls_token`) is read as the tensor it is.
   */
  protected override instanceAttribute(obj: LayerValue, name: string): Value | undefined {
    const child = obj.children.find(([n]) => n === name);
    if (child) return child[1].type === 'Parameter' && this.forwardDepth > 0 ? this.parameterTensor(child[1]) : child[1];
    const own = super.instanceAttribute(obj, name);
    if (own) return own;
    if ((obj.category === 'torch' || obj.torchType) && obj.args.has(name)) return obj.args.get(name)!;
    if (LAYER_METHODS.has(name)) return { kind: 'method', name, target: obj };
    const param = this.paramOf(obj, name);
    if (param) return param;
    // The lowering builds the model in eval mode (BatchNorm reads its running statistics, Dropout passes through),
    // so forward code that asks sees the same: `F.dropout(x, training=self.training)` passes through too. The
    // lens's shapes are the lowered model's, so its forward passes are in eval mode as well (stochastic depth
    // returns its input; an auxiliary head under `if self.training` is not run).
    if (name === 'training' && (this.emitter || this.shapingDepth > 0)) return { kind: 'bool', value: false };
    return undefined;
  }

  protected override builtin(name: string, positional: Value[], keywords: Map<string, Value>): Value {
    const v = positional[0];
    if (name === 'len' && v?.kind === 'layer' && v.category === 'container') return num(v.children.length, true);
    return super.builtin(name, positional, keywords);
  }

  protected override callMethod(name: string, target: Value, positional: Value[], keywords: Map<string, Value>, node: SyntaxNode, frame: Frame): Value {
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
    if (target.kind === 'layer') return this.layerMethod(name, target, positional, keywords, node, frame);
    if (target.kind === 'tensor') return this.tensorMethod(name, target, positional, keywords, node);
    return super.callMethod(name, target, positional, keywords, node, frame);
  }

  protected deleteItem(obj: LayerValue, idx: Value, t: SyntaxNode): void {
    if (obj.category === 'torch') return;
    if (idx.kind === 'str') this.removeChild(obj, idx.value);
    else if (idx.kind === 'num' && obj.type !== 'ModuleDict') {
      const items = obj.children.map(([, c]) => c);
      items.splice(idx.value < 0 ? items.length + idx.value : idx.value, 1);
      obj.children = items.map((c, k) => [String(k), c]);
    } else obj.incomplete ??= `${this.lineOf(t)}: del ${t.text} is not known statically`;
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

  protected setSelfAttr(self: LayerValue, attr: string, value: Value, where: SyntaxNode): void {
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

  protected override callExternal(spelled: string, positional: Value[], keywords: Map<string, Value>, node: SyntaxNode, splatUnknown?: string): Value {
    const path = normalize(spelled);
    if (path === 'torch.nn.Transformer.generate_square_subsequent_mask') {
      // PyTorch 1.13 builds it as torch.triu(torch.full((sz, sz), float('-inf')), diagonal=1), and so does this.
      const size = positional[0] ?? keywords.get('sz') ?? unknown('the mask size');
      const full = this.callExternal('torch.full', [{ kind: 'seq', items: [size, size], tuple: true }, num(-Infinity, false)], new Map(), node);
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
        // The tensor it wraps stays readable as `p.data`, and gives the shape forward reads it with (parameterTensor).
        return { kind: 'layer', type: 'Parameter', category: 'torch', args: new Map(t?.kind === 'tensor' ? [['data', t]] : []), children: [], own: p === null ? null : { params: p, trainable: trainable ? p : 0, buffers: 0 }, range, formula: p === null ? undefined : `Parameter: ${(t as TensorValue).shape!.join('·')} = ${p.toLocaleString('en-US')}`, reason: p === null ? `${range.file ? 'a Parameter' : `line ${range.line + 1}`}: the Parameter's shape is not known statically` : undefined } as LayerValue;
      }
      if (CONTAINERS.has(type)) return this.container(type, positional, keywords, range, splatUnknown);
      if (type === 'TransformerEncoder' || type === 'TransformerDecoder') return this.transformerStack(type, positional, keywords, range, splatUnknown);
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
    if (path === 'builtins.setattr' || path === 'builtins.getattr' || path === 'builtins.delattr' || path === 'builtins.hasattr') return this.attrBuiltin(path.slice(9), positional, node);
    if (path === 'builtins.isinstance') return isInstance(positional[0], positional[1]);
    if (/^torch\.(zeros|ones|full|randn|rand|empty|Tensor|FloatTensor)$/.test(path)) {
      const fname = path.slice('torch.'.length);
      const sizeArgs = fname === 'full' ? [positional[0] ?? keywords.get('size') ?? unknown('size')] : positional.length === 0 && keywords.has('size') ? [keywords.get('size')!] : positional;
      const dims = sizeArgs.length === 1 && sizeArgs[0].kind === 'seq' ? sizeArgs[0].items : sizeArgs;
      const dtypeV = keywords.get('dtype');
      const dtype = dtypeV ? dtypeName(dtypeV) : 'float32';
      const fillV = fname === 'full' ? positional[1] ?? keywords.get('fill_value') : undefined;
      const fill: TensorFill | undefined = fname === 'zeros' ? { constant: 0 } : fname === 'ones' ? { constant: 1 } : fname === 'randn' ? { normal: 1 } : fname === 'rand' ? { uniform: [0, 1] } : fillV?.kind === 'num' ? { constant: fillV.value } : undefined;
      const out: ShapedTensor = { kind: 'tensor', shape: dims.map((d) => (d.kind === 'num' && d.isInt ? d.value : null)), ...(dtype ? { dtype } : {}), ...(fill !== undefined ? { fill } : {}) };
      // Only constant fills become graph values; random and uninitialised tensors have no value the graph could hold.
      if (fname === 'zeros' || fname === 'ones') return this.emitOp(fname, [], out, [], keywords, node);
      if (fname === 'full') return this.emitOp('full', [], out, [fillV ?? unknown('fill_value')], keywords, node);
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
    if (path === 'numpy.linspace') return this.linspace(positional, keywords);
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
    return super.callExternal(path, positional, keywords, node, splatUnknown);
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

  /**
   * nn.TransformerEncoder(layer, num_layers, norm) and nn.TransformerDecoder: PyTorch deep-copies the layer num_layers
   * times into `layers` (a ModuleList; the layer passed in is not registered) and keeps `norm`; forward runs the
   * copies in turn with the masks, then the norm (runStack).
   */
  private transformerStack(type: string, positional: Value[], keywords: Map<string, Value>, range: SourceRange, splatUnknown?: string): LayerValue {
    const stack: LayerValue = { kind: 'layer', type, category: 'container', args: new Map(), children: [], own: { params: 0, trainable: 0, buffers: 0 }, range };
    this.observer?.citedLine(range.line);
    const at = `line ${range.line + 1}`;
    const names = [type === 'TransformerEncoder' ? 'encoder_layer' : 'decoder_layer', 'num_layers', 'norm', 'enable_nested_tensor', 'mask_check'];
    const arg = (k: number): Value | undefined => positional[k] ?? keywords.get(names[k]);
    const extra = [...keywords.keys()].find((k) => !names.includes(k)) ?? (positional.length > names.length ? `argument ${names.length + 1}` : undefined);
    const [layer, count, norm] = [arg(0), arg(1), arg(2) ?? ({ kind: 'none' } as Value)];
    if (splatUnknown || extra) {
      stack.incomplete = `${at}: nn.${type}(…): ${splatUnknown ?? `${extra} is not one of its arguments`}`;
      return stack;
    }
    if (!layer || !isModuleValue(layer)) {
      stack.incomplete = `${at}: the layer of nn.${type} is ${layer?.kind === 'unknown' ? layer.reason : 'not a module known statically'}`;
      return stack;
    }
    if (!isInt(count) || count.value < 0 || count.value > MAX_LOOP) {
      stack.incomplete = `${at}: num_layers of nn.${type} is ${count?.kind === 'unknown' ? count.reason : 'not an integer known statically'}`;
      return stack;
    }
    const layers: LayerValue = { kind: 'layer', type: 'ModuleList', category: 'container', args: new Map(), children: [], own: { params: 0, trainable: 0, buffers: 0 }, range };
    for (let k = 0; k < count.value; k++) layers.children.push([String(k), copyLayer(layer)]);
    stack.children.push(['layers', layers]);
    if (isModuleValue(norm)) stack.children.push(['norm', norm]);
    else if (norm.kind !== 'none') stack.incomplete = `${at}: the norm of nn.${type} is ${norm.kind === 'unknown' ? norm.reason : 'not a module known statically'}`;
    return stack;
  }

  /**
   * The forward of nn.TransformerEncoder (src, mask, src_key_padding_mask) and nn.TransformerDecoder (tgt, memory and
   * their masks), as PyTorch 1.13 writes it: each copy of the layer in turn, given the masks by name, then the norm.
   */
  private runStack(stack: LayerValue, positional: Value[], keywords: Map<string, Value>, node: SyntaxNode): Value {
    const encoder = stack.type === 'TransformerEncoder';
    const params = encoder ? ['src', 'mask', 'src_key_padding_mask'] : ['tgt', 'memory', 'tgt_mask', 'memory_mask', 'tgt_key_padding_mask', 'memory_key_padding_mask'];
    const given = new Map<string, Value>();
    for (let k = 0; k < positional.length; k++) {
      if (k >= params.length) return { kind: 'tensor', shape: null, unknownBecause: `${this.lineOf(node)}: nn.${stack.type} takes ${params.length} arguments` } as ShapedTensor;
      given.set(params[k], positional[k]);
    }
    for (const [k, v] of keywords) {
      if (!params.includes(k)) return { kind: 'tensor', shape: null, unknownBecause: `${this.lineOf(node)}: nn.${stack.type} has no argument '${k}'` } as ShapedTensor;
      given.set(k, v);
    }
    const input = given.get(params[0]);
    if (!input || input.kind !== 'tensor') return { kind: 'tensor', shape: null };
    const masks = new Map<string, Value>();
    for (const [k, v] of given) {
      if (k === params[0] || k === 'memory' || v.kind === 'none') continue;
      masks.set(encoder ? (k === 'mask' ? 'src_mask' : k) : k, v);
    }
    if (stack.incomplete) return opaqueInput(stack, input);
    let x: Value = input;
    const layers = stack.children.find(([n]) => n === 'layers')?.[1];
    for (const [, layer] of layers?.children ?? []) {
      x = this.callLayer(layer, encoder ? [x] : [x, given.get('memory') ?? { kind: 'none' }], masks, node);
      if (x.kind !== 'tensor') return { kind: 'tensor', shape: null };
    }
    const norm = stack.children.find(([n]) => n === 'norm')?.[1];
    if (norm) x = this.callLayer(norm, [x], new Map(), node);
    if (x.kind === 'tensor') this.trace(stack, input, x as ShapedTensor, { output: x as ShapedTensor, macs: null });
    return x;
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
    // Forward reads it back as `self.name` (a mask, an index table), with the shape and dtype it was registered with.
    target.attrs?.set(nameV.value, { kind: 'tensor', shape: [...tensor.shape], dtype: tensor.dtype });
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
  protected setAttr(obj: Value, attr: string, value: Value, where: SyntaxNode): void {
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

  protected deleteAttr(obj: LayerValue, attr: string, where: SyntaxNode): void {
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
      if (layer.type === 'TransformerEncoder' || layer.type === 'TransformerDecoder') return this.runStack(layer, positional, keywords, node);
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
    let app = applyLayerRules(layer, input as ShapedTensor, bound.args, rangeOf(node));
    // The input's positions were moved by an op without a field rule: this layer's field is not followed either.
    if ((input as ShapedTensor).rfLost) app = { ...app, output: fieldLost(app.output) };
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
    // An operand the interpreter could not evaluate may be a tensor, whose shape would broadcast with this one's; so may
    // any other value that is not a plain number (a module, a list: PyTorch turns some into tensors, refuses others).
    if (other?.kind === 'unknown') return { kind: 'tensor', shape: null, unknownBecause: `${this.lineOf(node)}: ${other.reason}` } as ShapedTensor;
    if (other && other.kind !== 'num' && other.kind !== 'bool') return { kind: 'tensor', shape: null, unknownBecause: `${this.lineOf(node)}: ${op} of a tensor and a ${other.kind === 'layer' ? other.type : other.kind}` } as ShapedTensor;
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
    const operands = [ta, tb].filter((t): t is ShapedTensor => t !== null);
    // A tensor whose field is not followed passes that on; otherwise the fields merge by the core's rule.
    if (operands.some((t) => t.rfLost)) out.rfLost = true;
    else {
      const rf = mergeTensorRf(operands, shape);
      if (rf) out.rf = rf;
    }
    const fill = this.buildingTensors && other?.kind === 'num' ? scaledFill((ta ?? tb)!.fill, op, other.value, ta !== null) : undefined;
    if (fill) out.fill = fill;
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
    out = fieldAfterOp(name, inputs as ShapedTensor[], out, args);
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
    if (fname === 'einsum') return this.einsum(positional, node);
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
    if (/^(transpose|swapaxes|swapdims|permute|reshape|unsqueeze|chunk|split)$/.test(fname)) return this.tensorMethod(fname, x, positional.slice(1), keywords, node);
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
    if (fname === 'pow') {
      // torch.pow(x, e): the ** operator's shape, element type and lowering.
      const e = positional[1] ?? keywords.get('exponent');
      return e ? this.tensorBinary('**', x, e, node) : unknown(`${this.lineOf(node)}: torch.pow without an exponent`);
    }
    if (/^(zeros|ones|full|randn|rand|empty)_like$/.test(fname)) return this.like(fname, x, positional, keywords, node);
    if ((fname === 'mean' || fname === 'sum' || fname === 'amax') && positional.length <= 3) return this.tensorMethod(fname, x, positional.slice(1), keywords, node);
    if (/^(relu|relu6|gelu|silu|sigmoid|tanh|elu|selu|leaky_relu|hardswish|hardsigmoid|mish|softplus|dropout|dropout2d|softmax|log_softmax|relu_|sigmoid_|tanh_|abs|exp|log|sqrt|rsqrt|reciprocal|square|sin|cos|erf|neg|clamp|clip|hardtanh)$/.test(fname)) {
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
    const sizes: number[] = [];
    for (let start = 0; start < size; start += step) sizes.push(Math.min(size, start + step) - start);
    return this.slices(x, dim, sizes, node);
  }

  /**
   * `x.split(n, dim)` (pieces of n, the last smaller) and `x.split([a, b], dim)` (pieces of those sizes, which must add
   * up to the dim), as torch.split does; unknown unless that dim's size is known.
   */
  private split(x: TensorValue, positional: Value[], keywords: Map<string, Value>, node: SyntaxNode): Value {
    const by = positional[0] ?? keywords.get('split_size_or_sections') ?? keywords.get('split_size');
    const dimV = positional[1] ?? keywords.get('dim') ?? num(0, true);
    const shape = x.shape;
    if (!shape || !by || !isInt(dimV) || dimV.value >= shape.length || dimV.value < -shape.length) return unknown(`${this.lineOf(node)}: split(…) of a tensor whose shape is not known statically`);
    const dim = dimV.value < 0 ? shape.length + dimV.value : dimV.value;
    const size = shape[dim];
    if (typeof size !== 'number') return unknown(`${this.lineOf(node)}: split(…) along a dim whose size is not known statically`);
    let sizes: number[];
    if (isInt(by) && by.value > 0) {
      sizes = [];
      for (let start = 0; start < size; start += by.value) sizes.push(Math.min(size, start + by.value) - start);
      if (size === 0) sizes = [0];
    } else if (by.kind === 'seq' && by.items.every(isInt)) {
      sizes = by.items.map((v) => (v as { value: number }).value);
      if (sizes.some((n) => n < 0) || sizes.reduce((a, b) => a + b, 0) !== size) {
        this.diagnostics.push({ range: rangeOf(node), message: `split(${sizes.join(', ')}) of a dim of size ${size}: the sizes must add up to it` });
        return unknown(`${this.lineOf(node)}: split sizes that do not add up to the dim`);
      }
    } else return unknown(`${this.lineOf(node)}: split(…) with sizes not known statically`);
    return this.slices(x, dim, sizes, node);
  }

  /** Consecutive pieces of `x` along `dim` of the given sizes, each a slice of the graph (lowered as Slice). */
  private slices(x: TensorValue, dim: number, sizes: number[], node: SyntaxNode): Value {
    const parts: Value[] = [];
    let start = 0;
    for (const n of sizes) {
      const out: ShapedTensor = { kind: 'tensor', shape: x.shape!.map((d, k) => (k === dim ? n : d)), ...(x.dtype ? { dtype: x.dtype } : {}) };
      parts.push(this.emitOp('slice', [x], out, [num(dim, true), num(start, true), num(start + n, true)], new Map(), node));
      start += n;
    }
    return { kind: 'seq', items: parts, tuple: true };
  }

  /** Records a tensor's element values when every one is known. */
  private setElements(t: TensorValue, els: Array<Bound | null> | undefined): void {
    if (els && els.every((e): e is Bound => e !== null)) this.elements.set(t, els);
  }

  /**
   * torch.einsum(equation, *operands) (or the operands as one list): each letter stands for one dim, which every
   * operand that has it must agree on; the output has the letters after `->`, or without one the letters used once,
   * in alphabetical order, as PyTorch does. Equations with `...` give an unknown shape.
   */
  private einsum(positional: Value[], node: SyntaxNode): Value {
    const [eqV, ...rest] = positional;
    const operands = rest.length === 1 && rest[0].kind === 'seq' ? rest[0].items : rest;
    const opaque: TensorValue = { kind: 'tensor', shape: null };
    if (eqV?.kind !== 'str' || !operands.every((t) => t.kind === 'tensor')) return opaque;
    const eq = eqV.value.replace(/\s+/g, '');
    if (eq.includes('.') || !/^[a-zA-Z,]+(->[a-zA-Z]*)?$/.test(eq)) return opaque;
    const [lhs, rhs] = eq.split('->');
    const terms = lhs.split(',');
    const tensors = operands as TensorValue[];
    if (terms.length !== tensors.length) return opaque;
    const dims = new Map<string, Dim>();
    const counts = new Map<string, number>();
    for (let k = 0; k < terms.length; k++) {
      const shape = tensors[k].shape;
      if (!shape || shape.length !== terms[k].length) return opaque;
      for (let j = 0; j < shape.length; j++) {
        const letter = terms[k][j];
        counts.set(letter, (counts.get(letter) ?? 0) + 1);
        const had = dims.get(letter);
        if (had === undefined || had === null) dims.set(letter, shape[j]);
        else if (shape[j] !== null && shape[j] !== had) {
          this.diagnostics.push({ range: rangeOf(node), message: `einsum '${eqV.value}': ${letter} is ${had} in one operand and ${shape[j]} in another` });
          return opaque;
        }
      }
    }
    const outLetters = rhs ?? [...counts.keys()].filter((l) => counts.get(l) === 1).sort().join('');
    if (new Set(outLetters).size !== outLetters.length || [...outLetters].some((l) => !dims.has(l))) return opaque;
    const dtype = tensors.every((t) => t.dtype === tensors[0].dtype) ? tensors[0].dtype : undefined;
    return this.emitOp('einsum', tensors, { kind: 'tensor', shape: [...outLetters].map((l) => dims.get(l)!), ...(dtype ? { dtype } : {}) }, [eqV], new Map(), node);
  }

  /**
   * `torch.zeros_like(x)` and the like: x's shape and element type, or the dtype asked for. Constant fills become graph
   * values; random and uninitialised ones have no value the graph could hold, so a lowering that reads them refuses.
   */
  private like(fname: string, x: TensorValue, positional: Value[], keywords: Map<string, Value>, node: SyntaxNode): Value {
    const kind = fname.slice(0, -'_like'.length);
    const dtypeV = keywords.get('dtype');
    const dtype = dtypeV && dtypeV.kind !== 'none' ? dtypeName(dtypeV) : x.dtype;
    const out: ShapedTensor = { kind: 'tensor', shape: x.shape ? [...x.shape] : null, ...(dtype ? { dtype } : {}) };
    const fill = kind === 'full' ? positional[1] ?? keywords.get('fill_value') : undefined;
    // The lowering builds the fill in the element type asked for, which for *_like is x's unless dtype= says otherwise.
    const typed = new Map(keywords);
    if (!dtypeV && x.dtype) typed.set('dtype', { kind: 'torchRef', path: `torch.${x.dtype}` });
    if (kind === 'zeros' || kind === 'ones') return this.emitOp(kind, [], out, [], typed, node);
    if (kind === 'full') return fill ? this.emitOp('full', [], out, [fill], typed, node) : unknown(`${this.lineOf(node)}: full_like without a fill value`);
    return out;
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
    if (['relu', 'sigmoid', 'tanh', 'relu_', 'sigmoid_', 'tanh_', 'softmax', 'log_softmax', 'exp', 'abs', 'neg', 'sqrt', 'rsqrt', 'reciprocal', 'square', 'sin', 'cos', 'erf', 'clamp', 'pow'].includes(name)) {
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
    if (name === 'split') return this.split(x, positional, keywords, node);
    if (name === 'expand' && shape) {
      // x.expand(B, -1, -1): -1 keeps a dim; new leading dims may be added; a dim of 1 may grow, others must match.
      const sizes = positional.length === 1 && positional[0].kind === 'seq' ? positional[0].items : positional;
      if (sizes.length < shape.length || keywords.size > 0 || !sizes.every(isInt)) return { kind: 'tensor', shape: null };
      const lead = sizes.length - shape.length;
      const out: Dim[] = [];
      for (let k = 0; k < sizes.length; k++) {
        const want = (sizes[k] as { value: number }).value;
        const have = k >= lead ? shape[k - lead] : undefined;
        if (want === -1) {
          if (have === undefined) return { kind: 'tensor', shape: null };
          out.push(have);
        } else if (have === undefined || have === 1 || have === want) out.push(want);
        else if (have === null) out.push(want);
        else {
          this.diagnostics.push({ range: rangeOf(node), message: `expand(${sizes.map((v) => (v as { value: number }).value).join(', ')}) of a tensor of shape ${fmtShape(shape)}: dim ${k} is ${have}, not 1 or ${want}` });
          return { kind: 'tensor', shape: null };
        }
      }
      return this.emitOp('expand', [x], { kind: 'tensor', shape: out }, [], new Map(), node);
    }
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
      const dimV = positional[0] ?? keywords.get('dim') ?? { kind: 'none' };
      // keepdim may be passed by position too: x.mean(-1, True).
      const keep = positional[1] ?? keywords.get('keepdim') ?? { kind: 'bool', value: false };
      if (keep.kind !== 'bool' || positional.length > 2 || [...keywords.keys()].some((k) => k !== 'dim' && k !== 'keepdim')) return { kind: 'tensor', shape: null };
      const keepdim = keep.value;
      const given = dimV.kind === 'none' ? shape.map((_, k) => num(k, true)) : dimV.kind === 'seq' ? dimV.items : [dimV];
      if (given.some((d) => !isInt(d) || d.value >= shape.length || d.value < -shape.length)) return { kind: 'tensor', shape: null };
      const dims = given.map((d) => ((d as { value: number }).value + shape.length) % shape.length);
      // sum of bools and integers is int64; mean and amax keep the element type (mean of integers is an error).
      const dtype = name === 'sum' && x.dtype && !/^(float|bfloat|complex)/.test(x.dtype) ? 'int64' : name === 'mean' && x.dtype && !/^(float|bfloat|complex)/.test(x.dtype) ? undefined : x.dtype;
      const out = { kind: 'tensor', shape: keepdim ? shape.map((d, k) => (dims.includes(k) ? 1 : d)) : shape.filter((_, k) => !dims.includes(k)), ...reducedField(x as ShapedTensor, dims, keepdim), ...(dtype ? { dtype } : {}) } as ShapedTensor;
      return this.emitOp(`reduce_${name}`, [x], out, [num(keepdim ? 1 : 0, true), ...dims.map((d) => num(d, true))], new Map(), node);
    }
    return { kind: 'tensor', shape: null };
  }
}

/**
 * A fill after `t op n` (or `n op t` when the tensor is on the right) with a Python number: constants follow the
 * arithmetic; a normal draw scales by |n| (`torch.randn(…) * 0.02`); a uniform draw scales and shifts. Undefined where
 * the result is not one of those (a normal draw shifted, a division of a number by a draw).
 */
function scaledFill(fill: TensorFill | undefined, op: string, n: number, tensorLeft: boolean): TensorFill | undefined {
  if (!fill || !Number.isFinite(n)) return undefined;
  if ('constant' in fill) {
    const [a, b] = tensorLeft ? [fill.constant, n] : [n, fill.constant];
    const v = op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : op === '/' && b !== 0 ? a / b : NaN;
    return Number.isFinite(v) ? { constant: v } : undefined;
  }
  const scale = op === '*' ? n : op === '/' && tensorLeft && n !== 0 ? 1 / n : null;
  if ('normal' in fill) return scale !== null ? { normal: fill.normal * Math.abs(scale) } : undefined;
  const [lo, hi] = fill.uniform;
  if (scale !== null) return { uniform: scale >= 0 ? [lo * scale, hi * scale] : [hi * scale, lo * scale] };
  if (op === '+') return { uniform: [lo + n, hi + n] };
  if (op === '-' && tensorLeft) return { uniform: [lo - n, hi - n] };
  if (op === '-') return { uniform: [n - hi, n - lo] };
  return undefined;
}

/**
 * The receptive field after an op, where the op's own rule set none: a slice along the batch or channel axis keeps
 * the input's field (as the core's rule for Slice does); an op with no inputs (a constant) has none; any other op on a
 * tensor whose units stand for positions loses it (rfLost), as does an op that makes image-like positions out of a
 * tensor without them, and anything computed from a tensor that lost it.
 */
function fieldAfterOp(name: string, inputs: ShapedTensor[], out: ShapedTensor, args: Value[]): ShapedTensor {
  if (inputs.some((t) => t.rfLost)) return fieldLost(out);
  if (out.rf || out.positionsMixed || out.rfLost || inputs.length === 0) return out;
  const x = inputs[0];
  const rank = x.shape?.length ?? 0;
  if (!inputs.some((t) => carriesPositions(t, t.shape?.length ?? 0))) {
    // A view or expand that makes an image-like tensor out of one whose units are not positions (a Linear's output
    // viewed as [B, C, 7, 7]): its "positions" are not the input's, so later layers have no field to show.
    return (out.shape?.length ?? 0) >= 4 ? { ...out, rfLost: true } : out;
  }
  const axis = args[0]?.kind === 'num' ? args[0].value : -1;
  if (name === 'slice' && inputs.length === 1 && rank >= 3 && axis >= 0 && axis < 2) return { ...out, ...(x.rf ? { rf: x.rf } : {}), ...(x.positionsMixed ? { positionsMixed: true } : {}) };
  return { ...out, rfLost: true };
}

/** `t` with its receptive field marked as not followed (and no field or mixed positions of its own). */
function fieldLost(t: ShapedTensor): ShapedTensor {
  const { rf: _rf, positionsMixed: _mixed, ...rest } = t;
  return { ...rest, rfLost: true };
}

/**
 * The receptive field after a mean, sum or amax over `dims`: every position seen (global) when the reduction covers
 * all the spatial axes, the input's own field when it covers none of them and keeps the rank, not followed otherwise.
 */
function reducedField(x: ShapedTensor, dims: number[], keepdim: boolean): Partial<ShapedTensor> {
  const rank = x.shape?.length ?? 0;
  if (x.rfLost) return { rfLost: true };
  if (x.rf && 'global' in x.rf) return { rf: x.rf };
  if (!carriesPositions(x, rank)) return {};
  if (x.positionsMixed) return { rfLost: true };
  const spatial = spatialAxisCount(x, rank);
  const axes = Array.from({ length: spatial }, (_, k) => rank - spatial + k);
  if (axes.every((a) => dims.includes(a))) return { rf: { global: true } };
  if (keepdim && !axes.some((a) => dims.includes(a))) return x.rf ? { rf: x.rf } : {};
  return { rfLost: true };
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

/** A module value: a layer, container or module instance, not a plain object of a user class. */
function isModuleValue(v: Value): v is LayerValue {
  return v.kind === 'layer' && !v.plain;
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

/** How many items `range(size)[a:b:step]` has, with Python's clamping of the bounds (a positive step). */
function pySliceLength(size: number, a: number | null, b: number | null, step: number): number {
  const clamp = (v: number | null, dflt: number): number => (v === null ? dflt : v < 0 ? Math.max(0, size + v) : Math.min(v, size));
  const start = clamp(a, 0);
  const stop = clamp(b, size);
  return stop > start ? Math.ceil((stop - start) / step) : 0;
}

/**
 * What a Sequential passes to its first item. When some of its items could not be read, where they sit among the
 * known ones is unknown too, so every shape from here on is unknown (with the reason) rather than computed as if the
 * unread items were absent.
 */
function opaqueInput(layer: LayerValue, input: TensorValue): TensorValue {
  if (!layer.incomplete) return input;
  return { kind: 'tensor', shape: null, unknownBecause: `the ${layer.type} on line ${layer.range.line + 1} has items Layerscope cannot read (${layer.incomplete})` } as ShapedTensor;
}

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
