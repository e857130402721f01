import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Locates Debian's /usr/bin/python3 with torch and onnx, the oracle for the probe tests. The `python3` on PATH is
 * often a different interpreter without torch, so the absolute path is tried first. When no oracle is found, tests
 * skip with a message, except under CI (process.env.CI), where a missing oracle is a failure.
 */
let cached: string | null | undefined;

export function findTorchPython(): string | null {
  if (cached !== undefined) return cached;
  cached = null;
  for (const candidate of [process.env.LAYERSCOPE_TORCH_PYTHON, '/usr/bin/python3']) {
    if (!candidate || !existsSync(candidate)) continue;
    const r = spawnSync(candidate, ['-c', 'import torch, onnx, numpy; print("ok")'], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.includes('ok')) {
      cached = candidate;
      break;
    }
  }
  return cached;
}

/** Returns the oracle, or skips the current test (fails under CI) when none is installed. */
export function requireTorchPython(ctx: Mocha.Context): string {
  const py = findTorchPython();
  if (py) return py;
  if (process.env.CI) throw new Error('CI: /usr/bin/python3 with torch and onnx is required for this test (apt install python3-torch python3-onnx)');
  // eslint-disable-next-line no-console
  console.log('    (skipped: /usr/bin/python3 with torch, onnx and numpy not found)');
  ctx.skip();
}

/** Runs a Python script with the oracle and returns its stdout; throws with stderr on failure. */
export function runPython(py: string, script: string, args: string[] = []): string {
  const r = spawnSync(py, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
