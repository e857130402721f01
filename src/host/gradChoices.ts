import { DEFAULT_CHECK, type CheckSetting } from '../core/autodiff/gradCheck';
import { choiceToProbeOptions, describeChoice, parseStoredChoice, type ProbeInputChoice, type ProbeSettings } from './probeChoices';
import type { GradProbeOptions, GradTarget } from '../runtime/gradRunner';

/**
 * What "Layerscope: Run Gradient Probe" asks for and remembers per model: the inputs (the same choices as the
 * activation probe), the loss, its target and the size of the numerical check. Kept free of 'vscode' so that it can
 * be unit-tested; stored values are validated on the way back in because workspaceState outlives versions.
 */

export type GradLoss = GradProbeOptions['loss'];

export interface GradChoice {
  input: ProbeInputChoice;
  loss: GradLoss;
  target?: GradTarget;
  check: CheckSetting;
}

export const GRAD_LOSSES: readonly { loss: GradLoss; label: string; detail: string }[] = [
  { loss: 'cross-entropy', label: 'Cross-entropy', detail: 'mean over the batch of −log softmax(output)[target]; target: a class index, the predicted class or a .npy of indices' },
  { loss: 'mse', label: 'Mean squared error', detail: 'against a .npy with the output’s shape' },
  { loss: 'sum', label: 'Sum of one output unit', detail: 'saliency: d output[:, K] / d input; leave K empty for the whole output' },
  { loss: 'mean', label: 'Mean of one output unit', detail: 'like sum, divided by the number of elements' },
];

export function gradChoiceKey(modelUri: string): string {
  return `layerscope.grad.choice:${modelUri}`;
}

function parseTarget(value: unknown): GradTarget | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.kind === 'class' && typeof v.index === 'number' && Number.isInteger(v.index) && v.index >= 0) return { kind: 'class', index: v.index };
  if (v.kind === 'npy' && typeof v.path === 'string') return { kind: 'npy', path: v.path };
  if (v.kind === 'predicted') return { kind: 'predicted' };
  return undefined;
}

export function parseStoredGradChoice(value: unknown): GradChoice | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const input = parseStoredChoice(v.input);
  const loss = GRAD_LOSSES.find((l) => l.loss === v.loss)?.loss;
  if (!input || !loss) return undefined;
  const target = parseTarget(v.target);
  const check = v.check === 'fast' || (typeof v.check === 'number' && Number.isInteger(v.check) && v.check >= 0) ? (v.check as CheckSetting) : DEFAULT_CHECK;
  const choice: GradChoice = { input, loss, check };
  if (target) choice.target = target;
  return validGradChoice(choice) ? choice : undefined;
}

/** Whether the loss has the target it needs (the same rules the CLI enforces). */
export function validGradChoice(choice: GradChoice): boolean {
  if (choice.target?.kind === 'predicted') return choice.loss === 'cross-entropy';
  if (choice.loss === 'cross-entropy') return choice.target !== undefined;
  if (choice.loss === 'mse') return choice.target?.kind === 'npy';
  return choice.target === undefined || choice.target.kind === 'class';
}

export function describeGradChoice(choice: GradChoice): string {
  const target = !choice.target
    ? ''
    : choice.target.kind === 'class'
      ? ` → ${choice.target.index}`
      : choice.target.kind === 'predicted'
        ? ' → the predicted class'
        : ` → ${choice.target.path.split(/[\\/]/).pop()}`;
  return `${describeChoice(choice.input)}; ${choice.loss}${target}; check ${choice.check}`;
}

export function gradChoiceToOptions(choice: GradChoice, settings: ProbeSettings): GradProbeOptions {
  const p = choiceToProbeOptions(choice.input, settings);
  const options: GradProbeOptions = { loss: choice.loss, check: choice.check };
  if (choice.target) options.target = choice.target;
  if (p.sources) options.sources = p.sources;
  if (p.shapes) options.shapes = p.shapes;
  if (p.random) options.random = p.random;
  if (p.seed !== undefined) options.seed = p.seed;
  if (p.batch !== undefined) options.batch = p.batch;
  if (p.provider) options.provider = p.provider;
  if (p.deviceId !== undefined) options.deviceId = p.deviceId;
  if (p.timeoutMs !== undefined) options.timeoutMs = p.timeoutMs;
  if (p.memoryBudgetBytes !== undefined) options.memoryBudgetBytes = p.memoryBudgetBytes;
  return options;
}

/** What the first prompt of a gradient probe offers: the gradient of what, most common first, files last. */
export interface GradGoal {
  label: string;
  description?: string;
  detail: string;
  loss: GradLoss;
  /** How the target is asked for next: a class or unit index K, or a .npy file; 'predicted' asks nothing more. */
  target: 'class' | 'predicted' | 'unit' | 'npy';
}

/**
 * The choices of the first prompt. A class index comes first, with the model's output size when it is known, because
 * that is what most people probe; per-sample targets from a .npy file come last.
 */
export function gradGoals(classes: number | null): GradGoal[] {
  const range = classes !== null ? `the model outputs ${classes} classes (0–${classes - 1})` : 'the model’s output size is not declared';
  return [
    { label: 'Cross-entropy for class K…', description: range, detail: 'mean over the batch of −log softmax(output)[K]', loss: 'cross-entropy', target: 'class' },
    { label: 'Cross-entropy for the predicted class', description: 'each sample’s own argmax', detail: 'mean over the batch of −log softmax(output)[argmax output]: what the model is most sure of', loss: 'cross-entropy', target: 'predicted' },
    { label: 'Saliency of output unit K…', description: classes !== null ? `0–${classes - 1}, or empty for the whole output` : 'or empty for the whole output', detail: 'd output[:, K] / d input (sum over the batch)', loss: 'sum', target: 'unit' },
    { label: 'Mean of output unit K…', description: 'or empty for the whole output', detail: 'like saliency, divided by the number of elements', loss: 'mean', target: 'unit' },
    { label: 'Cross-entropy with per-sample classes from a .npy…', description: 'int64 class indices, one per sample', detail: 'for a batch whose samples have different labels', loss: 'cross-entropy', target: 'npy' },
    { label: 'Mean squared error against a .npy…', description: 'the expected output', detail: 'a .npy with the output’s shape', loss: 'mse', target: 'npy' },
  ];
}

/** The number of classes: the last dimension of the model's first output, when it is a number. */
export function outputClassCount(shape: readonly (number | string | null)[] | null | undefined): number | null {
  const last = shape && shape.length > 0 ? shape[shape.length - 1] : undefined;
  return typeof last === 'number' && Number.isInteger(last) && last > 0 ? last : null;
}

/** Checks a typed class or unit index against the output size; empty is allowed only where `optional`. */
export function validateTargetIndex(text: string, classes: number | null, optional: boolean): string | undefined {
  const v = text.trim();
  if (v === '') return optional ? undefined : 'a class index';
  if (!/^\d+$/.test(v)) return 'a non-negative integer';
  if (classes !== null && Number(v) >= classes) return `the model has ${classes} outputs: 0 to ${classes - 1}`;
  return undefined;
}
