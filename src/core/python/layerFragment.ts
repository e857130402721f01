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

/** By layer object, then by input shape and call: a layer's arguments never change once it is built. */
const memo = new WeakMap<LayerValue, Map<string, CoreNumbers | null>>();

export function applyLayerRules(layer: LayerValue, input: ShapedTensor, call: ReadonlyMap<string, Value>, range: SourceRange): LayerApplication {
  const app = applyTorchLayer(layer, input, call);
  if (app.mismatch || !input.shape || (app.output.shape !== null && app.macs !== null)) return app;
  if (!input.shape.every((d) => typeof d === 'number')) return app;
  const core = coreNumbers(layer, input.shape as number[], call, range);
  if (!core) return app;
  const shape = app.output.shape ?? core.shape;
  const rf = app.output.shape ? app.output.rf : compose(input.rf, core.rf);
  const output: ShapedTensor = { ...app.output, shape: shape ? [...shape] : null };
  if (rf) output.rf = rf;
  else {
    delete output.rf;
    // The layer keeps no spatial field although its input had positions (a pixel shuffle mixes them), so a later
    // window must not start a field afresh from it.
    if (input.rf || input.positionsMixed || input.shape.length >= 4) output.positionsMixed = true;
  }
  if (shape) delete output.unknownBecause;
  return { ...app, output, macs: app.macs ?? core.macs, ...(shape && app.unknownBecause ? { unknownBecause: undefined } : {}) };
}

function coreNumbers(layer: LayerValue, inputShape: number[], call: ReadonlyMap<string, Value>, range: SourceRange): CoreNumbers | null {
  let byCall = memo.get(layer);
  if (!byCall) memo.set(layer, (byCall = new Map()));
  const key = JSON.stringify([inputShape, [...call].map(([k, v]) => [k, v.kind === 'tensor' ? v.shape : v.kind === 'num' || v.kind === 'bool' || v.kind === 'str' ? v.value : v.kind])]);
  if (byCall.has(key)) return byCall.get(key)!;
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
  byCall.set(key, result);
  return result;
}

/** The field so far after a fragment whose own field (relative to its input) is `own`, by the Araujo recurrence. */
function compose(before: RfState | undefined, own: CoreNumbers['rf']): RfState | undefined {
  if (before && 'global' in before) return before;
  if (own === 'global') return { global: true };
  if (!own) return undefined;
  if (!before) return { size: [...own.size], stride: [...own.stride] };
  if (before.size.length !== own.size.length) return undefined;
  return { size: before.size.map((r, i) => r + (own.size[i] - 1) * before.stride[i]), stride: before.stride.map((j, i) => j * own.stride[i]) };
}
