import { UserInputError } from '../../errors';
import { DEFAULT_MAX_NODES } from '../../limits';
import type { AnalysisWarning, ConstValue, ShapeInferenceOptions, ShapeInferenceResult } from '../types';
import type { Attribute, DataType, Dim, FunctionDef, Graph, Node, OpsetImport, Shape, TensorType, ValueType } from '../../ir/types';
import { formatShape } from './dims';
import { ShapeMismatch } from './mismatch';
import { numericValues, toConstValue, valueFromTensor, type PartialValue } from './partialValue';
import type { ShapeRule, ShapeRuleContext } from './ruleContext';
import { shapeRules, microsoftShapeRules, trainingShapeRules } from './registry';
import { orderNodes } from './nodeOrder';
import { formatCount } from '../../format';

/**
 * The driver of shape inference: walks a graph in topological order, runs each node's rule, reconciles the result
 * with the types the file declares (value_info), and collects warnings. It is linear in the number of nodes: every
 * lookup is a map access and warnings about unknown ops are aggregated per op type.
 */

export interface InferGraphOptions extends ShapeInferenceOptions {
  /** Model-local functions, inlined at their call sites. */
  functions?: readonly FunctionDef[];
}

/**
 * Thrown when inference would inline more function body nodes than its budget (a body counts once per call site that
 * cannot reuse an earlier result). Rules' errors become warnings; this one must end the analysis.
 */
export class InferenceBudgetError extends UserInputError {}

const DEFAULT_MAX_FOLD = 4096;
const MAX_VALUE_INFO_WARNINGS = 20;
const MAX_FUNCTION_DEPTH = 16;

/** Names, types and folded values visible at one graph level; subgraphs see their parents' values. */
class Scope {
  readonly types = new Map<string, TensorType>();
  readonly values = new Map<string, PartialValue>();
  constructor(readonly parent?: Scope) {}

  type(name: string): TensorType | undefined {
    return this.types.get(name) ?? this.parent?.type(name);
  }

  value(name: string): PartialValue | undefined {
    return this.values.get(name) ?? this.parent?.value(name);
  }
}

function isDefaultDomain(domain: string): boolean {
  return domain === '' || domain === 'ai.onnx';
}

function tensorTypeOf(t: ValueType | null | undefined): TensorType | undefined {
  return t && (t.kind === 'tensor' || t.kind === 'sparseTensor') ? t.tensor : undefined;
}

function opsetMap(imports: readonly OpsetImport[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const o of imports) m.set(isDefaultDomain(o.domain) ? '' : o.domain, o.version);
  return m;
}

type Result = { dtype: DataType; shape: Shape; value?: PartialValue } | undefined;
type Results = Array<{ dtype: DataType; shape: Shape; value?: PartialValue } | undefined>;

/**
 * The context a rule sees. It is a class rather than an object of closures because it is created once per node, and
 * a 100,000-node graph should not allocate a dozen functions per node.
 */
class NodeContext implements ShapeRuleContext {
  readonly maxFoldElements: number;
  readonly inputCount: number;
  readonly outputCount: number;

  constructor(
    private readonly inf: Inferencer,
    readonly node: Node,
    readonly opset: number,
    private readonly scope: Scope,
    private readonly results: Results,
  ) {
    this.maxFoldElements = inf.maxFold;
    this.inputCount = node.inputs.length;
    this.outputCount = node.outputs.length;
  }

  has(i: number): boolean {
    return i < this.node.inputs.length && this.node.inputs[i] !== '';
  }

  wants(i: number): boolean {
    return i < this.node.outputs.length && this.node.outputs[i] !== '';
  }

  type(i: number): TensorType | undefined {
    const name = this.node.inputs[i];
    return name ? this.scope.type(name) : undefined;
  }

  shape(i: number): Dim[] | null {
    return this.type(i)?.shape ?? null;
  }

  dtype(i: number): DataType {
    return this.type(i)?.dtype ?? 'undefined';
  }

  value(i: number): PartialValue | undefined {
    const name = this.node.inputs[i];
    return name ? this.scope.value(name) : undefined;
  }

  ints(i: number): number[] | undefined {
    return numericValues(this.value(i));
  }

  set(i: number, dtype: DataType, shape: Shape, value?: PartialValue): void {
    if (i >= this.results.length) return;
    const small = value && value.values.length <= this.maxFoldElements ? value : undefined;
    this.results[i] = small ? { dtype, shape, value: small } : { dtype, shape };
  }

