import { getInt, getInts, getString } from '../ir/attributes';
import { spatialRole } from '../ir/opCatalogue';
import type { Dim, Graph, Node, TensorType } from '../ir/types';
import type { AnalysisWarning, ConstValue, PerNode, ReceptiveField } from './types';

/**
 * Receptive fields with the recurrence of Araujo, Norris and Sim, "Computing Receptive Fields of Convolutional
 * Neural Networks" (Distill, 2019), applied forward through the graph, per spatial axis (1-D, 2-D and 3-D).
 *
 * For every value we track, per axis, three numbers in input-pixel units:
 * - `size` r: how many input positions one output unit sees;
 * - `stride` j: the distance in the input between neighbouring output units (the paper's effective stride);
 * - `start`: the centre of output unit 0's field in input coordinates. The paper's own u is the left edge of that
 *   field, which is negative whenever there is padding (-3 for ResNet's 7×7/2 conv1 with padding 3). The centre
 *   (u + (r - 1) / 2, which is 0 for that conv1) is what docs/json-contract.md example shows, it does not depend on
 *   the field's size, and it is what tells two paths apart when they are merged, so Layerscope reports the centre.
 *   Unit k's field is centred at start + k × stride and spans size positions; it can be fractional (a 2×2 pool).
 *
 * A window op (Conv, pooling) with kernel k, dilation d, stride s and leading padding p updates them as
 *   k_eff = d (k − 1) + 1,  r ← r + (k_eff − 1) j,  start ← start + ((k_eff − 1) / 2 − p) j,  j ← j s.
 * ceil_mode only adds units at the far end, so it never changes unit 0's field. auto_pad SAME_* pads are derived from
 * the inferred input size as Operators.md defines them; VALID pads nothing.
 *
 * Beyond windows, each value carries where its positions live: an axis holds a field, holds positions that were
 * merged with others ('mixed', after Flatten or Reshape), or holds none (batch, channels, features). A node is
 * `global` once it combines every position: global pooling, a reduction or softmax over a position axis, a Gemm or
 * MatMul that contracts over one (Flatten then Linear), or a product of two data tensors that carry positions
 * (attention's QKᵀ and AV). Elementwise ops and normalisation pass fields through; the statistics of Instance or
 * Group normalisation are not counted as a receptive field, as the paper's treatment also ignores them. Several
 * inputs (Add, Mul, Concat) keep the largest field and warn when the paths disagree on stride or centre; a global
 * per-channel gate (squeeze-and-excitation's [N, C, 1, 1] scale) leaves the other path's field in place.
 *
 * Graph inputs of rank 4 or 5 are images or volumes whose axes 2.. are spatial. A rank-3 input could be [N, C, L] or
 * [N, T, C]; it starts as 'positions somewhere' and becomes [N, C, L] at its first window op.
 */

export interface AxisField {
  size: number;
  stride: number;
  start: number;
  /**
   * Set where the field depends on the unit (downstream of a stride > 1 ConvTranspose): the exact extents per phase.
   * `size` is then the largest field over the phases, `start` unit 0's centre and `stride` the mean step.
   */
  phases?: Phases;
}

/**
 * Exact fields that repeat with a period: unit i = φ + m·period (0 <= φ < period) reads input positions
 * lo[φ] + m·shift .. hi[φ] + m·shift (inclusive; lo > hi for a unit that reads no input position at all, which a
 * ConvTranspose whose kernel is smaller than its stride produces).
 */
interface Phases {
  period: number;
  shift: number;
  lo: number[];
  hi: number[];
}

export type AxisInfo = AxisField | 'mixed' | null;

/** What a value's positions are: fields per axis, every position (`global`), or positions on axes not yet known. */
export type FieldState =
  | { kind: 'axes'; axes: AxisInfo[] }
  | { kind: 'global' }
  /** Carries positions along some axes that are not yet known (a rank-3 graph input). */
  | { kind: 'origin' };
type State = FieldState;

export interface ReceptiveFieldAnalysis {
  perNode: PerNode<ReceptiveField | null>;
  warnings: AnalysisWarning[];
  /** Every value's state, by name: what a graph built from one part of a larger model hands to the next part. */
  states: ReadonlyMap<string, FieldState>;
}

export interface ReceptiveFieldInputs {
  types: ReadonlyMap<string, TensorType>;
  constants: ReadonlyMap<string, ConstValue>;
  /**
   * States of graph inputs that are not the model's own inputs: a graph of one layer call (core/python/layerFragment)
   * starts from the fields its input already has, instead of from unit fields.
   */
  seeds?: ReadonlyMap<string, FieldState>;
}

