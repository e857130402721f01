import { checkGradients, feed, GraphBuilder, weightedSumLoss } from './gradHarness';

/** Finite-difference checks of the rules for ops that move, select or reduce elements. */
describe('autodiff: tensor rules', () => {
  const D = 'float64';
  const I = 'int64';

  /** The loss squares y first, so that the gradient depends on where each element went. */
  function square(b: GraphBuilder, y: string): string {
    return b.op('Mul', [y, y]);
  }

  it('Flatten, Reshape, Squeeze, Unsqueeze and Transpose', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', D, [2, 3, 4]);
    const fl = b.op('Flatten', [x], { axis: 1 });
    const rs = b.op('Reshape', [fl, b.initializer('s', I, [3], [4, 3, 2])]);
    const tr = b.op('Transpose', [rs], { perm: [2, 0, 1] });
    const un = b.op('Unsqueeze', [tr, b.initializer('ax', I, [1], [1])]);
    const sq = b.op('Squeeze', [un, b.initializer('ax2', I, [1], [1])]);
    const t2 = b.op('Transpose', [sq]);
    weightedSumLoss(b, b.op('Mul', [square(b, t2), t2]), D, [3, 4, 2]);
    await checkGradients(b.model(17), { x: feed(D, [2, 3, 4], 1) });
  });

  it('Concat along a negative axis, with one operand used twice', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', D, [2, 3]);
    const y = b.input('y', D, [2, 2]);
    const c = b.op('Concat', [x, y, x], { axis: -1 });
    weightedSumLoss(b, square(b, c), D, [2, 8]);
    await checkGradients(b.model(17), { x: feed(D, [2, 3], 1), y: feed(D, [2, 2], 2) });
  });

  it('Split with explicit sizes, one output unused', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', D, [2, 7]);
    const [p, , r] = b.node('Split', [x, b.initializer('sizes', I, [3], [2, 3, 2])], { axis: 1 }, { outputs: 3 });
    weightedSumLoss(b, square(b, b.op('Concat', [p, r], { axis: 1 })), D, [2, 4]);
    await checkGradients(b.model(17), { x: feed(D, [2, 7], 1) });
  });

  it('Slice with negative starts, clamped ends and steps', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', D, [4, 9]);
    const s = b.op('Slice', [
      x,
      b.initializer('st', I, [2], [-1, 1]),
      b.initializer('en', I, [2], [-100, 1000]),
      b.initializer('ax', I, [2], [0, 1]),
      b.initializer('sp', I, [2], [-2, 3]),
    ]);
    weightedSumLoss(b, square(b, s), D, [2, 3]);
    await checkGradients(b.model(17), { x: feed(D, [4, 9], 1) });
  });

  it('Gather as an embedding lookup with repeated indices, and along axis 1', async () => {
    const b = new GraphBuilder();
    const w = b.input('w', D, [5, 3]);
    const idx = b.initializer('idx', I, [2, 3], [0, 4, 0, 2, 2, 4]);
    const emb = b.op('Gather', [w, idx]);
    const col = b.op('Gather', [w, b.initializer('c', I, [], [-1])], { axis: 1 });
    const s1 = b.op('ReduceSum', [b.op('Mul', [square(b, emb), emb])], { keepdims: 0 });
    const s2 = b.op('ReduceSum', [square(b, col)], { keepdims: 0 });
    b.output(b.op('Add', [s1, s2], {}, { output: 'loss' }), D, []);
    await checkGradients(b.model(17), { w: feed(D, [5, 3], 1) });
  });

  it('Tile and GatherElements (with repeated indices)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', D, [2, 3]);
    const t = b.op('Tile', [x, b.initializer('reps', I, [2], [2, 3])]);
    const g = b.op('GatherElements', [x, b.initializer('gi', I, [2, 2], [0, 2, 2, 2])], { axis: 1 });
    const s1 = b.op('ReduceSum', [b.op('Mul', [square(b, t), b.initializer('R1', D, [4, 9], Array.from({ length: 36 }, (_, i) => Math.cos(i)))])], { keepdims: 0 });
    const s2 = b.op('ReduceSum', [b.op('Mul', [square(b, g), g])], { keepdims: 0 });
    b.output(b.op('Add', [s1, s2], {}, { output: 'loss' }), D, []);
    await checkGradients(b.model(17), { x: feed(D, [2, 3], 1) });
  });

  for (const [op, keepdims, axes] of [
    ['ReduceSum', 1, [1]],
    ['ReduceSum', 0, [-1, 0]],
    ['ReduceMean', 0, [1]],
    ['ReduceMean', 1, null],
    ['ReduceSum', 0, null],
  ] as [string, number, number[] | null][]) {
    it(`${op} keepdims=${keepdims} axes=${axes ? `[${axes}]` : 'all'}`, async () => {
      const b = new GraphBuilder();
      const x = b.input('x', D, [2, 3, 4]);
      const inputs = [x];
      const attrs: Record<string, number | number[]> = { keepdims };
      if (axes && op === 'ReduceSum') inputs.push(b.initializer('axes', I, [axes.length], axes));
      if (axes && op === 'ReduceMean') attrs.axes = axes;
      const y = b.op(op, inputs, attrs);
      const s = b.op('ReduceSum', [b.op('Mul', [y, b.op('Sin', [y])])], { keepdims: 0 }, { output: 'loss' });
      b.output(s, D, []);
      await checkGradients(b.model(17), { x: feed(D, [2, 3, 4], 1) }, { rtol: 1e-5 });
    });
  }

  it('ReduceMean with axes as an input (opset 18)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', D, [2, 3, 4]);
    const y = b.op('ReduceMean', [x, b.initializer('axes', I, [1], [-2])], { keepdims: 0 });
    weightedSumLoss(b, square(b, y), D, [2, 4]);
    await checkGradients(b.model(18), { x: feed(D, [2, 3, 4], 1) });
  });

  for (const mode of ['constant', 'reflect', 'edge']) {
    it(`Pad mode=${mode}, with a negative (cropping) pad`, async () => {
      const b = new GraphBuilder();
      const x = b.input('x', D, [2, 3, 4]);
      const pads = b.initializer('pads', I, [6], [0, 2, -1, 0, 1, 2]);
      const inputs = [x, pads];
      if (mode === 'constant') inputs.push(b.initializer('v', D, [], [0.5]));
      const y = b.op('Pad', inputs, { mode });
      weightedSumLoss(b, square(b, y), D, [2, 6, 5]);
      await checkGradients(b.model(17), { x: feed(D, [2, 3, 4], 1) });
    });
  }

  it('an op without a rule is refused with a message naming the op and the node', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', D, [2, 3]);
    const y = b.op('Atan', [x], {}, { name: 'my_arctan' });
    weightedSumLoss(b, y, D, [2, 3]);
    let message = '';
    try {
      await checkGradients(b.model(17), { x: feed(D, [2, 3], 1) });
    } catch (e) {
      message = (e as Error).message;
    }
    if (!/my_arctan/.test(message) || !/Atan/.test(message)) throw new Error(`unexpected message: ${message}`);
  });
});