  warn(code: string, message: string): void {
    this.inf.warn(code, `${this.node.opType} node '${this.node.name || this.node.opType}': ${message}`, this.node.name);
  }

  inferSubgraph(graph: Graph, inputs: ReadonlyArray<TensorType | undefined>): Array<TensorType | undefined> {
    return this.inf.inferSubgraph(graph, inputs, this.scope, new Map([['', this.opset]]));
  }
}

class Inferencer {
  readonly warnings: AnalysisWarning[] = [];
  private readonly unknownOps = new Map<string, { count: number; first: string; message: string }>();
  private valueInfoWarnings = 0;
  private readonly functions = new Map<string, FunctionDef>();
  private depth = 0;
  /** Function body nodes inlined so far (calls answered from callResults cost nothing), against `maxNodes`. */
  private visited = 0;
  /** Results of function calls by signature (function, input types and values, attributes), so a call is inferred once. */
  private readonly callResults = new Map<string, Result[]>();
  /** Functions being inlined right now: a call to one of them is recursion, which ONNX forbids. */
  private readonly active = new Set<string>();
  /** Stable ids for tensor and graph attributes, which are keyed by identity rather than printed. */
  private readonly objectIds = new WeakMap<object, number>();
  private nextObjectId = 0;

  constructor(
    readonly maxFold: number,
    functions: readonly FunctionDef[],
    private readonly maxNodes: number,
  ) {
    for (const fn of functions) this.functions.set(`${fn.domain}\u0000${fn.name}`, fn);
  }

  private charge(count: number): void {
    this.visited += count;
    if (this.visited > this.maxNodes) {
      const limit = formatCount(this.maxNodes);
      throw new InferenceBudgetError(
        `shape inference would inline more than ${limit} nodes of model-local functions (limit ${limit}); raise it with --max-nodes N or the layerscope.maxNodes setting`,
      );
    }
  }

  warn(code: string, message: string, node?: string): void {
    const w: AnalysisWarning = { code, message };
    if (node) w.node = node;
    this.warnings.push(w);
  }

  /** Warnings about unknown ops, one per op type with a count, appended once the walk is done. */
  flushUnknownOps(): void {
    for (const [, u] of this.unknownOps) {
      const times = u.count === 1 ? '1 node' : `${u.count} nodes`;
      this.warn('unknown-op', `${u.message} (${times}); their outputs have unknown shapes`, u.first);
    }
    this.unknownOps.clear();
  }

  private unknownOp(node: Node, message: string): void {
    const key = `${node.domain}\u0000${node.opType}`;
    const u = this.unknownOps.get(key);
    if (u) u.count++;
    else this.unknownOps.set(key, { count: 1, first: node.name, message });
  }

  /** Runs a list of nodes, already in an order where producers come first. */
  runNodes(nodes: readonly Node[], scope: Scope, opsets: Map<string, number>, declared: Map<string, TensorType>): void {
    for (const node of nodes) this.inferNode(node, scope, opsets, declared);
  }

  inferNode(node: Node, scope: Scope, opsets: Map<string, number>, declared: Map<string, TensorType>): void {
    const results: Results = new Array(node.outputs.length);
    const label = node.name || node.opType;
    const fn = this.functions.get(`${node.domain}\u0000${node.opType}`);
    let rule: ShapeRule | undefined;
    if (isDefaultDomain(node.domain)) rule = shapeRules.get(node.opType);
    else if (node.domain === 'com.microsoft') rule = microsoftShapeRules.get(node.opType);
    else if (node.domain === 'ai.onnx.preview.training') rule = trainingShapeRules.get(node.opType);
    const opset = opsets.get(isDefaultDomain(node.domain) ? '' : node.domain) ?? (isDefaultDomain(node.domain) ? 0 : 1);
    try {
      if (fn && !(rule && isDefaultDomain(node.domain))) {
        this.inferFunctionCall(fn, node, scope, results);
      } else if (rule) {
        rule(new NodeContext(this, node, opset, scope, results));
      } else {
        const where = isDefaultDomain(node.domain) ? '' : ` in domain '${node.domain}'`;
        this.unknownOp(node, `no shape rule for op '${node.opType}'${where}`);
      }
    } catch (e) {
      if (e instanceof InferenceBudgetError) throw e;
      results.fill(undefined);
      if (e instanceof ShapeMismatch) {
        this.warn('shape-mismatch', `${node.opType} node '${label}': ${e.message}`, node.name);
      } else {
        const msg = e instanceof Error ? e.message : String(e);
        this.warn('rule-error', `${node.opType} node '${label}': shape rule failed (${msg}); outputs unknown`, node.name);
      }
    }
    for (let i = 0; i < node.outputs.length; i++) {
      const name = node.outputs[i];
      if (!name) continue;
      const r = results[i];
      const bad = r?.shape?.find((d) => typeof d === 'number' && !(Number.isSafeInteger(d) && d >= 0));
      if (r && bad !== undefined) {
        // Sizes from attributes or constants can be nonsense (a negative pad, an INT64_MAX repeat); say so rather
        // than pass an impossible dim on to the analyses.
        this.warn('shape-mismatch', `${node.opType} node '${label}': output '${name}' would have an invalid size ${bad}; its shape is unknown`, node.name);
        r.shape = null;
        delete r.value;
      }
      let type: TensorType = r ? { dtype: r.dtype, shape: r.shape } : { dtype: 'undefined', shape: null };
      const d = declared.get(name);
      if (d) type = this.reconcile(name, type, d, node);
      scope.types.set(name, type);
      if (r?.value) scope.values.set(name, r.value);
    }
  }