export function computeReceptiveFields(graph: Graph, inputs: ReceptiveFieldInputs, order: readonly Node[] = graph.nodes): ReceptiveFieldAnalysis {
  return new ReceptiveFieldWalker(graph, inputs).run(order);
}

class ReceptiveFieldWalker {
  private readonly states = new Map<string, State>();
  private readonly warnings: AnalysisWarning[] = [];
  private readonly perNode: PerNode<ReceptiveField | null> = new Map();

  constructor(
    private readonly graph: Graph,
    private readonly info: ReceptiveFieldInputs,
  ) {}

  run(order: readonly Node[]): ReceptiveFieldAnalysis {
    const initializers = new Set(this.graph.initializers.map((t) => t.name));
    for (const input of this.graph.inputs) {
      if (initializers.has(input.name)) continue;
      const seed = this.info.seeds?.get(input.name);
      if (seed) {
        this.states.set(input.name, seed);
        continue;
      }
      const declared = input.type && input.type.kind === 'tensor' ? input.type.tensor : undefined;
      const type = this.info.types.get(input.name) ?? declared;
      const rank = type?.shape ? type.shape.length : undefined;
      const isFloat = type !== undefined && /^(float|bfloat)/.test(type.dtype);
      if (isFloat && (rank === 4 || rank === 5)) {
        this.states.set(input.name, { kind: 'axes', axes: [null, null, ...Array.from({ length: rank - 2 }, unitField)] });
      } else if (rank === undefined || rank >= 3 || (!isFloat && rank >= 2)) {
        // A rank-3 tensor ([N, C, L] or [N, T, C]) or token ids ([N, T] integers) carry positions along an axis that
        // later ops reveal. Rank-2 float inputs are feature vectors and carry none.
        this.states.set(input.name, { kind: 'origin' });
      }
    }
    for (const node of order) {
      let out: (State | undefined)[];
      try {
        out = this.visit(node);
      } catch {
        // A malformed attribute must not stop the summary; the node simply has no field.
        out = [];
      }
      node.outputs.forEach((name, i) => {
        const s = out.length === 1 ? out[0] : out[i];
        if (name !== '' && s) this.states.set(name, s);
      });
      this.perNode.set(node, this.report(out[0], node.outputs[0]));
    }
    return { perNode: this.perNode, warnings: this.warnings, states: this.states };
  }

  /** What the contract reports for a node: a field when the output is [N, C, spatial...] with known fields. */
  private report(state: State | undefined, output: string | undefined): ReceptiveField | null {
    if (!state) return null;
    if (state.kind === 'global') return { global: true };
    if (state.kind === 'origin') return null;
    const axes = state.axes;
    if (axes.length < 3 || axes.length > 5 || axes[0] !== null || axes[1] !== null) return null;
    const spatial = axes.slice(2);
    if (!spatial.every(isField)) return null;
    // An output whose known shape has a different rank than the tracked axes is not trustworthy; say nothing.
    const shape = output ? this.info.types.get(output)?.shape : undefined;
    if (shape && shape.length !== axes.length) return null;
    const fields = spatial as AxisField[];
    const sizes = fields.map((f) => (f.phases ? phaseSizes(f.phases) : [round(f.size)]));
    return {
      ...reportedFields(fields),
      start: fields.map((f) => round(f.start)),
      global: false,
      ...(sizes.some((list) => list.length > 1) ? { sizes } : {}),
    };
  }

  private state(name: string | undefined): State | undefined {
    return name ? this.states.get(name) : undefined;
  }

