import { extname, resolve } from 'node:path';
import { checkThresholds, checkVerdict } from '../core/autodiff/gradCheck';
import { isUserInputError, UserInputError } from '../core/errors';
import { formatDuration, formatValue } from '../core/format';
import type { GradReport } from '../core/reports';
import { runGradProbe, type GradProbeOptions, type GradTarget } from '../runtime/gradRunner';
import { EXECUTION_PROVIDERS } from '../runtime/providers';
import { ProbeCancelledError, ProbeRuntimeError } from '../runtime/runtimeClient';
import { intArg, loadRunnableModel, oneLine, parseRunArgs, runOptionsOf } from './runArgs';

/**
 * `layerscope grad MODEL --input [NAME=]FILE.npy --loss cross-entropy|mse|sum --target K|predicted|FILE.npy [--check fast|N|0]
 * [--ep ...] [--json]` (docs/json-contract.md), plus --input-shape/--random/--seed for generated inputs, --loss mean, --output,
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
                      [--random normal|uniform] [--seed S] [--batch N] [--memory-budget MB]
                      --loss cross-entropy|mse|sum|mean [--target K|predicted|FILE.npy] [--output NAME]
                      [--check fast|N|0] [--lr 1e-3] [--bins 32] [--ep ${EXECUTION_PROVIDERS.join('|')}] [--device-id N]
                      [--timeout SECONDS] [--json] [--python PATH [--weights FILE.pt|.pth|.safetensors]]`;

export interface ParsedGradArgs {
  model: string;
  json: boolean;
  options: GradProbeOptions;
}

export function parseGradArgs(argv: string[], cwd: string): ParsedGradArgs {
  let loss: GradProbeOptions['loss'] | undefined;
  let target: GradTarget | undefined;
  const own: Partial<GradProbeOptions> = {};
  const { positional, shared } = parseRunArgs(argv, 'grad', (flag, next) => {
    switch (flag) {
      case '--loss': {
        const v = next();
        if (v !== 'cross-entropy' && v !== 'mse' && v !== 'sum' && v !== 'mean') {
          throw new UserInputError(`--loss must be cross-entropy, mse, sum or mean, not '${v}'`);
        }
        loss = v;
        return true;
      }
      case '--target': {
        const v = next();
        if (/^-?\d+$/.test(v)) target = { kind: 'class', index: intArg(v, '--target', 0) };
        else if (v === 'predicted') target = { kind: 'predicted' };
        else if (extname(v).toLowerCase() === '.npy') target = { kind: 'npy', path: resolve(cwd, v) };
        else throw new UserInputError(`--target must be a class or unit index (K), 'predicted' or a .npy file, not '${v}'`);
        return true;
      }
      case '--output':
        own.output = next();
        return true;
      case '--check': {
        const v = next();
        own.check = v === 'fast' ? 'fast' : intArg(v, '--check', 0);
        return true;
      }
      case '--lr': {
        const v = Number(next());
        if (!(v > 0) || !Number.isFinite(v)) throw new UserInputError('--lr needs a positive number');
        own.learningRate = v;
        return true;
      }
      default:
        return false;
    }
  });
  if (positional.length !== 1) throw new UserInputError(positional.length === 0 ? 'grad needs a MODEL file' : `grad takes one MODEL, got ${positional.length}`);
  if (!loss) throw new UserInputError('grad needs --loss cross-entropy|mse|sum|mean');
  shared.sources = shared.sources.map((source) => ({ ...source, path: resolve(cwd, source.path) }));
  if (shared.weights) shared.weights = resolve(cwd, shared.weights);
  return {
    model: resolve(cwd, positional[0]!),
    json: shared.json,
    options: { ...runOptionsOf(shared), ...own, loss, ...(target ? { target } : {}) },
  };
}

/** The CLI's columns carry four significant digits, by core/format.ts's rule for measured values. */
function num(x: number): string {
  return formatValue(x, 4);
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** The human-readable report: loss, input gradient, one row per parameter, the check, and the diagnostics. */
export function formatGradReport(report: GradReport, floatType: 'float32' | 'float64' = 'float32'): string {
  const lines: string[] = [];
  lines.push(`execution provider: ${report.executionProvider}`);
  lines.push(`loss: ${num(report.loss)}`);
  if (report.predictedClasses) {
    const shown = report.predictedClasses.slice(0, 16).join(', ');
    lines.push(`target: the predicted class (${shown}${report.predictedClasses.length > 16 ? ', …' : ''})`);
  }
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
    p.check ? (p.check.method === 'joint' ? 'joint' : num(p.check.maxRelError)) : '-',
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
    const t = report.check.thresholds ?? checkThresholds(floatType);
    const verdict = report.check.verdict ?? checkVerdict(report.check.maxRelError, floatType);
    const joint = report.check.joint;
    const timing = report.timing;
    // The default check's first runs are part of the gradient run, whose time cannot be split between them.
    const cost = !timing || typeof timing.checkMs !== 'number' ? '' : timing.checkRunsInRun
      ? `; its ${timing.checkRunsInRun} forward runs ran inside the gradient run (${formatDuration(timing.runMs ?? 0)} in all), then it took ${formatDuration(timing.checkMs)}, of ${formatDuration(timing.totalMs)}`
      : `, took ${formatDuration(timing.checkMs)} of ${formatDuration(timing.totalMs)}`;
    const precision = floatType === 'float64' ? '' : ' in float32';
    lines.push('');
    if (report.check.method === 'joint' && joint) {
      lines.push(
        `numerical check: one joint random direction over all ${joint.tensors} tensors, relative error ${num(joint.relError)}: passed, so every tensor passed` +
          ` (joint check; below ${joint.threshold}${precision}, else each tensor is checked on its own${cost})`,
      );
    } else {
      if (joint) lines.push(`numerical check: the joint direction over all ${joint.tensors} tensors did not pass (relative error ${num(joint.relError)} > ${joint.threshold}); each tensor was checked on its own:`);
      const what =
        report.check.method === 'direction'
          ? `one random direction per tensor (${report.check.sampled} tensors)`
          : `${report.check.sampled} coordinates`;
      lines.push(
        `numerical check: ${what}, worst relative error ${num(report.check.maxRelError)} (${report.check.worst}): ${verdict}` +
          ` (fine below ${t.fine}, wrong above ${t.wrong}${precision}${cost})`,
      );
    }
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
    const options: GradProbeOptions = { ...parsed.options, ...(io.signal ? { signal: io.signal } : {}) };
    // The model is handed over as a promise, so that the gradient worker starts while the model is read and the
    // backward graph is built: reading starts in a microtask, after runGradProbe has forked the worker.
    const loaded = Promise.resolve()
      .then(() => loadRunnableModel(parsed.model, parsed.options))
      .then(({ model, inputShapeApplied }) => {
        // A .py model has its input shape baked in; it must not be applied a second time by name.
        if (inputShapeApplied) delete options.shapes;
        return model;
      });
    const report = await runGradProbe(loaded, options);
    if (parsed.json) io.stdout(JSON.stringify(report) + '\n');
    else {
      const model = await loaded;
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
