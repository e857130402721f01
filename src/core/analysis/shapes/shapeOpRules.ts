import type { Dim } from '../../ir/types';
import { getInt, getInts } from '../../ir/attributes';
import {
  addDims,
  checkArity,
  broadcastShapes,
  compareDims,
  dimProduct,
  divDims,
  formatShape,
  isKnown,
  mergeDims,
  mulDims,
  normalizeAxes,
  normalizeAxis,
  subDims,
  unknownDims,
} from './dims';
import { mismatch } from './mismatch';
import { foldBroadcast, type PartialValue } from './partialValue';
import type { ShapeRule, ShapeRuleContext } from './ruleContext';

/**
 * Operators that move or select elements: Flatten, Reshape, Transpose, Squeeze, Unsqueeze, Concat, Split, Slice,
 * Gather and friends, Shape, Size, Expand, Tile, Pad. They also fold the small integer tensors of shape subgraphs,
 * whose elements may be symbols, so that Shape -> Gather -> Concat -> Reshape keeps a batch dim "N".
 */

/** Axes given as an attribute before `sinceOpset` and as input `index` from then on. */
export function readAxes(ctx: ShapeRuleContext, index: number, sinceOpset: number): number[] | undefined | 'unknown' {
  if (ctx.opset >= sinceOpset) {
    if (!ctx.has(index)) return undefined;
    return ctx.ints(index) ?? 'unknown';
  }
  return getInts(ctx.node, 'axes');
}

function allKnown(dims: readonly Dim[]): dims is number[] {
  return dims.every(isKnown);
}

/** The same elements under new dims, when the new dims are fully known. */
function reshaped(v: PartialValue | undefined, dims: readonly Dim[] | null): PartialValue | undefined {
  if (!v || !dims || !allKnown(dims)) return undefined;
  if (dims.reduce((a, b) => a * b, 1) !== v.values.length) return undefined;
  return { dtype: v.dtype, dims: [...dims], values: v.values };
}

function flatten(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  if (!x) return ctx.set(0, dtype, [null, null]);
  let axis = getInt(ctx.node, 'axis', 1);
  if (axis < 0) axis += x.length;
  if (axis < 0 || axis > x.length) mismatch(`axis ${getInt(ctx.node, 'axis', 1)} is out of range for rank ${x.length}`);
  const out = [dimProduct(x.slice(0, axis)), dimProduct(x.slice(axis))];
  ctx.set(0, dtype, out, reshaped(ctx.value(0), out));
}

/** Resolves Reshape's target: 0 copies the input dim (unless allowzero), -1 takes what is left. */
export function reshapeDims(input: Dim[] | null, target: readonly Dim[], allowZero: boolean): Dim[] {
  const out: Dim[] = target.map((t, i) => {
    if (t === 0 && !allowZero) {
      if (input && i >= input.length) mismatch(`shape ${formatShape(target)} copies dim ${i}, but the input has rank ${input.length}`);
      return input ? input[i] : null;
    }
    return t;
  });
  const inferred = out.indexOf(-1);
  if (out.indexOf(-1, inferred + 1) >= 0) mismatch(`shape ${formatShape(target)} has more than one -1`);
  for (const d of out) if (isKnown(d) && d < -1) mismatch(`shape ${formatShape(target)} has a negative dim`);
  if (!input) {
    if (inferred >= 0) out[inferred] = null;
    return out;
  }
  // The element counts of both sides as monomials: symbols that appear on both sides cancel in the division.
  const inCount = dimProduct(input);
  const outCount = dimProduct(out.filter((_, i) => i !== inferred));
  if (inferred >= 0) {
    if (isKnown(inCount) && isKnown(outCount)) {
      if (outCount === 0 ? inCount !== 0 : inCount % outCount !== 0) {
        mismatch(`cannot reshape ${formatShape(input)} (${inCount} elements) into ${formatShape(target)}: ${inCount} is not a multiple of ${outCount}`);
      }
      out[inferred] = outCount === 0 ? 0 : inCount / outCount;
    } else out[inferred] = inCount === null || outCount === null ? null : divDims(inCount, outCount);
  } else if (isKnown(inCount) && isKnown(outCount) && inCount !== outCount) {
    mismatch(`cannot reshape ${formatShape(input)} (${inCount} elements) into ${formatShape(target)} (${outCount} elements)`);
  }
  return out;
}

