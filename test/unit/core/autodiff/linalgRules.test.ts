import { f } from '../../../../src/core/ir/builder';
import { checkGradients, feed, GraphBuilder, weightedSumLoss } from './gradHarness';

/** Finite-difference checks of MatMul (batched, broadcast, 1-D) and Gemm (every attribute). */
describe('autodiff: MatMul and Gemm rules', () => {
  const D = 'float64';
  const matmulCases: [number[], number[], number[]][] = [
    [[3, 4], [4, 5], [3, 5]],
    [[2, 3, 4], [4, 5], [2, 3, 5]],
    [[2, 1, 3, 4], [5, 4, 2], [2, 5, 3, 2]],
    [[4], [4, 5], [5]],
    [[2, 3, 4], [4], [2, 3]],
    [[3, 4], [2, 4, 5], [2, 3, 5]],
  ];
  for (const [as, bs, ys] of matmulCases) {
    it(`MatMul [${as}] x [${bs}]`, async () => {
      const b = new GraphBuilder();
      const a = b.input('a', D, as);
      const w = b.input('b', D, bs);
      weightedSumLoss(b, b.op('MatMul', [a, w]), D, ys);
      await checkGradients(b.model(17), { a: feed(D, as, 1), b: feed(D, bs, 2) });
    });
  }

  it('MatMul with a weight initializer (a parameter) and a symbolic batch', async () => {
    const b = new GraphBuilder();
    const a = b.input('a', D, ['N', 'T', 4]);
    const w = b.initializer('W', D, [4, 3], feed(D, [4, 3], 5).data as number[]);
    const y = b.op('MatMul', [a, w]);
    const s = b.op('ReduceSum', [b.op('Mul', [y, y])], { keepdims: 0 }, { output: 'loss' });
    b.output(s, D, []);
    const r = await checkGradients(b.model(17), { a: feed(D, [2, 3, 4], 1) }, { initializers: ['W'] });
    if (!r.backward.params.includes('W')) throw new Error('W is a parameter');
  });

  for (const [transA, transB, alpha, beta, cShape] of [
    [0, 0, 1, 1, [5]],
    [1, 0, 0.5, 2, [3, 5]],
    [0, 1, 2, 0.25, [1, 5]],
    [1, 1, 1.5, 1, [3, 1]],
  ] as [number, number, number, number, number[]][]) {
    it(`Gemm transA=${transA} transB=${transB} alpha=${alpha} beta=${beta} C=[${cShape}]`, async () => {
      const b = new GraphBuilder();
      const a = b.input('a', D, transA ? [4, 3] : [3, 4]);
      const w = b.input('b', D, transB ? [5, 4] : [4, 5]);
      const c = b.input('c', D, cShape);
      const y = b.op('Gemm', [a, w, c], { transA, transB, alpha: f(alpha), beta: f(beta) });
      weightedSumLoss(b, y, D, [3, 5]);
      await checkGradients(b.model(17), {
        a: feed(D, transA ? [4, 3] : [3, 4], 1),
        b: feed(D, transB ? [5, 4] : [4, 5], 2),
        c: feed(D, cShape, 3),
      });
    });
  }
});
