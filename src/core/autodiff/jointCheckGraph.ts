import { isParameterType } from '../ir/dtypes';
import type { Model, Node } from '../ir/types';
import type { BackwardResult } from './buildBackward';
import { Emitter } from './emitter';
import { directionStepFraction, JOINT_LOSS_CHANGE, JOINT_MAX_STRETCH } from './gradCheck';

/**
 * The default numerical check's first stage inside the gradient graph itself (issue 12, item 9's cost): after the
 * backward pass, the same graph builds the joint direction from the gradients it has just computed and runs the
 * forward pass and the loss twice more, at W + h·d and W - h·d. One session and one run then give the gradients and
 * the two perturbed losses: no second session, no weights sent to the worker or written by JavaScript, and the
 * weights stay initializers of the one model.
 *
 * Everything here is the same construction as gradCheck.ts's JavaScript one, which the worker still uses where this
 * stage does not pass (its retry and the per-tensor stage): tensor t's part of the direction is
 * d_t = g_t/|g_t| + s_t/sqrt(n_t), with s_t the first n_t of the seeded random signs the worker feeds
 * (`fillSigns`); its own step h_t = directionStep(fraction, |W_t|, n_t); the coefficients c_t bring every tensor's
 * share h_t·|g_t| to the median share, stretched at most JOINT_MAX_STRETCH times (`jointCoefficients`); the step
 * along the joint direction aims at a loss change of JOINT_LOSS_CHANGE of the loss (`jointStep`), and the analytic
 * joint derivative is sum_t c_t·(g_t·d_t). Weights move by eps·c_t·d_t.
 */
export interface JointCheckGraph {
  model: Model;
  /** The graph input the worker feeds with `fillSigns(length, seed)`: random signs, in the model's float type. */
  signs: string;
  signsLength: number;
  /** Scalar outputs: the loss at W + eps·c·d and at W - eps·c·d, the analytic joint derivative, and eps. */
  lossPlus: string;
  lossMinus: string;
  analytic: string;
  step: string;
  /** [T] outputs, one per parameter in `params` order: the coefficients c_t and the weights' L2 norms. */
  coefficients: string;
  weightNorms: string;
  /** The parameters the check covers, in the order of the two [T] outputs. */
  params: string[];
}

/** Nodes holding subgraphs read values by name from the outer graph, which a renamed copy would not follow. */
function hasSubgraph(nodes: readonly Node[]): boolean {
  return nodes.some((n) => n.attributes.some((a) => a.type === 'graph' || a.type === 'graphs'));
}

/**
 * Adds the check to a backward graph built by buildBackward from `source`, for the parameters in `params` (the
 * float32/float64 ones the check can perturb). Returns undefined where it cannot be built: a model with subgraphs, or
 * no such parameter; the worker then checks with the loss graph alone.
 */
