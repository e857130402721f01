import type { Dim } from '../../ir/types';
import { getInt, getInts, getString } from '../../ir/attributes';
import { formatShape, isKnown, mulDims, unknownDims } from './dims';
import { mismatch } from './mismatch';
import type { ShapeRule, ShapeRuleContext } from './ruleContext';

/**
 * Convolutions and pooling. Output sizes follow Operators.md: floor((in + pads - dilated kernel) / stride) + 1, ceil
 * instead of floor when ceil_mode is set, ceil(in / stride) for SAME auto-padding. A symbolic spatial size gives an
 * unknown output size rather than an invented expression.
 */

interface Window {
  kernel: Dim[];
  strides: number[];
  dilations: number[];
  pads: number[];
  autoPad: string;
}

function readWindow(ctx: ShapeRuleContext, spatial: number, kernel: Dim[]): Window {
  const strides = getInts(ctx.node, 'strides') ?? new Array<number>(spatial).fill(1);
  const dilations = getInts(ctx.node, 'dilations') ?? new Array<number>(spatial).fill(1);
  const autoPad = getString(ctx.node, 'auto_pad', 'NOTSET');
  const pads = autoPad === 'NOTSET' ? getInts(ctx.node, 'pads') ?? new Array<number>(2 * spatial).fill(0) : new Array<number>(2 * spatial).fill(0);
  if (strides.length !== spatial) mismatch(`strides ${formatShape(strides)} do not match ${spatial} spatial axes`);
  if (dilations.length !== spatial) mismatch(`dilations ${formatShape(dilations)} do not match ${spatial} spatial axes`);
  if (pads.length !== 2 * spatial) mismatch(`pads ${formatShape(pads)} do not match ${spatial} spatial axes`);
  if (kernel.length !== spatial) mismatch(`kernel ${formatShape(kernel)} does not match ${spatial} spatial axes`);
  if (strides.some((s) => s <= 0)) mismatch(`strides ${formatShape(strides)} must be positive`);
  return { kernel, strides, dilations, pads, autoPad };
}

/** A context that answers some questions differently, for ops that are a known op with inputs moved around. */
function withOverrides(ctx: ShapeRuleContext, overrides: Partial<ShapeRuleContext>): ShapeRuleContext {
  return Object.assign(Object.create(ctx) as ShapeRuleContext, overrides);
}

