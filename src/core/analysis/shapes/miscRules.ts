import { getInt } from '../../ir/attributes';
import { formatShape, normalizeAxis } from './dims';
import { mismatch } from './mismatch';
import type { ShapeRule, ShapeRuleContext } from './ruleContext';

/** Detection and sampling ops whose output sizes come from attributes or from data the analysis cannot see. */

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

export const miscRules: Readonly<Record<string, ShapeRule>> = {
  RoiAlign: roiAlign,
  GridSample: gridSample,
  NonMaxSuppression: (ctx) => ctx.set(0, 'int64', [null, 3]),
  Unique: unique,
  Det: det,
};
