import type { InputSource } from '../runtime/inputs';
import type { ProbeOptions } from '../runtime/probe';
import { isExecutionProviderChoice } from '../runtime/providers';
import type { ExecutionProviderChoice } from '../runtime/providers';

/**
 * The editor side of a probe that needs no VS Code API: the input choices a user makes (remembered per model in
 * workspaceState), the settings, and how both become ProbeOptions. Kept apart from probeCommands.ts so that it is
 * unit-tested in plain Node.
 */

export type ProbeInputChoice =
  | { kind: 'random'; distribution: 'normal' | 'uniform'; seed: number; batch: number; shapes?: Record<string, number[]> }
  | { kind: 'npy'; files: { name?: string; path: string }[] }
  | { kind: 'image'; path: string; name?: string };

export interface ProbeSettings {
  executionProvider: ExecutionProviderChoice;
  deviceId: number;
  budgetMB: number;
  /** The most memory a probe's inputs may take, in MB; 0 for an eighth of the memory free when it starts. */
  inputBudgetMB: number;
  bins: number;
  timeoutSeconds: number;
}

export const DEFAULT_PROBE_SETTINGS: ProbeSettings = { executionProvider: 'auto', deviceId: 0, budgetMB: 512, inputBudgetMB: 0, bins: 64, timeoutSeconds: 600 };

/** The workspaceState key under which a model's last input choice is kept. */
export function choiceKey(modelUri: string): string {
  return `layerscope.probe.input:${modelUri}`;
}

function positiveInt(value: unknown, fallback: number, allowZero = false): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= (allowZero ? 0 : 1) ? value : fallback;
}

/** Settings from `layerscope.*`, with anything malformed replaced by its default rather than failing the probe. */
export function readProbeSettings(get: (key: string) => unknown): ProbeSettings {
  const ep = get('executionProvider');
  return {
    executionProvider: typeof ep === 'string' && isExecutionProviderChoice(ep) ? ep : DEFAULT_PROBE_SETTINGS.executionProvider,
    deviceId: positiveInt(get('deviceId'), DEFAULT_PROBE_SETTINGS.deviceId, true),
    budgetMB: positiveInt(get('probe.memoryBudgetMB'), DEFAULT_PROBE_SETTINGS.budgetMB),
    inputBudgetMB: positiveInt(get('probe.inputMemoryBudgetMB'), DEFAULT_PROBE_SETTINGS.inputBudgetMB, true),
    bins: Math.min(4096, positiveInt(get('probe.bins'), DEFAULT_PROBE_SETTINGS.bins)),
    timeoutSeconds: positiveInt(get('probe.timeoutSeconds'), DEFAULT_PROBE_SETTINGS.timeoutSeconds),
  };
}

/** Validates a stored choice: workspaceState survives upgrades, so anything unexpected is dropped, not trusted. */
export function parseStoredChoice(value: unknown): ProbeInputChoice | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.kind === 'random' && (v.distribution === 'normal' || v.distribution === 'uniform')) {
    const choice: ProbeInputChoice = { kind: 'random', distribution: v.distribution, seed: positiveInt(v.seed, 0, true), batch: positiveInt(v.batch, 1) };
    if (typeof v.shapes === 'object' && v.shapes !== null) {
      const shapes: Record<string, number[]> = {};
      for (const [k, s] of Object.entries(v.shapes as Record<string, unknown>)) {
        if (Array.isArray(s) && s.every((d) => Number.isInteger(d) && d >= 0)) shapes[k] = s as number[];
      }
      choice.shapes = shapes;
    }
    return choice;
  }
  if (v.kind === 'npy' && Array.isArray(v.files)) {
    const files = (v.files as unknown[]).filter(
      (f): f is { name?: string; path: string } => typeof f === 'object' && f !== null && typeof (f as { path?: unknown }).path === 'string',
    );
    return files.length > 0 ? { kind: 'npy', files: files.map((f) => ({ path: f.path, ...(typeof f.name === 'string' ? { name: f.name } : {}) })) } : undefined;
  }
  if (v.kind === 'image' && typeof v.path === 'string') return { kind: 'image', path: v.path, ...(typeof v.name === 'string' ? { name: v.name } : {}) };
  return undefined;
}

/** A short label for the quick pick ("Same as last time: …"). */
export function describeChoice(choice: ProbeInputChoice): string {
  switch (choice.kind) {
    case 'random':
      return `random ${choice.distribution}, seed ${choice.seed}, batch ${choice.batch}`;
    case 'npy':
      return choice.files.map((f) => `${f.name ? `${f.name}=` : ''}${baseName(f.path)}`).join(', ');
    case 'image':
      return `image ${baseName(choice.path)}`;
  }
}

function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] ?? path;
}

export function choiceToProbeOptions(choice: ProbeInputChoice, settings: ProbeSettings): ProbeOptions {
  const options: ProbeOptions = {
    provider: settings.executionProvider,
    deviceId: settings.deviceId,
    budgetBytes: settings.budgetMB * 1024 * 1024,
    bins: settings.bins,
    timeoutMs: settings.timeoutSeconds * 1000,
  };
  if (settings.inputBudgetMB > 0) options.memoryBudgetBytes = settings.inputBudgetMB * 1024 * 1024;
  if (choice.kind === 'random') {
    options.random = choice.distribution;
    options.seed = choice.seed;
    options.batch = choice.batch;
    if (choice.shapes && Object.keys(choice.shapes).length > 0) options.shapes = choice.shapes;
  } else if (choice.kind === 'npy') {
    options.sources = choice.files.map((f): InputSource => ({ kind: 'npy', path: f.path, ...(f.name ? { name: f.name } : {}) }));
  } else {
    options.sources = [{ kind: 'image', path: choice.path, ...(choice.name ? { name: choice.name } : {}) }];
  }
  return options;
}

/** The status bar text after a probe: the provider that actually ran. */
export function providerStatusText(provider: string): string {
  return `$(pulse) Layerscope: ${provider}`;
}

/**
 * The batch size the model fixes, when every input declares a numeric first dimension (and they agree); null when
 * some batch dimension is symbolic or unknown, the only case where asking for a batch size means anything.
 */
export function fixedBatch(inputs: readonly { shape: readonly (number | string | null)[] | null }[]): number | null {
  let batch: number | null = null;
  for (const input of inputs) {
    const first = input.shape?.[0];
    if (typeof first !== 'number') return null;
    if (batch !== null && batch !== first) return null;
    batch = first;
  }
  return batch;
}
