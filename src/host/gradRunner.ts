import { existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { buildBackward, buildLossModel, type LossSpec } from '../core/autodiff';
import { DEFAULT_CHECK_SAMPLES, finiteDifferenceNoise, finiteDifferenceStep, sampleIndices } from '../core/autodiff/gradCheck';
import { l2Norm } from '../core/autodiff/gradStats';
import { assembleGradReport, type GradDiagnosticOptions, type GradRun } from '../core/autodiff/gradReport';
import { UserInputError } from '../core/errors';
import type { Model, Tensor } from '../core/ir/types';
import { readNpy } from '../core/npy/npy';
import { writeOnnx } from '../core/onnx/writer';
import { readTensorValues } from '../core/onnx/tensorBytes';
import type { GradReport } from '../core/reports';
import { buildFeeds, type InputOptions } from '../runtime/inputs';
import type { Feed } from '../runtime/protocol';
import type { ExecutionProviderChoice } from '../runtime/providers';
import { ProbeRuntimeError, runWorkerJob } from '../runtime/workerProcess';
import type { GradJob, GradJobParam, GradJobResult } from './gradProtocol';

/**
 * A gradient probe end to end, shared by the CLI (`layerscope grad`) and the editor command: build the backward
 * graph and the loss-only graph in memory, write them to a temporary folder (never beside the user's model), run them
 * in the gradient worker, and assemble the GradReport. This file loads no native code and no 'vscode'.
 */

/** What the loss is measured against: a class index, a .npy file, or nothing (sum losses). */
export type GradTarget = { kind: 'class'; index: number } | { kind: 'npy'; path: string };

export interface GradProbeOptions extends InputOptions, GradDiagnosticOptions {
  loss: 'cross-entropy' | 'mse' | 'sum' | 'mean';
  target?: GradTarget;
  /** The graph output the loss reads; the first by default. */
  output?: string;
  /** Coordinates per parameter tensor for the numerical check; 0 turns it off. Default 20. */
  check?: number;
  provider?: ExecutionProviderChoice;
  deviceId?: number;
  bins?: number;
  graphOptimizationLevel?: GradJob['graphOptimizationLevel'];
  signal?: AbortSignal;
  timeoutMs?: number;
  onProgress?: (done: number, total: number, message: string) => void;
  workerPath?: string;
}

export const DEFAULT_GRAD_TIMEOUT_MS = 15 * 60 * 1000;

/** The loss spec for the options: `sum`/`mean` with a class target look at that one unit (saliency). */
export function lossSpecFor(options: Pick<GradProbeOptions, 'loss' | 'target'>): LossSpec {
  switch (options.loss) {
    case 'cross-entropy':
      if (!options.target) throw new UserInputError('--loss cross-entropy needs --target K (a class index) or --target FILE.npy');
      return { kind: 'cross-entropy' };
    case 'mse':
      if (options.target?.kind !== 'npy') throw new UserInputError('--loss mse needs --target FILE.npy with the expected output');
      return { kind: 'mse' };
    case 'sum':
    case 'mean':
      if (options.target?.kind === 'npy') throw new UserInputError(`--loss ${options.loss} takes --target K (an output unit), not a file`);
      return options.target ? { kind: options.loss, unit: options.target.index } : { kind: options.loss };
  }
}

function readTarget(path: string): ReturnType<typeof readNpy> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UserInputError(`${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'cannot read it'}`);
  }
  return readNpy(bytes, basename(path));
}

function targetFeed(name: string, dtype: string, target: GradTarget): Feed {
  if (target.kind === 'class') {
    return { name, dtype: 'int64', dims: [], data: BigInt64Array.from([BigInt(target.index)]) };
  }
  const arr = readTarget(target.path);
  if (dtype === 'int64') {
    if (arr.dtype === 'float32' || arr.dtype === 'float64') {
      throw new UserInputError(`${basename(target.path)}: cross-entropy targets are class indices; this file holds ${arr.dtype}`);
    }
    const data = arr.data instanceof BigInt64Array ? arr.data : BigInt64Array.from(Array.from(arr.data as Uint8Array, (v) => BigInt(v)));
    return { name, dtype: 'int64', dims: arr.shape, data };
  }
  const src = arr.data instanceof BigInt64Array ? Array.from(arr.data, Number) : (arr.data as ArrayLike<number>);
  return dtype === 'float64'
    ? { name, dtype: 'float64', dims: arr.shape, data: Float64Array.from(src) }
    : { name, dtype: 'float32', dims: arr.shape, data: Float32Array.from(src) };
}

function paramValues(t: Tensor): Float32Array | Float64Array {
  const v = readTensorValues(t);
  if (t.dtype === 'float64') return Float64Array.from(v);
  return v instanceof Float32Array ? Float32Array.from(v) : Float32Array.from(v);
}

