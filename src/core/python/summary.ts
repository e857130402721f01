import * as path from 'node:path';
import type { Parser, Tree } from 'web-tree-sitter';
import { ImportResolver } from './imports';
import { evaluateImportedModule } from './interpreter';
import { summarizeModel } from '../analysis/summary';
import type { ModelSummary, SourceModuleSummary } from '../analysis/types';
import { UserInputError } from '../errors';
import { readPythonSource } from '../open';
import type { Dim, Model } from '../ir/types';
import { analyzeTree, sourceTooLarge } from './analyze';
import { formatCount } from '../format';
import type { AnalyzeOptions, InstanceAnalysis, ModuleAnalysis, PythonAnalysis } from './analyze';
import { lowerModuleToModel } from './lower';
import { loadPythonParser } from './parser';
import { totalParams } from './params';

/**
 * `layerscope summary file.py`: docs/json-contract.md's summary with the extra `modules` array, one entry per nn.Module class.
 * The top-level totals and layers come from lowering the file's main model (its last module-level instantiation with
 * a known count, else the last complete class that no other class uses) to the IR and summarising that exactly as
 * an ONNX file is summarised. When the model cannot be lowered, the totals come from the source analysis and a
 * warning says why.
 */

export interface PythonSummaryOptions {
  /** Input shapes by class name, or under 'input' for every class (the CLI's --input-shape). */
  inputShapes?: Record<string, Dim[]>;
  /** Used for classes that have neither an entry in inputShapes nor a `# layerscope: input …` comment. */
  defaultInputShape?: Dim[];
  /** Only for messages, and (as a path) the folder relative imports start from. */
  fileName?: string;
  /**
   * Folders where imported modules are looked for besides the file's own (the CLI's --import-root: a package root,
   * a site-packages folder). Imports are followed when this is given.
   */
  importRoots?: string[];
  /** The folder holding tree-sitter.wasm and tree-sitter-python.wasm (dist/ in the bundles). */
  wasmDir?: string;
  /** The parser imported files are read with (set by summarizePythonSource). */
  parser?: Parser;
  /** Lowering allocates real weights; models above this many parameters are summarised from the source only. */
  maxLowerParams?: number;
}

/** Summarises an already-parsed tree. Never throws on syntax errors: the parts that parsed are summarised. */
export function summarizePythonTree(tree: Tree, source: string, options: PythonSummaryOptions = {}): ModelSummary {
  const file = options.fileName ? path.resolve(options.fileName) : undefined;
  const importer = options.importRoots && options.parser ? new ImportResolver(options.parser, [...(file ? [path.dirname(file)] : []), ...options.importRoots.map((r) => path.resolve(r))], evaluateImportedModule) : undefined;
  const analyzeOptions: AnalyzeOptions = {
    ...(options.inputShapes ? { inputShapes: options.inputShapes } : {}),
    ...(options.defaultInputShape ? { defaultInputShape: options.defaultInputShape } : {}),
    ...(importer ? { importer } : {}),
    ...(file ? { file } : {}),
  };
  try {
    return summaryFromAnalysis(analyzeTree(tree, source, analyzeOptions), options);
  } finally {
    importer?.dispose();
  }
}

/** Parses and summarises Python source. */
export async function summarizePythonSource(source: string, options: PythonSummaryOptions = {}): Promise<ModelSummary> {
  const tooLarge = sourceTooLarge(Buffer.byteLength(source, 'utf8'), options.fileName);
  if (tooLarge) throw new UserInputError(tooLarge);
  const parser = await loadPythonParser(options.wasmDir);
  const tree = parser.parse(source);
  if (!tree) throw new UserInputError(`${options.fileName ?? 'source'}: the Python parser returned no tree`);
  try {
    return summarizePythonTree(tree, source, { ...options, parser });
  } finally {
    tree.delete();
  }
}

/** Reads, parses and summarises a .py file; an unreadable path is a UserInputError (exit code 2). */
export async function summarizePythonFile(file: string, options: PythonSummaryOptions = {}): Promise<ModelSummary> {
  return summarizePythonSource(readPythonSource(file), { ...options, fileName: options.fileName ?? file });
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
        outputShape: leaf.trace?.output ? [...leaf.trace.output] : null,
      };
    }),
  }));
}

/** The model whose numbers become the file's totals, as described at the top of this file. */
export function mainModule(analysis: PythonAnalysis): ModuleAnalysis | InstanceAnalysis | undefined {
  for (let i = analysis.instances.length - 1; i >= 0; i--) {
    if (analysis.instances[i].params) return analysis.instances[i];
  }
  const known = analysis.modules.filter((m) => m.params !== null);
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
  return top[top.length - 1] ?? known[known.length - 1] ?? analysis.instances[analysis.instances.length - 1] ?? analysis.modules[analysis.modules.length - 1];
}

