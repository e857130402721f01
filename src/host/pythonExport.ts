import { PythonBridge, PythonBridgeError } from '../runtime/pythonBridge';

/**
 * "Export with PyTorch": runs the user's own file with their Python and torch.onnx.export in a child process (the
 * exact-mode bridge, src/runtime/pythonBridge.ts), so the exported graph is exactly PyTorch's. It executes user code,
 * so the command is only offered in trusted workspaces.
 * This file has no 'vscode' import, so that it is tested with a real interpreter.
 */

export interface ExportRequest {
  /** The interpreter to run, for example python3 or a virtual environment's python. */
  python: string;
  file: string;
  className: string;
  /** A module-level variable holding the instance (`model = Net(10)`); used instead of calling the class. */
  variable?: string;
  inputShape: number[];
  output: string;
  /** Default 120 s: the first torch import on a cold machine is slow. */
  timeoutMs?: number;
}

export type ExportOutcome = { ok: true } | { ok: false; message: string; detail?: string };

/** Exports through the exact-mode bridge, so that importing the user's file and exporting it is written once. */
export async function exportWithPyTorch(request: ExportRequest): Promise<ExportOutcome> {
  const bridge = new PythonBridge({ python: request.python });
  const timeoutMs = request.timeoutMs ?? 120_000;
  try {
    await bridge.exportOnnx(
      {
        file: request.file,
        target: request.variable ? { kind: 'variable', name: request.variable } : { kind: 'call', name: request.className },
        inputShape: request.inputShape,
        output: request.output,
      },
      { timeoutMs },
    );
    return { ok: true };
  } catch (error) {
    if (!(error instanceof PythonBridgeError)) throw error;
    if (error.kind === 'timeout') return { ok: false, message: `Export with PyTorch took longer than ${Math.round(timeoutMs / 1000)} s and was stopped` };
    if (error.kind === 'no-torch' || error.kind === 'no-interpreter') return { ok: false, message: error.message };
    return { ok: false, message: `Export with PyTorch failed: ${error.message}` };
  } finally {
    bridge.dispose();
  }
}
