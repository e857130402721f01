import { getInt, getString } from '../ir/attributes';
import { countsMacs } from '../ir/opCatalogue';
import type { Dim, Graph, Node, TensorType } from '../ir/types';
import type { AnalysisWarning, PerNode } from './types';

/**
 * Multiply-accumulate counts per node, from inferred shapes.
 *
 * Conventions (the ones torchinfo and the lecture notes use): one MAC is one multiplication added into a sum; biases,
 * activations, normalisation, pooling and every elementwise op count zero. When a shape the formula needs is not
 * known (a symbolic batch, an unknown op upstream), the node counts 0 and a warning says so, because a guessed
 * number would be worse than an admitted gap. Fixing the inputs with --input-shape resolves symbolic dims.
 */

export interface MacAnalysis {
  perNode: PerNode<number>;
  total: number;
  warnings: AnalysisWarning[];
}

type Shapes = ReadonlyMap<string, TensorType>;

export function countMacs(graph: Graph, shapes: Shapes): MacAnalysis {
  const perNode: PerNode<number> = new Map();
  const warnings: AnalysisWarning[] = [];
  let total = 0;
  const unknown: Node[] = [];
  for (const node of graph.nodes) {
    if (node.domain !== '' || !countsMacs(node.opType)) {
      perNode.set(node, 0);
      continue;
    }
    const macs = nodeMacs(node, shapes);
    if (macs === undefined) {
      perNode.set(node, 0);
      unknown.push(node);
    } else {
      perNode.set(node, macs);
      total += macs;
    }
  }
  // One line for all of them: a model with an unknown input size would otherwise print a warning per layer.
  if (unknown.length > 0) {
    const named = unknown.slice(0, 3).map((n) => `${n.opType} '${n.name || n.opType}'`).join(', ');
    const more = unknown.length > 3 ? ` and ${unknown.length - 3} more` : '';
    warnings.push({
      code: 'macs-unknown',
      ...(unknown.length === 1 ? { node: unknown[0].name } : {}),
      message: `MACs of ${named}${more} are unknown because their shapes are not fully known (counted as 0; --input-shape can fix them)`,
    });
  }
  return { perNode, total, warnings };
}

/** MACs of one node, or undefined when a needed shape is not fully known. */
export function nodeMacs(node: Node, shapes: Shapes): number | undefined {
  const shapeOf = (i: number, list: string[] = node.inputs): number[] | undefined =>
    list[i] ? known(shapes.get(list[i])?.shape ?? null) : undefined;
  switch (node.opType) {
    case 'Conv':
    case 'ConvInteger':
    case 'QLinearConv': {
      const out = shapeOf(0, node.outputs);
      const w = shapeOf(node.opType === 'QLinearConv' ? 3 : 1);
      if (!out || !w || w.length < 2) return undefined;
      // W is [Cout, Cin/groups, k...], so Cin/groups times the kernel volume is W's size per output channel.
      return product(out) * product(w.slice(1));
    }
    case 'ConvTranspose': {
      const x = shapeOf(0);
      const w = shapeOf(1);
      if (!x || !w || w.length < 2) return undefined;
      // W is [Cin, Cout/groups, k...]: every input element is scattered into Cout/groups times the kernel volume.
      return product(x) * product(w.slice(1));
    }
    case 'Gemm': {
      const a = shapeOf(0);
      const b = shapeOf(1);
      if (!a || !b || a.length !== 2 || b.length !== 2) return undefined;
      const transA = getInt(node, 'transA', 0) !== 0;
      const transB = getInt(node, 'transB', 0) !== 0;
      const m = transA ? a[1] : a[0];
      const k = transA ? a[0] : a[1];
      const n = transB ? b[0] : b[1];
      return m * k * n;
    }
    case 'MatMul':
    case 'MatMulInteger':
    case 'QLinearMatMul': {
      const a = shapeOf(0);
      const b = shapeOf(node.opType === 'QLinearMatMul' ? 3 : 1);
      if (!a || !b || a.length === 0 || b.length === 0) return undefined;
      return matmulMacs(a, b);
    }
    case 'LSTM':
    case 'GRU':
    case 'RNN': {
      const x = shapeOf(0);
      const w = shapeOf(1);
      if (!x || x.length !== 3) return undefined;
      const hidden = getInt(node, 'hidden_size') ?? (w && w.length === 3 ? w[1] / gateCount(node.opType) : undefined);
      if (hidden === undefined || !Number.isFinite(hidden)) return undefined;
      const layout = getInt(node, 'layout', 0);
      const [seq, batch, input] = layout === 1 ? [x[1], x[0], x[2]] : [x[0], x[1], x[2]];
      const directions = getDirections(node);
      // Per step and direction: X·Wᵀ and H·Rᵀ for every gate (ONNX's equations), elementwise gate math excluded.
      return seq * directions * batch * gateCount(node.opType) * hidden * (input + hidden);
    }
    case 'Einsum': {
      const shapesIn = node.inputs.map((_, i) => shapeOf(i));
      if (shapesIn.some((sh) => sh === undefined)) return undefined;
      return einsumMacs(getString(node, 'equation', ''), shapesIn as number[][]);
    }
    default:
      return 0;
  }
}

