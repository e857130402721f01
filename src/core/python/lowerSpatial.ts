import { UserInputError } from '../errors';
import { f } from '../ir/builder';
import type { AttributeInput } from '../ir/builder';
import type { Dim } from '../ir/types';
import { boolOf, floatOf, knownDims, where } from './lowerContext';
import type { LoweringContext } from './lowerContext';
import type { LayerValue, Value } from './values';

/**
 * The parameter-free torch.nn layers that move values around rather than map each one: GLU, the padding layers,
 * PixelShuffle/PixelUnshuffle, ChannelShuffle, Upsample, LPPool and LocalResponseNorm, each written so that it computes
 * what PyTorch 1.13 computes in eval mode (the numerics test runs both). Returns null for a layer type not handled here.
 */
export function lowerSpatial(ctx: LoweringContext, layer: LayerValue, x: string, shape: Dim[] | null): string | null {
  const t = layer.type;
  const a = layer.args;
  const who = where(layer);
  const rank = shape?.length;
  if (t === 'GLU') {
    // The first half of `dim` gated by the sigmoid of the second half.
    // Its signature in layers.ts binds dim by position or keyword; absent, it is PyTorch's default, -1.
    const dimV = a.get('dim');
    if (dimV !== undefined && (dimV.kind !== 'num' || !dimV.isInt)) throw new UserInputError(`${who}: its dim must be an int known from the source to convert it to ONNX`);
    const dim = dimV?.value ?? -1;
    if (!shape || rank === undefined) throw new UserInputError(`${who}: an input of known shape is needed to convert it to ONNX`);
    const axis = dim < 0 ? dim + rank : dim;
    const size = shape[axis];
    if (typeof size !== 'number' || size % 2 !== 0) throw new UserInputError(`${who}: the size of dim ${dim} must be known and even to convert it to ONNX`);
    const [first, second] = ctx.split(x, [size / 2, size / 2], axis, layer);
    return ctx.node('Mul', [first, ctx.node('Sigmoid', [second], {}, layer)], {}, layer);
  }
  const pad = /^(Zero|Constant|Reflection|Replication)Pad([123])d$/.exec(t);
  if (pad) {
    const n = Number(pad[2]);
    if (rank === undefined || rank < n) throw new UserInputError(`${who}: an input of known rank is needed to convert it to ONNX`);
    const p = ints(a.get('padding'));
    if (!p || (p.length !== 1 && p.length !== 2 * n)) throw new UserInputError(`${who}: padding must be an int or a tuple of ${2 * n} ints known statically to convert it to ONNX`);
    const sides = p.length === 1 ? Array<number>(2 * n).fill(p[0]) : p;
    // PyTorch lists (begin, end) pairs from the last dim backwards; ONNX lists every axis's begin, then every end.
    const begins = Array<number>(rank).fill(0);
    const ends = Array<number>(rank).fill(0);
    for (let i = 0; i < n; i++) {
      begins[rank - 1 - i] = sides[2 * i];
      ends[rank - 1 - i] = sides[2 * i + 1];
    }
    const mode = pad[1] === 'Reflection' ? 'reflect' : pad[1] === 'Replication' ? 'edge' : 'constant';
    const inputs = [x, ctx.constant([...begins, ...ends], 'int64')];
    if (pad[1] === 'Constant') {
      const value = a.get('value');
      if (value?.kind !== 'num') throw new UserInputError(`${who}: value must be a number known statically to convert it to ONNX`);
      inputs.push(ctx.constant([value.value], 'float32', []));
    }
    return ctx.node('Pad', inputs, { mode }, layer);
  }
  if (t === 'PixelShuffle' || t === 'PixelUnshuffle') {
    const r = a.get(t === 'PixelShuffle' ? 'upscale_factor' : 'downscale_factor');
    if (r?.kind !== 'num' || !r.isInt) throw new UserInputError(`${who}: its ${t === 'PixelShuffle' ? 'upscale' : 'downscale'}_factor must be an int known statically to convert it to ONNX`);
    if (rank !== 4) throw new UserInputError(`${who}: a 4-d input (N×C×H×W) is needed to convert it to ONNX`);
    // PyTorch's channel order c·r² + i·r + j is DepthToSpace's CRD mode.
    if (t === 'PixelShuffle') return ctx.node('DepthToSpace', [x], { blocksize: r.value, mode: 'CRD' }, layer);
    // SpaceToDepth puts the block offset before the channel (DCR order), so the unshuffle is spelled out instead:
    // [N, C, H·r, W·r] → [N, C, H, r, W, r] → [N, C, r, r, H, W] → [N, C·r², H, W].
    const [c, h, w] = shape!.slice(1);
    if (typeof c !== 'number' || typeof h !== 'number' || typeof w !== 'number') throw new UserInputError(`${who}: the input's channels, height and width must be known to convert it to ONNX`);
    const k = r.value;
    const blocks = ctx.node('Reshape', [x, ctx.constant([0, c, h / k, k, w / k, k], 'int64')], {}, layer);
    const moved = ctx.node('Transpose', [blocks], { perm: [0, 1, 3, 5, 2, 4] }, layer);
    return ctx.node('Reshape', [moved, ctx.constant([0, c * k * k, h / k, w / k], 'int64')], {}, layer);
  }
  if (t === 'ChannelShuffle') {
    const g = a.get('groups');
    if (g?.kind !== 'num' || !g.isInt) throw new UserInputError(`${who}: its groups must be an int known statically to convert it to ONNX`);
    const c = shape?.[1];
    if (!rank || rank < 3 || typeof c !== 'number') throw new UserInputError(`${who}: an input of N×C×… with known channels is needed to convert it to ONNX`);
    // [N, C, …] → [N, g, C/g, rest] → [N, C/g, g, rest] → the input's shape.
    const grouped = ctx.node('Reshape', [x, ctx.constant([0, g.value, c / g.value, -1], 'int64')], {}, layer);
    const swapped = ctx.node('Transpose', [grouped], { perm: [0, 2, 1, 3] }, layer);
    return ctx.node('Reshape', [swapped, ctx.node('Shape', [x], {}, layer)], {}, layer);
  }
  if (t === 'Upsample' || t === 'UpsamplingNearest2d' || t === 'UpsamplingBilinear2d') return upsample(ctx, layer, x, shape);
  const lp = /^LPPool([12])d$/.exec(t);
  if (lp) {
    // PyTorch 1.13: (sign(a)·relu(|a|)·kernel size)^(1/p) with a the average pool of x^p over the window, unpadded; sign·relu·|·|
    // gives a back unchanged, so what is left is avg_pool(x^p)·(window size), to the power 1/p.
    const n = Number(lp[1]);
    const p = a.get('norm_type');
    if (p?.kind !== 'num') throw new UserInputError(`${who}: its norm_type must be a number known statically to convert it to ONNX`);
    const k = ints(a.get('kernel_size'));
    if (!k || (k.length !== 1 && k.length !== n)) throw new UserInputError(`${who}: its kernel_size must be known statically to convert it to ONNX`);
    const kernel = k.length === n ? k : Array<number>(n).fill(k[0]);
    const sv = a.get('stride');
    const s = sv && sv.kind !== 'none' ? ints(sv) : kernel;
    if (!s || (s.length !== 1 && s.length !== n)) throw new UserInputError(`${who}: its stride must be known statically to convert it to ONNX`);
    if (rank !== n + 2) throw new UserInputError(`${who}: a batched ${n + 2}-d input is needed to convert it to ONNX`);
    const powered = ctx.node('Pow', [x, ctx.constant([p.value], 'float32', [])], {}, layer);
    // Without padding, count_include_pad only matters for ceil_mode's clipped last window, which PyTorch averages
    // over the elements it holds.
    const attrs: Record<string, AttributeInput> = { kernel_shape: kernel, strides: s.length === n ? s : Array<number>(n).fill(s[0]), ceil_mode: boolOf(a.get('ceil_mode'), false) ? 1 : 0, count_include_pad: 0 };
    const avg = ctx.node('AveragePool', [powered], attrs, layer);
    const sum = ctx.node('Mul', [avg, ctx.constant([kernel.reduce((u, v) => u * v, 1)], 'float32', [])], {}, layer);
    return ctx.node('Pow', [sum, ctx.constant([1 / p.value], 'float32', [])], {}, layer);
  }
  if (t === 'LocalResponseNorm') {
    const size = a.get('size');
    if (size?.kind !== 'num' || !size.isInt) throw new UserInputError(`${who}: its size must be an int known statically to convert it to ONNX`);
    if (!rank || rank < 3) throw new UserInputError(`${who}: an input of 3 or more dims is needed to convert it to ONNX`);
    // Both divide x by (k + α/size · Σ x²)^β, the sum over a window of `size` channels. PyTorch's window is
    // [c − ⌊size/2⌋, c + ⌊(size−1)/2⌋] and ONNX's [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉]: the same for an odd size, not
    // for an even one, which onnxruntime's LRN refuses anyway, so an even size is written out: x² zero-padded over the channels by
    // PyTorch's amounts, and the window sum as the sum of `size` shifted slices (a Conv of ones would count as weights).
    const alpha = floatOf(a.get('alpha'), 1e-4);
    const beta = floatOf(a.get('beta'), 0.75);
    const k = floatOf(a.get('k'), 1);
    if (size.value % 2 === 1) return ctx.node('LRN', [x], { size: size.value, alpha: f(alpha), beta: f(beta), bias: f(k) }, layer);
    const c = shape![1];
    if (typeof c !== 'number') throw new UserInputError(`${who}: the input's channels must be known to convert it to ONNX`);
    const n = size.value;
    const pads = Array<number>(2 * rank).fill(0);
    pads[1] = Math.floor(n / 2);
    pads[rank + 1] = Math.floor((n - 1) / 2);
    const padded = ctx.node('Pad', [ctx.node('Mul', [x, x], {}, layer), ctx.constant(pads, 'int64')], { mode: 'constant' }, layer);
    const axis = ctx.constant([1], 'int64');
    let sums = '';
    for (let j = 0; j < n; j++) {
      const slice = ctx.node('Slice', [padded, ctx.constant([j], 'int64'), ctx.constant([j + c], 'int64'), axis], {}, layer);
      sums = j === 0 ? slice : ctx.node('Add', [sums, slice], {}, layer);
    }
    const scaled = ctx.node('Add', [ctx.node('Mul', [sums, ctx.constant([alpha / n], 'float32', [])], {}, layer), ctx.constant([k], 'float32', [])], {}, layer);
    const div = ctx.node('Pow', [scaled, ctx.constant([beta], 'float32', [])], {}, layer);
    return ctx.node('Div', [x, div], {}, layer);
  }
  return null;
}

