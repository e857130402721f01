import { spawn } from 'node:child_process';

/**
 * "Export with PyTorch": runs the user's own file with their Python and torch.onnx.export in a child process, so the
 * exported graph is exactly PyTorch's. It executes user code, so the command is only offered in trusted workspaces.
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

/** Exit code the script uses when torch cannot be imported, so that the message can say just that. */
const NO_TORCH = 3;

const SCRIPT = `
import json, runpy, sys
req = json.loads(sys.argv[1])
try:
    import torch
except Exception as e:
    sys.stderr.write(str(e))
    sys.exit(${NO_TORCH})
ns = runpy.run_path(req["file"], run_name="__layerscope_export__")
model = ns.get(req.get("variable") or "") if req.get("variable") else None
if not isinstance(model, torch.nn.Module):
    model = ns[req["className"]]()
model.eval()
x = torch.randn(*req["inputShape"])
torch.onnx.export(model, x, req["output"], input_names=["input"], output_names=["output"], opset_version=13)
`;

export function exportWithPyTorch(request: ExportRequest): Promise<ExportOutcome> {
  const payload = JSON.stringify({ file: request.file, className: request.className, variable: request.variable ?? '', inputShape: request.inputShape, output: request.output });
  return new Promise((resolve) => {
    let stderr = '';
    let settled = false;
    const done = (outcome: ExportOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const child = spawn(request.python, ['-c', SCRIPT, payload], { stdio: ['ignore', 'ignore', 'pipe'] });
    const timer = setTimeout(() => {
      child.kill();
      done({ ok: false, message: `Export with PyTorch took longer than ${Math.round((request.timeoutMs ?? 120_000) / 1000)} s and was stopped` });
    }, request.timeoutMs ?? 120_000);
    child.stderr.on('data', (chunk: Buffer) => {
      // Only the tail matters for the message; a runaway warning loop must not grow memory without bound.
      stderr = (stderr + chunk.toString('utf8')).slice(-20_000);
    });
    child.on('error', (error) => done({ ok: false, message: `cannot run ${request.python}: ${error.message}` }));
    child.on('close', (code) => {
      if (code === 0) return done({ ok: true });
      if (code === NO_TORCH) return done({ ok: false, message: `PyTorch is not installed for ${request.python} (import torch failed)`, detail: stderr.trim() });
      const last = stderr.trim().split('\n').filter((l) => l.trim() !== '').pop() ?? `exit code ${code ?? 'unknown'}`;
      done({ ok: false, message: `Export with PyTorch failed: ${last}`, detail: stderr.trim() });
    });
  });
}
