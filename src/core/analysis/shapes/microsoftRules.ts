import { getInt } from '../../ir/attributes';
import { broadcastShapes, formatShape, isKnown } from './dims';
import { matmulShape } from './linalgRules';
import { mismatch } from './mismatch';
import { convPoolRules } from './convPoolRules';
import type { ShapeRule, ShapeRuleContext } from './ruleContext';

/**
 * com.microsoft contrib ops that onnxruntime's optimiser and quantiser write into saved models. Each follows the
 * standard op it fuses; only the common ones are covered, and the rest warn as unknown ops.
 */

function sameAsInput(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  ctx.set(0, ctx.dtype(0), x ? [...x] : null);
}

/** FusedMatMul is MatMul with optional transposes of the last two axes of either operand. */
function fusedMatMul(ctx: ShapeRuleContext): void {
  const swap = (s: ReturnType<ShapeRuleContext['shape']>, on: boolean) =>
    s && on && s.length >= 2 ? [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]] : s;
  const a = swap(ctx.shape(0), getInt(ctx.node, 'transA', 0) === 1);
  const b = swap(ctx.shape(1), getInt(ctx.node, 'transB', 0) === 1);
  ctx.set(0, ctx.dtype(0), matmulShape(a, b));
}

/** Attention over [batch, sequence, hidden] with packed QKV weights [hidden, 3 * hidden]. */
function attention(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const w = ctx.shape(1);
  if (!x) return ctx.set(0, ctx.dtype(0), null);
  if (x.length !== 3) mismatch(`input ${formatShape(x)} must be [batch, sequence, hidden]`);
  const hidden = w && isKnown(w[1]) && w[1] % 3 === 0 ? w[1] / 3 : x[2];
  ctx.set(0, ctx.dtype(0), [x[0], x[1], hidden]);
}

function embedLayerNorm(ctx: ShapeRuleContext): void {
  const ids = ctx.shape(0);
  const wordEmbedding = ctx.shape(2);
  const hidden = wordEmbedding ? wordEmbedding[1] : null;
  ctx.set(0, ctx.dtype(2), ids ? [ids[0], ids[1], hidden] : null);
  if (ctx.wants(1)) ctx.set(1, 'int32', ids ? [ids[0]] : null);
  if (ctx.wants(2)) ctx.set(2, ctx.dtype(2), ids ? [ids[0], ids[1], hidden] : null);
}

/** QLinear binary ops read A at 0 and B at 3; the output has A's quantised type. */
function qlinearBinary(ctx: ShapeRuleContext): void {
  ctx.set(0, ctx.dtype(0), broadcastShapes([ctx.shape(0), ctx.shape(3)]));
}

/** MatMulNBits keeps A's leading axes and gives N columns. */
function matMulNBits(ctx: ShapeRuleContext): void {
  const a = ctx.shape(0);
  const n = getInt(ctx.node, 'N') ?? null;
  ctx.set(0, ctx.dtype(0), a ? [...a.slice(0, -1), n] : null);
}

export const microsoftRules: Readonly<Record<string, ShapeRule>> = {
  Gelu: sameAsInput,
  FastGelu: sameAsInput,
  BiasGelu: sameAsInput,
  QuickGelu: sameAsInput,
  BiasAdd: sameAsInput,
  SkipLayerNormalization: sameAsInput,
  SkipSimplifiedLayerNormalization: sameAsInput,
  RotaryEmbedding: sameAsInput,
  QLinearSigmoid: sameAsInput,
  QLinearLeakyRelu: sameAsInput,
  QLinearSoftmax: sameAsInput,
  FusedConv: convPoolRules.Conv,
  FusedMatMul: fusedMatMul,
  Attention: attention,
  EmbedLayerNormalization: embedLayerNorm,
  QLinearAdd: qlinearBinary,
  QLinearMul: qlinearBinary,
  QLinearGlobalAveragePool: (ctx) => {
    const x = ctx.shape(0);
    const channelsLast = getInt(ctx.node, 'channels_last', 0) === 1;
    ctx.set(0, ctx.dtype(0), x ? x.map((d, i) => (i === 0 || i === (channelsLast ? x.length - 1 : 1) ? d : 1)) : null);
  },
  MatMulNBits: matMulNBits,
  MatMulIntegerToFloat: (ctx) => ctx.set(0, ctx.dtype(2), matmulShape(ctx.shape(0), ctx.shape(1))),
  DynamicQuantizeMatMul: (ctx) => ctx.set(0, 'float32', matmulShape(ctx.shape(0), ctx.shape(1))),
};
