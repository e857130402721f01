import type { ProbeJob, ProbeJobResult } from './protocol';
import { resolveWorkerFile, startWorkerJob } from './workerProcess';

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

/** The probe worker: dist/runtimeWorker.js, or worker.ts under tsx (tests). */
export function resolveWorkerPath(): string {
  return resolveWorkerFile('runtimeWorker.js', 'worker.ts', 'runtime worker');
}

/**
 * Runs one probe job in a fresh worker. `job` may be a promise: the worker process starts at once and the job is sent
 * when both are ready, so that preparing the job overlaps the worker's start-up. A rejected job kills the worker and
 * rejects with the same error.
 */
export function runProbeJob(job: Omit<ProbeJob, 'type' | 'id'> | Promise<Omit<ProbeJob, 'type' | 'id'>>, options: RunJobOptions = {}): Promise<ProbeJobResult> {
  const kind = { type: 'probe', resolvePath: resolveWorkerPath, processName: 'runtime process', jobName: 'probe', defaultTimeoutMs: DEFAULT_TIMEOUT_MS } as const;
  return startWorkerJob<ProbeJob, ProbeJobResult>(kind, job, options);
}