/**
 * MACs of a two-operand einsum: every combination of the distinct indices is one multiply-add (`bhqd,bhkd->bhqk`
 * is b·h·q·k·d). One operand only permutes or sums, which counts zero. Undefined when the equation does not match the
 * shapes.
 */
export function einsumMacs(equation: string, shapes: number[][]): number | undefined {
  const lhs = equation.replace(/\s/g, '').split('->')[0];
  const terms = lhs.split(',');
  if (terms.length !== shapes.length) return undefined;
  if (terms.length < 2) return 0;
  const sizes = new Map<string, number>();
  for (let t = 0; t < terms.length; t++) {
    const term = terms[t];
    const shape = shapes[t];
    const letters = term.replace('...', '');
    const ellipsisRank = term.includes('...') ? shape.length - letters.length : 0;
    if (ellipsisRank < 0 || (!term.includes('...') && letters.length !== shape.length)) return undefined;
    let axis = 0;
    for (let i = 0; i < term.length; i++) {
      if (term.startsWith('...', i)) {
        // Ellipsis dims broadcast from the right, so they are labelled by their distance from the ellipsis' end.
        for (let e = 0; e < ellipsisRank; e++) {
          const label = `.${ellipsisRank - e}`;
          sizes.set(label, Math.max(sizes.get(label) ?? 1, shape[axis++]));
        }
        i += 2;
        continue;
      }
      const label = term[i];
      sizes.set(label, Math.max(sizes.get(label) ?? 1, shape[axis++]));
    }
  }
  let macs = 1;
  for (const v of sizes.values()) macs *= v;
  return macs;
}

/** MACs of numpy-style matmul: 1-D operands are promoted, batch dims broadcast. */
export function matmulMacs(a: number[], b: number[]): number {
  const aa = a.length === 1 ? [1, a[0]] : a;
  const bb = b.length === 1 ? [b[0], 1] : b;
  const m = aa[aa.length - 2];
  const k = aa[aa.length - 1];
  const n = bb[bb.length - 1];
  const batchA = aa.slice(0, -2);
  const batchB = bb.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  let batch = 1;
  for (let i = 0; i < rank; i++) {
    const da = batchA[batchA.length - rank + i] ?? 1;
    const db = batchB[batchB.length - rank + i] ?? 1;
    batch *= Math.max(da, db);
  }
  return batch * m * k * n;
}

function gateCount(op: string): number {
  return op === 'LSTM' ? 4 : op === 'GRU' ? 3 : 1;
}

function getDirections(node: Node): number {
  return getString(node, 'direction', 'forward') === 'bidirectional' ? 2 : 1;
}

function known(shape: Dim[] | null): number[] | undefined {
  if (!shape) return undefined;
  const out: number[] = [];
  for (const d of shape) {
    if (typeof d !== 'number' || d < 0) return undefined;
    out.push(d);
  }
  return out;
}

function product(dims: readonly number[]): number {
  let p = 1;
  for (const d of dims) p *= d;
  return p;
}
