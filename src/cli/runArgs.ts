import { extname } from 'node:path';
import { UserInputError } from '../core/errors';
import { modelFormat, openModel } from '../core/open';
import type { OpenedModel } from '../core/open';
import type { InputSource } from '../runtime/inputs';
import { EXECUTION_PROVIDERS, isExecutionProviderChoice } from '../runtime/providers';
import type { ExecutionProviderChoice } from '../runtime/providers';
import { loadPythonModelWithPyTorch } from './pythonWeights';

/**
 * What `layerscope probe` and `layerscope grad` share: the model to run (an ONNX file, or the main nn.Module of a .py
 * file lowered to the IR), and the parsing of their input options. Both commands read these the same way, so a flag
 * means the same thing in each.
 */

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

/** NAME=VALUE, where the value part may itself contain '='; a value without a name has none. */
export function splitNamed(value: string): { name?: string; rest: string } {
  const eq = value.indexOf('=');
  return eq > 0 ? { name: value.slice(0, eq), rest: value.slice(eq + 1) } : { rest: value };
}

/** A concrete shape: decimal digits only between the separators, so `1xx3`, `1e300` and `2^53+1` are refused. */
export function parseShape(text: string, flag: string): number[] {
  const parts = text.split(/[x×,]/).map((d) => d.trim());
  const dims = parts.map((d) => (/^\d+$/.test(d) ? Number(d) : NaN));
  if (dims.some((d) => !Number.isSafeInteger(d))) {
    throw new UserInputError(`${flag}: '${text}' is not a shape like 1x3x224x224 (whole numbers below 2^53 separated by x)`);
  }
  return dims;
}

/** An integer option of at least `min` and at most `max`, written in decimal digits (no 1e8, no 0x10). */
export function intArg(text: string | undefined, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = text !== undefined && /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UserInputError(`${flag} needs a whole number from ${min} to ${max}, not '${text ?? ''}'`);
  }
  return n;
}

/** A batch beyond this is surely a typo; the memory budget refuses most large ones first. */
const MAX_BATCH = 1_000_000;

/** Error messages go on one line of stderr. */
export { oneLine } from '../core/safeText';

export type RunnableModel = Pick<OpenedModel, 'model' | 'inputShapeApplied'>;

/**
 * The model a probe runs, opened by core/open.ts: an ONNX file, or a .py MODEL's main nn.Module (as `layerscope
 * summary` picks it) lowered to the IR with PyTorch's own default initialisation, so that a probe shows what a freshly
 * built model does. Its input shape comes from `--input-shape` or the class's `# layerscope: input 1x3x32x32` comment.
 * With --python or --weights the user's PyTorch builds it instead (pythonWeights.ts).
 */
export async function loadRunnableModel(file: string, options: { shapes?: Record<string, number[]>; python?: string; weights?: string }): Promise<RunnableModel> {
  const exact = options.weights !== undefined || options.python !== undefined;
  if (exact && modelFormat(file) !== 'python') throw new UserInputError('--weights and --python apply to a .py model; an .onnx file carries its own weights');
  const given = options.shapes?.[''] ?? options.shapes?.['input'];
  const opened = await openModel(file, {
    ...(given ? { inputShape: given } : {}),
    shapeHint: 'pass --input-shape 1x3x32x32 or add a "# layerscope: input 1x3x32x32" comment above the class',
    // The user's PyTorch builds the model (and loads the checkpoint) and exports it; see pythonWeights.ts.
    ...(exact
      ? { exactPython: async (f: string) => (await loadPythonModelWithPyTorch(f, { python: options.python ?? 'python3', ...(options.weights !== undefined ? { weights: options.weights } : {}), ...(given ? { inputShape: given } : {}) })).model }
      : {}),
  });
  return { model: opened.model, inputShapeApplied: opened.inputShapeApplied };
}

