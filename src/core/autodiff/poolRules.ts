import { getInt, getInts } from '../ir/attributes';
import { convDataGrad, resolvePads, type ConvGeometry } from './convRules';
import type { GradContext, RuleEntry } from './ruleTypes';

/**
 * Gradient rules for pooling. MaxPool routes each output gradient to the input element its Indices output names
 * (the builder adds that output to the forward node), accumulating with ScatterElements so that overlapping windows
 * add up. AveragePool spreads each output gradient evenly over its window with a ones-kernel ConvTranspose applied to
 * every channel separately.
 */

function maxPool(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const x = node.inputs[0];
  const indices = node.outputs[1];
  if (!indices) ctx.unsupported('MaxPool without an Indices output');
  if (getInt(node, 'storage_order', 0) !== 0) ctx.unsupported('MaxPool with storage_order=1');
  const zeros = e.op('ConstantOfShape', [e.size1(x)], { value: e.valueAttr(e.floatType, 0) });
  const flatIdx = e.op('Reshape', [indices, e.constI([-1])]);
  const flatGrad = e.op('Reshape', [ctx.gy[0]!, e.constI([-1])]);
  const scattered = e.op('ScatterElements', [zeros, flatIdx, flatGrad], { axis: 0, reduction: 'add' });
  return [e.op('Reshape', [scattered, e.shape(x)])];
}

function averagePool(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const x = node.inputs[0];
  const kernel = getInts(node, 'kernel_shape');
  if (!kernel) ctx.unsupported('AveragePool without kernel_shape');
  if (getInt(node, 'ceil_mode', 0) !== 0) ctx.unsupported('AveragePool with ceil_mode=1');
  const r = kernel.length;
  const strides = getInts(node, 'strides') ?? new Array<number>(r).fill(1);
  const dilations = getInts(node, 'dilations') ?? new Array<number>(r).fill(1);
  const { padsBegin, padsEnd } = resolvePads(ctx, x, kernel, strides, dilations);
  const geometry: ConvGeometry = { r, kernel, strides, dilations, padsBegin, padsEnd, group: 1 };
  const windowSize = kernel.reduce((a, b) => a * b, 1);
  const gy = ctx.gy[0]!;
  const hasPads = [...padsBegin, ...padsEnd].some((p) => p !== 0);
  let scaled: string;
  if (getInt(node, 'count_include_pad', 0) !== 0 || !hasPads) {
    scaled = e.op('Mul', [gy, e.constF(1 / windowSize)]);
  } else {
    // Border windows divide by the number of real (unpadded) elements they cover; pooling a ones image with
    // count_include_pad=1 gives exactly that count divided by the window size.
    const oneShape = e.op('Concat', [e.constI([1, 1]), e.shapeSlice(x, 2)], { axis: 0 });
    const ones = e.op('ConstantOfShape', [oneShape], { value: e.valueAttr(e.floatType, 1) });
    const frac = e.op('AveragePool', [ones], {
      kernel_shape: kernel,
      strides,
      pads: [...padsBegin, ...padsEnd],
      count_include_pad: 1,
      ...(getInts(node, 'dilations') ? { dilations } : {}),
    });
    scaled = e.op('Div', [gy, e.op('Mul', [frac, e.constF(windowSize)])]);
  }
  // Every channel is pooled alone, so fold channels into the batch and use a single-channel ones kernel.
  const perChannel = e.op('Reshape', [scaled, e.op('Concat', [e.constI([-1, 1]), e.shapeSlice(gy, 2)], { axis: 0 })]);
  const ones = e.constF(new Array<number>(windowSize).fill(1), [1, 1, ...kernel]);
  const spread = convDataGrad(ctx, perChannel, ones, x, geometry);
  return [e.op('Reshape', [spread, e.shape(x)])];
}

function globalAveragePool(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const x = node.inputs[0];
  const expanded = e.op('Expand', [ctx.gy[0]!, e.shape(x)]);
  return [e.op('Div', [expanded, e.sizeRatio(x, node.outputs[0])])];
}

function globalMaxPool(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const x = node.inputs[0];
  // Ties share the gradient in ONNX Runtime's sense of "every maximum"; PyTorch picks one. Ties are rare in
  // real activations, and the numerical check would flag a model where they matter.
  const mask = e.op('Equal', [x, node.outputs[0]]);
  return [e.op('Where', [mask, e.op('Expand', [ctx.gy[0]!, e.shape(x)]), e.constF(0)])];
}

export const poolRules: Record<string, RuleEntry> = {
  MaxPool: { rule: maxPool, diff: [0] },
  AveragePool: { rule: averagePool, diff: [0] },
  GlobalAveragePool: { rule: globalAveragePool, diff: [0] },
  GlobalMaxPool: { rule: globalMaxPool, diff: [0] },
};