/**
 * nn.Upsample and its two deprecated spellings as ONNX Resize. PyTorch's nearest is asymmetric with floor; nearest-exact
 * is half_pixel rounding halves up; linear modes map with align_corners, or with half_pixel: PyTorch maps an output of
 * length 1 to the middle of the input as half_pixel does, not to 0 as pytorch_half_pixel does, and onnxruntime clamps
 * the negative coordinates of linear modes as PyTorch does. A given scale_factor is used as the coordinate scale, as
 * PyTorch does when recompute_scale_factor is unset.
 */
function upsample(ctx: LoweringContext, layer: LayerValue, x: string, shape: Dim[] | null): string {
  const a = layer.args;
  const who = where(layer);
  const t = layer.type;
  const mode = t === 'UpsamplingNearest2d' ? 'nearest' : t === 'UpsamplingBilinear2d' ? 'bilinear' : a.get('mode')?.kind === 'str' ? (a.get('mode') as { value: string }).value : a.get('mode') ? null : 'nearest';
  const spatial: Record<string, number> = { nearest: 0, 'nearest-exact': 0, linear: 1, bilinear: 2, bicubic: 2, trilinear: 3 };
  if (mode === null || !(mode in spatial)) throw new UserInputError(`${who}: mode ${mode === null ? '(not known statically)' : `'${mode}'`} cannot be converted to ONNX`);
  if (!shape) throw new UserInputError(`${who}: an input of known rank is needed to convert it to ONNX`);
  const n = shape.length - 2;
  if (n < 1 || (spatial[mode] !== 0 && spatial[mode] !== n)) throw new UserInputError(`${who}: mode '${mode}' needs a ${spatial[mode] + 2}-d input to convert it to ONNX`);
  const alignV = t === 'UpsamplingBilinear2d' ? { kind: 'bool', value: true } as Value : a.get('align_corners');
  const align = alignV && alignV.kind !== 'none' ? boolOf(alignV, false) : false;
  const attrs: Record<string, AttributeInput> = {};
  if (mode === 'nearest') Object.assign(attrs, { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
  else if (mode === 'nearest-exact') Object.assign(attrs, { mode: 'nearest', coordinate_transformation_mode: 'half_pixel', nearest_mode: 'round_prefer_ceil' });
  else Object.assign(attrs, { mode: mode === 'bicubic' ? 'cubic' : 'linear', coordinate_transformation_mode: align ? 'align_corners' : 'half_pixel', ...(mode === 'bicubic' ? { cubic_coeff_a: f(-0.75) } : {}) });
  const sizeV = a.get('size');
  const scaleV = a.get('scale_factor');
  const roi = ctx.constant([], 'float32', [0]);
  if (sizeV && sizeV.kind !== 'none') {
    const size = ints(sizeV);
    const dims = knownDims(shape.slice(0, 2));
    if (!size || (size.length !== 1 && size.length !== n) || !dims) throw new UserInputError(`${who}: size and the input's batch and channels must be known statically to convert it to ONNX`);
    const sizes = [...dims, ...(size.length === n ? size : Array<number>(n).fill(size[0]))];
    return ctx.node('Resize', [x, roi, ctx.constant([], 'float32', [0]), ctx.constant(sizes, 'int64')], attrs, layer);
  }
  const scale = scaleV?.kind === 'num' ? [scaleV.value] : scaleV?.kind === 'seq' && scaleV.items.every((v) => v.kind === 'num') ? scaleV.items.map((v) => (v as { value: number }).value) : null;
  if (!scale || (scale.length !== 1 && scale.length !== n)) throw new UserInputError(`${who}: size or scale_factor must be known statically to convert it to ONNX`);
  const scales = [1, 1, ...(scale.length === n ? scale : Array<number>(n).fill(scale[0]))];
  return ctx.node('Resize', [x, roi, ctx.constant(scales, 'float32')], attrs, layer);
}

/** An int or a tuple of ints known statically, as a list; null otherwise. */
function ints(v: Value | undefined): number[] | null {
  if (v?.kind === 'num' && v.isInt) return [v.value];
  if (v?.kind === 'seq' && v.items.every((i) => i.kind === 'num' && i.isInt)) return v.items.map((i) => (i as { value: number }).value);
  return null;
}
