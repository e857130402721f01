import { existsSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { UserInputError } from '../core/errors';
import type { Model } from '../core/ir/types';
import { readOnnxFile } from '../core/onnx/reader';

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

export function parseShape(text: string, flag: string): number[] {
  const dims = text.split(/[x×,]/).map((d) => Number(d.trim()));
  if (dims.length === 0 || dims.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new UserInputError(`${flag}: '${text}' is not a shape like 1x3x224x224`);
  }
  return dims;
}

/** An integer option of at least `min`. */
export function intArg(text: string | undefined, flag: string, min: number): number {
  const n = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isInteger(n) || n < min) {
    throw new UserInputError(`${flag} needs an integer of at least ${min}, not '${text ?? ''}'`);
  }
  return n;
}

/** Error messages go on one line of stderr. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

type PythonModules = {
  parser: typeof import('../core/python/parser');
  analyze: typeof import('../core/python/analyze');
  summary: typeof import('../core/python/summary');
  lower: typeof import('../core/python/lower');
};

/** The PyTorch-source front end, required lazily so that running ONNX files never loads the parser. */
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

export interface RunnableModel {
  model: Model;
  /** True when the input shape was baked into the graph (a .py model), so it must not be applied again by name. */
  inputShapeApplied: boolean;
}

/**
 * The model a probe runs. A .py MODEL is the file's main nn.Module (as `layerscope summary` picks it) lowered to the
 * IR with PyTorch's own default initialisation, so that a probe shows what a freshly built model does. Its input
 * shape comes from `--input-shape` or the class's `# layerscope: input 1x3x32x32` comment.
 */
export async function loadRunnableModel(file: string, options: { shapes?: Record<string, number[]>; seed?: number }): Promise<RunnableModel> {
  if (extname(file).toLowerCase() !== '.py') return { model: readOnnxFile(file), inputShapeApplied: false };
  const py = pythonModules();
  if (!py) throw new UserInputError(`${file}: this build cannot read PyTorch source; export the model with torch.onnx.export and use the .onnx`);
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
    if (!main) throw new UserInputError(`${file}: no torch.nn.Module subclass to run`);
    const shape = given ?? main.inputShape;
    if (!shape) throw new UserInputError(`${file}: no input shape; pass --input-shape 1x3x32x32 or add a "# layerscope: input 1x3x32x32" comment above the class`);
    const model = py.lower.lowerModuleToModel(main, { inputShape: shape, init: 'pytorch', seed: options.seed ?? 0, interpreter: analysis.interpreter, file });
    return { model, inputShapeApplied: true };
  } finally {
    tree.delete();
  }
}
