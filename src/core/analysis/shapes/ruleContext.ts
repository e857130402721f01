import type { DataType, Dim, Graph, Node, Shape, TensorType } from '../../ir/types';
import type { PartialValue } from './partialValue';

/**
 * What a shape rule sees of one node: its inputs' inferred types and partially known values, the opset version of
 * its domain, and a way to set each output. Rules are plain functions of this context, so each one can be tested on
 * its own and the registry is just a map from op type to rule.
 */
export interface ShapeRuleContext {
  readonly node: Node;
  /** The opset version of the node's domain, which selects the operator version whose rules apply. */
  readonly opset: number;
  /** Tensors with more elements than this are not folded. */
  readonly maxFoldElements: number;
  /** Inputs as written, including omitted optional ones (empty names). */
  readonly inputCount: number;
  readonly outputCount: number;
  /** Whether input `i` is given (present and not an empty name). */
  has(i: number): boolean;
  /** Whether output `i` is wanted (present and not an empty name). */
  wants(i: number): boolean;
  type(i: number): TensorType | undefined;
  /** The input's dims, or null when its rank is unknown or it is absent. */
  shape(i: number): Dim[] | null;
  /** The input's element type, 'undefined' when unknown. */
  dtype(i: number): DataType;
  value(i: number): PartialValue | undefined;
  /** The input's elements when all are known numbers. */
  ints(i: number): number[] | undefined;
  set(i: number, dtype: DataType, shape: Shape, value?: PartialValue): void;
  warn(code: string, message: string): void;
  /**
   * Infers a subgraph (If branch, Loop or Scan body) that can see this graph's values, with its formal inputs bound
   * to `inputs` where given, and returns the types of its outputs.
   */
  inferSubgraph(graph: Graph, inputs: ReadonlyArray<TensorType | undefined>): Array<TensorType | undefined>;
}

export type ShapeRule = (ctx: ShapeRuleContext) => void;
