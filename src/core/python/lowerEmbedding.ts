import { UserInputError } from '../errors';
import type { ShapedTensor } from './layerShapes';
import type { LayerCall } from './interpreter';
import { intOf, refuseArg, where } from './lowerContext';
import type { LoweringContext } from './lowerContext';
import type { LayerValue } from './values';

/**
 * nn.Embedding and nn.EmbeddingBag: a Gather of rows from a table drawn N(0, 1) as PyTorch draws it, with the padding
 * row zeroed afterwards. Under a chosen scheme the table is drawn with PyTorch's fan-in of a [num, dim] weight, dim.
 */

interface Table {
  weight: string;
  /** The padding row as a non-negative index, or null without padding_idx. */
  padding: number | null;
}

function table(ctx: LoweringContext, layer: LayerValue): Table {
  const a = layer.args;
  const rows = intOf(a.get('num_embeddings'), 0);
  const dim = intOf(a.get('embedding_dim'), 0);
  const maxNorm = a.get('max_norm');
  // max_norm rescales the looked-up rows of the weight in place on every call, which a static graph cannot repeat.
  if (maxNorm && maxNorm.kind !== 'none') throw new UserInputError(`${where(layer)}: max_norm cannot be converted to ONNX without PyTorch yet`);
  const weight = ctx.param(layer, 'weight', [rows, dim], dim, 'embedding');
  const pad = a.get('padding_idx');
  if (!pad || pad.kind !== 'num') return { weight, padding: null };
  const padding = pad.value < 0 ? rows + pad.value : pad.value;
  ctx.weightValues(weight).fill(0, padding * dim, (padding + 1) * dim);
  return { weight, padding };
}

export function lowerEmbedding(ctx: LoweringContext, layer: LayerValue, x: string): string {
  return ctx.node('Gather', [table(ctx, layer).weight, x], { axis: 0 }, layer);
}

/**
 * nn.EmbeddingBag on a 2-d input, where each row is one bag: the rows' embeddings are summed, averaged or maxed. Entries
 * equal to padding_idx are left out of their bag, so they count neither in a mean's denominator nor in a max, and a bag
 * of padding only gives zeros, as PyTorch gives. The 1-d form with offsets and per-sample weights are refused, naming
 * the argument: bags of different lengths do not fit the fixed shapes of these ops.
 */
export function lowerEmbeddingBag(ctx: LoweringContext, layer: LayerValue, call: LayerCall, input: ShapedTensor): string {
  for (const name of ['offsets', 'per_sample_weights']) {
    const v = call.args.get(name);
    if (v && v.kind !== 'none') refuseArg(layer, call, name, 'cannot be converted to ONNX without PyTorch yet; bags given as a 2-d input without it can');
  }
  const x = input.irName!;
  if (input.shape?.length !== 2) throw new UserInputError(`${where(layer)}: a 2-d input of bags (bags × length) is needed to convert it to ONNX`);
  const modeValue = layer.args.get('mode');
  const mode = modeValue && modeValue.kind === 'str' ? modeValue.value : 'mean';
  if (mode !== 'sum' && mode !== 'mean' && mode !== 'max') throw new UserInputError(`${where(layer)}: mode ${mode} is not one of PyTorch's 'sum', 'mean' and 'max'`);
  const { weight, padding } = table(ctx, layer);
  const rows = ctx.node('Gather', [weight, x], { axis: 0 }, layer);
  const bagAxis = [1];
  if (padding === null) {
    if (mode === 'sum') return ctx.node('ReduceSum', [rows, ctx.constant(bagAxis, 'int64')], { keepdims: 0 }, layer);
    return ctx.node(mode === 'mean' ? 'ReduceMean' : 'ReduceMax', [rows], { axes: bagAxis, keepdims: 0 }, layer);
  }
  const kept = ctx.node('Unsqueeze', [ctx.node('Not', [ctx.node('Equal', [x, ctx.constant([padding], 'int64', [])], {}, layer)], {}, layer), ctx.constant([2], 'int64')], {}, layer);
  const weights = ctx.node('Cast', [kept], { to: 1 }, layer);
  const count = ctx.node('ReduceSum', [weights, ctx.constant(bagAxis, 'int64')], { keepdims: 0 }, layer);
  if (mode === 'max') {
    const masked = ctx.node('Where', [kept, rows, ctx.constant([-3.4028234663852886e38], 'float32', [])], {}, layer);
    const top = ctx.node('ReduceMax', [masked], { axes: bagAxis, keepdims: 0 }, layer);
    return ctx.node('Where', [ctx.node('Greater', [count, ctx.constant([0], 'float32', [])], {}, layer), top, ctx.constant([0], 'float32', [])], {}, layer);
  }
  const sum = ctx.node('ReduceSum', [ctx.node('Mul', [rows, weights], {}, layer), ctx.constant(bagAxis, 'int64')], { keepdims: 0 }, layer);
  return mode === 'sum' ? sum : ctx.node('Div', [sum, ctx.node('Max', [count, ctx.constant([1], 'float32', [])], {}, layer)], {}, layer);
}
