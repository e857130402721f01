import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isMainThread, parentPort } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-node';
import { serveJobs, type ProgressSender } from './jobWorker';
import { createSession, feedsFor, floatData, ort, runSession, toOrtTensor } from './ortSession';
import { cpuFallbackNodesFromTrace } from './profile';
import { PARALLEL_MIN_ELEMENTS, StatsPool, defaultStatsThreads, serveStatsThread } from './statsPool';
import { summarizeValue } from './summarize';
import type { StatsTask } from './summarize';
import type { ProbeJob, ProbeJobResult, ValueResult } from './protocol';
import { isAcceleratorProvider, providerAttempts } from './providers';
import type { ConcreteProvider } from './providers';

/**
 * The runtime worker: the only process that loads onnxruntime-node. The CLI and the extension host fork it per probe,
 * so a native crash, an out-of-memory kill or a hang costs that probe and never the editor. It receives a ProbeJob,
 * runs one session per group of values (so that the tensors it holds stay under the memory budget), reduces every
 * fetched tensor to statistics at once, and sends back only those statistics. The same file is also the entry of its
 * statistics threads (statsPool.ts); they never load onnxruntime, which is required on the main thread only.
 */

function readProfile(dir: string, prefix: string): string[] {
  const files = readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.json'));
  const nodes: string[] = [];
  for (const f of files) {
    const path = join(dir, f);
    nodes.push(...cpuFallbackNodesFromTrace(readFileSync(path, 'utf8')));
    rmSync(path, { force: true });
  }
  return nodes;
}

async function runJob(job: ProbeJob, progress: ProgressSender): Promise<ProbeJobResult> {
  if (job.debug === 'crash') process.abort();
  if (job.debug === 'oom') process.kill(process.pid, 'SIGKILL');
  if (job.debug === 'hang') for (;;);

  const threads = job.statsThreads ?? defaultStatsThreads();
  // Threads start while the first session is created, so that they are ready when its tensors arrive.
  let pool: StatsPool | null = null;
  try {
    pool = threads > 0 ? new StatsPool(threads, __filename) : null;
  } catch {
    pool = null;
  }
  try {
    return await runGroups(job, pool, progress);
  } finally {
    void pool?.close();
  }
}

async function runGroups(job: ProbeJob, pool: StatsPool | null, progress: ProgressSender): Promise<ProbeJobResult> {
  const feeds: Record<string, Ort.Tensor> = {};
  for (const f of job.feeds) feeds[f.name] = toOrtTensor(f);
  const failures: { provider: string; message: string }[] = [];
  let attempts = providerAttempts(job.provider, process.platform);
  let provider: ConcreteProvider | undefined;
  const fallback = new Set<string>();
  const values: ValueResult[] = [];
  const timing = { sessionMs: 0, runMs: 0, statsMs: 0 };

  for (let g = 0; g < job.groups.length; g++) {
    const group = job.groups[g]!;
    const prefix = `group${g}`;
    const t0 = performance.now();
    const created = await createSession({
      modelPath: group.modelPath,
      attempts,
      deviceId: job.deviceId,
      graphOptimizationLevel: job.graphOptimizationLevel,
      failures,
      what: 'the model',
      ...(job.profileDir ? { profilePrefix: join(job.profileDir, prefix) } : {}),
    });
    // Once a provider has started, every later group uses it, so that one probe never mixes providers.
    provider = created.provider;
    attempts = [provider];
    const session = created.session;
    const t1 = performance.now();
    timing.sessionMs += t1 - t0;
    const outputs = await runSession(session, feedsFor(session, feeds), 'the model');
    const t2 = performance.now();
    timing.runMs += t2 - t1;
    // onnxruntime holds the model in memory, so its temporary copy can go. Deleting runs on libuv's threads while the
    // statistics keep the main thread busy, after the run, which uses every core. A file that cannot be deleted yet
    // (Windows) is left to the front end, which removes the whole folder when the probe ends, external data included.
    if (group.temporaryCopy) void unlink(group.modelPath).catch(() => undefined);
    const tasks: StatsTask[] = [];
    for (const target of group.targets) {
      const tensor = outputs[target.value] as Ort.Tensor | undefined;
      if (!tensor) continue;
      const data = floatData(tensor);
      if (data) tasks.push({ index: tasks.length, value: target.value, dtype: tensor.type, dims: tensor.dims.map(Number), data, target, bins: job.bins });
    }
    const elements = tasks.reduce((a, t) => a + t.data.length, 0);
    if (pool && pool.size > 0 && elements >= PARALLEL_MIN_ELEMENTS) values.push(...(await pool.run(tasks)));
    else for (const t of tasks) values.push(summarizeValue(t));
    timing.statsMs += performance.now() - t2;
    if (created.profiled && job.profileDir) {
      try {
        session.endProfiling();
        for (const n of readProfile(job.profileDir, prefix)) fallback.add(n);
      } catch {
        // The fallback list is a hint; a profile that cannot be read must not fail the probe.
      }
    }
    await session.release();
    progress(g + 1, job.groups.length, `probed ${values.length} values`);
  }
  const result: ProbeJobResult = { executionProvider: provider ?? 'cpu', providerFailures: failures, values, timing };
  if (provider && isAcceleratorProvider(provider) && job.profileDir) result.cpuFallbackNodes = [...fallback];
  return result;
}

if (isMainThread) {
  // onnxruntime loads while the parent prepares the job (the parent sends it once this worker says 'ready').
  ort();
  serveJobs<ProbeJob, ProbeJobResult>('probe', runJob);
} else if (parentPort) serveStatsThread(parentPort);
