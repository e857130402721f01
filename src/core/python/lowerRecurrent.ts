import { UserInputError } from '../errors';
import type { AttributeInput } from '../ir/builder';
import type { LayerCall } from './interpreter';
import type { ShapedTensor } from './layerShapes';
import { boolOf, intOf, knownDims, refuseArg, where } from './lowerContext';
import type { LoweringContext } from './lowerContext';
import type { LayerValue } from './values';

/**
 * nn.RNN, nn.LSTM and nn.GRU. Every weight is drawn U(±1/√hidden_size), as PyTorch's reset_parameters draws all of
 * them, in PyTorch's layout and order, so that a seed gives the same numbers PyTorch would see.
 *
 * Without a projection each layer is one ONNX RNN/LSTM/GRU op. ONNX orders the gates differently (LSTM i,o,f,c against
 * PyTorch's i,f,g,o; GRU z,r,h against r,z,n), so the drawn rows are regrouped, and GRU needs linear_before_reset=1 to
 * compute what PyTorch computes. An LSTM with proj_size has no ONNX op (ONNX's LSTM has no projection), so its layers
 * are unrolled over the known sequence length into MatMul, Sigmoid and Tanh steps that keep PyTorch's own layout.
 * An initial state given as hx is split by layer, (num_layers·directions, batch, size) into (directions, batch, size)
 * per layer, which is ONNX's initial_h and initial_c.
 */

/** The initial states of one layer, (directions, batch, size) each; a layer given none starts from PyTorch's zeros. */
interface LayerState {
  h: string;
  /** The LSTM's cell state. */
  c?: string;
}

interface Recurrence {
  type: string;
  hidden: number;
  /** proj_size, or 0 without a projection. */
  proj: number;
  bias: boolean;
  dirs: number;
  seqLen: number;
  batch: number;
  /** Rows of weights in PyTorch's layout [rows, cols], drawn from the shared generator. */
  draw(rows: number, cols: number): Float32Array;
}

/** One layer as a single ONNX RNN/LSTM/GRU op; returns (seq, batch, dirs·hidden). */
function onnxLayer(ctx: LoweringContext, layer: LayerValue, r: Recurrence, seq: string, l: number, inSize: number, state: LayerState | null): string {
  const { type, hidden, dirs } = r;
  const gates = type === 'LSTM' ? 4 : type === 'GRU' ? 3 : 1;
  const order = type === 'LSTM' ? [0, 3, 1, 2] : type === 'GRU' ? [1, 0, 2] : [0];
  // Rows of a PyTorch weight [gates·H, cols] regrouped into ONNX's gate order.
  const permute = (w: Float32Array, cols: number): Float32Array => {
    const out = new Float32Array(w.length);
    order.forEach((src, dst) => out.set(w.subarray(src * hidden * cols, (src + 1) * hidden * cols), dst * hidden * cols));
    return out;
  };
  // PyTorch draws, per direction, weight_ih, weight_hh, bias_ih and bias_hh; ONNX stacks the directions in W, R and B.
  const W = new Float32Array(dirs * gates * hidden * inSize);
  const R = new Float32Array(dirs * gates * hidden * hidden);
  const B = new Float32Array(dirs * 2 * gates * hidden);
  const draw = (): void => {
    for (let d = 0; d < dirs; d++) {
      W.set(permute(r.draw(gates * hidden, inSize), inSize), d * gates * hidden * inSize);
      R.set(permute(r.draw(gates * hidden, hidden), hidden), d * gates * hidden * hidden);
      if (r.bias) {
        B.set(permute(r.draw(gates * hidden, 1), 1), d * 2 * gates * hidden);
        B.set(permute(r.draw(gates * hidden, 1), 1), d * 2 * gates * hidden + gates * hidden);
      }
    }
  };
  const w = ctx.layerTensor(layer, `weight_ih_l${l}`, [dirs, gates * hidden, inSize], () => {
    draw();
    return W;
  });
  // R and B were filled by that one draw, which runs when the layer is first called; a second call reuses all three.
  const ins = [seq, w, ctx.layerTensor(layer, `weight_hh_l${l}`, [dirs, gates * hidden, hidden], () => R)];
  if (r.bias) ins.push(ctx.layerTensor(layer, `bias_l${l}`, [dirs, 2 * gates * hidden], () => B));
  // ONNX leaves out an optional input before others by an empty name: B without a bias, and sequence_lens.
  if (state) ins.push(...(r.bias ? [] : ['']), '', state.h, ...(state.c ? [state.c] : []));
  const attrs: Record<string, AttributeInput> = { hidden_size: hidden, direction: dirs === 2 ? 'bidirectional' : 'forward' };
  if (type === 'GRU') attrs.linear_before_reset = 1;
  if (type === 'RNN') {
    const nl = layer.args.get('nonlinearity');
    const act = nl && nl.kind === 'str' && nl.value === 'relu' ? 'Relu' : 'Tanh';
    attrs.activations = dirs === 2 ? [act, act] : [act];
  }
  const y = ctx.node(type, ins, attrs, layer);
  // Y is (seq, dirs, batch, hidden); PyTorch's output is (seq, batch, dirs·hidden).
  const yt = ctx.node('Transpose', [y], { perm: [0, 2, 1, 3] }, layer);
  return ctx.node('Reshape', [yt, ctx.constant([r.seqLen, r.batch, dirs * hidden], 'int64')], {}, layer);
}

