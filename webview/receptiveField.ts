import type { LayerSummary, ReceptiveField } from '../src/core/analysis/types';
import type { Dim } from '../src/core/ir/types';
import { opFamily } from '../src/core/ir/opCatalogue';

/**
 * Display math for the receptive-field explorer. The core gives each layer's receptive field as size, stride (the
 * jump between neighbouring output units, in input pixels) and start (the centre of output unit 0's field, in input
 * coordinates; negative or past the edge means it reaches into the padding). Locating one chosen unit's field from
 * those three numbers is arithmetic for drawing, not analysis.
 */

export type SpatialField = Extract<ReceptiveField, { global: false }>;

export interface AxisSpan {
  /** First and last input coordinate covered, inclusive; may lie outside [0, inputSize) in the padding. */
  low: number;
  high: number;
  centre: number;
}

/** The input span of output unit `unit` (one index per spatial axis). */
export function unitSpan(rf: SpatialField, unit: readonly number[]): AxisSpan[] {
  return rf.size.map((size, axis) => {
    const centre = (rf.start[axis] ?? 0) + (unit[axis] ?? 0) * (rf.stride[axis] ?? 1);
    return { low: centre - (size - 1) / 2, high: centre + (size - 1) / 2, centre };
  });
}

/** How much of a span falls in the padding before and after an input of the given size. */
export function paddingOverlap(span: AxisSpan, inputSize: number): { before: number; after: number } {
  return { before: Math.max(0, -span.low), after: Math.max(0, span.high - (inputSize - 1)) };
}

/** The trailing `axes` dimensions of a shape when they are all known numbers, else null. */
export function spatialDims(shape: readonly Dim[] | null | undefined, axes: number): number[] | null {
  if (!shape || shape.length < axes) return null;
  const dims = shape.slice(shape.length - axes);
  return dims.every((d): d is number => typeof d === 'number' && d > 0) ? (dims as number[]) : null;
}

/** Clamps a unit index to the output grid. */
export function clampUnit(unit: readonly number[], outputSize: readonly number[] | null): number[] {
  return unit.map((u, i) => {
    const max = outputSize ? (outputSize[i] ?? 1) - 1 : Number.MAX_SAFE_INTEGER;
    return Math.max(0, Math.min(max, Math.round(u)));
  });
}

/** The output unit whose field is centred nearest an input coordinate, for picking a unit by clicking the input. */
export function unitNearest(rf: SpatialField, point: readonly number[], outputSize: readonly number[] | null): number[] {
  return clampUnit(
    rf.stride.map((stride, axis) => ((point[axis] ?? 0) - (rf.start[axis] ?? 0)) / (stride || 1)),
    outputSize,
  );
}

export interface DepthPoint {
  /** 1-based position among the spatial layers. */
  depth: number;
  layerIndex: number;
  name: string;
  op: string;
  /** The largest side of the receptive field. */
  size: number;
}

/**
 * The "receptive fields grow over depth" series: the convolution and pooling layers on the path that sets the deepest
 * spatial layer's field, in order. The path runs back from that layer through, at each node, the input whose field is
 * largest: where paths merge, the field is the largest of theirs (Araujo et al., "Computing Receptive Fields of
 * Convolutional Neural Networks", 2019). A residual block's 1×1 downsample convolution sees only the block's input, so
 * it is off that path and no longer drawn as a dip. Activations and normalisations never change the field.
 */
export function depthSeries(layers: readonly LayerSummary[]): DepthPoint[] {
  const producer = new Map<string, number>();
  layers.forEach((layer, i) => layer.outputs.forEach((o) => producer.set(o.name, i)));
  const fieldSize = (i: number): number => {
    const rf = layers[i]?.receptiveField;
    return rf && !rf.global ? Math.max(...rf.size) : -1;
  };
  let at = -1;
  for (let i = layers.length - 1; i >= 0 && at < 0; i--) if (fieldSize(i) >= 0) at = i;
  const path: number[] = [];
  const visited = new Set<number>();
  while (at >= 0 && !visited.has(at)) {
    visited.add(at);
    path.push(at);
    let next = -1;
    let best = -1;
    for (const input of layers[at]!.inputs) {
      const p = producer.get(input);
      if (p === undefined) continue;
      const size = fieldSize(p);
      if (size > best || (size === best && p > next)) {
        best = size;
        next = p;
      }
    }
    at = best >= 0 ? next : -1;
  }
  const points: DepthPoint[] = [];
  for (const layerIndex of path.reverse()) {
    const layer = layers[layerIndex]!;
    const family = opFamily(layer.op);
    if (family !== 'conv' && family !== 'pool') continue;
    points.push({ depth: points.length + 1, layerIndex, name: layer.name, op: layer.op, size: fieldSize(layerIndex) });
  }
  return points;
}
