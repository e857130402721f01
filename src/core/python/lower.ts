import { UserInputError } from '../errors';
import { GraphBuilder, f } from '../ir/builder';
import type { AttributeInput } from '../ir/builder';
import { encodeValues } from '../ir/tensorData';
import type { DataType, Dim, Model, SourceLocation, Tensor } from '../ir/types';
import { Interpreter } from './interpreter';
import type { ForwardEmitter, LayerCall } from './interpreter';
import { transposedOutputPadding } from './layerShapes';
import type { ShapedTensor } from './layerShapes';
import { forwardInputName, intTuple } from './layers';
import { boolOf, floatOf, intOf, refuseArg, tensorArg, where } from './lowerContext';
import type { ConstantType, InitScheme, LoweringContext, ParamKind } from './lowerContext';
import { lowerEmbedding, lowerEmbeddingBag } from './lowerEmbedding';
import { lowerGroupNorm, lowerInstanceNorm } from './lowerNorms';
import { lowerRecurrent } from './lowerRecurrent';
import { lowerSpatial } from './lowerSpatial';
import { lowerDecoderLayer, lowerEncoderLayer, lowerMultiheadAttention } from './lowerTransformer';
import type { LayerValue, SourceRange, TensorFill, Value } from './values';
import { num } from './values';
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
  /**
   * The element type of every value made here. Masks mean different things as bool and as float tensors, and
   * arithmetic promotes as PyTorch's does, so the lowering reads the types of the values it made rather than guess.
   */
  private readonly dtypes = new Map<string, DataType>();

  constructor(options: LowerOptions, private readonly file?: string, private readonly shapesOnly = false) {
    this.rng = new SeededRandom(options.seed ?? 0);
    this.init = options.init ?? 'pytorch';
    this.sigma = options.sigma ?? 0.01;
  }

  private initializer(name: string, dims: number[], values: Float32Array): string {
    const t: Tensor = { name: this.builder.fresh(name), dtype: 'float32', dims, data: { kind: 'inline', bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) } };
    this.drawn.set(t.name, values);
    const added = this.builder.addInitializer(t);
    this.dtypes.set(added, 'float32');
    return added;
  }

  /** Records the element type of a graph input. */
  inputType(name: string, dtype: DataType): void {
    this.dtypes.set(name, dtype);
  }

  dtypeOf(value: string): DataType | undefined {
    return this.dtypes.get(value);
  }

  weightValues(name: string): Float32Array {
    const values = this.drawn.get(name);
    if (!values) throw new Error(`no initializer ${name} was made by the lowering`);
    return values;
  }

  /** A weight of the layer, created once per layer object so that a module called twice shares its parameters. */
  layerTensor(layer: LayerValue, key: string, dims: number[], draw: () => Float32Array): string {
    return this.cachedInitializer(layer, key, `${layer.path ?? layer.type}.${key}`, dims, draw);
  }

  /** The initializer kept for `layer` under `key`, made (named `name`, drawn by `draw`) the first time it is asked for. */
  private cachedInitializer(layer: LayerValue, key: string, name: string, dims: number[], draw: () => Float32Array): string {
    let m = this.cache.get(layer);
    if (!m) this.cache.set(layer, (m = new Map()));
    const existing = m.get(key);
    if (existing) return existing;
    const out = this.initializer(name, dims, draw());
    m.set(key, out);
    return out;
  }

  private once(layer: LayerValue, key: string, dims: number[], fill: () => number): string {
    const size = dims.reduce((a, b) => a * b, 1);
    // A graph made only for its shapes and counts needs no weight values: zeros cost nothing to allocate.
    if (this.shapesOnly) return this.layerTensor(layer, key, dims, () => new Float32Array(size));
    return this.layerTensor(layer, key, dims, () => Float32Array.from({ length: size }, fill));
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

  /**
   * An nn.Parameter that forward reads as a tensor, under its state-dict name (`cls_token`, `blocks.0.gamma`), filled
   * as the tensor it wraps was made: a constant (torch.zeros, ones, full, times a number), a scaled normal draw
   * (torch.randn(…) * 0.02) or a uniform one; anything else (torch.empty, whose values PyTorch leaves undefined, or
   * values set later by nn.init, which is not followed) with zeros.
   */
  parameter(p: LayerValue, dims: number[], fill: TensorFill | undefined): string {
    let draw: () => number;
    if (this.shapesOnly || this.init === 'zeros' || !fill) draw = () => 0;
    else if ('constant' in fill) draw = () => fill.constant;
    else if ('normal' in fill) draw = () => this.rng.normal() * fill.normal;
    else draw = () => fill.uniform[0] + this.rng.uniform() * (fill.uniform[1] - fill.uniform[0]);
    const size = dims.reduce((a, b) => a * b, 1);
    return this.cachedInitializer(p, '*', p.path ?? 'parameter', dims, () => Float32Array.from({ length: size }, draw));
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

  /** The user modules whose forward is running, innermost last: an op that no layer emits belongs to the innermost. */
  private readonly modules: LayerValue[] = [];

  enterModule(layer: LayerValue): void {
    this.modules.push(layer);
  }

  exitModule(): void {
    this.modules.pop();
  }

  /**
   * Adds a node named after the module path of its layer, or else of the module whose forward emits it (`/layer1/0/Add`
   * for the residual sum of `layer1.0`), as PyTorch's exporter names nodes, with the source line attached, so that
   * diagnostics and the inspector can say which module and line a node comes from.
   */
  private emit(op: string, inputs: string[], attrs: Record<string, AttributeInput>, outputs: number, layer: LayerValue | null, range?: SourceRange): string[] {
    const owner = layer ?? this.modules[this.modules.length - 1];
    const scope = owner?.path ? `/${owner.path.replace(/\./g, '/')}` : '';
    const outs = this.builder.node(op, inputs, attrs, { outputs, name: this.builder.fresh(`${scope}/${op}`) });
    const r = layer?.range ?? range;
    if (r) this.sources.set(outs[0], { line: r.line + 1, ...(owner?.path ? { modulePath: owner.path } : {}), ...(this.file ? { file: this.file } : {}) });
    const dtype = outputType(op, inputs, attrs, this.dtypes);
    if (dtype) for (const o of outs) this.dtypes.set(o, dtype);
    return outs;
  }

  constant(values: number[], dtype: ConstantType, dims: number[] = [values.length]): string {
    const name = this.builder.fresh('const');
    const t: Tensor = { name, dtype, dims, data: { kind: 'inline', bytes: encodeValues(dtype, values) } };
    return this.node('Constant', [], { value: t }, null);
  }

  layer(layer: LayerValue, call: LayerCall, output: ShapedTensor): string | null {
    // The constants a layer's lowering makes belong to the layer, and are named after it.
    this.modules.push(layer);
    try {
      return this.lowerCall(layer, call, output);
    } finally {
      this.modules.pop();
    }
  }

  private lowerCall(layer: LayerValue, call: LayerCall, output: ShapedTensor): string {
    const name = forwardInputName(layer.type);
    const input = tensorArg(layer, call, name) ?? refuseArg(layer, call, name, 'is None, so the call cannot be converted to ONNX');
    const batched = BATCHED_OPS.exec(layer.type);
    const n = batched ? Number(batched[1]) : 0;
    if (batched && input.shape?.length === n + 1) {
      // PyTorch (since 1.11) runs these layers on an input without its batch dim as a batch of one, and their ONNX ops
      // need the batch dim, so the lowering does the same: unsqueeze, apply, squeeze.
      const x = this.node('Unsqueeze', [input.irName!, this.constant([0], 'int64')], {}, layer);
      const y = this.lowerLayer(layer, call, { ...input, irName: x, shape: [1, ...input.shape] }, { ...output, shape: output.shape ? [1, ...output.shape] : null });
      return this.node('Squeeze', [y, this.constant([0], 'int64')], {}, layer);
    }
    return this.lowerLayer(layer, call, input, output);
  }

  /** The ops of one layer call; `input` is the tensor its forward's first argument holds. */
  private lowerLayer(layer: LayerValue, call: LayerCall, input: ShapedTensor, output: ShapedTensor): string {
    const x = input.irName!;
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
      const mode = a.get('padding_mode');
      // Reflect, replicate and circular padding read other values than ONNX Conv's zero padding.
      if (mode && !(mode.kind === 'str' && mode.value === 'zeros')) throw new UserInputError(`${where(layer)}: padding_mode ${mode.kind === 'str' ? `'${mode.value}'` : '(not known statically)'} cannot be converted to ONNX without PyTorch yet`);
      const kprod = k.reduce((u, v) => u * v, 1);
      const fanIn = transposed ? (cout / g) * kprod : (cin / g) * kprod;
      const wDims = transposed ? [cin, cout / g, ...k] : [cout, cin / g, ...k];
      // PyTorch's ConvTranspose computes fan_in from weight.size(1), which is out_channels/groups.
      const w = this.param(layer, 'weight', wDims, fanIn, 'weight');
      const ins = [x, w];
      if (boolOf(a.get('bias'), true)) ins.push(this.param(layer, 'bias', [cout], fanIn, 'bias'));
      const attrs: Record<string, AttributeInput> = { kernel_shape: k, strides: s, pads: [...p, ...pEnd], dilations: d, group: g };
      if (transposed) attrs.output_padding = this.outputPadding(layer, call, n, k, s, p, d);
      return this.node(transposed ? 'ConvTranspose' : 'Conv', ins, attrs, layer);
    }
    switch (t) {
      case 'Linear': {
        const fin = intOf(a.get('in_features'), 0);
        const fout = intOf(a.get('out_features'), 0);
        const bias = boolOf(a.get('bias'), true);
        const w = this.param(layer, 'weight', [fout, fin], fin, 'weight');
        const b = bias ? this.param(layer, 'bias', [fout], fin, 'bias') : null;
        if (input.shape && input.shape.length === 2) return this.node('Gemm', b ? [x, w, b] : [x, w], { transB: 1 }, layer);
        const wt = this.node('Transpose', [w], { perm: [1, 0] }, layer);
        const mm = this.node('MatMul', [x, wt], {}, layer);
        return b ? this.node('Add', [mm, b], {}, layer) : mm;
      }
      case 'Bilinear':
        return this.bilinear(layer, call, input);
      case 'BatchNorm1d':
      case 'BatchNorm2d':
      case 'BatchNorm3d':
      // In eval mode SyncBatchNorm is BatchNorm with its running statistics; PyTorch only runs it on a GPU.
      case 'SyncBatchNorm': {
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
        return lowerGroupNorm(this, layer, x, input.shape);
      case 'InstanceNorm1d':
      case 'InstanceNorm2d':
      case 'InstanceNorm3d':
        return lowerInstanceNorm(this, layer, x, input.shape);
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
        return this.softplus(x, a.get('beta'), a.get('threshold'), layer, where(layer));
      case 'Hardswish':
        return this.node('HardSwish', [x], {}, layer);
      case 'GELU':
        return this.geluApproximate(x, a.get('approximate'), layer, where(layer));
      case 'SiLU': {
        const sg = this.node('Sigmoid', [x], {}, layer);
        return this.node('Mul', [x, sg], {}, layer);
      }
      case 'ReLU6':
        return this.node('Clip', [x, this.constant([0], 'float32', []), this.constant([6], 'float32', [])], {}, layer);
      case 'Hardtanh': {
        const lo = this.constant([floatOf(a.get('min_val'), -1)], 'float32', []);
        return this.node('Clip', [x, lo, this.constant([floatOf(a.get('max_val'), 1)], 'float32', [])], {}, layer);
      }
      case 'CELU':
        return this.node('Celu', [x], { alpha: f(floatOf(a.get('alpha'), 1)) }, layer);
      case 'Softsign':
        return this.node('Softsign', [x], {}, layer);
      case 'Hardsigmoid':
        // PyTorch's relu6(x + 3) / 6 is ONNX's max(0, min(1, x / 6 + 1 / 2)).
        return this.node('HardSigmoid', [x], { alpha: f(1 / 6), beta: f(0.5) }, layer);
      case 'LogSigmoid': {
        // log σ(x) = −softplus(−x); onnxruntime's Softplus is the stable form, so large |x| neither overflows nor
        // loses the result to rounding.
        const sp = this.node('Softplus', [this.node('Neg', [x], {}, layer)], {}, layer);
        return this.node('Neg', [sp], {}, layer);
      }
      case 'Mish': {
        const sp = this.node('Softplus', [x], {}, layer);
        return this.node('Mul', [x, this.node('Tanh', [sp], {}, layer)], {}, layer);
      }
      case 'Tanhshrink':
        return this.node('Sub', [x, this.node('Tanh', [x], {}, layer)], {}, layer);
      case 'Softshrink': {
        const lambd = floatOf(a.get('lambd'), 0.5);
        return this.node('Shrink', [x], { lambd: f(lambd), bias: f(lambd) }, layer);
      }
      case 'Hardshrink':
        return this.node('Shrink', [x], { lambd: f(floatOf(a.get('lambd'), 0.5)), bias: f(0) }, layer);
      case 'Threshold': {
        // y = x where x > threshold, else value. Both are required, so there is no default to fall back on.
        const [threshold, value] = [a.get('threshold'), a.get('value')];
        if (threshold?.kind !== 'num' || value?.kind !== 'num') throw new UserInputError(`${where(layer)}: its threshold and value must be numbers known from the source`);
        const above = this.node('Greater', [x, this.constant([threshold.value], 'float32', [])], {}, layer);
        return this.node('Where', [above, x, this.constant([value.value], 'float32', [])], {}, layer);
      }
      case 'RReLU':
        // In eval mode the negative slope is fixed at the middle of [lower, upper].
        return this.node('LeakyRelu', [x], { alpha: f((floatOf(a.get('lower'), 1 / 8) + floatOf(a.get('upper'), 1 / 3)) / 2) }, layer);
      case 'Softmin':
        return this.node('Softmax', [this.node('Neg', [x], {}, layer)], { axis: softmaxAxis(a.get('dim'), input.shape, where(layer)) }, layer);
      case 'Softmax2d':
        return this.node('Softmax', [x], { axis: -3 }, layer);
      case 'Softmax':
      case 'LogSoftmax':
        return this.node(t, [x], { axis: softmaxAxis(a.get('dim'), input.shape, where(layer)) }, layer);
      case 'Dropout':
      case 'Dropout1d':
      case 'Dropout2d':
      case 'Dropout3d':
      case 'AlphaDropout':
      case 'FeatureAlphaDropout':
      case 'Identity':
        return this.node('Identity', [x], {}, layer);
      case 'Flatten':
        return this.reshapeTo(x, output.shape, layer);
      case 'Unflatten':
        return this.reshapeTo(x, output.shape, layer);
      case 'PReLU': {
        const nParams = intOf(a.get('num_parameters'), 1);
        const rank = input.shape?.length ?? 2;
        const dims = nParams === 1 ? [1] : [nParams, ...Array(Math.max(0, rank - 2)).fill(1)];
        const slope = this.once(layer, 'weight', dims, () => floatOf(a.get('init'), 0.25));
        return this.node('PRelu', [x, slope], {}, layer);
      }
      default:
        break;
    }
    if (t === 'RNN' || t === 'LSTM' || t === 'GRU') return lowerRecurrent(this, layer, call, input);
    if (t === 'MultiheadAttention') return lowerMultiheadAttention(this, layer, call);
    if (t === 'TransformerEncoderLayer') return lowerEncoderLayer(this, layer, call);
    if (t === 'TransformerDecoderLayer') return lowerDecoderLayer(this, layer, call);
    if (t === 'Embedding') return lowerEmbedding(this, layer, x);
    if (t === 'EmbeddingBag') return lowerEmbeddingBag(this, layer, call, input);
    const pool = /^(MaxPool|AvgPool)([123])d$/.exec(t);
    if (pool) return this.pool(t, x, a, where(layer), layer);
    const adaptive = /^Adaptive(Avg|Max)Pool([123])d$/.exec(t);
    if (adaptive) {
      const n = Number(adaptive[2]);
      const o = intTuple(a.get('output_size'), n, 'output_size');
      if (o.every((v) => v === 1)) return this.node(adaptive[1] === 'Avg' ? 'GlobalAveragePool' : 'GlobalMaxPool', [x], {}, layer);
      const ins = input.shape?.slice(-n);
      if (ins && ins.every((v, i) => typeof v === 'number' && v % o[i] === 0)) {
        const k = ins.map((v, i) => (v as number) / o[i]);
        return this.node(adaptive[1] === 'Avg' ? 'AveragePool' : 'MaxPool', [x], { kernel_shape: k, strides: k }, layer);
      }
      return unsupported();
    }
    const moved = lowerSpatial(this, layer, x, input.shape);
    if (moved) return moved;
    // Refused because no graph can match PyTorch: the pooling regions are random, or the indices come from elsewhere.
    if (/^FractionalMaxPool[23]d$/.test(t)) throw new UserInputError(`${where(layer)} draws its pooling regions at random, so it cannot be converted to ONNX`);
    if (/^MaxUnpool[123]d$/.test(t)) throw new UserInputError(`${where(layer)} needs the indices of a MaxPool with return_indices=True, which cannot be converted to ONNX`);
    return unsupported();
  }

  /**
   * nn.Bilinear, y = x1ᵀ·A·x2 + b with A of shape [out, in1, in2]: x1 times A laid out as [in1, out·in2] gives, for each
   * output, the row x1ᵀ·A_o; multiplied by x2 and summed over in2 that is the bilinear form. PyTorch draws A and b
   * U(±1/√in1); a chosen scheme uses in1·in2, the fan-in PyTorch's init functions compute for A.
   */
  private bilinear(layer: LayerValue, call: LayerCall, input1: ShapedTensor): string {
    const a = layer.args;
    const input2 = tensorArg(layer, call, 'input2') ?? refuseArg(layer, call, 'input2', 'is None, so the call cannot be converted to ONNX');
    const rank = input1.shape?.length;
    if (!rank || input2.shape?.length !== rank) throw new UserInputError(`${where(layer)}: two inputs of the same known rank are needed to convert it to ONNX`);
    const in1 = intOf(a.get('in1_features'), 0);
    const in2 = intOf(a.get('in2_features'), 0);
    const out = intOf(a.get('out_features'), 0);
    const bound = 1 / Math.sqrt(in1);
    const w = this.param(layer, 'weight', [out, in1, in2], in1 * in2, 'weight', bound);
    const byRow = this.node('Reshape', [this.node('Transpose', [w], { perm: [1, 0, 2] }, layer), this.constant([in1, out * in2], 'int64')], {}, layer);
    // Reshape's zeros keep the leading (batch) dims of x1·A as they are.
    const lead = Array<number>(rank - 1).fill(0);
    const rows = this.node('Reshape', [this.node('MatMul', [input1.irName!, byRow], {}, layer), this.constant([...lead, out, in2], 'int64')], {}, layer);
    const x2 = this.node('Unsqueeze', [input2.irName!, this.constant([-2], 'int64')], {}, layer);
    const y = this.node('ReduceSum', [this.node('Mul', [rows, x2], {}, layer), this.constant([-1], 'int64')], { keepdims: 0 }, layer);
    return boolOf(a.get('bias'), true) ? this.node('Add', [y, this.param(layer, 'bias', [out], in1 * in2, 'bias', bound)], {}, layer) : y;
  }

  /** The exact GELU PyTorch uses by default: 0.5·x·(1 + erf(x/√2)); opset 17 has no Gelu op. */
  gelu(x: string, layer: LayerValue | null, range?: SourceRange): string {
    const erf = this.node('Erf', [this.node('Mul', [x, this.constant([Math.SQRT1_2], 'float32', [])], {}, layer, range)], {}, layer, range);
    return this.node('Mul', [this.node('Mul', [x, this.constant([0.5], 'float32', [])], {}, layer, range), this.node('Add', [erf, this.constant([1], 'float32', [])], {}, layer, range)], {}, layer, range);
  }

  private pool(type: string, x: string, a: ReadonlyMap<string, Value>, who: string, layer: LayerValue | null, range?: SourceRange): string {
    const n = Number(/([123])d$/.exec(type)![1]);
    // A divisor other than the window's size, and the indices of the maxima (a second output), are not in these ops.
    const divisor = a.get('divisor_override');
    if (divisor && divisor.kind !== 'none') throw new UserInputError(`${who}: divisor_override cannot be converted to ONNX without PyTorch yet`);
    if (boolOf(a.get('return_indices'), false)) throw new UserInputError(`${who}: return_indices=True cannot be converted to ONNX without PyTorch yet`);
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
    const at = `line ${range.line + 1}:`;
    if (xs.some((v) => !v)) throw new UserInputError(`${at} ${name.replace(/^(binary|compare)/, '')} reads a tensor Layerscope could not build in the graph, so it cannot be converted to ONNX`);
    const x = xs[0]!;
    const node = (op: string, ins: string[], attrs: Record<string, AttributeInput> = {}): string => this.node(op, ins, attrs, null, range);
    if (name.startsWith('binary')) return this.binaryOp(name.slice('binary'.length), args, at, range);
    if (name.startsWith('compare')) return this.compareOp(name.slice('compare'.length), args, at, range);
    if (name === 'zeros' || name === 'ones' || name === 'full') {
      const fill = name === 'full' ? args[0] : num(name === 'ones' ? 1 : 0, false);
      if (!fill || (fill.kind !== 'num' && fill.kind !== 'bool')) throw new UserInputError(`${at} the fill value of torch.${name} must be a number known statically to convert it to ONNX`);
      // torch.full infers the type from its fill (bool, int64 or float32); zeros and ones are float32 by default.
      let inferred: ConstantType = 'float32';
      if (name === 'full') inferred = fill.kind === 'bool' ? 'bool' : fill.isInt ? 'int64' : 'float32';
      const dtype = keywordDtype(keywords.get('dtype'), inferred, `${at} torch.${name}`);
      const value: Tensor = { name: 'value', dtype, dims: [1], data: { kind: 'inline', bytes: encodeValues(dtype, [fill.kind === 'bool' ? Number(fill.value) : fill.value]) } };
      return node('ConstantOfShape', [this.constant(this.knownShape(output.shape, `${at} torch.${name}`), 'int64')], { value });
    }
    if (name === 'tensor') {
      const values = flattenLiteral(args[0]);
      const inferred: ConstantType = args[0] && literalAll(args[0], (v) => v.kind === 'bool') ? 'bool' : literalAll(args[0], (v) => v.kind === 'bool' || (v.kind === 'num' && v.isInt)) ? 'int64' : 'float32';
      return this.constant(values, keywordDtype(keywords.get('dtype'), inferred, `${at} torch.tensor`), this.knownShape(output.shape, `${at} torch.tensor`));
    }
    const dtype = this.dtypes.get(x);
    if (name === 'neg') {
      if (dtype === 'bool') throw new UserInputError(`${at} negating a bool tensor is an error in PyTorch; use ~ or logical_not`);
      return node('Neg', [x]);
    }
    if (name === 'not') {
      // On integer tensors ~ is a bitwise not, which no ONNX op of opset 17 computes.
      if (dtype !== 'bool') throw new UserInputError(`${at} ~ and logical_not of a ${dtype ?? 'non-bool'} tensor cannot be converted to ONNX without PyTorch yet; only bool tensors can`);
      return node('Not', [x]);
    }
    if (name === 'cast') return this.castTo(x, args[0], at, range);
    if (name === 'triu' || name === 'tril') {
      const k = args[0];
      if (!k || k.kind !== 'num' || !k.isInt) throw new UserInputError(`${at} the diagonal of ${name} must be an integer known statically to convert it to ONNX`);
      if ((inputs[0].shape?.length ?? 0) < 2) throw new UserInputError(`${at} ${name} needs a tensor of at least 2 dims`);
      return node('Trilu', [x, this.constant([k.value], 'int64', [])], { upper: name === 'triu' ? 1 : 0 });
    }
    if (name === 'masked_fill') {
      const [mask, value] = [xs[1]!, args[1]];
      if (this.dtypes.get(mask) !== 'bool') throw new UserInputError(`${at} masked_fill takes a bool mask; this one is ${this.dtypes.get(mask) ?? 'of a type Layerscope does not know'}`);
      if (!value || (value.kind !== 'num' && value.kind !== 'bool')) throw new UserInputError(`${at} the value of masked_fill must be a number known statically to convert it to ONNX`);
      const v = value.kind === 'bool' ? Number(value.value) : value.value;
      if (dtype !== 'float32' && dtype !== 'bool' && !(dtype === 'int64' && Number.isInteger(v))) throw new UserInputError(`${at} masked_fill of a ${dtype ?? 'tensor of unknown type'} with ${v} cannot be converted to ONNX`);
      return node('Where', [mask, this.constant([v], dtype, []), x]);
    }
    if (name === 'unsqueeze') return node('Unsqueeze', [x, this.constant([intOf(args[0], 0)], 'int64')]);
    if (name === 'transpose') return node('Transpose', [x], { perm: args.map((v) => intOf(v, 0)) });
    if (name === 'index') return this.basicIndex(x, inputs[0].shape, args, at, range);
    if (name === 'expand') return node('Expand', [x, this.constant(this.knownShape(output.shape, `${at} expand`), 'int64')]);
    if (name === 'slice') {
      // One chunk of x.chunk(…): args are the axis, the start and the end.
      const [axis, start, end] = args.map((v) => intOf(v, 0));
      return node('Slice', [x, this.constant([start], 'int64'), this.constant([end], 'int64'), this.constant([axis], 'int64')]);
    }
    if (name.startsWith('reduce_')) {
      // x.mean/sum/amax(dims, keepdim): args are keepdim, then the dims (every dim when the call named none).
      const [keep, ...axes] = args.map((v) => intOf(v, 0));
      const how = name.slice('reduce_'.length);
      if (dtype !== 'float32' && !(how === 'sum' && dtype === 'int64')) throw new UserInputError(`${at} ${how} of a ${dtype ?? 'tensor of unknown type'} cannot be converted to ONNX without PyTorch yet`);
      // At opset 17 ReduceSum takes its axes as an input; ReduceMean and ReduceMax as an attribute.
      if (how === 'sum') return node('ReduceSum', [x, this.constant(axes, 'int64')], { keepdims: keep });
      return node(how === 'mean' ? 'ReduceMean' : 'ReduceMax', [x], { axes, keepdims: keep });
    }
    if (name in FUNCTIONAL) return this.functional(name, x, inputs[0].shape, bindFunctional(name, args, keywords, at), at, range);
    if (name === 'flatten' || name === 'reshape') return this.reshapeTo(x, output.shape, null, range);
    if (name === 'cat' || name === 'concat') return node('Concat', xs as string[], { axis: intOf(args[0], 0) });
    if (/^(MaxPool|AvgPool)[123]d$/.test(name)) return this.pool(name, x, keywords, `${at} F.${name.startsWith('Max') ? 'max' : 'avg'}_pool${name.slice(-2)}`, null, range);
    if (/^Adaptive(Avg|Max)Pool[123]d$/.test(name)) {
      const o = output.shape?.slice(2);
      if (o && o.every((v) => v === 1)) return node(name.includes('Avg') ? 'GlobalAveragePool' : 'GlobalMaxPool', [x]);
    }
    throw new UserInputError(`${at} ${name} cannot be converted to ONNX without PyTorch yet`);
  }

  /**
   * Basic indexing `x[a:b, None, 2, ...]`: one Slice for the slices, a Gather per integer (highest axis first, so that
   * the others keep their numbers), then one Unsqueeze for the Nones at their places in the result. `items` encode
   * the index as the interpreter read it: a slice as ('slice', start, stop, step), an int, None, or '...'.
   */
  private basicIndex(x: string, shape: Dim[] | null, items: Value[], at: string, range: SourceRange): string {
    if (!shape) throw new UserInputError(`${at} indexing a tensor of unknown rank cannot be converted to ONNX`);
    const node = (op: string, ins: string[], attrs: Record<string, AttributeInput> = {}): string => this.node(op, ins, attrs, null, range);
    const named = items.filter((v) => v.kind === 'num' || v.kind === 'seq').length;
    const slices: Array<{ axis: number; start: number; end: number; step: number }> = [];
    const ints: Array<{ axis: number; index: number }> = [];
    const nones: number[] = [];
    let axis = 0;
    let out = 0;
    for (const v of items) {
      if (v.kind === 'none') nones.push(out++);
      else if (v.kind === 'str') {
        const n = shape.length - named;
        axis += n;
        out += n;
      } else if (v.kind === 'num') ints.push({ axis: axis++, index: v.value });
      else if (v.kind === 'seq') {
        const [, a, b, st] = v.items.map((p) => (p.kind === 'num' ? p.value : null));
        if (a !== null || b !== null || (st !== null && st !== 1)) slices.push({ axis, start: a ?? 0, end: b ?? Number.MAX_SAFE_INTEGER, step: st ?? 1 });
        axis++;
        out++;
      }
    }
    let y = x;
    if (slices.length > 0) {
      const ins = (k: 'start' | 'end' | 'axis' | 'step'): string => this.constant(slices.map((s) => s[k]), 'int64');
      y = node('Slice', [y, ins('start'), ins('end'), ins('axis'), ins('step')]);
    }
    for (const g of [...ints].sort((p, q) => q.axis - p.axis)) y = node('Gather', [y, this.constant([g.index], 'int64', [])], { axis: g.axis });
    if (nones.length > 0) y = node('Unsqueeze', [y, this.constant(nones, 'int64')]);
    return y === x ? node('Identity', [x]) : y;
  }

  /** A shape the analysis knows in full, as the dims of a constant; refuses otherwise. */
  private knownShape(shape: Dim[] | null, who: string): number[] {
    if (!shape || shape.some((d) => typeof d !== 'number')) throw new UserInputError(`${who}: the shape must be known statically to convert it to ONNX`);
    return shape as number[];
  }

  /** The activation, softmax and dropout functions, with their arguments bound to PyTorch's names (FUNCTIONAL). */
  private functional(name: string, x: string, shape: Dim[] | null, a: Map<string, Value>, at: string, range: SourceRange): string {
    const node = (op: string, ins: string[], attrs: Record<string, AttributeInput> = {}): string => this.node(op, ins, attrs, null, range);
    const who = `${at} F.${name}`;
    switch (name) {
      case 'relu':
        return node('Relu', [x]);
      case 'sigmoid':
        return node('Sigmoid', [x]);
      case 'tanh':
        return node('Tanh', [x]);
      case 'abs':
        return node('Abs', [x]);
      case 'exp':
        return node('Exp', [x]);
      case 'log':
        return node('Log', [x]);
      case 'sqrt':
        return node('Sqrt', [x]);
      case 'rsqrt':
        return node('Reciprocal', [node('Sqrt', [x])]);
      case 'reciprocal':
        return node('Reciprocal', [x]);
      case 'square':
        return node('Mul', [x, x]);
      case 'sin':
        return node('Sin', [x]);
      case 'cos':
        return node('Cos', [x]);
      case 'erf':
        return node('Erf', [x]);
      case 'selu':
        return node('Selu', [x]);
      case 'hardswish':
        return node('HardSwish', [x]);
      case 'elu':
        return node('Elu', [x], { alpha: f(numberArg(a, 'alpha', who)) });
      case 'leaky_relu':
        return node('LeakyRelu', [x], { alpha: f(numberArg(a, 'negative_slope', who)) });
      case 'softplus':
        return this.softplus(x, a.get('beta'), a.get('threshold'), null, who, range);
      case 'gelu':
        return this.geluApproximate(x, a.get('approximate'), null, who, range);
      case 'silu':
        return node('Mul', [x, node('Sigmoid', [x])]);
      case 'relu6':
        return node('Clip', [x, this.constant([0], 'float32', []), this.constant([6], 'float32', [])]);
      case 'softmax':
      case 'log_softmax': {
        const dt = a.get('dtype');
        if (dt && dt.kind !== 'none' && keywordDtype(dt, 'float32', who) !== 'float32') throw new UserInputError(`${who}: dtype other than float32 cannot be converted to ONNX without PyTorch yet`);
        return node(name === 'softmax' ? 'Softmax' : 'LogSoftmax', [x], { axis: softmaxAxis(a.get('dim'), shape, who) });
      }
      default: {
        // dropout and dropout2d: F.dropout drops at random unless training is False, even in eval mode (its default is
        // training=True), and a graph cannot repeat PyTorch's random draws.
        const training = a.get('training');
        const p = a.get('p');
        if ((training?.kind === 'bool' && !training.value) || (p?.kind === 'num' && p.value === 0)) return node('Identity', [x]);
        throw new UserInputError(`${who}: training is ${training?.kind === 'bool' ? 'True' : 'not known statically'}, so it drops at random; pass training=self.training (eval mode) or use nn.Dropout to convert it to ONNX`);
      }
    }
  }

  /** `a op b` for + − * / @ and the bool & | ^, with PyTorch's type promotion between tensors and Python numbers. */
  private binaryOp(op: string, operands: Value[], at: string, range: SourceRange): string {
    const onnx: Record<string, string> = { '+': 'Add', '-': 'Sub', '*': 'Mul', '/': 'Div', '@': 'MatMul', '**': 'Pow', '&': 'And', '|': 'Or', '^': 'Xor' };
    if (!(op in onnx)) throw new UserInputError(`${at} the operator ${op} cannot be converted to ONNX without PyTorch yet`);
    const logical = op === '&' || op === '|' || op === '^';
    let type = this.promote(operands, at);
    // True division always gives floats; & | ^ are logical only on bool tensors (bitwise on integers).
    if (op === '/' && type !== 'float32') type = 'float32';
    if (logical !== (type === 'bool')) throw new UserInputError(`${at} ${op} on ${type} tensors cannot be converted to ONNX without PyTorch yet`);
    if (op === '@' && type !== 'float32') throw new UserInputError(`${at} @ on ${type} tensors cannot be converted to ONNX without PyTorch yet`);
    return this.node(onnx[op], this.operandsAs(operands, type, at, range), {}, null, range);
  }

  /** `a == b`, `a < b` …: the operands promoted as PyTorch promotes them, compared elementwise into a bool tensor. */
  private compareOp(op: string, operands: Value[], at: string, range: SourceRange): string {
    const type = this.promote(operands, at);
    if (type === 'bool' && op !== '==' && op !== '!=') throw new UserInputError(`${at} ${op} between bool tensors cannot be converted to ONNX without PyTorch yet`);
    const ins = this.operandsAs(operands, type, at, range);
    const onnx: Record<string, string> = { '==': 'Equal', '!=': 'Equal', '<': 'Less', '<=': 'LessOrEqual', '>': 'Greater', '>=': 'GreaterOrEqual' };
    const y = this.node(onnx[op], ins, {}, null, range);
    return op === '!=' ? this.node('Not', [y], {}, null, range) : y;
  }

  /**
   * The type PyTorch computes `a op b` in: the highest category (bool < integer < float) among the tensors, unless a
   * Python number is of a higher one, which then gives int64 or float32 (numbers never widen a tensor's own type).
   */
  private promote(operands: Value[], at: string): ConstantType {
    const rank: Record<ConstantType, number> = { bool: 0, int64: 1, float32: 2 };
    let tensor: ConstantType | null = null;
    let scalar = -1;
    for (const v of operands) {
      if (v.kind === 'tensor') {
        const t = v.irName ? this.dtypes.get(v.irName) : undefined;
        if (t !== 'bool' && t !== 'int64' && t !== 'float32') throw new UserInputError(`${at} an operand is a tensor of type ${t ?? 'unknown'}, which the lowering does not convert`);
        if (tensor === null || rank[t] > rank[tensor]) tensor = t;
      } else if (v.kind === 'bool') scalar = Math.max(scalar, 0);
      else if (v.kind === 'num') scalar = Math.max(scalar, v.isInt ? 1 : 2);
      else throw new UserInputError(`${at} an operand is ${v.kind === 'unknown' ? `not known statically (${v.reason})` : `a ${v.kind}`}, so it cannot be converted to ONNX`);
    }
    if (tensor === null) throw new UserInputError(`${at} an operation without a tensor cannot be converted to ONNX`);
    if (scalar > rank[tensor]) return scalar === 2 ? 'float32' : 'int64';
    return tensor;
  }

  /** Each operand as a graph value of `type`: tensors cast where needed, numbers as scalar constants. */
  private operandsAs(operands: Value[], type: ConstantType, at: string, range: SourceRange): string[] {
    return operands.map((v) => {
      if (v.kind === 'tensor') return this.dtypes.get(v.irName!) === type ? v.irName! : this.node('Cast', [v.irName!], { to: TYPE_CODE[type] }, null, range);
      const n = v.kind === 'bool' ? Number(v.value) : (v as { value: number }).value;
      if (type === 'bool' && n !== 0 && n !== 1) throw new UserInputError(`${at} ${n} as a bool cannot be converted to ONNX`);
      return this.constant([n], type, []);
    });
  }

  /** `.float()`, `.bool()`, `.long()`, `.to(dtype)`, `.type(dtype)` and `.type_as(t)`; `.to(device)` moves nothing here. */
  private castTo(x: string, target: Value | undefined, at: string, range: SourceRange): string {
    if (!target || target.kind === 'none') return x;
    let type: DataType | undefined;
    if (target.kind === 'tensor') type = target.irName ? this.dtypes.get(target.irName) : undefined;
    else if (target.kind === 'torchRef') type = TORCH_DTYPES[target.path];
    else throw new UserInputError(`${at} the conversion's target ${target.kind === 'unknown' ? target.reason : `is a ${target.kind}`}, so it cannot be converted to ONNX`);
    if (type !== 'float32' && type !== 'int64' && type !== 'bool') throw new UserInputError(`${at} a conversion to ${target.kind === 'torchRef' ? target.path : 'the type of that tensor'} cannot be converted to ONNX without PyTorch yet; float32, int64 and bool can`);
    return this.dtypes.get(x) === type ? x : this.node('Cast', [x], { to: TYPE_CODE[type] }, null, range);
  }

  /** ConvTranspose's output_padding: the constructor's, or the one a forward(x, output_size=…) call asks for. */
  private outputPadding(layer: LayerValue, call: LayerCall, n: number, k: number[], s: number[], p: number[], d: number[]): number[] {
    const size = call.args.get('output_size');
    if (!size || size.kind === 'none') return intTuple(layer.args.get('output_padding'), n, 'output_padding');
    const input = call.args.get('input') as ShapedTensor;
    const fit = input.shape ? transposedOutputPadding(input.shape, size, n, k, s, p, d) : null;
    if (Array.isArray(fit)) return fit;
    return refuseArg(layer, call, 'output_size', fit ?? 'must be known statically, with the input shape, to convert the call to ONNX');
  }

  /** GELU, exact (PyTorch's default) or with approximate='tanh': 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
  private geluApproximate(x: string, approximate: Value | undefined, layer: LayerValue | null, who: string, range?: SourceRange): string {
    const mode = approximate === undefined ? 'none' : approximate.kind === 'str' ? approximate.value : null;
    if (mode === 'none') return this.gelu(x, layer, range);
    if (mode !== 'tanh') throw new UserInputError(`${who}: approximate must be 'none' or 'tanh', known statically, to convert it to ONNX`);
    const node = (op: string, ins: string[]): string => this.node(op, ins, {}, layer, range);
    const c = (v: number): string => this.constant([v], 'float32', []);
    const cube = node('Mul', [node('Mul', [x, x]), x]);
    const inner = node('Mul', [node('Add', [x, node('Mul', [cube, c(0.044715)])]), c(Math.sqrt(2 / Math.PI))]);
    return node('Mul', [node('Mul', [x, c(0.5)]), node('Add', [node('Tanh', [inner]), c(1)])]);
  }

  /** Softplus as PyTorch computes it: log(1 + exp(β·x))/β, and x itself where β·x exceeds the threshold. */
  private softplus(x: string, betaV: Value | undefined, thresholdV: Value | undefined, layer: LayerValue | null, who: string, range?: SourceRange): string {
    const beta = betaV === undefined ? 1 : betaV.kind === 'num' ? betaV.value : null;
    const threshold = thresholdV === undefined ? 20 : thresholdV.kind === 'num' ? thresholdV.value : null;
    if (beta === null || threshold === null) throw new UserInputError(`${who}: beta and threshold must be numbers known statically to convert it to ONNX`);
    // ONNX Softplus is log(1 + exp(x)), which is within float32 rounding of x beyond PyTorch's default threshold of 20.
    if (beta === 1 && threshold === 20) return this.node('Softplus', [x], {}, layer, range);
    const node = (op: string, ins: string[]): string => this.node(op, ins, {}, layer, range);
    const scaled = node('Mul', [x, this.constant([beta], 'float32', [])]);
    const smooth = node('Div', [node('Softplus', [scaled]), this.constant([beta], 'float32', [])]);
    return node('Where', [node('Greater', [scaled, this.constant([threshold], 'float32', [])]), x, smooth]);
  }
}

/** Layers whose ONNX ops need a batch dim, with their number of spatial dims; PyTorch also takes them unbatched. */
const BATCHED_OPS = /^(?:Conv|ConvTranspose|MaxPool|AvgPool|AdaptiveAvgPool|AdaptiveMaxPool|InstanceNorm)([123])d$/;

/** ONNX's codes for the element types the lowering makes (Cast's `to`), and back. */
const TYPE_CODE: Record<ConstantType, number> = { float32: 1, int64: 7, bool: 9 };
const CODE_TYPE = new Map<number, ConstantType>([[1, 'float32'], [7, 'int64'], [9, 'bool']]);
/** The torch dtypes the lowering converts to; others (float64, int32, float16 …) are refused by name. */
const TORCH_DTYPES: Record<string, ConstantType> = {
  'torch.float': 'float32', 'torch.float32': 'float32', 'torch.long': 'int64', 'torch.int64': 'int64', 'torch.bool': 'bool',
};
const BOOL_OUTPUTS = new Set(['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);

/** The element type of an op's outputs, from its inputs' types: what ONNX's type inference gives for the ops used here. */
function outputType(op: string, inputs: string[], attrs: Record<string, AttributeInput>, known: ReadonlyMap<string, DataType>): DataType | undefined {
  if (op === 'Constant' || op === 'ConstantOfShape') return (attrs.value as Tensor | undefined)?.dtype;
  if (op === 'Cast') return CODE_TYPE.get(attrs.to as number);
  if (BOOL_OUTPUTS.has(op)) return 'bool';
  if (op === 'Shape') return 'int64';
  if (op === 'Where') return known.get(inputs[1]);
  return inputs.length > 0 ? known.get(inputs[0]) : undefined;
}

/** A `dtype=` argument as the constant type it asks for, or `inferred` without one; refuses other types. */
function keywordDtype(v: Value | undefined, inferred: ConstantType, who: string): ConstantType {
  if (!v || v.kind === 'none') return inferred;
  const t = v.kind === 'torchRef' ? TORCH_DTYPES[v.path] : undefined;
  if (t) return t;
  throw new UserInputError(`${who}: dtype ${v.kind === 'torchRef' ? v.path : '(not known statically)'} cannot be converted to ONNX without PyTorch yet; float32, int64 and bool can`);
}

/**
 * The axis of softmax and log_softmax. Without dim, PyTorch still picks one the deprecated way (_get_softmax_dim):
 * 0 for inputs of 0, 1 or 3 dims, 1 otherwise.
 */
function softmaxAxis(dim: Value | undefined, shape: Dim[] | null, who: string): number {
  if (dim && dim.kind === 'num') return dim.value;
  if (dim && dim.kind !== 'none') throw new UserInputError(`${who}: dim must be an integer known statically to convert it to ONNX`);
  if (!shape) throw new UserInputError(`${who}: softmax without dim needs an input of known rank to convert it to ONNX`);
  return [0, 1, 3].includes(shape.length) ? 0 : 1;
}

const FALSE: Value = { kind: 'bool', value: false };
const NONE: Value = { kind: 'none' };
const softmaxSig: Array<[string, Value]> = [['dim', NONE], ['_stacklevel', num(3, true)], ['dtype', NONE]];
const dropoutSig: Array<[string, Value]> = [['p', num(0.5, false)], ['training', { kind: 'bool', value: true }], ['inplace', FALSE]];

/** The functions of torch and torch.nn.functional the lowering converts, with their arguments after the input and PyTorch's defaults. */
const FUNCTIONAL: Record<string, Array<[string, Value]>> = {
  relu: [['inplace', FALSE]], relu6: [['inplace', FALSE]], silu: [['inplace', FALSE]], selu: [['inplace', FALSE]], hardswish: [['inplace', FALSE]],
  sigmoid: [], tanh: [], abs: [], exp: [], log: [], sqrt: [], rsqrt: [], reciprocal: [], square: [], sin: [], cos: [], erf: [],
  elu: [['alpha', num(1, false)], ['inplace', FALSE]],
  leaky_relu: [['negative_slope', num(0.01, false)], ['inplace', FALSE]],
  softplus: [['beta', num(1, true)], ['threshold', num(20, true)]],
  gelu: [['approximate', { kind: 'str', value: 'none' }]],
  softmax: softmaxSig, log_softmax: softmaxSig,
  dropout: dropoutSig, dropout2d: dropoutSig,
};

/** Binds a functional call's arguments after the input; refuses arguments the function does not take, naming them. */
function bindFunctional(name: string, positional: Value[], keywords: Map<string, Value>, at: string): Map<string, Value> {
  const sig = FUNCTIONAL[name];
  if (positional.length > sig.length) throw new UserInputError(`${at} ${name} takes at most ${sig.length + 1} arguments, not ${positional.length + 1}`);
  const bound = new Map<string, Value>(sig.map(([k, v], i) => [k, positional[i] ?? v]));
  for (const [k, v] of keywords) {
    if (!bound.has(k)) throw new UserInputError(`${at} ${name} has no argument '${k}' that Layerscope can convert to ONNX`);
    bound.set(k, v);
  }
  return bound;
}

function numberArg(a: Map<string, Value>, name: string, who: string): number {
  const v = a.get(name);
  if (v && v.kind === 'num') return v.value;
  throw new UserInputError(`${who}: ${name} must be a number known statically to convert it to ONNX`);
}

/** The numbers of a literal nested list, row-major, as torch.tensor lays them out. */
function flattenLiteral(v: Value | undefined): number[] {
  if (!v) return [];
  if (v.kind === 'num') return [v.value];
  if (v.kind === 'bool') return [Number(v.value)];
  return v.kind === 'seq' ? v.items.flatMap(flattenLiteral) : [];
}

function literalAll(v: Value | undefined, test: (leaf: Value) => boolean): boolean {
  if (!v) return false;
  return v.kind === 'seq' ? v.items.every((item) => literalAll(item, test)) : test(v);
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
  lowerer.inputType(input, tokens ? 'int64' : 'float32');
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

/**
 * One call of one torch.nn layer as a graph of its own: the input `input` of the given shape, the layer's ONNX ops,
 * and their output. The lens path runs the core's shape, MAC and receptive-field rules on it (layerFragment.ts), so
 * that a layer without a rule of its own in layerShapes.ts gets the numbers the lowered summary gives. Weights are
 * zeros: only shapes and counts are read. Throws (a UserInputError) when the call cannot be lowered.
 */
export function lowerLayerCall(layer: LayerValue, call: LayerCall, inputShape: Dim[]): Model {
  const lowerer = new Lowerer({ inputShape, init: 'zeros' }, undefined, true);
  const tokens = layer.type === 'Embedding' || layer.type === 'EmbeddingBag';
  const input = lowerer.builder.input('input', tokens ? 'int64' : 'float32', [...inputShape]);
  lowerer.inputType(input, tokens ? 'int64' : 'float32');
  const args = new Map(call.args);
  args.set(forwardInputName(layer.type), { kind: 'tensor', shape: [...inputShape], irName: input });
  const out = lowerer.layer(layer, { args, range: call.range }, { kind: 'tensor', shape: null });
  if (!out) throw new UserInputError(`${where(layer)}: the call gives no output to measure`);
  lowerer.builder.output(out, 'float32', null);
  return lowerer.builder.model(17, { format: 'python', producerName: 'layerscope (one layer call)' });
}
