import type { Dim } from '../../ir/types';
import { getInt } from '../../ir/attributes';
import { dataTypeFromCode } from '../../ir/dtypes';
import { formatShape, isKnown, normalizeAxis } from './dims';
import { mismatch } from './mismatch';
import type { ShapeRule, ShapeRuleContext } from './ruleContext';

/**
 * Normalisation layers keep their input's shape. BatchNormalization's optional outputs (running or saved statistics)
 * are per channel, and LayerNormalization's Mean and InvStdDev keep the leading axes and set the normalised ones to 1.
 */

function batchNorm(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  const scale = ctx.shape(1);
  if (x && x.length < 2) mismatch(`input ${formatShape(x)} has no channel axis`);
  const channels: Dim = x ? x[1] : scale ? scale[0] : null;
  if (x && scale && scale.length === 1 && isKnown(x[1]) && isKnown(scale[0]) && x[1] !== scale[0]) {
    mismatch(`input ${formatShape(x)} has ${x[1]} channels but scale has ${scale[0]}`);
  }
  ctx.set(0, dtype, x ? [...x] : null);
  for (let i = 1; i < ctx.outputCount; i++) if (ctx.wants(i)) ctx.set(i, ctx.has(3) ? ctx.dtype(3) : dtype, [channels]);
}

function layerNorm(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  ctx.set(0, dtype, x ? [...x] : null);
  if (ctx.outputCount < 2) return;
  const stash = dataTypeFromCode(getInt(ctx.node, 'stash_type', 1)) ?? 'float32';
  let stats: Dim[] | null = null;
  if (x) {
    const axis = normalizeAxis(getInt(ctx.node, 'axis', -1), x.length);
    stats = x.map((d, i) => (i < axis ? d : 1));
  }
  for (let i = 1; i < ctx.outputCount; i++) if (ctx.wants(i)) ctx.set(i, stash, stats ? [...stats] : null);
}

function sameAsInput(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  ctx.set(0, ctx.dtype(0), x ? [...x] : null);
}

function groupNorm(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const groups = getInt(ctx.node, 'num_groups');
  if (x && groups && isKnown(x[1]) && x[1] % groups !== 0) mismatch(`${x[1]} channels do not divide into ${groups} groups`);
  sameAsInput(ctx);
}

export const normalizationRules: Readonly<Record<string, ShapeRule>> = {
  BatchNormalization: batchNorm,
  LayerNormalization: layerNorm,
  InstanceNormalization: sameAsInput,
  GroupNormalization: groupNorm,
  LRN: sameAsInput,
  RMSNormalization: layerNorm,
  // onnxruntime registers this contrib op in the default domain.
  SimplifiedLayerNormalization: layerNorm,
};
