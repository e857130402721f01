import type { DataType } from '../ir/types';
import type { GradParam, GradReport, ProbeDiagnostic } from '../reports';
import { checkThresholds, checkVerdict, directionalError, jointError, relativeError, type CheckMethod, type CheckVerdict } from './gradCheck';
import type { GradSummary, SaliencyMap } from './gradStats';

/**
 * Turns the numbers a gradient run produced into the GradReport that `layerscope grad --json` prints and the
 * gradient panel draws, and reads the diagnostics the lectures ask about off them: vanishing and exploding
 * gradients, dead parameters, update ratios, and a failed numerical check.
 */

export interface ParamRun {
  name: string;
  dims: number[];
  summary: GradSummary;
  weightL2: number;
  /**
   * Backward-graph and finite-difference gradients at the sampled coordinates, or along the tensor's direction; with
   * method 'joint' (and empty arrays) the tensor was judged by the run's joint check (`GradRun.joint`).
   */
  check?: {
    analytic: number[];
    numeric: number[];
    noiseFloor: number;
    method?: CheckMethod;
    /** The directional check's one-sided slopes (see `directionalError`). */
    oneSided?: [number, number];
  };
}

export interface GradRun {
  executionProvider: string;
  loss: number;
  floatType: DataType;
  input: { name: string; dims: number[]; l2: number; saliency?: SaliencyMap };
  params: ParamRun[];
  activations: { name: string; l2: number }[];
  /** Units exactly on a ReLU/Clip kink at this point, counted by the directional check's loss graph. */
  kinks?: number;
  /** The default check's joint direction over all tensors (see gradCheck.ts's jointCoefficients). */
  joint?: { analytic: number; oneSided: [number, number]; noiseFloor: number; tensors: number };
  timing?: { totalMs: number; [phase: string]: number };
}

export interface GradDiagnosticOptions {
  /** The learning rate assumed for update ratios; the lectures' Adam default. */
  learningRate?: number;
  /** First-to-last gradient ratio (per element) below which gradients count as vanishing. */
  vanishingRatio?: number;
  /** Above which they count as exploding. */
  explodingRatio?: number;
}

const DEFAULTS: Required<GradDiagnosticOptions> = { learningRate: 1e-3, vanishingRatio: 1e-2, explodingRatio: 1e2 };

function fmt(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? String(Number(x.toPrecision(3))) : x.toExponential(1);
}

/** How many decades from the median gradient norm a tensor may be before the panel marks it vanishing or exploding. */
export const GRADIENT_BAND_DECADES = 2;

/** Update ratios lr*|g|/|w| outside these limits are flagged (the lectures aim for about 1e-3). */
export const UPDATE_RATIO_LIMITS = { low: 1e-6, high: 1e-1 } as const;

function median(values: number[]): number {
  const v = values.filter((x) => x > 0 && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return 0;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m]! : Math.sqrt(v[m - 1]! * v[m]!);
}

/**
 * The bands the gradient panel draws, computed here so that every view labels a tensor the same way: a gradient norm
 * more than GRADIENT_BAND_DECADES decades below the median (geometric, over non-zero norms) is 'vanishing', as far
 * above 'exploding', exactly zero 'dead'.
 */
export function gradientBands(norms: readonly number[]): { low: number; high: number; decades: number; bands: GradBand[] } {
  const mid = median([...norms]);
  const decades = GRADIENT_BAND_DECADES;
  const low = mid / 10 ** decades;
  const high = mid * 10 ** decades;
  const bands = norms.map((v): GradBand => (!(v > 0) ? 'dead' : mid > 0 && v < low ? 'vanishing' : mid > 0 && v > high ? 'exploding' : 'ok'));
  return { low, high, decades, bands };
}

export type GradBand = 'vanishing' | 'exploding' | 'dead' | 'ok';

/** The update ratio lr*|g|/|w| of one tensor; undefined for a zero weight. */
export function updateRatio(l2: number, weightL2: number, learningRate: number): number | undefined {
  return weightL2 > 0 ? (learningRate * l2) / weightL2 : undefined;
}

