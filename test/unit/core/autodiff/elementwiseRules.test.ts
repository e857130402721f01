import { checkGradients, feed, GraphBuilder, weightedSumLoss } from './gradHarness';

/** Finite-difference checks of the broadcasting arithmetic rules, in float64 so that tolerances can be tight. */
describe('autodiff: elementwise rules', () => {
  const D = 'float64';

  for (const op of ['Add', 'Sub', 'Mul', 'Div']) {
    it(`${op} with broadcasting on both sides`, async () => {
      const b = new GraphBuilder();
      const x = b.input('x', D, [2, 3, 4]);
      const y = b.input('y', D, [3, 1]);
      const z = b.op(op, [x, y]);
      weightedSumLoss(b, z, D, [2, 3, 4]);
      const yFeed = feed(D, [3, 1], 2);
      if (op === 'Div') yFeed.data = (yFeed.data as number[]).map((v) => (v >= 0 ? v + 1 : v - 1));
      await checkGradients(b.model(17), { x: feed(D, [2, 3, 4], 1), y: yFeed });
    });
  }

  it('Mul of a value with itself (two contributions are summed)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', D, [4, 5]);
    const z = b.op('Mul', [x, x]);
    weightedSumLoss(b, z, D, [4, 5]);
    await checkGradients(b.model(17), { x: feed(D, [4, 5], 1) });
  });

  it('broadcast with a symbolic batch dimension (run-time reduction)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', D, ['N', 3]);
    const y = b.input('y', D, [1, 3]);
    const z = b.op('Mul', [x, y]);
    const s = b.op('ReduceSum', [b.op('Mul', [z, z])], { keepdims: 0 }, { output: 'loss' });
    b.output(s, D, []);
    await checkGradients(b.model(17), { x: feed(D, [4, 3], 1), y: feed(D, [1, 3], 2) });
  });

  it('Pow with a constant exponent', async () => {
    for (const p of [2, 3, 0.5]) {
      const b = new GraphBuilder();
      const x = b.input('x', D, [3, 4]);
      const e = b.initializer('p', D, [], [p]);
      const z = b.op('Pow', [x, e]);
      weightedSumLoss(b, z, D, [3, 4]);
      const xf = feed(D, [3, 4], 1);
      xf.data = (xf.data as number[]).map((v) => Math.abs(v) + 0.5);
      await checkGradients(b.model(17), { x: xf }, { rtol: 1e-5 });
    }
  });

  it('Where, Expand, Neg, Abs, Reciprocal, Sum and Identity', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', D, [2, 3]);
    const y = b.input('y', D, [3]);
    const c = b.op('Greater', [x, b.initializer('zero', D, [], [0])]);
    const w = b.op('Where', [c, x, y]);
    const ex = b.op('Expand', [y, b.initializer('shape', 'int64', [2], [2, 3])]);
    const n = b.op('Neg', [b.op('Abs', [x])]);
    const r = b.op('Reciprocal', [b.op('Add', [b.op('Mul', [x, x]), b.initializer('one', D, [], [1])])]);
    const s = b.op('Sum', [w, ex, n, b.op('Identity', [r])]);
    weightedSumLoss(b, s, D, [2, 3]);
    await checkGradients(b.model(17), { x: feed(D, [2, 3], 3), y: feed(D, [3], 4) });
  });

  it('Dropout in inference mode passes the gradient through', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', D, [2, 3]);
    const d = b.node('Dropout', [x, b.initializer('ratio', D, [], [0.5])], {}, { outputs: 2 })[0];
    weightedSumLoss(b, b.op('Mul', [d, d]), D, [2, 3]);
    await checkGradients(b.model(17), { x: feed(D, [2, 3], 3) });
  });

  it('Cast between float types', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 3]);
    const c = b.op('Cast', [x], { to: 11 });
    weightedSumLoss(b, b.op('Mul', [c, c]), D, [2, 3]);
    await checkGradients(b.model(17), { x: feed('float32', [2, 3], 3) }, { eps: 1e-2, rtol: 1e-3, atol: 1e-4 });
  });
});
