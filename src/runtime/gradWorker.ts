import { unlink } from 'node:fs';
import type * as Ort from 'onnxruntime-node';
import { centralDifference, checkDirection, checkVerdict, fillDirection, fillSigns, jointNoiseFloor, DIRECTION_NOISE_ULPS, DIRECTION_STEP_RETRY, directionalError, directionStep, directionStepFraction, dot, finiteDifferenceNoise, jointCoefficients, jointError, jointStep } from '../core/autodiff/gradCheck';
import { predictedClasses } from '../core/autodiff/predictedClass';
import { l2Norm, saliencyMap, summarizeGradient } from '../core/autodiff/gradStats';
import type { CheckMethod, DirectionalError } from '../core/autodiff/gradCheck';
import type { DataType } from '../core/ir/types';
import { readParameterValues } from '../core/onnx/tensorBytes';
import type { GradJob, GradJobParam, GradJobResult } from './gradProtocol';
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
  measured?: [number, number],
): Promise<[number, [number, number]]> {
  const slopes = measured ?? (await slopesAt(step));
  const first = errorAt(step, slopes);
  if (checkVerdict(first.relError, floatType, method) === 'fine') return [step, slopes];
  const retry = first.kink ? step / DIRECTION_STEP_RETRY : step * DIRECTION_STEP_RETRY;
  const again = await slopesAt(retry);
  return errorAt(retry, again).relError < first.relError ? [retry, again] : [step, slopes];
}

