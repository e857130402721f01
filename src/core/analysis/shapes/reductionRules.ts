import type { Dim } from '../../ir/types';
import { getInt } from '../../ir/attributes';
import { formatShape, normalizeAxes, normalizeAxis } from './dims';
import { castNumber, type PartialValue } from './partialValue';
import type { ShapeRule, ShapeRuleContext } from './ruleContext';
import { readAxes } from './shapeOpRules';

/**
 * Reductions, ArgMax/ArgMin and TopK. Reduce* axes moved from an attribute to an input in opset 13 (ReduceSum) and
 * 18 (the others); with no axes they reduce everything, unless noop_with_empty_axes makes them the identity.
 */

type Combine = (values: number[]) => number;

const COMBINE: Record<string, Combine> = {
  ReduceSum: (v) => v.reduce((a, b) => a + b, 0),
  ReduceProd: (v) => v.reduce((a, b) => a * b, 1),
  ReduceMax: (v) => Math.max(...v),
  ReduceMin: (v) => Math.min(...v),
};

function reduce(op: string, axesInputSince: number): ShapeRule {
  return (ctx) => {
    const x = ctx.shape(0);
    const dtype = ctx.dtype(0);
    const keep = getInt(ctx.node, 'keepdims', 1) === 1;
    const axes = readAxes(ctx, 1, axesInputSince);
    if (!x) return ctx.set(0, dtype, null);
    if (axes === 'unknown') return ctx.set(0, dtype, keep ? x.map((d) => (d === 1 ? 1 : null)) : null);
    let reduced: Set<number>;
    if (!axes || axes.length === 0) {
      if (ctx.opset >= axesInputSince && getInt(ctx.node, 'noop_with_empty_axes', 0) === 1) {
        return ctx.set(0, dtype, [...x], ctx.value(0));
      }
      reduced = new Set(x.map((_, i) => i));
    } else reduced = new Set(normalizeAxes(axes, x.length));
    const out: Dim[] = [];
    x.forEach((d, i) => {
      if (!reduced.has(i)) out.push(d);
      else if (keep) out.push(1);
    });
    // Folding covers the case shape code needs: a whole small tensor reduced to one number (the element count).
    let value: PartialValue | undefined;
    const combine = COMBINE[op];
    const v = ctx.ints(0);
    if (combine && v && v.length > 0 && reduced.size === x.length) {
      value = { dtype, dims: out as number[], values: [castNumber(combine(v), dtype)] };
    }
    ctx.set(0, dtype, out, value);
  };
}

function argReduce(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  if (!x) return ctx.set(0, 'int64', null);
  const axis = normalizeAxis(getInt(ctx.node, 'axis', 0), x.length);
  const keep = getInt(ctx.node, 'keepdims', 1) === 1;
  const out: Dim[] = [];
  x.forEach((d, i) => {
    if (i !== axis) out.push(d);
    else if (keep) out.push(1);
  });
  ctx.set(0, 'int64', out);
}

function topK(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  if (!x) {
    ctx.set(0, dtype, null);
    ctx.set(1, 'int64', null);
    return;
  }
  const axis = normalizeAxis(getInt(ctx.node, 'axis', -1), x.length);
  let k: Dim = null;
  if (ctx.opset < 10) k = getInt(ctx.node, 'k') ?? null;
  else {
    const kv = ctx.ints(1);
    if (kv && kv.length === 1) k = kv[0];
  }
  const d = x[axis];
  if (typeof k === 'number' && typeof d === 'number' && k > d) {
    ctx.warn('shape-mismatch', `k = ${k} is larger than axis ${axis} of ${formatShape(x)}`);
  }
  const out = [...x];
  out[axis] = k;
  ctx.set(0, dtype, out);
  ctx.set(1, 'int64', [...out]);
}

const rules: Record<string, ShapeRule> = {};
for (const op of ['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare']) {
  rules[op] = reduce(op, 18);
}
rules.ReduceSum = reduce('ReduceSum', 13);
rules.ArgMax = argReduce;
rules.ArgMin = argReduce;
rules.TopK = topK;

export const reductionRules: Readonly<Record<string, ShapeRule>> = rules;