  /**
   * Merges an inferred type with the file's declared one: the declaration fills in what inference does not know, and
   * a known dim that disagrees is reported (inference wins, because it follows from the ops actually in the graph).
   */
  private reconcile(name: string, inferred: TensorType, declared: TensorType, node: Node): TensorType {
    const dtype = inferred.dtype === 'undefined' ? declared.dtype : inferred.dtype;
    if (inferred.dtype !== 'undefined' && declared.dtype !== 'undefined' && inferred.dtype !== declared.dtype) {
      this.valueInfoMismatch(`'${name}' is declared ${declared.dtype} but inferred ${inferred.dtype}`, node);
    }
    if (!inferred.shape) return { dtype, shape: declared.shape ? [...declared.shape] : null };
    if (!declared.shape) return { dtype, shape: inferred.shape };
    if (declared.shape.length !== inferred.shape.length) {
      this.valueInfoMismatch(
        `'${name}' is declared with shape ${formatShape(declared.shape)} but inferred ${formatShape(inferred.shape)}`,
        node,
      );
      return { dtype, shape: inferred.shape };
    }
    let differs = false;
    const shape: Dim[] = inferred.shape.map((d, i) => {
      const decl = declared.shape![i];
      if (d === null) return decl;
      if (typeof d === 'number' && typeof decl === 'number' && d !== decl) differs = true;
      return d;
    });
    if (differs) {
      this.valueInfoMismatch(
        `'${name}' is declared with shape ${formatShape(declared.shape)} but inferred ${formatShape(inferred.shape)}`,
        node,
      );
    }
    return { dtype, shape };
  }

  private valueInfoMismatch(message: string, node: Node): void {
    this.valueInfoWarnings++;
    if (this.valueInfoWarnings <= MAX_VALUE_INFO_WARNINGS) this.warn('value-info-mismatch', message, node.name);
  }

  flushValueInfoWarnings(): void {
    const extra = this.valueInfoWarnings - MAX_VALUE_INFO_WARNINGS;
    if (extra > 0) this.warn('value-info-mismatch', `${extra} more values disagree with their declared shapes`);
    this.valueInfoWarnings = 0;
  }

  /** Infers a subgraph body in a child scope and returns its output types. */
  inferSubgraph(
    graph: Graph,
    bound: ReadonlyArray<TensorType | undefined>,
    parent: Scope,
    opsets: Map<string, number>,
  ): Array<TensorType | undefined> {
    if (this.depth >= MAX_FUNCTION_DEPTH) return graph.outputs.map((o) => tensorTypeOf(o.type));
    this.depth++;
    try {
      const scope = new Scope(parent);
      graph.inputs.forEach((input, i) => {
        const t = bound[i] ?? tensorTypeOf(input.type);
        if (t) scope.types.set(input.name, t);
      });
      seedInitializers(graph, scope, this.maxFold);
      // Subgraph nodes are sorted by the ONNX spec; their values stay private to the branch, which analysis treats
      // as opaque.
      this.runNodes(graph.nodes, scope, opsets, declaredTypes(graph));
      return graph.outputs.map((o) => {
        const inferred = scope.types.get(o.name) ?? parent.type(o.name);
        const decl = tensorTypeOf(o.type);
        if (!inferred || !inferred.shape) return decl ?? inferred;
        return inferred;
      });
    } finally {
      this.depth--;
    }
  }

