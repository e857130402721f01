import type { Dim } from './ir/types';

/**
 * Result types of the runtime probes. Like the summary types, these are exactly what `layerscope probe --json` and
 * `layerscope grad --json` print (docs/json-contract.md), and what the probe and gradient panels draw.
 */

export interface Histogram {
  /** Bin edges, one more than counts. */
  edges: number[];
  counts: number[];
  /**
   * The counts without the exact zeros (`stats.fracZero` of the elements), present when there are any: the bin that
   * holds zero keeps only its nonzero elements. Probe panels draw it for "exclude exact zeros".
   */
  countsExcludingZeros?: number[];
}

export interface TensorStats {
  count: number;
  mean: number;
  /** Population standard deviation. */
  std: number;
  min: number;
  max: number;
  fracZero: number;
  fracSaturated: number;
  p01: number;
  p50: number;
  p99: number;
}

export interface ProbeDiagnostic {
  kind: 'dead-relu' | 'saturated' | 'vanishing-activations' | 'exploding-activations' | 'initial-loss' | string;
  /** The node the diagnostic is about, so that the editor can link to it. */
  node: string;
  message: string;
}

export interface ProbeLayer {
  name: string;
  op: string;
  output: string;
  shape: Dim[];
  stats: TensorStats;
  histogram: Histogram;
}

export interface ProbeReport {
  /** The execution provider that actually ran the session. */
  executionProvider: string;
  /** Nodes that the chosen provider did not take and that ran on the CPU instead, when profiling could tell. */
  cpuFallbackNodes?: string[];
  timing: { totalMs: number; [phase: string]: number };
  layers: ProbeLayer[];
  diagnostics: ProbeDiagnostic[];
}

export interface GradParam {
  /** The initializer's name in the ONNX file. */
  name: string;
  shape: number[];
  l2: number;
  mean: number;
  std: number;
  maxAbs: number;
  /** L2 norm of the parameter itself, so that the update ratio |g|/|w| can be read off. */
  weightL2: number;
  histogram?: Histogram;
  /** lr*|g|/|w| at the report's learning rate (`bands.learningRate`); absent for an all-zero weight. */
  updateRatio?: number;
  /** Where the gradient norm falls against the others (core/autodiff/gradReport.ts's gradientBands). */
  band?: 'vanishing' | 'exploding' | 'dead' | 'ok';
  /**
   * Per-tensor numerical check: `method` 'joint' (the default fast check's joint direction over all tensors passed;
   * `maxRelError` is that joint derivative's error, the same for every tensor), 'direction' (the joint check did not
   * pass, so this tensor was checked along its own direction, `sampled` 1) or 'coordinates' (`--check N`, `sampled`
   * coordinates); `verdict` read off core/autodiff/gradCheck.ts's thresholds.
   */
  check?: {
    sampled: number;
    maxRelError: number;
    method?: 'joint' | 'direction' | 'coordinates';
    verdict?: 'fine' | 'uncomfortable' | 'wrong' | 'kink';
    /** The loss had a kink along the direction; the gradient was compared with the one-sided slopes around it. */
    kink?: boolean;
  };
}

export interface GradReport {
  executionProvider: string;
  loss: number;
  /** With `--target predicted`: the class the loss used for each leading position of the output (the first 1,000). */
  predictedClasses?: number[];
  input: {
    name: string;
    l2: number;
    shape?: number[];
    /** For image inputs [N, C, H, W]: max over channels of |d loss / d pixel| for the first image, row-major. */
    saliency?: { width: number; height: number; values: number[] };
  };
  params: GradParam[];
  activations: { name: string; l2: number }[];
  /** The check over all tensors: the worst tensor's error and verdict, and the thresholds the verdicts used. */
  check?: {
    sampled: number;
    maxRelError: number;
    worst?: string;
    method?: 'joint' | 'direction' | 'coordinates';
    verdict?: 'fine' | 'uncomfortable' | 'wrong' | 'kink';
    thresholds?: { fine: number; wrong: number };
    /** Tensors the check could not judge, and the units exactly on a ReLU/Clip kink that made it so. */
    notJudged?: number;
    kinks?: number;
    /**
     * The default check's first step: one joint direction over `tensors` tensors, its relative error, and whether it
     * passed (below `threshold`); where it did not, the per-tensor verdicts above come from each tensor's own check.
     */
    joint?: { relError: number; tensors: number; passed: boolean; threshold: number };
  };
  diagnostics?: ProbeDiagnostic[];
  /** The limits the bands and update-ratio flags used, so that views draw them without a rule of their own. */
  bands?: { low: number; high: number; decades: number; learningRate: number; updateRatio: { low: number; high: number } };
  timing?: { totalMs: number; [phase: string]: number };
}