/**
 * One layer of an LSTM with proj_size, unrolled: per step the gates are x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh in PyTorch's
 * i,f,g,o order, c = f·c + i·g and h = (o·tanh c)·W_hrᵀ. Without an initial state PyTorch's is zero, which makes the
 * first step's recurrent terms vanish, so they are left out rather than multiplied by zero constants. Returns
 * (seq, batch, dirs·proj).
 */
function projectedLayer(ctx: LoweringContext, layer: LayerValue, r: Recurrence, seq: string, l: number, inSize: number, state: LayerState | null): string {
  const { hidden: H, proj: P } = r;
  const transposed = (w: string): string => ctx.node('Transpose', [w], { perm: [1, 0] }, layer);
  const directions: string[] = [];
  for (let d = 0; d < r.dirs; d++) {
    const weight = (key: string, rows: number, cols: number): string => ctx.layerTensor(layer, `${key}_l${l}${d === 1 ? '_reverse' : ''}`, cols === 1 ? [rows] : [rows, cols], () => r.draw(rows, cols));
    // Drawn in the order PyTorch registers them: weight_ih, weight_hh, bias_ih, bias_hh, weight_hr.
    const wih = weight('weight_ih', 4 * H, inSize);
    const whh = weight('weight_hh', 4 * H, P);
    const biases = r.bias ? [weight('bias_ih', 4 * H, 1), weight('bias_hh', 4 * H, 1)] : [];
    const whr = weight('weight_hr', P, H);
    // The input's contribution to every step at once: (seq, batch, 4H).
    let inputGates = ctx.node('MatMul', [seq, transposed(wih)], {}, layer);
    for (const b of biases) inputGates = ctx.node('Add', [inputGates, b], {}, layer);
    const whhT = transposed(whh);
    const whrT = transposed(whr);
    const steps: string[] = [];
    const initial = (t: string | undefined): string | null => (t ? ctx.node('Gather', [t, ctx.constant([d], 'int64', [])], { axis: 0 }, layer) : null);
    let h: string | null = initial(state?.h);
    let c: string | null = initial(state?.c);
    for (let k = 0; k < r.seqLen; k++) {
      const t = d === 1 ? r.seqLen - 1 - k : k;
      let g = ctx.node('Gather', [inputGates, ctx.constant([t], 'int64', [])], { axis: 0 }, layer);
      if (h) g = ctx.node('Add', [g, ctx.node('MatMul', [h, whhT], {}, layer)], {}, layer);
      const [i, f, cell, o] = ctx.split(g, [H, H, H, H], 1, layer);
      const inputCell = ctx.node('Mul', [ctx.node('Sigmoid', [i], {}, layer), ctx.node('Tanh', [cell], {}, layer)], {}, layer);
      c = c ? ctx.node('Add', [ctx.node('Mul', [ctx.node('Sigmoid', [f], {}, layer), c], {}, layer), inputCell], {}, layer) : inputCell;
      const hiddenState = ctx.node('Mul', [ctx.node('Sigmoid', [o], {}, layer), ctx.node('Tanh', [c], {}, layer)], {}, layer);
      h = ctx.node('MatMul', [hiddenState, whrT], {}, layer);
      steps[t] = ctx.node('Unsqueeze', [h, ctx.constant([0], 'int64')], {}, layer);
    }
    directions.push(ctx.node('Concat', steps, { axis: 0 }, layer));
  }
  return r.dirs === 1 ? directions[0] : ctx.node('Concat', directions, { axis: 2 }, layer);
}

/**
 * The initial states a call passes as hx: a tensor for RNN and GRU, (h_0, c_0) for LSTM, each (num_layers·directions,
 * batch, size), or without the batch dim for an unbatched input; null when hx is None. Shapes are checked as PyTorch
 * checks them, and each state is made 3-d for the batch of one an unbatched input becomes.
 */
