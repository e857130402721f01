import * as assert from 'node:assert/strict';
import { buildBackward, buildLossModel } from '../../../../src/core/autodiff';
import { directionStep, directionStepFraction, fillDirection, fillSigns, jointCoefficients, jointStep } from '../../../../src/core/autodiff/gradCheck';
import { addJointCheck } from '../../../../src/core/autodiff/jointCheckGraph';
import { GraphBuilder } from '../../../../src/core/ir/builder';
import type { DataType, Model } from '../../../../src/core/ir/types';
import { inlineValues } from '../../../../src/core/ir/tensorData';
import { randn, runModel } from './gradHarness';

/**
 * The default check's first stage inside the gradient graph (core/autodiff/jointCheckGraph.ts) against the JavaScript
 * construction the worker uses for its retry (gradCheck.ts): the same coefficients, step, analytic derivative and
 * perturbed weights, and the two perturbed losses equal to the loss-only graph run at weights written by fillDirection.
 */
/** A small net with a ReLU, in float32 a ConvNet; onnxruntime has no float64 Conv, so in float64 two Gemms. */
function convNet(dtype: DataType): Model {
  const b = new GraphBuilder();
  const x = b.input('x', dtype, [1, 2, 5, 5]);
  // An all-zero bias: its share is zero, so the coefficients stretch it (JOINT_MAX_STRETCH) and its step has a floor.
  const b1 = b.initializer('conv.bias', dtype, [3], [0, 0, 0]);
  let h: string;
  if (dtype === 'float32') {
    const w1 = b.initializer('conv.weight', dtype, [3, 2, 3, 3], randn(54, 1, 0.4));
    h = b.op('Flatten', [b.op('Relu', [b.op('Conv', [x, w1, b1], { pads: [1, 1, 1, 1] })])], { axis: 1 });
  } else {
    const w1 = b.initializer('conv.weight', dtype, [3, 50], randn(150, 1, 0.2));
    h = b.op('Relu', [b.op('Gemm', [b.op('Flatten', [x], { axis: 1 }), w1, b1], { transB: 1 })]);
  }
  const width = dtype === 'float32' ? 75 : 3;
  const fc = b.initializer('fc.weight', dtype, [4, width], randn(4 * width, 2, 0.3));
  b.output(b.op('Gemm', [h, fc], { transB: 1 }, { output: 'logits' }), dtype, [1, 4]);
  return b.model(13);
}

describe('autodiff: the joint check inside the gradient graph', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    it(`${dtype}: matches gradCheck.ts's coefficients, step, derivative and perturbed losses`, async () => {
      const model = convNet(dtype);
      const loss = { kind: 'cross-entropy' as const };
      const backward = buildBackward(model, { loss });
      const joint = addJointCheck(model, backward, backward.params);
      assert.ok(joint);
      assert.deepEqual(joint.params, ['conv.weight', 'conv.bias', 'fc.weight']);
      const input = randn(50, 3);
      const signs = fillSigns(dtype === 'float64' ? new Float64Array(joint.signsLength) : new Float32Array(joint.signsLength), 1);
      const out = await runModel(joint.model, {
        x: { dtype, dims: [1, 2, 5, 5], data: input },
        [backward.target!.name]: { dtype: 'int64', dims: [1], data: [2] },
        [joint.signs]: { dtype, dims: [joint.signsLength, 1], data: Array.from(signs) },
      });
      const close = (actual: number, expected: number, what: string, tol = dtype === 'float64' ? 1e-12 : 1e-5): void =>
        assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);

      // The JavaScript construction from the same gradients and weights.
      const inits = new Map(model.graph.initializers.map((t) => [t.name, t]));
      const values = joint.params.map((p) => inlineValues(inits.get(p)!)!);
      const grads = joint.params.map((p) => out[backward.gradNames.get(p)!]!);
      const norms = grads.map((g) => Math.sqrt(g.reduce((s, v) => s + v * v, 0)));
      const weightNorms = values.map((v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0)));
      const steps = values.map((v, t) => directionStep(directionStepFraction(dtype), weightNorms[t]!, v.length));
      const coefficients = jointCoefficients(steps, norms);
      const lossValue = out[backward.loss]![0]!;
      const eps = jointStep(lossValue, norms.reduce((a, g, t) => a + g * coefficients[t]!, 0));
      out[joint.coefficients]!.forEach((c, t) => close(c, coefficients[t]!, `coefficient ${t}`));
      out[joint.weightNorms]!.forEach((w, t) => close(w, weightNorms[t]!, `weight norm ${t}`));
      assert.equal(coefficients[1], steps[1]! * 10, 'the zero bias is stretched');
      close(out[joint.step]![0]!, eps, 'step');
      const plus = values.map((v) => new Float64Array(v.length));
      const minus = values.map((v) => new Float64Array(v.length));
      const analytic = values.reduce((s, v, t) => s + coefficients[t]! * fillDirection(plus[t]!, minus[t]!, v, grads[t]!, norms[t]!, 1, eps * coefficients[t]!), 0);
      close(out[joint.analytic]![0]!, analytic, 'analytic derivative');

      // The perturbed losses: the loss-only graph at the weights fillDirection wrote.
      const lossModel = buildLossModel(model, { loss, exposeParams: joint.params });
      const lossAt = async (weights: Float64Array[]): Promise<number> => {
        const feeds: Parameters<typeof runModel>[1] = {
          x: { dtype, dims: [1, 2, 5, 5], data: input },
          [lossModel.target!.name]: { dtype: 'int64', dims: [1], data: [2] },
        };
        joint.params.forEach((p, t) => (feeds[p] = { dtype, dims: [...inits.get(p)!.dims], data: Array.from(weights[t]!) }));
        return (await runModel(lossModel.model, feeds))[lossModel.loss]![0]!;
      };
      close(out[joint.lossPlus]![0]!, await lossAt(plus), 'loss at W + eps·c·d');
      close(out[joint.lossMinus]![0]!, await lossAt(minus), 'loss at W - eps·c·d');
      // And the two differ: the step moved the loss.
      assert.notEqual(out[joint.lossPlus]![0], out[joint.lossMinus]![0]);
    });
  }

  it('is left out where a subgraph would read renamed values, and where no parameter can be perturbed', () => {
    const model = convNet('float32');
    const backward = buildBackward(model, { loss: { kind: 'mean' } });
    assert.equal(addJointCheck(model, backward, []), undefined);
    const withIf: Model = {
      ...model,
      graph: { ...model.graph, nodes: [...model.graph.nodes, { name: 'if', opType: 'If', domain: '', inputs: ['c'], outputs: ['o'], attributes: [{ name: 'then_branch', type: 'graph', value: model.graph }] }] },
    };
    assert.equal(addJointCheck(withIf, backward, backward.params), undefined);
  });
});
