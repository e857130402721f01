import type { GradSummary, SaliencyMap } from '../core/autodiff/gradStats';
import type { JointCheckOutputs } from '../core/autodiff/jointCheckGraph';
import type { DataType, Tensor } from '../core/ir/types';
import type { Feed } from './protocol';
import type { ExecutionProviderChoice } from './providers';
import type { WorkerEnvelope } from './workerProcess';

/**
 * Messages between a front end (CLI or extension host) and the gradient worker, the child process that runs the
 * backward graph and the numerical check in onnxruntime-node. Like the probe worker's protocol, tensors travel as
 * typed arrays over 'advanced' IPC serialisation, and only summaries come back: never a full gradient tensor, except
 * the small per-pixel saliency map.
 */

export interface GradJobParam {
  name: string;
  /** The graph output that holds this parameter's gradient. */
  output: string;
  dims: number[];
  /** Coordinates to check numerically (the per-coordinate check, `--check N`); empty otherwise. */
  sample: number[];
  /** Check this tensor along one direction (the default fast check); see core/autodiff/gradCheck.ts. */
  direction?: boolean;
  /**
   * The fast check's step along its unit direction, scaled to the tensor's weights: the worker computes it from the
   * values when a stage outside the gradient graph needs it.
   */
  directionStep?: number;
  /**
   * The parameter's values, needed to perturb it: sent for `--check N`, and for weights held in memory (a model
   * lowered from Python source). The default check otherwise leaves them out (they would cost 45 MB of IPC on
   * ResNet-18); the worker reads them from the model's file (`weights`) only where the joint check inside the
   * gradient graph does not pass.
   */
  values?: Float32Array | Float64Array;
  /** Otherwise, where the values lie: the model's initializer as a file range, without its bytes. */
  weights?: Tensor;
}

export interface GradJob {
  type: 'grad';
  id: number;
  backwardPath: string;
  /** Forward + loss model with the checked parameters as inputs; absent when no check runs. */
  lossPath?: string;
  feeds: Feed[];
  provider: ExecutionProviderChoice;
  deviceId: number;
  graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
  lossOutput: string;
  /** The loss output's name in the loss model. */
  checkLossOutput?: string;
  /** The loss model's count of units exactly on a ReLU/Clip kink (see buildLossModel's countKinks). */
  checkKinksOutput?: string;
  input?: { name: string; output: string };
  params: GradJobParam[];
  activations: { name: string; output: string }[];
  /** The per-coordinate check's finite-difference step. */
  step: number;
  /** The model's float type, which sets the check's rounding noise and thresholds. */
  floatType: DataType;
  /**
   * The fast check starts with one joint direction over every `direction` parameter, and checks them one by one only
   * where that does not pass (core/autodiff/gradCheck.ts's jointCoefficients).
   */
  joint?: boolean;
  /**
   * The joint check's first stage inside the gradient graph (core/autodiff/jointCheckGraph.ts): the signs input the
   * worker feeds (`fillSigns(signsLength, seed)`), and the outputs the gradient run then also gives: the losses at
   * W ± eps·c·d, the analytic joint derivative, eps, and per tensor of `params` the coefficients and weight norms.
   */
  jointInGraph?: JointCheckOutputs;
  /**
   * Files only the gradient session's creation reads (the weights copy its graph references): the worker removes them
   * once the session exists, while it runs, instead of the front end after the result.
   */
  readOnlyBySession?: string[];
  /** Seed of the fast check's random directions, so that runs repeat. */
  seed: number;
  bins: number;
  /**
   * A class or unit index the loss reads along `axis` of `output`: the worker refuses it, as PyTorch does, when the
   * fetched output turns out to have fewer entries there (shape inference could not tell beforehand).
   */
  indexCheck?: { output: string; axis: number; index: number; what: string };
  /**
   * "The predicted class" target (`--target predicted`): before the backward pass the worker runs the graph for
   * `output`, takes its argmax over the last axis, and feeds that as the int64 target under each name in `feeds`.
   */
  predictedTarget?: { output: string; feeds: string[] };
}

export interface GradJobResult {
  executionProvider: string;
  providerFailures: { provider: string; message: string }[];
  loss: number;
  /** The classes the predicted-class target resolved to, one per leading position of the output (the first 1,000). */
  predicted?: number[];
  input?: { name: string; dims: number[]; l2: number; saliency?: SaliencyMap };
  /** Per parameter: the backward graph's and the finite differences' derivatives (per coordinate or along the direction). */
  params: {
    name: string;
    summary: GradSummary;
    analytic: number[];
    numeric: number[];
    /** The directional check's one-sided slopes, (L(w) - L(w - hv)) / h and (L(w + hv) - L(w)) / h. */
    oneSided?: [number, number];
    /** The step the directional check used in the end (it shrinks the requested one once where it meets a kink). */
    directionStep?: number;
    lossAtCheck: number;
  }[];
  activations: { name: string; l2: number }[];
  /**
   * The joint check: the analytic joint derivative, the one-sided slopes of the loss along the joint direction, the
   * step along it with the rounding noise of its finite difference, how many tensors it covered, and whether it passed
   * (then no per-tensor check ran).
   */
  joint?: { analytic: number; oneSided: [number, number]; step: number; noiseFloor: number; tensors: number; passed: boolean };
  /** The weights' L2 norms that the gradient graph computed for its joint check, by parameter name. */
  weightNorms?: Record<string, number>;
  /** Units exactly on a ReLU/Clip kink at the checked point (directional check only). */
  kinks?: number;
  /**
   * The check's time includes its own session's creation (`checkSessionMs`) and its forward runs. `checkRuns` counts
   * every forward pass the check made, including the joint check's two inside the gradient run (`checkRunsInRun`),
   * whose time is part of `runMs`, not of `checkMs`.
   */
  timing: { sessionMs: number; runMs: number; checkMs: number; checkSessionMs: number; checkRuns: number; checkRunsInRun: number };
}

/** The envelope every worker speaks (see runtime/workerProcess.ts), carrying this worker's result. */
export type GradWorkerMessage = WorkerEnvelope<GradJobResult>;
