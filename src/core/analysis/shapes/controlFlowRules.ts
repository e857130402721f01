import type { Dim, Graph, Shape, TensorType } from '../../ir/types';
import { getGraph, getInt, getInts } from '../../ir/attributes';
import type { ShapeRule, ShapeRuleContext } from './ruleContext';
import { checkArity } from './dims';

/**
 * If, Loop and Scan. Their bodies are inferred in a child scope so that outputs get types where the body allows it;
 * the analyses treat these nodes as opaque. Where inference learns nothing, the body's declared output types are used.
 */

/** The common part of two branch shapes: equal dims stay, differing ones become unknown. */
function joinShapes(a: Shape, b: Shape): Shape {
  if (!a || !b || a.length !== b.length) return null;
  return a.map((d, i) => (d === b[i] ? d : null));
}

function ifRule(ctx: ShapeRuleContext): void {
  const thenBranch = getGraph(ctx.node, 'then_branch');
  const elseBranch = getGraph(ctx.node, 'else_branch');
  const thenTypes = thenBranch ? ctx.inferSubgraph(thenBranch, []) : [];
  const elseTypes = elseBranch ? ctx.inferSubgraph(elseBranch, []) : [];
  // A constant condition selects one branch, which PyTorch exports produce for data-independent code paths.
  const cond = ctx.ints(0);
  for (let i = 0; i < ctx.outputCount; i++) {
    const t = thenTypes[i];
    const e = elseTypes[i];
    if (cond && cond.length === 1) {
      const chosen = cond[0] ? t : e;
      if (chosen) ctx.set(i, chosen.dtype, chosen.shape ? [...chosen.shape] : null);
      continue;
    }
    if (t && e) ctx.set(i, t.dtype !== 'undefined' ? t.dtype : e.dtype, joinShapes(t.shape, e.shape));
    else if (t || e) ctx.set(i, (t ?? e)!.dtype, null);
  }
}

function loopRule(ctx: ShapeRuleContext): void {
  const body = getGraph(ctx.node, 'body');
  const carried = Math.max(0, ctx.inputCount - 2);
  const bound: Array<TensorType | undefined> = [
    { dtype: 'int64', shape: [] },
    { dtype: 'bool', shape: [] },
  ];
  for (let i = 0; i < carried; i++) bound.push(ctx.type(i + 2));
  const outs = body ? ctx.inferSubgraph(body, bound) : [];
  for (let i = 0; i < ctx.outputCount; i++) {
    const bodyOut = outs[i + 1];
    if (i < carried) {
      const initial = ctx.type(i + 2);
      const dtype = initial?.dtype ?? bodyOut?.dtype ?? 'undefined';
      // A carried value keeps only what the initial value and one iteration agree on.
      ctx.set(i, dtype, bodyOut ? joinShapes(initial?.shape ?? null, bodyOut.shape) : null);
    } else if (bodyOut) {
      ctx.set(i, bodyOut.dtype, bodyOut.shape ? [body ? tripCount(ctx, body) : null, ...bodyOut.shape] : null);
    }
  }
}

/**
 * The number of iterations when it is certain: a constant M, and a condition that can never turn false because the
 * loop gives none (or a constant true) and the body passes its condition through unchanged. That is how PyTorch
 * exports a `for` loop.
 */
function tripCount(ctx: ShapeRuleContext, body: Graph): Dim {
  const m = ctx.has(0) ? ctx.ints(0) : undefined;
  if (!m || m.length !== 1) return null;
  if (ctx.has(1)) {
    const cond = ctx.ints(1);
    if (!cond || cond.length !== 1 || !cond[0]) return null;
  }
  const condIn = body.inputs[1]?.name;
  let condOut = body.outputs[0]?.name;
  if (!condIn || !condOut) return null;
  // Follow Identity nodes back from the body's condition output.
  for (let hops = 0; hops < 8 && condOut !== condIn; hops++) {
    const producer = body.nodes.find((n) => n.outputs.includes(condOut!));
    if (!producer || producer.opType !== 'Identity') return null;
    condOut = producer.inputs[0];
  }
  return condOut === condIn ? m[0] : null;
}

