import * as path from 'node:path';
import { UserInputError } from './errors';
import type { Dim, Model } from './ir/types';
import { MAX_PYTHON_SOURCE_BYTES } from './limits';
import { readOnnxBytes, readOnnxFile } from './onnx/reader';
import { readRegularFile } from './regularFile';
import type { AnalyzeOptions, InstanceAnalysis, ModuleAnalysis, PythonAnalysis } from './python/analyze';
import type { LayerValue } from './python/values';
import type { Interpreter } from './python/interpreter';

/**
 * The one way to open a model (Netron's `match` and `open`): every front end (the CLI's summary, probe and grad, the
 * editor's inspector, its probe and gradient commands and its Python features) asks this module what a file is and
 * gets a Model back. Here alone live the decision `.onnx` or `.py`, the reading of a model file within the caps of
 * core/limits.ts, and the lowering of a PyTorch class to the IR with the one initialisation a runnable model gets.
 *
 * Running the user's own PyTorch (exact mode, runtime/pythonBridge.ts) is a runtime concern, so it comes in as a hook
 * (`exactPython`) rather than an import: core stays free of child processes.
 *
 * The Python front end (tree-sitter and the interpreter) is imported on first use, so that opening an ONNX file
 * never loads the parser.
 */

export type ModelFormat = 'onnx' | 'python';

const FORMATS: Readonly<Record<string, ModelFormat>> = { '.onnx': 'onnx', '.py': 'python' };

/** The extensions of the files Layerscope opens as models, with the dot, in lower case. */
export const MODEL_FILE_EXTENSIONS: readonly string[] = Object.keys(FORMATS);

/** A file's (or a URI path's) model format by its extension, case-insensitively; undefined for any other file. */
export function modelFormat(file: string): ModelFormat | undefined {
  return FORMATS[path.extname(file).toLowerCase()];
}

/**
 * The weights a model lowered from source runs with: PyTorch's own default initialisation of each layer, from one
 * fixed seed, so that a probe or a gradient run on the same file shows the same freshly built model in the CLI and in
 * the editor. (The inputs' --seed is a separate thing and does not change the weights.)
 */
export const SOURCE_MODEL_INIT = { init: 'pytorch', seed: 0 } as const;

/** What a front end gets back. */
export interface OpenedModel {
  model: Model;
  format: ModelFormat;
  /** The file's base name for an ONNX file; the class (or variable) that was lowered for a .py file. */
  name: string;
  /** True when the input shape is baked into the graph (a .py model), so it must not be applied again by name. */
  inputShapeApplied: boolean;
}

export interface OpenOptions {
  /** For a .py file: the input shape (--input-shape), else the class's `# layerscope: input …` comment is used. */
  inputShape?: number[];
  /** For a .py file: the folder holding the tree-sitter wasm files (dist/ in the bundles). */
  wasmDir?: string;
  /** For a .py file: how this front end lets the user give a shape, for the error when none is known. */
  shapeHint?: string;
  /** For a .py file: build the model with the user's PyTorch instead of lowering the source (exact mode). */
  exactPython?: (file: string) => Promise<Model>;
}

/** Opens a model file: an ONNX file (anything that is not .py is read as ONNX, so the reader names what is wrong), or a .py file's main nn.Module. */
export async function openModel(file: string, options: OpenOptions = {}): Promise<OpenedModel> {
  if (modelFormat(file) !== 'python') {
    return { model: readOnnxFile(file), format: 'onnx', name: path.basename(file), inputShapeApplied: false };
  }
  if (options.exactPython) return { model: await options.exactPython(file), format: 'python', name: path.basename(file), inputShapeApplied: true };
  return withPythonFile(file, pythonFileOptions(options), (analysis) => openMainModule(analysis, file, options, file));
}

/** Opens a model held in memory: ONNX bytes, or (format 'python') UTF-8 source whose main nn.Module is lowered. */
export async function openModelBytes(bytes: Uint8Array, format: ModelFormat, options: OpenOptions & { label?: string; baseDir?: string } = {}): Promise<OpenedModel> {
  const label = options.label ?? 'the model';
  if (format === 'onnx') {
    return { model: readOnnxBytes(bytes, { label, ...(options.baseDir ? { baseDir: options.baseDir } : {}) }), format, name: label, inputShapeApplied: false };
  }
  const source = decodePythonSource(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), label);
  return withPythonSource(source, label, pythonFileOptions(options), (analysis) => openMainModule(analysis, label, options));
}

function pythonFileOptions(options: OpenOptions): PythonFileOptions {
  return { ...(options.inputShape ? { analyze: { defaultInputShape: options.inputShape } } : {}), ...(options.wasmDir ? { wasmDir: options.wasmDir } : {}) };
}