/** Options both commands take: what to feed the model, where to run it, and how to print. */
export interface SharedRunOptions {
  json: boolean;
  sources: InputSource[];
  shapes: Record<string, number[]>;
  random?: 'normal' | 'uniform';
  seed?: number;
  batch?: number;
  bins?: number;
  provider?: ExecutionProviderChoice;
  deviceId?: number;
  timeoutMs?: number;
  memoryBudgetBytes?: number;
  /** For a .py model: the interpreter whose PyTorch builds and exports it (exact mode). */
  python?: string;
  /** For a .py model: a trained checkpoint (.pt/.pth/.safetensors) loaded before the export. */
  weights?: string;
}

/** A command's own flags: return true when `flag` was one of them, reading its value with `next()`. */
export type OwnFlags = (flag: string, next: () => string) => boolean;

/**
 * Walks argv, accepting `--flag=value` as well as `--flag value` (a value may itself be NAME=FILE). Each flag goes to
 * the command's own handler first, then to the shared ones; anything else that starts with '-' is an error.
 * Input paths are returned as given; the caller resolves them against its working folder.
 */
export function parseRunArgs(argv: readonly string[], command: string, own: OwnFlags): { positional: string[]; shared: SharedRunOptions } {
  const positional: string[] = [];
  const shared: SharedRunOptions = { json: false, sources: [], shapes: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const next = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new UserInputError(`${flag} needs a value`);
      return v;
    };
    if (own(flag, next) || sharedFlag(flag, next, shared)) continue;
    if (arg.startsWith('-') && arg !== '-') throw new UserInputError(`unknown option '${arg}' for ${command} (see layerscope ${command} --help)`);
    positional.push(arg);
  }
  return { positional, shared };
}

function sharedFlag(flag: string, next: () => string, into: SharedRunOptions): boolean {
  switch (flag) {
    case '--json':
      into.json = true;
      return true;
    case '--input': {
      const { name, rest } = splitNamed(next());
      const kind = IMAGE_EXTENSIONS.has(extname(rest).toLowerCase()) ? 'image' : 'npy';
      into.sources.push({ kind, path: rest, ...(name ? { name } : {}) } as InputSource);
      return true;
    }
    case '--image': {
      const { name, rest } = splitNamed(next());
      into.sources.push({ kind: 'image', path: rest, ...(name ? { name } : {}) });
      return true;
    }
    case '--input-shape': {
      const { name, rest } = splitNamed(next());
      into.shapes[name ?? ''] = parseShape(rest, '--input-shape');
      return true;
    }
    case '--random': {
      const v = next();
      if (v !== 'normal' && v !== 'uniform') throw new UserInputError(`--random must be normal or uniform, not '${v}'`);
      into.random = v;
      return true;
    }
    case '--seed':
      into.seed = intArg(next(), '--seed', 0);
      return true;
    case '--batch':
      into.batch = intArg(next(), '--batch', 1, MAX_BATCH);
      return true;
    case '--memory-budget':
      into.memoryBudgetBytes = intArg(next(), '--memory-budget (MB)', 1, 2 ** 32) * 1024 * 1024;
      return true;
    case '--bins':
      into.bins = intArg(next(), '--bins', 1);
      if (into.bins > 4096) throw new UserInputError('--bins: at most 4096');
      return true;
    case '--ep':
    case '--execution-provider': {
      const v = next();
      if (!isExecutionProviderChoice(v)) throw new UserInputError(`--ep must be one of ${EXECUTION_PROVIDERS.join(', ')}, not '${v}'`);
      into.provider = v;
      return true;
    }
    case '--device-id':
      into.deviceId = intArg(next(), '--device-id', 0);
      return true;
    case '--timeout':
      into.timeoutMs = intArg(next(), '--timeout', 1) * 1000;
      return true;
    case '--python':
      into.python = next();
      return true;
    case '--weights':
      into.weights = next();
      return true;
    default:
      return false;
  }
}

/** The shared options as the runtime takes them: only what was given, so that defaults apply to the rest. */
export function runOptionsOf(shared: SharedRunOptions): Omit<SharedRunOptions, 'json' | 'sources' | 'shapes'> & { sources?: InputSource[]; shapes?: Record<string, number[]> } {
  const { json: _json, sources, shapes, ...rest } = shared;
  void _json;
  return { ...rest, ...(sources.length > 0 ? { sources } : {}), ...(Object.keys(shapes).length > 0 ? { shapes } : {}) };
}
