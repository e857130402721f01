import { singleLineField } from '../core/safeText';
import { resolve } from 'node:path';
import { isUserInputError, UserInputError } from '../core/errors';
import { formatDuration, formatPercent, formatValue } from '../core/format';
import type { ProbeReport } from '../core/reports';
import { probeModel } from '../runtime/probe';
import type { ProbeOptions } from '../runtime/probe';
import { EXECUTION_PROVIDERS } from '../runtime/providers';
import { ProbeCancelledError, ProbeRuntimeError } from '../runtime/runtimeClient';
import { intArg, loadRunnableModel, oneLine, parseRunArgs, runOptionsOf } from './runArgs';

/**
 * `layerscope probe MODEL [--input [NAME=]FILE.npy | --input-shape ... --random normal|uniform --seed S]
 * [--ep auto|cpu|cuda|webgpu|dml|coreml] [--bins 64] [--json]`, plus --image, --budget-mb, --batch, --layers,
 * --device-id, --optimization and --timeout. Exit codes follow docs/json-contract.md: 0 ok, 1 internal or runtime failure, 2
 * unusable input, with one line on stderr and never a stack trace.
 */

type Writer = ((text: string) => void) | { write(text: string): unknown };

export interface ProbeCommandIo {
  stdout: Writer;
  stderr: Writer;
  /** Cancels the probe (Ctrl+C in the CLI). */
  signal?: AbortSignal;
  /** The folder relative paths are resolved against; the process's by default. */
  cwd?: string;
}

function write(w: Writer, text: string): void {
  if (typeof w === 'function') w(text);
  else w.write(text);
}

export const PROBE_USAGE = `usage: layerscope probe MODEL [--input [NAME=]FILE.npy]... [--image [NAME=]FILE.png|.jpg]
                       [--input-shape [NAME=]1x3x224x224]... [--random normal|uniform] [--seed S] [--batch N] [--memory-budget MB]
                       [--ep ${EXECUTION_PROVIDERS.join('|')}] [--device-id N] [--bins 64] [--budget-mb 512]
                       [--layers NAME,...] [--max-nodes N] [--optimization basic|disabled] [--timeout SECONDS] [--json]
                       [--python PATH [--weights FILE.pt|.pth|.safetensors]]   (.py: built and exported by your PyTorch)`;

export interface ParsedProbeArgs {
  model: string;
  json: boolean;
  options: ProbeOptions;
}



function parseNumberList(text: string, flag: string): number[] {
  const values = text.split(',').map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isFinite(v))) throw new UserInputError(`${flag}: '${text}' is not a list of numbers`);
  return values;
}


export function parseProbeArgs(argv: string[]): ParsedProbeArgs {
  let mean: number[] | undefined;
  let std: number[] | undefined;
  const options: ProbeOptions = {};
  const { positional, shared } = parseRunArgs(argv, 'probe', (flag, next) => {
    switch (flag) {
      case '--mean':
        mean = parseNumberList(next(), '--mean');
        return true;
      case '--std':
        std = parseNumberList(next(), '--std');
        if (std.some((s) => s === 0)) throw new UserInputError('--std: a standard deviation of 0 would divide by zero');
        return true;
      case '--budget-mb':
        options.budgetBytes = intArg(next(), '--budget-mb', 1) * 1024 * 1024;
        return true;
      case '--max-nodes':
        options.maxNodes = intArg(next(), '--max-nodes', 1);
        return true;
      case '--layers':
        options.select = next()
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
        return true;
      case '--optimization': {
        const v = next();
        if (v !== 'basic' && v !== 'disabled') throw new UserInputError(`--optimization must be basic or disabled, not '${v}'`);
        options.graphOptimizationLevel = v;
        return true;
      }
      default:
        return false;
    }
  });
  if (positional.length !== 1) throw new UserInputError(positional.length === 0 ? 'probe needs a MODEL file' : `probe takes one MODEL, got ${positional.length}`);
  for (const s of shared.sources) {
    if (s.kind !== 'image') continue;
    if (mean) s.mean = mean;
    if (std) s.std = std;
  }
  return { model: positional[0]!, json: shared.json, options: { ...runOptionsOf(shared), ...options } };
}

