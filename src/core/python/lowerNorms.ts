import { UserInputError } from '../errors';
import { f } from '../ir/builder';
import { encodeValues } from '../ir/tensorData';
import type { Dim } from '../ir/types';
import { boolOf, floatOf, intOf, where } from './lowerContext';
import type { LoweringContext } from './lowerContext';
import type { LayerValue } from './values';

/**
 * nn.GroupNorm and nn.InstanceNorm1d/2d/3d in eval mode. The normalisation is written out as ReduceMean, Sub, Mul, Div
 * and Sqrt rather than as ONNX's GroupNormalization (opset 18, with a scale layout that changed at 21) or
 * InstanceNormalization, because the gradient probe differentiates these plain ops and has no rule for either.
 */

/** (x − mean)/√(var + ε) over `axes`, with the biased variance PyTorch uses. */
function normalize(ctx: LoweringContext, layer: LayerValue, x: string, axes: number[], eps: number): string {
  const mean = ctx.node('ReduceMean', [x], { axes, keepdims: 1 }, layer);
  const centred = ctx.node('Sub', [x, mean], {}, layer);
  const variance = ctx.node('ReduceMean', [ctx.node('Mul', [centred, centred], {}, layer)], { axes, keepdims: 1 }, layer);
  return ctx.node('Div', [centred, ctx.node('Sqrt', [ctx.node('Add', [variance, ctx.constant([eps], 'float32', [])], {}, layer)], {}, layer)], {}, layer);
}

/** y·γ + β with γ = 1 and β = 0 to start, as PyTorch's affine norms do; γ and β keep PyTorch's [C] shape. */
function affine(ctx: LoweringContext, layer: LayerValue, y: string, channels: number, spatialAxes: number): string {
  const perChannel = ctx.constant([channels, ...Array<number>(spatialAxes).fill(1)], 'int64');
  const gamma = ctx.node('Reshape', [ctx.param(layer, 'weight', [channels], 0, 'ones'), perChannel], {}, layer);
  const beta = ctx.node('Reshape', [ctx.param(layer, 'bias', [channels], 0, 'zeros'), perChannel], {}, layer);
  return ctx.node('Add', [ctx.node('Mul', [y, gamma], {}, layer), beta], {}, layer);
}

/** nn.GroupNorm: each sample's channels are split into groups, and each group is normalised over its channels and positions. */
export function lowerGroupNorm(ctx: LoweringContext, layer: LayerValue, x: string, shape: Dim[] | null): string {
  const a = layer.args;
  const groups = intOf(a.get('num_groups'), 1);
  const channels = intOf(a.get('num_channels'), 0);
  if (groups <= 0 || channels % groups !== 0) throw new UserInputError(`${where(layer)}: num_channels ${channels} is not divisible by num_groups ${groups}`);
  if (!shape || shape.length < 2) throw new UserInputError(`${where(layer)}: an input of known rank (N×C×…) is needed to convert it to ONNX`);
  // [N, C, …] → [N, G, C/G·…]: Reshape's 0 keeps the batch, -1 gathers each group's channels and positions.
  const grouped = ctx.node('Reshape', [x, ctx.constant([0, groups, -1], 'int64')], {}, layer);
  const normed = normalize(ctx, layer, grouped, [2], floatOf(a.get('eps'), 1e-5));
  const back = ctx.node('Reshape', [normed, ctx.node('Shape', [x], {}, layer)], {}, layer);
  return boolOf(a.get('affine'), true) ? affine(ctx, layer, back, channels, shape.length - 2) : back;
}

/**
 * nn.InstanceNorm1d/2d/3d: each sample's channel is normalised over its positions. With track_running_stats, eval mode
 * normalises with the running statistics instead, which is BatchNormalization; PyTorch's default (False) uses the
 * input's own statistics in eval mode too.
 */
export function lowerInstanceNorm(ctx: LoweringContext, layer: LayerValue, x: string, shape: Dim[] | null): string {
  const a = layer.args;
  const n = Number(/([123])d$/.exec(layer.type)![1]);
  if (shape?.length !== n + 2) throw new UserInputError(`${where(layer)}: a batched ${n + 2}-d input is needed to convert it to ONNX`);
  const channels = intOf(a.get('num_features'), 0);
  const eps = floatOf(a.get('eps'), 1e-5);
  const isAffine = boolOf(a.get('affine'), false);
  if (!boolOf(a.get('track_running_stats'), false)) {
    const y = normalize(ctx, layer, x, Array.from({ length: n }, (_, i) => 2 + i), eps);
    return isAffine ? affine(ctx, layer, y, channels, n) : y;
  }
  // Without affine there is no γ or β; ConstantOfShape makes the ones and zeros BatchNormalization needs without them
  // being counted as parameters, as Constant tensors in its scale and bias slots would be.
  const filled = (value: number): string => ctx.node('ConstantOfShape', [ctx.constant([channels], 'int64')], { value: { name: 'value', dtype: 'float32', dims: [1], data: { kind: 'inline', bytes: encodeValues('float32', [value]) } } }, layer);
  const scale = isAffine ? ctx.param(layer, 'weight', [channels], 0, 'ones') : filled(1);
  const bias = isAffine ? ctx.param(layer, 'bias', [channels], 0, 'zeros') : filled(0);
  const mean = ctx.param(layer, 'running_mean', [channels], 0, 'zeros');
  const variance = ctx.param(layer, 'running_var', [channels], 0, 'ones');
  return ctx.node('BatchNormalization', [x, scale, bias, mean, variance], { epsilon: f(eps), momentum: f(1 - floatOf(a.get('momentum'), 0.1)) }, layer);
}