export function assembleGradReport(run: GradRun, options: GradDiagnosticOptions = {}): GradReport {
  const learningRate = options.learningRate ?? DEFAULTS.learningRate;
  const joint = run.joint ? jointError(run.joint.analytic, run.joint.oneSided[0], run.joint.oneSided[1], run.joint.noiseFloor, run.floatType) : undefined;
  const jointPassed = joint !== undefined && checkVerdict(joint.relError, run.floatType, 'joint') === 'fine';
  const params: GradParam[] = run.params.map((p) => {
    const entry: GradParam = {
      name: p.name,
      shape: p.dims,
      l2: p.summary.l2,
      mean: p.summary.mean,
      std: p.summary.std,
      maxAbs: p.summary.maxAbs,
      weightL2: p.weightL2,
      histogram: p.summary.histogram,
    };
    const ratio = updateRatio(p.summary.l2, p.weightL2, learningRate);
    if (ratio !== undefined) entry.updateRatio = ratio;
    if (p.check?.method === 'joint' && joint) {
      // Judged with every other tensor by the joint check: its error is the joint one, not this tensor's own.
      entry.check = { sampled: 1, maxRelError: joint.relError, method: 'joint', verdict: jointPassed ? 'fine' : 'wrong' };
    } else if (p.check && p.check.analytic.length > 0) {
      const directional = p.check.oneSided && p.check.analytic.length === 1
        ? directionalError(p.check.analytic[0]!, p.check.oneSided[0], p.check.oneSided[1], p.check.noiseFloor, run.floatType)
        : undefined;
      const maxRelError = directional ? directional.relError : relativeError(p.check.analytic, p.check.numeric, p.check.noiseFloor);
      const method = p.check.method ?? 'coordinates';
      let verdict: CheckVerdict = checkVerdict(maxRelError, run.floatType, method);
      // With units exactly on a kink the loss has no gradient to compare with (see buildLossModel's countKinks).
      if (verdict !== 'fine' && method === 'direction' && (run.kinks ?? 0) > 0) verdict = 'kink';
      entry.check = {
        sampled: p.check.analytic.length,
        maxRelError,
        ...(directional?.kink ? { kink: true } : {}),
        method,
        verdict,
      };
    }
    return entry;
  });
  const report: GradReport = {
    executionProvider: run.executionProvider,
    loss: run.loss,
    input: { name: run.input.name, l2: run.input.l2, shape: run.input.dims, ...(run.input.saliency ? { saliency: run.input.saliency } : {}) },
    params,
    activations: run.activations,
  };
  const bands = gradientBands(params.map((p) => p.l2));
  params.forEach((p, i) => (p.band = bands.bands[i]));
  report.bands = { low: bands.low, high: bands.high, decades: bands.decades, learningRate, updateRatio: { ...UPDATE_RATIO_LIMITS } };
  const checked = params.filter((p) => p.check);
  const jointSummary = run.joint && joint ? { relError: joint.relError, tensors: run.joint.tensors, passed: jointPassed, threshold: checkThresholds(run.floatType, 'joint').fine } : undefined;
  if (jointPassed && checked.every((p) => p.check!.method === 'joint')) {
    report.check = {
      sampled: checked.length,
      maxRelError: joint.relError,
      method: 'joint',
      verdict: 'fine',
      thresholds: checkThresholds(run.floatType, 'joint'),
      joint: jointSummary!,
    };
  } else if (checked.length > 0) {
    // The worst tensor the check could judge; tensors at a kink are counted apart.
    const judged = checked.filter((p) => p.check!.verdict !== 'kink');
    let worst = judged[0] ?? checked[0]!;
    for (const p of judged) if (!(p.check!.maxRelError <= worst.check!.maxRelError)) worst = p;
    const method = worst.check!.method ?? 'coordinates';
    const atKinks = checked.length - judged.length;
    report.check = {
      sampled: checked.reduce((s, p) => s + p.check!.sampled, 0),
      maxRelError: worst.check!.maxRelError,
      worst: worst.name,
      method,
      verdict: judged.length > 0 ? checkVerdict(worst.check!.maxRelError, run.floatType, method) : 'kink',
      thresholds: checkThresholds(run.floatType, method),
      ...(atKinks > 0 ? { notJudged: atKinks, kinks: run.kinks } : {}),
      ...(jointSummary ? { joint: jointSummary } : {}),
    };
  }
  report.diagnostics = diagnoseGradients(run, report, options);
  if (run.timing) report.timing = run.timing;
  return report;
}

/** Root-mean-square gradient per element, which compares layers of different sizes. */
function rms(p: ParamRun): number {
  return p.summary.count > 0 ? p.summary.l2 / Math.sqrt(p.summary.count) : 0;
}

function geometricMean(values: number[]): number {
  const logs = values.filter((v) => v > 0).map(Math.log);
  return logs.length === 0 ? 0 : Math.exp(logs.reduce((a, b) => a + b, 0) / logs.length);
}