function reshape(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  let target: Dim[] | undefined;
  if (ctx.opset < 5) target = getInts(ctx.node, 'shape');
  else target = ctx.value(1)?.values;
  if (!target) {
    const s = ctx.shape(1);
    return ctx.set(0, dtype, s && s.length === 1 && isKnown(s[0]) ? unknownDims(s[0]) : null);
  }
  const out = reshapeDims(x, target, getInt(ctx.node, 'allowzero', 0) === 1);
  ctx.set(0, dtype, out, reshaped(ctx.value(0), out));
}

function transpose(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  if (!x) return ctx.set(0, dtype, null);
  const perm = getInts(ctx.node, 'perm') ?? x.map((_, i) => x.length - 1 - i);
  if (perm.length !== x.length) mismatch(`perm [${perm.join(', ')}] does not match input rank ${x.length}`);
  const axes = normalizeAxes(perm, x.length, 'perm');
  const out = axes.map((a) => x[a]);
  ctx.set(0, dtype, out, transposed(ctx.value(0), axes));
}

/** Folds a transpose of a small known tensor (PyTorch's pad export reverses pads through Reshape and Transpose). */
function transposed(v: PartialValue | undefined, perm: readonly number[]): PartialValue | undefined {
  if (!v || v.dims.length !== perm.length) return undefined;
  const dims = perm.map((a) => v.dims[a]);
  const inStrides = v.dims.map((_, i) => v.dims.slice(i + 1).reduce((p, q) => p * q, 1));
  const strides = perm.map((a) => inStrides[a]);
  const total = v.values.length;
  const values: Dim[] = new Array<Dim>(total);
  const index = new Array<number>(dims.length).fill(0);
  for (let f = 0; f < total; f++) {
    let off = 0;
    for (let i = 0; i < dims.length; i++) off += index[i] * strides[i];
    values[f] = v.values[off];
    for (let i = dims.length - 1; i >= 0; i--) {
      if (++index[i] < dims[i]) break;
      index[i] = 0;
    }
  }
  return { dtype: v.dtype, dims, values };
}

function squeeze(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  const axes = readAxes(ctx, 1, 13);
  if (!x || axes === 'unknown') return ctx.set(0, dtype, null);
  let out: Dim[];
  if (!axes || axes.length === 0) {
    // Without axes every 1 goes; an unknown dim might be 1, so the rank is unknown too. Symbols are taken as not 1.
    if (x.some((d) => d === null)) return ctx.set(0, dtype, null);
    out = x.filter((d) => d !== 1);
  } else {
    const drop = new Set(normalizeAxes(axes, x.length));
    for (const a of drop) if (isKnown(x[a]) && x[a] !== 1) mismatch(`cannot squeeze axis ${a} of ${formatShape(x)}: its size is ${x[a]}, not 1`);
    out = x.filter((_, i) => !drop.has(i));
  }
  ctx.set(0, dtype, out, reshaped(ctx.value(0), out));
}

function unsqueeze(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  const axes = readAxes(ctx, 1, 13);
  if (!axes) mismatch('axes are required');
  if (axes === 'unknown') {
    const s = ctx.shape(1);
    return ctx.set(0, dtype, x && s && s.length <= 1 && (s.length === 0 || isKnown(s[0])) ? unknownDims(x.length + (s.length === 0 ? 1 : (s[0] as number))) : null);
  }
  if (!x) return ctx.set(0, dtype, null);
  const rank = x.length + axes.length;
  const at = new Set(normalizeAxes(axes, rank));
  const out: Dim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(at.has(i) ? 1 : x[j++]);
  ctx.set(0, dtype, out, reshaped(ctx.value(0), out));
}