/** The CLI's columns carry four significant digits, by core/format.ts's rule for measured values. */
function fmt(x: number): string {
  return formatValue(x, 4);
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** The human-readable report: one row per probed value, then the diagnostics. */
export function formatProbeReport(report: ProbeReport): string {
  const rows = [['layer', 'op', 'shape', 'mean', 'std', 'min', 'max', 'zero', 'sat', 'p50']];
  for (const l of report.layers) {
    const s = l.stats;
    rows.push([
      singleLineField(l.name),
      singleLineField(l.op),
      l.shape.map((d) => (d === null ? '?' : String(d))).join('×'),
      fmt(s.mean),
      fmt(s.std),
      fmt(s.min),
      fmt(s.max),
      formatPercent(s.fracZero),
      formatPercent(s.fracSaturated),
      fmt(s.p50),
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.min(48, Math.max(...rows.map((r) => r[c]!.length))));
  const lines = rows.map((r) => r.map((cell, c) => pad(cell, widths[c]!)).join('  ').trimEnd());
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const out = [
    `execution provider: ${report.executionProvider}   total ${formatDuration(report.timing.totalMs)}`,
    ...(report.cpuFallbackNodes && report.cpuFallbackNodes.length > 0 ? [`ran on the CPU instead: ${report.cpuFallbackNodes.join(', ')}`] : []),
    '',
    ...lines,
    '',
  ];
  if (report.diagnostics.length === 0) out.push('diagnostics: none');
  else {
    out.push('diagnostics:');
    for (const d of report.diagnostics) out.push(`  [${d.kind}] ${d.message}`);
  }
  return out.join('\n') + '\n';
}

export async function runProbeCommand(argv: string[], io: ProbeCommandIo): Promise<number> {
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      write(io.stdout, PROBE_USAGE + '\n');
      return 0;
    }
    const parsed = parseProbeArgs(argv);
    const { json, options } = parsed;
    const base = io.cwd ?? process.cwd();
    const modelPath = resolve(base, parsed.model);
    if (options.sources) options.sources = options.sources.map((s) => ({ ...s, path: resolve(base, s.path) }));
    const trained = options as ProbeOptions & { weights?: string };
    if (trained.weights) trained.weights = resolve(base, trained.weights);
    const probeOptions: ProbeOptions = { ...options, ...(io.signal ? { signal: io.signal } : {}) };
    // The model is handed over as a promise, so that the runtime worker starts while the model and input are read:
    // reading starts in a microtask, after probeModel has forked the worker.
    const model = Promise.resolve()
      .then(() => loadRunnableModel(modelPath, options))
      .then(({ model, inputShapeApplied }) => {
        // A .py model has its input shape baked in; it must not be applied a second time by name.
        if (inputShapeApplied) delete probeOptions.shapes;
        return model;
      });
    const { report, notes } = await probeModel(model, probeOptions);
    if (json) write(io.stdout, JSON.stringify(report) + '\n');
    else {
      write(io.stdout, formatProbeReport(report));
      for (const n of notes) write(io.stderr, `note: ${n}\n`);
    }
    return 0;
  } catch (e) {
    if (isUserInputError(e)) {
      write(io.stderr, `layerscope probe: ${oneLine(e.message)}\n`);
      return 2;
    }
    if (e instanceof ProbeCancelledError) {
      write(io.stderr, 'layerscope probe: cancelled\n');
      return 130;
    }
    if (e instanceof ProbeRuntimeError) {
      write(io.stderr, `layerscope probe: ${oneLine(e.message)}\n`);
      return 1;
    }
    if (e instanceof Error && e.name === 'GraphStructureError') {
      write(io.stderr, `layerscope probe: ${oneLine(e.message)}\n`);
      return 2;
    }
    write(io.stderr, `layerscope probe: internal error: ${oneLine(e instanceof Error ? e.message : String(e))}\n`);
    return 1;
  }
}




