import { getFloat, getInt, getString } from '../ir/attributes';
import type { GradContext, RuleEntry } from './ruleTypes';

/**
 * Gradient rules for pointwise nonlinearities and the softmax family. Where the derivative is cheaper in terms of
 * the forward output (sigmoid, tanh, exp, sqrt, softmax) the rule reads the output, which the forward graph keeps.
 */

function x0(ctx: GradContext): string {
  return ctx.node.inputs[0];
}
function y0(ctx: GradContext): string {
  return ctx.node.outputs[0];
}

function relu(ctx: GradContext): (string | undefined)[] {
  const { e } = ctx;
  // PyTorch's convention: the gradient at exactly zero is zero. The output is positive exactly where the input is,
  // and reading it instead of the input leaves onnxruntime free to fuse the Relu into the Conv or Add before it.
  const mask = e.op('Greater', [y0(ctx), e.constF(0)]);
  return [e.op('Where', [mask, ctx.gy[0]!, e.constF(0)])];
}

function leakyRelu(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const alpha = getFloat(node, 'alpha', 0.01);
  const gy = ctx.gy[0]!;
  const mask = e.op('Greater', [x0(ctx), e.constF(0)]);
  return [e.op('Where', [mask, gy, e.op('Mul', [gy, e.constF(alpha)])])];
}

function sigmoid(ctx: GradContext): (string | undefined)[] {
  const { e } = ctx;
  const y = y0(ctx);
  const local = e.op('Mul', [y, e.op('Sub', [e.constF(1), y])]);
  return [e.op('Mul', [ctx.gy[0]!, local])];
}

function tanh(ctx: GradContext): (string | undefined)[] {
  const { e } = ctx;
  const y = y0(ctx);
  const local = e.op('Sub', [e.constF(1), e.op('Mul', [y, y])]);
  return [e.op('Mul', [ctx.gy[0]!, local])];
}

function exp(ctx: GradContext): (string | undefined)[] {
  return [ctx.e.op('Mul', [ctx.gy[0]!, y0(ctx)])];
}

function log(ctx: GradContext): (string | undefined)[] {
  return [ctx.e.op('Div', [ctx.gy[0]!, x0(ctx)])];
}

function sqrt(ctx: GradContext): (string | undefined)[] {
  const { e } = ctx;
  return [e.op('Div', [ctx.gy[0]!, e.op('Mul', [y0(ctx), e.constF(2)])])];
}

/** d erf(x)/dx = 2/sqrt(pi) * exp(-x^2). */
function erfLocal(ctx: GradContext, x: string): string {
  const { e } = ctx;
  const negSq = e.op('Neg', [e.op('Mul', [x, x])]);
  return e.op('Mul', [e.constF(2 / Math.sqrt(Math.PI)), e.op('Exp', [negSq])]);
}

function erf(ctx: GradContext): (string | undefined)[] {
  return [ctx.e.op('Mul', [ctx.gy[0]!, erfLocal(ctx, x0(ctx))])];
}

function gelu(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const x = x0(ctx);
  const approximate = getString(node, 'approximate', 'none');
  let local: string;
  if (approximate === 'tanh') {
    // y = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3).
    const c = Math.sqrt(2 / Math.PI);
    const x2 = e.op('Mul', [x, x]);
    const inner = e.op('Add', [e.constF(1), e.op('Mul', [e.constF(0.044715), x2])]);
    const u = e.op('Mul', [e.constF(c), e.op('Mul', [x, inner])]);
    const t = e.op('Tanh', [u]);
    const du = e.op('Mul', [e.constF(c), e.op('Add', [e.constF(1), e.op('Mul', [e.constF(3 * 0.044715), x2])])]);
    const sech2 = e.op('Sub', [e.constF(1), e.op('Mul', [t, t])]);
    const left = e.op('Mul', [e.constF(0.5), e.op('Add', [e.constF(1), t])]);
    const right = e.op('Mul', [e.op('Mul', [e.constF(0.5), x]), e.op('Mul', [sech2, du])]);
    local = e.op('Add', [left, right]);
  } else {
    // y = x Phi(x): dy/dx = Phi(x) + x phi(x).
    const cdf = e.op('Mul', [
      e.constF(0.5),
      e.op('Add', [e.constF(1), e.op('Erf', [e.op('Mul', [x, e.constF(Math.SQRT1_2)])])]),
    ]);
    const pdf = e.op('Mul', [
      e.constF(1 / Math.sqrt(2 * Math.PI)),
      e.op('Exp', [e.op('Mul', [e.op('Mul', [x, x]), e.constF(-0.5)])]),
    ]);
    local = e.op('Add', [cdf, e.op('Mul', [x, pdf])]);
  }
  return [e.op('Mul', [ctx.gy[0]!, local])];
}

function sin(ctx: GradContext): (string | undefined)[] {
  return [ctx.e.op('Mul', [ctx.gy[0]!, ctx.e.op('Cos', [x0(ctx)])])];
}

function cos(ctx: GradContext): (string | undefined)[] {
  return [ctx.e.op('Neg', [ctx.e.op('Mul', [ctx.gy[0]!, ctx.e.op('Sin', [x0(ctx)])])])];
}

