import type { ParamCount, Value } from './values';
import { formatCount, num } from './values';

/**
 * The torch.nn layers Layerscope understands: each constructor's signature with PyTorch's defaults, and the exact
 * parameter formula. The formulas are checked against PyTorch's own counts (test/fixtures/torchCounts.json).
 */

const REQ = Symbol('required');
type Default = Value | typeof REQ;

const T: Value = { kind: 'bool', value: true };
const F: Value = { kind: 'bool', value: false };
const NONE: Value = { kind: 'none' };
const i = (n: number): Value => num(n, true);
const fl = (n: number): Value => num(n, false);
const s = (v: string): Value => ({ kind: 'str', value: v });

type Sig = Array<[string, Default]>;

const convSig: Sig = [['in_channels', REQ], ['out_channels', REQ], ['kernel_size', REQ], ['stride', i(1)], ['padding', i(0)], ['dilation', i(1)], ['groups', i(1)], ['bias', T], ['padding_mode', s('zeros')]];
const convTSig: Sig = [['in_channels', REQ], ['out_channels', REQ], ['kernel_size', REQ], ['stride', i(1)], ['padding', i(0)], ['output_padding', i(0)], ['groups', i(1)], ['bias', T], ['dilation', i(1)], ['padding_mode', s('zeros')]];
const bnSig: Sig = [['num_features', REQ], ['eps', fl(1e-5)], ['momentum', fl(0.1)], ['affine', T], ['track_running_stats', T]];
const inSig: Sig = [['num_features', REQ], ['eps', fl(1e-5)], ['momentum', fl(0.1)], ['affine', F], ['track_running_stats', F]];
const rnnSig: Sig = [['input_size', REQ], ['hidden_size', REQ], ['num_layers', i(1)], ['bias', T], ['batch_first', F], ['dropout', fl(0)], ['bidirectional', F], ['proj_size', i(0)], ['nonlinearity', s('tanh')]];
const poolSig: Sig = [['kernel_size', REQ], ['stride', NONE], ['padding', i(0)], ['dilation', i(1)], ['return_indices', F], ['ceil_mode', F]];
const avgSig: Sig = [['kernel_size', REQ], ['stride', NONE], ['padding', i(0)], ['ceil_mode', F], ['count_include_pad', T], ['divisor_override', NONE]];
const adaptiveSig: Sig = [['output_size', REQ]];

