import { extname, resolve } from 'node:path';
import { checkThresholds, checkVerdict } from '../core/autodiff/gradCheck';
import { isUserInputError, UserInputError } from '../core/errors';
import type { GradReport } from '../core/reports';
import { runGradProbe, type GradProbeOptions, type GradTarget } from '../host/gradRunner';
import type { InputSource } from '../runtime/inputs';
import { EXECUTION_PROVIDERS, isExecutionProviderChoice } from '../runtime/providers';
import { ProbeCancelledError, ProbeRuntimeError } from '../runtime/runtimeClient';
import { IMAGE_EXTENSIONS, intArg, loadRunnableModel, oneLine, parseShape, splitNamed } from './runArgs';

/**
 * `layerscope grad MODEL --input [NAME=]FILE.npy --loss cross-entropy|mse|sum --target K|FILE.npy [--check N]
 * [--ep ...] [--json]` (DESIGN.md), plus --input-shape/--random/--seed for generated inputs, --loss mean, --output,
 * --lr for the update-ratio diagnostic, --bins, --device-id and --timeout. Exit codes: 0 ok, 1 runtime or internal
 * failure, 2 unusable input (one line on stderr), 130 cancelled.
 */

export interface GradCommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  cwd?: string;
  signal?: AbortSignal;
}

export const GRAD_USAGE = `usage: layerscope grad MODEL [--input [NAME=]FILE.npy|.png|.jpg]... [--input-shape [NAME=]1x3x32x32]...
                      [--random normal|uniform] [--seed S] [--batch N]
                      --loss cross-entropy|mse|sum|mean [--target K|FILE.npy] [--output NAME]
                      [--check N] [--lr 1e-3] [--bins 32] [--ep ${EXECUTION_PROVIDERS.join('|')}] [--device-id N]
                      [--timeout SECONDS] [--json]`;

export interface ParsedGradArgs {
  model: string;
  json: boolean;
  options: GradProbeOptions;
}




export function parseGradArgs(argv: string[], cwd: string): ParsedGradArgs {
  const positional: string[] = [];
  const sources: InputSource[] = [];
  const shapes: Record<string, number[]> = {};
  let json = false;
  let loss: GradProbeOptions['loss'] | undefined;
  let target: GradTarget | undefined;
  const options: Partial<GradProbeOptions> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const next = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new UserInputError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--json':
        json = true;
        break;
      case '--input': {
        const { name, rest } = splitNamed(next());
        const kind = IMAGE_EXTENSIONS.has(extname(rest).toLowerCase()) ? 'image' : 'npy';
        sources.push({ kind, path: resolve(cwd, rest), ...(name ? { name } : {}) } as InputSource);
        break;
      }
      case '--input-shape': {
        const { name, rest } = splitNamed(next());
        shapes[name ?? ''] = parseShape(rest, '--input-shape');
        break;
      }
      case '--random': {
        const v = next();
        if (v !== 'normal' && v !== 'uniform') throw new UserInputError(`--random must be normal or uniform, not '${v}'`);
        options.random = v;
        break;
      }
      case '--seed':
        options.seed = intArg(next(), '--seed', 0);
        break;
      case '--batch':
        options.batch = intArg(next(), '--batch', 1);
        break;
      case '--loss': {
        const v = next();
        if (v !== 'cross-entropy' && v !== 'mse' && v !== 'sum' && v !== 'mean') {
          throw new UserInputError(`--loss must be cross-entropy, mse, sum or mean, not '${v}'`);
        }
        loss = v;
        break;
      }
      case '--target': {
        const v = next();
        if (/^-?\d+$/.test(v)) target = { kind: 'class', index: intArg(v, '--target', 0) };
        else if (extname(v).toLowerCase() === '.npy') target = { kind: 'npy', path: resolve(cwd, v) };
        else throw new UserInputError(`--target must be a class or unit index (K) or a .npy file, not '${v}'`);
        break;
      }
      case '--output':
        options.output = next();
        break;
      case '--check':
        options.check = intArg(next(), '--check', 0);
        break;
      case '--lr': {
        const v = Number(next());
        if (!(v > 0) || !Number.isFinite(v)) throw new UserInputError('--lr needs a positive number');
        options.learningRate = v;
        break;
      }
      case '--bins':
        options.bins = intArg(next(), '--bins', 1);
        if (options.bins > 4096) throw new UserInputError('--bins: at most 4096');
        break;
      case '--ep':
      case '--execution-provider': {
        const v = next();
        if (!isExecutionProviderChoice(v)) throw new UserInputError(`--ep must be one of ${EXECUTION_PROVIDERS.join(', ')}, not '${v}'`);
        options.provider = v;
        break;
      }
      case '--device-id':
        options.deviceId = intArg(next(), '--device-id', 0);
        break;
      case '--timeout':
        options.timeoutMs = intArg(next(), '--timeout', 1) * 1000;
        break;
      default:
        if (arg.startsWith('-')) throw new UserInputError(`unknown option '${arg}' for grad (see layerscope grad --help)`);
        positional.push(arg);
    }
  }
  if (positional.length !== 1) throw new UserInputError(positional.length === 0 ? 'grad needs a MODEL file' : `grad takes one MODEL, got ${positional.length}`);
  if (!loss) throw new UserInputError('grad needs --loss cross-entropy|mse|sum|mean');
  return {
    model: resolve(cwd, positional[0]),
    json,
    options: {
      ...options,
      loss,
      ...(target ? { target } : {}),
      ...(sources.length ? { sources } : {}),
      ...(Object.keys(shapes).length ? { shapes } : {}),
    },
  };
}

