import { getFloat, getInt } from '../ir/attributes';
import type { GradContext, RuleEntry } from './ruleTypes';

/**
 * Gradient rules for normalization layers. BatchNormalization is differentiated in inference mode (fixed running
 * statistics), which is how exported models run it and how a gradient probe should see it; LayerNormalization is
 * differentiated through its per-sample statistics, recomputed here rather than read from optional outputs whose
 * type depends on stash_type.
 */

function batchNorm(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  if (getInt(node, 'training_mode', 0) !== 0 || node.outputs.filter((o) => o !== '').length > 1) {
    ctx.unsupported('BatchNormalization in training mode');
  }
  const [x, scale, , mean, variance] = node.inputs;
  const eps = getFloat(node, 'epsilon', 1e-5);
  const gy = ctx.gy[0]!;
  const invStd = e.op('Reciprocal', [e.op('Sqrt', [e.op('Add', [variance, e.constF(eps)])])]);
  const grads: (string | undefined)[] = [undefined, undefined, undefined, undefined, undefined];
  if (ctx.needs[0]) {
    grads[0] = e.op('Mul', [gy, e.channelVector(e.op('Mul', [scale, invStd]), x)]);
  }
  if (ctx.needs[1]) {
    const xhat = e.op('Mul', [e.op('Sub', [x, e.channelVector(mean, x)]), e.channelVector(invStd, x)]);
    grads[1] = e.reduceSum(e.op('Mul', [gy, xhat]), e.axesExceptChannel(x), false);
  }
  if (ctx.needs[2]) grads[2] = e.reduceSum(gy, e.axesExceptChannel(x), false);
  return grads;
}

function layerNorm(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const [x, scale, bias] = node.inputs;
  const eps = getFloat(node, 'epsilon', 1e-5);
  let axis = getInt(node, 'axis', -1);
  if (axis >= 0) {
    const r = e.rank(x);
    if (r === undefined) ctx.unsupported('LayerNormalization with a non-negative axis on an input of unknown rank');
    axis -= r;
  }
  const axes = Array.from({ length: -axis }, (_, i) => axis + i);
  const gy = ctx.gy[0]!;
  const y = node.outputs[0];
  const mu = e.reduceMean(x, axes, true);
  const centered = e.op('Sub', [x, mu]);
  const variance = e.reduceMean(e.op('Mul', [centered, centered]), axes, true);
  const invStd = e.op('Reciprocal', [e.op('Sqrt', [e.op('Add', [variance, e.constF(eps)])])]);
  const xhat = e.op('Mul', [centered, invStd]);
  const grads: (string | undefined)[] = [undefined, undefined, undefined];
  if (ctx.needs[0]) {
    const gxhat = e.op('Mul', [gy, scale]);
    const m1 = e.reduceMean(gxhat, axes, true);
    const m2 = e.reduceMean(e.op('Mul', [gxhat, xhat]), axes, true);
    const inner = e.op('Sub', [e.op('Sub', [gxhat, m1]), e.op('Mul', [xhat, m2])]);
    grads[0] = e.op('Mul', [invStd, inner]);
  }
  if (ctx.needs[1]) grads[1] = e.reduceToShape(e.op('Mul', [gy, xhat]), y, scale);
  if (bias && ctx.needs[2]) grads[2] = e.reduceToShape(gy, y, bias);
  return grads;
}

export const normRules: Record<string, RuleEntry> = {
  BatchNormalization: { rule: batchNorm, diff: [0, 1, 2] },
  LayerNormalization: { rule: layerNorm, diff: [0, 1, 2] },
};
