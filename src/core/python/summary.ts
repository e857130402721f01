import * as fs from 'node:fs';
import type { Tree } from 'web-tree-sitter';
import type { ModelSummary, SourceModuleSummary, Totals } from '../analysis/types';
import { UserInputError } from '../errors';
import type { Dim } from '../ir/types';
import { analyzeTree } from './analyze';
import type { AnalyzeOptions, ModuleAnalysis, PythonAnalysis } from './analyze';
import { loadPythonParser } from './parser';
import { totalParams } from './values';

/**
 * `layerscope summary file.py`: the ModelSummary of DESIGN.md's contract for PyTorch source. Every Module class gets
 * an entry in `modules`; the totals describe the file's main model, which is the last module-level instantiation
 * whose count is known, or else the last complete class that no other class uses.
 */

export interface PythonSummaryOptions {
  /** Input shapes by class name, or under 'input' for every class (the CLI's --input-shape). */
  inputShapes?: Record<string, Dim[]>;
  /** Used for classes that have neither an entry in inputShapes nor a `# layerscope: input …` comment. */
  defaultInputShape?: Dim[];
  /** Only for messages. */
  fileName?: string;
  /** The folder holding tree-sitter.wasm and tree-sitter-python.wasm (dist/ in the bundles). */
  wasmDir?: string;
}

/** Summarises an already-parsed tree. Never throws on syntax errors: the parts that parsed are summarised. */
export function summarizePythonTree(tree: Tree, source: string, options: PythonSummaryOptions = {}): ModelSummary {
  const analyzeOptions: AnalyzeOptions = {
    ...(options.inputShapes ? { inputShapes: options.inputShapes } : {}),
    ...(options.defaultInputShape ? { defaultInputShape: options.defaultInputShape } : {}),
  };
  return summaryFromAnalysis(analyzeTree(tree, source, analyzeOptions));
}

/** Parses and summarises Python source. */
export async function summarizePythonSource(source: string, options: PythonSummaryOptions = {}): Promise<ModelSummary> {
  const parser = await loadPythonParser(options.wasmDir);
  const tree = parser.parse(source);
  if (!tree) throw new Error(`${options.fileName ?? 'source'}: the Python parser returned no tree`);
  try {
    return summarizePythonTree(tree, source, options);
  } finally {
    tree.delete();
  }
}

/** Reads, parses and summarises a .py file; an unreadable path is a UserInputError (exit code 2). */
export async function summarizePythonFile(file: string, options: PythonSummaryOptions = {}): Promise<ModelSummary> {
  let source: string;
  try {
    if (fs.statSync(file).isDirectory()) throw new UserInputError(`${file}: is a directory, not a Python file`);
    source = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof UserInputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserInputError(`${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read the file (${code ?? String(e)})`}`);
  }
  if (source.includes('\u0000')) throw new UserInputError(`${file}: not a Python source file (it contains NUL bytes)`);
  return summarizePythonSource(source, { ...options, fileName: options.fileName ?? file });
}

/** The contract's `modules` array: one entry per Module class, lines 1-based. */
export function modulesOf(analysis: PythonAnalysis): SourceModuleSummary[] {
  return analysis.modules.map((m) => ({
    name: m.name,
    line: m.range.line + 1,
    params: m.params ? m.params.params : null,
    layers: m.leaves.map((leaf) => {
      const own = totalParams(leaf.layer);
      return {
        name: leaf.path,
        line: leaf.layer.range.line + 1,
        type: leaf.layer.type,
        params: own ? own.params : null,
        outputShape: leaf.trace?.output ?? null,
      };
    }),
  }));
}

/** The module whose numbers become the file's totals, as described at the top of this file. */
export function mainModule(analysis: PythonAnalysis): ModuleAnalysis | undefined {
  const known = analysis.modules.filter((m) => m.params !== null);
  for (let i = analysis.instances.length - 1; i >= 0; i--) {
    const inst = analysis.instances[i];
    if (!inst.params) continue;
    const m = known.find((k) => k.instance === inst.instance);
    if (m) return m;
  }
  const usedByOthers = new Set<string>();
  for (const m of analysis.modules) {
    const visit = (layer: ModuleAnalysis['instance']): void => {
      for (const [, c] of layer.children) {
        if (c.category === 'user') usedByOthers.add(c.type);
        visit(c);
      }
    };
    visit(m.instance);
  }
  const top = known.filter((m) => !usedByOthers.has(m.name));
  return top[top.length - 1] ?? known[known.length - 1];
}

export function summaryFromAnalysis(analysis: PythonAnalysis): ModelSummary {
  const main = mainModule(analysis);
  const warnings: string[] = [];
  for (const d of analysis.diagnostics) warnings.push(`line ${d.range.line + 1}, column ${d.range.column + 1}: ${d.message}`);
  for (const m of analysis.modules) if (m.params === null && m.reason) warnings.push(`${m.name} (line ${m.range.line + 1}): parameters unknown because ${m.reason}`);
  if (analysis.hasSyntaxErrors) warnings.push('the file has syntax errors; only the parts that parsed are summarised');
  if (analysis.modules.length === 0) warnings.push('no torch.nn.Module subclasses were found');
  const buffers = main?.params?.buffers ?? 0;
  const totals: Totals = {
    params: main?.params?.params ?? 0,
    trainableParams: main?.params?.trainable ?? 0,
    nonTrainableParams: buffers,
    macs: main?.macs ?? 0,
    // PyTorch parameters are float32 unless the source says otherwise, and the running statistics are kept too.
    paramBytes: ((main?.params?.params ?? 0) + buffers) * 4,
    activationBytes: 0,
  };
  return {
    format: 'python',
    opset: 0,
    ...(main ? { model: { name: main.name } } : {}),
    inputs: main && main.inputShape ? [{ name: 'input', shape: main.inputShape, dtype: 'float32' }] : [],
    outputs: main && main.outputShape ? [{ name: 'output', shape: main.outputShape, dtype: 'float32' }] : [],
    totals,
    layers: [],
    warnings,
    modules: modulesOf(analysis),
  };
}