  private visit(node: Node): (State | undefined)[] {
    if (node.domain !== '' && node.domain !== 'ai.onnx' && node.domain !== 'com.microsoft') return [this.generic(node)];
    const op = node.opType;
    const role = spatialRole(op);
    if (role === 'metadata') return [undefined];
    const dataStates = node.inputs.map((n) => this.state(n));
    // Elementwise ops decide for themselves: a global per-channel gate does not make a local field global.
    const merges = role === 'pass-through' || op === 'Concat';
    if (!merges && dataStates.some((s) => s?.kind === 'global')) return [{ kind: 'global' }];
    if (dataStates.every((s) => s === undefined)) return [undefined];

    if (role === 'window') return [this.window(node)];
    if (role === 'global' || role === 'sequence') return [{ kind: 'global' }];
    if (role === 'reduce') return [this.reduce(node)];
    if (role === 'axis-mixing') return [this.axisMixing(node)];
    switch (op) {
      case 'Gemm':
        return [this.gemm(node)];
      case 'MatMul':
      case 'MatMulInteger':
        return [this.matmul(node)];
      case 'Einsum':
        return [this.einsum(node)];
      case 'Flatten':
        return [this.flatten(node)];
      case 'Reshape':
        return [this.reshape(node)];
      case 'Transpose':
        return [this.transpose(node)];
      case 'Squeeze':
        return [this.squeeze(node)];
      case 'Unsqueeze':
        return [this.unsqueeze(node)];
      case 'Concat':
        return [this.merge(node, node.inputs)];
      case 'Split':
        return [this.state(node.inputs[0])];
      case 'Slice':
        return [this.slice(node)];
      case 'Pad':
        return [this.pad(node)];
      case 'Gather':
        return [this.gather(node)];
      case 'Resize':
      case 'Upsample':
        return [this.resize(node)];
      case 'DepthToSpace':
      case 'SpaceToDepth':
        return [this.mixedLike(this.state(node.inputs[0]))];
      default:
        if (role === 'pass-through') return [this.merge(node, node.inputs)];
        return [this.generic(node)];
    }
  }

  /** Unknown ops: a single data input whose shape the output keeps passes through; anything else has no field. */
  private generic(node: Node): State | undefined {
    const data = node.inputs.filter((n) => this.state(n) !== undefined);
    if (data.length !== 1) return undefined;
    const inShape = this.info.types.get(data[0])?.shape;
    const outShape = node.outputs[0] ? this.info.types.get(node.outputs[0])?.shape : undefined;
    if (inShape && outShape && sameShape(inShape, outShape)) return this.state(data[0]);
    return undefined;
  }

  private window(node: Node): State | undefined {
    const x = node.inputs[0];
    let s = this.state(x);
    if (!s) return undefined;
    const kernel = this.kernelShape(node);
    if (!kernel) return undefined;
    const k = kernel.length;
    if (s.kind === 'origin') s = { kind: 'axes', axes: [null, null, ...Array.from({ length: k }, unitField)] };
    if (s.kind !== 'axes') return s;
    if (s.axes.length !== k + 2) return this.mixedLike(s);
    // Convolutions mix every input channel; if the channel axis holds positions, every output sees all of them.
    const isConv = node.opType.includes('Conv');
    if (isConv && s.axes[1] !== null) return { kind: 'global' };
    const spatial = s.axes.slice(2);
    if (!spatial.every(isField)) return this.mixedLike(s);

    const strides = getInts(node, 'strides') ?? new Array<number>(k).fill(1);
    const dilations = getInts(node, 'dilations') ?? new Array<number>(k).fill(1);
    const pads = this.beginPads(node, kernel, strides, dilations);
    const transposed = node.opType === 'ConvTranspose';
    const fields = (spatial as AxisField[]).map((f, i) => windowField(f, kernel[i], dilations[i] ?? 1, strides[i] ?? 1, pads[i], transposed));
    return { kind: 'axes', axes: [s.axes[0], isConv ? null : s.axes[1], ...fields] };
  }

  private kernelShape(node: Node): number[] | undefined {
    const attr = getInts(node, 'kernel_shape');
    if (attr) return attr;
    const wName = node.opType === 'QLinearConv' ? node.inputs[3] : node.inputs[1];
    const w = wName ? this.info.types.get(wName)?.shape : undefined;
    if (w && w.length >= 3 && w.slice(2).every((d) => typeof d === 'number')) return w.slice(2) as number[];
    return undefined;
  }

