import { getInt, getInts, getString } from '../ir/attributes';
import type { Dim } from '../ir/types';
import type { GradContext, RuleEntry } from './ruleTypes';

/**
 * Gradient rules for Conv and ConvTranspose, built from the same two ops (README's "Gradient probes").
 *
 * - The data gradient of a Conv is a ConvTranspose of the output gradient with the same weights. ConvTranspose's own
 *   cropping and output_padding need static sizes, so the builder runs it uncropped and then pads and slices to the
 *   input's run-time size; that is exact for every stride, pad, dilation and group count, and for inputs whose
 *   remainder (input + pads - window) is not a multiple of the stride.
 * - The weight gradient is a Conv of the input with the output gradient, roles swapped: the input's channels become
 *   the batch, its batch becomes the channels, the original stride becomes the dilation and the original dilation
 *   the stride. Groups fold into the channel axis so that one grouped Conv computes every group's weights.
 */

export interface ConvGeometry {
  /** Number of spatial axes. */
  r: number;
  kernel: number[];
  strides: number[];
  dilations: number[];
  padsBegin: number[];
  padsEnd: number[];
  group: number;
}

function staticKernel(ctx: GradContext, w: string): number[] | undefined {
  const ks = getInts(ctx.node, 'kernel_shape');
  if (ks) return ks;
  const ws = ctx.e.staticShape(w);
  if (ws && ws.length > 2 && ws.slice(2).every((d): d is number => typeof d === 'number')) return ws.slice(2) as number[];
  return undefined;
}

/** Pads as the forward node used them, resolving auto_pad from static input sizes. */
export function resolvePads(
  ctx: GradContext,
  x: string,
  kernel: number[],
  strides: number[],
  dilations: number[],
): { padsBegin: number[]; padsEnd: number[] } {
  const r = kernel.length;
  const autoPad = getString(ctx.node, 'auto_pad', 'NOTSET');
  if (autoPad === 'NOTSET' || autoPad === '') {
    const pads = getInts(ctx.node, 'pads') ?? new Array<number>(2 * r).fill(0);
    return { padsBegin: pads.slice(0, r), padsEnd: pads.slice(r, 2 * r) };
  }
  if (autoPad === 'VALID') return { padsBegin: new Array<number>(r).fill(0), padsEnd: new Array<number>(r).fill(0) };
  const xs: Dim[] | undefined = ctx.e.staticShape(x);
  const spatial = xs?.slice(2);
  if (!spatial || spatial.length !== r || !spatial.every((d): d is number => typeof d === 'number')) {
    ctx.unsupported(`auto_pad=${autoPad} with spatial sizes that are not known statically`);
  }
  const padsBegin: number[] = [];
  const padsEnd: number[] = [];
  for (let i = 0; i < r; i++) {
    const size = spatial[i] as number;
    const out = Math.ceil(size / strides[i]);
    const total = Math.max(0, (out - 1) * strides[i] + dilations[i] * (kernel[i] - 1) + 1 - size);
    const small = Math.floor(total / 2);
    if (autoPad === 'SAME_LOWER') {
      padsBegin.push(total - small);
      padsEnd.push(small);
    } else {
      padsBegin.push(small);
      padsEnd.push(total - small);
    }
  }
  return { padsBegin, padsEnd };
}

export function convGeometry(ctx: GradContext, x: string, w: string): ConvGeometry {
  const kernel = staticKernel(ctx, w);
  if (!kernel) ctx.unsupported('a kernel size that is not known statically');
  const r = kernel.length;
  const strides = getInts(ctx.node, 'strides') ?? new Array<number>(r).fill(1);
  const dilations = getInts(ctx.node, 'dilations') ?? new Array<number>(r).fill(1);
  const group = getInt(ctx.node, 'group', 1);
  const { padsBegin, padsEnd } = resolvePads(ctx, x, kernel, strides, dilations);
  return { r, kernel, strides, dilations, padsBegin, padsEnd, group };
}

function spatialAxes(r: number): number[] {
  return Array.from({ length: r }, (_, i) => i + 2);
}

function swapBatchChannel(r: number): number[] {
  return [1, 0, ...spatialAxes(r)];
}

/**
 * The adjoint of a Conv with geometry `g` applied to output gradient `gy`, cut to the spatial size of `xRef`.
 * `w` is the forward weight (or a ones kernel for pooling).
 */
