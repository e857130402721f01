import type { ProbeDiagnostic, ProbeLayer } from '../reports';
import type { DeadUnits, InitialLoss } from './units';

/**
 * Plain-words findings from a probe, each naming the node it is about so that the editor can link to it. They
 * automate the lectures' debugging checklist: look at the activation histograms per layer, watch for dead ReLUs and
 * saturated tanh/sigmoid units, watch the activation scale across depth, and check the initial loss against ln C.
 */

/** Per-layer facts that the statistics alone do not carry, gathered by the probe while the tensor was at hand. */
export interface LayerFindings {
  deadUnits?: DeadUnits | null;
  initialLoss?: InitialLoss | null;
  nonFinite?: number;
  /** Elements per unit over which deadUnits looked (batch × spatial positions). */
  observationsPerUnit?: number;
}

export interface DiagnosableLayer {
  layer: ProbeLayer;
  findings?: LayerFindings;
}

export interface DiagnosticThresholds {
  /** A tanh/sigmoid layer is flagged when more than this fraction of its outputs is saturated. */
  saturatedFraction: number;
  /** Vanishing: last/first std below this, with a mean per-layer ratio below `perLayerShrink`. */
  vanishingRatio: number;
  perLayerShrink: number;
  /** Exploding: last/first std above this, with a mean per-layer ratio above `perLayerGrowth`. */
  explodingRatio: number;
  perLayerGrowth: number;
  /** Beyond these total ratios the trend is flagged whatever the per-layer rate. */
  severeVanishing: number;
  severeExploding: number;
  /** The initial loss is flagged when it exceeds ln C by more than this factor. */
  initialLossFactor: number;
  /**
   * A ReLU layer is flagged when at least this fraction of its units is zero for the whole batch. A few such units are
   * normal even with He initialisation (after the first layer every input is positive and the batch shares a common
   * component, so a unit whose weights sum negative stays off); a large share is the problem the lectures mean.
   */
  deadUnitFraction: number;
}

export const DEFAULT_THRESHOLDS: DiagnosticThresholds = {
  saturatedFraction: 0.25,
  vanishingRatio: 0.25,
  perLayerShrink: 0.8,
  explodingRatio: 4,
  perLayerGrowth: 1.25,
  severeVanishing: 0.01,
  severeExploding: 100,
  initialLossFactor: 1.25,
  deadUnitFraction: 0.25,
};

import { isActivationOp } from '../ir/opCatalogue';

function fmt(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e4 || a < 1e-3 ? x.toExponential(2) : x.toPrecision(3).replace(/\.?0+$/, '');
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
}

export function diagnoseProbe(layers: DiagnosableLayer[], thresholds: DiagnosticThresholds = DEFAULT_THRESHOLDS): ProbeDiagnostic[] {
  const out: ProbeDiagnostic[] = [];
  for (const { layer, findings } of layers) {
    const node = layer.name;
    if (findings?.nonFinite) {
      out.push({
        kind: 'non-finite',
        node,
        message: `${node} (${layer.op}) produced ${findings.nonFinite} NaN or infinite values out of ${layer.stats.count}; the statistics leave them out.`,
      });
    }
    const dead = findings?.deadUnits;
    // With fewer than 8 observations per unit a healthy ReLU is all-zero by chance too often (2^-m) to call it dead.
    if (dead && dead.dead > 0 && dead.dead >= thresholds.deadUnitFraction * dead.units && (findings?.observationsPerUnit ?? 0) >= 8) {
      const which = dead.examples.join(', ') + (dead.dead > dead.examples.length ? ', …' : '');
      out.push({
        kind: 'dead-relu',
        node,
        message: `${dead.dead} of ${dead.units} units of ${node} (${pct(dead.dead / dead.units)}) are zero for the whole batch (units ${which}): they pass no gradient. Check the initialisation, the bias, or the learning rate.`,
      });
    }
    const sat = layer.stats.fracSaturated;
    if ((layer.op === 'Tanh' || layer.op === 'Sigmoid' || layer.op === 'HardSigmoid') && sat > thresholds.saturatedFraction) {
      const rule = layer.op === 'Tanh' ? '|y| > 0.99' : 'y < 0.01 or y > 0.99';
      out.push({
        kind: 'saturated',
        node,
        message: `${pct(sat)} of the outputs of ${node} (${layer.op}) are saturated (${rule}), where the local gradient is almost zero. The weights are probably too large; try Xavier initialisation (std 1/√Din).`,
      });
    }
    const loss = findings?.initialLoss;
    if (loss) {
      const ok = loss.loss <= loss.expected * thresholds.initialLossFactor;
      out.push({
        kind: 'initial-loss',
        node,
        message: ok
          ? `Initial cross-entropy at ${node} is ${fmt(loss.loss)}, close to ln ${loss.classes} = ${fmt(loss.expected)} for ${loss.classes} classes, as a fresh classifier should be.`
          : `Initial cross-entropy at ${node} is ${fmt(loss.loss)}, far above ln ${loss.classes} = ${fmt(loss.expected)} for ${loss.classes} classes: the initial outputs are over-confident. Scale down the last layer's weights (or its bias).`,
      });
    }
  }
  const trend = depthTrend(layers.map((l) => l.layer), thresholds);
  if (trend) out.push(trend);
  return out;
}

