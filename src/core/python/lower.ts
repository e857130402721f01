import { UserInputError } from '../errors';
import { GraphBuilder, f } from '../ir/builder';
import type { AttributeInput } from '../ir/builder';
import { encodeValues } from '../ir/tensorData';
import type { Dim, Model, SourceLocation, Tensor } from '../ir/types';
import { Interpreter } from './interpreter';
import type { ForwardEmitter } from './interpreter';
import type { ShapedTensor } from './layerShapes';
import { intTuple } from './layers';
import { boolOf, floatOf, intOf, where } from './lowerContext';
import type { InitScheme, LoweringContext, ParamKind } from './lowerContext';
import { lowerEmbedding, lowerEmbeddingBag } from './lowerEmbedding';
import { lowerGroupNorm, lowerInstanceNorm } from './lowerNorms';
import { lowerRecurrent } from './lowerRecurrent';
import { lowerDecoderLayer, lowerEncoderLayer, lowerMultiheadAttention } from './lowerTransformer';
import type { LayerValue, SourceRange, Value } from './values';
import { SeededRandom } from '../stats/random';

/**
 * Lowers a PyTorch module read from source to the neutral IR, so that the inspector, the summary, probes and
 * gradient probes run on code that was never exported. The forward pass is interpreted once with tensors that carry
 * IR value names; every layer call emits the ONNX ops PyTorch's exporter would (Conv, Gemm, BatchNormalization …)
 * with weights initialised the way PyTorch initialises them, or with a chosen scheme. Layers with long lowerings have
 * their own files (lowerRecurrent, lowerTransformer, lowerNorms, lowerEmbedding), reached through LoweringContext.
 */

export type { InitScheme } from './lowerContext';

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

class Lowerer implements ForwardEmitter, LoweringContext {
  readonly builder = new GraphBuilder('main');
  readonly rng: SeededRandom;
  readonly init: InitScheme;
  private readonly sigma: number;
  private readonly cache = new Map<LayerValue, Map<string, string>>();
  /** The values behind each initializer made here, by name. */
  private readonly drawn = new Map<string, Float32Array>();
  /** Source locations by node output name; attached to the nodes once the graph is built. */
  readonly sources = new Map<string, SourceLocation>();

  constructor(options: LowerOptions, private readonly file?: string) {
    this.rng = new SeededRandom(options.seed ?? 0);
    this.init = options.init ?? 'pytorch';
    this.sigma = options.sigma ?? 0.01;
  }