function num(x: number): string {
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e5 ? x.toPrecision(4) : x.toExponential(2);
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** The human-readable report: loss, input gradient, one row per parameter, the check, and the diagnostics. */
export function formatGradReport(report: GradReport, floatType: 'float32' | 'float64' = 'float32'): string {
  const lines: string[] = [];
  lines.push(`execution provider: ${report.executionProvider}`);
  lines.push(`loss: ${num(report.loss)}`);
  lines.push(`input gradient |g| (${report.input.name}): ${num(report.input.l2)}`);
  lines.push('');
  const rows = report.params.map((p) => [
    p.name,
    `[${p.shape.join(',')}]`,
    num(p.l2),
    num(p.mean),
    num(p.std),
    num(p.maxAbs),
    num(p.weightL2),
    p.weightL2 > 0 ? num(p.l2 / p.weightL2) : '-',
    p.check ? num(p.check.maxRelError) : '-',
  ]);
  const header = ['parameter', 'shape', '|g|', 'mean', 'std', 'max|g|', '|w|', '|g|/|w|', 'check'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  lines.push(header.map((h, i) => pad(h, widths[i])).join('  '));
  for (const r of rows) lines.push(r.map((c, i) => pad(c, widths[i])).join('  '));
  if (report.activations.length > 0) {
    lines.push('');
    lines.push('activation gradients |g|:');
    const w = Math.max(...report.activations.map((a) => a.name.length));
    for (const a of report.activations) lines.push(`  ${pad(a.name, w)}  ${num(a.l2)}`);
  }
  if (report.check) {
    const t = checkThresholds(floatType);
    const verdict = checkVerdict(report.check.maxRelError, floatType);
    lines.push('');
    lines.push(
      `numerical check: ${report.check.sampled} coordinates, worst relative error ${num(report.check.maxRelError)} (${report.check.worst}): ${verdict}` +
        ` (fine below ${t.fine}, wrong above ${t.wrong}${floatType === 'float64' ? '' : ' in float32'})`,
    );
  }
  if (report.diagnostics && report.diagnostics.length > 0) {
    lines.push('');
    for (const d of report.diagnostics) lines.push(`${d.kind}: ${d.message}`);
  }
  return lines.join('\n') + '\n';
}



export async function runGradCommand(argv: string[], io: GradCommandIo): Promise<number> {
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.stdout(GRAD_USAGE + '\n');
      return 0;
    }
    const parsed = parseGradArgs(argv, io.cwd ?? process.cwd());
    const { model, inputShapeApplied } = await loadRunnableModel(parsed.model, parsed.options);
    // A .py model has its input shape baked in; it must not be applied a second time by name.
    const options = inputShapeApplied ? { ...parsed.options, shapes: undefined } : parsed.options;
    const report = await runGradProbe(model, { ...options, ...(io.signal ? { signal: io.signal } : {}) });
    if (parsed.json) io.stdout(JSON.stringify(report) + '\n');
    else {
      const floatType = model.graph.initializers.some((t) => t.dtype === 'float64') ? 'float64' : 'float32';
      io.stdout(formatGradReport(report, floatType));
    }
    return 0;
  } catch (e) {
    if (isUserInputError(e) || (e instanceof Error && e.name === 'GraphStructureError')) {
      io.stderr(`layerscope grad: ${oneLine((e as Error).message)}\n`);
      return 2;
    }
    if (e instanceof ProbeCancelledError) {
      io.stderr('layerscope grad: cancelled\n');
      return 130;
    }
    if (e instanceof ProbeRuntimeError) {
      io.stderr(`layerscope grad: ${oneLine(e.message)}\n`);
      return 1;
    }
    io.stderr(`layerscope grad: internal error: ${oneLine(e instanceof Error ? e.message : String(e))}\n`);
    return 1;
  }
}
