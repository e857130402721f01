import { f } from '../../../../src/core/ir/builder';
import type { DataType } from '../../../../src/core/ir/types';
import { checkGradients, feed, GraphBuilder, weightedSumLoss } from './gradHarness';

/** Finite-difference checks of the activation and softmax rules. */
describe('autodiff: activation rules', () => {
  const cases: { op: string; attrs?: Record<string, unknown>; dtype?: DataType; positive?: boolean; opset?: number }[] = [
    { op: 'Relu' },
    { op: 'LeakyRelu', attrs: { alpha: f(0.2) } },
    { op: 'Sigmoid' },
    { op: 'Tanh' },
    { op: 'Exp' },
    { op: 'Log', positive: true },
    { op: 'Sqrt', positive: true },
    { op: 'Erf', dtype: 'float32' },
    { op: 'Sin' },
    { op: 'Cos' },
    { op: 'Softmax', attrs: { axis: 1 } },
    { op: 'Softmax' },
    { op: 'LogSoftmax', attrs: { axis: -1 } },
    { op: 'LogSoftmax', attrs: { axis: 0 } },
    { op: 'HardSigmoid', attrs: { alpha: f(1 / 6), beta: f(0.5) }, dtype: 'float32' },
    { op: 'HardSwish', opset: 14, dtype: 'float32' },
    { op: 'Elu', attrs: { alpha: f(0.7) }, dtype: 'float32' },
    { op: 'Softplus', dtype: 'float32' },
    { op: 'Gelu', dtype: 'float32', opset: 20 },
    { op: 'Gelu', attrs: { approximate: 'tanh' }, dtype: 'float32', opset: 20 },
  ];
  for (const c of cases) {
    it(`${c.op} ${c.attrs ? JSON.stringify(c.attrs) : ''}`, async () => {
      const D = c.dtype ?? 'float64';
      const b = new GraphBuilder();
      const x = b.input('x', D, [3, 4, 5]);
      const y = b.op(c.op, [x], (c.attrs ?? {}) as Record<string, never>);
      weightedSumLoss(b, y, D, [3, 4, 5]);
      const xf = feed(D, [3, 4, 5], 7);
      // Keep inputs away from kinks (Relu at 0) and out of the domain edge (Log, Sqrt).
      // Spread to +-6 so that the hard ops' flat parts are reached, but keep clear of their kinks at +-3.
      xf.data = (xf.data as number[]).map((v) => (c.positive ? Math.abs(v) + 0.2 : Math.abs(v) < 0.05 ? v + 0.1 : v))
        .map((v) => (c.op.startsWith('Hard') ? v * 3 : v))
        .map((v) => (c.op.startsWith('Hard') && Math.abs(Math.abs(v) - 3) < 0.1 ? v * 1.1 : v));
      const f32 = D === 'float32';
      await checkGradients(b.model(c.opset ?? 17), { x: xf }, f32 ? { eps: 1e-2, rtol: 3e-3, atol: 3e-3 } : { rtol: 1e-5, atol: 1e-7 });
    });
  }

  it('PRelu with a per-channel slope, and elementwise Max and Min', async () => {
    const D = 'float64';
    const b = new GraphBuilder();
    const x = b.input('x', D, [2, 3, 4]);
    const slope = b.input('slope', D, [3, 1]);
    const y = b.input('y', D, [4]);
    const p = b.op('PRelu', [x, slope]);
    const s = b.op('Add', [b.op('Max', [p, y]), b.op('Min', [x, y])]);
    weightedSumLoss(b, b.op('Mul', [s, s]), D, [2, 3, 4]);
    await checkGradients(b.model(17), { x: feed(D, [2, 3, 4], 1), slope: feed(D, [3, 1], 2, 0.3), y: feed(D, [4], 3) });
  });

  it('Clip with min and max (Relu6) and with only a minimum', async () => {
    const D = 'float64';
    const b = new GraphBuilder();
    const x = b.input('x', D, [4, 6]);
    const lo = b.initializer('lo', D, [], [0]);
    const hi = b.initializer('hi', D, [], [0.7]);
    const y1 = b.op('Clip', [x, lo, hi]);
    const y2 = b.op('Clip', [x, b.initializer('lo2', D, [], [-0.3])]);
    weightedSumLoss(b, b.op('Add', [y1, y2]), D, [4, 6]);
    const xf = feed(D, [4, 6], 9);
    xf.data = (xf.data as number[]).map((v) => (Math.abs(v) < 0.05 || Math.abs(v - 0.7) < 0.05 || Math.abs(v + 0.3) < 0.05 ? v + 0.11 : v));
    await checkGradients(b.model(17), { x: xf });
  });
});
