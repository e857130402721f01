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
 * The "receptive fields grow over depth" series: every convolution or pooling layer with a spatial field, in model
 * order. Activations and normalisations are left out because they never change the field.
 */
export function depthSeries(layers: readonly LayerSummary[]): DepthPoint[] {
  const points: DepthPoint[] = [];
  layers.forEach((layer, layerIndex) => {
    const rf = layer.receptiveField;
    if (!rf || rf.global) return;
    const family = opFamily(layer.op);
    if (family !== 'conv' && family !== 'pool') return;
    points.push({ depth: points.length + 1, layerIndex, name: layer.name, op: layer.op, size: Math.max(...rf.size) });
  });
  return points;
}
