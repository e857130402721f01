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
  { loss: 'cross-entropy', label: 'Cross-entropy', detail: 'mean over the batch of −log softmax(output)[target]; target: a class index or a .npy of indices' },
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
  if (choice.loss === 'cross-entropy') return choice.target !== undefined;
  if (choice.loss === 'mse') return choice.target?.kind === 'npy';
  return choice.target === undefined || choice.target.kind === 'class';
}

export function describeGradChoice(choice: GradChoice): string {
  const target = choice.target ? (choice.target.kind === 'class' ? ` → ${choice.target.index}` : ` → ${choice.target.path.split(/[\\/]/).pop()}`) : '';
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
