import { largerField, reportedFields, unitField, windowField } from '../analysis/receptiveField';
import type { AxisField } from '../analysis/receptiveField';
import { broadcastShapes } from '../analysis/shapes/dims';
import { ShapeMismatch } from '../analysis/shapes/mismatch';
import type { Dim } from '../ir/types';
import { intTuple } from './layers';
import type { LayerValue, TensorValue, Value } from './values';

/**
 * Output shapes of torch.nn layers, with the receptive field carried along and the multiply-accumulates counted.
 * A shape the rule cannot know becomes null, and a shape that contradicts the layer's arguments becomes a message
 * that says what was expected and what arrived.
 */

/**
 * Receptive field of the output units so far, per trailing spatial axis, as the core's receptive-field rules track it
 * (src/core/analysis/receptiveField.ts: centre and per-phase extents included); `size` and `stride` are what the
 * contract reports for those fields. `global` once every input position mixes.
 */
export type RfState = { size: number[]; stride: number[]; fields: AxisField[] } | { global: true };

/** The state of the given fields; the only way the lens builds one, so that size and stride are the core's. */
export function fieldsRf(fields: AxisField[]): RfState {
  return { ...reportedFields(fields), fields };
}

/**
 * The field of tensors combined position by position (add, mul, cat) into `output`, by the core's merge rule: per
 * axis the larger field; global when an input is, except a global per-channel gate (squeeze-and-excitation's
 * [N, C, 1, 1] scale) beside an input that still has positions, which leaves that input's field in place.
 */
export function mergeTensorRf(inputs: readonly ShapedTensor[], output: readonly Dim[] | null): RfState | undefined {
  const isGlobal = (t: ShapedTensor): boolean => t.rf !== undefined && 'global' in t.rf;
  const hasLocal = inputs.some((t) => !isGlobal(t) && carriesPositions(t, t.shape?.length ?? 0));
  let rf: RfState | undefined;
  for (const t of inputs) {
    if (isGlobal(t)) {
      if (hasLocal && isChannelGate(t.shape, output)) continue;
      return t.rf;
    }
    rf = mergeRf(rf, t.rf);
  }
  return rf;
}

function mergeRf(a: RfState | undefined, b: RfState | undefined): RfState | undefined {
  if (!a) return b;
  if (!b) return a;
  if ('global' in a) return a;
  if ('global' in b) return b;
  if (a.fields.length !== b.fields.length) return a;
  return fieldsRf(a.fields.map((f, k) => largerField(f, b.fields[k])));
}

/** Whether `gate` broadcasts over every spatial axis (2..) of `output`: its dims there are 1 or absent. */
function isChannelGate(gate: readonly Dim[] | null, output: readonly Dim[] | null): boolean {
  if (!gate || !output || output.length < 3 || gate.length > output.length) return false;
  const offset = output.length - gate.length;
  for (let axis = 2; axis < output.length; axis++) if ((axis - offset >= 0 ? gate[axis - offset] : 1) !== 1) return false;
  return true;
}

export interface ShapedTensor extends TensorValue {
  rf?: RfState;
  /** Why the shape is unknown, when something upstream made it so (a container with items Layerscope cannot read). */
  unknownBecause?: string;
  /**
   * Set when a flatten merged axes that held positions: no unit has a spatial field any more, but a layer that
   * contracts over the merged axis (Linear) sees every position, as the core's receptive-field rule has it.
   */
  positionsMixed?: boolean;
  /**
   * Set when an op without a receptive-field rule here (a permute, a slice along a spatial axis, an expand) moved
   * the positions: the fields of later layers are not followed, so the lens shows none rather than a field that
   * starts afresh from a tensor that already has one.
   */
  rfLost?: boolean;
}

/** Whether a tensor's units still stand for input positions (the core treats rank-4 and rank-5 inputs as images). */
export function carriesPositions(t: ShapedTensor, rank: number): boolean {
  return t.rf !== undefined || t.positionsMixed === true || rank >= 4;
}

