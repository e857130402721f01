import { constants, copyFileSync, rmSync, statSync } from 'node:fs';
import { MAX_NPY_BYTES } from '../core/limits';
import { readRegularFile } from '../core/regularFile';
import { basename, join } from 'node:path';
import { buildBackward, buildLossModel, type LossSpec } from '../core/autodiff';
import { addJointCheck, type JointCheckGraph, type JointCheckOutputs } from '../core/autodiff/jointCheckGraph';
import { DEFAULT_CHECK, DIRECTION_NOISE_ULPS, finiteDifferenceNoise, finiteDifferenceStep, sampleIndices, type CheckSetting } from '../core/autodiff/gradCheck';
import { l2Norm } from '../core/autodiff/gradStats';
import { assembleGradReport, type GradDiagnosticOptions, type GradRun } from '../core/autodiff/gradReport';
import { UserInputError } from '../core/errors';
import type { Model, Shape, Tensor } from '../core/ir/types';
import { bitsPerElement } from '../core/ir/dtypes';
import { readNpy } from '../core/npy/npy';
import { writeOnnxFile, type ExternalReference } from '../core/onnx/writer';
import { readParameterValues } from '../core/onnx/tensorBytes';
import type { GradReport } from '../core/reports';
import { buildFeeds, type InputOptions } from './inputs';
import type { Feed } from './protocol';
import type { ExecutionProviderChoice } from './providers';
import { makeProbeFolder } from './probePlan';
import { resolveWorkerFile, startWorkerJob } from './workerProcess';
import type { GradJob, GradJobParam, GradJobResult } from './gradProtocol';

/**
 * A gradient probe end to end, shared by the CLI (`layerscope grad`) and the editor command: build the backward
 * graph and the loss-only graph in memory, write them to a temporary folder (never beside the user's model), run them
 * in the gradient worker, and assemble the GradReport. This file loads no native code and no 'vscode'.
 */

/**
 * What the loss is measured against: a class index, a .npy file, the model's own predicted class for each sample
 * (cross-entropy only), or nothing (sum losses).
 */
export type GradTarget = { kind: 'class'; index: number } | { kind: 'npy'; path: string } | { kind: 'predicted' };

