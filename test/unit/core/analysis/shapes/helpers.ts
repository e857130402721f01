import { GraphBuilder, type AttributeInput } from '../../../../../src/core/ir/builder';
import type { DataType, Shape, TensorType } from '../../../../../src/core/ir/types';
import type { AnalysisWarning, ConstValue } from '../../../../../src/core/analysis/types';
import { inferShapes } from '../../../../../src/core/analysis/shapes/index';

/** One input of a single-node test graph: a graph input with a shape, or an initializer when values are given. */
export interface TestInput {
  shape: Shape;
  dtype?: DataType;
  values?: number[];
}

export function t(shape: Shape, dtype: DataType = 'float32'): TestInput {
  return { shape, dtype };
}

/** A constant (initializer) input; a scalar when `dims` is []. */
export function c(values: number[], dtype: DataType = 'int64', dims?: number[]): TestInput {
  return { shape: dims ?? [values.length], dtype, values };
}

export interface SingleResult {
  types: Array<TensorType | undefined>;
  values: Array<ConstValue | undefined>;
  warnings: AnalysisWarning[];
}

/** Infers one node with the given inputs (null = omitted optional input). */
export function inferOne(
  op: string,
  inputs: Array<TestInput | null>,
  attrs: Record<string, AttributeInput> = {},
  options: { opset?: number; outputs?: number; domain?: string } = {},
): SingleResult {
  const b = new GraphBuilder('test');
  const names = inputs.map((inp, i) => {
    if (!inp) return '';
    if (inp.values) return b.initializer(`c${i}`, inp.dtype ?? 'int64', inp.shape as number[], inp.values);
    return b.input(`x${i}`, inp.dtype ?? 'float32', inp.shape);
  });
  const outs = b.node(op, names, attrs, { outputs: options.outputs ?? 1, domain: options.domain });
  const model = b.model(options.opset ?? 17);
  const r = inferShapes(model);
  return { types: outs.map((o) => r.types.get(o)), values: outs.map((o) => r.constants.get(o)), warnings: r.warnings };
}

/** The first output's shape, for the common case. */
export function shapeOf(
  op: string,
  inputs: Array<TestInput | null>,
  attrs: Record<string, AttributeInput> = {},
  options: { opset?: number; outputs?: number; domain?: string } = {},
): Shape | undefined {
  return inferOne(op, inputs, attrs, options).types[0]?.shape;
}
