import { getFloat, getInt } from '../ir/attributes';
import type { GradContext, RuleEntry } from './ruleTypes';

/**
 * Gradient rules for MatMul (numpy semantics: batched, broadcast, 1-D operands) and Gemm.
 */

/** Swaps the last two axes of a value of known rank. */
function swapLast(ctx: GradContext, x: string, rank: number): string {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 1] = rank - 2;
  perm[rank - 2] = rank - 1;
  return ctx.e.op('Transpose', [x], { perm });
}

function matmul(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const [a, b] = node.inputs;
  let ra = e.rank(a);
  let rb = e.rank(b);
  if (ra === undefined || rb === undefined) {
    ctx.unsupported('MatMul operands of unknown rank (shape inference could not tell)');
  }
  let gy = ctx.gy[0]!;
  let a2 = a;
  let b2 = b;
  // 1-D operands are promoted as numpy does: a vector on the left is a row, on the right a column, and the extra
  // axis is removed from the result, so the gradient gets it back first.
  if (ra === 1) {
    a2 = e.op('Unsqueeze', [a, e.constI([0])]);
    gy = e.op('Unsqueeze', [gy, e.constI([-2])]);
    ra = 2;
  }
  if (rb === 1) {
    b2 = e.op('Unsqueeze', [b, e.constI([1])]);
    gy = e.op('Unsqueeze', [gy, e.constI([-1])]);
    rb = 2;
  }
  const grads: (string | undefined)[] = [undefined, undefined];
  if (ctx.needs[0]) {
    const ga = e.op('MatMul', [gy, swapLast(ctx, b2, rb)]);
    grads[0] = reduceToOperand(ctx, ga, a2, a);
  }
  if (ctx.needs[1]) {
    let gb: string;
    if (rb === 2 && ra > 2) {
      // The common Linear case: fold the batch axes into one and do a single 2-D product, instead of a batched
      // product followed by a sum over the batch.
      const k = e.shapeSlice(a2, ra - 1);
      const n = e.shapeSlice(b2, 1, 2);
      const a2d = e.op('Reshape', [a2, e.op('Concat', [e.constI([-1]), k], { axis: 0 })]);
      const g2d = e.op('Reshape', [gy, e.op('Concat', [e.constI([-1]), n], { axis: 0 })]);
      gb = e.op('MatMul', [e.op('Transpose', [a2d], { perm: [1, 0] }), g2d]);
    } else {
      gb = e.op('MatMul', [swapLast(ctx, a2, ra), gy]);
    }
    grads[1] = reduceToOperand(ctx, gb, b2, b);
  }
  return grads;
}

/**
 * Reduce a gradient to the (promoted) operand's shape, summing over broadcast batch axes, then drop the axis that
 * promotion of a 1-D operand added.
 */
function reduceToOperand(ctx: GradContext, g: string, promoted: string, original: string): string {
  const reduced = ctx.e.reduceToShape(g, '', promoted);
  return promoted === original ? reduced : ctx.e.op('Reshape', [reduced, ctx.e.shape(original)]);
}

function gemm(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const [a, b, c] = node.inputs;
  const transA = getInt(node, 'transA', 0) !== 0;
  const transB = getInt(node, 'transB', 0) !== 0;
  const alpha = getFloat(node, 'alpha', 1);
  const beta = getFloat(node, 'beta', 1);
  const gy = ctx.gy[0]!;
  const scaled = alpha === 1 ? gy : e.op('Mul', [gy, e.constF(alpha)]);
  const grads: (string | undefined)[] = [undefined, undefined, undefined];
  // Y = op(A) op(B): d op(A) = G op(B)^T and d op(B) = op(A)^T G; transposing back undoes op().
  if (ctx.needs[0]) {
    const bT = transB ? b : e.op('Transpose', [b], { perm: [1, 0] });
    const dOpA = e.op('MatMul', [scaled, bT]);
    grads[0] = transA ? e.op('Transpose', [dOpA], { perm: [1, 0] }) : dOpA;
  }
  if (ctx.needs[1]) {
    const aT = transA ? a : e.op('Transpose', [a], { perm: [1, 0] });
    const dOpB = e.op('MatMul', [aT, scaled]);
    grads[1] = transB ? e.op('Transpose', [dOpB], { perm: [1, 0] }) : dOpB;
  }
  if (c && ctx.needs[2]) {
    const gc = beta === 1 ? gy : e.op('Mul', [gy, e.constF(beta)]);
    grads[2] = e.reduceToShape(gc, node.outputs[0], c);
  }
  return grads;
}

export const linalgRules: Record<string, RuleEntry> = {
  MatMul: { rule: matmul, diff: [0, 1] },
  Gemm: { rule: gemm, diff: [0, 1, 2] },
};