export function convDataGrad(ctx: GradContext, gy: string, w: string, xRef: string, g: ConvGeometry): string {
  const { e } = ctx;
  const wShape = e.staticShape(w);
  const reach = g.kernel.map((k, i) => g.dilations[i] * (k - 1));
  if (
    g.strides.every((st) => st === 1) &&
    g.padsBegin.every((p, i) => p <= reach[i]) &&
    g.padsEnd.every((p, i) => p <= reach[i]) &&
    wShape &&
    wShape.every((d): d is number => typeof d === 'number')
  ) {
    // With stride 1 the adjoint is an ordinary Conv with the kernel flipped and its in/out channels swapped per
    // group, padded so that the output regains the input's size. onnxruntime's Conv is much faster than its
    // ConvTranspose.
    const [m, cg] = wShape as number[];
    const mg = m / g.group;
    const flipped = e.op('Slice', [
      w,
      e.constI(new Array<number>(g.r).fill(-1)),
      e.constI(new Array<number>(g.r).fill(-(2 ** 62))),
      e.constI(spatialAxes(g.r)),
      e.constI(new Array<number>(g.r).fill(-1)),
    ]);
    let swapped: string;
    if (g.group === 1) {
      swapped = e.op('Transpose', [flipped], { perm: swapBatchChannel(g.r) });
    } else {
      const grouped = e.op('Reshape', [flipped, e.constI([g.group, mg, cg, ...g.kernel])]);
      const moved = e.op('Transpose', [grouped], { perm: [0, 2, 1, ...spatialAxes(g.r).map((a) => a + 1)] });
      swapped = e.op('Reshape', [moved, e.constI([g.group * cg, mg, ...g.kernel])]);
    }
    return e.op('Conv', [gy, swapped], {
      dilations: g.dilations,
      group: g.group,
      pads: [...g.padsBegin.map((p, i) => reach[i] - p), ...g.padsEnd.map((p, i) => reach[i] - p)],
    });
  }
  const full = e.op('ConvTranspose', [gy, w], { strides: g.strides, dilations: g.dilations, group: g.group });
  // The uncropped result covers the padded input except a remainder at the end that no window reached.
  const padTotal = g.padsBegin.map((b, i) => b + g.padsEnd[i]);
  const target = e.op('Add', [e.shapeSlice(xRef, 2), e.constI(padTotal)]);
  const fullSpatial = e.op('Slice', [e.op('Shape', [full]), e.constI([2]), e.constI([2 ** 62]), e.constI([0])]);
  const missing = e.op('Sub', [target, fullSpatial]);
  const pads = e.op('Concat', [e.constI(new Array<number>(g.r + 4).fill(0)), missing], { axis: 0 });
  const padded = e.op('Pad', [full, pads]);
  const starts = e.constI(g.padsBegin);
  const ends = e.op('Add', [starts, e.shapeSlice(xRef, 2)]);
  return e.op('Slice', [padded, starts, ends, e.constI(spatialAxes(g.r))]);
}

/**
 * The weight gradient of a Conv: out[m, c, k] = sum over n, o of grad[n, m, o] * pad(input)[n, group(m) + c,
 * o * stride + k * dilation], cut to the kernel size.
 */
export function convWeightGrad(ctx: GradContext, input: string, grad: string, g: ConvGeometry, gradShapeOf?: string): string {
  const { e } = ctx;
  const batchOfOne = e.staticShape(input)?.[0] === 1 || (gradShapeOf !== undefined && e.staticShape(gradShapeOf)?.[0] === 1);
  if (g.group === 1 && g.kernel.reduce((a, b) => a * b, 1) <= 64) return convWeightGradGemm(ctx, input, grad, g, gradShapeOf, batchOfOne);
  const perm = swapBatchChannel(g.r);
  let lhs: string;
  if (g.group === 1) {
    lhs = swapLeadingAxes(ctx, input, g.r, batchOfOne);
  } else {
    // [N, C, S] -> [N, g, C/g, S] -> [C/g, g, N, S] -> [C/g, g*N, S]: channel (j, n) of the result belongs to group j.
    const split = e.op('Concat', [e.shapeSlice(input, 0, 1), e.constI([g.group, -1]), e.shapeSlice(input, 2)], { axis: 0 });
    const five = e.op('Reshape', [input, split]);
    const moved = e.op('Transpose', [five], { perm: [2, 1, 0, ...spatialAxes(g.r).map((a) => a + 1)] });
    const movedShape = e.op('Shape', [moved]);
    const cg = e.op('Slice', [movedShape, e.constI([0]), e.constI([1]), e.constI([0])]);
    const gn = e.op('Mul', [e.shapeSlice(input, 0, 1), e.constI([g.group])]);
    const merged = e.op('Concat', [cg, gn, e.shapeSlice(input, 2)], { axis: 0 });
    lhs = e.op('Reshape', [moved, merged]);
  }
  const kernel = swapLeadingAxes(ctx, grad, g.r, batchOfOne);
  const out = e.op('Conv', [lhs, kernel], {
    strides: g.dilations,
    dilations: g.strides,
    pads: [...g.padsBegin, ...g.padsEnd],
    group: g.group,
  });
  const back = e.op('Transpose', [out], { perm });
  return e.op('Slice', [back, e.constI(new Array<number>(g.r).fill(0)), e.constI(g.kernel), e.constI(spatialAxes(g.r))]);
}

