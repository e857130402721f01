import { dtypeCodeOf, type Emitter } from './emitter';
import type { DataType } from '../ir/types';

/**
 * The losses a gradient probe can start from. They are built as ordinary forward nodes appended after the model, so
 * that the same gradient rules differentiate them.
 *
 * - `cross-entropy`: mean over every leading position of -log softmax(output)[target] over the last axis, as
 *   PyTorch's `F.cross_entropy` computes it for [N, C] logits. The target is an int64 class index per position, or
 *   one index for all.
 * - `mse`: mean of (output - target)^2 over all elements, the target a float tensor of the output's shape.
 * - `sum` / `mean`: of the whole output, or of one unit along `axis` (default 1, the channel or class axis), for
 *   saliency maps.
 * - `scalar`: the output already is the loss (tests and models that compute their own loss).
 */
export type LossSpec =
  | { kind: 'cross-entropy' }
  | { kind: 'mse' }
  | { kind: 'sum' | 'mean'; unit?: number; axis?: number }
  | { kind: 'scalar' };

export interface BuiltLoss {
  /** The scalar loss value. */
  loss: string;
  /** The extra graph input that holds the target, when the loss needs one. */
  target?: { name: string; dtype: DataType };
}

export function buildLoss(e: Emitter, output: string, spec: LossSpec): BuiltLoss {
  switch (spec.kind) {
    case 'cross-entropy': {
      const target = e.fresh('layerscope_target');
      const logProbs = e.op('LogSoftmax', [output], { axis: -1 }, 'loss/LogSoftmax');
      // A one-hot mask built with Equal against a class range, because OneHot in onnxruntime rejects a scalar target.
      const depth = e.op('Gather', [e.shape(output), e.constI(-1, [])], { axis: 0 });
      const classes = e.op('Range', [e.constI(0, []), depth, e.constI(1, [])]);
      const hit = e.op('Equal', [classes, e.op('Unsqueeze', [target, e.constI([-1])])], {}, 'loss/Equal');
      const mask = e.op('Cast', [hit], { to: dtypeCodeOf(e.floatType) });
      const picked = e.reduceSum(e.op('Mul', [logProbs, mask], {}, 'loss/Mul'), [-1], false);
      const loss = e.op('Neg', [e.reduceMean(picked, null, false)], {}, 'loss/Neg');
      return { loss, target: { name: target, dtype: 'int64' } };
    }
    case 'mse': {
      const target = e.fresh('layerscope_target');
      const diff = e.op('Sub', [output, target], {}, 'loss/Sub');
      const loss = e.reduceMean(e.op('Mul', [diff, diff], {}, 'loss/Square'), null, false);
      return { loss, target: { name: target, dtype: e.floatType } };
    }
    case 'sum':
    case 'mean': {
      let selected = output;
      if (spec.unit !== undefined) {
        selected = e.op('Gather', [output, e.constI(spec.unit, [])], { axis: spec.axis ?? 1 }, 'loss/Gather');
      }
      const loss = spec.kind === 'sum' ? e.reduceSum(selected, null, false) : e.reduceMean(selected, null, false);
      return { loss };
    }
    case 'scalar':
      return { loss: e.reduceSum(output, null, false) };
  }
}
