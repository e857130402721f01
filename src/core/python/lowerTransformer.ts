import { UserInputError } from '../errors';
import { f } from '../ir/builder';
import type { Dim } from '../ir/types';
import type { ShapedTensor } from './layerShapes';
import { boolOf, floatOf, intOf, knownDims, where } from './lowerContext';
import type { LoweringContext } from './lowerContext';
import type { LayerValue, Value } from './values';

/**
 * nn.MultiheadAttention, nn.TransformerEncoderLayer and nn.TransformerDecoderLayer in eval mode, written out as the
 * MatMul, Softmax and LayerNormalization ops PyTorch computes them with, so that the gradient probe differentiates
 * them. Weights carry PyTorch's state-dict names and are initialised as PyTorch initialises them: xavier_uniform
 * in-projections, zero in-projection and out-projection biases, default-initialised Linear layers elsewhere, LayerNorm
 * γ = 1 and β = 0.
 */

/** A tensor in the graph with the shape the analysis gave it. */
interface Seq {
  name: string;
  shape: Dim[] | null;
}

interface AttentionOptions {
  embed: number;
  heads: number;
  bias: boolean;
  batchFirst: boolean;
  kdim: number;
  vdim: number;
}

const uniform = (ctx: LoweringContext, bound: number) => (): number => (ctx.rng.uniform() * 2 - 1) * bound;

/** A Linear sub-module the source does not spell out (out_proj, linear1, linear2), with its default U(±1/√fan_in) init. */
function subLinear(ctx: LoweringContext, layer: LayerValue, key: string, x: string, fin: number, fout: number, bias: boolean, zeroBias = false): string {
  const bound = 1 / Math.sqrt(fin);
  const w = ctx.named(layer, `${key}.weight`, [fout, fin], uniform(ctx, bound));
  const y = ctx.node('MatMul', [x, ctx.node('Transpose', [w], { perm: [1, 0] }, layer)], {}, layer);
  if (!bias) return y;
  return ctx.node('Add', [y, ctx.named(layer, `${key}.bias`, [fout], zeroBias ? () => 0 : uniform(ctx, bound))], {}, layer);
}

/**
 * Attention as PyTorch's multi_head_attention_forward computes it: query, key and value projected, heads split by
 * reshaping, scaled dot-product softmax, heads merged, out-projection. Key and value may be another sequence than the
 * query (cross-attention), of another length and, with kdim and vdim, of other widths; PyTorch then keeps separate
 * q/k/v projection weights instead of one packed in_proj_weight. `own` is the sub-module prefix of the weights
 * ('' for an nn.MultiheadAttention itself, 'self_attn.' inside a transformer layer).
 */