async function runJob(job: GradJob, progress: ProgressSender): Promise<GradJobResult> {
  const feeds: Record<string, Ort.Tensor> = {};
  for (const f of job.feeds) feeds[f.name] = toOrtTensor(f);
  const inGraph = job.jointInGraph;
  if (inGraph) {
    const n = inGraph.signsLength;
    const f64 = job.floatType === 'float64';
    feeds[inGraph.signs] = new (ort().Tensor)(f64 ? 'float64' : 'float32', fillSigns(f64 ? new Float64Array(n) : new Float32Array(n), job.seed), [n, 1]);
  }
  const failures: { provider: string; message: string }[] = [];
  const t0 = performance.now();
  const { session, provider } = await createSession({
    modelPath: job.backwardPath,
    attempts: providerAttempts(job.provider, process.platform),
    deviceId: job.deviceId,
    graphOptimizationLevel: job.graphOptimizationLevel,
    failures,
    what: 'the gradient graph',
    // The gradient run is long and mostly large kernels, and a developer's machine is rarely idle: on ResNet-18 with
    // two cores shared with other work, sleeping threads ran it in about 400 ms where spinning ones took 640.
    spinning: false,
  });
  const t1 = performance.now();
  // Removed by the thread pool while onnxruntime runs; where that fails (a file still mapped on Windows), the front end
  // removes the probe folder afterwards anyway.
  for (const file of job.readOnlyBySession ?? []) unlink(file, () => undefined);
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
  // The joint check's first stage ran inside the gradient graph: its two perturbed losses, the analytic derivative,
  // its step, and per tensor the coefficient and the weight norm it used.
  let graphJoint: { lossPlus: number; lossMinus: number; analytic: number; step: number; coefficients: Map<string, number> } | undefined;
  let weightNorms: Record<string, number> | undefined;
  if (inGraph) {
    const vector = (name: string) => Array.from(floatValues(outputs[name] as Ort.Tensor, name));
    const coefficients = vector(inGraph.coefficients);
    const norms = vector(inGraph.weightNorms);
    weightNorms = Object.fromEntries(inGraph.params.map((name, t) => [name, norms[t]!]));
    const scalar = (name: string) => scalarValue(outputs[name] as Ort.Tensor);
    graphJoint = {
      lossPlus: scalar(inGraph.lossPlus),
      lossMinus: scalar(inGraph.lossMinus),
      analytic: scalar(inGraph.analytic),
      step: scalar(inGraph.step),
      coefficients: new Map(inGraph.params.map((name, t) => [name, coefficients[t]!])),
    };
  }
  for (const v of Object.values(outputs)) (v as Ort.Tensor).dispose?.();
  // The gradient session is released only before another one opens: this process serves one job and is ended with
  // it, and releasing ResNet-18's session took 10–25 ms before the result could go back.
  let gradientSession: Ort.InferenceSession | undefined = session;

  const t3 = performance.now();
  let kinks: number | undefined;
  let joint: GradJobResult['joint'];
  let runs = 0;
  let runsInRun = 0;
  let checkSessionMs = 0;
  // The default check sends no weights, only where they lie in the model's file: where a run outside the gradient
  // graph needs them, they are read from there (loadWeights, before any such run).
  const loadWeights = async (): Promise<void> => {
    for (const p of job.params) {
      if (p.values || !(p.direction || p.sample.length > 0)) continue;
      if (!p.weights) throw new Error(`no weights were given for '${p.name}' to check`);
      p.values = readParameterValues(p.weights);
    }
  };
  const valuesOf = (p: GradJobParam): Float32Array | Float64Array => {
    if (!p.values) throw new Error(`the weights of '${p.name}' were not loaded for the numerical check`);
    return p.values;
  };
  const stepOf = (p: GradJobParam): number => {
    p.directionStep ??= directionStep(directionStepFraction(job.floatType), l2Norm(valuesOf(p)), valuesOf(p).length);
    return p.directionStep;
  };
  const checked = job.params.filter((p) => p.direction || p.sample.length > 0);
  if (job.lossPath && checked.length > 0) {
    const lossName = job.checkLossOutput ?? job.lossOutput;
    // The loss graph's session, opened only when a run outside the gradient graph is needed. Exposed parameters are
    // inputs of that graph; every run feeds all of them, one perturbed.
    let opened: { check: Ort.InferenceSession; base: Record<string, Ort.Tensor> } | undefined;
    const openCheck = async (): Promise<{ check: Ort.InferenceSession; base: Record<string, Ort.Tensor> }> => {
      if (opened) return opened;
      await loadWeights();
      await gradientSession?.release();
      gradientSession = undefined;
      const started = performance.now();
      const { session: check } = await createSession({
        modelPath: job.lossPath!,
        attempts: [provider],
        deviceId: job.deviceId,
        // The parameters are inputs of this graph, so its session takes little to create at any level (about 13 ms on
        // ResNet-18); full optimisation pays where the per-tensor stage or --check N runs it many times.
        graphOptimizationLevel: 'all',
        failures,
        what: 'the loss graph of the numerical check',
        spinning: false,
      });
      checkSessionMs += performance.now() - started;
      const base: Record<string, Ort.Tensor> = {};
      for (const name of check.inputNames) if (feeds[name]) base[name] = feeds[name]!;
      for (const p of job.params) {
        if ((p.direction || p.sample.length > 0) && check.inputNames.includes(p.name)) {
          const values = valuesOf(p);
          base[p.name] = new (ort().Tensor)(values instanceof Float64Array ? 'float64' : 'float32', values, p.dims);
        }
      }
      return (opened = { check, base });
    };
    let total = checked.reduce((s, p) => s + (p.direction ? 1 : p.sample.length), 0);
    let done = 0;
    const checkRun = async (perturbed: Record<string, Ort.Tensor>, fetch: string[]) => {
      const { check, base } = await openCheck();
      runs++;
      return runSession(check, { ...base, ...perturbed }, 'the loss graph of the numerical check', fetch);
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
      const o = await checkRun({}, fetch);
      baseLoss = scalarValue(o[lossName] as Ort.Tensor);
      if (job.checkKinksOutput) kinks = scalarValue(o[job.checkKinksOutput] as Ort.Tensor);
    };
    // Each tensor's direction for the per-tensor stage, drawn once.
    const directions = new Map<number, Float64Array>();
    const directionOf = (k: number): Float64Array => {
      let v = directions.get(k);
      if (!v) directions.set(k, (v = checkDirection(gradients.get(job.params[k]!.name)!, job.seed + k)));
      return v;
    };
    const passedJointly = new Set<number>();
    const jointly = job.joint ? job.params.flatMap((p, k) => (p.direction ? [k] : [])) : [];
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
      // The gradient graph's own first stage, where it covered exactly these tensors.
      const measured = graphJoint && ks.length === graphJoint.coefficients.size && ks.every((k) => graphJoint.coefficients.has(job.params[k]!.name)) ? graphJoint : undefined;
      let coefficients: number[] | undefined = measured ? ks.map((k) => measured.coefficients.get(job.params[k]!.name)!) : undefined;
      const coefficientsNow = (): number[] => (coefficients ??= jointCoefficients(ks.map((k) => stepOf(job.params[k]!)), norms));
      // Written whole by every pass, so allocated, not copied; only when a step runs outside the gradient graph.
      let copies: { plus: (Float32Array | Float64Array)[]; minus: (Float32Array | Float64Array)[] } | undefined;
      const blank = (k: number): Float32Array | Float64Array => {
        const v = valuesOf(job.params[k]!);
        return v instanceof Float64Array ? new Float64Array(v.length) : new Float32Array(v.length);
      };
      const lossOf = async (values: (Float32Array | Float64Array)[]): Promise<number> => {
        const fed: Record<string, Ort.Tensor> = {};
        ks.forEach((k, i) => {
          const p = job.params[k]!;
          fed[p.name] = new (ort().Tensor)(values[i] instanceof Float64Array ? 'float64' : 'float32', values[i]!, p.dims);
        });
        return scalarValue((await checkRun(fed, [lossName]))[lossName] as Ort.Tensor);
      };
      // The analytic derivative of each step tried; every tensor reads the same seeded signs (fillSigns), as in the
      // gradient graph, so the retry moves along the same direction as the first stage.
      const analyticAt = new Map<number, number>();
      const slopesAt = async (eps: number): Promise<[number, number]> => {
        await loadWeights();
        const c = coefficientsNow();
        copies ??= { plus: ks.map(blank), minus: ks.map(blank) };
        let sum = 0;
        ks.forEach((k, i) => {
          const p = job.params[k]!;
          sum += c[i]! * fillDirection(copies!.plus[i]!, copies!.minus[i]!, valuesOf(p), gradients.get(p.name)!, norms[i]!, job.seed, eps * c[i]!);
        });
        analyticAt.set(eps, sum);
        const up = await lossOf(copies.plus);
        const down = await lossOf(copies.minus);
        return [(baseLoss - down) / eps, (up - baseLoss) / eps];
      };
      const errorAt = (eps: number, s: [number, number]) =>
        jointError(analyticAt.get(eps)!, s[0], s[1], jointNoiseFloor(baseLoss, job.floatType, eps), job.floatType);
      let start: number;
      let first: [number, number] | undefined;
      if (measured) {
        runs += 2;
        runsInRun = 2;
        start = measured.step;
        analyticAt.set(start, measured.analytic);
        first = [(baseLoss - measured.lossMinus) / start, (measured.lossPlus - baseLoss) / start];
      } else {
        // The step needs the analytic derivative's size: the gradient parts' sum estimates it before the first pass.
        await loadWeights();
        const c = coefficientsNow();
        start = jointStep(baseLoss, norms.reduce((a, g, i) => a + g * c[i]!, 0));
      }
      const [eps, oneSided] = await settleStep(start, slopesAt, errorAt, 'joint', job.floatType, first);
      const noiseFloor = jointNoiseFloor(baseLoss, job.floatType, eps);
      const analytic = analyticAt.get(eps)!;
      const passed = checkVerdict(jointError(analytic, oneSided[0], oneSided[1], noiseFloor, job.floatType).relError, job.floatType, 'joint') === 'fine';
      return { analytic, oneSided, step: eps, noiseFloor, tensors: ks.length, passed };
    }
    for (let k = 0; k < job.params.length; k++) {
      const p = job.params[k]!;
      if (!(p.direction || p.sample.length > 0) || passedJointly.has(k)) continue;
      await loadWeights();
      const values = valuesOf(p);
      const type = values instanceof Float64Array ? 'float64' : 'float32';
      const lossWith = async (perturbed: Float32Array | Float64Array): Promise<number> => {
        const o = await checkRun({ [p.name]: new (ort().Tensor)(type, perturbed, p.dims) }, [lossName]);
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
        const [h, slopes] = await settleStep(stepOf(p), slopesAt, errorAt, 'direction', job.floatType);
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
    if (opened) await opened.check.release();
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
    ...(weightNorms ? { weightNorms } : {}),
    ...(kinks !== undefined ? { kinks } : {}),
    ...(joint ? { joint } : {}),
    timing: { sessionMs: t1 - t0, runMs: t2 - t1, checkMs: t4 - t3, checkSessionMs, checkRuns: runs, checkRunsInRun: runsInRun },
  };
}

// onnxruntime loads while the parent prepares the job (the parent sends it once this worker says 'ready').
ort();
serveJobs<GradJob, GradJobResult>('grad', runJob);
