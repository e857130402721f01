import { getInt, getInts, getString } from '../ir/attributes';
import type { GradContext, RuleEntry } from './ruleTypes';

/**
 * Gradient rules for ops that move, select or reduce elements: reshapes, Transpose, Concat and Split, Slice, Gather
 * and Pad, ReduceSum and ReduceMean.
 *
 * Slice, Gather and Pad share one construction: apply the forward op to a tensor of flat element indices ("iota")
 * instead of the data, which says where each output element came from, then scatter-add the output gradient to
 * those places. It needs no static shapes and handles steps, negative starts, clamping, repeated indices and every
 * Pad mode with the forward op's own semantics.
 */

function reshapeBack(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  return [e.op('Reshape', [ctx.gy[0]!, e.shape(node.inputs[0])])];
}

function transpose(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const perm = getInts(node, 'perm');
  if (!perm) return [e.op('Transpose', [ctx.gy[0]!])];
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return [e.op('Transpose', [ctx.gy[0]!], { perm: inverse })];
}

function concat(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const axis = getInt(node, 'axis', 0);
  const sizes = node.inputs.map((x) => e.op('Gather', [e.shape(x), e.constI([axis])], { axis: 0 }));
  const parts = e.node('Split', [ctx.gy[0]!, e.op('Concat', sizes, { axis: 0 })], { axis }, node.inputs.length);
  return parts.map((p, i) => (ctx.needs[i] ? p : undefined));
}

function split(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const axis = getInt(node, 'axis', 0);
  const parts = node.outputs.map((_, i) => ctx.gradOrZeros(i));
  return [e.op('Concat', parts, { axis })];
}

/** Scatter-add `gy` into a zero tensor shaped like `x` at the flat positions `positions` (shaped like gy). */
function scatterBack(ctx: GradContext, x: string, positions: string, gy: string, withDump: boolean): string {
  const { e } = ctx;
  const flatPos = e.op('Reshape', [positions, e.constI([-1])]);
  const flatGrad = e.op('Reshape', [gy, e.constI([-1])]);
  const n = e.size1(x);
  if (!withDump) {
    const zeros = e.op('ConstantOfShape', [n], { value: e.valueAttr(e.floatType, 0) });
    const flat = e.op('ScatterElements', [zeros, flatPos, flatGrad], { axis: 0, reduction: 'add' });
    return e.op('Reshape', [flat, e.shape(x)]);
  }
  // Positions of -1 (padding) go to one extra slot at the end, which is dropped afterwards.
  const zeros = e.op('ConstantOfShape', [e.op('Add', [n, e.constI([1])])], { value: e.valueAttr(e.floatType, 0) });
  const safePos = e.op('Where', [e.op('Less', [flatPos, e.constI(0, [])]), e.op('Reshape', [n, e.constI([], [0])]), flatPos]);
  const flat = e.op('ScatterElements', [zeros, safePos, flatGrad], { axis: 0, reduction: 'add' });
  const kept = e.op('Slice', [flat, e.constI([0]), n, e.constI([0])]);
  return e.op('Reshape', [kept, e.shape(x)]);
}

function slice(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const x = node.inputs[0];
  const positions = e.op('Slice', [e.iotaLike(x), ...node.inputs.slice(1)]);
  return [scatterBack(ctx, x, positions, ctx.gy[0]!, false)];
}

function gather(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const [x, indices] = node.inputs;
  const positions = e.op('Gather', [e.iotaLike(x), indices], { axis: getInt(node, 'axis', 0) });
  return [scatterBack(ctx, x, positions, ctx.gy[0]!, false), undefined];
}

function pad(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const x = node.inputs[0];
  const mode = getString(node, 'mode', 'constant');
  const inputs = [e.iotaLike(x), node.inputs[1], mode === 'constant' ? e.constI(-1, []) : '', ...node.inputs.slice(3)];
  while (inputs.length > 2 && inputs[inputs.length - 1] === '') inputs.pop();
  const positions = e.op('Pad', inputs, { mode });
  return [scatterBack(ctx, x, positions, ctx.gy[0]!, mode === 'constant')];
}

function gatherElements(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const [x, indices] = node.inputs;
  const zeros = e.zerosLike(x);
  return [e.op('ScatterElements', [zeros, indices, ctx.gy[0]!], { axis: getInt(node, 'axis', 0), reduction: 'add' }), undefined];
}

function tile(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const [x, repeats] = node.inputs;
  const r = e.rank(x);
  if (r === undefined) ctx.unsupported('Tile of an input whose rank is unknown');
  // View the output as [rep0, d0, rep1, d1, ...] and sum over the repeat axes.
  const pairs = e.op('Concat', [e.op('Unsqueeze', [repeats, e.constI([1])]), e.op('Unsqueeze', [e.shape(x), e.constI([1])])], { axis: 1 });
  const split = e.op('Reshape', [ctx.gy[0]!, e.op('Reshape', [pairs, e.constI([-1])])]);
  return [e.reduceSum(split, Array.from({ length: r }, (_, i) => 2 * i), false), undefined];
}

/** Reduction axes from the attribute (older opsets) or the second input; null means "all axes". */
function reduceAxes(ctx: GradContext): number[] | string | null {
  const { node } = ctx;
  const attr = getInts(node, 'axes');
  if (attr) return attr;
  const input = node.inputs[1];
  if (!input) return null;
  const known = ctx.constant(input);
  return known ?? input;
}

function reduce(ctx: GradContext, mean: boolean): (string | undefined)[] {
  const { e, node } = ctx;
  const x = node.inputs[0];
  const keepdims = getInt(node, 'keepdims', 1) !== 0;
  let axes = reduceAxes(ctx);
  if (Array.isArray(axes) && axes.length === 0) {
    if (getInt(node, 'noop_with_empty_axes', 0) !== 0) return [ctx.gy[0]!];
    axes = null;
  }
  let g = ctx.gy[0]!;
  if (!keepdims && axes !== null) {
    // Unsqueeze counts negative axes against the output rank, which is x's rank again, so the reduction's axes work
    // unchanged.
    g = e.op('Unsqueeze', [g, typeof axes === 'string' ? axes : e.constI(axes)]);
  }
  let gx = e.op('Expand', [g, e.shape(x)]);
  if (mean) gx = e.op('Div', [gx, e.sizeRatio(x, node.outputs[0])]);
  return [gx, undefined];
}

export const tensorRules: Record<string, RuleEntry> = {
  Flatten: { rule: reshapeBack, diff: [0] },
  Reshape: { rule: reshapeBack, diff: [0] },
  Squeeze: { rule: reshapeBack, diff: [0] },
  Unsqueeze: { rule: reshapeBack, diff: [0] },
  Transpose: { rule: transpose, diff: [0] },
  Concat: { rule: concat, diff: 'all' },
  Split: { rule: split, diff: [0] },
  Slice: { rule: slice, diff: [0] },
  Gather: { rule: gather, diff: [0] },
  GatherElements: { rule: gatherElements, diff: [0] },
  Tile: { rule: tile, diff: [0] },
  Pad: { rule: pad, diff: [0], constant: [2] },
  ReduceSum: { rule: (ctx) => reduce(ctx, false), diff: [0] },
  ReduceMean: { rule: (ctx) => reduce(ctx, true), diff: [0] },
};
