import { UserInputError } from '../errors';
import { GraphBuilder, f } from '../ir/builder';
import type { AttributeInput } from '../ir/builder';
import { encodeValues } from '../ir/tensorData';
import type { Dim, Model, SourceLocation, Tensor } from '../ir/types';
import { Interpreter } from './interpreter';
import type { ForwardEmitter } from './interpreter';
import type { ShapedTensor } from './layerShapes';
import { intTuple } from './layers';
import type { LayerValue, SourceRange, Value } from './values';
import { SeededRandom } from '../stats/random';

/**
 * Lowers a PyTorch module read from source to the neutral IR, so that the inspector, the summary, probes and
 * gradient probes run on code that was never exported. The forward pass is interpreted once with tensors that carry
 * IR value names; every layer call emits the ONNX ops PyTorch's exporter would (Conv, Gemm, BatchNormalization …)
 * with weights initialised the way PyTorch initialises them, or with a chosen scheme.
 */

export type InitScheme = 'pytorch' | 'normal' | 'xavier' | 'he' | 'zeros';

export interface LowerOptions {
  /** 'pytorch' (default) reproduces each layer's reset_parameters; 'xavier' is std 1/√Din (the lecture's convention); 'he' is √(2/Din). */
  init?: InitScheme;
  /** Standard deviation for init 'normal'. Default 0.01. */
  sigma?: number;
  seed?: number;
  inputShape: Dim[];
  /** The interpreter that built the module (it holds the file's imports and constants that forward reads). */
  interpreter?: Interpreter;
  file?: string;
}

function intOf(v: Value | undefined, fallback: number): number {
  return v && v.kind === 'num' ? v.value : v && v.kind === 'bool' ? (v.value ? 1 : 0) : fallback;
}

function boolOf(v: Value | undefined, fallback: boolean): boolean {
  return v && v.kind === 'bool' ? v.value : v && v.kind === 'num' ? v.value !== 0 : fallback;
}

function floatOf(v: Value | undefined, fallback: number): number {
  return v && v.kind === 'num' ? v.value : fallback;
}

class Lowerer implements ForwardEmitter {
  readonly builder = new GraphBuilder('main');
  private readonly rng: SeededRandom;
  private readonly init: InitScheme;
  private readonly sigma: number;
  private readonly cache = new Map<LayerValue, Map<string, string>>();
  /** Source locations by node output name; attached to the nodes once the graph is built. */
  readonly sources = new Map<string, SourceLocation>();

  constructor(options: LowerOptions, private readonly file?: string) {
    this.rng = new SeededRandom(options.seed ?? 0);
    this.init = options.init ?? 'pytorch';
    this.sigma = options.sigma ?? 0.01;
  }

