import type { Dim } from '../../ir/types';
import { getInt } from '../../ir/attributes';
import { addDims, divDims, formatShape, mulDims } from './dims';
import { mismatch } from './mismatch';
import type { ShapeRule, ShapeRuleContext } from './ruleContext';

/**
 * The fused attention ops of opset 23: Attention and RotaryEmbedding. Attention takes Q, K, V either as 4-D
 * [batch, heads, sequence, head size] or as 3-D [batch, sequence, hidden] with q_num_heads and kv_num_heads
 * attributes.
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

export const attentionRules: Readonly<Record<string, ShapeRule>> = {
  Attention: attention,
  RotaryEmbedding: (ctx) => {
    const x = ctx.shape(0);
    ctx.set(0, ctx.dtype(0), x ? [...x] : null);
  },
};
