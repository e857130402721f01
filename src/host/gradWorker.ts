import * as ort from 'onnxruntime-node';
import { centralDifference } from '../core/autodiff/gradCheck';
import { l2Norm, saliencyMap, summarizeGradient } from '../core/autodiff/gradStats';
import { providerAttempts, providerConfig, providerFailureHint, type ConcreteProvider } from '../runtime/providers';
import type { GradJob, GradJobResult, GradWorkerMessage } from './gradProtocol';

/**
 * The gradient worker: a child process that owns onnxruntime-node for one gradient probe. It runs the backward graph
 * once, summarises every gradient it fetched, then runs the forward-and-loss graph twice per sampled coordinate for
 * the numerical check, on the same execution provider. A native crash or an out-of-memory kill ends this process,
 * not the editor or the CLI that forked it.
 */

class WorkerUserError extends Error {}

function send(message: GradWorkerMessage): void {
  process.send?.(message);
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const line = text.split('\n').find((l) => l.trim().length > 0) ?? text;
  return line.length > 400 ? `${line.slice(0, 400)}…` : line.trim();
}

async function createSession(
  path: string,
  job: GradJob,
  level: GradJob['graphOptimizationLevel'],
  attempts: ConcreteProvider[],
  failures: { provider: string; message: string }[],
): Promise<{ session: ort.InferenceSession; provider: ConcreteProvider }> {
  for (const provider of attempts) {
    try {
      const session = await ort.InferenceSession.create(path, {
        executionProviders: [providerConfig(provider, job.deviceId) as ort.InferenceSession.ExecutionProviderConfig],
        graphOptimizationLevel: level,
        logSeverityLevel: 3,
      });
      return { session, provider };
    } catch (e) {
      failures.push({ provider, message: firstLine(e) });
    }
  }
  const why = failures[failures.length - 1]?.message ?? '';
  if (attempts.length === 1 && attempts[0] === 'cpu') throw new WorkerUserError(`onnxruntime could not load the gradient graph: ${why}`);
  if (attempts.length === 1) throw new WorkerUserError(`the ${attempts[0]} execution provider could not start (${why}); ${providerFailureHint(attempts[0])}`);
  throw new WorkerUserError(`no execution provider could start: ${failures.map((f) => `${f.provider}: ${f.message}`).join('; ')}`);
}

function floatArray(tensor: ort.Tensor): Float32Array | Float64Array {
  const data = tensor.data as unknown;
  if (data instanceof Float32Array || data instanceof Float64Array) return data;
  return Float64Array.from(data as ArrayLike<number>);
}

function scalar(tensor: ort.Tensor | undefined): number {
  if (!tensor) return NaN;
  return Number((tensor.data as ArrayLike<number>)[0]);
}

async function runJob(job: GradJob): Promise<GradJobResult> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const f of job.feeds) feeds[f.name] = new ort.Tensor(f.dtype, f.data as never, f.dims);
  const failures: { provider: string; message: string }[] = [];
  const t0 = performance.now();
  const { session, provider } = await createSession(job.backwardPath, job, job.graphOptimizationLevel, providerAttempts(job.provider, process.platform), failures);
  const t1 = performance.now();
  const pick = (s: ort.InferenceSession): Record<string, ort.Tensor> => {
    const out: Record<string, ort.Tensor> = {};
    for (const name of s.inputNames) {
      if (!feeds[name]) throw new WorkerUserError(`no value given for the model input '${name}'`);
      out[name] = feeds[name];
    }
    return out;
  };
  let outputs: ort.InferenceSession.OnnxValueMapType;
  try {
    outputs = await session.run(pick(session));
  } catch (e) {
    throw new WorkerUserError(`onnxruntime failed to run the gradient graph: ${firstLine(e)}`);
  }
  const t2 = performance.now();
  const loss = scalar(outputs[job.lossOutput] as ort.Tensor);
  let input: GradJobResult['input'];
  if (job.input) {
    const t = outputs[job.input.output] as ort.Tensor;
    const data = floatArray(t);
    const dims = t.dims.map(Number);
    const sal = saliencyMap(data, dims);
    input = { name: job.input.name, dims, l2: l2Norm(data), ...(sal ? { saliency: sal } : {}) };
  }
  const params: GradJobResult['params'] = job.params.map((p) => {
    const data = floatArray(outputs[p.output] as ort.Tensor);
    return { name: p.name, summary: summarizeGradient(data, job.bins), analytic: p.sample.map((i) => data[i]), numeric: [], lossAtCheck: loss };
  });
  const activations = job.activations.map((a) => ({ name: a.name, l2: l2Norm(floatArray(outputs[a.output] as ort.Tensor)) }));
  for (const v of Object.values(outputs)) (v as ort.Tensor).dispose?.();
  await session.release();

  const t3 = performance.now();
  const total = job.params.reduce((s, p) => s + p.sample.length, 0);
  if (job.lossPath && total > 0) {
    // The check runs the loss graph twice per sampled coordinate, so onnxruntime's full optimisation, slower to set up,
    // pays for itself here.
    const { session: check } = await createSession(job.lossPath, job, 'all', [provider], failures);
    const lossName = job.checkLossOutput ?? job.lossOutput;
    // Exposed parameters are inputs of the check model with their initializers as defaults; only the data is fed.
    const base: Record<string, ort.Tensor> = {};
    for (const name of check.inputNames) if (feeds[name]) base[name] = feeds[name];
    for (const p of job.params) {
      if (p.values && check.inputNames.includes(p.name)) {
        base[p.name] = new ort.Tensor(p.values instanceof Float64Array ? 'float64' : 'float32', p.values, p.dims);
      }
    }
    let done = 0;
    for (let k = 0; k < job.params.length; k++) {
      const p = job.params[k];
      if (p.sample.length === 0 || !p.values) continue;
      const values = p.values;
      const type = values instanceof Float64Array ? 'float64' : 'float32';
      const lossAt = async (i: number, delta: number, original: number): Promise<number> => {
        values[i] = original + delta;
        const o = await check.run({ ...base, [p.name]: new ort.Tensor(type, values, p.dims) }, [lossName]);
        return scalar(o[lossName] as ort.Tensor);
      };
      for (const i of p.sample) {
        const original = values[i];
        const plus = await lossAt(i, job.step, original);
        const minus = await lossAt(i, -job.step, original);
        values[i] = original;
        params[k].numeric.push(centralDifference(plus, minus, job.step));
        done++;
      }
      send({ type: 'progress', id: job.id, done, total, message: `checked ${p.name}` });
    }
    await check.release();
  }
  const t4 = performance.now();
  return {
    executionProvider: provider,
    providerFailures: failures,
    loss,
    ...(input ? { input } : {}),
    params,
    activations,
    timing: { sessionMs: t1 - t0, runMs: t2 - t1, checkMs: t4 - t3 },
  };
}

process.on('message', (raw: GradJob | { type: 'shutdown' }) => {
  if (raw.type === 'shutdown') process.exit(0);
  if (raw.type !== 'grad') return;
  runJob(raw).then(
    (result) => send({ type: 'result', id: raw.id, result }),
    (e: unknown) => send({ type: 'error', id: raw.id, message: e instanceof Error ? e.message : String(e), userError: e instanceof WorkerUserError }),
  );
});

ort.env.logLevel = 'error';
send({ type: 'ready', pid: process.pid });
