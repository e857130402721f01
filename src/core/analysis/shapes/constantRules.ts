import type { DataType, Dim, Tensor } from '../../ir/types';
import { findAttribute, getInt, getInts, getString } from '../../ir/attributes';
import { dataTypeFromCode } from '../../ir/dtypes';
import { isKnown, unknownDims } from './dims';
import { mismatch } from './mismatch';
import { castNumber, valueFromTensor, type PartialValue } from './partialValue';
import type { ShapeRule, ShapeRuleContext } from './ruleContext';

/**
 * Ops that create tensors: Constant, ConstantOfShape, Range, EyeLike and the random generators; and the resampling
 * ops Resize and Upsample, whose output size comes from scales or sizes given as constants.
 */

function constant(ctx: ShapeRuleContext): void {
  const a = ctx.node.attributes[0];
  if (!a) mismatch('has no value attribute');
  const scalarOrList = (dtype: DataType, values: number[], scalar: boolean): void => {
    const dims = scalar ? [] : [values.length];
    ctx.set(0, dtype, dims, { dtype, dims, values });
  };
  switch (a.type) {
    case 'tensor': {
      const t: Tensor = a.value;
      ctx.set(0, t.dtype, [...t.dims], valueFromTensor(t, ctx.maxFoldElements));
      return;
    }
    case 'sparseTensor':
      ctx.set(0, a.value.values.dtype, [...a.value.dims]);
      return;
    case 'float':
      return scalarOrList('float32', [a.value], true);
    case 'floats':
      return scalarOrList('float32', a.value, false);
    case 'int':
      return scalarOrList('int64', [a.value], true);
    case 'ints':
      return scalarOrList('int64', a.value, false);
    case 'string':
      return ctx.set(0, 'string', []);
    case 'strings':
      return ctx.set(0, 'string', [a.value.length]);
    default:
      mismatch(`value attribute of type ${a.type} is not a tensor`);
  }
}

function constantOfShape(ctx: ShapeRuleContext): void {
  const attr = findAttribute(ctx.node, 'value');
  const t = attr && attr.type === 'tensor' ? attr.value : undefined;
  const dtype = t?.dtype ?? 'float32';
  const fill = t ? valueFromTensor(t, 1)?.values[0] ?? null : 0;
  const dims = ctx.ints(0);
  if (!dims) {
    const s = ctx.shape(0);
    const partial = ctx.value(0)?.values;
    if (partial) return ctx.set(0, dtype, [...partial]);
    return ctx.set(0, dtype, s && s.length === 1 && isKnown(s[0]) ? unknownDims(s[0]) : null);
  }
  for (const d of dims) if (d < 0) mismatch(`shape [${dims.join(', ')}] has a negative dim`);
  const total = dims.reduce((a, b) => a * b, 1);
  const value: PartialValue | undefined =
    total <= ctx.maxFoldElements ? { dtype, dims: [...dims], values: new Array<Dim>(total).fill(fill) } : undefined;
  ctx.set(0, dtype, [...dims], value);
}

function range(ctx: ShapeRuleContext): void {
  const dtype = ctx.dtype(0);
  const [start] = ctx.ints(0) ?? [];
  const [limit] = ctx.ints(1) ?? [];
  const [delta] = ctx.ints(2) ?? [];
  if (start === undefined || limit === undefined || delta === undefined) {
    // arange(T) over a symbolic length (position ids in a transformer) has T elements.
    const symbolic = ctx.value(1)?.values[0];
    const known = start === 0 && delta === 1 && typeof symbolic === 'string';
    return ctx.set(0, dtype, [known ? symbolic : null]);
  }
  if (delta === 0) mismatch('delta is 0');
  const n = Math.max(Math.ceil((limit - start) / delta), 0);
  const value: PartialValue | undefined =
    n <= ctx.maxFoldElements
      ? { dtype, dims: [n], values: Array.from({ length: n }, (_, i) => castNumber(start + i * delta, dtype)) }
      : undefined;
  ctx.set(0, dtype, [n], value);
}

function dtypeAttr(ctx: ShapeRuleContext, fallback: DataType): DataType {
  const code = getInt(ctx.node, 'dtype');
  return code === undefined ? fallback : dataTypeFromCode(code) ?? fallback;
}

