import { UserInputError } from '../errors';
import type { AttributeInput } from '../ir/builder';
import type { DataType, Dim } from '../ir/types';
import type { SeededRandom } from '../stats/random';
import type { LayerCall } from './trace';
import type { ShapedTensor } from './layerShapes';
import type { LayerValue, SourceRange, Value } from './values';

/**
 * What the lowering of one layer needs from the lowerer (lower.ts), so that the layers with long lowerings
 * (recurrent, transformer, normalisation, embedding) can live in their own files without reaching into its state.
 */

export type InitScheme = 'pytorch' | 'normal' | 'xavier' | 'he' | 'zeros';

/**
 * How a weight from `param` is drawn: 'weight' and 'bias' follow the chosen scheme (PyTorch's default is uniform),
 * 'ones' and 'zeros' are the fixed starts of normalisation layers whatever the scheme, 'embedding' is N(0, 1) by
 * PyTorch's default.
 */
export type ParamKind = 'weight' | 'bias' | 'ones' | 'zeros' | 'embedding';

export interface LoweringContext {
  readonly init: InitScheme;
  /** The one seeded generator every weight is drawn from, so that a seed reproduces the whole model. */
  readonly rng: SeededRandom;
  /** Adds a node attributed to the layer's source line (or to `range` for functional calls); returns its output. */
  node(op: string, inputs: string[], attrs: Record<string, AttributeInput>, layer: LayerValue | null, range?: SourceRange): string;
  /** Splits `x` along `axis` into pieces of the given sizes, attributed to the layer. */
  split(x: string, sizes: number[], axis: number, layer: LayerValue): string[];
  constant(values: number[], dtype: ConstantType, dims?: number[]): string;
  /** The element type of a value the lowering made, or undefined for one it did not. */
  dtypeOf(value: string): DataType | undefined;
  /** A weight of the layer under PyTorch's state-dict name `key`, created once per layer object so that a module called twice shares it. */
  param(layer: LayerValue, key: string, dims: number[], fanIn: number, kind: ParamKind, bound?: number): string;
  /** A weight of a sub-module the source does not spell out, drawn by `fill` (zero under the 'zeros' scheme). */
  named(layer: LayerValue, key: string, dims: number[], fill: () => number): string;
  /**
   * A weight of the layer under `key` whose values `draw` makes (recurrent weights, drawn in PyTorch's layout first),
   * created once per layer object like `param`.
   */
  layerTensor(layer: LayerValue, key: string, dims: number[], draw: () => Float32Array): string;
  /** The values of an initializer made here, for layers that adjust a weight after drawing it as PyTorch does. */
  weightValues(name: string): Float32Array;
  /** PyTorch's exact GELU, 0.5·x·(1 + erf(x/√2)). */
  gelu(x: string, layer: LayerValue | null, range?: SourceRange): string;
  /** Reshapes to a shape the analysis knows in full; throws naming the layer when it does not. */
  reshapeTo(x: string, shape: Dim[] | null, layer: LayerValue | null, range?: SourceRange): string;
}

/** The element types the lowering makes constants of. */
export type ConstantType = 'int64' | 'float32' | 'bool';

export function intOf(v: Value | undefined, fallback: number): number {
  return v && v.kind === 'num' ? v.value : v && v.kind === 'bool' ? (v.value ? 1 : 0) : fallback;
}

export function boolOf(v: Value | undefined, fallback: boolean): boolean {
  return v && v.kind === 'bool' ? v.value : v && v.kind === 'num' ? v.value !== 0 : fallback;
}

export function floatOf(v: Value | undefined, fallback: number): number {
  return v && v.kind === 'num' ? v.value : fallback;
}

/** How errors name a layer: its module path (or class) and its line, which is what the user can find in the source. */
export function where(layer: LayerValue): string {
  return `${layer.path ?? layer.type} (nn.${layer.type}, line ${layer.range.line + 1})`;
}

/** Static dims of a tensor, or null when the analysis does not know all of them. */
export function knownDims(shape: Dim[] | null | undefined): number[] | null {
  return shape && shape.every((d) => typeof d === 'number') ? (shape as number[]) : null;
}

/** Refuses one argument of a layer call, naming the layer, the argument and the line of the call, in one line. */
export function refuseArg(layer: LayerValue, call: LayerCall, name: string, why: string): never {
  throw new UserInputError(`${where(layer)}: ${name} on line ${call.range.line + 1} ${why}`);
}

/** The tensor a layer call passes as `name`, or null for None; refuses anything that is not a tensor in the graph. */
export function tensorArg(layer: LayerValue, call: LayerCall, name: string): ShapedTensor | null {
  const v = call.args.get(name);
  if (!v || v.kind === 'none') return null;
  if (v.kind === 'tensor' && v.irName) return v as ShapedTensor;
  if (v.kind === 'tensor') return refuseArg(layer, call, name, 'is a tensor Layerscope could not build in the graph, so the call cannot be converted to ONNX');
  return refuseArg(layer, call, name, `is ${v.kind === 'unknown' ? `not known statically (${v.reason})` : `a ${v.kind}, not a tensor`}, so the call cannot be converted to ONNX`);
}

/** A bool argument of a layer call; refuses one whose value is not known statically. */
export function flagArg(layer: LayerValue, call: LayerCall, name: string): boolean {
  const v = call.args.get(name);
  if (v && (v.kind === 'bool' || v.kind === 'num')) return boolOf(v, false);
  return refuseArg(layer, call, name, `is ${v?.kind === 'unknown' ? `not known statically (${v.reason})` : 'not a bool'}, so the call cannot be converted to ONNX`);
}