  private initializer(name: string, dims: number[], values: Float32Array): string {
    const t: Tensor = { name: this.builder.fresh(name), dtype: 'float32', dims, data: { kind: 'inline', bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) } };
    this.drawn.set(t.name, values);
    return this.builder.addInitializer(t);
  }

  weightValues(name: string): Float32Array {
    const values = this.drawn.get(name);
    if (!values) throw new Error(`no initializer ${name} was made by the lowering`);
    return values;
  }

  /** A weight of the layer, created once per layer object so that a module called twice shares its parameters. */
  layerTensor(layer: LayerValue, key: string, dims: number[], draw: () => Float32Array): string {
    let m = this.cache.get(layer);
    if (!m) this.cache.set(layer, (m = new Map()));
    const existing = m.get(key);
    if (existing) return existing;
    const out = this.initializer(`${layer.path ?? layer.type}.${key}`, dims, draw());
    m.set(key, out);
    return out;
  }

  private once(layer: LayerValue, key: string, dims: number[], fill: () => number): string {
    return this.layerTensor(layer, key, dims, () => Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, fill));
  }

  param(layer: LayerValue, key: string, dims: number[], fanIn: number, kind: ParamKind, bound?: number): string {
    let fill: () => number;
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
    return this.once(layer, key, dims, fill);
  }

  named(layer: LayerValue, key: string, dims: number[], fill: () => number): string {
    return this.once(layer, key, dims, this.init === 'zeros' ? () => 0 : fill);
  }

  node(op: string, inputs: string[], attrs: Record<string, AttributeInput>, layer: LayerValue | null, range?: SourceRange): string {
    return this.emit(op, inputs, attrs, 1, layer, range)[0];
  }

  split(x: string, sizes: number[], axis: number, layer: LayerValue): string[] {
    return this.emit('Split', [x, this.constant(sizes, 'int64')], { axis }, sizes.length, layer);
  }

  /** Adds a node named after the layer's module path, with the layer's (or the call's) source line attached. */
  private emit(op: string, inputs: string[], attrs: Record<string, AttributeInput>, outputs: number, layer: LayerValue | null, range?: SourceRange): string[] {
    const outs = this.builder.node(op, inputs, attrs, { outputs, ...(layer?.path ? { name: this.builder.fresh(`/${layer.path.replace(/\./g, '/')}/${op}`) } : {}) });
    const r = layer?.range ?? range;
    if (r) this.sources.set(outs[0], { line: r.line + 1, ...(layer?.path ? { modulePath: layer.path } : {}), ...(this.file ? { file: this.file } : {}) });
    return outs;
  }

  constant(values: number[], dtype: 'int64' | 'float32', dims: number[] = [values.length]): string {
    const name = this.builder.fresh('const');
    const t: Tensor = { name, dtype, dims, data: { kind: 'inline', bytes: encodeValues(dtype, values) } };
    return this.node('Constant', [], { value: t }, null);
  }

  layer(layer: LayerValue, inputs: ShapedTensor[], output: ShapedTensor, extra: Value[]): string | null {
    const x = inputs[0]?.irName;
    if (!x || inputs.some((i) => !i.irName)) throw new UserInputError(`${layer.path ?? layer.type}: an input could not be lowered`);
    const a = layer.args;
    const t = layer.type;
    const unsupported = (): never => {
      throw new UserInputError(`${where(layer)} cannot be converted to ONNX without PyTorch yet`);
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
      case 'Bilinear':
        return this.bilinear(layer, inputs);
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
        const scale = this.param(layer, 'weight', ns, 0, 'ones');
        const bias = this.param(layer, 'bias', ns, 0, 'zeros');
        return this.node('LayerNormalization', [x, scale, bias], { axis: -ns.length, epsilon: f(floatOf(a.get('eps'), 1e-5)) }, layer);
      }
      case 'GroupNorm':
        return lowerGroupNorm(this, layer, x, inputs[0].shape);
      case 'InstanceNorm1d':
      case 'InstanceNorm2d':
      case 'InstanceNorm3d':
        return lowerInstanceNorm(this, layer, x, inputs[0].shape);
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
        const slope = this.once(layer, 'weight', dims, () => floatOf(a.get('init'), 0.25));
        return this.node('PRelu', [x, slope], {}, layer);
      }
      default:
        break;
    }
    if (t === 'RNN' || t === 'LSTM' || t === 'GRU') return lowerRecurrent(this, layer, x, inputs[0].shape, extra);
    if (t === 'MultiheadAttention') return lowerMultiheadAttention(this, layer, inputs);
    if (t === 'TransformerEncoderLayer') return lowerEncoderLayer(this, layer, inputs);
    if (t === 'TransformerDecoderLayer') return lowerDecoderLayer(this, layer, inputs);
    if (t === 'Embedding') return lowerEmbedding(this, layer, x);
    if (t === 'EmbeddingBag') return lowerEmbeddingBag(this, layer, inputs, extra);
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
   * nn.Bilinear, y = x1ᵀ·A·x2 + b with A of shape [out, in1, in2]: x1 times A laid out as [in1, out·in2] gives, for each
   * output, the row x1ᵀ·A_o; multiplied by x2 and summed over in2 that is the bilinear form. PyTorch draws A and b
   * U(±1/√in1); a chosen scheme uses in1·in2, the fan-in PyTorch's init functions compute for A.
   */
  private bilinear(layer: LayerValue, inputs: ShapedTensor[]): string {
    const a = layer.args;
    if (inputs.length !== 2) throw new UserInputError(`${where(layer)}: two input tensors Layerscope can follow are needed to convert it to ONNX`);
    const rank = inputs[0].shape?.length;
    if (!rank || inputs[1].shape?.length !== rank) throw new UserInputError(`${where(layer)}: two inputs of the same known rank are needed to convert it to ONNX`);
    const in1 = intOf(a.get('in1_features'), 0);
    const in2 = intOf(a.get('in2_features'), 0);
    const out = intOf(a.get('out_features'), 0);
    const bound = 1 / Math.sqrt(in1);
    const w = this.param(layer, 'weight', [out, in1, in2], in1 * in2, 'weight', bound);
    const byRow = this.node('Reshape', [this.node('Transpose', [w], { perm: [1, 0, 2] }, layer), this.constant([in1, out * in2], 'int64')], {}, layer);
    // Reshape's zeros keep the leading (batch) dims of x1·A as they are.
    const lead = Array<number>(rank - 1).fill(0);
    const rows = this.node('Reshape', [this.node('MatMul', [inputs[0].irName!, byRow], {}, layer), this.constant([...lead, out, in2], 'int64')], {}, layer);
    const x2 = this.node('Unsqueeze', [inputs[1].irName!, this.constant([-2], 'int64')], {}, layer);
    const y = this.node('ReduceSum', [this.node('Mul', [rows, x2], {}, layer), this.constant([-1], 'int64')], { keepdims: 0 }, layer);
    return boolOf(a.get('bias'), true) ? this.node('Add', [y, this.param(layer, 'bias', [out], in1 * in2, 'bias', bound)], {}, layer) : y;
  }

  /** The exact GELU PyTorch uses by default: 0.5·x·(1 + erf(x/√2)); opset 17 has no Gelu op. */
  gelu(x: string, layer: LayerValue | null, range?: SourceRange): string {
    const erf = this.node('Erf', [this.node('Mul', [x, this.constant([Math.SQRT1_2], 'float32', [])], {}, layer, range)], {}, layer, range);
    return this.node('Mul', [this.node('Mul', [x, this.constant([0.5], 'float32', [])], {}, layer, range), this.node('Add', [erf, this.constant([1], 'float32', [])], {}, layer, range)], {}, layer, range);
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

  reshapeTo(x: string, shape: Dim[] | null, layer: LayerValue | null, range?: SourceRange): string {
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
  // A model that starts with an Embedding or EmbeddingBag takes token ids.
  const firstLayer = firstLeaf(module.instance);
  const tokens = firstLayer?.type === 'Embedding' || firstLayer?.type === 'EmbeddingBag';
  const input = lowerer.builder.input('input', tokens ? 'int64' : 'float32', [...options.inputShape]);
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
