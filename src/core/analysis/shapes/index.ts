import type { ShapeInferenceOptions, ShapeInferenceResult } from '../types';
import type { Model } from '../../ir/types';
import { inferGraphShapes } from './inferGraph';

/**
 * Static, symbolic shape inference: the types of every value in a model's top-level graph, the values of its small
 * constant tensors (folded shape arithmetic included), and warnings for whatever could not be understood. It never
 * throws on a model that was read successfully.
 */
export function inferShapes(model: Model, options: ShapeInferenceOptions = {}): ShapeInferenceResult {
  return inferGraphShapes(model.graph, model.opsetImports, { ...options, functions: model.functions });
}

export { inferGraphShapes, type InferGraphOptions } from './inferGraph';
export { shapeRules, microsoftShapeRules, trainingShapeRules } from './registry';
export type { ShapeRule, ShapeRuleContext } from './ruleContext';
export type { PartialValue } from './partialValue';
export { broadcastShapes, dimPerUnit, dimProduct, dimSymbols, formatShape } from './dims';
export { windowOutputDim } from './convPoolRules';
export { matmulShape, einsumShape } from './linalgRules';