/**
 * Scan-8 differs from later versions: an optional sequence_lens input comes first, and every state and scan input has
 * a leading batch axis, with the sequence on axis 1 of the scan inputs.
 */
function scan8(ctx: ShapeRuleContext): void {
  const body = getGraph(ctx.node, 'body');
  const numScanInputs = getInt(ctx.node, 'num_scan_inputs', 0);
  checkArity(numScanInputs, ctx.inputCount, 'num_scan_inputs');
  const nStates = ctx.inputCount - 1 - numScanInputs;
  let batch: Dim = null;
  let seq: Dim = null;
  const bound: Array<TensorType | undefined> = [];
  for (let i = 1; i < ctx.inputCount; i++) {
    const t = ctx.type(i);
    if (!t || !t.shape) {
      bound.push(t);
      continue;
    }
    batch ??= t.shape[0] ?? null;
    if (i - 1 >= nStates) seq ??= t.shape[1] ?? null;
    bound.push({ dtype: t.dtype, shape: t.shape.slice(i - 1 < nStates ? 1 : 2) });
  }
  const outs = body ? ctx.inferSubgraph(body, bound) : [];
  for (let i = 0; i < ctx.outputCount; i++) {
    const o = outs[i];
    if (!o) continue;
    if (!o.shape) ctx.set(i, o.dtype, null);
    else ctx.set(i, o.dtype, i < nStates ? [batch, ...o.shape] : [batch, seq, ...o.shape]);
  }
}

function scanRule(ctx: ShapeRuleContext): void {
  if (ctx.opset < 9) return scan8(ctx);
  const body = getGraph(ctx.node, 'body');
  const numScanInputs = getInt(ctx.node, 'num_scan_inputs', 0);
  checkArity(numScanInputs, ctx.inputCount, 'num_scan_inputs');
  const nStates = ctx.inputCount - numScanInputs;
  const inputAxes = getInts(ctx.node, 'scan_input_axes') ?? new Array<number>(numScanInputs).fill(0);
  const outputAxes = getInts(ctx.node, 'scan_output_axes');
  const bound: Array<TensorType | undefined> = [];
  let seq: Dim = null;
  for (let i = 0; i < ctx.inputCount; i++) {
    const t = ctx.type(i);
    if (i < nStates || !t || !t.shape) {
      bound.push(t);
      continue;
    }
    const rank = t.shape.length;
    const raw = inputAxes[i - nStates] ?? 0;
    const axis = raw < 0 ? raw + rank : raw;
    seq = t.shape[axis] ?? null;
    bound.push({ dtype: t.dtype, shape: t.shape.filter((_, k) => k !== axis) });
  }
  const outs = body ? ctx.inferSubgraph(body, bound) : [];
  for (let i = 0; i < ctx.outputCount; i++) {
    const o = outs[i];
    if (!o) continue;
    if (i < nStates) ctx.set(i, o.dtype, o.shape ? [...o.shape] : null);
    else if (o.shape) {
      const raw = outputAxes?.[i - nStates] ?? 0;
      const rank = o.shape.length + 1;
      const axis = raw < 0 ? raw + rank : raw;
      const shape = [...o.shape];
      shape.splice(axis, 0, seq);
      ctx.set(i, o.dtype, shape);
    } else ctx.set(i, o.dtype, null);
  }
}

/** Sequence and optional ops carry no tensor shape that the analyses use; they are known, so they do not warn. */
function opaque(ctx: ShapeRuleContext): void {
  for (let i = 0; i < ctx.outputCount; i++) ctx.set(i, 'undefined', null);
}

export const controlFlowRules: Readonly<Record<string, ShapeRule>> = {
  If: ifRule,
  Loop: loopRule,
  Scan: scanRule,
  SequenceConstruct: opaque,
  SequenceEmpty: opaque,
  SequenceInsert: opaque,
  SequenceErase: opaque,
  SequenceAt: (ctx) => ctx.set(0, 'undefined', null),
  SequenceLength: (ctx) => ctx.set(0, 'int64', []),
  SplitToSequence: opaque,
  ConcatFromSequence: opaque,
  SequenceMap: opaque,
  Optional: opaque,
  OptionalGetElement: opaque,
  OptionalHasElement: (ctx) => ctx.set(0, 'bool', []),
};