export const SIGNATURES: Record<string, Sig> = {
  Linear: [['in_features', REQ], ['out_features', REQ], ['bias', T]],
  Bilinear: [['in1_features', REQ], ['in2_features', REQ], ['out_features', REQ], ['bias', T]],
  LazyLinear: [['out_features', REQ], ['bias', T]],
  Conv1d: convSig, Conv2d: convSig, Conv3d: convSig,
  ConvTranspose1d: convTSig, ConvTranspose2d: convTSig, ConvTranspose3d: convTSig,
  BatchNorm1d: bnSig, BatchNorm2d: bnSig, BatchNorm3d: bnSig, SyncBatchNorm: bnSig,
  InstanceNorm1d: inSig, InstanceNorm2d: inSig, InstanceNorm3d: inSig,
  LayerNorm: [['normalized_shape', REQ], ['eps', fl(1e-5)], ['elementwise_affine', T], ['bias', T]],
  GroupNorm: [['num_groups', REQ], ['num_channels', REQ], ['eps', fl(1e-5)], ['affine', T]],
  LocalResponseNorm: [['size', REQ], ['alpha', fl(1e-4)], ['beta', fl(0.75)], ['k', fl(1)]],
  Embedding: [['num_embeddings', REQ], ['embedding_dim', REQ], ['padding_idx', NONE], ['max_norm', NONE], ['norm_type', fl(2)], ['scale_grad_by_freq', F], ['sparse', F], ['_weight', NONE]],
  EmbeddingBag: [['num_embeddings', REQ], ['embedding_dim', REQ], ['max_norm', NONE], ['norm_type', fl(2)], ['scale_grad_by_freq', F], ['mode', s('mean')], ['sparse', F], ['_weight', NONE], ['include_last_offset', F], ['padding_idx', NONE]],
  RNN: rnnSig, LSTM: rnnSig, GRU: rnnSig,
  MultiheadAttention: [['embed_dim', REQ], ['num_heads', REQ], ['dropout', fl(0)], ['bias', T], ['add_bias_kv', F], ['add_zero_attn', F], ['kdim', NONE], ['vdim', NONE], ['batch_first', F]],
  TransformerEncoderLayer: [['d_model', REQ], ['nhead', REQ], ['dim_feedforward', i(2048)], ['dropout', fl(0.1)], ['activation', s('relu')], ['layer_norm_eps', fl(1e-5)], ['batch_first', F], ['norm_first', F], ['bias', T]],
  TransformerDecoderLayer: [['d_model', REQ], ['nhead', REQ], ['dim_feedforward', i(2048)], ['dropout', fl(0.1)], ['activation', s('relu')], ['layer_norm_eps', fl(1e-5)], ['batch_first', F], ['norm_first', F], ['bias', T]],
  PReLU: [['num_parameters', i(1)], ['init', fl(0.25)]],
  MaxPool1d: poolSig, MaxPool2d: poolSig, MaxPool3d: poolSig,
  AvgPool1d: avgSig, AvgPool2d: avgSig, AvgPool3d: avgSig,
  AdaptiveAvgPool1d: adaptiveSig, AdaptiveAvgPool2d: adaptiveSig, AdaptiveAvgPool3d: adaptiveSig,
  AdaptiveMaxPool1d: adaptiveSig, AdaptiveMaxPool2d: adaptiveSig, AdaptiveMaxPool3d: adaptiveSig,
  Flatten: [['start_dim', i(1)], ['end_dim', i(-1)]],
  Unflatten: [['dim', REQ], ['unflattened_size', REQ]],
  Dropout: [['p', fl(0.5)], ['inplace', F]],
  Upsample: [['size', NONE], ['scale_factor', NONE], ['mode', s('nearest')], ['align_corners', NONE]],
  ZeroPad2d: [['padding', REQ]],
  ConstantPad2d: [['padding', REQ], ['value', REQ]],
  PixelShuffle: [['upscale_factor', REQ]],
  Softmax: [['dim', NONE]], LogSoftmax: [['dim', NONE]], Softmin: [['dim', NONE]],
  LeakyReLU: [['negative_slope', fl(0.01)], ['inplace', F]],
  ELU: [['alpha', fl(1)], ['inplace', F]],
  GELU: [['approximate', s('none')]],
  Softplus: [['beta', i(1)], ['threshold', i(20)]],
  Hardtanh: [['min_val', fl(-1)], ['max_val', fl(1)], ['inplace', F]],
  CELU: [['alpha', fl(1)], ['inplace', F]],
  Threshold: [['threshold', REQ], ['value', REQ], ['inplace', F]],
  Softshrink: [['lambd', fl(0.5)]],
  Hardshrink: [['lambd', fl(0.5)]],
  RReLU: [['lower', fl(1 / 8)], ['upper', fl(1 / 3)], ['inplace', F]],
  GLU: [['dim', i(-1)]],
  ZeroPad1d: [['padding', REQ]], ZeroPad3d: [['padding', REQ]],
  ConstantPad1d: [['padding', REQ], ['value', REQ]], ConstantPad3d: [['padding', REQ], ['value', REQ]],
  ReflectionPad1d: [['padding', REQ]], ReflectionPad2d: [['padding', REQ]], ReflectionPad3d: [['padding', REQ]],
  ReplicationPad1d: [['padding', REQ]], ReplicationPad2d: [['padding', REQ]], ReplicationPad3d: [['padding', REQ]],
  PixelUnshuffle: [['downscale_factor', REQ]],
  ChannelShuffle: [['groups', REQ]],
  LPPool1d: [['norm_type', REQ], ['kernel_size', REQ], ['stride', NONE], ['ceil_mode', F]],
  LPPool2d: [['norm_type', REQ], ['kernel_size', REQ], ['stride', NONE], ['ceil_mode', F]],
  UpsamplingNearest2d: [['size', NONE], ['scale_factor', NONE]],
  UpsamplingBilinear2d: [['size', NONE], ['scale_factor', NONE]],
};