export function resolveGradWorkerPath(): string {
  const candidates = [join(__dirname, 'gradWorker.js'), join(__dirname, 'gradWorker.ts'), join(__dirname, '..', '..', 'dist', 'gradWorker.js')];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new ProbeRuntimeError('the gradient worker (dist/gradWorker.js) is missing; run npm run build');
}

export async function runGradProbe(model: Model, options: GradProbeOptions): Promise<GradReport> {
  const start = performance.now();
  const spec = lossSpecFor(options);
  const backward = buildBackward(model, { loss: spec, ...(options.output ? { output: options.output } : {}) });
  const feeds = buildFeeds(model, options);
  if (backward.target) {
    if (!options.target) throw new UserInputError('this loss needs --target');
    feeds.push(targetFeed(backward.target.name, backward.target.dtype, options.target));
  }
  const checkN = options.check ?? DEFAULT_CHECK_SAMPLES;
  const step = finiteDifferenceStep(backward.floatType);
  const inits = new Map(model.graph.initializers.map((t) => [t.name, t]));
  const params: GradJobParam[] = [];
  const weightNorms = new Map<string, number>();
  backward.params.forEach((name, k) => {
    const t = inits.get(name)!;
    const values = paramValues(t);
    weightNorms.set(name, l2Norm(values));
    const sample = sampleIndices(values.length, checkN, k + 1);
    params.push({ name, output: backward.gradNames.get(name)!, dims: [...t.dims], sample, ...(sample.length > 0 ? { values } : {}) });
  });
  const inputName = backward.inputs[0];
  const dir = mkdtempSync(join(tmpdir(), 'layerscope-grad-'));
  try {
    const backwardPath = join(dir, 'backward.onnx');
    writeFileSync(backwardPath, writeOnnx(backward.model));
    let lossPath: string | undefined;
    let checkLossOutput: string | undefined;
    if (params.some((p) => p.sample.length > 0)) {
      const lossModel = buildLossModel(model, {
        loss: spec,
        ...(options.output ? { output: options.output } : {}),
        exposeParams: params.filter((p) => p.sample.length > 0).map((p) => p.name),
      });
      lossPath = join(dir, 'loss.onnx');
      writeFileSync(lossPath, writeOnnx(lossModel.model));
      checkLossOutput = lossModel.loss;
      if (lossModel.target && backward.target && lossModel.target.name !== backward.target.name) {
        const tf = feeds.find((f) => f.name === backward.target!.name)!;
        feeds.push({ ...tf, name: lossModel.target.name });
      }
    }
    const job: Omit<GradJob, 'type' | 'id'> = {
      backwardPath,
      ...(lossPath ? { lossPath, checkLossOutput } : {}),
      feeds,
      provider: options.provider ?? 'auto',
      deviceId: options.deviceId ?? 0,
      graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
      lossOutput: backward.loss,
      ...(inputName ? { input: { name: inputName, output: backward.gradNames.get(inputName)! } } : {}),
      params,
      activations: backward.activations.map((a) => ({ name: a.name, output: backward.gradNames.get(a.name)! })),
      step,
      bins: options.bins ?? 32,
    };
    const prepared = performance.now();
    const result = await runGradJob(job, options);
    const noise = finiteDifferenceNoise(result.loss, backward.floatType, step);
    const run: GradRun = {
      executionProvider: result.executionProvider,
      loss: result.loss,
      floatType: backward.floatType,
      input: result.input ?? { name: inputName ?? '', dims: [], l2: 0 },
      params: result.params.map((p, k) => ({
        name: p.name,
        dims: params[k].dims,
        summary: p.summary,
        weightL2: weightNorms.get(p.name) ?? 0,
        ...(p.analytic.length > 0 && p.numeric.length === p.analytic.length ? { check: { analytic: p.analytic, numeric: p.numeric, noiseFloor: noise } } : {}),
      })),
      activations: result.activations,
      timing: {
        totalMs: performance.now() - start,
        prepareMs: prepared - start,
        sessionMs: result.timing.sessionMs,
        runMs: result.timing.runMs,
        checkMs: result.timing.checkMs,
      },
    };
    return assembleGradReport(run, options);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let nextId = 1;

/** Forks the gradient worker for one job; a crash, kill, timeout or cancel rejects with a clear error. */
export function runGradJob(job: Omit<GradJob, 'type' | 'id'>, options: Pick<GradProbeOptions, 'signal' | 'timeoutMs' | 'onProgress' | 'workerPath'> = {}): Promise<GradJobResult> {
  return runWorkerJob<GradJob, GradJobResult>({ ...job, type: 'grad', id: nextId++ }, {
    workerPath: options.workerPath ?? resolveGradWorkerPath(),
    processName: 'gradient worker',
    jobName: 'gradient probe',
    timeoutMs: options.timeoutMs ?? DEFAULT_GRAD_TIMEOUT_MS,
    signal: options.signal,
    onProgress: options.onProgress,
  });
}
