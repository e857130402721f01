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
export interface JointCheckGraph extends JointCheckOutputs {
  model: Model;
}

/** The check's input and outputs in the gradient graph: what the worker feeds and reads. */
export interface JointCheckOutputs {
  /** The graph input the worker feeds with `fillSigns(length, seed)` as [length, 1]: random signs, in the model's float type. */
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
  const fraction = directionStepFraction(floatType);

  // Per tensor: g_t, W_t and s_t as [1, n] rows, so that |g_t|, |W_t| and g_t·s_t come out as [1, 1] and join into
  // [T] vectors. Everything per tensor after that is vector arithmetic: every node
  // costs time when the session is created, and a per-tensor chain of scalar nodes cost ResNet-18 about 40 ms there.
  const parts = checked.map((name, k) => {
    const n = counts[k]!;
    const g = backward.gradNames.get(name)!;
    const row = e.op('Reshape', [g, e.constI([1, n])]);
    const column = e.op('Slice', [signs, e.constI([0]), e.constI([n]), e.constI([0])]);
    return {
      name,
      g,
      s: e.op('Reshape', [column, e.constI(inits.get(name)!.dims)]),
      gradL2: e.op('ReduceL2', [row], { keepdims: 1 }),
      // Folded into a constant when the session is created; reduced in place, since a Reshape of the weights first
      // would be folded into a copy of them.
      weightL2: e.op('Reshape', [e.op('ReduceL2', [name], { keepdims: 1 }), e.constI([1])]),
      // Not a [1, n] x [n, 1] MatMul: onnxruntime packs the column first, which took ResNet-18 44 ms.
      gs: e.op('ReduceSum', [e.op('Mul', [row, e.op('Reshape', [column, e.constI([1, n])])])], { keepdims: 1 }),
    };
  });
  const vector = (pick: (p: (typeof parts)[number]) => string): string =>
    e.op('Reshape', [e.op('Concat', parts.map(pick), { axis: 1 }), e.constI([checked.length])]);
  const gradL2s = vector((p) => p.gradL2);
  const weightNorms = e.op('Concat', parts.map((p) => p.weightL2), { axis: 0 });
  const rScales = e.constF(counts.map((n) => 1 / Math.sqrt(n)));
  // directionStep: the fraction of the weights' RMS, with a floor for all-zero tensors.
  const steps = e.op('Mul', [e.constF(fraction), e.op('Max', [weightNorms, e.constF(counts.map((n) => 1e-2 * Math.sqrt(n)))])]);
  // The analytic slope along each d_t: g_t·(g_t/|g_t|) + g_t·s_t/sqrt(n_t).
  const slopes = e.op('Add', [gradL2s, e.op('Mul', [vector((p) => p.gs), rScales])]);

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
  const analytic = e.op('ReduceSum', [e.op('Mul', [coefficients, slopes])], { keepdims: 0 });

  // The perturbed weights: delta_t = a_t·g_t + b_t·s_t with a_t = eps·c_t/|g_t| and b_t = eps·c_t/sqrt(n_t). A zero
  // gradient has no direction of its own (JavaScript's fillDirection takes 0 for g/|g| there too).
  const scale = e.op('Mul', [eps, coefficients]);
  const split = (v: string): string[] => e.node('Split', [v], { axis: 0, ...(backward.opset >= 18 ? { num_outputs: checked.length } : {}) }, checked.length);
  const as = split(e.op('Div', [scale, e.op('Max', [gradL2s, e.constF(1e-37)])]));
  const bs = split(e.op('Mul', [scale, rScales]));
  const plusOf = new Map<string, string>();
  const minusOf = new Map<string, string>();
  parts.forEach((p, t) => {
    const delta = e.op('Add', [e.op('Mul', [p.g, as[t]!]), e.op('Mul', [p.s, bs[t]!])]);
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
  const scalarOut = (name: string) => ({ name, type: { kind: 'tensor' as const, tensor: { dtype: floatType, shape: [] } } });
  const vectorOut = (name: string) => ({ name, type: { kind: 'tensor' as const, tensor: { dtype: floatType, shape: [checked.length] } } });
  return {
    model: {
      ...backward.model,
      graph: {
        ...graph,
        nodes: [...graph.nodes, ...e.nodes],
        inputs: [...graph.inputs, { name: signs, type: { kind: 'tensor', tensor: { dtype: floatType, shape: [signsLength, 1] } } }],
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