  private tensor(name: string, dims: number[], fill: (k: number) => number): string {
    const n = dims.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    for (let k = 0; k < n; k++) values[k] = fill(k);
    const t: Tensor = { name: this.builder.fresh(name), dtype: 'float32', dims, data: { kind: 'inline', bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) } };
    return this.builder.addInitializer(t);
  }

  /** A weight of the layer, created once per layer object so that a module called twice shares its parameters. */
  private param(layer: LayerValue, key: string, dims: number[], fanIn: number, kind: 'weight' | 'bias' | 'ones' | 'zeros' | 'embedding' | 'rnn', bound?: number): string {
    let m = this.cache.get(layer);
    if (!m) this.cache.set(layer, (m = new Map()));
    const existing = m.get(key);
    if (existing) return existing;
    const name = `${layer.path ?? layer.type}.${key}`;
    let fill: (k: number) => number;
    if (kind === 'ones') fill = () => 1;
    else if (kind === 'zeros' || this.init === 'zeros') fill = () => 0;
    else if (this.init === 'pytorch' || kind === 'bias') {
      if (kind === 'embedding') fill = () => this.rng.normal();
      else {
        // kaiming_uniform(a=√5) gives U(±1/√fan_in) for weights, the same bound PyTorch uses for biases.
        const b = bound ?? (fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0);
        fill = () => (this.rng.uniform() * 2 - 1) * b;
        if (this.init !== 'pytorch' && kind === 'bias') fill = () => 0;
      }
    } else {
      const std = this.init === 'normal' ? this.sigma : this.init === 'xavier' ? 1 / Math.sqrt(fanIn) : Math.sqrt(2 / fanIn);
      fill = () => this.rng.normal() * std;
    }
    const out = this.tensor(name, dims, fill);
    m.set(key, out);
    return out;
  }

  private node(op: string, inputs: string[], attrs: Record<string, AttributeInput>, layer: LayerValue | null, range?: SourceRange): string {
    const out = this.builder.op(op, inputs, attrs, layer?.path ? { name: this.builder.fresh(`/${layer.path.replace(/\./g, '/')}/${op}`) } : {});
    const r = layer?.range ?? range;
    if (r) this.sources.set(out, { line: r.line + 1, ...(layer?.path ? { modulePath: layer.path } : {}), ...(this.file ? { file: this.file } : {}) });
    return out;
  }

  private constant(values: number[], dtype: 'int64' | 'float32', dims: number[] = [values.length]): string {
    const name = this.builder.fresh('const');
    const t: Tensor = { name, dtype, dims, data: { kind: 'inline', bytes: encodeValues(dtype, values) } };
    return this.node('Constant', [], { value: t }, null);
  }

  layer(layer: LayerValue, inputs: ShapedTensor[], output: ShapedTensor): string | null {
    const x = inputs[0]?.irName;
    if (!x) throw new UserInputError(`${layer.path ?? layer.type}: its input could not be lowered`);
    const a = layer.args;
    const t = layer.type;
    const unsupported = (): never => {
      throw new UserInputError(`${layer.path ?? t} (nn.${t}, line ${layer.range.line + 1}) cannot be converted to ONNX without PyTorch yet`);
    };
    const conv = /^(Conv|ConvTranspose)([123])d$/.exec(t);
    if (conv) {
      const n = Number(conv[2]);
      const cin = intOf(a.get('in_channels'), 0);
      const cout = intOf(a.get('out_channels'), 0);
      const k = intTuple(a.get('kernel_size'), n, 'kernel_size');
      const s = intTuple(a.get('stride'), n, 'stride');
      const d = intTuple(a.get('dilation'), n, 'dilation');
      const g = intOf(a.get('groups'), 1);
      const padV = a.get('padding');
      const p = padV && padV.kind === 'str' ? (padV.value === 'same' ? k.map((kk, i) => Math.floor((d[i] * (kk - 1)) / 2)) : k.map(() => 0)) : intTuple(padV, n, 'padding');
      const pEnd = padV && padV.kind === 'str' && padV.value === 'same' ? k.map((kk, i) => d[i] * (kk - 1) - p[i]) : p;
      const transposed = conv[1] === 'ConvTranspose';
      const kprod = k.reduce((u, v) => u * v, 1);
      const fanIn = transposed ? (cout / g) * kprod : (cin / g) * kprod;
      const wDims = transposed ? [cin, cout / g, ...k] : [cout, cin / g, ...k];
      // PyTorch's ConvTranspose computes fan_in from weight.size(1), which is out_channels/groups.
      const w = this.param(layer, 'weight', wDims, fanIn, 'weight');
      const ins = [x, w];
      if (boolOf(a.get('bias'), true)) ins.push(this.param(layer, 'bias', [cout], fanIn, 'bias'));
      const attrs: Record<string, AttributeInput> = { kernel_shape: k, strides: s, pads: [...p, ...pEnd], dilations: d, group: g };
      if (transposed) attrs.output_padding = intTuple(a.get('output_padding'), n, 'output_padding');
      return this.node(transposed ? 'ConvTranspose' : 'Conv', ins, attrs, layer);
    }
    switch (t) {
      case 'Linear': {
        const fin = intOf(a.get('in_features'), 0);
        const fout = intOf(a.get('out_features'), 0);
        const bias = boolOf(a.get('bias'), true);
        const w = this.param(layer, 'weight', [fout, fin], fin, 'weight');
        const b = bias ? this.param(layer, 'bias', [fout], fin, 'bias') : null;
        if (inputs[0].shape && inputs[0].shape.length === 2) return this.node('Gemm', b ? [x, w, b] : [x, w], { transB: 1 }, layer);
        const wt = this.node('Transpose', [w], { perm: [1, 0] }, layer);
        const mm = this.node('MatMul', [x, wt], {}, layer);
        return b ? this.node('Add', [mm, b], {}, layer) : mm;
      }
      case 'BatchNorm1d':
      case 'BatchNorm2d':
      case 'BatchNorm3d': {
        const c = intOf(a.get('num_features'), 0);
        const scale = this.param(layer, 'weight', [c], 0, 'ones');
        const bias = this.param(layer, 'bias', [c], 0, 'zeros');
        const mean = this.param(layer, 'running_mean', [c], 0, 'zeros');
        const variance = this.param(layer, 'running_var', [c], 0, 'ones');
        return this.node('BatchNormalization', [x, scale, bias, mean, variance], { epsilon: f(floatOf(a.get('eps'), 1e-5)), momentum: f(1 - floatOf(a.get('momentum'), 0.1)) }, layer);
      }
      case 'LayerNorm': {
        const v = a.get('normalized_shape');
        const ns = v && v.kind === 'seq' ? intTuple(v, v.items.length, 'normalized_shape') : intTuple(v, 1, 'normalized_shape');
        const e = ns.reduce((u, w) => u * w, 1);
        void e;
        const scale = this.param(layer, 'weight', ns, 0, 'ones');
        const bias = this.param(layer, 'bias', ns, 0, 'zeros');
        return this.node('LayerNormalization', [x, scale, bias], { axis: -ns.length, epsilon: f(floatOf(a.get('eps'), 1e-5)) }, layer);
      }
      case 'ReLU':
        return this.node('Relu', [x], {}, layer);
      case 'Sigmoid':
        return this.node('Sigmoid', [x], {}, layer);
      case 'Tanh':
        return this.node('Tanh', [x], {}, layer);
      case 'LeakyReLU':
        return this.node('LeakyRelu', [x], { alpha: f(floatOf(a.get('negative_slope'), 0.01)) }, layer);
      case 'ELU':
        return this.node('Elu', [x], { alpha: f(floatOf(a.get('alpha'), 1)) }, layer);
      case 'SELU':
        return this.node('Selu', [x], {}, layer);
      case 'Softplus':
        return this.node('Softplus', [x], {}, layer);
      case 'Hardswish':
        return this.node('HardSwish', [x], {}, layer);
      case 'GELU':
        return this.gelu(x, layer);
      case 'SiLU': {
        const sg = this.node('Sigmoid', [x], {}, layer);
        return this.node('Mul', [x, sg], {}, layer);
      }
      case 'ReLU6':
        return this.node('Clip', [x, this.constant([0], 'float32', []), this.constant([6], 'float32', [])], {}, layer);
      case 'Softmax':
      case 'LogSoftmax': {
        const dv = a.get('dim');
        const axis = dv && dv.kind === 'num' ? dv.value : -1;
        return this.node(t, [x], { axis }, layer);
      }
      case 'Dropout':
      case 'Dropout1d':
      case 'Dropout2d':
      case 'Dropout3d':
      case 'AlphaDropout':
      case 'Identity':
        return this.node('Identity', [x], {}, layer);
      case 'Flatten':
        return this.reshapeTo(x, output.shape, layer);
      case 'Unflatten':
        return this.reshapeTo(x, output.shape, layer);
      case 'PReLU': {
        const nParams = intOf(a.get('num_parameters'), 1);
        const rank = inputs[0].shape?.length ?? 2;
        const dims = nParams === 1 ? [1] : [nParams, ...Array(Math.max(0, rank - 2)).fill(1)];
        const slope = this.tensor(`${layer.path ?? 'prelu'}.weight`, dims, () => floatOf(a.get('init'), 0.25));
        return this.node('PRelu', [x, slope], {}, layer);
      }
      default:
        break;
    }
    if (t === 'RNN' || t === 'LSTM' || t === 'GRU') return this.recurrent(layer, x, inputs[0].shape, output.shape);
    if (t === 'MultiheadAttention') {
      if (inputs.length > 1 && inputs.some((i) => i.irName !== x)) throw new UserInputError(`${layer.path ?? t} (line ${layer.range.line + 1}): only self-attention (query, key and value the same tensor) is converted to ONNX without PyTorch`);
      return this.attention(layer, layer.path ?? 'attn', x, inputs[0].shape, intOf(a.get('embed_dim'), 0), intOf(a.get('num_heads'), 1), boolOf(a.get('bias'), true), boolOf(a.get('batch_first'), false));
    }
    if (t === 'TransformerEncoderLayer') return this.encoderLayer(layer, x, inputs[0].shape);
    if (t === 'Embedding') {
      const n = intOf(a.get('num_embeddings'), 0);
      const d = intOf(a.get('embedding_dim'), 0);
      const w = this.param(layer, 'weight', [n, d], 0, 'embedding');
      const pad = a.get('padding_idx');
      if (pad && pad.kind === 'num') {
        // PyTorch zeroes the padding row after drawing N(0, 1).
        const tensor = this.builder.build().initializers.find((i) => i.name === w);
        if (tensor && tensor.data.kind === 'inline') {
          const row = pad.value < 0 ? n + pad.value : pad.value;
          new Float32Array(tensor.data.bytes.buffer, tensor.data.bytes.byteOffset, n * d).fill(0, row * d, (row + 1) * d);
        }
      }
      return this.node('Gather', [w, x], { axis: 0 }, layer);
    }
    const pool = /^(MaxPool|AvgPool)([123])d$/.exec(t);
    if (pool) return this.pool(t, x, a, layer);
    const adaptive = /^Adaptive(Avg|Max)Pool([123])d$/.exec(t);
    if (adaptive) {
      const n = Number(adaptive[2]);
      const o = intTuple(a.get('output_size'), n, 'output_size');
      if (o.every((v) => v === 1)) return this.node(adaptive[1] === 'Avg' ? 'GlobalAveragePool' : 'GlobalMaxPool', [x], {}, layer);
      const ins = inputs[0].shape?.slice(-n);
      if (ins && ins.every((v, i) => typeof v === 'number' && v % o[i] === 0)) {
        const k = ins.map((v, i) => (v as number) / o[i]);
        return this.node(adaptive[1] === 'Avg' ? 'AveragePool' : 'MaxPool', [x], { kernel_shape: k, strides: k }, layer);
      }
      return unsupported();
    }
    return unsupported();
  }

  /**
   * PyTorch's RNN/LSTM/GRU as one ONNX op per layer. ONNX orders the gates differently (LSTM i,o,f,c against
   * PyTorch's i,f,g,o; GRU z,r,h against r,z,n) and GRU needs linear_before_reset=1 to match PyTorch. Weights are drawn
   * in PyTorch's layout and order, U(±1/√hidden), then permuted, so a seed gives the same numbers PyTorch would see.
   */
  private recurrent(layer: LayerValue, x: string, inShape: Dim[] | null, outShape: Dim[] | null): string {
    const a = layer.args;
    const t = layer.type;
    if (intOf(a.get('proj_size'), 0) > 0) throw new UserInputError(`${layer.path ?? t} (nn.LSTM with proj_size, line ${layer.range.line + 1}) cannot be converted to ONNX without PyTorch yet`);
    if (!inShape || inShape.length !== 3 || !outShape) throw new UserInputError(`${layer.path ?? t} (line ${layer.range.line + 1}): a batched 3-d input of known shape is needed to convert it to ONNX`);
    const gates = t === 'LSTM' ? 4 : t === 'GRU' ? 3 : 1;
    const order = t === 'LSTM' ? [0, 3, 1, 2] : t === 'GRU' ? [1, 0, 2] : [0];
    const input = intOf(a.get('input_size'), 0);
    const hidden = intOf(a.get('hidden_size'), 0);
    const layers = intOf(a.get('num_layers'), 1);
    const bias = boolOf(a.get('bias'), true);
    const dirs = boolOf(a.get('bidirectional'), false) ? 2 : 1;
    const batchFirst = boolOf(a.get('batch_first'), false);
    const bound = 1 / Math.sqrt(hidden);
    const draw = (rows: number, cols: number): Float32Array => {
      const v = new Float32Array(rows * cols);
      for (let k = 0; k < v.length; k++) v[k] = this.init === 'zeros' ? 0 : (this.rng.uniform() * 2 - 1) * bound;
      return v;
    };
    // Rows of a PyTorch weight [gates·H, cols] regrouped into ONNX's gate order.
    const permute = (w: Float32Array, cols: number): Float32Array => {
      const out = new Float32Array(w.length);
      order.forEach((src, dst) => out.set(w.subarray(src * hidden * cols, (src + 1) * hidden * cols), dst * hidden * cols));
      return out;
    };
    const tensorOf = (name: string, dims: number[], values: Float32Array): string =>
      this.builder.addInitializer({ name: this.builder.fresh(name), dtype: 'float32', dims, data: { kind: 'inline', bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) } });
    let seqIn = batchFirst ? this.node('Transpose', [x], { perm: [1, 0, 2] }, layer) : x;
    const seqLen = batchFirst ? inShape[1] : inShape[0];
    const batch = batchFirst ? inShape[0] : inShape[1];
    for (let l = 0; l < layers; l++) {
      const inSize = l === 0 ? input : hidden * dirs;
      const W = new Float32Array(dirs * gates * hidden * inSize);
      const R = new Float32Array(dirs * gates * hidden * hidden);
      const B = new Float32Array(dirs * 2 * gates * hidden);
      for (let d = 0; d < dirs; d++) {
        W.set(permute(draw(gates * hidden, inSize), inSize), d * gates * hidden * inSize);
        R.set(permute(draw(gates * hidden, hidden), hidden), d * gates * hidden * hidden);
        if (bias) {
          B.set(permute(draw(gates * hidden, 1), 1), d * 2 * gates * hidden);
          B.set(permute(draw(gates * hidden, 1), 1), d * 2 * gates * hidden + gates * hidden);
        }
      }
      const suffix = `l${l}`;
      const ins = [seqIn, tensorOf(`${layer.path ?? t}.weight_ih_${suffix}`, [dirs, gates * hidden, inSize], W), tensorOf(`${layer.path ?? t}.weight_hh_${suffix}`, [dirs, gates * hidden, hidden], R)];
      if (bias) ins.push(tensorOf(`${layer.path ?? t}.bias_${suffix}`, [dirs, 2 * gates * hidden], B));
      const attrs: Record<string, AttributeInput> = { hidden_size: hidden, direction: dirs === 2 ? 'bidirectional' : 'forward' };
      if (t === 'GRU') attrs.linear_before_reset = 1;
      if (t === 'RNN') {
        const nl = a.get('nonlinearity');
        const act = nl && nl.kind === 'str' && nl.value === 'relu' ? 'Relu' : 'Tanh';
        attrs.activations = dirs === 2 ? [act, act] : [act];
      }
      const y = this.node(t, ins, attrs, layer);
      // Y is (seq, dirs, batch, hidden); PyTorch's output is (seq, batch, dirs·hidden).
      const yt = this.node('Transpose', [y], { perm: [0, 2, 1, 3] }, layer);
      if (typeof seqLen !== 'number' || typeof batch !== 'number') throw new UserInputError(`${layer.path ?? t}: the sequence length and batch must be known to convert it to ONNX`);
      seqIn = this.node('Reshape', [yt, this.constant([seqLen, batch, dirs * hidden], 'int64')], {}, layer);
    }
    return batchFirst ? this.node('Transpose', [seqIn], { perm: [1, 0, 2] }, layer) : seqIn;
  }

  /** A weight created under an explicit PyTorch state-dict name (sub-modules that the source does not spell out). */
  private named(layer: LayerValue, key: string, dims: number[], fill: () => number): string {
    let m = this.cache.get(layer);
    if (!m) this.cache.set(layer, (m = new Map()));
    const existing = m.get(key);
    if (existing) return existing;
    const out = this.tensor(`${layer.path ?? layer.type}.${key}`, dims, this.init === 'zeros' ? () => 0 : fill);
    m.set(key, out);
    return out;
  }

  private linear(layer: LayerValue, prefix: string, x: string, fin: number, fout: number, bias: boolean, zeroBias = false): string {
    const b = 1 / Math.sqrt(fin);
    const w = this.named(layer, `${prefix}.weight`, [fout, fin], () => (this.rng.uniform() * 2 - 1) * b);
    const wt = this.node('Transpose', [w], { perm: [1, 0] }, layer);
    const y = this.node('MatMul', [x, wt], {}, layer);
    if (!bias) return y;
    const bb = this.named(layer, `${prefix}.bias`, [fout], zeroBias ? () => 0 : () => (this.rng.uniform() * 2 - 1) * b);
    return this.node('Add', [y, bb], {}, layer);
  }

  /**
   * nn.MultiheadAttention as PyTorch computes it for self-attention: one packed in-projection, heads split by
   * reshaping, scaled dot-product softmax, heads merged, out-projection. Initialised as PyTorch does: xavier_uniform
   * in-projection, zero biases, a default-initialised out-projection weight.
   */
  private attention(layer: LayerValue, prefix: string, x: string, shape: Dim[] | null, e: number, heads: number, bias: boolean, batchFirst: boolean): string {
    if (!shape || shape.length !== 3 || shape.some((d) => typeof d !== 'number')) throw new UserInputError(`${prefix} (line ${layer.range.line + 1}): a 3-d input of known shape is needed to convert attention to ONNX`);
    const [a0, a1] = shape as number[];
    const [len, batch] = batchFirst ? [a1, a0] : [a0, a1];
    const hd = e / heads;
    const own = prefix === (layer.path ?? 'attn') ? '' : `${prefix.slice((layer.path ?? '').length + 1)}.`;
    let h = batchFirst ? this.node('Transpose', [x], { perm: [1, 0, 2] }, layer) : x;
    const xb = Math.sqrt(6 / (e + 3 * e));
    const w = this.named(layer, `${own}in_proj_weight`, [3 * e, e], () => (this.rng.uniform() * 2 - 1) * xb);
    let qkv = this.node('MatMul', [h, this.node('Transpose', [w], { perm: [1, 0] }, layer)], {}, layer);
    if (bias) qkv = this.node('Add', [qkv, this.named(layer, `${own}in_proj_bias`, [3 * e], () => 0)], {}, layer);
    const [q, k, v] = this.builder.node('Split', [qkv, this.constant([e, e, e], 'int64')], { axis: -1 }, { outputs: 3 });
    const heads3 = (t: string, perm: number[]): string => this.node('Transpose', [this.node('Reshape', [t, this.constant([len, batch * heads, hd], 'int64')], {}, layer)], { perm }, layer);
    const qh = this.node('Mul', [heads3(q, [1, 0, 2]), this.constant([1 / Math.sqrt(hd)], 'float32', [])], {}, layer);
    const scores = this.node('MatMul', [qh, heads3(k, [1, 2, 0])], {}, layer);
    const attn = this.node('Softmax', [scores], { axis: -1 }, layer);
    const ctx = this.node('MatMul', [attn, heads3(v, [1, 0, 2])], {}, layer);
    const merged = this.node('Reshape', [this.node('Transpose', [ctx], { perm: [1, 0, 2] }, layer), this.constant([len, batch, e], 'int64')], {}, layer);
    h = this.linear(layer, `${own}out_proj`, merged, e, e, bias, true);
    return batchFirst ? this.node('Transpose', [h], { perm: [1, 0, 2] }, layer) : h;
  }

  /** The exact GELU PyTorch uses by default: 0.5·x·(1 + erf(x/√2)); opset 17 has no Gelu op. */
  private gelu(x: string, layer: LayerValue | null, range?: SourceRange): string {
    const erf = this.node('Erf', [this.node('Mul', [x, this.constant([Math.SQRT1_2], 'float32', [])], {}, layer, range)], {}, layer, range);
    return this.node('Mul', [this.node('Mul', [x, this.constant([0.5], 'float32', [])], {}, layer, range), this.node('Add', [erf, this.constant([1], 'float32', [])], {}, layer, range)], {}, layer, range);
  }

  private layerNorm(layer: LayerValue, prefix: string, x: string, d: number, eps: number): string {
    const g = this.named(layer, `${prefix}.weight`, [d], () => 1);
    const b = this.named(layer, `${prefix}.bias`, [d], () => 0);
    // LayerNorm's γ and β start at 1 and 0 whatever the scheme.
    return this.node('LayerNormalization', [x, g, b], { axis: -1, epsilon: f(eps) }, layer);
  }

  /** nn.TransformerEncoderLayer (post-norm by default, pre-norm with norm_first), relu or gelu feed-forward, in eval mode. */
  private encoderLayer(layer: LayerValue, x: string, shape: Dim[] | null): string {
    const a = layer.args;
    const d = intOf(a.get('d_model'), 0);
    const ff = intOf(a.get('dim_feedforward'), 2048);
    const eps = floatOf(a.get('layer_norm_eps'), 1e-5);
    const bias = boolOf(a.get('bias'), true);
    const act = a.get('activation');
    const actName = act && act.kind === 'str' ? act.value : 'relu';
    if (actName !== 'relu' && actName !== 'gelu') throw new UserInputError(`${layer.path ?? 'TransformerEncoderLayer'} (line ${layer.range.line + 1}): activation ${actName} cannot be converted to ONNX without PyTorch yet`);
    const normFirst = boolOf(a.get('norm_first'), false);
    const prefix = layer.path ?? 'layer';
    const sa = (t: string): string => this.attention(layer, `${prefix}.self_attn`, t, shape, d, intOf(a.get('nhead'), 1), bias, boolOf(a.get('batch_first'), false));
    const feed = (t: string): string => {
      const h = this.linear(layer, 'linear1', t, d, ff, bias);
      let y: string;
      if (actName === 'relu') y = this.node('Relu', [h], {}, layer);
      else {
        // gelu(x) = x·Φ(x) = 0.5·x·(1 + erf(x/√2)), as torch's default (exact) gelu.
        const erf = this.node('Erf', [this.node('Mul', [h, this.constant([Math.SQRT1_2], 'float32', [])], {}, layer)], {}, layer);
        y = this.node('Mul', [this.node('Mul', [h, this.constant([0.5], 'float32', [])], {}, layer), this.node('Add', [erf, this.constant([1], 'float32', [])], {}, layer)], {}, layer);
      }
      return this.linear(layer, 'linear2', y, ff, d, bias);
    };
    if (normFirst) {
      const x1 = this.node('Add', [x, sa(this.layerNorm(layer, 'norm1', x, d, eps))], {}, layer);
      return this.node('Add', [x1, feed(this.layerNorm(layer, 'norm2', x1, d, eps))], {}, layer);
    }
    const x1 = this.layerNorm(layer, 'norm1', this.node('Add', [x, sa(x)], {}, layer), d, eps);
    return this.layerNorm(layer, 'norm2', this.node('Add', [x1, feed(x1)], {}, layer), d, eps);
  }

  private pool(type: string, x: string, a: Map<string, Value>, layer: LayerValue | null, range?: SourceRange): string {
    const n = Number(/([123])d$/.exec(type)![1]);
    const k = intTuple(a.get('kernel_size'), n, 'kernel_size');
    const sv = a.get('stride');
    const s = sv && sv.kind !== 'none' ? intTuple(sv, n, 'stride') : k;
    const p = intTuple(a.get('padding') ?? { kind: 'num', value: 0, isInt: true }, n, 'padding');
    const ceil = boolOf(a.get('ceil_mode'), false) ? 1 : 0;
    const attrs: Record<string, AttributeInput> = { kernel_shape: k, strides: s, pads: [...p, ...p], ceil_mode: ceil };
    if (type.startsWith('AvgPool')) attrs.count_include_pad = boolOf(a.get('count_include_pad'), true) ? 1 : 0;
    else {
      const d = a.get('dilation');
      if (d) attrs.dilations = intTuple(d, n, 'dilation');
    }
    return this.node(type.startsWith('Max') ? 'MaxPool' : 'AveragePool', [x], attrs, layer, range);
  }

  private reshapeTo(x: string, shape: Dim[] | null, layer: LayerValue | null, range?: SourceRange): string {
    if (!shape || shape.some((d) => typeof d !== 'number')) {
      throw new UserInputError(`${layer?.path ?? 'a reshape'}: the output shape must be known to convert it to ONNX`);
    }
    return this.node('Reshape', [x, this.constant(shape as number[], 'int64')], {}, layer, range);
  }

  op(name: string, inputs: ShapedTensor[], output: ShapedTensor, args: Value[], keywords: Map<string, Value>, range: SourceRange): string | null {
    const xs = inputs.map((i) => i.irName);
    if (xs.some((v) => !v)) throw new UserInputError(`line ${range.line + 1}: an input of ${name} could not be lowered`);
    const x = xs[0]!;
    const binary: Record<string, string> = { 'binary+': 'Add', 'binary-': 'Sub', 'binary*': 'Mul', 'binary/': 'Div', 'binary@': 'MatMul' };
    if (name in binary) {
      const operands = args.map((v) => (v.kind === 'tensor' ? v.irName! : v.kind === 'num' ? this.constant([v.value], 'float32', []) : null));
      if (operands.some((o) => o === null)) throw new UserInputError(`line ${range.line + 1}: an operand could not be lowered`);
      return this.node(binary[name], operands as string[], {}, null, range);
    }
    const unary: Record<string, string> = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', abs: 'Abs', exp: 'Exp', log: 'Log', sqrt: 'Sqrt', neg: 'Neg', elu: 'Elu', selu: 'Selu', softplus: 'Softplus', hardswish: 'HardSwish', dropout: 'Identity', dropout2d: 'Identity' };
    if (name in unary) return this.node(unary[name], [x], {}, null, range);
    if (name === 'leaky_relu') return this.node('LeakyRelu', [x], { alpha: f(floatOf(args[0] ?? keywords.get('negative_slope'), 0.01)) }, null, range);
    if (name === 'gelu') return this.gelu(x, null, range);
    if (name === 'silu') return this.node('Mul', [x, this.node('Sigmoid', [x], {}, null, range)], {}, null, range);
    if (name === 'relu6') return this.node('Clip', [x, this.constant([0], 'float32', []), this.constant([6], 'float32', [])], {}, null, range);
    if (name === 'softmax' || name === 'log_softmax') {
      const dv = args[0] ?? keywords.get('dim');
      return this.node(name === 'softmax' ? 'Softmax' : 'LogSoftmax', [x], { axis: dv && dv.kind === 'num' ? dv.value : -1 }, null, range);
    }
    if (name === 'flatten' || name === 'reshape') return this.reshapeTo(x, output.shape, null, range);
    if (name === 'cat' || name === 'concat') return this.node('Concat', xs as string[], { axis: intOf(args[0], 0) }, null, range);
    if (/^(MaxPool|AvgPool)[123]d$/.test(name)) return this.pool(name, x, keywords, null, range);
    if (/^Adaptive(Avg|Max)Pool[123]d$/.test(name)) {
      const o = output.shape?.slice(2);
      if (o && o.every((v) => v === 1)) return this.node(name.includes('Avg') ? 'GlobalAveragePool' : 'GlobalMaxPool', [x], {}, null, range);
    }
    throw new UserInputError(`line ${range.line + 1}: ${name} cannot be converted to ONNX without PyTorch yet`);
  }
}