  /** Inlines a model-local function: binds its inputs and attributes and infers its body. */
  private inferFunctionCall(
    fn: FunctionDef,
    node: Node,
    caller: Scope,
    results: Results,
  ): void {
    const fnKey = `${fn.domain}\u0000${fn.name}`;
    if (this.active.has(fnKey)) {
      this.unknownOp(node, `function '${fn.name}' calls itself, which ONNX does not allow`);
      return;
    }
    if (this.depth >= MAX_FUNCTION_DEPTH) {
      this.unknownOp(node, `function '${fn.name}' nests too deeply to infer`);
      return;
    }
    const signature = this.callSignature(fnKey, fn, node, caller);
    const known = this.callResults.get(signature);
    if (known) {
      known.forEach((r, i) => {
        if (r && i < results.length) results[i] = { dtype: r.dtype, shape: r.shape ? [...r.shape] : null, ...(r.value ? { value: r.value } : {}) };
      });
      return;
    }
    this.depth++;
    this.active.add(fnKey);
    try {
      const scope = new Scope();
      fn.inputs.forEach((formal, i) => {
        const actual = node.inputs[i];
        if (!actual) return;
        const t = caller.type(actual);
        if (t) scope.types.set(formal, t);
        const v = caller.value(actual);
        if (v) scope.values.set(formal, v);
      });
      const callerAttrs = new Map(node.attributes.map((a) => [a.name, a]));
      const defaults = new Map(fn.attributeDefaults.map((a) => [a.name, a]));
      const resolve = (a: Attribute): Attribute | undefined => {
        if (a.type !== 'ref') return a;
        const bound = callerAttrs.get(a.refAttrName) ?? defaults.get(a.refAttrName);
        return bound && bound.type !== 'ref' ? { ...bound, name: a.name } : undefined;
      };
      const nodes = fn.nodes.map((n) => ({
        ...n,
        attributes: n.attributes.map(resolve).filter((a): a is Attribute => a !== undefined),
      }));
      const opsets = fn.opsetImports.length > 0 ? opsetMap(fn.opsetImports) : new Map<string, number>();
      const declared = new Map<string, TensorType>();
      for (const vi of fn.valueInfo) {
        const t = tensorTypeOf(vi.type);
        if (t) declared.set(vi.name, t);
      }
      this.charge(nodes.length);
      this.runNodes(nodes, scope, opsets, declared);
      fn.outputs.forEach((formal, i) => {
        const t = scope.types.get(formal);
        if (t && i < results.length) {
          const v = scope.values.get(formal);
          results[i] = v ? { dtype: t.dtype, shape: t.shape, value: v } : { dtype: t.dtype, shape: t.shape };
        }
      });
      this.callResults.set(
        signature,
        results.map((r) => r && { dtype: r.dtype, shape: r.shape ? [...r.shape] : null, ...(r.value ? { value: r.value } : {}) }),
      );
    } finally {
      this.active.delete(fnKey);
      this.depth--;
    }
  }

  /** What a function call's result depends on: the function, its inputs' types and folded values, and its attributes. */
  private callSignature(fnKey: string, fn: FunctionDef, node: Node, caller: Scope): string {
    const parts: string[] = [fnKey, String(node.outputs.length)];
    fn.inputs.forEach((_, i) => {
      const actual = node.inputs[i];
      const t = actual ? caller.type(actual) : undefined;
      const v = actual ? caller.value(actual) : undefined;
      parts.push(JSON.stringify([t?.dtype ?? null, t?.shape ?? null, v ? [v.dtype, v.dims, v.values] : null]));
    });
    for (const a of node.attributes) {
      const v =
        a.type === 'ref' ? a.refAttrName : a.type === 'tensor' || a.type === 'graph' || a.type === 'tensors' || a.type === 'graphs' ? this.objectId(a.value) : a.value;
      parts.push(JSON.stringify([a.name, a.type, v]));
    }
    return parts.join('\u0001');
  }

  private objectId(o: object): number {
    let id = this.objectIds.get(o);
    if (id === undefined) {
      id = ++this.nextObjectId;
      this.objectIds.set(o, id);
    }
    return id;
  }
}