function concat(ctx: ShapeRuleContext): void {
  const idx = Array.from({ length: ctx.inputCount }, (_, i) => i).filter((i) => ctx.has(i));
  const shapes = idx.map((i) => ctx.shape(i));
  const dtype = ctx.dtype(idx[0] ?? 0);
  const known = shapes.filter((s): s is Dim[] => s !== null);
  if (known.length === 0) return ctx.set(0, dtype, null);
  const rank = known[0].length;
  for (const s of known) {
    if (s.length !== rank) mismatch(`inputs differ in rank: ${shapes.map((x) => formatShape(x)).join(', ')}`);
  }
  // Concat-1 made axis optional with a default of 1; from opset 4 it is required.
  const axisAttr = getInt(ctx.node, 'axis') ?? (ctx.opset < 4 ? 1 : undefined);
  if (axisAttr === undefined) mismatch('axis is required');
  const axis = normalizeAxis(axisAttr, rank);
  const out: Dim[] = [];
  for (let d = 0; d < rank; d++) {
    if (d === axis) {
      out.push(shapes.reduce<Dim>((acc, s) => (s ? addDims(acc, s[d]) : null), 0));
    } else {
      out.push(
        known.reduce<Dim>(
          (acc, s) => mergeDims(acc, s[d], () => `inputs ${shapes.map((x) => formatShape(x)).join(', ')} differ on axis ${d}`),
          null,
        ),
      );
    }
  }
  // Fold when every input's value is known: the elements of each input block are copied in turn.
  let value: PartialValue | undefined;
  const values = idx.map((i) => ctx.value(i));
  if (values.every((v) => v !== undefined) && allKnown(out)) {
    const vs = values as PartialValue[];
    const outer = out.slice(0, axis).reduce((a, b) => a * b, 1);
    const result: Dim[] = [];
    for (let o = 0; o < outer; o++) {
      for (const v of vs) {
        const block = v.dims.slice(axis).reduce((a, b) => a * b, 1);
        for (let k = 0; k < block; k++) result.push(v.values[o * block + k]);
      }
    }
    value = { dtype, dims: out, values: result };
  }
  ctx.set(0, dtype, out, value);
}

function split(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  const n = ctx.outputCount;
  if (!x) {
    for (let i = 0; i < n; i++) ctx.set(i, dtype, null);
    return;
  }
  const axis = normalizeAxis(getInt(ctx.node, 'axis', 0), x.length);
  const d = x[axis];
  let sizes: Dim[] | undefined;
  if (ctx.opset >= 13) {
    if (ctx.has(1)) sizes = ctx.ints(1) ?? unknownDims(n);
  } else sizes = getInts(ctx.node, 'split');
  if (!sizes) {
    const numOutputs = getInt(ctx.node, 'num_outputs', n);
    checkArity(numOutputs, n, 'num_outputs');
    if (!isKnown(d)) sizes = unknownDims(numOutputs);
    else if (ctx.opset >= 18) {
      // From opset 18 the last chunk may be smaller: every chunk but the last has ceil(d / n) elements.
      const chunk = Math.ceil(d / numOutputs);
      sizes = Array.from({ length: numOutputs }, (_, i) => Math.max(0, Math.min(chunk, d - chunk * i)));
    } else {
      if (d % numOutputs !== 0) mismatch(`axis ${axis} of size ${d} does not split evenly into ${numOutputs} outputs`);
      sizes = new Array<Dim>(numOutputs).fill(d / numOutputs);
    }
  } else if (allKnown(sizes) && isKnown(d) && sizes.reduce((a, b) => a + b, 0) !== d) {
    mismatch(`split sizes [${sizes.join(', ')}] add up to ${sizes.reduce((a, b) => a + b, 0)}, not the axis size ${d}`);
  }
  const v = ctx.value(0);
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const out = [...x];
    out[axis] = sizes[i] ?? null;
    let value: PartialValue | undefined;
    if (v && x.length === 1 && isKnown(out[0])) {
      value = { dtype, dims: [out[0]], values: v.values.slice(offset, offset + out[0]) };
      offset += out[0];
    }
    ctx.set(i, dtype, out, value);
  }
}

/** The start, step and length of one sliced axis, following Operators.md's clamping rules. */
export function sliceAxis(dim: number, start: number, end: number, step: number): { start: number; length: number } {
  if (step === 0) mismatch('a slice step of 0 is not allowed');
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
    return { start: s, length: Math.max(0, Math.ceil((e - s) / step)) };
  }
  s = Math.min(Math.max(s, 0), dim - 1);
  e = Math.min(Math.max(e, -1), dim - 1);
  return { start: s, length: Math.max(0, Math.ceil((s - e) / -step)) };
}