export function diagnoseGradients(run: GradRun, report: GradReport, options: GradDiagnosticOptions = {}): ProbeDiagnostic[] {
  const o = { ...DEFAULTS, ...options };
  const out: ProbeDiagnostic[] = [];
  if (!Number.isFinite(run.loss)) {
    out.push({ kind: 'nonfinite-loss', node: '', message: `the loss is ${run.loss}; no gradient below it means anything` });
  }
  for (const p of run.params) {
    if (p.summary.nonFinite > 0) {
      out.push({ kind: 'exploding-gradients', node: p.name, message: `${p.summary.nonFinite} gradient elements of ${p.name} are NaN or infinite` });
    }
  }
  // Weights only (rank >= 2): biases and norm scales follow their layer's weight and would blur the trend.
  const weights = run.params.filter((p) => p.dims.length >= 2 && p.summary.count > 0);
  if (weights.length >= 3) {
    const q = Math.max(1, Math.floor(weights.length / 4));
    const first = geometricMean(weights.slice(0, q).map(rms));
    const last = geometricMean(weights.slice(-q).map(rms));
    if (first > 0 && last > 0) {
      const ratio = first / last;
      if (ratio < o.vanishingRatio) {
        out.push({
          kind: 'vanishing-gradients',
          node: weights[0].name,
          message: `vanishing gradients: the first layers' gradients are ${fmt(1 / ratio)}x smaller per element than the last layers' (${fmt(first)} vs ${fmt(last)}); early layers will barely learn. Check the initialisation, saturating activations, or add normalisation or skip connections.`,
        });
      } else if (ratio > o.explodingRatio) {
        out.push({
          kind: 'exploding-gradients',
          node: weights[0].name,
          message: `exploding gradients: the first layers' gradients are ${fmt(ratio)}x larger per element than the last layers' (${fmt(first)} vs ${fmt(last)}). Check the initialisation scale, or clip gradients.`,
        });
      }
    }
  }
  for (const p of run.params) {
    if (p.summary.l2 === 0 && p.summary.nonFinite === 0 && p.summary.count > 0) {
      out.push({
        kind: 'dead-params',
        node: p.name,
        message: `the gradient of ${p.name} is exactly zero: the loss does not depend on it for this input (dead ReLUs downstream, or an unused branch)`,
      });
    }
  }
  const high: { name: string; ratio: number }[] = [];
  const low: { name: string; ratio: number }[] = [];
  for (const p of run.params) {
    if (p.dims.length < 2 || p.weightL2 === 0 || p.summary.l2 === 0) continue;
    const ratio = updateRatio(p.summary.l2, p.weightL2, o.learningRate)!;
    if (ratio > UPDATE_RATIO_LIMITS.high) high.push({ name: p.name, ratio });
    else if (ratio < UPDATE_RATIO_LIMITS.low) low.push({ name: p.name, ratio });
  }
  const describe = (list: { name: string; ratio: number }[]): string =>
    list.slice(0, 4).map((x) => `${x.name} ${fmt(x.ratio)}`).join(', ') + (list.length > 4 ? `, and ${list.length - 4} more` : '');
  if (high.length > 0) {
    high.sort((a, b) => b.ratio - a.ratio);
    out.push({
      kind: 'update-ratio',
      node: high[0].name,
      message: `update ratio lr*|g|/|w| far above ~1e-3 at lr=${o.learningRate}: ${describe(high)}; one step would rewrite these weights. Lower the learning rate.`,
    });
  }
  if (low.length > 0) {
    low.sort((a, b) => a.ratio - b.ratio);
    out.push({
      kind: 'update-ratio',
      node: low[0].name,
      message: `update ratio lr*|g|/|w| far below ~1e-3 at lr=${o.learningRate}: ${describe(low)}; these weights will hardly move.`,
    });
  }
  const note = run.floatType === 'float64' ? '' : ' (float32: finite differences are good to a few percent at best)';
  for (const p of report.params) {
    if (!p.check || p.check.verdict !== 'wrong') continue;
    const t = checkThresholds(run.floatType, p.check.method);
    out.push({
      kind: 'gradient-check',
      node: p.name,
      message: `numerical gradient check failed for ${p.name}: relative error ${fmt(p.check.maxRelError)} > ${t.wrong}${note}; the backward graph disagrees with finite differences here (or the loss has a kink at this point).`,
    });
  }
  const uncomfortable = report.params.filter((p) => p.check?.verdict === 'uncomfortable');
  if (uncomfortable.length > 0) {
    const t = checkThresholds(run.floatType, uncomfortable[0]!.check!.method);
    out.push({
      kind: 'gradient-check',
      node: uncomfortable[0]!.name,
      message: `numerical gradient check: ${uncomfortable.length} tensor(s) between ${t.fine} and ${t.wrong} relative error${note}; usual near kinks (ReLU, max pooling), worth a look otherwise.`,
    });
  }
  const atKinks = report.params.filter((p) => p.check?.verdict === 'kink');
  if (atKinks.length > 0) {
    out.push({
      kind: 'gradient-check',
      node: atKinks[0]!.name,
      message: `numerical gradient check: ${atKinks.length} tensor(s) not judged, because ${fmt(run.kinks ?? 0)} units sit exactly on a ReLU/Clip kink for this input, where the loss has no gradient (typical of freshly initialised exports with zero biases); try another input, or --check N.`,
    });
  }
  return out;
}
