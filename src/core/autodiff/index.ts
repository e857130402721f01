export { buildBackward } from './buildBackward';
export type { BackwardOptions, BackwardResult, ActivationGrad } from './buildBackward';
export type { LossSpec } from './losses';
export { gradRules, NON_DIFFERENTIABLE_OPS } from './rules';
export { buildLossModel } from './buildBackward';
export type { LossModel } from './buildBackward';
export { summarizeGradient, saliencyMap, l2Norm } from './gradStats';
export type { GradSummary, SaliencyMap } from './gradStats';
export {
  DEFAULT_CHECK,
  checkThresholds,
  checkVerdict,
  finiteDifferenceStep,
  finiteDifferenceNoise,
  sampleIndices,
  relativeError,
  centralDifference,
} from './gradCheck';
export type { CheckThresholds, CheckVerdict } from './gradCheck';
export { assembleGradReport, diagnoseGradients } from './gradReport';
export type { GradRun, ParamRun, GradDiagnosticOptions } from './gradReport';