/** Layers with no parameters at all; their extra arguments are not checked. */
export const PARAMETER_FREE = new Set([
  'ReLU', 'ReLU6', 'LeakyReLU', 'Sigmoid', 'Tanh', 'GELU', 'SiLU', 'ELU', 'SELU', 'CELU', 'Mish', 'Softplus', 'Softsign',
  'Softshrink', 'Hardshrink', 'Tanhshrink', 'Hardtanh', 'Hardswish', 'Hardsigmoid', 'LogSigmoid', 'Threshold', 'GLU', 'RReLU',
  'Softmax', 'Softmax2d', 'LogSoftmax', 'Softmin',
  'MaxPool1d', 'MaxPool2d', 'MaxPool3d', 'AvgPool1d', 'AvgPool2d', 'AvgPool3d', 'LPPool1d', 'LPPool2d', 'FractionalMaxPool2d',
  'AdaptiveAvgPool1d', 'AdaptiveAvgPool2d', 'AdaptiveAvgPool3d', 'AdaptiveMaxPool1d', 'AdaptiveMaxPool2d', 'AdaptiveMaxPool3d',
  'MaxUnpool1d', 'MaxUnpool2d', 'MaxUnpool3d',
  'Dropout', 'Dropout1d', 'Dropout2d', 'Dropout3d', 'AlphaDropout', 'FeatureAlphaDropout',
  'Flatten', 'Unflatten', 'Identity', 'Upsample', 'UpsamplingNearest2d', 'UpsamplingBilinear2d', 'PixelShuffle', 'PixelUnshuffle',
  'ZeroPad1d', 'ZeroPad2d', 'ZeroPad3d', 'ConstantPad1d', 'ConstantPad2d', 'ConstantPad3d', 'ReflectionPad1d', 'ReflectionPad2d',
  'ReplicationPad1d', 'ReplicationPad2d', 'ChannelShuffle', 'LocalResponseNorm', 'CrossMapLRN2d', 'Fold', 'Unfold',
  'CrossEntropyLoss', 'MSELoss', 'NLLLoss', 'L1Loss', 'BCELoss', 'BCEWithLogitsLoss', 'CosineSimilarity', 'PairwiseDistance',
]);

/** Containers whose parameters are their children's. */
export const CONTAINERS = new Set(['Sequential', 'ModuleList', 'ModuleDict']);

export function isKnownLayer(type: string): boolean {
  return type in SIGNATURES || PARAMETER_FREE.has(type) || CONTAINERS.has(type);
}

export interface BoundArgs {
  args: Map<string, Value>;
  error?: string;
}

/** Binds a call's positional and keyword arguments to a layer's signature, filling PyTorch's defaults. */
export function bindLayerArgs(type: string, positional: Value[], keywords: Map<string, Value>): BoundArgs {
  const sig = SIGNATURES[type];
  const args = new Map<string, Value>();
  if (!sig) {
    for (const [k, v] of keywords) args.set(k, v);
    return { args };
  }
  if (positional.length > sig.length) return { args, error: `${type} takes at most ${sig.length} positional arguments, got ${positional.length}` };
  sig.forEach(([name], idx) => {
    if (idx < positional.length) args.set(name, positional[idx]);
  });
  for (const [k, v] of keywords) {
    if (!sig.some(([n]) => n === k) && !['device', 'dtype'].includes(k)) return { args, error: `${type} has no argument '${k}'` };
    args.set(k, v);
  }
  for (const [name, def] of sig) {
    if (!args.has(name)) {
      if (def === REQ) return { args, error: `${type} needs the argument '${name}'` };
      args.set(name, def);
    }
  }
  return { args };
}

/**
 * The arguments of each torch.nn layer's forward, as PyTorch 1.13 names them, so that a call's keywords reach the
 * shape rules and the lowering under those names instead of being dropped. The `is_causal` hints of PyTorch 2 are
 * listed as well, so that code written for it binds; what each argument means is up to the lowering.
 */
const FORWARD: Record<string, Sig> = {
  Bilinear: [['input1', REQ], ['input2', REQ]],
  ConvTranspose1d: [['input', REQ], ['output_size', NONE]],
  ConvTranspose2d: [['input', REQ], ['output_size', NONE]],
  ConvTranspose3d: [['input', REQ], ['output_size', NONE]],
  EmbeddingBag: [['input', REQ], ['offsets', NONE], ['per_sample_weights', NONE]],
  RNN: [['input', REQ], ['hx', NONE]],
  LSTM: [['input', REQ], ['hx', NONE]],
  GRU: [['input', REQ], ['hx', NONE]],
  MultiheadAttention: [['query', REQ], ['key', REQ], ['value', REQ], ['key_padding_mask', NONE], ['need_weights', T], ['attn_mask', NONE], ['average_attn_weights', T], ['is_causal', F]],
  TransformerEncoderLayer: [['src', REQ], ['src_mask', NONE], ['src_key_padding_mask', NONE], ['is_causal', F]],
  TransformerDecoderLayer: [['tgt', REQ], ['memory', REQ], ['tgt_mask', NONE], ['memory_mask', NONE], ['tgt_key_padding_mask', NONE], ['memory_key_padding_mask', NONE], ['tgt_is_causal', F], ['memory_is_causal', F]],
};