/**
 * The activation scale across depth. Only the outputs of nonlinearities are compared, so that a normalisation or a
 * residual add in between does not read as a jump. Both the total ratio (last/first) and the mean per-layer ratio
 * must agree: Xavier-initialised tanh shrinks slowly and is healthy, while Xavier-initialised ReLU halves the variance
 * at every layer (the lectures' "activations collapse to zero again").
 */
function depthTrend(layers: ProbeLayer[], t: DiagnosticThresholds): ProbeDiagnostic | null {
  // Different nonlinearities have different natural scales (a sigmoid's outputs sit in (0, 1) whatever comes in), so
  // the trend follows the most frequent one only.
  const byOp = new Map<string, ProbeLayer[]>();
  for (const l of layers) {
    if (!isActivationOp(l.op) || l.stats.count === 0) continue;
    const list = byOp.get(l.op);
    if (list) list.push(l);
    else byOp.set(l.op, [l]);
  }
  let seq: ProbeLayer[] = [];
  for (const list of byOp.values()) if (list.length > seq.length) seq = list;
  if (seq.length < 3) return null;
  const first = seq[0]!;
  const last = seq[seq.length - 1]!;
  const s0 = first.stats.std;
  const s1 = last.stats.std;
  if (!(s0 > 0)) return null;
  const ratio = s1 / s0;
  const perLayer = ratio > 0 ? Math.pow(ratio, 1 / (seq.length - 1)) : 0;
  const vanishing = ratio < t.severeVanishing || (ratio < t.vanishingRatio && perLayer < t.perLayerShrink);
  const exploding = ratio > t.severeExploding || (ratio > t.explodingRatio && perLayer > t.perLayerGrowth);
  if (!vanishing && !exploding) return null;
  // Name the first layer where the trend has become unmistakable, which is where the user should look.
  const limit = vanishing ? Math.sqrt(t.vanishingRatio) : Math.sqrt(t.explodingRatio);
  const where = seq.find((l) => (vanishing ? l.stats.std / s0 < limit : l.stats.std / s0 > limit)) ?? last;
  const rate = `×${fmt(perLayer)} per layer`;
  if (vanishing) {
    return {
      kind: 'vanishing-activations',
      node: where.name,
      message: `Activations shrink with depth: std falls from ${fmt(s0)} at ${first.name} to ${fmt(s1)} at ${last.name} (${rate}), so gradients will vanish too. Use a variance-preserving initialisation: Xavier (std 1/√Din) for tanh, He (std √(2/Din)) for ReLU.`,
    };
  }
  return {
    kind: 'exploding-activations',
    node: where.name,
    message: `Activations grow with depth: std rises from ${fmt(s0)} at ${first.name} to ${fmt(s1)} at ${last.name} (${rate}), so gradients will explode too. The weights are too large; use Xavier (std 1/√Din) or He (std √(2/Din)) initialisation, or add normalisation.`,
  };
}
