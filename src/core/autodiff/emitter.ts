import { toAttribute, type AttributeInput } from '../ir/builder';
import { dataTypeCode } from '../ir/dtypes';
import { makeTensor } from '../ir/tensorData';
import type { DataType, Dim, Node, Tensor, TensorType } from '../ir/types';

/**
 * Appends backward nodes to a graph that already exists. GraphBuilder starts from nothing; the gradient builder
 * instead extends a copy of the user's graph, so it must know every name already taken and must never reuse one.
 *
 * Besides plain node creation it offers the small constructions that many gradient rules share: constants of the
 * model's float type, run-time shapes, and the reduction of a broadcast gradient back to its operand's shape. Static
 * shapes from shape inference are used when they settle a question; otherwise the construction is done at run time
 * with Shape ops, so that models with symbolic batch or sequence sizes still get a correct backward graph.
 */
export class Emitter {
  readonly nodes: Node[] = [];
  readonly initializers: Tensor[] = [];
  private readonly used: Set<string>;
  private counter = 0;
  private readonly scalarCache = new Map<string, string>();
  private readonly shapeCache = new Map<string, string>();

  constructor(
    usedNames: Iterable<string>,
    /** The float type of the graph's activations; constants that meet them must have the same type. */
    readonly floatType: DataType,
    /** The default-domain opset the emitted nodes must follow. */
    readonly opset: number,
    /** Types from shape inference, for static shortcuts; missing entries mean "find out at run time". */
    private readonly types: Map<string, TensorType> = new Map(),
    private readonly prefix = 'grad',
  ) {
    this.used = new Set(usedNames);
  }

  /** A name not yet used in the graph, based on `hint`. */
  fresh(hint: string): string {
    let candidate = hint;
    while (this.used.has(candidate)) candidate = `${hint}_${++this.counter}`;
    this.used.add(candidate);
    return candidate;
  }

  /** Marks names that something else (the forward copy) has just taken. */
  reserve(name: string): void {
    this.used.add(name);
  }

  /** Adds a node with `outputs` fresh outputs and returns their names. */
  node(opType: string, inputs: string[], attrs: Record<string, AttributeInput> = {}, outputs = 1, hint?: string): string[] {
    const base = hint ?? `${this.prefix}/${opType}`;
    const name = this.fresh(base);
    const outs = Array.from({ length: outputs }, (_, i) => this.fresh(`${name}_output_${i}`));
    this.nodes.push({
      name,
      opType,
      domain: '',
      inputs,
      outputs: outs,
      attributes: Object.entries(attrs).map(([k, v]) => toAttribute(k, v)),
    });
    return outs;
  }

  /** Adds a single-output node and returns its output. */
  op(opType: string, inputs: string[], attrs: Record<string, AttributeInput> = {}, hint?: string): string {
    return this.node(opType, inputs, attrs, 1, hint)[0];
  }

  /** A float constant of the graph's float type. Scalars are shared. */
  constF(values: number | number[], dims?: number[]): string {
    const vals = typeof values === 'number' ? [values] : values;
    const shape = dims ?? (typeof values === 'number' ? [] : [vals.length]);
    const key = `f:${shape.join('x')}:${vals.join(',')}`;
    const cached = this.scalarCache.get(key);
    if (cached && vals.length <= 8) return cached;
    const name = this.fresh(`${this.prefix}/const`);
    this.initializers.push(makeTensor(name, this.floatType, shape, vals));
    if (vals.length <= 8) this.scalarCache.set(key, name);
    return name;
  }

  /** An int64 constant, 1-D unless `dims` says otherwise. */
  constI(values: number | number[], dims?: number[]): string {
    const vals = typeof values === 'number' ? [values] : values;
    const shape = dims ?? (typeof values === 'number' ? [] : [vals.length]);
    const key = `i:${shape.join('x')}:${vals.join(',')}`;
    const cached = this.scalarCache.get(key);
    if (cached) return cached;
    const name = this.fresh(`${this.prefix}/const`);
    this.initializers.push(makeTensor(name, 'int64', shape, vals));
    this.scalarCache.set(key, name);
    return name;
  }