/**
 * Swaps the batch and channel axes. With a batch of one (known statically) that is a Reshape, which costs nothing,
 * where onnxruntime's Transpose would copy the whole activation.
 */
function swapLeadingAxes(ctx: GradContext, x: string, r: number, batchOfOne: boolean): string {
  const { e } = ctx;
  if (batchOfOne) {
    return e.op('Reshape', [x, e.op('Concat', [e.shapeSlice(x, 1, 2), e.constI([1]), e.shapeSlice(x, 2)], { axis: 0 })]);
  }
  return e.op('Transpose', [x], { perm: swapBatchChannel(r) });
}

/**
 * The weight gradient of an ungrouped Conv as matrix products, which onnxruntime runs several times faster than the
 * equivalent Conv with an output-sized kernel. Two layouts, chosen by the shapes:
 * - one GEMM per kernel offset q: dW[:, :, q] = G [M, N*P] times X_q [C, N*P] transposed, where X_q is the padded
 *   input sliced at that offset with the forward stride;
 * - one GEMM over all offsets at once (im2col): dW [M, C*K] = G [M, N*P] times cols [C*K, N*P] transposed.
 */
function convWeightGradGemm(ctx: GradContext, input: string, grad: string, g: ConvGeometry, gradShapeOf: string | undefined, batchOfOne: boolean): string {
  const { e } = ctx;
  const gT = swapLeadingAxes(ctx, grad, g.r, batchOfOne);
  const g2 = e.op('Reshape', [gT, e.op('Concat', [e.shapeSlice(grad, 1, 2), e.constI([-1])], { axis: 0 })]);
  const kernelSize = g.kernel.reduce((a, b) => a * b, 1);
  const gs = gradShapeOf === undefined ? undefined : e.staticShape(gradShapeOf);
  const positions = gs && gs.every((d): d is number => typeof d === 'number') ? (gs as number[]).reduce((a, b, i) => (i === 1 ? a : a * b), 1) : undefined;
  const outChannels = gs && typeof gs[1] === 'number' ? gs[1] : undefined;
  const inChannels = e.staticShape(input)?.[1];
  // Per-offset GEMMs have C columns, which starves the GEMM kernel when the input has few channels (a network's
  // first layer); and when the output has fewer positions than channels (deep layers), the im2col columns are
  // smaller than the per-offset products that would have to be stacked afterwards.
  const im2col = (typeof inChannels === 'number' && inChannels < 16) || (positions !== undefined && outChannels !== undefined && positions < outChannels);
  if (im2col) {
    // Convolving every channel on its own with one-hot kernels copies each window out exactly (one product by one,
    // the rest by zero) in a single node, instead of a Pad, a strided Slice per offset and a Concat:
    // cols[n*C + c, q, o] = pad(input)[n, c, o * stride + q * dilation].
    const eye = e.constF(Array.from({ length: kernelSize * kernelSize }, (_, i) => (Math.floor(i / kernelSize) === i % kernelSize ? 1 : 0)), [kernelSize, 1, ...g.kernel]);
    const perChannel = e.op('Reshape', [input, e.op('Concat', [e.constI([-1, 1]), e.shapeSlice(input, 2)], { axis: 0 })]);
    const cols = e.op('Conv', [perChannel, eye], { strides: g.strides, dilations: g.dilations, pads: [...g.padsBegin, ...g.padsEnd] });
    const rows = e.op('Mul', [e.shapeSlice(input, 1, 2), e.constI([kernelSize])]);
    let ck: string;
    if (batchOfOne) {
      ck = e.op('Reshape', [cols, e.op('Concat', [rows, e.constI([-1])], { axis: 0 })]);
    } else {
      // [N, C*K, P] -> [C*K, N, P], to pair with G's [M, N, P].
      const byBatch = e.op('Reshape', [cols, e.op('Concat', [e.shapeSlice(input, 0, 1), rows, e.constI([-1])], { axis: 0 })]);
      ck = e.op('Reshape', [e.op('Transpose', [byBatch], { perm: [1, 0, 2] }), e.op('Concat', [rows, e.constI([-1])], { axis: 0 })]);
    }
    const dw = e.op('Gemm', [g2, ck], { transB: 1 });
    return e.op('Reshape', [dw, e.op('Concat', [e.shapeSlice(grad, 1, 2), e.shapeSlice(input, 1, 2), e.constI(g.kernel)], { axis: 0 })]);
  }
  const hasPads = [...g.padsBegin, ...g.padsEnd].some((p) => p !== 0);
  const padded = hasPads ? e.op('Pad', [input, e.constI([0, 0, ...g.padsBegin, 0, 0, ...g.padsEnd])]) : input;
  const xT = swapLeadingAxes(ctx, padded, g.r, batchOfOne);
  // Each slice covers stride * (out - 1) + 1 positions from its offset.
  const span = e.op('Add', [e.op('Mul', [e.op('Sub', [e.shapeSlice(grad, 2), e.constI(new Array<number>(g.r).fill(1))]), e.constI(g.strides)]), e.constI(new Array<number>(g.r).fill(1))]);
  const channels = e.op('Concat', [e.shapeSlice(input, 1, 2), e.constI([-1])], { axis: 0 });
  const offsets: number[][] = [[]];
  for (const k of g.kernel) {
    const next: number[][] = [];
    for (const o of offsets) for (let i = 0; i < k; i++) next.push([...o, i]);
    offsets.splice(0, offsets.length, ...next);
  }
  const axes = e.constI(spatialAxes(g.r));
  const steps = e.constI(g.strides);
  const columns = offsets.map((o) => {
    const starts = e.constI(o.map((i, a) => i * g.dilations[a]));
    const slice = e.op('Slice', [xT, starts, e.op('Add', [span, starts]), axes, steps]);
    const dw = e.op('Gemm', [g2, e.op('Reshape', [slice, channels])], { transB: 1 });
    return e.op('Unsqueeze', [dw, e.constI([2])]);
  });
  const stacked = columns.length === 1 ? columns[0] : e.op('Concat', columns, { axis: 2 });
  return e.op('Reshape', [stacked, e.op('Concat', [e.shapeSlice(stacked, 0, 2), e.constI(g.kernel)], { axis: 0 })]);
}