export function addJointCheck(source: Model, backward: BackwardResult, params: readonly string[]): JointCheckGraph | undefined {
  const graph = backward.model.graph;
  const forward = graph.nodes.slice(0, backward.forwardNodes);
  const inits = new Map(graph.initializers.map((t) => [t.name, t]));
  const checked = params.filter((p) => {
    const t = inits.get(p);
    return t !== undefined && isParameterType(t.dtype) && t.dtype !== 'float16' && t.dims.every((d) => d > 0) && backward.gradNames.has(p);
  });
  if (checked.length === 0 || hasSubgraph(source.graph.nodes) || hasSubgraph(forward)) return undefined;

  const used: string[] = [];
  for (const v of [...graph.inputs, ...graph.outputs, ...graph.valueInfo]) used.push(v.name);
  for (const t of graph.initializers) used.push(t.name);
  for (const n of graph.nodes) used.push(n.name, ...n.outputs);
  const floatType = backward.floatType;
  const e = new Emitter(used, floatType, backward.opset, new Map(), 'check');
  const counts = checked.map((p) => inits.get(p)!.dims.reduce((a, d) => a * d, 1));
  const signsLength = Math.max(...counts);
  const signs = e.fresh('check/signs');
  const scalar = (x: string): string => e.op('Unsqueeze', [x, e.constI([0])]);
  const fraction = directionStepFraction(floatType);

  // Per tensor: |g_t|, |W_t|, its own step h_t, its signs s_t and the analytic slope g_t·d_t.
  const parts = checked.map((name, k) => {
    const dims = inits.get(name)!.dims;
    const n = counts[k]!;
    const g = backward.gradNames.get(name)!;
    const gradL2 = e.op('ReduceL2', [g], { keepdims: 0 });
    const weightL2 = e.op('ReduceL2', [name], { keepdims: 0 });
    const step = e.op('Mul', [e.constF(fraction), e.op('Max', [weightL2, e.constF(1e-2 * Math.sqrt(n))])]);
    const s = e.op('Reshape', [e.op('Slice', [signs, e.constI([0]), e.constI([n]), e.constI([0])]), e.constI(dims)]);
    const rScale = e.constF(1 / Math.sqrt(n));
    const slope = e.op('Add', [gradL2, e.op('Mul', [e.op('ReduceSum', [e.op('Mul', [g, s])], { keepdims: 0 }), rScale])]);
    return { name, g, s, rScale, gradL2, weightL2, step, slope };
  });
  const vector = (pick: (p: (typeof parts)[number]) => string): string => e.op('Concat', parts.map((p) => scalar(pick(p))), { axis: 0 });
  const steps = vector((p) => p.step);
  const gradL2s = vector((p) => p.gradL2);

  // jointCoefficients: each share h_t·|g_t| brought to the median of the positive finite shares.
  const shares = e.op('Abs', [e.op('Mul', [steps, gradL2s])]);
  const valid = e.op('And', [e.op('Greater', [shares, e.constF(0)]), e.op('Not', [e.op('IsInf', [shares])])]);
  const positive = e.op('Compress', [shares, valid], { axis: 0 });
  const count = e.op('Size', [positive]);
  // An infinite sentinel after the sorted shares keeps TopK and Gather valid when no share is positive.
  const padded = e.op('Concat', [positive, e.constF([Infinity])], { axis: 0 });
  const k = e.op('Reshape', [e.op('Add', [count, e.constI(1, [])]), e.constI([1])]);
  const [sorted] = e.node('TopK', [padded, k], { largest: 0, sorted: 1 }, 2);
  const target = e.op('Gather', [sorted!, e.op('Div', [count, e.constI(2, [])])], { axis: 0 });
  const stretched = e.op('Mul', [steps, e.op('Min', [e.constF(JOINT_MAX_STRETCH), e.op('Div', [target, shares])])]);
  const each = e.op('Where', [valid, stretched, e.op('Mul', [steps, e.constF(JOINT_MAX_STRETCH)])]);
  const coefficients = e.op('Where', [e.op('Equal', [count, e.constI(0, [])]), steps, each], {}, 'check/coefficients');

  // jointStep: the step at which the loss should change by JOINT_LOSS_CHANGE of itself, at most 1.
  const estimate = e.op('Abs', [e.op('ReduceSum', [e.op('Mul', [gradL2s, coefficients])], { keepdims: 0 })]);
  const wanted = e.op('Div', [e.op('Mul', [e.constF(JOINT_LOSS_CHANGE), e.op('Max', [e.op('Abs', [backward.loss]), e.constF(1e-3)])]), estimate]);
  const usable = e.op('And', [e.op('Greater', [wanted, e.constF(0)]), e.op('Not', [e.op('IsInf', [wanted])])]);
  const eps = e.op('Where', [usable, e.op('Min', [wanted, e.constF(1)]), e.constF(1)]);
  const analytic = e.op('ReduceSum', [e.op('Mul', [coefficients, vector((p) => p.slope)])], { keepdims: 0 });

  // The perturbed weights: delta_t = eps·c_t·(g_t/|g_t| + s_t/sqrt(n_t)).
  const plusOf = new Map<string, string>();
  const minusOf = new Map<string, string>();
  parts.forEach((p, t) => {
    const scale = e.op('Mul', [eps, e.op('Gather', [coefficients, e.constI(t, [])], { axis: 0 })]);
    // A zero gradient has no direction of its own (JavaScript's fillDirection takes 0 for g/|g| there too).
    const a = e.op('Div', [scale, e.op('Max', [p.gradL2, e.constF(1e-37)])]);
    const delta = e.op('Add', [e.op('Mul', [p.g, a]), e.op('Mul', [p.s, e.op('Mul', [scale, p.rScale])])]);
    plusOf.set(p.name, e.op('Add', [p.name, delta], {}, `check/plus/${p.name}`));
    minusOf.set(p.name, e.op('Sub', [p.name, delta], {}, `check/minus/${p.name}`));
  });
  const copy = (weights: Map<string, string>, tag: string): string => {
    const renamed = new Map<string, string>(weights);
    for (const n of forward) {
      const outputs = n.outputs.map((o) => {
        if (o === '') return o;
        const fresh = e.fresh(`${o}/${tag}`);
        renamed.set(o, fresh);
        return fresh;
      });
      e.nodes.push({ ...n, name: e.fresh(`${n.name || n.opType}/${tag}`), inputs: n.inputs.map((i) => renamed.get(i) ?? i), outputs });
    }
    return renamed.get(backward.loss)!;
  };
  const lossPlus = e.op('Identity', [copy(plusOf, 'check_plus')], {}, 'check/loss_plus');
  const lossMinus = e.op('Identity', [copy(minusOf, 'check_minus')], {}, 'check/loss_minus');
  const weightNorms = vector((p) => p.weightL2);
  const scalarOut = (name: string) => ({ name, type: { kind: 'tensor' as const, tensor: { dtype: floatType, shape: [] } } });
  const vectorOut = (name: string) => ({ name, type: { kind: 'tensor' as const, tensor: { dtype: floatType, shape: [checked.length] } } });
  return {
    model: {
      ...backward.model,
      graph: {
        ...graph,
        nodes: [...graph.nodes, ...e.nodes],
        inputs: [...graph.inputs, { name: signs, type: { kind: 'tensor', tensor: { dtype: floatType, shape: [signsLength] } } }],
        outputs: [...graph.outputs, scalarOut(lossPlus), scalarOut(lossMinus), scalarOut(analytic), scalarOut(eps), vectorOut(coefficients), vectorOut(weightNorms)],
        initializers: [...graph.initializers, ...e.initializers],
      },
    },
    signs,
    signsLength,
    lossPlus,
    lossMinus,
    analytic,
    step: eps,
    coefficients,
    weightNorms,
    params: checked,
  };
}