/** An end this large means "to the end" (PyTorch writes INT64_MAX, some exporters INT32_MAX). */
const TO_THE_END = 2 ** 31 - 1;

/**
 * The length of a step-1 slice whose bounds or axis are symbolic, when it is certain: bounds that are multiples of the
 * same symbol as the axis compare by their coefficients. Negative bounds count from the end only for known axes.
 */
function symbolicSliceLength(d: Dim, start: Dim | undefined, end: Dim | undefined): Dim {
  if (start === undefined || end === undefined || start === null || end === null) return null;
  if ((isKnown(start) && start < 0) || (isKnown(end) && end < 0)) return null;
  const e = isKnown(end) && end >= TO_THE_END ? d : end;
  const clampEnd = compareDims(e, d);
  const stop = clampEnd === undefined ? null : clampEnd >= 0 ? d : e;
  if (stop === null) return null;
  if (start === 0) return stop;
  const clampStart = compareDims(start, d);
  const begin = clampStart === undefined ? null : clampStart >= 0 ? d : start;
  if (begin === null) return null;
  const order = compareDims(stop, begin);
  if (order === undefined) return null;
  return order <= 0 ? 0 : subDims(stop, begin);
}

function slice(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  if (!x) return ctx.set(0, dtype, null);
  let starts: number[] | undefined;
  let ends: number[] | undefined;
  let axes: number[] | undefined;
  let steps: number[] | undefined;
  let axesUnknown = false;
  if (ctx.opset < 10) {
    starts = getInts(ctx.node, 'starts');
    ends = getInts(ctx.node, 'ends');
    axes = getInts(ctx.node, 'axes');
  } else {
    starts = ctx.ints(1);
    ends = ctx.ints(2);
    if (ctx.has(3)) {
      axes = ctx.ints(3);
      axesUnknown = !axes;
    }
    if (ctx.has(4)) steps = ctx.ints(4);
  }
  if (axesUnknown) return ctx.set(0, dtype, unknownDims(x.length));
  // Starts and ends computed from symbolic shapes (torch.chunk on a batch-sized axis) are kept as dims.
  const symbolicStarts = ctx.opset >= 10 ? ctx.value(1)?.values : undefined;
  const symbolicEnds = ctx.opset >= 10 ? ctx.value(2)?.values : undefined;
  const count = starts?.length ?? ends?.length ?? symbolicStarts?.length ?? ends?.length ?? (ctx.shape(1)?.[0] as number | undefined);
  const ax = axes ?? (typeof count === 'number' ? Array.from({ length: count }, (_, i) => i) : undefined);
  if (!ax) return ctx.set(0, dtype, unknownDims(x.length));
  const norm = normalizeAxes(ax, x.length);
  const out = [...x];
  const stepsKnown = ctx.opset < 10 || !ctx.has(4) || steps !== undefined;
  const plan = x.map(() => ({ start: 0, step: 1 }));
  let exact = true;
  norm.forEach((a, i) => {
    const d = x[a];
    const st = starts?.[i];
    const en = ends?.[i];
    const sp = steps?.[i] ?? 1;
    if (st === undefined || en === undefined || !stepsKnown) {
      out[a] = stepsKnown && sp === 1 ? symbolicSliceLength(d, symbolicStarts?.[i], symbolicEnds?.[i]) : null;
      exact = false;
    } else if (isKnown(d)) {
      const r = sliceAxis(d, st, en, sp);
      out[a] = r.length;
      plan[a] = { start: r.start, step: sp };
    } else {
      exact = false;
      // A symbolic axis keeps its symbol when sliced whole, and x[-k:] has k elements.
      if (st === 0 && en >= TO_THE_END && sp === 1) out[a] = d;
      else if (st < 0 && en >= TO_THE_END && sp === 1) out[a] = -st;
      else out[a] = null;
    }
  });
  let value: PartialValue | undefined;
  const v = ctx.value(0);
  if (v && exact && allKnown(out)) {
    const dims = v.dims;
    const strides = dims.map((_, i) => dims.slice(i + 1).reduce((p, q) => p * q, 1));
    const total = out.reduce((p, q) => p * q, 1);
    const values: Dim[] = [];
    const index = new Array<number>(out.length).fill(0);
    for (let f = 0; f < total; f++) {
      let off = 0;
      for (let i = 0; i < out.length; i++) off += (plan[i].start + index[i] * plan[i].step) * strides[i];
      values.push(v.values[off]);
      for (let i = out.length - 1; i >= 0; i--) {
        if (++index[i] < out[i]) break;
        index[i] = 0;
      }
    }
    value = { dtype, dims: out, values };
  }
  ctx.set(0, dtype, out, value);
}