  /** A one-element tensor attribute, as ConstantOfShape's `value` wants it. */
  valueAttr(dtype: DataType, value: number): Tensor {
    return makeTensor('value', dtype, [1], [value]);
  }

  type(name: string): TensorType | undefined {
    return this.types.get(name);
  }

  /** The rank of a value when shape inference knows it. */
  rank(name: string): number | undefined {
    const s = this.types.get(name)?.shape;
    return s ? s.length : undefined;
  }

  staticShape(name: string): Dim[] | undefined {
    const s = this.types.get(name)?.shape;
    return s ?? undefined;
  }

  /** The run-time shape of a value, as a 1-D int64 tensor. One Shape node per value. */
  shape(x: string): string {
    const cached = this.shapeCache.get(x);
    if (cached) return cached;
    const s = this.op('Shape', [x]);
    this.shapeCache.set(x, s);
    return s;
  }

  /** Part of a run-time shape, dims [start, end). */
  shapeSlice(x: string, start: number, end?: number): string {
    const ends = end === undefined ? 2 ** 62 : end;
    return this.op('Slice', [this.shape(x), this.constI([start]), this.constI([ends]), this.constI([0])]);
  }

  /** ReduceSum with axes as an input (opset 13+), which is also what every later opset expects. */
  reduceSum(x: string, axes: number[] | string | null, keepdims: boolean): string {
    if (axes === null) return this.op('ReduceSum', [x], { keepdims: keepdims ? 1 : 0 });
    const axesName = typeof axes === 'string' ? axes : this.constI(axes);
    return this.op('ReduceSum', [x, axesName], { keepdims: keepdims ? 1 : 0 });
  }

  /** ReduceMean; its axes moved from an attribute to an input in opset 18. */
  reduceMean(x: string, axes: number[] | null, keepdims: boolean): string {
    if (axes === null) return this.op('ReduceMean', [x], { keepdims: keepdims ? 1 : 0 });
    if (this.opset >= 18) return this.op('ReduceMean', [x, this.constI(axes)], { keepdims: keepdims ? 1 : 0 });
    return this.op('ReduceMean', [x], { axes, keepdims: keepdims ? 1 : 0 });
  }

  /** A tensor of zeros with the run-time shape of `x`, in the graph's float type. */
  zerosLike(x: string): string {
    return this.op('ConstantOfShape', [this.shape(x)], { value: this.valueAttr(this.floatType, 0) });
  }

  /** Sum of gradient contributions of the same shape. */
  sum(parts: string[]): string {
    if (parts.length === 1) return parts[0];
    return this.op('Sum', parts);
  }

  /** Number of elements of `x` as an int64 tensor of shape [1]. */
  size1(x: string): string {
    return this.op('Reshape', [this.op('Size', [x]), this.constI([1])]);
  }

  /** `numerator` elements divided by `denominator` elements, as a float scalar (for mean-style scalings). */
  sizeRatio(numerator: string, denominator: string): string {
    const a = this.op('Cast', [this.op('Size', [numerator])], { to: dtypeCodeOf(this.floatType) });
    const b = this.op('Cast', [this.op('Size', [denominator])], { to: dtypeCodeOf(this.floatType) });
    return this.op('Div', [a, b]);
  }