function initialStates(ctx: LoweringContext, layer: LayerValue, call: LayerCall, stacked: number, batch: number, sizes: number[], batched: boolean): string[] | null {
  const hx = call.args.get('hx');
  if (!hx || hx.kind === 'none') return null;
  const lstm = layer.type === 'LSTM';
  const parts = lstm ? (hx.kind === 'seq' && hx.items.length === 2 ? hx.items : null) : [hx];
  if (!parts) return refuseArg(layer, call, 'hx', 'must be a pair (h_0, c_0) for an LSTM');
  return parts.map((p, k) => {
    // Messages name the part of the pair at fault: "hx on line 9 holds c_0 of shape …".
    const what = lstm ? `holds ${k === 0 ? 'h_0' : 'c_0'}` : 'is';
    if (p.kind !== 'tensor' || !p.irName) return refuseArg(layer, call, 'hx', `${what} ${p.kind === 'tensor' ? 'a tensor Layerscope could not build in the graph' : `a ${p.kind}`}, so the call cannot be converted to ONNX`);
    const want = batched ? [stacked, batch, sizes[k]] : [stacked, sizes[k]];
    const dims = knownDims(p.shape);
    if (!dims || dims.length !== want.length || dims.some((d, i) => d !== want[i])) {
      refuseArg(layer, call, 'hx', `${what} of shape ${p.shape ? p.shape.map((d) => d ?? '?').join('×') : 'unknown'}; PyTorch needs ${want.join('×')}`);
    }
    if (ctx.dtypeOf(p.irName) !== 'float32') refuseArg(layer, call, 'hx', `${what} of type ${ctx.dtypeOf(p.irName) ?? 'unknown'}; it must be float32`);
    return batched ? p.irName : ctx.node('Unsqueeze', [p.irName, ctx.constant([1], 'int64')], {}, layer);
  });
}

/**
 * The layer's output sequence, (seq, batch, features) or (batch, seq, features) with batch_first. An unbatched input
 * (seq, features) is, as in PyTorch, a batch of one in the batch dim that batch_first names.
 */
export function lowerRecurrent(ctx: LoweringContext, layer: LayerValue, call: LayerCall, input: ShapedTensor): string {
  const a = layer.args;
  const type = layer.type;
  const proj = intOf(a.get('proj_size'), 0);
  if (proj > 0 && type !== 'LSTM') throw new UserInputError(`${where(layer)}: proj_size is only supported by LSTM`);
  const dims = knownDims(input.shape);
  if (!dims || (dims.length !== 3 && dims.length !== 2)) throw new UserInputError(`${where(layer)}: a 3-d input (or a 2-d unbatched one) of known shape is needed to convert it to ONNX`);
  const batched = dims.length === 3;
  const batchFirst = boolOf(a.get('batch_first'), false);
  const batchAxis = batchFirst ? 0 : 1;
  const shape = batched ? dims : [...dims.slice(0, batchAxis), 1, ...dims.slice(batchAxis)];
  const hidden = intOf(a.get('hidden_size'), 0);
  const bound = 1 / Math.sqrt(hidden);
  const r: Recurrence = {
    type,
    hidden,
    proj,
    bias: boolOf(a.get('bias'), true),
    dirs: boolOf(a.get('bidirectional'), false) ? 2 : 1,
    seqLen: batchFirst ? shape[1] : shape[0],
    batch: batchFirst ? shape[0] : shape[1],
    draw: (rows, cols) => {
      const v = new Float32Array(rows * cols);
      for (let k = 0; k < v.length; k++) v[k] = ctx.init === 'zeros' ? 0 : (ctx.rng.uniform() * 2 - 1) * bound;
      return v;
    },
  };
  const layers = intOf(a.get('num_layers'), 1);
  const outSize = (proj > 0 ? proj : hidden) * r.dirs;
  const states = initialStates(ctx, layer, call, layers * r.dirs, r.batch, [proj > 0 ? proj : hidden, hidden], batched);
  // Each layer reads its own directions' rows of the stacked states.
  const perLayer = states?.map((t) => (layers === 1 ? [t] : ctx.split(t, Array<number>(layers).fill(r.dirs), 0, layer)));
  const x = batched ? input.irName! : ctx.node('Unsqueeze', [input.irName!, ctx.constant([batchAxis], 'int64')], {}, layer);
  let seq = batchFirst ? ctx.node('Transpose', [x], { perm: [1, 0, 2] }, layer) : x;
  for (let l = 0; l < layers; l++) {
    const inSize = l === 0 ? intOf(a.get('input_size'), 0) : outSize;
    const state: LayerState | null = perLayer ? { h: perLayer[0][l], ...(perLayer[1] ? { c: perLayer[1][l] } : {}) } : null;
    seq = proj > 0 ? projectedLayer(ctx, layer, r, seq, l, inSize, state) : onnxLayer(ctx, layer, r, seq, l, inSize, state);
  }
  const y = batchFirst ? ctx.node('Transpose', [seq], { perm: [1, 0, 2] }, layer) : seq;
  return batched ? y : ctx.node('Squeeze', [y, ctx.constant([batchAxis], 'int64')], {}, layer);
}
