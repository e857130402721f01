import { byteSize } from '../ir/dtypes';
import type { Dim, Graph, TensorType } from '../ir/types';
import type { MemoryEstimate, PerNode } from './types';

/**
 * Activation memory per node and the torchinfo-style estimate.
 *
 * A node's activation bytes are the bytes of its outputs whose shapes are fully known; a symbolic or unknown dim makes
 * that output count 0 rather than a guess (the summary warns once when that happens). The estimate follows torchinfo:
 * input size, forward/backward pass size (every activation twice, once for the value and once for its gradient),
 * params size, and their sum.
 */

type Shapes = ReadonlyMap<string, TensorType>;

export interface ActivationAnalysis {
  perNode: PerNode<number>;
  total: number;
  /** Node outputs whose size could not be computed. */
  unknownOutputs: number;
}

/** Bytes of a tensor of this type, or undefined when a dim is not a known number. */
export function tensorBytes(type: TensorType | undefined): number | undefined {
  if (!type || !type.shape) return undefined;
  const n = knownElementCount(type.shape);
  return n === undefined ? undefined : byteSize(type.dtype, n);
}

export function knownElementCount(shape: readonly Dim[]): number | undefined {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || d < 0) return undefined;
    n *= d;
  }
  return n;
}

/** Ops whose outputs are metadata or constants rather than activations a forward pass keeps. */
const NOT_ACTIVATIONS: ReadonlySet<string> = new Set(['Constant', 'Shape', 'Size', 'ConstantOfShape']);

export function activationBytes(graph: Graph, shapes: Shapes): ActivationAnalysis {
  const perNode: PerNode<number> = new Map();
  let total = 0;
  let unknownOutputs = 0;
  for (const node of graph.nodes) {
    let bytes = 0;
    if (!(node.domain === '' && NOT_ACTIVATIONS.has(node.opType))) {
      for (const out of node.outputs) {
        if (out === '') continue;
        const b = tensorBytes(shapes.get(out));
        if (b === undefined) unknownOutputs++;
        else bytes += b;
      }
    }
    perNode.set(node, bytes);
    total += bytes;
  }
  return { perNode, total, unknownOutputs };
}

/** The torchinfo-style estimate from the graph inputs' sizes, the activations and the parameter bytes. */
export function estimateMemory(
  graph: Graph,
  shapes: Shapes,
  activationTotal: number,
  paramBytes: number,
  paramBytesByDtype: Record<string, number>,
): MemoryEstimate {
  const initializers = new Set(graph.initializers.map((t) => t.name));
  let inputBytes = 0;
  for (const input of graph.inputs) {
    // Old exporters list initializers among the inputs; those are parameters, not inputs.
    if (initializers.has(input.name)) continue;
    const declared = input.type && input.type.kind === 'tensor' ? input.type.tensor : undefined;
    inputBytes += tensorBytes(shapes.get(input.name) ?? declared) ?? 0;
  }
  const forwardBackwardBytes = 2 * activationTotal;
  return {
    inputBytes,
    forwardBackwardBytes,
    paramBytes,
    estimatedTotalBytes: inputBytes + forwardBackwardBytes + paramBytes,
    paramBytesByDtype: { ...paramBytesByDtype },
  };
}
