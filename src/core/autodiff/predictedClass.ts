/**
 * "The predicted class" as a cross-entropy target: the model's own argmax over the last axis of its output, one class
 * index per leading position, as `output.argmax(-1)` gives it in PyTorch. The gradient worker calls this on the
 * fetched output before the backward pass, so the target is the model's prediction for each sample of the batch.
 */

/**
 * The argmax over the last axis of a row-major tensor of `dims`. Ties go to the first maximal index and a NaN counts as
 * the largest value (its first occurrence wins), both as PyTorch's argmax does.
 */
export function predictedClasses(data: ArrayLike<number>, dims: readonly number[]): { dims: number[]; classes: number[] } {
  if (dims.length === 0) throw new Error('the output is a scalar: there is no class axis to take the predicted class from');
  const classes = dims[dims.length - 1]!;
  if (classes <= 0) throw new Error('the output has no classes along its last axis');
  const rows = data.length / classes;
  const out: number[] = new Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    let best = 0;
    let bestValue = data[base]!;
    if (!Number.isNaN(bestValue)) {
      for (let c = 1; c < classes; c++) {
        const v = data[base + c]!;
        if (Number.isNaN(v)) {
          best = c;
          break;
        }
        if (v > bestValue) {
          best = c;
          bestValue = v;
        }
      }
    }
    out[r] = best;
  }
  return { dims: dims.slice(0, -1), classes: out };
}