/**
 * The shape of `a ⊕ b` under broadcasting, by the core's rule (the ONNX path's, so the two agree): an unknown dim
 * stays unknown (never 1), an unknown rank makes the result unknown, and undefined means the shapes do not broadcast.
 */
export function broadcastTensorShapes(a: readonly Dim[] | null, b: readonly Dim[] | null): Dim[] | null | undefined {
  try {
    return broadcastShapes([a, b]);
  } catch (e) {
    if (e instanceof ShapeMismatch) return undefined;
    throw e;
  }
}

export interface LayerApplication {
  output: ShapedTensor;
  /** Why the input does not fit, in words the user can act on. */
  mismatch?: string;
  /** The output-size formula with the values filled in, per spatial axis. */
  sizeFormula?: string;
  /** Why a dim of the output is unknown although the input's shape is known, for the hover. */
  unknownBecause?: string;
  macs: number | null;
}

const times = (xs: readonly Dim[]): string => xs.map((d) => (d === null ? '?' : String(d))).join('×');

function arg(layer: LayerValue, name: string): Value | undefined {
  return layer.args.get(name);
}

function intOf(v: Value | undefined): number | null {
  return v && v.kind === 'num' && v.isInt ? v.value : v && v.kind === 'bool' ? (v.value ? 1 : 0) : null;
}

function tupleOr(v: Value | undefined, n: number): number[] | null {
  try {
    return intTuple(v, n, 'arg');
  } catch {
    return null;
  }
}

function numelKnown(shape: readonly Dim[]): number | null {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') return null;
    n *= d;
  }
  return n;
}

function describeFeatures(t: ShapedTensor, dim: number): string {
  return t.factors && t.factors.length > 1 ? `${t.factors.join('×')} = ${dim}` : String(dim);
}

function unknownOut(input: ShapedTensor): LayerApplication {
  return { output: { kind: 'tensor', shape: null, ...(input.rf ? { rf: input.rf } : {}), ...(input.unknownBecause ? { unknownBecause: input.unknownBecause } : {}) }, macs: null, ...(input.unknownBecause ? { unknownBecause: input.unknownBecause } : {}) };
}

/**
 * Applies a torch.nn layer (not a container or user class) to its input. `call` holds the forward's other arguments
 * by PyTorch's names (layers.ts, bindForwardArgs), for the layers whose output they shape.
 */