  /**
   * Reduce a gradient `g`, whose shape is that of forward value `gShapeOf`, to the shape of operand `x` that was
   * broadcast to it (numpy rules). Static shapes decide the axes when they can; otherwise the axes are found at run
   * time by comparing the two shapes, which costs a few tiny int64 ops.
   */
  reduceToShape(g: string, gShapeOf: string, x: string): string {
    const gs = this.staticShape(gShapeOf);
    const xs = this.staticShape(x);
    if (gs && xs) {
      const axes = staticBroadcastAxes(gs, xs);
      if (axes) {
        if (axes.length === 0 && gs.length === xs.length) return g;
        const reduced = axes.length > 0 ? this.reduceSum(g, axes, true) : g;
        if (gs.length === xs.length) return reduced;
        return this.op('Reshape', [reduced, this.shape(x)]);
      }
    }
    // Run-time path: pad x's shape with leading ones to g's rank, then sum over every axis where they differ.
    const sg = this.op('Shape', [g]);
    const sx = this.shape(x);
    const rankDiff = this.op('Sub', [this.op('Shape', [sg]), this.op('Shape', [sx])]);
    const ones = this.op('ConstantOfShape', [rankDiff], { value: this.valueAttr('int64', 1) });
    const padded = this.op('Concat', [ones, sx], { axis: 0 });
    const differs = this.op('Not', [this.op('Equal', [padded, sg])]);
    const axes = this.op('Reshape', [this.op('NonZero', [differs]), this.constI([-1])]);
    const reduced = this.op('ReduceSum', [g, axes], { keepdims: 1, noop_with_empty_axes: 1 });
    return this.op('Reshape', [reduced, sx]);
  }

  /**
   * A [C] vector reshaped so that it broadcasts along axis 1 of `x` ([1, C, 1, ...]), as BatchNormalization's
   * per-channel parameters do.
   */
  channelVector(v: string, x: string): string {
    const r = this.rank(x);
    if (r !== undefined) {
      return this.op('Reshape', [v, this.constI([1, -1, ...Array.from({ length: Math.max(0, r - 2) }, () => 1)])]);
    }
    const rankMinus2 = this.op('Sub', [this.op('Shape', [this.shape(x)]), this.constI([2])]);
    const ones = this.op('ConstantOfShape', [rankMinus2], { value: this.valueAttr('int64', 1) });
    return this.op('Reshape', [v, this.op('Concat', [this.constI([1, -1]), ones], { axis: 0 })]);
  }

  /** The axes of `x` other than 1 (batch and spatial axes), as an int64 tensor name. */
  axesExceptChannel(x: string): string {
    const r = this.rank(x);
    if (r !== undefined) return this.constI([0, ...Array.from({ length: Math.max(0, r - 2) }, (_, i) => i + 2)]);
    const rank = this.op('Reshape', [this.op('Shape', [this.shape(x)]), this.constI([], [0])]);
    const rest = this.op('Range', [this.constI(2, []), rank, this.constI(1, [])]);
    return this.op('Concat', [this.constI([0]), rest], { axis: 0 });
  }

  /** Flat int64 indices 0..n-1 arranged in the shape of `x`, for gradients that scatter back to their source. */
  iotaLike(x: string): string {
    const n = this.op('Size', [x]);
    const range = this.op('Range', [this.constI(0, []), n, this.constI(1, [])]);
    return this.op('Reshape', [range, this.shape(x)]);
  }

  /** Cast to the graph's float type. */
  castFloat(x: string): string {
    return this.op('Cast', [x], { to: dtypeCodeOf(this.floatType) });
  }
}

/**
 * The axes (of g's rank) to sum over when reducing a gradient of shape `gs` to an operand of shape `xs`, or
 * undefined when the static shapes cannot decide it. Summing over an axis of size one is harmless, so an operand
 * dim of 1 always marks an axis to sum.
 */
export function staticBroadcastAxes(gs: readonly Dim[], xs: readonly Dim[]): number[] | undefined {
  if (xs.length > gs.length) return undefined;
  const lead = gs.length - xs.length;
  const axes: number[] = [];
  for (let i = 0; i < lead; i++) axes.push(i);
  for (let i = 0; i < xs.length; i++) {
    const xd = xs[i];
    const gd = gs[lead + i];
    if (xd === 1) {
      if (gd !== 1) axes.push(lead + i);
    } else if (xd === null || gd === null || xd !== gd) {
      return undefined;
    }
  }
  return axes;
}

/** The TensorProto data type number that Cast's `to` attribute wants. */
export function dtypeCodeOf(dtype: DataType): number {
  return dataTypeCode(dtype);
}