function likeInput(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  ctx.set(0, dtypeAttr(ctx, ctx.dtype(0)), x ? [...x] : null);
}

function fromShapeAttr(ctx: ShapeRuleContext): void {
  const shape = getInts(ctx.node, 'shape');
  ctx.set(0, dtypeAttr(ctx, 'float32'), shape ? [...shape] : null);
}

/** floor(in * scale), the output size Operators.md gives for scales. */
function scaled(d: Dim, scale: number): Dim {
  if (scale === 1) return d;
  return isKnown(d) ? Math.floor(d * scale + 1e-9) : null;
}

function resize(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  if (!x) return ctx.set(0, dtype, null);
  const rank = x.length;
  const axes = getInts(ctx.node, 'axes')?.map((a) => (a < 0 ? a + rank : a)) ?? x.map((_, i) => i);
  const scalesIndex = ctx.opset < 11 ? 1 : 2;
  const scales = ctx.has(scalesIndex) ? ctx.ints(scalesIndex) : undefined;
  // Sizes may hold symbols: PyTorch's interpolate(size=other.shape[-2:]) concatenates [N, C] with the target size.
  const sizes = ctx.opset >= 11 && ctx.has(3) ? ctx.value(3)?.values : undefined;
  const out = [...x];
  if (sizes && sizes.length > 0) {
    if (sizes.length !== axes.length) mismatch(`sizes [${sizes.join(', ')}] do not match ${axes.length} axes`);
    const policy = getString(ctx.node, 'keep_aspect_ratio_policy', 'stretch');
    if (policy === 'stretch') axes.forEach((a, i) => (out[a] = sizes[i]));
    else if (!sizes.every(isKnown)) axes.forEach((a) => (out[a] = null));
    else {
      // not_larger / not_smaller: one scale for all axes, the smallest or largest ratio.
      const ratios = axes.map((a, i) => (isKnown(x[a]) ? (sizes[i] as number) / (x[a] as number) : NaN));
      if (ratios.some(Number.isNaN)) axes.forEach((a) => (out[a] = null));
      else {
        const s = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
        axes.forEach((a) => (out[a] = Math.round(s * (x[a] as number))));
      }
    }
    return ctx.set(0, dtype, out);
  }
  if (scales && scales.length > 0) {
    if (scales.length !== axes.length) mismatch(`scales [${scales.join(', ')}] do not match ${axes.length} axes`);
    axes.forEach((a, i) => (out[a] = scaled(x[a], scales[i])));
    return ctx.set(0, dtype, out);
  }
  ctx.set(0, dtype, x.map(() => null));
}

function upsample(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  if (!x) return ctx.set(0, dtype, null);
  const scales = ctx.opset < 9 ? findScales(ctx) : ctx.ints(1);
  if (!scales) return ctx.set(0, dtype, unknownDims(x.length));
  if (scales.length !== x.length) mismatch(`scales [${scales.join(', ')}] do not match input rank ${x.length}`);
  ctx.set(0, dtype, x.map((d, i) => scaled(d, scales[i])));
}

function findScales(ctx: ShapeRuleContext): number[] | undefined {
  const a = findAttribute(ctx.node, 'scales');
  if (a && a.type === 'floats') return a.value;
  // Upsample-1 had width_scale and height_scale on NCHW input.
  const h = findAttribute(ctx.node, 'height_scale');
  const w = findAttribute(ctx.node, 'width_scale');
  if (h && w && h.type === 'float' && w.type === 'float') return [1, 1, h.value, w.value];
  return undefined;
}

export const constantRules: Readonly<Record<string, ShapeRule>> = {
  Constant: constant,
  ConstantOfShape: constantOfShape,
  Range: range,
  EyeLike: likeInput,
  Bernoulli: likeInput,
  RandomNormalLike: likeInput,
  RandomUniformLike: likeInput,
  RandomNormal: fromShapeAttr,
  RandomUniform: fromShapeAttr,
  Multinomial: (ctx) => {
    const x = ctx.shape(0);
    ctx.set(0, dtypeAttr(ctx, 'int32'), [x ? x[0] : null, getInt(ctx.node, 'sample_size', 1)]);
  },
  Resize: resize,
  Upsample: upsample,
};