/**
 * Known layers whose forward takes more than one tensor or any arguments at all (nn.Identity ignores what it is given,
 * losses take a target). Their calls are not checked, nor are those of layers Layerscope does not know; the forward
 * of every other known layer takes exactly one input.
 */
const ANY_FORWARD = /^(Identity|CosineSimilarity|PairwiseDistance|MaxUnpool[123]d|\w+Loss)$/;

/** The name of a layer's first forward argument, the tensor its output shape follows. */
export function forwardInputName(type: string): string {
  return FORWARD[type]?.[0][0] ?? 'input';
}

/**
 * Binds a call of a torch.nn layer to its forward's parameters, filling PyTorch's defaults, or says why PyTorch
 * would refuse the call (an argument it does not take, too many or too few).
 */
export function bindForwardArgs(type: string, positional: Value[], keywords: Map<string, Value>): BoundArgs {
  if (!(type in FORWARD) && (ANY_FORWARD.test(type) || !isKnownLayer(type))) {
    const args = new Map<string, Value>(positional.map((v, k) => [k === 0 ? 'input' : `arg${k}`, v]));
    for (const [k, v] of keywords) args.set(k, v);
    return { args };
  }
  const sig = FORWARD[type] ?? [['input', REQ]];
  const args = new Map<string, Value>();
  if (positional.length > sig.length) return { args, error: `${type}'s forward takes ${sig.length === 1 ? 'one argument' : `at most ${sig.length} arguments`}, not ${positional.length}` };
  sig.forEach(([name], idx) => {
    if (idx < positional.length) args.set(name, positional[idx]);
  });
  for (const [k, v] of keywords) {
    if (!sig.some(([n]) => n === k)) return { args, error: `${type}'s forward has no argument '${k}'` };
    if (args.has(k)) return { args, error: `${type}'s forward got '${k}' twice, by position and by keyword` };
    args.set(k, v);
  }
  for (const [name, def] of sig) {
    if (!args.has(name)) {
      if (def === REQ) return { args, error: `${type}'s forward needs the argument '${name}'` };
      args.set(name, def);
    }
  }
  return { args };
}

export interface FormulaResult {
  count: ParamCount | null;
  formula?: string;
  reason?: string;
}

class Unresolved extends Error {}

function intArg(args: Map<string, Value>, name: string): number {
  const v = args.get(name);
  if (v && v.kind === 'num' && v.isInt) return v.value;
  if (v && v.kind === 'bool') return v.value ? 1 : 0;
  throw new Unresolved(`${name} is ${describeUnknown(v)}`);
}

function boolArg(args: Map<string, Value>, name: string): boolean {
  const v = args.get(name);
  if (v && v.kind === 'bool') return v.value;
  if (v && v.kind === 'num') return v.value !== 0;
  if (v && v.kind === 'none') return false;
  throw new Unresolved(`${name} is ${describeUnknown(v)}`);
}

function optionalInt(args: Map<string, Value>, name: string): number | null {
  const v = args.get(name);
  if (v && v.kind === 'none') return null;
  return intArg(args, name);
}

/** An int or a tuple of ints, expanded to `n` values. */
export function intTuple(v: Value | undefined, n: number, name: string): number[] {
  if (v && v.kind === 'num' && v.isInt) return Array.from({ length: n }, () => v.value);
  if (v && v.kind === 'seq' && v.items.every((x) => x.kind === 'num' && x.isInt)) {
    const vals = v.items.map((x) => (x as { value: number }).value);
    if (vals.length === n) return vals;
    if (vals.length === 1) return Array.from({ length: n }, () => vals[0]);
  }
  throw new Unresolved(`${name} is ${describeUnknown(v)}`);
}

