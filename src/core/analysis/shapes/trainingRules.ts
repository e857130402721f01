import type { ShapeRule } from './ruleContext';

/**
 * The optimiser ops of the ai.onnx.preview.training domain: each updated tensor (and its optimiser state) has the
 * shape of the parameter it belongs to. Inputs are R, T, then `perParam` groups of n tensors.
 */
function optimizer(perParam: number): ShapeRule {
  return (ctx) => {
    const n = Math.floor((ctx.inputCount - 2) / perParam);
    if (n <= 0) return;
    for (let j = 0; j < ctx.outputCount; j++) {
      const t = ctx.type(2 + (j % n));
      if (t) ctx.set(j, t.dtype, t.shape ? [...t.shape] : null);
    }
  };
}

export const trainingRules: Readonly<Record<string, ShapeRule>> = {
  Adagrad: optimizer(3),
  Momentum: optimizer(3),
  Adam: optimizer(4),
};