function gather(ctx: ShapeRuleContext): void {
  const data = ctx.shape(0);
  const indices = ctx.shape(1);
  const dtype = ctx.dtype(0);
  if (!data || !indices) return ctx.set(0, dtype, null);
  const axis = normalizeAxis(getInt(ctx.node, 'axis', 0), data.length);
  const out = [...data.slice(0, axis), ...indices, ...data.slice(axis + 1)];
  const v = ctx.value(0);
  const idx = ctx.ints(1);
  let value: PartialValue | undefined;
  const size = data[axis];
  if (idx && isKnown(size)) {
    for (const i of idx) if (i < -size || i >= size) mismatch(`index ${i} is out of range for axis ${axis} of size ${size}`);
  }
  if (v && idx && allKnown(out) && isKnown(size) && out.reduce((a, b) => a * b, 1) <= ctx.maxFoldElements) {
    const outer = v.dims.slice(0, axis).reduce((a, b) => a * b, 1);
    const inner = v.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
    const values: Dim[] = [];
    for (let o = 0; o < outer; o++) {
      for (const raw of idx) {
        const i = raw < 0 ? raw + size : raw;
        for (let k = 0; k < inner; k++) values.push(v.values[(o * size + i) * inner + k]);
      }
    }
    value = { dtype, dims: out, values };
  }
  ctx.set(0, dtype, out, value);
}

function gatherND(ctx: ShapeRuleContext): void {
  const data = ctx.shape(0);
  const indices = ctx.shape(1);
  const dtype = ctx.dtype(0);
  if (!data || !indices || indices.length === 0) return ctx.set(0, dtype, null);
  const b = getInt(ctx.node, 'batch_dims', 0);
  const last = indices[indices.length - 1];
  if (!isKnown(last)) return ctx.set(0, dtype, null);
  if (b + last > data.length) mismatch(`indices ${formatShape(indices)} index deeper than data ${formatShape(data)}`);
  ctx.set(0, dtype, [...indices.slice(0, -1), ...data.slice(b + last)]);
}

function shapeOp(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  if (!x) return ctx.set(0, 'int64', [null]);
  const rank = x.length;
  const clamp = (a: number): number => Math.min(Math.max(a < 0 ? a + rank : a, 0), rank);
  const start = clamp(getInt(ctx.node, 'start', 0));
  const end = clamp(getInt(ctx.node, 'end', rank));
  const dims = x.slice(start, Math.max(start, end));
  ctx.set(0, 'int64', [dims.length], { dtype: 'int64', dims: [dims.length], values: dims });
}

function size(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const n = x ? dimProduct(x) : null;
  ctx.set(0, 'int64', [], n === null ? undefined : { dtype: 'int64', dims: [], values: [n] });
}

function expand(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  const target = ctx.value(1)?.values;
  if (!target) {
    const s = ctx.shape(1);
    const rank = s && isKnown(s[0]) ? Math.max(s[0], x?.length ?? 0) : null;
    return ctx.set(0, dtype, rank === null ? null : unknownDims(rank));
  }
  for (const d of target) if (isKnown(d) && (d < 0 || !Number.isSafeInteger(d))) mismatch(`shape ${formatShape(target)} has an invalid dim ${d}`);
  const out = broadcastShapes([x, target], 'input and shape');
  let value: PartialValue | undefined;
  const v = ctx.value(0);
  if (v && out && allKnown(out) && out.reduce((a, b) => a * b, 1) <= ctx.maxFoldElements) {
    value = { dtype, dims: out, values: foldBroadcast([v], out, (xs) => xs[0]) };
  }
  ctx.set(0, dtype, out, value);
}