function biasGrad(ctx: GradContext, gy: string, r: number): string {
  return ctx.e.reduceSum(gy, [0, ...spatialAxes(r)], false);
}

function conv(ctx: GradContext): (string | undefined)[] {
  const [x, w, b] = ctx.node.inputs;
  const g = convGeometry(ctx, x, w);
  const gy = ctx.gy[0]!;
  return [
    ctx.needs[0] ? convDataGrad(ctx, gy, w, x, g) : undefined,
    ctx.needs[1] ? convWeightGrad(ctx, x, gy, g, ctx.node.outputs[0]) : undefined,
    b && ctx.needs[2] ? biasGrad(ctx, gy, g.r) : undefined,
  ];
}

function convTranspose(ctx: GradContext): (string | undefined)[] {
  const { e, node } = ctx;
  const [x, w, b] = node.inputs;
  if (getInts(node, 'output_shape')) ctx.unsupported('ConvTranspose with an output_shape attribute');
  const autoPad = getString(node, 'auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID' && autoPad !== '') ctx.unsupported(`ConvTranspose with auto_pad=${autoPad}`);
  const kernel = staticKernel(ctx, w);
  if (!kernel) ctx.unsupported('a kernel size that is not known statically');
  const r = kernel.length;
  const pads = autoPad === 'VALID' ? undefined : getInts(node, 'pads');
  const g: ConvGeometry = {
    r,
    kernel,
    strides: getInts(node, 'strides') ?? new Array<number>(r).fill(1),
    dilations: getInts(node, 'dilations') ?? new Array<number>(r).fill(1),
    padsBegin: pads ? pads.slice(0, r) : new Array<number>(r).fill(0),
    padsEnd: pads ? pads.slice(r, 2 * r) : new Array<number>(r).fill(0),
    group: getInt(node, 'group', 1),
  };
  const gy = ctx.gy[0]!;
  // The adjoint of a transposed convolution is the convolution itself over the output gradient, padded back to the
  // uncropped size; output_padding only lengthens the end, which the Conv's floor division absorbs.
  const gx = ctx.needs[0]
    ? e.op('Conv', [gy, w], {
        strides: g.strides,
        dilations: g.dilations,
        pads: [...g.padsBegin, ...g.padsEnd],
        group: g.group,
      })
    : undefined;
  return [gx, ctx.needs[1] ? convWeightGrad(ctx, gy, x, g, ctx.node.inputs[0]) : undefined, b && ctx.needs[2] ? biasGrad(ctx, gy, r) : undefined];
}

export const convRules: Record<string, RuleEntry> = {
  Conv: { rule: conv, diff: [0, 1, 2] },
  ConvTranspose: { rule: convTranspose, diff: [0, 1, 2] },
};
