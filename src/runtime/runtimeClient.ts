import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserInputError } from '../core/errors';
import type { ProbeJob, ProbeJobResult, WorkerToParent } from './protocol';
import { isWorkerToParent } from './protocol';

/**
 * The parent side of the runtime worker. Each job gets a fresh child process: a native crash, an out-of-memory kill
 * or a hang then costs one probe, with a message that says which of those happened, and the caller (the CLI or the
 * extension host) carries on. A timeout and an AbortSignal both kill the child.
 */

/** A probe that failed for a reason outside the user's input: the worker crashed, was killed, or timed out. */
export class ProbeRuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProbeRuntimeError';
  }
}

/** Cancellation through the AbortSignal; front ends show it as "cancelled", not as a failure. */
export class ProbeCancelledError extends Error {
  constructor() {
    super('the probe was cancelled');
    this.name = 'ProbeCancelledError';
  }
}

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
  const workerPath = options.workerPath ?? resolveWorkerPath();
  const id = nextId++;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise<ProbeJobResult>((resolve, reject) => {
    const jobReady = Promise.resolve(job);
    if (options.signal?.aborted) {
      jobReady.catch(() => undefined);
      reject(new ProbeCancelledError());
      return;
    }
    const child = fork(workerPath, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Run TypeScript sources through tsx; the bundled worker needs nothing.
      execArgv: workerPath.endsWith('.ts') ? ['--import', 'tsx'] : [],
      env: { ...process.env, ORT_LOGGING_LEVEL: 'error' },
    });
    // Native code writes warnings straight to stderr; keep the tail for the crash message instead of showing it.
    let stderrTail = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-4000);
    });
    child.stdout?.resume();
    let settled = false;
    let reason: 'timeout' | 'abort' | null = null;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      fn();
    };
    const timer = setTimeout(() => {
      reason = 'timeout';
      child.kill('SIGKILL');
    }, timeoutMs);
    const onAbort = (): void => {
      reason = 'abort';
      child.kill('SIGKILL');
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.on('message', (raw: unknown) => {
      if (!isWorkerToParent(raw)) return;
      const msg = raw as WorkerToParent;
      if (msg.type === 'ready') {
        jobReady.then(
          (j) => {
            if (!settled) child.send({ ...j, type: 'probe', id } satisfies ProbeJob);
          },
          () => undefined,
        );
      } else if (msg.type === 'progress' && msg.id === id) {
        options.onProgress?.(msg.done, msg.total, msg.message);
      } else if (msg.type === 'result' && msg.id === id) {
        finish(() => resolve(msg.result));
      } else if (msg.type === 'error' && msg.id === id) {
        finish(() => reject(msg.userError ? new UserInputError(msg.message) : new ProbeRuntimeError(msg.message)));
      }
    });
    jobReady.catch((e: unknown) => finish(() => reject(e)));
    child.on('error', (e) => finish(() => reject(new ProbeRuntimeError(`could not start the runtime worker: ${e.message}`))));
    child.on('exit', (code, signal) => {
      finish(() => {
        if (reason === 'abort') reject(new ProbeCancelledError());
        else if (reason === 'timeout') reject(new ProbeRuntimeError(`the probe timed out after ${Math.round(timeoutMs / 1000)} s and was stopped`));
        else reject(new ProbeRuntimeError(describeExit(code, signal, stderrTail)));
      });
    });
  });
}

function describeExit(code: number | null, signal: NodeJS.Signals | null, stderr: string): string {
  const detail = stderr
    .split('\n')
    .map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').trim())
    .filter((l) => l.length > 0)
    .slice(-1)[0];
  const tail = detail ? ` (last message: ${detail.slice(0, 300)})` : '';
  if (signal === 'SIGKILL') return `the runtime process was killed (SIGKILL), most likely for running out of memory; try a smaller batch or input${tail}`;
  if (signal) return `the runtime process crashed (${signal})${tail}`;
  return `the runtime process exited unexpectedly with code ${code}${tail}`;
}
