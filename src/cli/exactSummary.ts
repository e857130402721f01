import { UserInputError } from '../core/errors';
import type { ModelSummary } from '../core/analysis/types';
import type { Dim } from '../core/ir/types';
import { withPythonFile } from '../core/open';
import { cpuReason, exactSelection, mergeExactSummary } from '../core/python/exact';
import { mainModule, summaryFromAnalysis } from '../core/python/summary';
import { DEFAULT_MEMORY_LIMIT_MB, PythonBridge, PythonBridgeError } from '../runtime/pythonBridge';

/**
 * `layerscope summary FILE.py --python PATH`: the static summary, with the chosen model's figures replaced by what
 * the user's own PyTorch reports (see core/python/exact.ts for how the two are laid over each other).
 */

export interface ExactSummaryOptions {
  python: string;
  /** The class or factory function to build; the file's main model by default. */
  className?: string;
  /** From `--input-shape`; else the class's `# layerscope: input …` comment. */
  inputShape?: Dim[];
  timeoutMs?: number;
  memoryLimitMB?: number;
  /** Folders whose modules are the user's (the working folder); they go on sys.path. */
  roots?: string[];
  signal?: AbortSignal;
}

function concrete(shape: readonly Dim[] | null | undefined, what: string): number[] | null {
  if (!shape) return null;
  if (shape.some((d) => typeof d !== 'number')) throw new UserInputError(`${what} ${shape.map((d) => d ?? '?').join('x')} has symbolic dims; PyTorch needs numbers such as 1x3x224x224`);
  return shape as number[];
}

export async function summarizeWithPython(file: string, options: ExactSummaryOptions): Promise<ModelSummary> {
  const given = options.inputShape ? { inputShapes: { input: options.inputShape } } : {};
  return withPythonFile(file, { analyze: given }, async (analysis, source) => {
    const summary = summaryFromAnalysis(analysis, { ...given, fileName: file });
    let selection;
    try {
      selection = exactSelection(analysis, source, options.className);
    } catch (e) {
      throw new UserInputError(`${file}: ${e instanceof Error ? e.message : String(e)}; name what to build with --class NAME (a class, a factory function or a module-level variable)`);
    }
    const inputShape = concrete(options.inputShape, '--input-shape') ?? concrete(selection.module?.inputShape, `${selection.name}'s input shape`);
    const bridge = new PythonBridge({ python: options.python, ...(options.memoryLimitMB ? { memoryLimitMB: options.memoryLimitMB } : {}), ...(options.roots?.[0] ? { cwd: options.roots[0] } : {}) });
    try {
      const result = await bridge.inspect(
        { file, target: selection.target, inputShape, ...(options.roots ? { roots: options.roots } : {}) },
        { ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}), ...(options.signal ? { signal: options.signal } : {}) },
      );
      const main = mainModule(analysis);
      // With no static main model the totals were empty, and PyTorch's model is the file's.
      const describesTotals = main === undefined || (selection.module !== undefined ? selection.module.instance === main.instance : analysis.instances.length === 0);
      const merged = mergeExactSummary(summary, selection, result, file, describesTotals);
      if (!inputShape) merged.warnings.push(`${selection.name}: no input shape (pass --input-shape or add a "# layerscope: input 1x3x32x32" comment above the class), so PyTorch counted parameters but ran no forward pass`);
      if (result.device === 'cpu') merged.warnings.push(`${cpuReason(result)}, so the model was built on the CPU under a ${options.memoryLimitMB ?? DEFAULT_MEMORY_LIMIT_MB} MiB memory limit`);
      return merged;
    } catch (e) {
      // Problems with the user's code, file or interpreter are unusable input (exit code 2), in one line.
      if (e instanceof PythonBridgeError) throw new UserInputError(e.message);
      throw e;
    } finally {
      bridge.dispose();
    }
  });
}
