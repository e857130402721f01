import { WorkerUserError } from './ortSession';
import type { WorkerEnvelope } from './workerProcess';

/**
 * The child side of runtime/workerProcess.ts, shared by both runtime workers: say 'ready' once listening, run each
 * job of the worker's type, and answer with its result or a one-line error (marked as the user's error when the
 * model or the input caused it). Progress messages carry the job's id.
 */

export type ProgressSender = (done: number, total: number, message: string) => void;

function send<R>(message: WorkerEnvelope<R>): void {
  process.send?.(message);
}

export function serveJobs<J extends { type: string; id: number }, R>(type: J['type'], run: (job: J, progress: ProgressSender) => Promise<R>): void {
  process.on('message', (raw: J | { type: 'shutdown' }) => {
    if (raw.type === 'shutdown') process.exit(0);
    if (raw.type !== type) return;
    const job = raw as J;
    const progress: ProgressSender = (done, total, message) => send<R>({ type: 'progress', id: job.id, done, total, message });
    run(job, progress).then(
      (result) => send<R>({ type: 'result', id: job.id, result }),
      (e: unknown) => send<R>({ type: 'error', id: job.id, message: e instanceof Error ? e.message : String(e), userError: e instanceof WorkerUserError }),
    );
  });
  // The parent waits for this before sending a job, so a worker that cannot even start fails clearly.
  send<R>({ type: 'ready', pid: process.pid });
}
