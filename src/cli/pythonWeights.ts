import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserInputError } from '../core/errors';
import type { Model } from '../core/ir/types';
import { openModelBytes, withPythonFile } from '../core/open';
import { exactSelection } from '../core/python/exact';
import { PythonBridge, PythonBridgeError } from '../runtime/pythonBridge';

/**
 * `probe`/`grad` on a .py model with `--python PATH` and optionally `--weights FILE`: the user's PyTorch builds the
 * model, loads the trained checkpoint (.pt/.pth state dict or .safetensors) and exports it with torch.onnx.export to
 * a private temporary folder, which is always removed; the probe then runs that graph. So users probe their trained
 * model, not a freshly initialised one.
 */

export const WEIGHT_EXTENSIONS = ['.pt', '.pth', '.safetensors'];

export interface TrainedModelOptions {
  python: string;
  weights?: string;
  /** The class, factory or variable to build; the file's main model by default. */
  className?: string;
  /** `--input-shape`; else the class's `# layerscope: input …` comment. */
  inputShape?: number[];
  timeoutMs?: number;
}

export async function loadPythonModelWithPyTorch(file: string, options: TrainedModelOptions): Promise<{ model: Model; inputShape: number[] }> {
  if (options.weights !== undefined) {
    if (!WEIGHT_EXTENSIONS.includes(path.extname(options.weights).toLowerCase())) throw new UserInputError(`--weights ${options.weights}: expected a ${WEIGHT_EXTENSIONS.join(', ')} file`);
    if (!fs.existsSync(options.weights)) throw new UserInputError(`--weights ${options.weights}: no such file`);
  }
  const selection = await withPythonFile(file, {}, (analysis, source) => {
    try {
      return exactSelection(analysis, source, options.className);
    } catch (e) {
      throw new UserInputError(`${file}: ${e instanceof Error ? e.message : String(e)}; name what to build with --class NAME (a class, a factory function or a module-level variable)`);
    }
  });
  const declared = selection.module?.inputShape;
  const inputShape = options.inputShape ?? (declared && declared.every((d) => typeof d === 'number') ? (declared as number[]) : undefined);
  if (!inputShape) throw new UserInputError(`${file}: no input shape; pass --input-shape 1x3x32x32 or add a "# layerscope: input 1x3x32x32" comment above the class`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerscope-export-'));
  const bridge = new PythonBridge({ python: options.python });
  try {
    const output = path.join(dir, 'model.onnx');
    await bridge.exportOnnx({ file, target: selection.target, inputShape, output, ...(options.weights ? { weights: path.resolve(options.weights) } : {}) }, { timeoutMs: options.timeoutMs ?? 120_000 });
    // A fresh copy: a Buffer from readFileSync may sit at an odd offset of a shared pool.
    const exported = await openModelBytes(new Uint8Array(fs.readFileSync(output)), 'onnx', { label: `${selection.name} exported by PyTorch` });
    return { model: exported.model, inputShape };
  } catch (e) {
    if (e instanceof PythonBridgeError) throw new UserInputError(e.message);
    throw e;
  } finally {
    bridge.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