  /** Leading pads per spatial axis, from `pads` or from auto_pad as Operators.md defines SAME_UPPER/SAME_LOWER. */
  private beginPads(node: Node, kernel: number[], strides: number[], dilations: number[]): number[] {
    const k = kernel.length;
    const autoPad = getString(node, 'auto_pad', 'NOTSET');
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const x = this.info.types.get(node.inputs[0])?.shape;
      return kernel.map((kk, i) => {
        const kEff = (dilations[i] ?? 1) * (kk - 1) + 1;
        const s = strides[i] ?? 1;
        const size = x ? x[i + 2] : null;
        let total: number;
        if (node.opType === 'ConvTranspose') {
          total = Math.max(0, kEff - s);
        } else if (typeof size === 'number') {
          total = Math.max(0, (Math.ceil(size / s) - 1) * s + kEff - size);
        } else {
          // Without the input size, stride-1 padding is still k_eff − 1; for larger strides it is a best guess.
          total = kEff - 1;
          if (s > 1) {
            this.warnings.push({
              code: 'receptive-field-approximate',
              node: node.name,
              message: `receptive field of '${node.name || node.opType}' assumes ${autoPad} padding of ${Math.floor(total / 2)} because its input size is unknown`,
            });
          }
        }
        return autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
      });
    }
    if (autoPad === 'VALID') return new Array<number>(k).fill(0);
    const pads = getInts(node, 'pads');
    return Array.from({ length: k }, (_, i) => pads?.[i] ?? 0);
  }

  private reduce(node: Node): State | undefined {
    const s = this.state(node.inputs[0]);
    if (!s || s.kind !== 'axes') return s;
    const rank = s.axes.length;
    let axes = getInts(node, 'axes') ?? this.constInts(node.inputs[1]);
    if (!axes || axes.length === 0) {
      const noop = getInt(node, 'noop_with_empty_axes', 0) === 1;
      if (noop) return s;
      axes = s.axes.map((_, i) => i);
    }
    const normalised = axes.map((a) => (a < 0 ? a + rank : a));
    if (normalised.some((a) => s.axes[a] !== null && s.axes[a] !== undefined)) return { kind: 'global' };
    const keep = getInt(node, 'keepdims', 1) === 1;
    return { kind: 'axes', axes: keep ? s.axes : s.axes.filter((_, i) => !normalised.includes(i)) };
  }

  private axisMixing(node: Node): State | undefined {
    const s = this.state(node.inputs[0]);
    if (!s || s.kind !== 'axes') return s;
    const rank = s.axes.length;
    const opset13 = node.opType === 'TopK' || node.opType === 'CumSum' || node.opType.startsWith('Arg');
    let axis = node.opType === 'CumSum' ? this.constInts(node.inputs[1])?.[0] : getInt(node, 'axis');
    if (axis === undefined) axis = opset13 ? (node.opType === 'TopK' ? -1 : 0) : -1;
    if (axis < 0) axis += rank;
    if (s.axes[axis] !== null && s.axes[axis] !== undefined) return { kind: 'global' };
    if (node.opType.startsWith('Arg') && getInt(node, 'keepdims', 1) === 0) {
      return { kind: 'axes', axes: s.axes.filter((_, i) => i !== axis) };
    }
    return s;
  }

  private gemm(node: Node): State | undefined {
    const a = this.state(node.inputs[0]);
    const b = this.state(node.inputs[1]);
    if (a && b) return hasPositions(a) || hasPositions(b) ? { kind: 'global' } : undefined;
    const transA = getInt(node, 'transA', 0) !== 0;
    const transB = getInt(node, 'transB', 0) !== 0;
    if (a) {
      if (a.kind !== 'axes') return { kind: 'global' };
      const contracted = a.axes[transA ? 0 : 1];
      if (contracted !== null && contracted !== undefined) return { kind: 'global' };
      return { kind: 'axes', axes: [a.axes[transA ? 1 : 0] ?? null, null] };
    }
    if (b) {
      if (b.kind !== 'axes') return { kind: 'global' };
      const contracted = b.axes[transB ? 1 : 0];
      if (contracted !== null && contracted !== undefined) return { kind: 'global' };
      return { kind: 'axes', axes: [null, b.axes[transB ? 0 : 1] ?? null] };
    }
    return undefined;
  }

  private matmul(node: Node): State | undefined {
    const a = this.state(node.inputs[0]);
    const b = this.state(node.inputs[1]);
    if (a && b) return hasPositions(a) || hasPositions(b) ? { kind: 'global' } : undefined;
    const outRank = this.info.types.get(node.outputs[0])?.shape?.length;
    if (a) {
      if (a.kind !== 'axes') return a;
      const last = a.axes[a.axes.length - 1];
      if (last !== null && last !== undefined) return { kind: 'global' };
      return { kind: 'axes', axes: padLeft(a.axes, outRank) };
    }
    if (b) {
      if (b.kind !== 'axes') return b;
      if (b.axes.length < 2) return undefined;
      const k = b.axes[b.axes.length - 2];
      if (k !== null && k !== undefined) return { kind: 'global' };
      return { kind: 'axes', axes: padLeft(b.axes, outRank) };
    }
    return undefined;
  }

  private einsum(node: Node): State | undefined {
    const data = node.inputs.map((n) => this.state(n)).filter((s): s is State => s !== undefined);
    if (data.length >= 2 && data.some(hasPositions)) return { kind: 'global' };
    return this.generic(node);
  }

  private flatten(node: Node): State | undefined {
    const s = this.state(node.inputs[0]);
    if (!s || s.kind !== 'axes') return s;
    const rank = s.axes.length;
    let axis = getInt(node, 'axis', 1);
    if (axis < 0) axis += rank;
    return { kind: 'axes', axes: [mergeGroup(s.axes.slice(0, axis)), mergeGroup(s.axes.slice(axis))] };
  }

  private reshape(node: Node): State | undefined {
    const s = this.state(node.inputs[0]);
    if (!s || s.kind !== 'axes') return s;
    const inShape = knownDims(this.info.types.get(node.inputs[0])?.shape);
    const outShape = knownDims(this.info.types.get(node.outputs[0])?.shape);
    if (inShape && outShape && inShape.length === s.axes.length) {
      const mapped = mapReshape(s.axes, inShape, outShape);
      if (mapped) return { kind: 'axes', axes: mapped };
    }
    const outRank = this.info.types.get(node.outputs[0])?.shape?.length ?? this.constInts(node.inputs[1])?.length;
    if (outRank === undefined) return this.mixedLike(s);
    const positions = s.axes.some((a) => a !== null);
    return { kind: 'axes', axes: Array.from({ length: outRank }, (_, i) => (i === 0 ? s.axes[0] ?? null : positions ? 'mixed' : null)) };
  }

  private transpose(node: Node): State | undefined {
    const s = this.state(node.inputs[0]);
    if (!s || s.kind !== 'axes') return s;
    const perm = getInts(node, 'perm') ?? s.axes.map((_, i) => s.axes.length - 1 - i);
    if (perm.length !== s.axes.length) return this.mixedLike(s);
    return { kind: 'axes', axes: perm.map((p) => s.axes[p] ?? null) };
  }

  private squeeze(node: Node): State | undefined {
    const s = this.state(node.inputs[0]);
    if (!s || s.kind !== 'axes') return s;
    const rank = s.axes.length;
    let axes = getInts(node, 'axes') ?? this.constInts(node.inputs[1]);
    if (!axes) {
      const shape = this.info.types.get(node.inputs[0])?.shape;
      if (!shape) return this.mixedLike(s);
      axes = shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
    }
    const drop = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
    return { kind: 'axes', axes: s.axes.filter((_, i) => !drop.has(i)) };
  }

  private unsqueeze(node: Node): State | undefined {
    const s = this.state(node.inputs[0]);
    if (!s || s.kind !== 'axes') return s;
    const axes = getInts(node, 'axes') ?? this.constInts(node.inputs[1]);
    if (!axes) return this.mixedLike(s);
    const outRank = s.axes.length + axes.length;
    const inserted = new Set(axes.map((a) => (a < 0 ? a + outRank : a)));
    const out: AxisInfo[] = [];
    let j = 0;
    for (let i = 0; i < outRank; i++) out.push(inserted.has(i) ? null : s.axes[j++] ?? null);
    return { kind: 'axes', axes: out };
  }

  private slice(node: Node): State | undefined {
    const s = this.state(node.inputs[0]);
    if (!s || s.kind !== 'axes') return s;
    const rank = s.axes.length;
    const starts = getInts(node, 'starts') ?? this.constInts(node.inputs[1]);
    const axes = getInts(node, 'axes') ?? this.constInts(node.inputs[3]) ?? starts?.map((_, i) => i);
    const steps = this.constInts(node.inputs[4]);
    if (!starts || !axes) return s;
    const out = [...s.axes];
    axes.forEach((a, i) => {
      const axis = a < 0 ? a + rank : a;
      const f = out[axis];
      const begin = starts[i];
      if (!isField(f) || begin === undefined || begin < 0) return;
      const step = steps?.[i] ?? 1;
      if (step < 0) {
        out[axis] = 'mixed';
        return;
      }
      out[axis] = { size: f.size, start: f.start + begin * f.stride, stride: f.stride * step };
    });
    return { kind: 'axes', axes: out };
  }

  private pad(node: Node): State | undefined {
    const s = this.state(node.inputs[0]);
    if (!s || s.kind !== 'axes') return s;
    const rank = s.axes.length;
    const pads = getInts(node, 'pads') ?? this.constInts(node.inputs[1]);
    if (!pads) return s;
    const axesList = this.constInts(node.inputs[3]) ?? s.axes.map((_, i) => i);
    const out = [...s.axes];
    axesList.forEach((a, i) => {
      const axis = a < 0 ? a + rank : a;
      const f = out[axis];
      const before = pads[i] ?? 0;
      if (isField(f)) out[axis] = { ...f, start: f.start - before * f.stride };
    });
    return { kind: 'axes', axes: out };
  }

  private gather(node: Node): State | undefined {
    const data = this.state(node.inputs[0]);
    const indices = this.state(node.inputs[1]);
    const axis0 = getInt(node, 'axis', 0);
    if (!data) {
      // An embedding lookup: positions come from the indices; the gathered rows add a feature axis.
      if (indices && indices.kind === 'axes') return { kind: 'axes', axes: [...indices.axes, null] };
      return indices;
    }
    if (data.kind !== 'axes') return data;
    const rank = data.axes.length;
    const axis = axis0 < 0 ? axis0 + rank : axis0;
    const idxShape = this.info.types.get(node.inputs[1])?.shape ?? this.info.constants.get(node.inputs[1])?.dims;
    if (!idxShape) return this.mixedLike(data);
    const picked = data.axes[axis];
    const replacement: AxisInfo[] = idxShape.map(() => (picked === null || picked === undefined ? null : 'mixed'));
    return { kind: 'axes', axes: [...data.axes.slice(0, axis), ...replacement, ...data.axes.slice(axis + 1)] };
  }

  private resize(node: Node): State | undefined {
    const s = this.state(node.inputs[0]);
    if (!s || s.kind !== 'axes') return s;
    let scales = node.opType === 'Upsample' ? this.constNumbers(node.inputs[1]) ?? getFloatsAttr(node) : this.constNumbers(node.inputs[2]);
    if (!scales || scales.length === 0) {
      const inShape = knownDims(this.info.types.get(node.inputs[0])?.shape);
      const outShape = knownDims(this.info.types.get(node.outputs[0])?.shape);
      if (inShape && outShape && inShape.length === outShape.length) scales = outShape.map((d, i) => d / (inShape[i] || 1));
    }
    if (!scales || scales.length !== s.axes.length) return this.mixedLike(s);
    // Nearest and linear resizing keep output unit 0 over input unit 0; neighbours move 1/scale input units apart.
    return {
      kind: 'axes',
      axes: s.axes.map((f, i) => (isField(f) && scales![i] > 0 ? { ...f, stride: f.stride / scales![i] } : f)),
    };
  }

  /** Several inputs combined position by position: broadcast from the right, keep the largest field, warn on conflicts. */
  private merge(node: Node, names: string[]): State | undefined {
    const all = names.map((n) => this.state(n));
    const hasLocal = all.some((s) => s !== undefined && s.kind !== 'global');
    for (let i = 0; i < names.length; i++) {
      if (all[i]?.kind !== 'global') continue;
      // Squeeze-and-excitation multiplies every position by a per-channel factor computed from the whole input.
      // Strictly that makes the output global, but it would make every layer after the first SE block of an
      // EfficientNet or MobileNetV3 global and hide the field that the convolutions build, so a global input that
      // only broadcasts over the spatial axes (a [N, C, 1, 1] gate) leaves the other path's field in place.
      if (!(hasLocal && this.isChannelGate(names[i], node.outputs[0]))) return { kind: 'global' };
      all[i] = undefined;
    }
    const states = all.filter((s): s is State => s !== undefined);
    if (states.length === 0) return undefined;
    const withAxes = states.filter((s): s is Extract<State, { kind: 'axes' }> => s.kind === 'axes');
    if (withAxes.length === 0) return states[0];
    const rank = Math.max(...withAxes.map((s) => s.axes.length));
    const out: AxisInfo[] = new Array<AxisInfo>(rank).fill(null);
    const conflicts: string[] = [];
    for (const s of withAxes) {
      const offset = rank - s.axes.length;
      s.axes.forEach((a, i) => {
        const axis = i + offset;
        const current = out[axis];
        if (a === null) return;
        if (current === null) out[axis] = a;
        else if (a === 'mixed' || current === 'mixed') out[axis] = 'mixed';
        else {
          if (!near(a.stride, current.stride) || !near(a.start, current.start)) {
            conflicts.push(`axis ${axis}: stride ${round(current.stride)} vs ${round(a.stride)}, centre ${round(current.start)} vs ${round(a.start)}`);
          }
          out[axis] = largerField(current, a);
        }
      });
    }
    if (conflicts.length > 0) {
      this.warnings.push({
        code: 'receptive-field-paths-disagree',
        node: node.name,
        message: `the inputs of ${node.opType} node '${node.name || node.opType}' have different receptive-field grids (${conflicts.join('; ')}); the larger field is reported`,
      });
    }
    return { kind: 'axes', axes: out };
  }

  /** True when `gate` broadcasts over every spatial axis of `output`: its dims there are 1 or absent. */
  private isChannelGate(gate: string, output: string | undefined): boolean {
    const g = this.info.types.get(gate)?.shape;
    const o = output ? this.info.types.get(output)?.shape : undefined;
    if (!g || !o || o.length < 3 || g.length > o.length) return false;
    const offset = o.length - g.length;
    for (let axis = 2; axis < o.length; axis++) {
      const d = axis - offset >= 0 ? g[axis - offset] : 1;
      if (d !== 1) return false;
    }
    return true;
  }

  private mixedLike(s: State | undefined): State | undefined {
    if (!s || s.kind !== 'axes') return s;
    return { kind: 'axes', axes: s.axes.map((a, i) => (i === 0 || a === null ? a : 'mixed')) };
  }

  private constInts(name: string | undefined): number[] | undefined {
    const c = this.constNumbers(name);
    return c && c.every((v) => Number.isFinite(v)) ? c.map((v) => Math.trunc(v)) : c;
  }

  private constNumbers(name: string | undefined): number[] | undefined {
    if (!name) return undefined;
    return this.info.constants.get(name)?.values;
  }
}

