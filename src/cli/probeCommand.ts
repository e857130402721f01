import { existsSync, readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import type { Model } from '../core/ir/types';
import { isUserInputError, UserInputError } from '../core/errors';
import type { ProbeReport } from '../core/reports';
import { readOnnxFile } from '../core/onnx/reader';
import type { InputSource } from '../runtime/inputs';
import { probeModel } from '../runtime/probe';
import type { ProbeOptions } from '../runtime/probe';
import { EXECUTION_PROVIDERS, isExecutionProviderChoice } from '../runtime/providers';
import { ProbeCancelledError, ProbeRuntimeError } from '../runtime/runtimeClient';

/**
 * `layerscope probe MODEL [--input [NAME=]FILE.npy | --input-shape ... --random normal|uniform --seed S]
 * [--ep auto|cpu|cuda|webgpu|dml|coreml] [--bins 64] [--json]`, plus --image, --budget-mb, --batch, --layers,
 * --device-id, --optimization and --timeout. Exit codes follow DESIGN.md: 0 ok, 1 internal or runtime failure, 2
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
                       [--input-shape [NAME=]1x3x224x224]... [--random normal|uniform] [--seed S] [--batch N]
                       [--ep ${EXECUTION_PROVIDERS.join('|')}] [--device-id N] [--bins 64] [--budget-mb 512]
                       [--layers NAME,...] [--optimization basic|disabled] [--timeout SECONDS] [--json]`;

export interface ParsedProbeArgs {
  model: string;
  json: boolean;
  options: ProbeOptions;
}

function splitNamed(value: string): { name?: string; rest: string } {
  // NAME=FILE, where the file part may itself contain '=' only after the first one.
  const eq = value.indexOf('=');
  if (eq > 0) return { name: value.slice(0, eq), rest: value.slice(eq + 1) };
  return { rest: value };
}

function parseShape(text: string, flag: string): number[] {
  const dims = text.split(/[x×,]/).map((d) => Number(d.trim()));
  if (dims.length === 0 || dims.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new UserInputError(`${flag}: '${text}' is not a shape like 1x3x224x224`);
  }
  return dims;
}

function parseNumberList(text: string, flag: string): number[] {
  const values = text.split(',').map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isFinite(v))) throw new UserInputError(`${flag}: '${text}' is not a list of numbers`);
  return values;
}

function positiveInt(text: string | undefined, flag: string, allowZero = false): number {
  const n = Number(text);
  if (text === undefined || !Number.isInteger(n) || n < (allowZero ? 0 : 1)) throw new UserInputError(`${flag} needs a ${allowZero ? 'non-negative' : 'positive'} integer`);
  return n;
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

export function parseProbeArgs(argv: string[]): ParsedProbeArgs {
  const positional: string[] = [];
  const sources: InputSource[] = [];
  const shapes: Record<string, number[]> = {};
  let mean: number[] | undefined;
  let std: number[] | undefined;
  let json = false;
  const options: ProbeOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    // --flag=value is accepted as well as --flag value; the value may itself be NAME=FILE.
    const eqFlag = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eqFlag > 0 ? arg.slice(0, eqFlag) : arg;
    const inline = eqFlag > 0 ? arg.slice(eqFlag + 1) : undefined;
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
        sources.push({ kind, path: rest, ...(name ? { name } : {}) } as InputSource);
        break;
      }
      case '--image': {
        const { name, rest } = splitNamed(next());
        sources.push({ kind: 'image', path: rest, ...(name ? { name } : {}) });
        break;
      }
      case '--input-shape': {
        const { name, rest } = splitNamed(next());
        shapes[name ?? ''] = parseShape(rest, '--input-shape');
        break;
      }
      case '--mean':
        mean = parseNumberList(next(), '--mean');
        break;
      case '--std':
        std = parseNumberList(next(), '--std');
        if (std.some((s) => s === 0)) throw new UserInputError('--std: a standard deviation of 0 would divide by zero');
        break;
      case '--random': {
        const v = next();
        if (v !== 'normal' && v !== 'uniform') throw new UserInputError(`--random must be normal or uniform, not '${v}'`);
        options.random = v;
        break;
      }
      case '--seed':
        options.seed = positiveInt(next(), '--seed', true);
        break;
      case '--batch':
        options.batch = positiveInt(next(), '--batch');
        break;
      case '--ep':
      case '--execution-provider': {
        const v = next();
        if (!isExecutionProviderChoice(v)) throw new UserInputError(`--ep must be one of ${EXECUTION_PROVIDERS.join(', ')}, not '${v}'`);
        options.provider = v;
        break;
      }
      case '--device-id':
        options.deviceId = positiveInt(next(), '--device-id', true);
        break;
      case '--bins':
        options.bins = positiveInt(next(), '--bins');
        if (options.bins > 4096) throw new UserInputError('--bins: at most 4096');
        break;
      case '--budget-mb':
        options.budgetBytes = positiveInt(next(), '--budget-mb') * 1024 * 1024;
        break;
      case '--layers':
        options.select = next()
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
        break;
      case '--optimization': {
        const v = next();
        if (v !== 'basic' && v !== 'disabled') throw new UserInputError(`--optimization must be basic or disabled, not '${v}'`);
        options.graphOptimizationLevel = v;
        break;
      }
      case '--timeout':
        options.timeoutMs = positiveInt(next(), '--timeout') * 1000;
        break;
      default:
        if (arg.startsWith('-') && arg !== '-') throw new UserInputError(`unknown option ${arg} for probe`);
        positional.push(arg);
    }
  }
  if (positional.length !== 1) throw new UserInputError(positional.length === 0 ? 'probe needs a MODEL file' : `probe takes one MODEL, got ${positional.length}`);
  if (mean || std) {
    for (const s of sources) {
      if (s.kind === 'image') {
        if (mean) s.mean = mean;
        if (std) s.std = std;
      }
    }
  }
  if (sources.length > 0) options.sources = sources;
  if (Object.keys(shapes).length > 0) options.shapes = shapes;
  return { model: positional[0]!, json, options };
}

function fmt(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e5 || a < 1e-3 ? x.toExponential(2) : String(Number(x.toPrecision(4)));
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
      l.name,
      l.op,
      l.shape.map((d) => (d === null ? '?' : String(d))).join('×'),
      fmt(s.mean),
      fmt(s.std),
      fmt(s.min),
      fmt(s.max),
      `${(s.fracZero * 100).toFixed(1)}%`,
      `${(s.fracSaturated * 100).toFixed(1)}%`,
      fmt(s.p50),
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.min(48, Math.max(...rows.map((r) => r[c]!.length))));
  const lines = rows.map((r) => r.map((cell, c) => pad(cell, widths[c]!)).join('  ').trimEnd());
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const out = [
    `execution provider: ${report.executionProvider}   total ${fmt(report.timing.totalMs)} ms`,
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
    const model = extname(modelPath).toLowerCase() === '.py' ? await loadPythonModel(modelPath, options) : readOnnxFile(modelPath);
    const { report, notes } = await probeModel(model, { ...options, ...(io.signal ? { signal: io.signal } : {}) });
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

type PythonModules = {
  parser: typeof import('../core/python/parser');
  analyze: typeof import('../core/python/analyze');
  summary: typeof import('../core/python/summary');
  lower: typeof import('../core/python/lower');
};

/** The PyTorch-source front end, required lazily so that probing ONNX files never loads the parser. */
function pythonModules(): PythonModules | undefined {
  try {
    /* eslint-disable @typescript-eslint/no-require-imports */
    return {
      parser: require('../core/python/parser'),
      analyze: require('../core/python/analyze'),
      summary: require('../core/python/summary'),
      lower: require('../core/python/lower'),
    };
    /* eslint-enable @typescript-eslint/no-require-imports */
  } catch {
    return undefined;
  }
}

/**
 * A .py MODEL: the file's main nn.Module (as `layerscope summary` picks it) lowered to the IR with PyTorch's own
 * default initialisation (each layer's reset_parameters), so that the probe shows what a freshly built model does.
 * The input shape comes from --input-shape or the class's `# layerscope: input 1x3x32x32` comment.
 */
async function loadPythonModel(file: string, options: ProbeOptions): Promise<Model> {
  const py = pythonModules();
  if (!py) throw new UserInputError(`${file}: this build cannot read PyTorch source; export the model with torch.onnx.export and probe the .onnx`);
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserInputError(`${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read the file (${code ?? String(e)})`}`);
  }
  const given = options.shapes?.[''] ?? options.shapes?.['input'];
  const parser = await py.parser.loadPythonParser(existsSync(join(__dirname, 'tree-sitter-python.wasm')) ? __dirname : undefined);
  const tree = parser.parse(source);
  if (!tree) throw new UserInputError(`${file}: the Python parser returned no tree`);
  try {
    const analysis = py.analyze.analyzeTree(tree, source, given ? { defaultInputShape: given } : {});
    const main = py.summary.mainModule(analysis);
    if (!main) throw new UserInputError(`${file}: no torch.nn.Module subclass to probe`);
    const shape = given ?? main.inputShape;
    if (!shape) throw new UserInputError(`${file}: no input shape; pass --input-shape 1x3x32x32 or add a "# layerscope: input 1x3x32x32" comment above the class`);
    const model = py.lower.lowerModuleToModel(main, { inputShape: shape, init: 'pytorch', seed: options.seed ?? 0, interpreter: analysis.interpreter, file });
    // The shape is now fixed in the graph; the input-shape option must not be applied a second time by name.
    delete options.shapes;
    return model;
  } finally {
    tree.delete();
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
