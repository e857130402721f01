import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserInputError } from '../core/errors';
import type { Dim } from '../core/ir/types';
import type { ModelSummary } from '../core/analysis/types';
import { summarizeModel } from '../core/analysis/summary';
import { modelFormat, openModel } from '../core/open';
import { lastValue, parseArgs, parseInputShape, parsePositiveInt } from './args';
import { summarizeWithPython } from './exactSummary';
import type { InputShapeArg } from './args';
import type { CliIo } from './io';
import { formatScopeTable, scopeRows } from './scopeFormat';
import { formatHeader, formatSummaryJson, formatSummaryMarkdown, formatSummaryTable } from './summaryFormat';

export const SUMMARY_HELP = `Usage: layerscope summary MODEL [--input-shape [NAME=]1x3x224x224]... [--json | --markdown]
       layerscope summary FILE.py --python PATH [--class NAME] [--input-shape 1x3x224x224] [--json | --markdown]

Shapes, parameters, MACs, memory and receptive fields of every layer of an ONNX file (.onnx) or of the PyTorch
modules in a Python file (.py).

Options:
  --input-shape [NAME=]DIMS  Fix an input's dims, for example input=1x3x224x224 or N=?; a name such as N keeps a
                             dim symbolic. The name may be left out when the model has one input. Repeatable.
  --import-root DIR          For a .py file: also look for imported modules under DIR (a package root, or a
                             site-packages folder such as /usr/lib/python3/dist-packages). Read as text, never run.
                             Repeatable; imports relative to the file and in its own folder are always followed.
  --json                     Print one JSON document (the contract in docs/json-contract.md).
  --markdown                 Print a Markdown table to paste into a README.
  --by-scope                 Parameters and MACs per name scope (layer1, layer1.0, ...) instead of per layer; with
                             --json, a "scopes" array is added to the summary.
  --depth N                  How deep --by-scope goes (default 1: top-level scopes).
  --max-nodes N              Refuse graphs with more than N nodes (default 50,000).
  --python PATH              (.py only) Verify with this Python's PyTorch: it imports the file (its __main__ block
                             does not run), builds the model and reports exact parameters and layer shapes. This runs
                             the file's code. modules[].source says "python" or "static".
  --class NAME               (with --python) The class or factory function to build; the file's main model by default.
  --timeout SECONDS          (with --python) Stop PyTorch after this long (default 60).
  -h, --help                 Show this help.
`;

/** Files at least this large get their header line before they are read. */
const EARLY_HEADER_BYTES = 32 * 1024 * 1024;

export async function runSummaryCommand(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, { flags: ['json', 'markdown', 'help', 'by-scope'], values: ['input-shape', 'max-nodes', 'depth', 'python', 'class', 'timeout', 'import-root'], aliases: { h: 'help' } }, 'layerscope summary');
  if (args.flags.has('help')) {
    io.stdout(SUMMARY_HELP);
    return 0;
  }
  if (args.positionals.length === 0) throw new UserInputError('summary needs a MODEL file (.onnx or .py); see layerscope summary --help');
  if (args.positionals.length > 1) throw new UserInputError(`summary takes one MODEL file, not ${args.positionals.length}: ${args.positionals.join(' ')}`);
  if (args.flags.has('json') && args.flags.has('markdown')) throw new UserInputError('choose one of --json and --markdown');
  const shapes = (args.values.get('input-shape') ?? []).map(parseInputShape);
  const maxText = lastValue(args, 'max-nodes');
  const maxNodes = maxText === undefined ? undefined : parsePositiveInt('max-nodes', maxText);
  const given = args.positionals[0];
  const file = path.resolve(io.cwd, given);
  const mode = args.flags.has('json') ? 'json' : args.flags.has('markdown') ? 'markdown' : 'table';

  let summary: ModelSummary;
  const exactPython = lastValue(args, 'python');
  if ((args.values.has('class') || args.values.has('timeout')) && exactPython === undefined) throw new UserInputError('--class and --timeout go with --python PATH');
  if (exactPython !== undefined) {
    if (modelFormat(file) !== 'python') throw new UserInputError('--python verifies PyTorch source; give a .py file');
    if (shapes.length > 1) throw new UserInputError('--python takes one --input-shape');
    const className = lastValue(args, 'class');
    const timeoutText = lastValue(args, 'timeout');
    summary = await summarizeWithPython(file, {
      python: exactPython,
      roots: [io.cwd],
      ...(io.signal ? { signal: io.signal } : {}),
      ...(className !== undefined ? { className } : {}),
      ...(shapes[0] ? { inputShape: shapes[0].dims } : {}),
      ...(timeoutText !== undefined ? { timeoutMs: parsePositiveInt('timeout', timeoutText) * 1000 } : {}),
    });
  } else if (modelFormat(file) === 'python') {
    // The Python front end (tree-sitter and the interpreter) loads only when a .py file is summarised.
    const python = await import('../core/python/summary');
    const inputShapes: Record<string, Dim[]> = {};
    for (const s of shapes) inputShapes[s.name ?? 'input'] = s.dims;
    const importRoots = (args.values.get('import-root') ?? []).map((d) => path.resolve(io.cwd, d));
    summary = await python.summarizePythonFile(file, { ...(shapes.length > 0 ? { inputShapes } : {}), importRoots });
  } else {
    const size = fileSize(file);
    // For a large file the header goes out before the model is read, so that something shows at once; small files
    // print it with the table, so that a broken small file leaves stdout empty and only the error line on stderr.
    const early = mode === 'table' && size !== undefined && size >= EARLY_HEADER_BYTES;
    if (early) io.stdout(formatHeader(given, size));
    const { model } = await openModel(file);
    summary = summarizeModel(model, {
      ...(shapes.length > 0 ? { inputShapes: resolveShapeNames(shapes, model.graph.inputs.map((i) => i.name), new Set(model.graph.initializers.map((t) => t.name))) } : {}),
      ...(maxNodes !== undefined ? { maxNodes } : {}),
    });
    if (mode === 'table' && !early) io.stdout(formatHeader(given, size));
  }
  if (args.flags.has('by-scope')) {
    const depthText = lastValue(args, 'depth');
    const rows = scopeRows(summary, depthText === undefined ? 1 : parsePositiveInt('depth', depthText));
    if (mode === 'markdown') throw new UserInputError('--by-scope prints a table or, with --json, JSON; not --markdown');
    io.stdout(mode === 'json' ? `${JSON.stringify({ ...summary, scopes: rows })}\n` : formatScopeTable(rows));
    return 0;
  }
  io.stdout(mode === 'json' ? formatSummaryJson(summary) : mode === 'markdown' ? formatSummaryMarkdown(summary) : formatSummaryTable(summary));
  return 0;
}

function fileSize(file: string): number | undefined {
  try {
    const stat = fs.statSync(file);
    return stat.isFile() ? stat.size : undefined;
  } catch {
    return undefined;
  }
}

/** Unnamed --input-shape values apply to the model's only input; with several inputs a name is required. */
function resolveShapeNames(shapes: InputShapeArg[], inputs: string[], initializers: Set<string>): Record<string, Dim[]> {
  const real = inputs.filter((n) => !initializers.has(n));
  const out: Record<string, Dim[]> = {};
  for (const s of shapes) {
    let name = s.name;
    if (name === undefined) {
      if (real.length !== 1) {
        throw new UserInputError(`--input-shape ${s.dims.join('x')} needs a NAME= because the model has ${real.length} inputs (${real.join(', ')})`);
      }
      name = real[0];
    }
    out[name] = s.dims;
  }
  return out;
}