/** Output size of one spatial axis of a convolution or pooling window. */
export function windowOutputDim(input: Dim, w: Window, i: number, ceilMode: boolean, isPool: boolean): Dim {
  const s = w.strides[i];
  if (w.autoPad === 'SAME_UPPER' || w.autoPad === 'SAME_LOWER') return isKnown(input) ? Math.ceil(input / s) : null;
  const k = w.kernel[i];
  if (!isKnown(input) || !isKnown(k)) return null;
  const dk = (k - 1) * w.dilations[i] + 1;
  const begin = w.pads[i];
  const end = w.pads[i + w.strides.length];
  const span = input + begin + end - dk;
  if (span < 0) {
    return mismatch(
      `the window (kernel ${k}, dilation ${w.dilations[i]}) is larger than the padded input (${input} + ${begin} + ${end}) on spatial axis ${i}`,
    );
  }
  let out = (ceilMode ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  // With ceil_mode the last window must start inside the input or its left padding (as PyTorch and current ONNX do).
  if (ceilMode && isPool && (out - 1) * s >= input + begin) out--;
  return out;
}

function conv(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const w = ctx.shape(1);
  const dtype = ctx.dtype(0);
  const group = getInt(ctx.node, 'group', 1);
  const rank = x?.length ?? w?.length;
  if (rank === undefined) return ctx.set(0, dtype, null);
  if (rank < 3) mismatch(`input ${formatShape(x)} needs a batch, a channel and at least one spatial axis`);
  if (x && w && x.length !== w.length) mismatch(`input ${formatShape(x)} and weight ${formatShape(w)} differ in rank`);
  const spatial = rank - 2;
  if (x && w && isKnown(x[1]) && isKnown(w[1]) && x[1] !== w[1] * group) {
    mismatch(`input has ${x[1]} channels but the weight ${formatShape(w)} with group ${group} expects ${w[1] * group}`);
  }
  const kernel: Dim[] = getInts(ctx.node, 'kernel_shape') ?? (w ? w.slice(2) : unknownDims(spatial));
  const win = readWindow(ctx, spatial, kernel);
  const out: Dim[] = [x ? x[0] : null, w ? w[0] : null];
  for (let i = 0; i < spatial; i++) out.push(x ? windowOutputDim(x[i + 2], win, i, false, false) : null);
  ctx.set(0, dtype, out);
}

function convTranspose(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const w = ctx.shape(1);
  const dtype = ctx.dtype(0);
  const group = getInt(ctx.node, 'group', 1);
  const rank = x?.length ?? w?.length;
  if (rank === undefined) return ctx.set(0, dtype, null);
  if (rank < 3) mismatch(`input ${formatShape(x)} needs a batch, a channel and at least one spatial axis`);
  const spatial = rank - 2;
  if (x && w && isKnown(x[1]) && isKnown(w[0]) && x[1] !== w[0]) {
    mismatch(`input has ${x[1]} channels but the weight ${formatShape(w)} expects ${w[0]}`);
  }
  const kernel: Dim[] = getInts(ctx.node, 'kernel_shape') ?? (w ? w.slice(2) : unknownDims(spatial));
  const win = readWindow(ctx, spatial, kernel);
  const outputPadding = getInts(ctx.node, 'output_padding') ?? new Array<number>(spatial).fill(0);
  let outputShape = getInts(ctx.node, 'output_shape');
  // Some exporters write the full output shape (batch and channels included) instead of only the spatial part.
  if (outputShape && outputShape.length === rank) outputShape = outputShape.slice(2);
  const out: Dim[] = [x ? x[0] : null, w ? mulDims(w[1], group) : null];
  for (let i = 0; i < spatial; i++) {
    if (outputShape) {
      out.push(outputShape[i] ?? null);
      continue;
    }
    const input = x ? x[i + 2] : null;
    const k = kernel[i];
    const s = win.strides[i];
    if (!isKnown(input)) out.push(null);
    else if (win.autoPad === 'SAME_UPPER' || win.autoPad === 'SAME_LOWER') out.push(input * s);
    else if (!isKnown(k)) out.push(null);
    else {
      const dk = (k - 1) * win.dilations[i] + 1;
      const size = s * (input - 1) + (outputPadding[i] ?? 0) + dk - win.pads[i] - win.pads[i + spatial];
      if (size <= 0) mismatch(`spatial axis ${i} would have size ${size}`);
      out.push(size);
    }
  }
  ctx.set(0, dtype, out);
}

function pool(withIndices: boolean): ShapeRule {
  return (ctx) => {
    const x = ctx.shape(0);
    const dtype = ctx.dtype(0);
    if (!x) return ctx.set(0, dtype, null);
    if (x.length < 3) mismatch(`input ${formatShape(x)} needs a batch, a channel and at least one spatial axis`);
    const spatial = x.length - 2;
    const kernel = getInts(ctx.node, 'kernel_shape');
    if (!kernel) mismatch('kernel_shape is required');
    const win = readWindow(ctx, spatial, kernel);
    const ceilMode = getInt(ctx.node, 'ceil_mode', 0) === 1;
    const out: Dim[] = [x[0], x[1]];
    for (let i = 0; i < spatial; i++) out.push(windowOutputDim(x[i + 2], win, i, ceilMode, true));
    ctx.set(0, dtype, out);
    if (withIndices && ctx.wants(1)) ctx.set(1, 'int64', [...out]);
  };
}

function globalPool(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  ctx.set(0, ctx.dtype(0), x ? x.map((d, i) => (i < 2 ? d : 1)) : null);
}

function maxUnpool(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  if (ctx.has(2)) {
    const given = ctx.value(2)?.values;
    const s = ctx.shape(2);
    return ctx.set(0, dtype, given ? [...given] : s && isKnown(s[0]) ? unknownDims(s[0]) : null);
  }
  if (!x) return ctx.set(0, dtype, null);
  if (x.length < 3) mismatch(`input ${formatShape(x)} needs a batch, a channel and at least one spatial axis`);
  const spatial = x.length - 2;
  const kernel = getInts(ctx.node, 'kernel_shape');
  if (!kernel) mismatch('kernel_shape is required');
  const strides = getInts(ctx.node, 'strides') ?? new Array<number>(spatial).fill(1);
  const pads = getInts(ctx.node, 'pads') ?? new Array<number>(2 * spatial).fill(0);
  if (kernel.length !== spatial || strides.length !== spatial || pads.length !== 2 * spatial) {
    mismatch(`kernel_shape, strides and pads do not match ${spatial} spatial axes`);
  }
  const out: Dim[] = [x[0], x[1]];
  for (let i = 0; i < spatial; i++) {
    const d = x[i + 2];
    out.push(isKnown(d) ? (d - 1) * strides[i] + kernel[i] - pads[i] - pads[i + spatial] : null);
  }
  ctx.set(0, dtype, out);
}

export const convPoolRules: Readonly<Record<string, ShapeRule>> = {
  Conv: conv,
  ConvInteger: (ctx) => conv(withOverrides(ctx, { dtype: () => 'int32' })),
  // QLinearConv reads x at 0 and w at 3; its output has y_zero_point's type.
  QLinearConv: (ctx) =>
    conv(withOverrides(ctx, { shape: (i) => ctx.shape(i === 1 ? 3 : i), dtype: () => (ctx.has(7) ? ctx.dtype(7) : 'uint8') })),
  ConvTranspose: convTranspose,
  MaxPool: pool(true),
  AveragePool: pool(false),
  LpPool: pool(false),
  GlobalAveragePool: globalPool,
  GlobalMaxPool: globalPool,
  GlobalLpPool: globalPool,
  MaxUnpool: maxUnpool,
};
