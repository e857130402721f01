import type { GradSummary, SaliencyMap } from '../core/autodiff/gradStats';
import type { Feed } from '../runtime/protocol';
import type { ExecutionProviderChoice } from '../runtime/providers';
import type { WorkerEnvelope } from '../runtime/workerProcess';

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
  /** Coordinates to check numerically (empty: no check for this tensor). */
  sample: number[];
  /** The parameter's values, needed to perturb it; only sent when `sample` is not empty. */
  values?: Float32Array | Float64Array;
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
  input?: { name: string; output: string };
  params: GradJobParam[];
  activations: { name: string; output: string }[];
  step: number;
  bins: number;
}

export interface GradJobResult {
  executionProvider: string;
  providerFailures: { provider: string; message: string }[];
  loss: number;
  input?: { name: string; dims: number[]; l2: number; saliency?: SaliencyMap };
  params: { name: string; summary: GradSummary; analytic: number[]; numeric: number[]; lossAtCheck: number }[];
  activations: { name: string; l2: number }[];
  timing: { sessionMs: number; runMs: number; checkMs: number };
}

/** The envelope every worker speaks (see runtime/workerProcess.ts), carrying this worker's result. */
export type GradWorkerMessage = WorkerEnvelope<GradJobResult>;
