import { UserInputError } from '../errors';
import { f } from '../ir/builder';
import type { DataType, Dim } from '../ir/types';
import type { LayerCall } from './interpreter';
import type { ShapedTensor } from './layerShapes';
import { boolOf, flagArg, floatOf, intOf, knownDims, refuseArg, tensorArg, where } from './lowerContext';
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

/** The masks one attention call is given, by the names of the call's arguments that hold them. */
interface MaskArgs {
  call: LayerCall;
  /** attn_mask, src_mask, tgt_mask or memory_mask: (L, S) or (N·heads, L, S), bool or float. */
  attn?: string;
  /** key_padding_mask and the like: (N, S), bool. */
  padding?: string;
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
 * The float mask PyTorch 1.13's multi_head_attention_forward adds to the scores, of a shape that broadcasts to
 * (N·heads, L, S), or null without masks. A bool attn_mask is −∞ where True and 0 elsewhere, a float one is added as
 * it is; a key padding mask (N, S) is repeated for every head and, where True, makes the position −∞ (masked_fill on a
 * float attn_mask, logical_or with a bool one). Shapes are checked as PyTorch checks them.
 */
function attentionMask(ctx: LoweringContext, layer: LayerValue, m: MaskArgs, batch: number, heads: number, len: number, srcLen: number, batched: boolean): string | null {
  const attn = m.attn ? tensorArg(layer, m.call, m.attn) : null;
  const padding = m.padding ? tensorArg(layer, m.call, m.padding) : null;
  if (!attn && !padding) return null;
  const typeOf = (name: string, t: ShapedTensor): DataType | undefined => {
    const dtype = ctx.dtypeOf(t.irName!);
    if (dtype !== 'bool' && dtype !== 'float32') refuseArg(layer, m.call, name, `is a ${dtype ?? 'tensor of a type Layerscope does not know'}; masks must be bool or float32 to convert the call to ONNX`);
    return dtype;
  };
  const shapeOf = (name: string, t: ShapedTensor, allowed: number[][]): number[] => {
    const dims = knownDims(t.shape);
    if (!dims || !allowed.some((a) => a.length === dims.length && a.every((d, k) => d === dims[k]))) {
      refuseArg(layer, m.call, name, `has shape ${t.shape ? t.shape.map((d) => d ?? '?').join('×') : 'unknown'}; PyTorch needs ${allowed.map((a) => a.join('×')).join(' or ')}`);
    }
    return dims!;
  };
  const minusInf = (): string => ctx.constant([-Infinity], 'float32', []);
  let paddingMask: string | null = null;
  if (padding) {
    // PyTorch adds a float key padding mask on its general path but reads it as bool on its fast path (batch_first
    // self-attention in eval mode), so only a bool one has one meaning.
    if (typeOf(m.padding!, padding) !== 'bool') refuseArg(layer, m.call, m.padding!, 'is a float mask, which PyTorch adds on one code path and reads as bool on another; pass a bool mask to convert the call to ONNX');
    shapeOf(m.padding!, padding, [batched ? [batch, srcLen] : [srcLen]]);
    // (N, S) → (N, 1, 1, S) → (N, heads, 1, S) → (N·heads, 1, S), the order in which heads are split from the batch.
    const spread = ctx.node('Expand', [ctx.node('Reshape', [padding.irName!, ctx.constant([batch, 1, 1, srcLen], 'int64')], {}, layer), ctx.constant([batch, heads, 1, srcLen], 'int64')], {}, layer);
    paddingMask = ctx.node('Reshape', [spread, ctx.constant([batch * heads, 1, srcLen], 'int64')], {}, layer);
  }
  if (!attn) return ctx.node('Where', [paddingMask!, minusInf(), ctx.constant([0], 'float32', [])], {}, layer);
  const attnType = typeOf(m.attn!, attn);
  shapeOf(m.attn!, attn, [[len, srcLen], [batch * heads, len, srcLen]]);
  if (attnType === 'bool') {
    const masked = paddingMask ? ctx.node('Or', [attn.irName!, paddingMask], {}, layer) : attn.irName!;
    return ctx.node('Where', [masked, minusInf(), ctx.constant([0], 'float32', [])], {}, layer);
  }
  return paddingMask ? ctx.node('Where', [paddingMask, minusInf(), attn.irName!], {}, layer) : attn.irName!;
}

/**
 * Attention as PyTorch's multi_head_attention_forward computes it: query, key and value projected, heads split by
 * reshaping, scaled dot-product scores plus the mask, softmax, heads merged, out-projection. Key and value may be
 * another sequence than the query (cross-attention), of another length and, with kdim and vdim, of other widths;
 * PyTorch then keeps separate q/k/v projection weights instead of one packed in_proj_weight. `own` is the sub-module
 * prefix of the weights ('' for an nn.MultiheadAttention itself, 'self_attn.' inside a transformer layer). Unbatched
 * inputs (L, E) are, as in PyTorch, a batch of one in the middle dim whatever batch_first says.
 */
function attention(ctx: LoweringContext, layer: LayerValue, own: string, query: Seq, key: Seq, value: Seq, o: AttentionOptions, masks: MaskArgs): string {
  const ranks = [query, key, value].map((s) => knownDims(s.shape)?.length);
  if (ranks.every((r) => r === 3)) return batchedAttention(ctx, layer, own, query, key, value, o, masks, true);
  if (!ranks.every((r) => r === 2)) throw new UserInputError(`${where(layer)}: query, key and value of known shape, all 3-d or all 2-d (unbatched), are needed to convert attention to ONNX`);
  // A sequence passed more than once (self-attention) is unsqueezed once, so that it stays one value.
  const batchOfOne = new Map<string, Seq>();
  const one = (s: Seq): Seq => {
    let b = batchOfOne.get(s.name);
    if (!b) batchOfOne.set(s.name, (b = { name: ctx.node('Unsqueeze', [s.name, ctx.constant([1], 'int64')], {}, layer), shape: [s.shape![0], 1, s.shape![1]] }));
    return b;
  };
  const out = batchedAttention(ctx, layer, own, one(query), one(key), one(value), { ...o, batchFirst: false }, masks, false);
  return ctx.node('Squeeze', [out, ctx.constant([1], 'int64')], {}, layer);
}

/** Attention on 3-d sequences; `batched` is false for unbatched inputs made a batch of one, whose masks have no batch dim. */
function batchedAttention(ctx: LoweringContext, layer: LayerValue, own: string, query: Seq, key: Seq, value: Seq, o: AttentionOptions, masks: MaskArgs, batched: boolean): string {
  const [q, k] = [query, key].map((s) => knownDims(s.shape)!);
  const [len, batch] = o.batchFirst ? [q[1], q[0]] : [q[0], q[1]];
  const srcLen = o.batchFirst ? k[1] : k[0];
  const e = o.embed;
  const hd = e / o.heads;
  if (!Number.isInteger(hd)) throw new UserInputError(`${where(layer)}: embed_dim ${e} is not divisible by num_heads ${o.heads}`);
  const mask = attentionMask(ctx, layer, masks, batch, o.heads, len, srcLen, batched);
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
  const product = ctx.node('MatMul', [qh, split(project(key, 1), srcLen, [1, 2, 0])], {}, layer);
  const scores = mask ? ctx.node('Add', [mask, product], {}, layer) : product;
  const weighted = ctx.node('MatMul', [ctx.node('Softmax', [scores], { axis: -1 }, layer), split(project(value, 2), srcLen, [1, 0, 2])], {}, layer);
  const merged = ctx.node('Reshape', [ctx.node('Transpose', [weighted], { perm: [1, 0, 2] }, layer), ctx.constant([len, batch, e], 'int64')], {}, layer);
  const out = subLinear(ctx, layer, `${own}out_proj`, merged, e, e, o.bias, true);
  return o.batchFirst ? ctx.node('Transpose', [out], { perm: [1, 0, 2] }, layer) : out;
}

/**
 * The `is_causal` hints of PyTorch 2 (1.13 has no such argument). False changes nothing. True tells PyTorch that the
 * mask given is causal, and PyTorch may then use a causal kernel instead of the mask, so its result depends on the
 * hint being right; the lowering refuses it rather than pick one of the two.
 */
function refuseCausalHints(layer: LayerValue, call: LayerCall, names: string[]): void {
  for (const name of names) {
    if (flagArg(layer, call, name)) refuseArg(layer, call, name, 'is True, a PyTorch 2 hint whose result depends on the mask being causal; pass the causal mask alone to convert the call to ONNX');
  }
}

/** A sequence argument of a call, which must be a tensor in the graph. */
function seqArg(layer: LayerValue, call: LayerCall, name: string): Seq {
  const t = tensorArg(layer, call, name) ?? refuseArg(layer, call, name, 'is None, so the call cannot be converted to ONNX');
  return { name: t.irName!, shape: t.shape };
}

/**
 * nn.MultiheadAttention called as attn(query, key, value, key_padding_mask, need_weights, attn_mask, …), self- or
 * cross-attention. need_weights and average_attn_weights shape only the returned weights, which the lowering does not
 * build (they are an unknown value to the forward code), so the output they leave alone is converted whatever they are.
 */
export function lowerMultiheadAttention(ctx: LoweringContext, layer: LayerValue, call: LayerCall): string {
  const a = layer.args;
  if (boolOf(a.get('add_bias_kv'), false) || boolOf(a.get('add_zero_attn'), false)) throw new UserInputError(`${where(layer)}: add_bias_kv and add_zero_attn cannot be converted to ONNX without PyTorch yet`);
  refuseCausalHints(layer, call, ['is_causal']);
  const embed = intOf(a.get('embed_dim'), 0);
  const optional = (v: Value | undefined): number => (v && v.kind === 'num' ? v.value : embed);
  const options: AttentionOptions = {
    embed,
    heads: intOf(a.get('num_heads'), 1),
    bias: boolOf(a.get('bias'), true),
    batchFirst: boolOf(a.get('batch_first'), false),
    kdim: optional(a.get('kdim')),
    vdim: optional(a.get('vdim')),
  };
  return attention(ctx, layer, '', seqArg(layer, call, 'query'), seqArg(layer, call, 'key'), seqArg(layer, call, 'value'), options, { call, attn: 'attn_mask', padding: 'key_padding_mask' });
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

/** nn.TransformerEncoderLayer(src, src_mask, src_key_padding_mask): post-norm by default, pre-norm with norm_first. */
export function lowerEncoderLayer(ctx: LoweringContext, layer: LayerValue, call: LayerCall): string {
  refuseCausalHints(layer, call, ['is_causal']);
  const { attentionOptions, feedForward, norm, add, normFirst } = transformerParts(ctx, layer);
  const src = seqArg(layer, call, 'src');
  const masks: MaskArgs = { call, attn: 'src_mask', padding: 'src_key_padding_mask' };
  const selfAttention = (x: string): string => attention(ctx, layer, 'self_attn.', { name: x, shape: src.shape }, { name: x, shape: src.shape }, { name: x, shape: src.shape }, attentionOptions, masks);
  const x = src.name;
  if (normFirst) {
    const x1 = add(x, selfAttention(norm('norm1', x)));
    return add(x1, feedForward(norm('norm2', x1)));
  }
  const x1 = norm('norm1', add(x, selfAttention(x)));
  return norm('norm2', add(x1, feedForward(x1)));
}

/**
 * nn.TransformerDecoderLayer(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask):
 * self-attention with the tgt masks, cross-attention to the memory with the memory masks, feed-forward.
 */
export function lowerDecoderLayer(ctx: LoweringContext, layer: LayerValue, call: LayerCall): string {
  refuseCausalHints(layer, call, ['tgt_is_causal', 'memory_is_causal']);
  const tgt = seqArg(layer, call, 'tgt');
  const memory = seqArg(layer, call, 'memory');
  const { attentionOptions, feedForward, norm, add, normFirst } = transformerParts(ctx, layer);
  const shape = tgt.shape;
  const selfAttention = (x: string): string => attention(ctx, layer, 'self_attn.', { name: x, shape }, { name: x, shape }, { name: x, shape }, attentionOptions, { call, attn: 'tgt_mask', padding: 'tgt_key_padding_mask' });
  const crossAttention = (x: string): string => attention(ctx, layer, 'multihead_attn.', { name: x, shape }, memory, memory, attentionOptions, { call, attn: 'memory_mask', padding: 'memory_key_padding_mask' });
  const x = tgt.name;
  if (normFirst) {
    const x1 = add(x, selfAttention(norm('norm1', x)));
    const x2 = add(x1, crossAttention(norm('norm2', x1)));
    return add(x2, feedForward(norm('norm3', x2)));
  }
  const x1 = norm('norm1', add(x, selfAttention(x)));
  const x2 = norm('norm2', add(x1, crossAttention(x1)));
  return norm('norm3', add(x2, feedForward(x2)));
}
