/**
 * Per-unit and per-row figures that the diagnostics need beyond the per-tensor statistics: which ReLU units never
 * fire across the whole batch, and the cross-entropy a classifier's initial outputs imply.
 */

export interface DeadUnits {
  /** Units along axis 1 (channels of [N, C, ...], features of [N, F]). */
  units: number;
  dead: number;
  /** The first few dead unit indices, for the message. */
  examples: number[];
}

/**
 * Units along axis 1 whose every element, over the batch and any spatial positions, is exactly zero. For rank < 2
 * there is no unit axis and the result is null.
 */
export function deadUnits(values: ArrayLike<number>, shape: readonly number[]): DeadUnits | null {
  if (shape.length < 2) return null;
  const n = shape[0]!;
  const c = shape[1]!;
  let inner = 1;
  for (let i = 2; i < shape.length; i++) inner *= shape[i]!;
  if (n * c * inner !== values.length || c === 0) return null;
  const alive = new Uint8Array(c);
  for (let b = 0; b < n; b++) {
    for (let u = 0; u < c; u++) {
      if (alive[u]) continue;
      const base = (b * c + u) * inner;
      for (let i = 0; i < inner; i++) {
        if (values[base + i] !== 0) {
          alive[u] = 1;
          break;
        }
      }
    }
  }
  let dead = 0;
  const examples: number[] = [];
  for (let u = 0; u < c; u++) {
    if (!alive[u]) {
      dead++;
      if (examples.length < 5) examples.push(u);
    }
  }
  return { units: c, dead, examples };
}

/** How a classifier output should be read: raw scores, probabilities (after Softmax), or log-probabilities. */
export type ClassifierOutputKind = 'logits' | 'probabilities' | 'logProbabilities';

export interface InitialLoss {
  classes: number;
  /** Mean over rows and classes of −log p: the expected cross-entropy when the label is uniformly random. */
  loss: number;
  /** ln C: the loss of a classifier that is still unsure, which is what a fresh initialisation should give. */
  expected: number;
}

/**
 * The initial loss check from the lectures ("−ln(0.1) = 2.302 for 10 classes"). A probe has no labels, so this is the
 * cross-entropy averaged over every possible label, which equals ln C exactly when the outputs are uniform and grows
 * as the initial outputs become confident.
 */
export function initialCrossEntropy(values: ArrayLike<number>, shape: readonly number[], kind: ClassifierOutputKind = 'logits'): InitialLoss | null {
  if (shape.length !== 2) return null;
  const rows = shape[0]!;
  const classes = shape[1]!;
  if (classes < 2 || rows < 1 || rows * classes !== values.length) return null;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    if (kind === 'logits') {
      let max = -Infinity;
      for (let j = 0; j < classes; j++) max = Math.max(max, values[base + j]!);
      let s = 0;
      for (let j = 0; j < classes; j++) s += Math.exp(values[base + j]! - max);
      const logSumExp = max + Math.log(s);
      for (let j = 0; j < classes; j++) total += logSumExp - values[base + j]!;
    } else if (kind === 'probabilities') {
      for (let j = 0; j < classes; j++) total += -Math.log(Math.max(values[base + j]!, 1e-45));
    } else {
      for (let j = 0; j < classes; j++) total += -values[base + j]!;
    }
  }
  return { classes, loss: total / (rows * classes), expected: Math.log(classes) };
}
