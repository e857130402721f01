import type * as Ort from 'onnxruntime-node';
import { centralDifference, checkDirection, checkVerdict, fillDirection, jointNoiseFloor, DIRECTION_NOISE_ULPS, DIRECTION_STEP_RETRY, directionalError, dot, finiteDifferenceNoise, jointCoefficients, jointError, jointStep } from '../core/autodiff/gradCheck';
import { predictedClasses } from '../core/autodiff/predictedClass';
import { l2Norm, saliencyMap, summarizeGradient } from '../core/autodiff/gradStats';
import type { CheckMethod, DirectionalError } from '../core/autodiff/gradCheck';
import type { DataType } from '../core/ir/types';
import type { GradJob, GradJobResult } from './gradProtocol';
import { serveJobs, type ProgressSender } from './jobWorker';
import { createSession, feedsFor, floatValues, ort, runSession, scalarValue, toOrtTensor, WorkerUserError } from './ortSession';
import { providerAttempts } from './providers';

/**
 * The gradient worker: a child process that owns onnxruntime-node for one gradient probe. It runs the backward graph
 * once, summarises every gradient it fetched, then runs the forward-and-loss graph for the numerical check on the
 * same execution provider: for the default check, twice along one joint direction over all parameter tensors, and
 * only where that does not pass twice more per tensor to find the broken one; twice per sampled coordinate for
 * `--check N`. A native crash or an out-of-memory kill ends this process, not the editor or the CLI
 * that forked it. Sessions, tensors and errors go through ortSession.ts, as in the activation probe's worker.
 */

/**
 * Runs the graph as far as the output with a placeholder target, and feeds the output's argmax as the target of the
 * real run: the loss is then cross-entropy against the model's own prediction for each sample.
 */
async function resolvePredictedTarget(session: Ort.InferenceSession, feeds: Record<string, Ort.Tensor>, target: NonNullable<GradJob['predictedTarget']>): Promise<number[]> {
  const fetched = await runSession(session, feedsFor(session, feeds), 'the model to find its predicted class', [target.output]);
  const output = fetched[target.output] as Ort.Tensor;
  let predicted: ReturnType<typeof predictedClasses>;
  try {
    predicted = predictedClasses(floatValues(output, target.output), output.dims.map(Number));
  } catch (e) {
    throw new WorkerUserError(`--target predicted: ${(e as Error).message}`);
  }
  output.dispose?.();
  const classes = new (ort().Tensor)('int64', BigInt64Array.from(predicted.classes, (c) => BigInt(c)), predicted.dims);
  for (const name of target.feeds) feeds[name] = classes;
  return predicted.classes.slice(0, 1000);
}

/**
 * One step usually settles a directional check. Where it does not, a second step is tried, ten times smaller where
 * the first crossed ReLU kinks (its one-sided slopes part) and ten times larger otherwise (rounding dominated a small
 * loss change), and the better of the two is kept: two more runs, only where needed. Returns the step and its slopes.
 */
async function settleStep(
  step: number,
  slopesAt: (step: number) => Promise<[number, number]>,
  errorAt: (step: number, slopes: [number, number]) => DirectionalError,
  method: CheckMethod,
  floatType: DataType,
): Promise<[number, [number, number]]> {
  const slopes = await slopesAt(step);
  const first = errorAt(step, slopes);
  if (checkVerdict(first.relError, floatType, method) === 'fine') return [step, slopes];
  const retry = first.kink ? step / DIRECTION_STEP_RETRY : step * DIRECTION_STEP_RETRY;
  const again = await slopesAt(retry);
  return errorAt(retry, again).relError < first.relError ? [retry, again] : [step, slopes];
}

