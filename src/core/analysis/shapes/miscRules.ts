import { getInt, getInts } from '../../ir/attributes';
import { divDims, formatShape, normalizeAxis } from './dims';
import { mismatch } from './mismatch';
import type { ShapeRule, ShapeRuleContext } from './ruleContext';

/**
 * Detection, sampling and image-layout ops whose output sizes come from attributes, from constant inputs, or from
 * data the analysis cannot see.
 */

function roiAlign(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const rois = ctx.shape(1);
  ctx.set(0, ctx.dtype(0), [
    rois ? rois[0] : null,
    x ? x[1] : null,
    getInt(ctx.node, 'output_height', 1),
    getInt(ctx.node, 'output_width', 1),
  ]);
}

function gridSample(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const grid = ctx.shape(1);
  if (grid && x && grid.length !== x.length) mismatch(`grid ${formatShape(grid)} and input ${formatShape(x)} differ in rank`);
  const rank = x?.length ?? grid?.length;
  if (rank === undefined) return ctx.set(0, ctx.dtype(0), null);
  if (rank < 3) mismatch(`input ${formatShape(x ?? grid)} needs a batch, a channel and at least one spatial axis`);
  ctx.set(0, ctx.dtype(0), [x ? x[0] : grid![0], x ? x[1] : null, ...(grid ? grid.slice(1, -1) : new Array(rank - 2).fill(null))]);
}

function unique(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const axis = getInt(ctx.node, 'axis');
  let y = null as ReturnType<typeof ctx.shape>;
  if (axis === undefined) y = [null];
  else if (x) {
    y = [...x];
    y[normalizeAxis(axis, x.length)] = null;
  }
  ctx.set(0, ctx.dtype(0), y);
  for (let i = 1; i < 4; i++) if (ctx.wants(i)) ctx.set(i, 'int64', [null]);
}

function det(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  ctx.set(0, ctx.dtype(0), x ? x.slice(0, -2) : null);
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

export const miscRules: Readonly<Record<string, ShapeRule>> = {
  RoiAlign: roiAlign,
  GridSample: gridSample,
  NonMaxSuppression: (ctx) => ctx.set(0, 'int64', [null, 3]),
  Unique: unique,
  Det: det,
  CenterCropPad: centerCropPad,
  AffineGrid: affineGrid,
  Col2Im: col2Im,
};
