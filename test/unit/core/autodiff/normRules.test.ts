import { f } from '../../../../src/core/ir/builder';
import type { DataType } from '../../../../src/core/ir/types';
import { checkGradients, feed, GraphBuilder, weightedSumLoss } from './gradHarness';

/** Finite-difference checks of BatchNormalization (inference), LayerNormalization and the decomposed LayerNorm chain. */
describe('autodiff: normalization rules', () => {
  for (const D of ['float64', 'float32'] as DataType[]) {
    it(`BatchNormalization in inference mode (${D}); running statistics are not parameters`, async () => {
      const b = new GraphBuilder();
      const x = b.input('x', D, [2, 3, 4, 4]);
      const scale = b.input('scale', D, [3]);
      const bias = b.input('bias', D, [3]);
      const mean = b.initializer('running_mean', D, [3], [0.1, -0.2, 0.3]);
      const variance = b.initializer('running_var', D, [3], [0.5, 1.5, 2.0]);
      const y = b.op('BatchNormalization', [x, scale, bias, mean, variance], { epsilon: f(1e-3) });
      weightedSumLoss(b, b.op('Mul', [y, y]), D, [2, 3, 4, 4]);
      const tol = D === 'float64' ? {} : { eps: 1e-2, rtol: 5e-3, atol: 5e-3 };
      const r = await checkGradients(b.model(15), { x: feed(D, [2, 3, 4, 4], 1), scale: feed(D, [3], 2), bias: feed(D, [3], 3) }, tol);
      if (r.backward.params.includes('running_mean') || r.backward.params.includes('running_var')) {
        throw new Error('running statistics counted as parameters');
      }
    });
  }

  for (const axis of [-1, 1, -2]) {
    it(`LayerNormalization axis=${axis}`, async () => {
      const D = 'float32';
      const b = new GraphBuilder();
      const x = b.input('x', D, [2, 3, 5]);
      const shape = axis === -1 ? [5] : [3, 5];
      const y = b.op('LayerNormalization', [x, b.input('scale', D, shape), b.input('bias', D, shape)], { axis, epsilon: f(1e-5) });
      weightedSumLoss(b, b.op('Mul', [y, y]), D, [2, 3, 5]);
      await checkGradients(b.model(17), { x: feed(D, [2, 3, 5], 1), scale: feed(D, shape, 2), bias: feed(D, shape, 3) }, {
        eps: 1e-2,
        rtol: 1e-2,
        atol: 2e-3,
      });
    });
  }

  it('the ReduceMean/Sub/Pow/Sqrt/Div chain that opset-13 exports use for LayerNorm', async () => {
    const D = 'float64';
    const b = new GraphBuilder();
    const x = b.input('x', D, [2, 3, 6]);
    const mu = b.op('ReduceMean', [x], { axes: [-1], keepdims: 1 });
    const c = b.op('Sub', [x, mu]);
    const v = b.op('ReduceMean', [b.op('Pow', [c, b.initializer('two', D, [], [2])])], { axes: [-1], keepdims: 1 });
    const sd = b.op('Sqrt', [b.op('Add', [v, b.initializer('eps', D, [], [1e-5])])]);
    const n = b.op('Div', [c, sd]);
    const y = b.op('Add', [b.op('Mul', [n, b.input('gamma', D, [6])]), b.input('beta', D, [6])]);
    weightedSumLoss(b, b.op('Mul', [y, y]), D, [2, 3, 6]);
    const r = await checkGradients(b.model(13), { x: feed(D, [2, 3, 6], 1), gamma: feed(D, [6], 2), beta: feed(D, [6], 3) }, { rtol: 1e-5 });
    // The exponent and epsilon are float initializers in a constant position, so they are not parameters.
    if (r.backward.params.includes('two')) throw new Error('Pow exponent counted as a parameter');
  });
});