function attention(ctx: LoweringContext, layer: LayerValue, own: string, query: Seq, key: Seq, value: Seq, o: AttentionOptions): string {
  const dims = [query, key, value].map((s) => knownDims(s.shape));
  if (dims.some((d) => !d || d.length !== 3)) throw new UserInputError(`${where(layer)}: 3-d query, key and value of known shape are needed to convert attention to ONNX`);
  const [q, k] = dims as number[][];
  const [len, batch] = o.batchFirst ? [q[1], q[0]] : [q[0], q[1]];
  const srcLen = o.batchFirst ? k[1] : k[0];
  const e = o.embed;
  const hd = e / o.heads;
  if (!Number.isInteger(hd)) throw new UserInputError(`${where(layer)}: embed_dim ${e} is not divisible by num_heads ${o.heads}`);
  // PyTorch computes in (length, batch, features); a sequence read three times (self-attention) is transposed once.
  const timeMajor = new Map<string, string>();
  const seqFirst = (s: Seq): string => {
    let t = timeMajor.get(s.name);
    if (!t) timeMajor.set(s.name, (t = o.batchFirst ? ctx.node('Transpose', [s.name], { perm: [1, 0, 2] }, layer) : s.name));
    return t;
  };
  const xavier = (fanOut: number, fanIn: number) => uniform(ctx, Math.sqrt(6 / (fanIn + fanOut)));
  const weights =
    o.kdim === e && o.vdim === e
      ? ctx.split(ctx.named(layer, `${own}in_proj_weight`, [3 * e, e], xavier(3 * e, e)), [e, e, e], 0, layer)
      : [
          ctx.named(layer, `${own}q_proj_weight`, [e, e], xavier(e, e)),
          ctx.named(layer, `${own}k_proj_weight`, [e, o.kdim], xavier(e, o.kdim)),
          ctx.named(layer, `${own}v_proj_weight`, [e, o.vdim], xavier(e, o.vdim)),
        ];
  const biases = o.bias ? ctx.split(ctx.named(layer, `${own}in_proj_bias`, [3 * e], () => 0), [e, e, e], 0, layer) : null;
  const project = (s: Seq, i: number): string => {
    const y = ctx.node('MatMul', [seqFirst(s), ctx.node('Transpose', [weights[i]], { perm: [1, 0] }, layer)], {}, layer);
    return biases ? ctx.node('Add', [y, biases[i]], {}, layer) : y;
  };
  // (length, batch, E) → (batch·heads, length, head_dim), or (batch·heads, head_dim, length) for the keys.
  const split = (t: string, n: number, perm: number[]): string => ctx.node('Transpose', [ctx.node('Reshape', [t, ctx.constant([n, batch * o.heads, hd], 'int64')], {}, layer)], { perm }, layer);
  const qh = ctx.node('Mul', [split(project(query, 0), len, [1, 0, 2]), ctx.constant([1 / Math.sqrt(hd)], 'float32', [])], {}, layer);
  const scores = ctx.node('MatMul', [qh, split(project(key, 1), srcLen, [1, 2, 0])], {}, layer);
  const weighted = ctx.node('MatMul', [ctx.node('Softmax', [scores], { axis: -1 }, layer), split(project(value, 2), srcLen, [1, 0, 2])], {}, layer);
  const merged = ctx.node('Reshape', [ctx.node('Transpose', [weighted], { perm: [1, 0, 2] }, layer), ctx.constant([len, batch, e], 'int64')], {}, layer);
  const out = subLinear(ctx, layer, `${own}out_proj`, merged, e, e, o.bias, true);
  return o.batchFirst ? ctx.node('Transpose', [out], { perm: [1, 0, 2] }, layer) : out;
}

/** nn.MultiheadAttention called as attn(query, key, value), self- or cross-attention. */
export function lowerMultiheadAttention(ctx: LoweringContext, layer: LayerValue, inputs: ShapedTensor[]): string {
  const a = layer.args;
  if (boolOf(a.get('add_bias_kv'), false) || boolOf(a.get('add_zero_attn'), false)) throw new UserInputError(`${where(layer)}: add_bias_kv and add_zero_attn cannot be converted to ONNX without PyTorch yet`);
  if (inputs.length > 3) throw new UserInputError(`${where(layer)}: attention masks cannot be converted to ONNX without PyTorch yet`);
  const [query, key, value] = [inputs[0], inputs[1] ?? inputs[0], inputs[2] ?? inputs[1] ?? inputs[0]].map((t): Seq => ({ name: t.irName!, shape: t.shape }));
  const embed = intOf(a.get('embed_dim'), 0);
  const optional = (v: Value | undefined): number => (v && v.kind === 'num' ? v.value : embed);
  return attention(ctx, layer, '', query, key, value, {
    embed,
    heads: intOf(a.get('num_heads'), 1),
    bias: boolOf(a.get('bias'), true),
    batchFirst: boolOf(a.get('batch_first'), false),
    kdim: optional(a.get('kdim')),
    vdim: optional(a.get('vdim')),
  });
}

