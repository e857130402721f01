import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isMainThread, parentPort } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-node';
import { float16BitsToFloat32 } from '../core/ir/tensorData';
import { cpuFallbackNodesFromTrace } from './profile';
import { PARALLEL_MIN_ELEMENTS, StatsPool, defaultStatsThreads, serveStatsThread } from './statsPool';
import { summarizeValue } from './summarize';
import type { StatsTask } from './summarize';
import type { ParentToWorker, ProbeJob, ProbeJobResult, ValueResult, WorkerToParent } from './protocol';
import { isAcceleratorProvider, providerAttempts, providerConfig, providerFailureHint } from './providers';
import type { ConcreteProvider } from './providers';

/**
 * The runtime worker: the only process that loads onnxruntime-node. The CLI and the extension host fork it per probe,
 * so a native crash, an out-of-memory kill or a hang costs that probe and never the editor. It receives a ProbeJob,
 * runs one session per group of values (so that the tensors it holds stay under the memory budget), reduces every
 * fetched tensor to statistics at once, and sends back only those statistics. The same file is also the entry of its
 * statistics threads (statsPool.ts); they never load onnxruntime, which is required on the main thread only.
 */

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort: typeof Ort = isMainThread ? (require('onnxruntime-node') as typeof Ort) : (undefined as unknown as typeof Ort);

class WorkerUserError extends Error {}

function send(message: WorkerToParent): void {
  process.send?.(message);
}

/** onnxruntime's messages are long and multi-line; the first line (trimmed) says what went wrong. */
function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const line = text.split('\n').find((l) => l.trim().length > 0) ?? text;
  return line.length > 400 ? `${line.slice(0, 400)}…` : line.trim();
}

function toOrtTensor(feed: ProbeJob['feeds'][number]): Ort.Tensor {
  return new ort.Tensor(feed.dtype, feed.data as never, feed.dims);
}

/** A fetched tensor's elements as float32/float64 for the statistics; float16 is widened. */
function floatData(tensor: Ort.Tensor): Float32Array | Float64Array | null {
  const data = tensor.data as unknown;
  if (data instanceof Float32Array || data instanceof Float64Array) return data;
  if (tensor.type === 'float16' && data instanceof Uint16Array) {
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = float16BitsToFloat32(data[i]!);
    return out;
  }
  if (ArrayBuffer.isView(data) && !(data instanceof BigInt64Array) && !(data instanceof BigUint64Array)) {
    return Float64Array.from(data as unknown as ArrayLike<number>);
  }
  return null;
}

async function createSession(
  modelPath: string,
  job: ProbeJob,
  attempts: ConcreteProvider[],
  failures: { provider: string; message: string }[],
  profilePrefix: string | undefined,
): Promise<{ session: Ort.InferenceSession; provider: ConcreteProvider; profiled: boolean }> {
  for (const provider of attempts) {
    const profiled = profilePrefix !== undefined && isAcceleratorProvider(provider);
    const options: Ort.InferenceSession.SessionOptions = {
      executionProviders: [providerConfig(provider, job.deviceId) as Ort.InferenceSession.ExecutionProviderConfig],
      graphOptimizationLevel: job.graphOptimizationLevel,
      logSeverityLevel: 3,
    };
    if (profiled) {
      options.enableProfiling = true;
      options.profileFilePrefix = profilePrefix;
    }
    try {
      const session = await ort.InferenceSession.create(modelPath, options);
      return { session, provider, profiled };
    } catch (e) {
      failures.push({ provider, message: firstLine(e) });
    }
  }
  if (attempts.length === 1) {
    const only = attempts[0]!;
    const why = failures[failures.length - 1]?.message ?? '';
    if (only === 'cpu') throw new WorkerUserError(`onnxruntime could not load the model: ${why}`);
    throw new WorkerUserError(`the ${only} execution provider could not start (${why}); ${providerFailureHint(only)}`);
  }
  throw new WorkerUserError(`no execution provider could start: ${failures.map((f) => `${f.provider}: ${f.message}`).join('; ')}`);
}

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

async function runJob(job: ProbeJob): Promise<ProbeJobResult> {
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
    return await runGroups(job, pool);
  } finally {
    void pool?.close();
  }
}

async function runGroups(job: ProbeJob, pool: StatsPool | null): Promise<ProbeJobResult> {
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
    const created = await createSession(group.modelPath, job, attempts, failures, job.profileDir ? join(job.profileDir, prefix) : undefined);
    // Once a provider has started, every later group uses it, so that one probe never mixes providers.
    provider = created.provider;
    attempts = [provider];
    const session = created.session;
    const t1 = performance.now();
    timing.sessionMs += t1 - t0;
    const modelFeeds: Record<string, Ort.Tensor> = {};
    for (const name of session.inputNames) {
      const feed = feeds[name];
      if (!feed) throw new WorkerUserError(`no input given for the model input '${name}'`);
      modelFeeds[name] = feed;
    }
    let outputs: Ort.InferenceSession.OnnxValueMapType;
    try {
      outputs = await session.run(modelFeeds);
    } catch (e) {
      throw new WorkerUserError(`onnxruntime failed to run the model: ${firstLine(e)}`);
    }
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
    send({ type: 'progress', id: job.id, done: g + 1, total: job.groups.length, message: `probed ${values.length} values` });
  }
  const result: ProbeJobResult = { executionProvider: provider ?? 'cpu', providerFailures: failures, values, timing };
  if (provider && isAcceleratorProvider(provider) && job.profileDir) result.cpuFallbackNodes = [...fallback];
  return result;
}

function startProcessWorker(): void {
  process.on('message', (raw: ParentToWorker) => {
    if (raw.type === 'shutdown') {
      process.exit(0);
    }
    if (raw.type !== 'probe') return;
    runJob(raw).then(
      (result) => send({ type: 'result', id: raw.id, result }),
      (e: unknown) => send({ type: 'error', id: raw.id, message: e instanceof Error ? e.message : String(e), userError: e instanceof WorkerUserError }),
    );
  });
  // The parent waits for this before sending a job, so a worker that cannot even load onnxruntime fails clearly.
  ort.env.logLevel = 'error';
  send({ type: 'ready', pid: process.pid });
}

if (isMainThread) startProcessWorker();
else if (parentPort) serveStatsThread(parentPort);
