import { dtypeCodeOf } from './emitter';
import type { GradContext, RuleEntry } from './ruleTypes';

/**
 * Gradient rules for the broadcasting arithmetic ops (Add, Sub, Mul, Div, Pow, Sum, Mean, Where, Expand) and the
 * simple unary ones that have no activation character (Neg, Abs, Reciprocal, Cast, Identity). Every operand's
 * gradient goes through `reduceToShape`, because any of them may have been broadcast.
 */

function out(ctx: GradContext): string {
  return ctx.node.outputs[0];
}

function add(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const gy = ctx.gy[0]!;
  return node.inputs.map((x, i) => (ctx.needs[i] ? e.reduceToShape(gy, out(ctx), x) : undefined));
}

function sub(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const gy = ctx.gy[0]!;
  const [a, b] = node.inputs;
  return [
    ctx.needs[0] ? e.reduceToShape(gy, out(ctx), a) : undefined,
    ctx.needs[1] ? e.reduceToShape(e.op('Neg', [gy]), out(ctx), b) : undefined,
  ];
}

function mul(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const gy = ctx.gy[0]!;
  const [a, b] = node.inputs;
  return [
    ctx.needs[0] ? e.reduceToShape(e.op('Mul', [gy, b]), out(ctx), a) : undefined,
    ctx.needs[1] ? e.reduceToShape(e.op('Mul', [gy, a]), out(ctx), b) : undefined,
  ];
}

function div(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const gy = ctx.gy[0]!;
  const [a, b] = node.inputs;
  const y = out(ctx);
  return [
    ctx.needs[0] ? e.reduceToShape(e.op('Div', [gy, b]), y, a) : undefined,
    // d(a/b)/db = -a/b^2 = -y/b, which reuses the forward output instead of squaring b.
    ctx.needs[1] ? e.reduceToShape(e.op('Neg', [e.op('Div', [e.op('Mul', [gy, y]), b])]), y, b) : undefined,
  ];
}

function pow(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const gy = ctx.gy[0]!;
  const [a, p] = node.inputs;
  const known = ctx.constant(p);
  let local: string;
  if (known && known.length === 1) {
    const k = known[0];
    // The common cases get exact, cheap forms: x^2 (variance in decomposed LayerNorm) and x^1.
    if (k === 2) local = e.op('Mul', [a, e.constF(2)]);
    else if (k === 1) local = e.constF(1);
    else local = e.op('Mul', [e.constF(k), e.op('Pow', [a, e.constF(k - 1)])]);
  } else {
    const pf = e.castFloat(p);
    local = e.op('Mul', [pf, e.op('Pow', [a, e.op('Sub', [pf, e.constF(1)])])]);
  }
  return [ctx.needs[0] ? e.reduceToShape(e.op('Mul', [gy, local]), out(ctx), a) : undefined, undefined];
}

function sumVariadic(ctx: GradContext): (string | undefined)[] {
  return add(ctx);
}

function meanVariadic(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const scaled = e.op('Mul', [ctx.gy[0]!, e.constF(1 / node.inputs.length)]);
  return node.inputs.map((x, i) => (ctx.needs[i] ? e.reduceToShape(scaled, out(ctx), x) : undefined));
}

/** Max and Min pass the gradient to the operand that was selected; exact ties pass it to each tied operand. */
function selectExtreme(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const y = out(ctx);
  const gy = ctx.gy[0]!;
  return node.inputs.map((x, i) =>
    ctx.needs[i] ? e.reduceToShape(e.op('Where', [e.op('Equal', [x, y]), gy, e.constF(0)]), y, x) : undefined,
  );
}

function where(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const gy = ctx.gy[0]!;
  const [c, a, b] = node.inputs;
  const zero = e.constF(0);
  return [
    undefined,
    ctx.needs[1] ? e.reduceToShape(e.op('Where', [c, gy, zero]), out(ctx), a) : undefined,
    ctx.needs[2] ? e.reduceToShape(e.op('Where', [c, zero, gy]), out(ctx), b) : undefined,
  ];
}

function expand(ctx: GradContext): (string | undefined)[] {
  return [ctx.e.reduceToShape(ctx.gy[0]!, out(ctx), ctx.node.inputs[0]), undefined];
}

function identity(ctx: GradContext): (string | undefined)[] {
  return [ctx.gy[0]!];
}

function neg(ctx: GradContext): (string | undefined)[] {
  return [ctx.e.op('Neg', [ctx.gy[0]!])];
}

function abs(ctx: GradContext): (string | undefined)[] {
  const { e } = ctx;
  return [e.op('Mul', [ctx.gy[0]!, e.op('Sign', [ctx.node.inputs[0]])])];
}

function reciprocal(ctx: GradContext): (string | undefined)[] {
  const { e } = ctx;
  const y = out(ctx);
  return [e.op('Neg', [e.op('Mul', [ctx.gy[0]!, e.op('Mul', [y, y])])])];
}

function cast(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const from = e.type(node.inputs[0])?.dtype ?? e.floatType;
  return [e.op('Cast', [ctx.gy[0]!], { to: dtypeCodeOf(from) })];
}

function dropout(ctx: GradContext): (string | undefined)[] {
  // Inference mode: Dropout is the identity. A training-mode Dropout would need its mask, and a gradient check
  // should run with dropout off anyway (the lectures' advice), so the builder treats every Dropout as inference.
  const training = ctx.node.inputs[2] ? ctx.constant(ctx.node.inputs[2]) : undefined;
  if (training && training[0]) ctx.unsupported('Dropout in training mode (training_mode=true)');
  return [ctx.gy[0]!];
}

export const elementwiseRules: Record<string, RuleEntry> = {
  Add: { rule: add, diff: 'all' },
  Sub: { rule: sub, diff: 'all' },
  Mul: { rule: mul, diff: 'all' },
  Div: { rule: div, diff: 'all' },
  Pow: { rule: pow, diff: [0], constant: [1] },
  Sum: { rule: sumVariadic, diff: 'all' },
  Mean: { rule: meanVariadic, diff: 'all' },
  Where: { rule: where, diff: [1, 2] },
  Max: { rule: selectExtreme, diff: 'all' },
  Min: { rule: selectExtreme, diff: 'all' },
  Expand: { rule: expand, diff: [0] },
  Identity: { rule: identity, diff: [0] },
  Dropout: { rule: dropout, diff: [0] },
  Neg: { rule: neg, diff: [0] },
  Abs: { rule: abs, diff: [0] },
  Reciprocal: { rule: reciprocal, diff: [0] },
  Cast: { rule: cast, diff: [0] },
};
