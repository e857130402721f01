import { summarizeModel } from '../analysis/summary';
import type { Dim } from '../ir/types';
import { applyTorchLayer } from './layerShapes';
import type { LayerApplication, RfState, ShapedTensor } from './layerShapes';
import { lowerLayerCall } from './lower';
import type { LayerValue, SourceRange, Value } from './values';

/**
 * The numbers the lens shows for one layer call. layerShapes.ts has the rules whose explanations the hover shows
 * (the formula with its values, the output-size formula, the mismatch messages). Where it has no rule for a number
 * (the output of the padding, shuffle and upsampling layers; the MACs of recurrent and attention layers), the call is
 * lowered to its own small IR graph and the core's shape, MAC and receptive-field rules (the ONNX path's) give it, so
 * the lens, the hover, the CLI and the inspector print the same numbers. A test (test/unit/corpus/lensParity.test.ts)
 * holds every layer of the samples and the corpus to the lowered summary's numbers.
 */

interface CoreNumbers {
  shape: Dim[] | null;
  macs: number;
  /** The fragment's own receptive field, relative to its input. */
  rf: { size: number[]; stride: number[] } | 'global' | null;
}

/**
 * By the layer's type and arguments, the input shape and the call's other arguments: the same layer built again (each
 * keystroke re-runs the edited class's constructor) finds its numbers here. Bounded, and cleared when full.
 */
const memo = new Map<string, CoreNumbers | null>();
const MEMO_LIMIT = 20_000;

export function applyLayerRules(layer: LayerValue, input: ShapedTensor, call: ReadonlyMap<string, Value>, range: SourceRange): LayerApplication {
  const app = applyTorchLayer(layer, input, call);
  if (app.mismatch || !input.shape || !input.shape.every((d) => typeof d === 'number')) return app;
  // A layer whose own arguments are not all known (Linear(10, k) with k unresolved) has no exact one-layer graph: the
  // lowering would build it with a stand-in size, so its numbers stay the source rules' unknowns.
  if (layer.own === null || [...layer.args.values(), ...call.values()].some(hasUnknown)) return app;
  const core = coreNumbers(layer, input.shape as number[], call, range);
  if (!core) return app;
  // The numbers are the core's; layerShapes.ts keeps only the explanations (formulas, mismatch messages).
  const shape = core.shape ?? app.output.shape;
  // A one-layer graph cannot know that its input's features are merged positions (a Linear after a Flatten sees the
  // whole image), so where it finds no field the rule that knows the tensor's history decides.
  const rf = core.shape && core.rf ? compose(input, core.rf) : app.output.shape ? app.output.rf : undefined;
  const output: ShapedTensor = { ...app.output, shape: shape ? [...shape] : null };
  if (rf) output.rf = rf;
  else {
    delete output.rf;
    // The layer keeps no spatial field although its input had positions (a pixel shuffle mixes them), so a later
    // window must not start a field afresh from it.
    if (!app.output.shape && (input.rf || input.positionsMixed || input.shape.length >= 4)) output.positionsMixed = true;
  }
  if (shape) delete output.unknownBecause;
  return { ...app, output, macs: core.macs, ...(shape && app.unknownBecause ? { unknownBecause: undefined } : {}) };
}

/** Whether a value is, or holds, something the interpreter could not evaluate. */
function hasUnknown(v: Value): boolean {
  if (v.kind === 'unknown') return true;
  if (v.kind === 'seq') return v.items.some(hasUnknown);
  return false;
}

/** Thrown by keyOf for a value that cannot be keyed (a module, a function, an unknown): such calls are not memoised. */
const UNKEYABLE = Symbol('unkeyable');

/** A key for a value that is part of a layer's arguments or of its call. */
function keyOf(v: Value): unknown {
  switch (v.kind) {
    case 'num':
    case 'str':
    case 'bool':
      return [v.kind, v.value];
    case 'none':
      return null;
    case 'seq':
      return [v.tuple ? 't' : 'l', v.items.map(keyOf)];
    case 'tensor':
      return ['tensor', v.shape];
    case 'torchRef':
      return ['ref', v.path];
    default:
      throw UNKEYABLE;
  }
}

function memoKey(layer: LayerValue, inputShape: number[], call: ReadonlyMap<string, Value>): string | null {
  try {
    return JSON.stringify([layer.type, [...layer.args].map(([k, v]) => [k, keyOf(v)]), inputShape, [...call].map(([k, v]) => [k, keyOf(v)])]);
  } catch (e) {
    if (e === UNKEYABLE) return null;
    throw e;
  }
}

function coreNumbers(layer: LayerValue, inputShape: number[], call: ReadonlyMap<string, Value>, range: SourceRange): CoreNumbers | null {
  const key = memoKey(layer, inputShape, call);
  if (key !== null && memo.has(key)) return memo.get(key)!;
  let result: CoreNumbers | null = null;
  try {
    const summary = summarizeModel(lowerLayerCall(layer, { args: call, range }, inputShape));
    const last = summary.layers[summary.layers.length - 1];
    const field = last?.receptiveField ?? null;
    result = {
      shape: summary.outputs[0]?.shape ?? null,
      macs: summary.layers.reduce((s, l) => s + l.macs, 0),
      rf: !field ? null : field.global ? 'global' : { size: [...field.size], stride: [...field.stride] },
    };
  } catch {
    // A call the lowering refuses has no core numbers; the lens then shows `?` as before.
    result = null;
  }
  if (key === null) return result;
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(key, result);
  return result;
}

/** The field so far after a fragment whose own field (relative to its input) is `own`, by the Araujo recurrence. */
function compose(input: ShapedTensor, own: CoreNumbers['rf']): RfState | undefined {
  const before = input.rf;
  if (before && 'global' in before) return before;
  if (input.positionsMixed) return own === 'global' ? { global: true } : undefined;
  if (own === 'global') return { global: true };
  if (!own) return undefined;
  if (!before) return { size: [...own.size], stride: [...own.stride] };
  if (before.size.length !== own.size.length) return undefined;
  return { size: before.size.map((r, i) => r + (own.size[i] - 1) * before.stride[i]), stride: before.stride.map((j, i) => j * own.stride[i]) };
}