function tile(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  const repeats = ctx.ints(1);
  if (!x) return ctx.set(0, dtype, null);
  if (!repeats) return ctx.set(0, dtype, unknownDims(x.length));
  if (repeats.length !== x.length) mismatch(`repeats [${repeats.join(', ')}] do not match input rank ${x.length}`);
  if (repeats.some((r) => r < 0)) mismatch(`repeats [${repeats.join(', ')}] must not be negative`);
  ctx.set(0, dtype, x.map((d, i) => mulDims(d, repeats[i])));
}

function pad(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  if (!x) return ctx.set(0, dtype, null);
  let pads: number[] | undefined;
  let axes: number[] | undefined;
  if (ctx.opset < 11) pads = getInts(ctx.node, 'pads') ?? getInts(ctx.node, 'paddings');
  else {
    pads = ctx.ints(1);
    if (ctx.has(3)) {
      axes = ctx.ints(3);
      if (!axes) return ctx.set(0, dtype, unknownDims(x.length));
    }
  }
  if (!pads) return ctx.set(0, dtype, unknownDims(x.length));
  const ax = axes ? normalizeAxes(axes, x.length) : x.map((_, i) => i);
  if (pads.length !== 2 * ax.length) mismatch(`pads [${pads.join(', ')}] need ${2 * ax.length} values for ${ax.length} axes`);
  const out = [...x];
  ax.forEach((a, i) => {
    out[a] = addDims(x[a], pads![i] + pads![i + ax.length]);
    if (isKnown(out[a]) && out[a] < 0) mismatch(`padding makes axis ${a} negative (${out[a]})`);
  });
  ctx.set(0, dtype, out);
}

function depthToSpace(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  const b = getInt(ctx.node, 'blocksize', 1);
  if (!x) return ctx.set(0, dtype, null);
  if (x.length !== 4) mismatch(`input ${formatShape(x)} must have rank 4`);
  if (isKnown(x[1]) && x[1] % (b * b) !== 0) mismatch(`${x[1]} channels are not divisible by blocksize² = ${b * b}`);
  ctx.set(0, dtype, [x[0], divDims(x[1], b * b), mulDims(x[2], b), mulDims(x[3], b)]);
}

function spaceToDepth(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  const b = getInt(ctx.node, 'blocksize', 1);
  if (!x) return ctx.set(0, dtype, null);
  if (x.length !== 4) mismatch(`input ${formatShape(x)} must have rank 4`);
  for (const i of [2, 3]) {
    const d = x[i];
    if (isKnown(d) && d % b !== 0) mismatch(`spatial size ${d} is not divisible by blocksize ${b}`);
  }
  ctx.set(0, dtype, [x[0], mulDims(x[1], b * b), divDims(x[2], b), divDims(x[3], b)]);
}

function oneHot(ctx: ShapeRuleContext): void {
  const indices = ctx.shape(0);
  const dtype = ctx.dtype(2);
  if (!indices) return ctx.set(0, dtype, null);
  const depth = ctx.ints(1);
  const axis = normalizeAxis(getInt(ctx.node, 'axis', -1), indices.length + 1);
  const out = [...indices];
  out.splice(axis, 0, depth && depth.length === 1 ? Math.trunc(depth[0]) : null);
  ctx.set(0, dtype, out);
}

function compress(ctx: ShapeRuleContext): void {
  const x = ctx.shape(0);
  const dtype = ctx.dtype(0);
  const axis = getInt(ctx.node, 'axis');
  if (axis === undefined || !x) return ctx.set(0, dtype, [null]);
  const a = normalizeAxis(axis, x.length);
  const out = [...x];
  out[a] = null;
  ctx.set(0, dtype, out);
}

export const shapeOpRules: Readonly<Record<string, ShapeRule>> = {
  Flatten: flatten,
  Reshape: reshape,
  Transpose: transpose,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Concat: concat,
  Split: split,
  Slice: slice,
  Gather: gather,
  GatherElements: (ctx) => ctx.set(0, ctx.dtype(0), ctx.shape(1) ? [...ctx.shape(1)!] : null),
  GatherND: gatherND,
  Shape: shapeOp,
  Size: size,
  Expand: expand,
  Tile: tile,
  Pad: pad,
  DepthToSpace: depthToSpace,
  SpaceToDepth: spaceToDepth,
  OneHot: oneHot,
  Compress: compress,
  NonZero: (ctx) => {
    const x = ctx.shape(0);
    ctx.set(0, 'int64', [x ? x.length : null, null]);
  },
};
