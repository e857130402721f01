import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ValueResult } from './protocol';
import { partitionTasks, summarizeValue, warmUpStatistics } from './summarize';
import type { StatsTask } from './summarize';

/**
 * Threads that compute statistics in parallel once onnxruntime has returned a group's tensors (its own threads are
 * idle by then). The tensors' buffers are transferred, not copied. The thread entry is the runtime worker's own file
 * (it switches on isMainThread), so the bundle stays one file.
 *
 * Each thread warms its statistics code up as soon as it starts, which happens while the main thread is blocked
 * creating the session, so that the thread's first tensors do not run in V8's slow start-up tiers.
 */

/** Below this many elements in a group, starting to use threads costs more than it saves. */
export const PARALLEL_MIN_ELEMENTS = 1 << 20;

/**
 * One thread per spare core, at most 7, and none on machines with fewer than four cores: there, starting a thread and
 * warming it up competes with onnxruntime's session start-up, and measured slower than doing the statistics on the
 * main thread.
 */
export function defaultStatsThreads(cores = availableParallelism()): number {
  return cores < 4 ? 0 : Math.min(cores - 1, 7);
}

export class StatsPool {
  private readonly workers: Worker[] = [];

  constructor(threads: number, entry: string) {
    for (let i = 0; i < threads; i++) {
      // From TypeScript sources (tests), the thread registers tsx's require hook first; the bundle needs nothing.
      const w = entry.endsWith('.ts')
        ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, { eval: true })
        : new Worker(entry);
      // A thread that dies must not take the process down; its tasks then fail the probe through run().
      w.on('error', () => undefined);
      w.unref();
      this.workers.push(w);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** Summarises every task, the main thread taking one share and each thread another. Results are in task order. */
  async run(tasks: StatsTask[]): Promise<ValueResult[]> {
    const results: ValueResult[] = new Array(tasks.length);
    const parts = partitionTasks(
      tasks.map((t) => t.data.length),
      this.workers.length + 1,
    );
    const pending = parts.slice(1).map((indices, w) => {
      if (indices.length === 0) return Promise.resolve();
      const worker = this.workers[w]!;
      const batch = indices.map((i) => tasks[i]!);
      return new Promise<void>((resolve, reject) => {
        const onMessage = (msg: { results?: ValueResult[]; error?: string }): void => {
          worker.off('message', onMessage);
          worker.off('error', onError);
          if (msg.error || !msg.results) reject(new Error(msg.error ?? 'stats thread returned nothing'));
          else {
            msg.results.forEach((r, k) => (results[indices[k]!] = r));
            resolve();
          }
        };
        const onError = (e: Error): void => {
          worker.off('message', onMessage);
          reject(e);
        };
        worker.on('message', onMessage);
        worker.once('error', onError);
        worker.postMessage({ tasks: batch }, transferList(batch));
      });
    });
    for (const i of parts[0]!) results[i] = summarizeValue(tasks[i]!);
    await Promise.all(pending);
    return results;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Buffers that can move to the thread: whole, unshared ones. Others are copied by the structured clone. */
function transferList(tasks: StatsTask[]): ArrayBuffer[] {
  const seen = new Set<ArrayBufferLike>();
  const list: ArrayBuffer[] = [];
  for (const t of tasks) {
    const buf = t.data.buffer;
    if (buf instanceof ArrayBuffer && t.data.byteOffset === 0 && t.data.byteLength === buf.byteLength && !seen.has(buf)) {
      seen.add(buf);
      list.push(buf);
    }
  }
  return list;
}

/** The thread side: summarise each batch of tasks that arrives. */
export function serveStatsThread(port: { on(event: 'message', fn: (msg: { tasks: StatsTask[] }) => void): unknown; postMessage(msg: unknown): void }): void {
  // Messages that arrive during the warm-up wait in the port's queue.
  warmUpStatistics();
  port.on('message', (msg) => {
    try {
      port.postMessage({ results: msg.tasks.map(summarizeValue) });
    } catch (e) {
      port.postMessage({ error: e instanceof Error ? e.message : String(e) });
    }
  });
}