function hardSigmoid(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const alpha = getFloat(node, 'alpha', 0.2);
  const beta = getFloat(node, 'beta', 0.5);
  const z = e.op('Add', [e.op('Mul', [x0(ctx), e.constF(alpha)]), e.constF(beta)]);
  // The slope is alpha strictly inside (0, 1) and zero on the flat parts, as PyTorch's hardsigmoid_backward.
  const inside = e.op('And', [e.op('Greater', [z, e.constF(0)]), e.op('Less', [z, e.constF(1)])]);
  return [e.op('Where', [inside, e.op('Mul', [ctx.gy[0]!, e.constF(alpha)]), e.constF(0)])];
}

function hardSwish(ctx: GradContext): (string | undefined)[] {
  const { e } = ctx;
  const x = x0(ctx);
  const gy = ctx.gy[0]!;
  // y = x * relu6(x + 3) / 6: slope 0 below -3, 1 above 3, and x/3 + 1/2 between (PyTorch's hardswish_backward).
  const middle = e.op('Mul', [gy, e.op('Add', [e.op('Mul', [x, e.constF(1 / 3)]), e.constF(0.5)])]);
  const upper = e.op('Where', [e.op('Greater', [x, e.constF(3)]), gy, middle]);
  return [e.op('Where', [e.op('Less', [x, e.constF(-3)]), e.constF(0), upper])];
}

function prelu(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const [x, slope] = node.inputs;
  const gy = ctx.gy[0]!;
  const positive = e.op('Greater', [x, e.constF(0)]);
  return [
    ctx.needs[0] ? e.op('Where', [positive, gy, e.op('Mul', [gy, slope])]) : undefined,
    ctx.needs[1] ? e.reduceToShape(e.op('Where', [positive, e.constF(0), e.op('Mul', [gy, x])]), node.outputs[0], slope) : undefined,
  ];
}

function elu(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const alpha = getFloat(node, 'alpha', 1);
  const gy = ctx.gy[0]!;
  // Below zero y = alpha (exp(x) - 1), so dy/dx = y + alpha.
  const negative = e.op('Mul', [gy, e.op('Add', [y0(ctx), e.constF(alpha)])]);
  return [e.op('Where', [e.op('Greater', [x0(ctx), e.constF(0)]), gy, negative])];
}

function softplus(ctx: GradContext): (string | undefined)[] {
  return [ctx.e.op('Mul', [ctx.gy[0]!, ctx.e.op('Sigmoid', [x0(ctx)])])];
}

function softmaxAxis(ctx: GradContext): number {
  // Opset 13 made Softmax act on one axis (default -1); the builder only accepts opset 13 and later.
  return getInt(ctx.node, 'axis', -1);
}

function softmax(ctx: GradContext): (string | undefined)[] {
  const { e } = ctx;
  const y = y0(ctx);
  const gy = ctx.gy[0]!;
  const dot = e.reduceSum(e.op('Mul', [gy, y]), [softmaxAxis(ctx)], true);
  return [e.op('Mul', [y, e.op('Sub', [gy, dot])])];
}

function logSoftmax(ctx: GradContext): (string | undefined)[] {
  const { e } = ctx;
  const gy = ctx.gy[0]!;
  const total = e.reduceSum(gy, [softmaxAxis(ctx)], true);
  return [e.op('Sub', [gy, e.op('Mul', [e.op('Exp', [y0(ctx)]), total])])];
}

function clip(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const x = x0(ctx);
  let mask: string | undefined;
  const lo = node.inputs[1];
  const hi = node.inputs[2];
  // PyTorch passes the gradient where min <= x <= max, bounds included.
  if (lo) mask = e.op('Not', [e.op('Less', [x, lo])]);
  if (hi) {
    const upper = e.op('Not', [e.op('Greater', [x, hi])]);
    mask = mask ? e.op('And', [mask, upper]) : upper;
  }
  if (!mask) return [ctx.gy[0]!];
  return [e.op('Where', [mask, ctx.gy[0]!, e.constF(0)]), undefined, undefined];
}

export const activationRules: Record<string, RuleEntry> = {
  Relu: { rule: relu, diff: [0] },
  LeakyRelu: { rule: leakyRelu, diff: [0] },
  Sigmoid: { rule: sigmoid, diff: [0] },
  Tanh: { rule: tanh, diff: [0] },
  Exp: { rule: exp, diff: [0] },
  Log: { rule: log, diff: [0] },
  Sqrt: { rule: sqrt, diff: [0] },
  Erf: { rule: erf, diff: [0] },
  Sin: { rule: sin, diff: [0] },
  Cos: { rule: cos, diff: [0] },
  Gelu: { rule: gelu, diff: [0] },
  Softmax: { rule: softmax, diff: [0] },
  LogSoftmax: { rule: logSoftmax, diff: [0] },
  Clip: { rule: clip, diff: [0], constant: [1, 2] },
  HardSigmoid: { rule: hardSigmoid, diff: [0] },
  HardSwish: { rule: hardSwish, diff: [0] },
  PRelu: { rule: prelu, diff: [0, 1] },
  Elu: { rule: elu, diff: [0] },
  Softplus: { rule: softplus, diff: [0] },
};