function nameOf(main: ModuleAnalysis | InstanceAnalysis): string {
  return 'variable' in main ? `${main.variable || main.className} (line ${main.range.line + 1})` : `${main.name} (line ${main.range.line + 1})`;
}

export function summaryFromAnalysis(analysis: PythonAnalysis, options: PythonSummaryOptions = {}): ModelSummary {
  const modules = modulesOf(analysis);
  const warnings: string[] = [];
  for (const d of analysis.diagnostics) warnings.push(`line ${d.range.line + 1}, column ${d.range.column + 1}: ${d.message}`);
  for (const m of analysis.modules) if (m.params === null && m.reason) warnings.push(`${m.name} (line ${m.range.line + 1}): parameters unknown because ${m.reason}`);
  if (analysis.hasSyntaxErrors) warnings.push('the file has syntax errors; only the parts that parsed are summarised');
  if (analysis.modules.length === 0) warnings.push('no torch.nn.Module subclasses were found');
  const main = mainModule(analysis);
  if (!main || !main.params) return sourceOnly(modules, warnings, main);
  if (!main.inputShape) {
    warnings.push(`${nameOf(main)}: no input shape (add a "# layerscope: input 1x3x32x32" comment above the class, or pass --input-shape), so the totals come from the source alone`);
    return sourceOnly(modules, warnings, main);
  }
  const limit = options.maxLowerParams ?? 20_000_000;
  if (main.params.params + main.params.buffers > limit) {
    warnings.push(`${nameOf(main)}: ${formatCount(main.params.params)} parameters is more than the ${formatCount(limit)} converted to a graph, so the totals come from the source alone`);
    return sourceOnly(modules, warnings, main);
  }
  try {
    const model = lowerModuleToModel(main, { inputShape: main.inputShape, init: 'zeros', interpreter: analysis.interpreter, ...(options.fileName ? { file: options.fileName } : {}) });
    const summary = summarizeModel(model);
    // The source's count is PyTorch's (a shared or tied parameter once, requires_grad edits applied, buffers
    // registered by the code); a graph that holds another number must not replace it.
    const p = main.params;
    const totals = summary.totals;
    if (totals.params !== p.params + p.buffers || totals.trainableParams !== p.trainable) {
      warnings.push(`${nameOf(main)}: the converted graph holds ${formatCount(totals.params)} parameter values; the totals are the source's ${formatCount(p.params + p.buffers)}, counted as PyTorch counts them`);
      const params = p.params + p.buffers;
      summary.totals = { ...totals, params, trainableParams: p.trainable, nonTrainableParams: params - p.trainable, paramBytes: params * 4 };
    }
    return { ...summary, format: 'python', warnings: [...warnings, ...summary.warnings.map((w) => withSourceOfNodes(w, model))], modules };
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    warnings.push(`${nameOf(main)}: ${e.message}; the totals come from the source alone`);
    return sourceOnly(modules, warnings, main);
  }
}

/**
 * A warning from the graph analysis names nodes; a node lowered from source also gets its module and line, so that
 * the user can find it in the file (`/layer1/0/Add (module layer1.0, line 42)`).
 */
export function withSourceOfNodes(warning: string, model: Model): string {
  let out = warning;
  for (const node of model.graph.nodes) {
    const src = node.source;
    if (!src || !node.name || !out.includes(node.name)) continue;
    const note = ` (${src.modulePath ? `module ${src.modulePath}, ` : ''}line ${src.line})`;
    // Whole names only: `/Add` must not match inside `/Add_1` or `/layer1/Add`.
    const escaped = node.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    out = out.replace(new RegExp(`(?<![\\w/.])${escaped}(?![\\w/.])(?! \\()`, 'g'), node.name + note);
  }
  return out;
}

function sourceOnly(modules: SourceModuleSummary[], warnings: string[], main: ModuleAnalysis | InstanceAnalysis | undefined): ModelSummary {
  const p = main?.params;
  // docs/json-contract.md counts running statistics as (non-trainable) parameters, as the lowered graph's initializers
  // are. A count or a MAC total the source does not give exactly is null (`?`), never 0; with no model at all the
  // file holds no parameters, and 0 is exact.
  const params = p ? p.params + p.buffers : main ? null : 0;
  return {
    format: 'python',
    opset: 17,
    ...(main ? { model: { name: 'variable' in main ? main.className : main.name } } : {}),
    inputs: main?.inputShape ? [{ name: 'input', shape: [...main.inputShape], dtype: 'float32' }] : [],
    outputs: main?.outputShape ? [{ name: 'output', shape: [...main.outputShape], dtype: 'float32' }] : [],
    totals: {
      params,
      trainableParams: p ? p.trainable : main ? null : 0,
      nonTrainableParams: p ? p.params + p.buffers - p.trainable : main ? null : 0,
      macs: main ? (main.macs ?? null) : 0,
      paramBytes: params === null ? null : params * 4,
      activationBytes: main ? null : 0,
    },
    layers: [],
    warnings,
    modules,
  };
}