/** The file's main nn.Module (as `layerscope summary` picks it), lowered to a runnable model. */
async function openMainModule(analysis: PythonAnalysis, label: string, options: OpenOptions, file?: string): Promise<OpenedModel> {
  const { mainModule } = await import('./python/summary');
  const main = mainModule(analysis);
  if (!main) throw new UserInputError(`${label}: no torch.nn.Module subclass to run`);
  const model = await lowerPythonModel(main, analysis, { ...(file ? { file } : {}), ...(options.inputShape ? { inputShape: options.inputShape } : {}), ...(options.shapeHint ? { shapeHint: options.shapeHint } : {}) });
  return { model, format: 'python', name: nameOf(main), inputShapeApplied: true };
}

/** Reads a .py file within MAX_PYTHON_SOURCE_BYTES, refusing FIFOs, devices and binary files with one line. */
export function readPythonSource(file: string): string {
  return decodePythonSource(readRegularFile(file, MAX_PYTHON_SOURCE_BYTES), file);
}

function decodePythonSource(bytes: Buffer, label: string): string {
  const source = bytes.toString('utf8');
  if (source.includes('\u0000')) throw new UserInputError(`${label}: not a Python source file (it contains NUL bytes)`);
  return source;
}

export interface PythonFileOptions {
  analyze?: AnalyzeOptions;
  wasmDir?: string;
}

/**
 * Reads, parses and analyses a .py file, and hands the analysis to `use` while its syntax tree is alive (the
 * analysis points into the tree, so whatever reads it, lowering included, runs inside `use`).
 */
export async function withPythonFile<T>(file: string, options: PythonFileOptions, use: (analysis: PythonAnalysis, source: string) => T | Promise<T>): Promise<T> {
  return withPythonSource(readPythonSource(file), file, options, use);
}

async function withPythonSource<T>(source: string, label: string, options: PythonFileOptions, use: (analysis: PythonAnalysis, source: string) => T | Promise<T>): Promise<T> {
  const [{ loadPythonParser }, { analyzeTree, sourceTooLarge }] = await Promise.all([import('./python/parser'), import('./python/analyze')]);
  // Files were capped as they were read; source handed over in memory is capped here.
  const tooLarge = sourceTooLarge(Buffer.byteLength(source, 'utf8'), label);
  if (tooLarge) throw new UserInputError(tooLarge);
  const parser = await loadPythonParser(options.wasmDir);
  const tree = parser.parse(source);
  if (!tree) throw new UserInputError(`${label}: the Python parser returned no tree`);
  try {
    return await use(analyzeTree(tree, source, options.analyze ?? {}), source);
  } finally {
    tree.delete();
  }
}

/** The Python parser, for front ends that keep their own analyses (the editor's per-document cache). */
export async function loadPythonFrontEnd(wasmDir?: string): Promise<import('web-tree-sitter').Parser> {
  const { loadPythonParser } = await import('./python/parser');
  return loadPythonParser(wasmDir);
}

export interface LowerTargetOptions {
  /** The file, for node metadata (source lines) and messages. */
  file?: string;
  /** Overrides the class's declared input shape. */
  inputShape?: readonly Dim[];
  /** How this front end lets the user give a shape (completes "no input shape; …"). */
  shapeHint?: string;
}

const DEFAULT_SHAPE_HINT = 'add a "# layerscope: input 1x3x32x32" comment above the class';

/**
 * Lowers one analysed module (a class or a module-level instance) to a runnable IR model with SOURCE_MODEL_INIT.
 * Every front end that runs a model from source comes through here, so they all refuse the same cases with the same
 * line and run the same weights.
 */
export async function lowerPythonModel(target: ModuleAnalysis | InstanceAnalysis, analysis: PythonAnalysis, options: LowerTargetOptions = {}): Promise<Model> {
  const name = nameOf(target);
  if (!target.params) throw new UserInputError(`${name}: its parameters are not known statically${target.reason ? ` (${target.reason})` : ''}`);
  const shape = options.inputShape ?? target.inputShape;
  if (!shape) throw new UserInputError(`${name}: no input shape; ${options.shapeHint ?? DEFAULT_SHAPE_HINT}`);
  const { lowerModuleToModel } = await import('./python/lower');
  return lowerModuleToModel(sourceModule(target, analysis), { inputShape: [...shape], ...SOURCE_MODEL_INIT, ...(options.file ? { file: options.file } : {}) });
}

function sourceModule(target: ModuleAnalysis | InstanceAnalysis, analysis: PythonAnalysis): { instance: LayerValue; interpreter?: Interpreter } {
  return { instance: target.instance, ...(analysis.interpreter ? { interpreter: analysis.interpreter } : {}) };
}

function nameOf(target: ModuleAnalysis | InstanceAnalysis): string {
  return 'variable' in target ? target.variable || target.className : target.name;
}
