import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ProbeJob, ProbeJobResult } from './protocol';
import { ProbeRuntimeError, runWorkerJob } from './workerProcess';

/**
 * The parent side of the runtime worker. Each job gets a fresh child process: a native crash, an out-of-memory kill
 * or a hang then costs one probe, with a message that says which of those happened, and the caller (the CLI or the
 * extension host) carries on. A timeout and an AbortSignal both kill the child.
 */

export { ProbeCancelledError, ProbeRuntimeError } from './workerProcess';

export interface RunJobOptions {
  signal?: AbortSignal;
  /** Kills the worker after this long; default 10 minutes. */
  timeoutMs?: number;
  onProgress?: (done: number, total: number, message: string) => void;
  /** Overrides where the worker script is, for tests and unusual layouts. */
  workerPath?: string;
}

export const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Where the worker is: dist/runtimeWorker.js beside the bundle that runs this code (CLI and extension), or the
 * TypeScript source when running from source under tsx (tests).
 */
export function resolveWorkerPath(): string {
  const candidates = [join(__dirname, 'runtimeWorker.js'), join(__dirname, 'worker.ts'), join(__dirname, '..', '..', 'dist', 'runtimeWorker.js')];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new ProbeRuntimeError('the runtime worker (dist/runtimeWorker.js) is missing; run npm run build');
}

let nextId = 1;

/**
 * Runs one probe job in a fresh worker. `job` may be a promise: the worker process starts at once and the job is sent
 * when both are ready, so that preparing the job overlaps the worker's start-up. A rejected job kills the worker and
 * rejects with the same error.
 */
export function runProbeJob(job: Omit<ProbeJob, 'type' | 'id'> | Promise<Omit<ProbeJob, 'type' | 'id'>>, options: RunJobOptions = {}): Promise<ProbeJobResult> {
  const id = nextId++;
  return runWorkerJob<ProbeJob, ProbeJobResult>(
    Promise.resolve(job).then((j) => ({ ...j, type: 'probe', id }) satisfies ProbeJob),
    {
      workerPath: options.workerPath ?? resolveWorkerPath(),
      processName: 'runtime process',
      jobName: 'probe',
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      signal: options.signal,
      onProgress: options.onProgress,
    },
  );
}
