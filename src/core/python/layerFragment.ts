import { computeReceptiveFields } from '../analysis/receptiveField';
import type { AxisField, FieldState, ReceptiveFieldInputs } from '../analysis/receptiveField';
import { inferShapes } from '../analysis/shapes/index';
import { summarizeModel } from '../analysis/summary';
import { indexGraph } from '../ir/graphIndex';
import type { Dim, Graph, Node } from '../ir/types';
import { applyTorchLayer, fieldsRf } from './layerShapes';
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
  /** The fragment's graph, whose receptive-field rules run again from each call's input fields. */
  fragment: Fragment;
}

interface Fragment {
  graph: Graph;
  order: readonly Node[];
  facts: ReceptiveFieldInputs;
  input: string;
  output: string;
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
  // The fragment's receptive-field rules run from the fields the input already has (phases after a strided
  // ConvTranspose included), so the field is the one the whole model's lowered graph reports. Where they find no
  // field the rule that knows the tensor's history decides.
  const after = core.shape ? fieldsAfter(core.fragment, input) : undefined;
  const rf = after?.rf ?? (app.output.shape && !after?.positionsMixed ? app.output.rf : undefined);
  const output: ShapedTensor = { ...app.output, shape: shape ? [...shape] : null };
  if (rf) output.rf = rf;
  else if (after?.positionsMixed) {
    delete output.rf;
    output.positionsMixed = true;
  } else {
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
    const model = lowerLayerCall(layer, { args: call, range }, inputShape);
    const summary = summarizeModel(model);
    const shapes = inferShapes(model);
    const index = indexGraph(model.graph);
    const graphInput = model.graph.inputs.find((v) => !index.initializerNames.has(v.name));
    const graphOutput = model.graph.outputs[0];
    if (!graphInput || !graphOutput) throw new Error('a fragment without an input or an output');
    result = {
      shape: summary.outputs[0]?.shape ?? null,
      macs: summary.layers.reduce((s, l) => s + l.macs, 0),
      fragment: { graph: model.graph, order: index.order, facts: { types: shapes.types, constants: shapes.constants }, input: graphInput.name, output: graphOutput.name },
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

/**
 * The fields after the fragment, by the core's rules run from the input's own fields: `rf` where the output is
 * [N, C, spatial…] with a field on every spatial axis (what the core reports for a node) or global; `positionsMixed`
 * where its positions were merged; neither where the fragment keeps no positions the core can follow.
 */
function fieldsAfter(fragment: Fragment, input: ShapedTensor): { rf?: RfState; positionsMixed?: boolean } | undefined {
  const seed = seedOf(input);
  const facts: ReceptiveFieldInputs = seed ? { ...fragment.facts, seeds: new Map([[fragment.input, seed]]) } : fragment.facts;
  let state: FieldState | undefined;
  try {
    state = computeReceptiveFields(fragment.graph, facts, fragment.order).states.get(fragment.output);
  } catch {
    return undefined;
  }
  if (!state || state.kind === 'origin') return undefined;
  if (state.kind === 'global') return { rf: { global: true } };
  const axes = state.axes;
  if (axes.length >= 3 && axes.length <= 5 && axes[0] === null && axes[1] === null && axes.slice(2).every((a) => a !== null && a !== 'mixed')) {
    return { rf: fieldsRf(axes.slice(2) as AxisField[]) };
  }
  if (axes.some((a) => a === 'mixed')) return { positionsMixed: true };
  return undefined;
}

/** The core's state for a tensor the lens has followed: its fields on the trailing axes, or merged positions. */
function seedOf(input: ShapedTensor): FieldState | undefined {
  const rank = input.shape?.length ?? 0;
  if (input.rf && 'global' in input.rf) return { kind: 'global' };
  if (input.rf) {
    if (input.rf.fields.length > rank) return undefined;
    return { kind: 'axes', axes: [...new Array<null>(rank - input.rf.fields.length).fill(null), ...input.rf.fields] };
  }
  // Merged positions lie after the batch axis, and after the channel axis when there is one.
  if (input.positionsMixed && rank >= 2) {
    const lead = rank === 2 ? 1 : 2;
    return { kind: 'axes', axes: [...new Array<null>(lead).fill(null), ...new Array<'mixed'>(rank - lead).fill('mixed')] };
  }
  return undefined;
}
