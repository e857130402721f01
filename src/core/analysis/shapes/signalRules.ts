import type { Dim } from '../../ir/types';
import { getInt, getInts } from '../../ir/attributes';
import { dataTypeFromCode } from '../../ir/dtypes';
import { isKnown, normalizeAxis } from './dims';
import type { ShapeRule, ShapeRuleContext } from './ruleContext';

/**
 * Signal-processing ops of opset 17 (windows, DFT, STFT, MelWeightMatrix) and TfIdfVectorizer. Their sizes come from
 * scalar inputs, which exports usually hold as constants.
 */

function scalar(ctx: ShapeRuleContext, i: number): number | null {
  const v = ctx.ints(i);
  return v && v.length === 1 ? Math.trunc(v[0]) : null;
}

function window(ctx: ShapeRuleContext): void {
  const dtype = dataTypeFromCode(getInt(ctx.node, 'output_datatype', 1)) ?? 'float32';
  ctx.set(0, dtype, [scalar(ctx, 0)]);
}

function dft(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  if (!x) return ctx.set(0, dtype, null);
  const inverse = getInt(ctx.node, 'inverse', 0) === 1;
  const onesided = getInt(ctx.node, 'onesided', 0) === 1;
  // The axis became an input in opset 20; before, an attribute defaulting to 1.
  const axisValue = ctx.opset >= 20 && ctx.has(2) ? scalar(ctx, 2) : getInt(ctx.node, 'axis', 1);
  const out = [...x];
  out[out.length - 1] = 2;
  if (axisValue === null) return ctx.set(0, dtype, out.map((d, i) => (i === out.length - 1 ? 2 : i === 0 ? d : null)));
  const axis = normalizeAxis(axisValue, x.length);
  const length: Dim = ctx.has(1) ? scalar(ctx, 1) : x[axis];
  out[axis] = onesided && !inverse ? (isKnown(length) ? Math.floor(length / 2) + 1 : null) : length;
  ctx.set(0, dtype, out);
}

function stft(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  const step = scalar(ctx, 1);
  const windowShape = ctx.shape(2);
  const frameLength = ctx.has(3) ? scalar(ctx, 3) : windowShape && isKnown(windowShape[0]) ? windowShape[0] : null;
  const onesided = getInt(ctx.node, 'onesided', 1) === 1;
  const signal = x ? x[1] : null;
  const frames =
    isKnown(signal) && step !== null && frameLength !== null ? Math.floor((signal - frameLength) / step) + 1 : null;
  const bins = frameLength === null ? null : onesided ? Math.floor(frameLength / 2) + 1 : frameLength;
  ctx.set(0, dtype, [x ? x[0] : null, frames, bins, 2]);
}

function melWeightMatrix(ctx: ShapeRuleContext): void {
  const dtype = dataTypeFromCode(getInt(ctx.node, 'output_datatype', 1)) ?? 'float32';
  const bins = scalar(ctx, 0);
  const dftLength = scalar(ctx, 1);
  ctx.set(0, dtype, [dftLength === null ? null : Math.floor(dftLength / 2) + 1, bins]);
}

function tfIdf(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const indexes = getInts(ctx.node, 'ngram_indexes') ?? [];
  const width = indexes.length > 0 ? Math.max(...indexes) + 1 : null;
  if (!x) return ctx.set(0, 'float32', null);
  ctx.set(0, 'float32', x.length === 1 ? [width] : [x[0], width]);
}

export const signalRules: Readonly<Record<string, ShapeRule>> = {
  HannWindow: window,
  HammingWindow: window,
  BlackmanWindow: window,
  DFT: dft,
  STFT: stft,
  MelWeightMatrix: melWeightMatrix,
  TfIdfVectorizer: tfIdf,
};