function getFloatsAttr(node: Node): number[] | undefined {
  const a = node.attributes.find((x) => x.name === 'scales');
  return a && a.type === 'floats' ? a.value : undefined;
}

/** The input positions unit `i` reads: [lo, hi], inclusive (lo > hi: none). */
function extentOf(f: AxisField, i: number): [number, number] {
  if (f.phases) {
    const { period, shift, lo, hi } = f.phases;
    const phase = ((i % period) + period) % period;
    const m = (i - phase) / period;
    return [lo[phase]! + m * shift, hi[phase]! + m * shift];
  }
  const centre = f.start + i * f.stride;
  const half = (f.size - 1) / 2;
  return [centre - half, centre + half];
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** The distinct field sizes over the phases, ascending (0 for a phase that reads no input). */
function phaseSizes(p: Phases): number[] {
  return [...new Set(p.lo.map((lo, k) => round(Math.max(0, p.hi[k]! - lo + 1))))].sort((a, b) => a - b);
}

/** Phases beyond this are not followed; the field falls back to the averaged recurrence (never hit by real nets). */
const MAX_PERIOD = 4096;

/**
 * A window op applied to a phased field (or a strided ConvTranspose applied to any field), exactly: each output unit
 * of one period gathers the extents of the input units its taps read. A Conv or pool with stride s reads
 * i = o·s − p + t·d, and repeats every period / gcd(period, s) outputs; a ConvTranspose with stride s writes output
 * o = i·s − p + t·d, so output o reads the inputs i = (o + p − t·d) / s that are whole, and repeats every period·s
 * outputs. The result keeps its phases only while they differ from a regular field.
 */
function phasedWindow(f: AxisField, k: number, d: number, s: number, p: number, transposed: boolean): AxisField {
  const period = f.phases?.period ?? 1;
  const shift = f.phases?.shift ?? f.stride;
  const outPeriod = transposed ? period * s : period / gcd(period, s);
  const outShift = transposed ? shift : (shift * outPeriod * s) / period;
  if (outPeriod > MAX_PERIOD) return { size: f.size + (k - 1) * d * f.stride, start: f.start, stride: outShift / outPeriod };
  const lo: number[] = [];
  const hi: number[] = [];
  for (let o = 0; o < outPeriod; o++) {
    let a = Infinity;
    let b = -Infinity;
    for (let t = 0; t < k; t++) {
      let i: number;
      if (transposed) {
        const num = o + p - t * d;
        if (((num % s) + s) % s !== 0) continue;
        i = num / s;
      } else {
        i = o * s - p + t * d;
      }
      const [l, h] = extentOf(f, i);
      if (l > h) continue;
      a = Math.min(a, l);
      b = Math.max(b, h);
    }
    lo.push(a === Infinity ? 0 : a);
    hi.push(a === Infinity ? -1 : b);
  }
  const sizes = lo.map((l, j) => Math.max(0, hi[j]! - l + 1));
  const size = Math.max(...sizes);
  const stride = outShift / outPeriod;
  const start = hi[0]! >= lo[0]! ? (lo[0]! + hi[0]!) / 2 : lo[0]!;
  const regular = sizes.every((z) => z === sizes[0]) && lo.every((l, j) => Math.abs(l - (lo[0]! + j * stride)) < 1e-9);
  return regular ? { size, start, stride } : { size, start, stride, phases: { period: outPeriod, shift: outShift, lo, hi } };
}

/**
 * One axis's field after a window op (Conv, ConvTranspose, pooling) with kernel k, dilation d, stride s and leading
 * padding p, applied to the field `f` of its input.
 */
export function windowField(f: AxisField, k: number, d: number, s: number, p: number, transposed: boolean): AxisField {
  const kEff = d * (k - 1) + 1;
  // Downstream of a strided ConvTranspose the field depends on the unit's phase: follow each phase exactly.
  if (f.phases || (transposed && s > 1)) return phasedWindow(f, k, d, s, p, transposed);
  if (transposed) {
    // Stride 1: output unit 0 gathers k_eff input units centred p − (k_eff − 1) / 2 units from input unit 0.
    return { size: f.size + (kEff - 1) * f.stride, start: f.start + (p - (kEff - 1) / 2) * f.stride, stride: f.stride };
  }
  return { size: f.size + (kEff - 1) * f.stride, start: f.start + ((kEff - 1) / 2 - p) * f.stride, stride: f.stride * s };
}

/** Two paths combined position by position keep the larger field (the first on a tie). */
export function largerField(a: AxisField, b: AxisField): AxisField {
  return b.size > a.size ? b : a;
}

/** The size and stride the contract reports for fields (rounded as `report` rounds them). */
export function reportedFields(fields: readonly AxisField[]): { size: number[]; stride: number[] } {
  return { size: fields.map((f) => round(f.size)), stride: fields.map((f) => round(f.stride)) };
}

export function unitField(): AxisField {
  return { size: 1, stride: 1, start: 0 };
}

function isField(a: AxisInfo | undefined): a is AxisField {
  return a !== null && a !== undefined && a !== 'mixed';
}

function hasPositions(s: State): boolean {
  return s.kind !== 'axes' || s.axes.some((a) => a !== null);
}

function mergeGroup(axes: AxisInfo[]): AxisInfo {
  if (axes.length === 1) return axes[0];
  return axes.some((a) => a !== null) ? 'mixed' : null;
}

function padLeft(axes: AxisInfo[], rank: number | undefined): AxisInfo[] {
  const last = [...axes.slice(0, -1), null];
  if (rank === undefined || rank <= last.length) return last;
  return [...new Array<AxisInfo>(rank - last.length).fill(null), ...last];
}

/**
 * Maps axis information through a reshape by grouping input and output dims whose products match. One-to-one groups
 * keep their information; merged or split groups that held positions become 'mixed'. Returns undefined when the
 * products do not line up.
 */
export function mapReshape(axes: AxisInfo[], inShape: number[], outShape: number[]): AxisInfo[] | undefined {
  const out: AxisInfo[] = new Array<AxisInfo>(outShape.length).fill(null);
  let i = 0;
  let j = 0;
  while (i < inShape.length && j < outShape.length) {
    const i0 = i;
    const j0 = j;
    let pi = inShape[i++];
    let pj = outShape[j++];
    while (pi !== pj) {
      if (pi < pj) {
        if (i >= inShape.length) return undefined;
        pi *= inShape[i++];
      } else {
        if (j >= outShape.length) return undefined;
        pj *= outShape[j++];
      }
    }
    const group = axes.slice(i0, i);
    if (i - i0 === 1 && j - j0 === 1) out[j0] = group[0];
    else {
      const positions = group.some((a) => a !== null);
      for (let k = j0; k < j; k++) out[k] = positions && outShape[k] !== 1 ? 'mixed' : null;
    }
  }
  // Leftover axes can only be 1s; they carry nothing.
  return out;
}

function knownDims(shape: readonly Dim[] | null | undefined): number[] | undefined {
  if (!shape) return undefined;
  return shape.every((d) => typeof d === 'number' && d >= 0) ? (shape as number[]) : undefined;
}

function sameShape(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i] && d !== null);
}

function near(a: number, b: number): boolean {
  return Math.abs(a - b) < 1e-9;
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
