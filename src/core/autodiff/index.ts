export { buildBackward } from './buildBackward';
export type { BackwardOptions, BackwardResult, ActivationGrad } from './buildBackward';
export type { LossSpec } from './losses';
export { gradRules, NON_DIFFERENTIABLE_OPS } from './rules';