export interface GradProbeOptions extends InputOptions, GradDiagnosticOptions {
  loss: 'cross-entropy' | 'mse' | 'sum' | 'mean';
  target?: GradTarget;
  /** The graph output the loss reads; the first by default. */
  output?: string;
  /**
   * The numerical check: 'fast' (the default) checks every parameter tensor together along one joint direction (two
   * forward runs, four with a retry), and each tensor along its own direction only where that does not pass; a number
   * N samples N coordinates per tensor instead (two runs each); 0 turns the check off.
   */
  check?: CheckSetting;
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

/**
 * 'disabled', not onnxruntime's default 'all': a gradient probe creates its session once and runs it once. On
 * ResNet-18, 'all' (which adds the layout transforms) took about 130 ms longer to create a session than it saved in
 * the run; with the joint check inside the gradient graph, 'basic' took 50-80 ms longer to create it than 'disabled'
 * and saved 30-50 ms of the run, and whole `layerscope grad` processes were 3-5% faster with 'disabled' (three
 * interleaved series of 9-11, load averages 3.4-3.9).
 */
export const DEFAULT_GRAD_OPTIMIZATION: GradJob['graphOptimizationLevel'] = 'disabled';

/** The loss spec for the options: `sum`/`mean` with a class target look at that one unit (saliency). */
export function lossSpecFor(options: Pick<GradProbeOptions, 'loss' | 'target'>): LossSpec {
  switch (options.loss) {
    case 'cross-entropy':
      if (!options.target) throw new UserInputError('--loss cross-entropy needs --target K (a class index), --target predicted or --target FILE.npy');
      return { kind: 'cross-entropy' };
    case 'mse':
      if (options.target?.kind !== 'npy') throw new UserInputError('--loss mse needs --target FILE.npy with the expected output');
      return { kind: 'mse' };
    case 'sum':
    case 'mean':
      if (options.target?.kind === 'npy') throw new UserInputError(`--loss ${options.loss} takes --target K (an output unit), not a file`);
      if (options.target?.kind === 'predicted') throw new UserInputError('--target predicted goes with --loss cross-entropy');
      return options.target ? { kind: options.loss, unit: options.target.index } : { kind: options.loss };
  }
}

function readTarget(path: string): ReturnType<typeof readNpy> {
  return readNpy(readRegularFile(path, MAX_NPY_BYTES), basename(path));
}

/** Where the loss reads a class or unit index: cross-entropy along the last axis, a unit along axis 1 (or its own). */
function indexAxis(spec: LossSpec): number | undefined {
  if (spec.kind === 'cross-entropy') return -1;
  if ((spec.kind === 'sum' || spec.kind === 'mean') && spec.unit !== undefined) return spec.axis ?? 1;
  return undefined;
}

/** The number of classes or units the index may pick from, when shape inference knows it. */
function classCount(spec: LossSpec, shape: Shape): number | undefined {
  const axis = indexAxis(spec);
  if (axis === undefined || !shape) return undefined;
  const d = shape[axis < 0 ? shape.length + axis : axis];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

function indexWord(spec: LossSpec): string {
  return spec.kind === 'cross-entropy' ? 'class index' : 'unit index';
}

/**
 * PyTorch raises for a class index outside [0, C) ("Target 10 is out of bounds"); an ONNX graph would instead give a
 * loss of 0 and all-zero gradients, a silently wrong result. So an index is refused here when the class count is
 * known from the model, and by the worker from the fetched output otherwise.
 */
function classIndexCheck(spec: LossSpec, target: GradTarget | undefined, output: string, shape: Shape): GradJob['indexCheck'] {
  const axis = indexAxis(spec);
  if (axis === undefined || target?.kind !== 'class') return undefined;
  const what = indexWord(spec);
  if (!Number.isSafeInteger(target.index) || target.index < 0) throw new UserInputError(`the ${what} must be a whole number of at least 0, not ${target.index}`);
  const count = classCount(spec, shape);
  if (count !== undefined) {
    if (target.index >= count) throw new UserInputError(`${what} ${target.index} is out of range: the output '${output}' has ${count} (0 to ${count - 1})`);
    return undefined;
  }
  return { output, axis, index: target.index, what };
}

function targetFeed(name: string, dtype: string, target: GradTarget, classes: number | undefined): Feed {
  if (target.kind === 'class' || target.kind === 'predicted') {
    // The predicted class is not known yet: the worker replaces this placeholder with the output's argmax.
    return { name, dtype: 'int64', dims: [], data: BigInt64Array.from([BigInt(target.kind === 'class' ? target.index : 0)]) };
  }
  const arr = readTarget(target.path);
  if (dtype === 'int64') {
    if (arr.dtype === 'float32' || arr.dtype === 'float64') {
      throw new UserInputError(`${basename(target.path)}: cross-entropy targets are class indices; this file holds ${arr.dtype}`);
    }
    const data = arr.data instanceof BigInt64Array ? arr.data : BigInt64Array.from(Array.from(arr.data as Uint8Array, (v) => BigInt(v)));
    for (const v of data) {
      if (v < 0n || (classes !== undefined && v >= BigInt(classes))) {
        throw new UserInputError(`${basename(target.path)}: class index ${v} is out of range${classes !== undefined ? ` (the model has ${classes} classes, 0 to ${classes - 1})` : ''}`);
      }
    }
    return { name, dtype: 'int64', dims: arr.shape, data };
  }
  const src = arr.data instanceof BigInt64Array ? Array.from(arr.data, Number) : (arr.data as ArrayLike<number>);
  return dtype === 'float64'
    ? { name, dtype: 'float64', dims: arr.shape, data: Float64Array.from(src) }
    : { name, dtype: 'float32', dims: arr.shape, data: Float32Array.from(src) };
}

/** What the worker needs of the joint check graph: its input and outputs, not the model. */
function jointOutputs({ model: _model, ...outputs }: JointCheckGraph): JointCheckOutputs {
  return outputs;
}

/** Weights below this size are written into the gradient graph itself. */
const REFERENCED_WEIGHT_BYTES = 1024;

/**
 * The gradient graph's weights as a copy of the one file they were read from, put in the probe's folder, which the
 * graph then references as external data: a file copy by the kernel instead of streaming every weight through
 * JavaScript into the graph (on ResNet-18, 15-30 ms instead of 35-80), and onnxruntime also creates the session faster
 * from external data than from 46 MB of raw_data. Weights from other files, and those held in memory (the backward
 * graph's own constants, a model lowered from Python source), are written into the graph; undefined where no file
 * holds any, or the file holds much more than them.
 */
export function copyWeightsBeside(model: Model, dir: string): { file: string; references: (t: Tensor) => ExternalReference | undefined } | undefined {
  // The file most of the weights come from: the model's own file, or its external data file.
  const bySource = new Map<string, number>();
  for (const t of model.graph.initializers) {
    if (t.data.kind === 'file' && t.data.length >= REFERENCED_WEIGHT_BYTES) bySource.set(t.data.path, (bySource.get(t.data.path) ?? 0) + t.data.length);
  }
  let source: string | undefined;
  let bytes = 0;
  for (const [file, n] of bySource) {
    if (n > bytes) {
      source = file;
      bytes = n;
    }
  }
  if (!source) return undefined;
  try {
    if (statSync(source).size > 2 * bytes + (1 << 20)) return undefined;
  } catch {
    return undefined;
  }
  const location = 'weights.bin';
  // A copy, not a link: onnxruntime refuses external data that resolves outside the model's folder, and a copy cannot
  // change under the probe. COPYFILE_FICLONE shares the blocks where the file system can.
  const file = join(dir, location);
  copyFileSync(source, file, constants.COPYFILE_FICLONE);
  return {
    file,
    references: (t) =>
      t.data.kind === 'file' && t.data.path === source && t.data.length >= REFERENCED_WEIGHT_BYTES ? { location, offset: t.data.offset, length: t.data.length } : undefined,
  };
}

/** The gradient worker: dist/gradWorker.js, or gradWorker.ts under tsx (tests). */
export function resolveGradWorkerPath(): string {
  return resolveWorkerFile('gradWorker.js', 'gradWorker.ts', 'gradient worker');
}

/** What preparing the job leaves for assembling the report. */
interface PreparedGrad {
  backward: ReturnType<typeof buildBackward>;
  params: GradJobParam[];
  weightNorms: Map<string, number>;
  /** The model's initializers by name, to read the weights whose norms are still missing. */
  initializers: Map<string, Tensor>;
  /** The parameters whose weight norms the gradient graph's joint check computes (they come with the result). */
  normsFromGraph: Set<string>;
  inputName: string | undefined;
}

/**
 * Runs a gradient probe. `model` may be a promise: the worker process starts at once, so that its start-up (a Node
 * process, then onnxruntime) overlaps reading the model and building and writing the backward graph.
 */
export async function runGradProbe(model: Model | Promise<Model>, options: GradProbeOptions): Promise<GradReport> {
  const start = performance.now();
  let prepared = start;
  let dir: string | undefined;
  let context: PreparedGrad | undefined;
  const job = Promise.resolve(model).then((m): Omit<GradJob, 'type' | 'id'> => {
    const spec = lossSpecFor(options);
    const backward = buildBackward(m, { loss: spec, ...(options.output ? { output: options.output } : {}) });
    const outputName = options.output ?? m.graph.outputs[0]?.name ?? '';
    const indexCheck = classIndexCheck(spec, options.target, outputName, backward.outputShape);
    const feeds = buildFeeds(m, options);
    if (backward.target) {
      if (!options.target) throw new UserInputError('this loss needs --target');
      feeds.push(targetFeed(backward.target.name, backward.target.dtype, options.target, classCount(spec, backward.outputShape)));
    }
    const checkMode = options.check ?? DEFAULT_CHECK;
    const checkN = checkMode === 'fast' ? 0 : checkMode;
    const step = finiteDifferenceStep(backward.floatType);
    const inits = new Map(m.graph.initializers.map((t) => [t.name, t]));
    const params: GradJobParam[] = [];
    const weightNorms = new Map<string, number>();
    let weightBytes = 0;
    backward.params.forEach((name, k) => {
      const t = inits.get(name)!;
      const count = t.dims.reduce((a, d) => a * d, 1);
      weightBytes += (count * bitsPerElement(t.dtype)) / 8;
      // Only float32 and float64 weights can be perturbed and fed back; a float16 model's check would measure
      // float16 rounding, not its gradient, so it is not checked.
      const checkable = t.dtype === 'float32' || t.dtype === 'float64';
      const sample = checkable ? sampleIndices(count, checkN, k + 1) : [];
      const direction = checkable && checkMode === 'fast' && count > 0;
      if (sample.length === 0 && !direction) {
        params.push({ name, output: backward.gradNames.get(name)!, dims: [...t.dims], sample });
        return;
      }
      if (direction) {
        // The default check runs inside the gradient graph, which has the weights: none travel to the worker, only
        // where they lie in the model's file, for the stages that run outside the graph when the joint one fails.
        // Weights held in memory (a model lowered from Python source) travel as before.
        const where = t.data.kind === 'file' ? { weights: t } : { values: readParameterValues(t) };
        params.push({ name, output: backward.gradNames.get(name)!, dims: [...t.dims], sample, direction: true, ...where });
        return;
      }
      // The per-coordinate check perturbs these values in the worker; their norm comes with them.
      const values = readParameterValues(t);
      weightNorms.set(name, l2Norm(values));
      params.push({ name, output: backward.gradNames.get(name)!, dims: [...t.dims], sample, values });
    });
    const inputName = backward.inputs[0];
    const jointGraph = checkMode === 'fast' ? addJointCheck(m, backward, params.filter((p) => p.direction).map((p) => p.name)) : undefined;
    context = { backward, params, weightNorms, initializers: inits, inputName, normsFromGraph: new Set(jointGraph?.params ?? []) };
    // The backward graph carries every weight, and the loss-only graph for the check may carry some again.
    dir = makeProbeFolder(2 * weightBytes);
    const backwardPath = join(dir, 'backward.onnx');
    const gradientModel = jointGraph?.model ?? backward.model;
    const copied = copyWeightsBeside(gradientModel, dir);
    writeOnnxFile(gradientModel, backwardPath, copied ? { references: copied.references } : {});
    let lossPath: string | undefined;
    let checkLossOutput: string | undefined;
    let checkKinksOutput: string | undefined;
    let checkTargetName: string | undefined;
    const checked = params.filter((p) => p.sample.length > 0 || p.direction);
    if (checked.length > 0) {
      const lossModel = buildLossModel(m, {
        loss: spec,
        ...(options.output ? { output: options.output } : {}),
        exposeParams: checked.map((p) => p.name),
        countKinks: checked.some((p) => p.direction),
      });
      lossPath = join(dir, 'loss.onnx');
      writeOnnxFile(lossModel.model, lossPath);
      checkLossOutput = lossModel.loss;
      checkKinksOutput = lossModel.kinks;
      if (lossModel.target && backward.target && lossModel.target.name !== backward.target.name) {
        const tf = feeds.find((f) => f.name === backward.target!.name)!;
        feeds.push({ ...tf, name: lossModel.target.name });
        checkTargetName = lossModel.target.name;
      }
    }
    prepared = performance.now();
    return {
      backwardPath,
      ...(copied ? { readOnlyBySession: [copied.file] } : {}),
      ...(lossPath ? { lossPath, checkLossOutput, ...(checkKinksOutput ? { checkKinksOutput } : {}) } : {}),
      feeds,
      provider: options.provider ?? 'auto',
      deviceId: options.deviceId ?? 0,
      graphOptimizationLevel: options.graphOptimizationLevel ?? DEFAULT_GRAD_OPTIMIZATION,
      lossOutput: backward.loss,
      ...(inputName ? { input: { name: inputName, output: backward.gradNames.get(inputName)! } } : {}),
      params,
      activations: backward.activations.map((a) => ({ name: a.name, output: backward.gradNames.get(a.name)! })),
      step,
      ...(checkMode === 'fast' ? { joint: true } : {}),
      ...(jointGraph ? { jointInGraph: jointOutputs(jointGraph) } : {}),
      seed: 1,
      floatType: backward.floatType,
      bins: options.bins ?? 32,
      ...(indexCheck ? { indexCheck } : {}),
      ...(options.target?.kind === 'predicted' && backward.target
        ? { predictedTarget: { output: outputName, feeds: checkTargetName ? [backward.target.name, checkTargetName] : [backward.target.name] } }
        : {}),
    };
  });
  try {
    let sent: () => void = () => undefined;
    const handedOver = new Promise<void>((resolve) => (sent = resolve));
    const running = runGradJob(job, { ...options, onSent: () => sent() });
    // The weight norms that neither the job nor the gradient graph gives are read while the worker creates its session
    // and runs: once the job has been handed over, since reading them first held the job back until they were done.
    running.catch(() => undefined);
    await Promise.race([handedOver, running.catch(() => undefined)]);
    if (context) {
      for (const p of context.params) {
        if (!context.weightNorms.has(p.name) && !context.normsFromGraph.has(p.name)) context.weightNorms.set(p.name, l2Norm(readParameterValues(context.initializers.get(p.name)!)));
      }
    }
    const result = await running;
    if (!context) throw new Error('the gradient probe finished without its backward graph');
    const { backward, params, weightNorms, inputName } = context;
    for (const [name, l2] of Object.entries(result.weightNorms ?? {})) weightNorms.set(name, l2);
    const noise = finiteDifferenceNoise(result.loss, backward.floatType, finiteDifferenceStep(backward.floatType));
    const noiseOf = (k: number): number => {
      const h = result.params[k]!.directionStep;
      return h !== undefined ? finiteDifferenceNoise(result.loss, backward.floatType, h, DIRECTION_NOISE_ULPS) : noise;
    };
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
        ...(p.analytic.length > 0 && p.numeric.length === p.analytic.length
          ? { check: { analytic: p.analytic, numeric: p.numeric, noiseFloor: noiseOf(k), method: params[k]!.direction ? 'direction' : 'coordinates', ...(p.oneSided ? { oneSided: p.oneSided } : {}) } }
          : result.joint?.passed && params[k]!.direction
            ? { check: { analytic: [], numeric: [], noiseFloor: 0, method: 'joint' } }
            : {}),
      })),
      activations: result.activations,
      ...(result.kinks !== undefined ? { kinks: result.kinks } : {}),
      ...(result.joint ? { joint: result.joint } : {}),
      timing: {
        totalMs: performance.now() - start,
        prepareMs: prepared - start,
        sessionMs: result.timing.sessionMs,
        runMs: result.timing.runMs,
        checkMs: result.timing.checkMs,
        checkSessionMs: result.timing.checkSessionMs,
        checkRuns: result.timing.checkRuns,
        checkRunsInRun: result.timing.checkRunsInRun,
      },
    };
    const report = assembleGradReport(run, options);
    return result.predicted ? { ...report, predictedClasses: result.predicted } : report;
  } finally {
    // maxRetries: on Windows a worker being killed may still hold a file open for a moment.
    if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  }
}

/** Forks the gradient worker for one job; a crash, kill, timeout or cancel rejects with a clear error. */
export function runGradJob(
  job: Omit<GradJob, 'type' | 'id'> | Promise<Omit<GradJob, 'type' | 'id'>>,
  options: Pick<GradProbeOptions, 'signal' | 'timeoutMs' | 'onProgress' | 'workerPath'> & { onSent?: () => void } = {},
): Promise<GradJobResult> {
  const kind = { type: 'grad', resolvePath: resolveGradWorkerPath, processName: 'gradient worker', jobName: 'gradient probe', defaultTimeoutMs: DEFAULT_GRAD_TIMEOUT_MS } as const;
  return startWorkerJob<GradJob, GradJobResult>(kind, job, options);
}