async function runJob(job: GradJob, progress: ProgressSender): Promise<GradJobResult> {
  const feeds: Record<string, Ort.Tensor> = {};
  for (const f of job.feeds) feeds[f.name] = toOrtTensor(f);
  const failures: { provider: string; message: string }[] = [];
  const t0 = performance.now();
  const { session, provider } = await createSession({
    modelPath: job.backwardPath,
    attempts: providerAttempts(job.provider, process.platform),
    deviceId: job.deviceId,
    graphOptimizationLevel: job.graphOptimizationLevel,
    failures,
    what: 'the gradient graph',
  });
  const t1 = performance.now();
  const predicted = job.predictedTarget ? await resolvePredictedTarget(session, feeds, job.predictedTarget) : undefined;
  const outputs = await runSession(session, feedsFor(session, feeds), 'the gradient graph');
  const t2 = performance.now();
  if (job.indexCheck) {
    const fetched = outputs[job.indexCheck.output] as Ort.Tensor | undefined;
    if (fetched) {
      const dims = fetched.dims.map(Number);
      const axis = job.indexCheck.axis < 0 ? dims.length + job.indexCheck.axis : job.indexCheck.axis;
      const size = dims[axis];
      if (size !== undefined && job.indexCheck.index >= size) {
        throw new WorkerUserError(`${job.indexCheck.what} ${job.indexCheck.index} is out of range: the output '${job.indexCheck.output}' has ${size} (0 to ${size - 1})`);
      }
    }
  }
  const loss = scalarValue(outputs[job.lossOutput] as Ort.Tensor);
  let input: GradJobResult['input'];
  if (job.input) {
    const t = outputs[job.input.output] as Ort.Tensor;
    const data = floatValues(t, job.input.output);
    const dims = t.dims.map(Number);
    const sal = saliencyMap(data, dims);
    input = { name: job.input.name, dims, l2: l2Norm(data), ...(sal ? { saliency: sal } : {}) };
  }
  // The directional check needs each gradient again after the session is gone, so those are kept. onnxruntime-node
  // hands outputs over in JavaScript buffers, which dispose() and release() do not free: a reference keeps them, and
  // saves a copy of every gradient.
  const gradients = new Map<string, Float32Array | Float64Array>();
  const params: GradJobResult['params'] = job.params.map((p) => {
    const data = floatValues(outputs[p.output] as Ort.Tensor, p.output);
    if (p.direction) gradients.set(p.name, data);
    return { name: p.name, summary: summarizeGradient(data, job.bins), analytic: p.sample.map((i) => data[i]!), numeric: [], lossAtCheck: loss };
  });
  const activations = job.activations.map((a) => ({ name: a.name, l2: l2Norm(floatValues(outputs[a.output] as Ort.Tensor, a.output)) }));
  for (const v of Object.values(outputs)) (v as Ort.Tensor).dispose?.();
  await session.release();

  const t3 = performance.now();
  let kinks: number | undefined;
  let joint: GradJobResult['joint'];
  let runs = 0;
  let checkSessionMs = 0;
  const checked = job.params.filter((p) => p.values && (p.direction || p.sample.length > 0));
  if (job.lossPath && checked.length > 0) {
    const { session: check } = await createSession({
      modelPath: job.lossPath,
      attempts: [provider],
      deviceId: job.deviceId,
      // The parameters are inputs of this graph, so its session takes little to create at any level (about 13 ms on
      // ResNet-18); full optimisation pays where the per-tensor stage or --check N runs it many times.
      graphOptimizationLevel: 'all',
      failures,
      what: 'the loss graph of the numerical check',
    });
    checkSessionMs = performance.now() - t3;
    const lossName = job.checkLossOutput ?? job.lossOutput;
    // Exposed parameters are inputs of the check model; every run feeds all of them, one perturbed.
    const base: Record<string, Ort.Tensor> = {};
    for (const name of check.inputNames) if (feeds[name]) base[name] = feeds[name]!;
    for (const p of job.params) {
      if (p.values && check.inputNames.includes(p.name)) base[p.name] = new (ort().Tensor)(p.values instanceof Float64Array ? 'float64' : 'float32', p.values, p.dims);
    }
    let total = checked.reduce((s, p) => s + (p.direction ? 1 : p.sample.length), 0);
    let done = 0;
    const checkRun = (fed: Record<string, Ort.Tensor>, fetch: string[]) => {
      runs++;
      return runSession(check, fed, 'the loss graph of the numerical check', fetch);
    };
    // The per-tensor directional check compares one-sided differences around the unperturbed loss, from this same
    // session, and counts the units on a kink there: one more run, made only when that check runs. The joint check
    // judges the central difference, which needs no baseline; its one-sided slopes, which only choose the retry's
    // step, are taken around the backward graph's loss.
    let baseLoss = loss;
    let baseRun = false;
    const runBase = async (): Promise<void> => {
      if (baseRun) return;
      baseRun = true;
      const fetch = job.checkKinksOutput ? [lossName, job.checkKinksOutput] : [lossName];
      const o = await checkRun(base, fetch);
      baseLoss = scalarValue(o[lossName] as Ort.Tensor);
      if (job.checkKinksOutput) kinks = scalarValue(o[job.checkKinksOutput] as Ort.Tensor);
    };
    // Each tensor's direction for the per-tensor stage, drawn once: the joint one's part, normalised.
    const directions = new Map<number, Float64Array>();
    const directionOf = (k: number): Float64Array => {
      let v = directions.get(k);
      if (!v) directions.set(k, (v = checkDirection(gradients.get(job.params[k]!.name)!, job.seed + k)));
      return v;
    };
    const passedJointly = new Set<number>();
    const jointly = job.joint ? job.params.flatMap((p, k) => (p.direction && p.values ? [k] : [])) : [];
    if (jointly.length > 0) {
      total = total - jointly.length + 1;
      joint = await jointCheck(jointly);
      done++;
      progress(done, total, joint.passed ? `joint check over ${jointly.length} tensors passed` : `joint check over ${jointly.length} tensors did not pass: checking each tensor`);
      if (joint.passed) for (const k of jointly) passedJointly.add(k);
      else total += jointly.length;
    }
    async function jointCheck(ks: number[]): Promise<NonNullable<GradJobResult['joint']>> {
      const norms = ks.map((k) => params[k]!.summary.l2);
      const coefficients = jointCoefficients(ks.map((k) => job.params[k]!.directionStep!), norms);
      // Written whole by every pass, so allocated, not copied.
      const blank = (k: number): Float32Array | Float64Array => {
        const v = job.params[k]!.values!;
        return v instanceof Float64Array ? new Float64Array(v.length) : new Float32Array(v.length);
      };
      const plus = ks.map(blank);
      const minus = ks.map(blank);
      const feed = (copies: (Float32Array | Float64Array)[]): Record<string, Ort.Tensor> => {
        const fed: Record<string, Ort.Tensor> = { ...base };
        ks.forEach((k, i) => {
          const p = job.params[k]!;
          fed[p.name] = new (ort().Tensor)(p.values instanceof Float64Array ? 'float64' : 'float32', copies[i]!, p.dims);
        });
        return fed;
      };
      const lossOf = async (copies: (Float32Array | Float64Array)[]): Promise<number> => scalarValue((await checkRun(feed(copies), [lossName]))[lossName] as Ort.Tensor);
      // Both perturbed copies and the analytic derivative come from one pass over the weights per step.
      let analytic = NaN;
      const slopesAt = async (eps: number): Promise<[number, number]> => {
        let sum = 0;
        ks.forEach((k, i) => {
          const p = job.params[k]!;
          sum += coefficients[i]! * fillDirection(plus[i]!, minus[i]!, p.values!, gradients.get(p.name)!, norms[i]!, job.seed + k, eps * coefficients[i]!);
        });
        analytic = sum;
        const up = await lossOf(plus);
        const down = await lossOf(minus);
        return [(baseLoss - down) / eps, (up - baseLoss) / eps];
      };
      const errorAt = (eps: number, s: [number, number]) =>
        jointError(analytic, s[0], s[1], jointNoiseFloor(baseLoss, job.floatType, eps), job.floatType);
      // The step needs the analytic derivative's size: the gradient parts' sum estimates it before the first pass.
      const [eps, oneSided] = await settleStep(jointStep(baseLoss, norms.reduce((a, g, i) => a + g * coefficients[i]!, 0)), slopesAt, errorAt, 'joint', job.floatType);
      const noiseFloor = jointNoiseFloor(baseLoss, job.floatType, eps);
      const passed = checkVerdict(jointError(analytic, oneSided[0], oneSided[1], noiseFloor, job.floatType).relError, job.floatType, 'joint') === 'fine';
      return { analytic, oneSided, step: eps, noiseFloor, tensors: ks.length, passed };
    }
    for (let k = 0; k < job.params.length; k++) {
      const p = job.params[k]!;
      const values = p.values;
      if (!values || !(p.direction || p.sample.length > 0) || passedJointly.has(k)) continue;
      const type = values instanceof Float64Array ? 'float64' : 'float32';
      const lossWith = async (perturbed: Float32Array | Float64Array): Promise<number> => {
        const o = await checkRun({ ...base, [p.name]: new (ort().Tensor)(type, perturbed, p.dims) }, [lossName]);
        return scalarValue(o[lossName] as Ort.Tensor);
      };
      if (p.direction) {
        await runBase();
        const gradient = gradients.get(p.name)!;
        const v = directionOf(k);
        const shifted = values.slice();
        const slopesAt = async (h: number): Promise<[number, number]> => {
          for (let i = 0; i < v.length; i++) shifted[i] = values[i]! + h * v[i]!;
          const plus = await lossWith(shifted);
          for (let i = 0; i < v.length; i++) shifted[i] = values[i]! - h * v[i]!;
          const minus = await lossWith(shifted);
          return [(baseLoss - minus) / h, (plus - baseLoss) / h];
        };
        const analytic = dot(gradient, v);
        const errorAt = (step: number, s: [number, number]) =>
          directionalError(analytic, s[0], s[1], finiteDifferenceNoise(baseLoss, job.floatType, step, DIRECTION_NOISE_ULPS), job.floatType);
        const [h, slopes] = await settleStep(p.directionStep!, slopesAt, errorAt, 'direction', job.floatType);
        params[k]!.analytic = [analytic];
        params[k]!.numeric = [(slopes[0] + slopes[1]) / 2];
        params[k]!.oneSided = slopes;
        params[k]!.directionStep = h;
        done++;
      } else {
        for (const i of p.sample) {
          const original = values[i]!;
          values[i] = original + job.step;
          const plus = await lossWith(values);
          values[i] = original - job.step;
          const minus = await lossWith(values);
          values[i] = original;
          params[k]!.numeric.push(centralDifference(plus, minus, job.step));
          done++;
        }
      }
      progress(done, total, `checked ${p.name}`);
    }
    await check.release();
  }
  const t4 = performance.now();
  return {
    executionProvider: provider,
    providerFailures: failures,
    loss,
    ...(predicted ? { predicted } : {}),
    ...(input ? { input } : {}),
    params,
    activations,
    ...(kinks !== undefined ? { kinks } : {}),
    ...(joint ? { joint } : {}),
    timing: { sessionMs: t1 - t0, runMs: t2 - t1, checkMs: t4 - t3, checkSessionMs, checkRuns: runs },
  };
}

// onnxruntime loads while the parent prepares the job (the parent sends it once this worker says 'ready').
ort();
serveJobs<GradJob, GradJobResult>('grad', runJob);
