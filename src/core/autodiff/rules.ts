import { activationRules } from './activationRules';
import { convRules } from './convRules';
import { elementwiseRules } from './elementwiseRules';
import { linalgRules } from './linalgRules';
import { normRules } from './normRules';
import { poolRules } from './poolRules';
import type { RuleEntry } from './ruleTypes';
import { tensorRules } from './tensorRules';

/** Every default-domain op the backward builder can differentiate. */
export const gradRules: Readonly<Record<string, RuleEntry>> = {
  ...elementwiseRules,
  ...activationRules,
  ...linalgRules,
  ...convRules,
  ...poolRules,
  ...normRules,
  ...tensorRules,
};

/**
 * Ops whose outputs carry no gradient: integer and boolean results, shape arithmetic, and piecewise-constant
 * functions whose derivative is zero almost everywhere (PyTorch also gives zero for floor, ceil, round and sign).
 */
export const NON_DIFFERENTIABLE_OPS: ReadonlySet<string> = new Set([
  'Shape',
  'Size',
  'Equal',
  'Less',
  'LessOrEqual',
  'Greater',
  'GreaterOrEqual',
  'Not',
  'And',
  'Or',
  'Xor',
  'NonZero',
  'ArgMax',
  'ArgMin',
  'ConstantOfShape',
  'Constant',
  'Range',
  'OneHot',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'IsNaN',
  'IsInf',
  'EyeLike',
  'RandomNormal',
  'RandomNormalLike',
  'RandomUniform',
  'RandomUniformLike',
  'Bernoulli',
  'Multinomial',
]);
