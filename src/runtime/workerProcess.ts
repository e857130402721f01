import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserInputError } from '../core/errors';

/**
 * Supervision of one job in a fresh child process, shared by the activation-probe and gradient workers. A native
 * crash, an out-of-memory kill, a hang (the timeout) and cancellation (the AbortSignal) each end only the child, and
 * each rejects with a message that says which of them happened. Both workers speak the same envelope: 'ready' once
 * they listen, then 'progress', 'result' or 'error' tagged with the job's id.
 */

/** A job that failed for a reason outside the user's input: the worker crashed, was killed, or timed out. */
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

/**
 * The environment a runtime worker runs under. onnxruntime 1.2x's telemetry (the 1DS SDK) otherwise writes a device
 * id and an SQLite event queue under ~/.cache/Microsoft/DeveloperTools/.onnxruntime/ and an empty
 * /tmp/mat-debug-<pid>.log on every session, files that outlive the probe. ORT_DISABLE_TELEMETRY=1 stops the whole
 * telemetry system, and with it both files (checked by test/unit/hostile/runtimeLeavesNoFiles.test.ts).
 */
export function quietRuntimeEnvironment(): Record<string, string> {
  return { ORT_DISABLE_TELEMETRY: '1', ORT_LOGGING_LEVEL: 'error' };
}

/** The messages every worker sends its parent. */
export type WorkerEnvelope<R> =
  | { type: 'ready'; pid: number }
  | { type: 'progress'; id: number; done: number; total: number; message: string }
  | { type: 'result'; id: number; result: R }
  | { type: 'error'; id: number; message: string; userError: boolean };

export interface WorkerJobOptions {
  workerPath: string;
  /** The process in messages, for example 'runtime process' or 'gradient worker'. */
  processName: string;
  /** The job in the timeout message, for example 'probe' or 'gradient probe'. */
  jobName: string;
  timeoutMs: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, message: string) => void;
  /** Called once the job has been handed to the worker, so that a front end can do its own work meanwhile. */
  onSent?: () => void;
}

/**
 * Forks `workerPath`, sends `job` (which may still be a promise, so that preparing it overlaps the worker's start-up)
 * once the worker says 'ready', and settles with the worker's result. The child is always killed when the job ends.
 */
export function runWorkerJob<J extends { id: number }, R>(job: J | Promise<J>, options: WorkerJobOptions): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const jobReady = Promise.resolve(job);
    if (options.signal?.aborted) {
      jobReady.catch(() => undefined);
      reject(new ProbeCancelledError());
      return;
    }
    const child = fork(options.workerPath, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Run TypeScript sources through tsx; the bundled worker needs nothing.
      execArgv: options.workerPath.endsWith('.ts') ? ['--import', 'tsx'] : [],
      // Telemetry off and logs quiet: see quietRuntimeEnvironment below.
      env: { ...process.env, ...quietRuntimeEnvironment() },
    });
    // Native code writes warnings straight to stderr; keep the tail for the crash message instead of showing it.
    let stderrTail = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-4000);
    });
    child.stdout?.resume();
    let settled = false;
    let reason: 'timeout' | 'abort' | null = null;
    let id: number | undefined;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      // The child is done with: nothing more is read from it, so this process need not wait for the kernel to tear
      // down a worker that holds hundreds of MB (about 30 ms at the end of every CLI probe).
      child.unref();
      child.channel?.unref();
      child.stdout?.destroy();
      child.stderr?.destroy();
      fn();
    };
    const timer = setTimeout(() => {
      reason = 'timeout';
      child.kill('SIGKILL');
    }, options.timeoutMs);
    const onAbort = (): void => {
      reason = 'abort';
      child.kill('SIGKILL');
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.on('message', (raw: unknown) => {
      if (typeof raw !== 'object' || raw === null || typeof (raw as { type?: unknown }).type !== 'string') return;
      const msg = raw as WorkerEnvelope<R>;
      if (msg.type === 'ready') {
        jobReady.then(
          (j) => {
            id = j.id;
            if (!settled) child.send(j, () => options.onSent?.());
          },
          () => undefined,
        );
      } else if (msg.id !== id) {
        return;
      } else if (msg.type === 'progress') {
        options.onProgress?.(msg.done, msg.total, msg.message);
      } else if (msg.type === 'result') {
        finish(() => resolve(msg.result));
      } else if (msg.type === 'error') {
        finish(() => reject(msg.userError ? new UserInputError(msg.message) : new ProbeRuntimeError(msg.message)));
      }
    });
    jobReady.catch((e: unknown) => finish(() => reject(e)));
    child.on('error', (e) => finish(() => reject(new ProbeRuntimeError(`could not start the ${options.processName}: ${e.message}`))));
    child.on('exit', (code, signal) => {
      finish(() => {
        if (reason === 'abort') reject(new ProbeCancelledError());
        else if (reason === 'timeout') reject(new ProbeRuntimeError(`the ${options.jobName} timed out after ${Math.round(options.timeoutMs / 1000)} s and was stopped`));
        else reject(new ProbeRuntimeError(describeExit(options.processName, code, signal, stderrTail)));
      });
    });
  });
}

function describeExit(processName: string, code: number | null, signal: NodeJS.Signals | null, stderr: string): string {
  const detail = stderr
    .split('\n')
    .map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').trim())
    .filter((l) => l.length > 0)
    .slice(-1)[0];
  const tail = detail ? ` (last message: ${detail.slice(0, 300)})` : '';
  if (signal === 'SIGKILL') return `the ${processName} was killed (SIGKILL), most likely for running out of memory; try a smaller batch or input${tail}`;
  if (signal) return `the ${processName} crashed (${signal})${tail}`;
  return `the ${processName} exited unexpectedly with code ${code}${tail}`;
}

/**
 * Where a worker is: `bundle` (dist/NAME.js) beside the bundle that runs this code (CLI and extension), or its
 * TypeScript `source` beside this file when running from source under tsx (tests).
 */
export function resolveWorkerFile(bundle: string, source: string, what: string): string {
  const candidates = [join(__dirname, bundle), join(__dirname, source), join(__dirname, '..', '..', 'dist', bundle)];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new ProbeRuntimeError(`the ${what} (dist/${bundle}) is missing; run npm run build`);
}

let nextJobId = 1;

/** What a front end may set for one job: cancellation, a timeout, progress, and (tests) another worker file. */
export interface JobRunOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  onProgress?: (done: number, total: number, message: string) => void;
  onSent?: () => void;
  workerPath?: string;
}

/** One kind of worker: its job type, where its file is, and how messages name it. */
export interface WorkerKind<T extends string> {
  type: T;
  resolvePath: () => string;
  processName: string;
  jobName: string;
  defaultTimeoutMs: number;
}

/** Gives a job its type and a fresh id, and runs it in a fresh worker of its kind (see runWorkerJob). */
export function startWorkerJob<J extends { type: string; id: number }, R>(
  kind: WorkerKind<J['type']>,
  job: Omit<J, 'type' | 'id'> | Promise<Omit<J, 'type' | 'id'>>,
  options: JobRunOptions,
): Promise<R> {
  const id = nextJobId++;
  return runWorkerJob<J, R>(Promise.resolve(job).then((j) => ({ ...j, type: kind.type, id }) as unknown as J), {
    workerPath: options.workerPath ?? kind.resolvePath(),
    processName: kind.processName,
    jobName: kind.jobName,
    timeoutMs: options.timeoutMs ?? kind.defaultTimeoutMs,
    signal: options.signal,
    onProgress: options.onProgress,
    onSent: options.onSent,
  });
}