function firstLeaf(layer: LayerValue): LayerValue | undefined {
  for (const [, c] of layer.children) {
    if (c.category === 'torch') return c;
    const inner = firstLeaf(c);
    if (inner) return inner;
  }
  return undefined;
}

/**
 * Builds the IR of a module instance by running its forward pass with IR-carrying tensors. Unsupported layers or
 * unknown shapes throw a UserInputError that names the layer and its line.
 */
export function lowerModuleToModel(module: { instance: LayerValue; interpreter?: Interpreter }, options: LowerOptions): Model {
  const interp = options.interpreter ?? module.interpreter ?? new Interpreter();
  const lowerer = new Lowerer(options, options.file);
  // A model that starts with an Embedding takes token ids.
  const firstLayer = firstLeaf(module.instance);
  const input = lowerer.builder.input('input', firstLayer?.type === 'Embedding' ? 'int64' : 'float32', [...options.inputShape]);
  const saved = interp.emitter;
  interp.emitter = lowerer;
  interp.resetBudget();
  let out: Value;
  try {
    out = interp.callLayer(module.instance, [{ kind: 'tensor', shape: [...options.inputShape], irName: input }], new Map(), module.instance.classRef?.node as never);
  } finally {
    interp.emitter = saved;
  }
  const first = out.kind === 'seq' ? out.items[0] : out;
  if (!first || first.kind !== 'tensor' || !first.irName) {
    throw new UserInputError(`${module.instance.type}: its forward pass could not be followed far enough to build a graph`);
  }
  lowerer.builder.output(first.irName, 'float32', first.shape ? [...first.shape] : null);
  const model = lowerer.builder.model(17, { format: 'python', producerName: 'layerscope (PyTorch source)', ...(options.file ? { path: options.file } : {}) });
  for (const node of model.graph.nodes) {
    const src = lowerer.sources.get(node.outputs[0]);
    if (src) node.source = src;
  }
  return model;
}
