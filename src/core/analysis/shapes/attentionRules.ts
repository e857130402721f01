import type { Dim } from '../../ir/types';
import { getInt, getInts } from '../../ir/attributes';
import { addDims, divDims, formatShape, mulDims } from './dims';
import { mismatch } from './mismatch';
import type { ShapeRule, ShapeRuleContext } from './ruleContext';

/**
 * Recent fused ops: Attention and RotaryEmbedding (opset 23), CenterCropPad (18), AffineGrid (20) and Col2Im (18).
 * Attention takes Q, K, V either as 4-D [batch, heads, sequence, head size] or as 3-D [batch, sequence, hidden] with
 * q_num_heads and kv_num_heads attributes.
 */
function attention(ctx: ShapeRuleContext): void {
  const q = ctx.shape(0);
  const k = ctx.shape(1);
  const v = ctx.shape(2);
  const dtype = ctx.dtype(0);
  if (!q || !v) return ctx.set(0, dtype, null);
  let y: Dim[];
  if (q.length === 4) {
    if (v.length !== 4) mismatch(`Q ${formatShape(q)} is 4-D but V ${formatShape(v)} is not`);
    y = [q[0], q[1], q[2], v[3]];
  } else if (q.length === 3) {
    const qHeads = getInt(ctx.node, 'q_num_heads');
    const kvHeads = getInt(ctx.node, 'kv_num_heads');
    const vHead = kvHeads ? divDims(v[v.length - 1], kvHeads) : null;
    y = [q[0], q[1], qHeads && vHead !== null ? mulDims(vHead, qHeads) : null];
  } else return mismatch(`Q ${formatShape(q)} must be 3-D or 4-D`);
  ctx.set(0, dtype, y);
  // present_key and present_value append this step's keys and values to the past ones along the sequence axis.
  const pastK = ctx.shape(4);
  const pastV = ctx.shape(5);
  if (k && k.length === 4 && ctx.wants(1)) {
    ctx.set(1, dtype, [k[0], k[1], pastK ? addDims(pastK[2], k[2]) : k[2], k[3]]);
  }
  if (v.length === 4 && ctx.wants(2)) ctx.set(2, dtype, [v[0], v[1], pastV ? addDims(pastV[2], v[2]) : v[2], v[3]]);
}

function centerCropPad(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  const target = ctx.value(1)?.values;
  if (!x) return ctx.set(0, dtype, null);
  const axes = (getInts(ctx.node, 'axes') ?? x.map((_, i) => i)).map((a) => (a < 0 ? a + x.length : a));
  const out = [...x];
  axes.forEach((a, i) => (out[a] = target ? target[i] ?? null : null));
  ctx.set(0, dtype, out);
}

function affineGrid(ctx: ShapeRuleContext): void {
  const size = ctx.ints(1);
  const dtype = ctx.dtype(0);
  if (!size) return ctx.set(0, dtype, null);
  // size is [N, C, H, W] or [N, C, D, H, W]; the grid is [N, H, W, 2] or [N, D, H, W, 3].
  ctx.set(0, dtype, [size[0], ...size.slice(2), size.length - 2]);
}

function col2Im(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  if (x && x.length !== 3) mismatch(`input ${formatShape(x)} must have rank 3`);
  const image = ctx.ints(1);
  const block = ctx.ints(2);
  const blockSize = block ? block.reduce((a, b) => a * b, 1) : null;
  const channels = x && blockSize ? divDims(x[1], blockSize) : null;
  ctx.set(0, dtype, [x ? x[0] : null, channels, ...(image ?? (block ? block.map(() => null) : []))]);
}

export const attentionRules: Readonly<Record<string, ShapeRule>> = {
  Attention: attention,
  RotaryEmbedding: (ctx) => {
    const x = ctx.shape(0);
    ctx.set(0, ctx.dtype(0), x ? [...x] : null);
  },
  CenterCropPad: centerCropPad,
  AffineGrid: affineGrid,
  Col2Im: col2Im,
};
