import { getString } from '../../ir/attributes';
import type { ShapeRule, ShapeRuleContext } from './ruleContext';

/**
 * Training losses that exporters sometimes keep in the graph. With reduction 'none' the loss has the target's shape;
 * otherwise it is a scalar. SoftmaxCrossEntropyLoss's optional second output is the log-probabilities.
 */
function loss(ctx: ShapeRuleContext): void {
  const dtype = ctx.dtype(0);
  const reduction = getString(ctx.node, 'reduction', 'mean');
  const target = ctx.shape(1);
  ctx.set(0, dtype, reduction === 'none' ? (target ? [...target] : null) : []);
  if (ctx.wants(1)) {
    const x = ctx.shape(0);
    ctx.set(1, dtype, x ? [...x] : null);
  }
}

export const lossRules: Readonly<Record<string, ShapeRule>> = {
  SoftmaxCrossEntropyLoss: loss,
  NegativeLogLikelihoodLoss: loss,
};