/** What TransformerEncoderLayer and TransformerDecoderLayer share: widths, the feed-forward block and the LayerNorms. */
function transformerParts(ctx: LoweringContext, layer: LayerValue) {
  const a = layer.args;
  const d = intOf(a.get('d_model'), 0);
  const ff = intOf(a.get('dim_feedforward'), 2048);
  const eps = floatOf(a.get('layer_norm_eps'), 1e-5);
  const bias = boolOf(a.get('bias'), true);
  const act = a.get('activation');
  // PyTorch takes the activation by name or as a function (F.gelu); both are read here.
  const actName = act?.kind === 'str' ? act.value : act?.kind === 'torchRef' ? act.path.slice(act.path.lastIndexOf('.') + 1) : undefined;
  if (actName !== 'relu' && actName !== 'gelu') throw new UserInputError(`${where(layer)}: activation ${actName ?? '(not a name Layerscope can read)'} cannot be converted to ONNX without PyTorch yet`);
  const attentionOptions: AttentionOptions = { embed: d, heads: intOf(a.get('nhead'), 1), bias, batchFirst: boolOf(a.get('batch_first'), false), kdim: d, vdim: d };
  const feedForward = (x: string): string => {
    const h = subLinear(ctx, layer, 'linear1', x, d, ff, bias);
    return subLinear(ctx, layer, 'linear2', actName === 'relu' ? ctx.node('Relu', [h], {}, layer) : ctx.gelu(h, layer), ff, d, bias);
  };
  // LayerNorm's γ and β start at 1 and 0 whatever the scheme.
  const norm = (key: string, x: string): string =>
    ctx.node('LayerNormalization', [x, ctx.named(layer, `${key}.weight`, [d], () => 1), ctx.named(layer, `${key}.bias`, [d], () => 0)], { axis: -1, epsilon: f(eps) }, layer);
  const add = (x: string, y: string): string => ctx.node('Add', [x, y], {}, layer);
  return { attentionOptions, feedForward, norm, add, normFirst: boolOf(a.get('norm_first'), false) };
}

/** nn.TransformerEncoderLayer (post-norm by default, pre-norm with norm_first), relu or gelu feed-forward. */
export function lowerEncoderLayer(ctx: LoweringContext, layer: LayerValue, inputs: ShapedTensor[]): string {
  if (inputs.length > 1) throw new UserInputError(`${where(layer)}: attention masks cannot be converted to ONNX without PyTorch yet`);
  const { attentionOptions, feedForward, norm, add, normFirst } = transformerParts(ctx, layer);
  const shape = inputs[0].shape;
  const selfAttention = (x: string): string => attention(ctx, layer, 'self_attn.', { name: x, shape }, { name: x, shape }, { name: x, shape }, attentionOptions);
  const x = inputs[0].irName!;
  if (normFirst) {
    const x1 = add(x, selfAttention(norm('norm1', x)));
    return add(x1, feedForward(norm('norm2', x1)));
  }
  const x1 = norm('norm1', add(x, selfAttention(x)));
  return norm('norm2', add(x1, feedForward(x1)));
}

/** nn.TransformerDecoderLayer called as layer(tgt, memory): self-attention, cross-attention to the memory, feed-forward. */
export function lowerDecoderLayer(ctx: LoweringContext, layer: LayerValue, inputs: ShapedTensor[]): string {
  if (inputs.length < 2) throw new UserInputError(`${where(layer)}: the memory (its second argument) must be a tensor Layerscope can follow to convert it to ONNX`);
  if (inputs.length > 2) throw new UserInputError(`${where(layer)}: attention masks cannot be converted to ONNX without PyTorch yet`);
  const { attentionOptions, feedForward, norm, add, normFirst } = transformerParts(ctx, layer);
  const shape = inputs[0].shape;
  const memory: Seq = { name: inputs[1].irName!, shape: inputs[1].shape };
  const selfAttention = (x: string): string => attention(ctx, layer, 'self_attn.', { name: x, shape }, { name: x, shape }, { name: x, shape }, attentionOptions);
  const crossAttention = (x: string): string => attention(ctx, layer, 'multihead_attn.', { name: x, shape }, memory, memory, attentionOptions);
  const x = inputs[0].irName!;
  if (normFirst) {
    const x1 = add(x, selfAttention(norm('norm1', x)));
    const x2 = add(x1, crossAttention(norm('norm2', x1)));
    return add(x2, feedForward(norm('norm3', x2)));
  }
  const x1 = norm('norm1', add(x, selfAttention(x)));
  const x2 = norm('norm2', add(x1, crossAttention(x1)));
  return norm('norm3', add(x2, feedForward(x2)));
}
