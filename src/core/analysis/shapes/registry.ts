import type { ShapeRule } from './ruleContext';
import { attentionRules } from './attentionRules';
import { constantRules } from './constantRules';
import { controlFlowRules } from './controlFlowRules';
import { convPoolRules } from './convPoolRules';
import { elementwiseRules } from './elementwiseRules';
import { linalgRules } from './linalgRules';
import { lossRules } from './lossRules';
import { microsoftRules } from './microsoftRules';
import { miscRules } from './miscRules';
import { normalizationRules } from './normalizationRules';
import { recurrentRules } from './recurrentRules';
import { reductionRules } from './reductionRules';
import { shapeOpRules } from './shapeOpRules';
import { signalRules } from './signalRules';
import { trainingRules } from './trainingRules';

/**
 * The per-op shape rules of the default ONNX domain, keyed by op type. Each family lives in its own file; this map
 * is the one place that says which ops are understood. Other analyses may consult it (for example to tell a user
 * which ops have no rule), but should not add to it at run time.
 */
export const shapeRules: ReadonlyMap<string, ShapeRule> = new Map<string, ShapeRule>([
  ...Object.entries(elementwiseRules),
  ...Object.entries(convPoolRules),
  ...Object.entries(linalgRules),
  ...Object.entries(normalizationRules),
  ...Object.entries(shapeOpRules),
  ...Object.entries(constantRules),
  ...Object.entries(reductionRules),
  ...Object.entries(recurrentRules),
  ...Object.entries(controlFlowRules),
  ...Object.entries(miscRules),
  ...Object.entries(lossRules),
  ...Object.entries(signalRules),
  ...Object.entries(attentionRules),
]);

/** Optimiser ops of the ai.onnx.preview.training domain. */
export const trainingShapeRules: ReadonlyMap<string, ShapeRule> = new Map<string, ShapeRule>(Object.entries(trainingRules));

/**
 * The com.microsoft contrib ops that onnxruntime's optimiser writes into saved models; their outputs follow the
 * standard op they fuse.
 */
export const microsoftShapeRules: ReadonlyMap<string, ShapeRule> = new Map<string, ShapeRule>(Object.entries(microsoftRules));