function describeUnknown(v: Value | undefined): string {
  if (!v) return 'missing';
  if (v.kind === 'unknown') return `not known statically (${v.reason})`;
  return `not a literal integer (${v.kind})`;
}

const fmt = formatCount;
const prod = (xs: number[]): number => xs.reduce((a, b) => a * b, 1);

function count(params: number, buffers = 0, trainable = params): ParamCount {
  return { params, trainable, buffers };
}

/** The exact parameter count of one torch.nn layer from its bound arguments. */
export function layerParams(type: string, args: Map<string, Value>): FormulaResult {
  try {
    return computeParams(type, args);
  } catch (e) {
    if (e instanceof Unresolved) return { count: null, reason: `${type}: ${e.message}` };
    throw e;
  }
}

function spatial(type: string): number {
  const m = /([123])d$/.exec(type);
  return m ? Number(m[1]) : 2;
}

function computeParams(type: string, a: Map<string, Value>): FormulaResult {
  if (PARAMETER_FREE.has(type) || CONTAINERS.has(type)) {
    return { count: count(0), formula: `${type}: no parameters` };
  }
  switch (type) {
    case 'Linear': {
      const fin = intArg(a, 'in_features');
      const out = intArg(a, 'out_features');
      const bias = boolArg(a, 'bias');
      const p = fin * out + (bias ? out : 0);
      return { count: count(p), formula: `Linear: ${fin}·${out} weights${bias ? ` + ${out} biases` : ''} = ${fmt(p)}` };
    }
    case 'Bilinear': {
      const a1 = intArg(a, 'in1_features');
      const a2 = intArg(a, 'in2_features');
      const out = intArg(a, 'out_features');
      const bias = boolArg(a, 'bias');
      const p = a1 * a2 * out + (bias ? out : 0);
      return { count: count(p), formula: `Bilinear: ${out}·${a1}·${a2} weights${bias ? ` + ${out} biases` : ''} = ${fmt(p)}` };
    }
    case 'Conv1d':
    case 'Conv2d':
    case 'Conv3d':
    case 'ConvTranspose1d':
    case 'ConvTranspose2d':
    case 'ConvTranspose3d': {
      const n = spatial(type);
      const cin = intArg(a, 'in_channels');
      const cout = intArg(a, 'out_channels');
      const k = intTuple(a.get('kernel_size'), n, 'kernel_size');
      const g = intArg(a, 'groups');
      const bias = boolArg(a, 'bias');
      if (g <= 0 || cin % g !== 0 || cout % g !== 0) throw new Unresolved(`groups=${g} must divide in_channels=${cin} and out_channels=${cout}`);
      const transposed = type.startsWith('ConvTranspose');
      const w = transposed ? [cin, cout / g, ...k] : [cout, cin / g, ...k];
      const p = prod(w) + (bias ? cout : 0);
      return { count: count(p), formula: `${type}: ${w.join('·')} weights${bias ? ` + ${cout} biases` : ''} = ${fmt(p)}` };
    }
    case 'BatchNorm1d':
    case 'BatchNorm2d':
    case 'BatchNorm3d':
    case 'SyncBatchNorm':
    case 'InstanceNorm1d':
    case 'InstanceNorm2d':
    case 'InstanceNorm3d': {
      const c = intArg(a, 'num_features');
      const affine = boolArg(a, 'affine');
      const track = boolArg(a, 'track_running_stats');
      const p = affine ? 2 * c : 0;
      const b = track ? 2 * c : 0;
      const parts = [affine ? `${c} γ + ${c} β = ${fmt(p)}` : 'no parameters (affine=False)'];
      if (track) parts.push(`plus ${c} running means + ${c} running variances (not trainable)`);
      return { count: count(p, b), formula: `${type}: ${parts.join(', ')}` };
    }
    case 'LayerNorm': {
      const v = a.get('normalized_shape');
      const shape = v && v.kind === 'num' ? [intArg(a, 'normalized_shape')] : v && v.kind === 'seq' ? intTuple(v, v.items.length, 'normalized_shape') : intTuple(v, 1, 'normalized_shape');
      const affine = boolArg(a, 'elementwise_affine');
      const bias = affine && boolArg(a, 'bias');
      const e = prod(shape);
      const p = affine ? e + (bias ? e : 0) : 0;
      return { count: count(p), formula: affine ? `LayerNorm: ${e} γ${bias ? ` + ${e} β` : ''} = ${fmt(p)}` : 'LayerNorm: no parameters (elementwise_affine=False)' };
    }
    case 'GroupNorm': {
      const c = intArg(a, 'num_channels');
      const affine = boolArg(a, 'affine');
      const p = affine ? 2 * c : 0;
      return { count: count(p), formula: affine ? `GroupNorm: ${c} γ + ${c} β = ${fmt(p)}` : 'GroupNorm: no parameters (affine=False)' };
    }
    case 'Embedding':
    case 'EmbeddingBag': {
      const n = intArg(a, 'num_embeddings');
      const d = intArg(a, 'embedding_dim');
      const p = n * d;
      return { count: count(p), formula: `${type}: ${n}·${d} weights = ${fmt(p)}` };
    }
    case 'RNN':
    case 'LSTM':
    case 'GRU': {
      const gates = type === 'LSTM' ? 4 : type === 'GRU' ? 3 : 1;
      const input = intArg(a, 'input_size');
      const hidden = intArg(a, 'hidden_size');
      const layers = intArg(a, 'num_layers');
      const bias = boolArg(a, 'bias');
      const dirs = boolArg(a, 'bidirectional') ? 2 : 1;
      const proj = intArg(a, 'proj_size');
      if (proj > 0 && type !== 'LSTM') throw new Unresolved('proj_size is only supported by LSTM');
      const real = proj > 0 ? proj : hidden;
      const gh = gates * hidden;
      let p = 0;
      for (let l = 0; l < layers; l++) {
        const inSize = l === 0 ? input : real * dirs;
        p += dirs * (gh * inSize + gh * real + (bias ? 2 * gh : 0) + (proj > 0 ? proj * hidden : 0));
      }
      const first = `${gates}·${hidden}·(${input} + ${real})${bias ? ` + 2·${gh}` : ''}${proj > 0 ? ` + ${proj}·${hidden}` : ''}`;
      return {
        count: count(p),
        formula: `${type}: ${layers} layer${layers > 1 ? 's' : ''} × ${dirs} direction${dirs > 1 ? 's' : ''}, first layer ${first} per direction; total ${fmt(p)}`,
      };
    }
    case 'MultiheadAttention': {
      const e = intArg(a, 'embed_dim');
      intArg(a, 'num_heads');
      const bias = boolArg(a, 'bias');
      const kdim = optionalInt(a, 'kdim') ?? e;
      const vdim = optionalInt(a, 'vdim') ?? e;
      const biasKv = boolArg(a, 'add_bias_kv');
      const inProj = e * e + e * kdim + e * vdim;
      const p = inProj + (bias ? 3 * e : 0) + e * e + (bias ? e : 0) + (biasKv ? 2 * e : 0);
      return { count: count(p), formula: `MultiheadAttention: in-projections ${e}·(${e} + ${kdim} + ${vdim})${bias ? ` + ${3 * e}` : ''}, out-projection ${e}·${e}${bias ? ` + ${e}` : ''}${biasKv ? ` + ${2 * e} bias_k/v` : ''} = ${fmt(p)}` };
    }
    case 'TransformerEncoderLayer':
    case 'TransformerDecoderLayer': {
      const d = intArg(a, 'd_model');
      intArg(a, 'nhead');
      const ff = intArg(a, 'dim_feedforward');
      const bias = boolArg(a, 'bias');
      const b = bias ? 1 : 0;
      const mha = 4 * d * d + b * 4 * d;
      const attn = type === 'TransformerDecoderLayer' ? 2 : 1;
      const norms = attn + 1;
      const p = attn * mha + d * ff + b * ff + ff * d + b * d + norms * (d + b * d);
      return { count: count(p), formula: `${type}: ${attn} attention × ${fmt(mha)} + feed-forward ${d}·${ff}·2${bias ? ` + ${ff + d}` : ''} + ${norms} LayerNorms × ${d + b * d} = ${fmt(p)}` };
    }
    case 'PReLU': {
      const n = intArg(a, 'num_parameters');
      return { count: count(n), formula: `PReLU: ${n} slope${n === 1 ? '' : 's'} = ${fmt(n)}` };
    }
    default:
      return { count: null, reason: `Layerscope does not know the parameters of nn.${type}` };
  }
}

export { REQ };
