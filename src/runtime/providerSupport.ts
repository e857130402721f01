import type { BackendSupport } from './providers';
import { resolveWorkerFile, startWorkerJob } from './workerProcess';

export type { BackendSupport } from './providers';

/** The one job of the backends worker (runtime/backendsWorker.ts). */
export interface BackendsJob {
  type: 'backends';
  id: number;
}

/** The backends worker: dist/backendsWorker.js, or backendsWorker.ts under tsx (tests). */
export function resolveBackendsWorkerPath(): string {
  return resolveWorkerFile('backendsWorker.js', 'backendsWorker.ts', 'execution-provider check');
}

/**
 * The execution providers this machine's onnxruntime-node build has, as onnxruntime itself lists them, asked in a
 * child process so that the native addon never loads into the caller (the extension host).
 */
export function listSupportedBackends(options: { timeoutMs?: number; workerPath?: string } = {}): Promise<BackendSupport[]> {
  const kind = { type: 'backends', resolvePath: resolveBackendsWorkerPath, processName: 'execution-provider check', jobName: 'execution-provider check', defaultTimeoutMs: 30_000 } as const;
  return startWorkerJob<BackendsJob, BackendSupport[]>(kind, {}, options);
}