export function applyTorchLayer(layer: LayerValue, input: ShapedTensor, call: ReadonlyMap<string, Value> = new Map()): LayerApplication {
  const type = layer.type;
  const shape = input.shape;
  const same = (macs: number | null = 0): LayerApplication => ({
    output: { kind: 'tensor', shape: shape ? [...shape] : null, ...(input.factors ? { factors: input.factors } : {}), ...(input.rf ? { rf: input.rf } : {}), ...(input.positionsMixed ? { positionsMixed: true } : {}), ...(input.unknownBecause && !shape ? { unknownBecause: input.unknownBecause } : {}) },
    macs,
    ...(input.unknownBecause && !shape ? { unknownBecause: input.unknownBecause } : {}),
  });
  if (/^(ReLU|ReLU6|LeakyReLU|Sigmoid|Tanh|GELU|SiLU|ELU|SELU|CELU|Mish|Softplus|Softsign|Hardtanh|Hardswish|Hardsigmoid|LogSigmoid|Threshold|RReLU|PReLU|Softmax|Softmax2d|LogSoftmax|Softmin|Dropout\d?d?|AlphaDropout|FeatureAlphaDropout|Identity|Tanhshrink|Softshrink|Hardshrink|LocalResponseNorm)$/.test(type)) {
    return same(0);
  }
  if (!shape) return unknownOut(input);
  const rank = shape.length;

  if (type === 'Linear' || type === 'LazyLinear') {
    const fin = intOf(arg(layer, 'in_features'));
    const fout = intOf(arg(layer, 'out_features'));
    const last = shape[rank - 1];
    let mismatch: string | undefined;
    if (rank === 0) mismatch = 'Linear needs an input with at least one dimension';
    else if (fin !== null && typeof last === 'number' && last !== fin) {
      mismatch = `Linear expects ${fin} input features; the previous layer gives ${describeFeatures(input, last)}`;
    }
    const out = [...shape.slice(0, -1), fout];
    const batch = numelKnown(shape.slice(0, -1));
    const macs = batch !== null && fin !== null && fout !== null ? batch * fin * fout : null;
    // Contracting over an axis that holds positions sees all of them; an MLP on plain features has no field at all.
    return { output: { kind: 'tensor', shape: out, ...(carriesPositions(input, rank) ? { rf: { global: true } } : {}) }, macs, ...(mismatch ? { mismatch } : {}) };
  }
  const conv = /^(Conv|ConvTranspose)([123])d$/.exec(type);
  if (conv) {
    const n = Number(conv[2]);
    const transposed = conv[1] === 'ConvTranspose';
    const cin = intOf(arg(layer, 'in_channels'));
    const cout = intOf(arg(layer, 'out_channels'));
    if (rank !== n + 2 && rank !== n + 1) return { ...unknownOut(input), mismatch: `${type} expects a ${n + 2}-d input (N×C×${n === 1 ? 'L' : n === 2 ? 'H×W' : 'D×H×W'}); the previous layer gives ${times(shape)}` };
    const c = shape[rank - n - 1];
    if (cin !== null && typeof c === 'number' && c !== cin) {
      return { ...unknownOut(input), mismatch: `${type} expects ${cin} input channels; the previous layer gives ${c} (shape ${times(shape)})` };
    }
    const k = tupleOr(arg(layer, 'kernel_size'), n);
    const s = tupleOr(arg(layer, 'stride'), n);
    const d = tupleOr(arg(layer, 'dilation'), n);
    const g = intOf(arg(layer, 'groups'));
    const padV = arg(layer, 'padding');
    if (!k || !s || !d || g === null) return unknownOut(input);
    let p: number[] | null;
    if (padV && padV.kind === 'str') p = padV.value === 'valid' ? k.map(() => 0) : padV.value === 'same' ? k.map((kk, i) => Math.floor((d[i] * (kk - 1)) / 2)) : null;
    else p = tupleOr(padV, n);
    if (!p) return unknownOut(input);
    let op = transposed ? tupleOr(arg(layer, 'output_padding'), n) ?? k.map(() => 0) : null;
    const outputSize = call.get('output_size');
    if (transposed && outputSize && outputSize.kind !== 'none') {
      const fit = transposedOutputPadding(shape, outputSize, n, k, s, p, d);
      if (fit === null) return unknownOut(input);
      if (typeof fit === 'string') return { ...unknownOut(input), mismatch: `${type}: ${fit}` };
      op = fit;
    }
    const spatialIn = shape.slice(rank - n);
    const spatialOut: Dim[] = [];
    const formulas: string[] = [];
    for (let i = 0; i < n; i++) {
      const w = spatialIn[i];
      if (typeof w !== 'number') {
        spatialOut.push(null);
        continue;
      }
      const fEff = d[i] * (k[i] - 1) + 1;
      if (transposed) {
        const o = (w - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + (op ? op[i] : 0) + 1;
        spatialOut.push(o);
        formulas.push(`(${w} − 1)·${s[i]} − 2·${p[i]} + ${fEff - 1} + ${op ? op[i] : 0} + 1 = ${o}`);
      } else if (padV && padV.kind === 'str' && padV.value === 'same') {
        spatialOut.push(w);
        formulas.push(`padding='same' keeps ${w}`);
      } else {
        const o = Math.floor((w - fEff + 2 * p[i]) / s[i]) + 1;
        spatialOut.push(o);
        formulas.push(`⌊(${w} − ${fEff} + 2·${p[i]})/${s[i]}⌋ + 1 = ${o}`);
        if (o <= 0) return { ...unknownOut(input), mismatch: `${type}: the input ${times(shape)} is smaller than the kernel (${formulas[formulas.length - 1]})` };
      }
    }
    const out = [...shape.slice(0, rank - n - 1), cout, ...spatialOut];
    const outN = numelKnown(out);
    const macs = outN !== null && cin !== null && cout !== null ? (transposed ? (numelKnown(shape) ?? 0) * (cout / g) * k.reduce((a, b) => a * b, 1) : outN * (cin / g) * k.reduce((a, b) => a * b, 1)) : null;
    const rf = input.positionsMixed ? undefined : grow(input.rf, n, k, s, d, p, transposed);
    return { output: { kind: 'tensor', shape: out, ...(rf ? { rf } : {}) }, macs, sizeFormula: formulas.join('; ') };
  }
  const pool = /^(MaxPool|AvgPool)([123])d$/.exec(type);
  if (pool) {
    const n = Number(pool[2]);
    const k = tupleOr(arg(layer, 'kernel_size'), n);
    const sv = arg(layer, 'stride');
    const s = sv && sv.kind === 'none' ? k : tupleOr(sv, n);
    const p = tupleOr(arg(layer, 'padding'), n);
    const d = pool[1] === 'MaxPool' ? tupleOr(arg(layer, 'dilation'), n) : k ? k.map(() => 1) : null;
    const ceilV = arg(layer, 'ceil_mode');
    const ceil = ceilV && ceilV.kind === 'bool' && ceilV.value;
    if (!k || !s || !p || !d || rank < n + 1) return unknownOut(input);
    const spatialIn = shape.slice(rank - n);
    const formulas: string[] = [];
    const spatialOut = spatialIn.map((w, i) => {
      if (typeof w !== 'number') return null;
      const fEff = d[i] * (k[i] - 1) + 1;
      const raw = (w - fEff + 2 * p[i]) / s[i];
      let o = (ceil ? Math.ceil(raw) : Math.floor(raw)) + 1;
      if (ceil && (o - 1) * s[i] >= w + p[i]) o -= 1;
      formulas.push(`${ceil ? '⌈' : '⌊'}(${w} − ${fEff} + 2·${p[i]})/${s[i]}${ceil ? '⌉' : '⌋'} + 1 = ${o}`);
      return o;
    });
    const rf = input.positionsMixed ? undefined : grow(input.rf, n, k, s, d, p);
    return { output: { kind: 'tensor', shape: [...shape.slice(0, rank - n), ...spatialOut], ...(rf ? { rf } : {}) }, macs: 0, sizeFormula: formulas.join('; ') };
  }
  const adaptive = /^Adaptive(Avg|Max)Pool([123])d$/.exec(type);
  if (adaptive) {
    const n = Number(adaptive[2]);
    const ov = arg(layer, 'output_size');
    const o = tupleOr(ov, n);
    if (!o || rank < n + 1) return unknownOut(input);
    const spatialIn = shape.slice(rank - n);
    const isGlobal = o.every((x) => x === 1);
    return { output: { kind: 'tensor', shape: [...shape.slice(0, rank - n), ...o], ...(isGlobal ? { rf: { global: true } } : input.rf ? { rf: input.rf } : {}) }, macs: 0, sizeFormula: `adaptive: ${times(spatialIn)} → ${o.join('×')}` };
  }
  const instance = /^InstanceNorm([123])d$/.exec(type);
  if (instance) {
    // Since PyTorch 1.11 an input without the batch dim (C×L, C×H×W, C×D×H×W) is normalised as a batch of one.
    const n = Number(instance[1]);
    if (rank !== n + 1 && rank !== n + 2) return { ...unknownOut(input), mismatch: `${type} expects a ${n + 1}-d (unbatched) or ${n + 2}-d input; the previous layer gives ${times(shape)}` };
    const c = intOf(arg(layer, 'num_features'));
    const have = shape[rank - n - 1];
    if (c !== null && typeof have === 'number' && have !== c) {
      return { ...same(0), mismatch: `${type} expects ${c} channels; the previous layer gives ${have} (shape ${times(shape)})` };
    }
    return same(0);
  }
  if (/^(BatchNorm[123]d|SyncBatchNorm|GroupNorm)$/.test(type)) {
    const c = intOf(arg(layer, type === 'GroupNorm' ? 'num_channels' : 'num_features'));
    const have = rank >= 2 ? shape[1] : null;
    if (c !== null && typeof have === 'number' && have !== c) {
      return { ...same(0), mismatch: `${type} expects ${c} channels; the previous layer gives ${have} (shape ${times(shape)})` };
    }
    return same(0);
  }
  if (type === 'LayerNorm') {
    const v = arg(layer, 'normalized_shape');
    const ns = v && v.kind === 'seq' ? tupleOr(v, v.items.length) : tupleOr(v, 1);
    if (ns && ns.length <= rank) {
      const tail = shape.slice(rank - ns.length);
      if (tail.every((t) => typeof t === 'number') && tail.some((t, i) => t !== ns[i])) {
        return { ...same(0), mismatch: `LayerNorm expects the last dims ${ns.join('×')}; the previous layer gives ${times(shape)}` };
      }
    }
    return same(0);
  }
  if (type === 'Flatten') {
    const sd = intOf(arg(layer, 'start_dim')) ?? 1;
    const ed = intOf(arg(layer, 'end_dim')) ?? -1;
    return { output: flattenShape(input, sd, ed), macs: 0 };
  }
  if (type === 'Unflatten') {
    const dim = intOf(arg(layer, 'dim'));
    const v = arg(layer, 'unflattened_size');
    const sizes = v && v.kind === 'seq' ? tupleOr(v, v.items.length) : null;
    if (dim === null || !sizes) return unknownOut(input);
    const dd = dim < 0 ? rank + dim : dim;
    return { output: { kind: 'tensor', shape: [...shape.slice(0, dd), ...sizes, ...shape.slice(dd + 1)] }, macs: 0 };
  }
  if (type === 'RNN' || type === 'LSTM' || type === 'GRU') {
    // Input (L, N, H_in), or (N, L, H_in) with batch_first; unbatched (L, H_in) keeps its rank.
    const hin = intOf(arg(layer, 'input_size'));
    const hidden = intOf(arg(layer, 'hidden_size'));
    const proj = intOf(arg(layer, 'proj_size')) ?? 0;
    const dirsV = arg(layer, 'bidirectional');
    const dirs = dirsV && dirsV.kind === 'bool' && dirsV.value ? 2 : 1;
    if (rank !== 2 && rank !== 3) return { ...unknownOut(input), mismatch: `${type} expects a 3-d input (sequence × batch × features); the previous layer gives ${times(shape)}` };
    const last = shape[rank - 1];
    if (hin !== null && typeof last === 'number' && last !== hin) {
      return { ...unknownOut(input), mismatch: `${type} expects ${hin} input features; the previous layer gives ${describeFeatures(input, last)}` };
    }
    const outFeatures = hidden === null ? null : (proj > 0 ? proj : hidden) * dirs;
    return { output: { kind: 'tensor', shape: [...shape.slice(0, -1), outFeatures] }, macs: null };
  }
  if (type === 'TransformerEncoderLayer' || type === 'TransformerDecoderLayer' || type === 'MultiheadAttention') {
    // The output has the query's shape; the last dim must be the model width.
    const d = intOf(arg(layer, type === 'MultiheadAttention' ? 'embed_dim' : 'd_model'));
    const last = shape[rank - 1];
    if (d !== null && typeof last === 'number' && last !== d) {
      return { ...unknownOut(input), mismatch: `${type} expects ${d} features in the last dim; the previous layer gives ${describeFeatures(input, last)}` };
    }
    return { output: { kind: 'tensor', shape: [...shape], rf: { global: true } }, macs: null };
  }
  if (type === 'Embedding') {
    const d = intOf(arg(layer, 'embedding_dim'));
    return { output: { kind: 'tensor', shape: [...shape, d] }, macs: 0 };
  }
  if (type === 'EmbeddingBag') return embeddingBag(layer, input, shape, call);
  if (type === 'Bilinear') return bilinear(layer, input, shape, call);
  return unknownOut(input);
}

/**
 * nn.Bilinear: input1 [..., in1] and input2 [..., in2] give [..., out]. PyTorch does not broadcast: the leading dims
 * of both inputs must be equal.
 */
function bilinear(layer: LayerValue, input: ShapedTensor, shape: Dim[], call: ReadonlyMap<string, Value>): LayerApplication {
  const in1 = intOf(arg(layer, 'in1_features'));
  const in2 = intOf(arg(layer, 'in2_features'));
  const out = intOf(arg(layer, 'out_features'));
  const rank = shape.length;
  const other = call.get('input2');
  const shape2 = other && other.kind === 'tensor' ? other.shape : null;
  const last = shape[rank - 1];
  if (rank === 0) return { ...unknownOut(input), mismatch: 'Bilinear needs inputs with at least one dimension' };
  if (in1 !== null && typeof last === 'number' && last !== in1) {
    return { ...unknownOut(input), mismatch: `Bilinear expects ${in1} features in its first input; the previous layer gives ${describeFeatures(input, last)}` };
  }
  if (shape2) {
    const last2 = shape2[shape2.length - 1];
    if (in2 !== null && typeof last2 === 'number' && last2 !== in2) {
      return { ...unknownOut(input), mismatch: `Bilinear expects ${in2} features in its second input; it is given ${times(shape2)}` };
    }
    const lead = shape.slice(0, -1);
    const lead2 = shape2.slice(0, -1);
    if (lead.length !== lead2.length || lead.some((d, k) => typeof d === 'number' && typeof lead2[k] === 'number' && d !== lead2[k])) {
      return { ...unknownOut(input), mismatch: `Bilinear needs inputs with the same leading dims; they are ${times(shape)} and ${times(shape2)}` };
    }
  }
  const batch = numelKnown(shape.slice(0, -1));
  const macs = batch !== null && in1 !== null && in2 !== null && out !== null ? batch * out * in1 * in2 : null;
  return { output: { kind: 'tensor', shape: [...shape.slice(0, -1), out], rf: { global: true } }, macs };
}

/**
 * nn.EmbeddingBag: a 2-d input holds one bag per row, [B, L] → [B, D]. A 1-d input is cut into bags by offsets, one bag
 * per offset (one fewer with include_last_offset), so the output has as many rows as offsets has entries.
 */
function embeddingBag(layer: LayerValue, input: ShapedTensor, shape: Dim[], call: ReadonlyMap<string, Value>): LayerApplication {
  const d = intOf(arg(layer, 'embedding_dim'));
  const offsets = call.get('offsets');
  const given = offsets !== undefined && offsets.kind !== 'none';
  if (shape.length === 2) {
    if (given) return { ...unknownOut(input), mismatch: 'EmbeddingBag takes offsets only with a 1-d input; a 2-d input already holds one bag per row' };
    return { output: { kind: 'tensor', shape: [shape[0], d] }, macs: 0 };
  }
  if (shape.length !== 1) return { ...unknownOut(input), mismatch: `EmbeddingBag expects a 2-d input of bags, or a 1-d input with offsets; the previous layer gives ${times(shape)}` };
  if (!given) return { ...unknownOut(input), mismatch: 'EmbeddingBag needs offsets with a 1-d input, to know where each bag starts' };
  const last = layer.args.get('include_last_offset');
  const lastIsEnd = last !== undefined && last.kind === 'bool' && last.value;
  const n = offsets.kind === 'tensor' && offsets.shape?.length === 1 ? offsets.shape[0] : null;
  if (typeof n === 'number') return { output: { kind: 'tensor', shape: [n - (lastIsEnd ? 1 : 0), d] }, macs: 0 };
  return { output: { kind: 'tensor', shape: [null, d] }, macs: 0, unknownBecause: 'EmbeddingBag makes one bag per offset, and the length of its offsets is not known statically' };
}

/**
 * The output_padding that ConvTranspose's forward(input, output_size) uses instead of the constructor's, as PyTorch's
 * _output_padding computes it: output_size (spatial dims, or all dims) must lie between the smallest output the
 * stride allows and stride − 1 more. Returns why it does not, or null while a size is not known.
 */
export function transposedOutputPadding(shape: readonly Dim[], outputSize: Value, n: number, k: number[], s: number[], p: number[], d: number[]): number[] | string | null {
  const items = outputSize.kind === 'seq' ? outputSize.items : null;
  if (!items) return null;
  const nonSpatial = shape.length === n + 2 ? 2 : 1;
  const sizes = items.length === n + nonSpatial ? items.slice(nonSpatial) : items;
  if (sizes.length !== n) return `for a ${shape.length}-d input, output_size must have ${n} or ${n + nonSpatial} elements (got ${items.length})`;
  const spatial = shape.slice(shape.length - n);
  const padding: number[] = [];
  for (let i = 0; i < n; i++) {
    const want = sizes[i];
    const w = spatial[i];
    if (want.kind !== 'num' || typeof w !== 'number') return null;
    const min = (w - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + 1;
    if (want.value < min || want.value > min + s[i] - 1) return `output_size ${want.value} is outside the sizes ${min} to ${min + s[i] - 1} that an input size of ${w} allows`;
    padding.push(want.value - min);
  }
  return padding;
}

/**
 * The field after a window, by the core's rule (src/core/analysis/receptiveField.ts), for a call whose one-layer
 * graph has no core numbers (an input dim not known): the field does not depend on the input's size.
 */
function grow(rf: RfState | undefined, n: number, k: number[], s: number[], d: number[], p: number[], transposed = false): RfState | undefined {
  if (rf && 'global' in rf) return rf;
  const fields = rf ? rf.fields : Array.from({ length: n }, unitField);
  if (fields.length !== n) return undefined;
  return fieldsRf(fields.map((f, i) => windowField(f, k[i], d[i], s[i], p[i], transposed)));
}

/** torch.flatten(x, start, end): the merged dim is known only when every merged dim is. */
export function flattenShape(input: ShapedTensor, start: number, end: number): ShapedTensor {
  const shape = input.shape;
  if (!shape) return { kind: 'tensor', shape: null, rf: { global: true } };
  const rank = shape.length;
  const s = start < 0 ? rank + start : start;
  const e = end < 0 ? rank + end : end;
  if (s > e || s >= rank) return { kind: 'tensor', shape: [...shape], ...(input.rf ? { rf: input.rf } : {}), ...(input.positionsMixed ? { positionsMixed: true } : {}) };
  const merged = shape.slice(s, e + 1);
  const n = numelKnown(merged);
  const out: Dim[] = [...shape.slice(0, s), n, ...shape.slice(e + 1)];
  const factors = merged.every((m) => typeof m === 'number') ? (merged as number[]) : undefined;
  return { kind: 'tensor', shape: out, ...(factors && e === rank - 1 ? { factors } : {}), ...positionsAfterMerge(input) };
}

/**
 * Where the positions of a tensor go when a flatten or reshape merges its axes, as the core's receptive-field rule has
 * it: a unit that saw everything still does; spatial axes that are all 1 are dropped, and the positions with them;
 * otherwise the positions are mixed, so no unit has a spatial field, but a Linear over them sees all of them.
 */
export function positionsAfterMerge(input: ShapedTensor): Partial<ShapedTensor> {
  if (input.rf && 'global' in input.rf) return { rf: input.rf };
  const shape = input.shape;
  const rank = shape?.length ?? 0;
  if (!carriesPositions(input, rank)) return {};
  const spatial = spatialAxisCount(input, rank);
  if (shape && spatial > 0 && shape.slice(rank - spatial).every((d) => d === 1)) return {};
  return { positionsMixed: true };
}

/** How many trailing axes of a tensor that carries positions hold them: its field's, none once mixed, else all but N and C. */
export function spatialAxisCount(t: ShapedTensor, rank: number): number {
  return t.rf && !('global' in t.rf) ? t.rf.size.length : t.positionsMixed ? 0 : rank - 2;
}

export function formatShape(shape: readonly Dim[] | null): string {
  return shape ? times(shape) : '?';
}