function declaredTypes(graph: Graph, bind?: (shape: Dim[]) => Dim[]): Map<string, TensorType> {
  const declared = new Map<string, TensorType>();
  for (const vi of graph.valueInfo) {
    const t = tensorTypeOf(vi.type);
    if (t) declared.set(vi.name, t);
  }
  for (const vi of graph.outputs) {
    const t = tensorTypeOf(vi.type);
    if (!t) continue;
    const prior = declared.get(vi.name);
    // A value declared twice (value_info and graph output) keeps every dim either declaration knows.
    if (prior?.shape && t.shape && prior.shape.length === t.shape.length) {
      declared.set(vi.name, { dtype: prior.dtype, shape: prior.shape.map((d, i) => d ?? t.shape![i]) });
    } else if (!prior || !prior.shape) declared.set(vi.name, t);
  }
  if (bind) {
    for (const [name, t] of declared) if (t.shape) declared.set(name, { dtype: t.dtype, shape: bind(t.shape) });
  }
  return declared;
}

function seedInitializers(graph: Graph, scope: Scope, maxFold: number): void {
  for (const t of graph.initializers) {
    scope.types.set(t.name, { dtype: t.dtype, shape: [...t.dims] });
    const v = valueFromTensor(t, maxFold);
    if (v) scope.values.set(t.name, v);
  }
  for (const s of graph.sparseInitializers) {
    scope.types.set(s.values.name, { dtype: s.values.dtype, shape: [...s.dims] });
  }
}

/**
 * Infers the types of every value of one graph. `opset` is the default domain's version, or the model's full list of
 * opset imports when custom domains matter.
 */
export function inferGraphShapes(
  graph: Graph,
  opset: number | readonly OpsetImport[],
  options: InferGraphOptions = {},
): ShapeInferenceResult {
  const maxFold = options.maxFoldElements ?? DEFAULT_MAX_FOLD;
  const inf = new Inferencer(maxFold, options.functions ?? [], options.maxNodes ?? DEFAULT_MAX_NODES);
  const opsets = typeof opset === 'number' ? new Map([['', opset]]) : opsetMap(opset);
  const scope = new Scope();
  const initializerNames = new Set(graph.initializers.map((t) => t.name));
  const overrides = options.inputShapes ?? {};

  // A symbol fixed by --input-shape on one input (say "B" = 1) takes that value on every other input too, so that
  // an attention mask declared [B, S] agrees with the input ids the user fixed.
  const bound = new Map<string, Dim>();
  for (const input of graph.inputs) {
    const declared = tensorTypeOf(input.type);
    const override = Object.prototype.hasOwnProperty.call(overrides, input.name) ? overrides[input.name] : undefined;
    if (!override || !declared?.shape || declared.shape.length !== override.length) continue;
    declared.shape.forEach((d, i) => {
      if (typeof d === 'string' && typeof override[i] === 'number') bound.set(d, override[i]);
    });
  }
  const bind = (shape: Dim[]): Dim[] => shape.map((d) => (typeof d === 'string' && bound.has(d) ? bound.get(d)! : d));

  for (const input of graph.inputs) {
    if (initializerNames.has(input.name)) continue;
    const declared = tensorTypeOf(input.type);
    const override = Object.prototype.hasOwnProperty.call(overrides, input.name) ? overrides[input.name] : undefined;
    if (override) {
      if (declared?.shape && declared.shape.length !== override.length) {
        inf.warn(
          'input-shape',
          `input '${input.name}' is declared with shape ${formatShape(declared.shape)}, but --input-shape gives ${formatShape(override)}; using the latter`,
        );
      }
      scope.types.set(input.name, { dtype: declared?.dtype ?? 'float32', shape: [...override] });
    } else if (declared) {
      scope.types.set(input.name, { dtype: declared.dtype, shape: declared.shape ? bind(declared.shape) : null });
    }
  }
  for (const name of Object.keys(overrides)) {
    if (!graph.inputs.some((i) => i.name === name) || initializerNames.has(name)) {
      inf.warn('input-shape', `--input-shape names '${name}', which is not an input of the graph`);
    }
  }
  seedInitializers(graph, scope, maxFold);

  const { order, cyclic } = orderNodes(graph);
  if (cyclic) {
    inf.warn('graph-structure', `the graph has a cycle through node '${cyclic.name || cyclic.opType}'; those nodes are inferred in file order`, cyclic.name);
  }
  inf.runNodes(order, scope, opsets, declaredTypes(graph, bound.size > 0 ? bind : undefined));
  inf.flushUnknownOps();
  inf.flushValueInfoWarnings();

  const constants = new Map<string, ConstValue>();
  for (const [name, v] of scope.values) {
    const c = toConstValue(v);
    if (c && c.values.length <= maxFold) constants.set(name, c);
  }
  return { types: scope.types, constants, warnings: inf.warnings };
}
