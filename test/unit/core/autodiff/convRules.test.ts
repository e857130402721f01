import { checkGradients, feed, GraphBuilder, weightedSumLoss } from './gradHarness';

/**
 * Finite-difference checks of Conv and ConvTranspose. onnxruntime runs these only in float32, so the loss is kept
 * linear in every input (a weighted sum of the output): central differences are then exact up to rounding, and a
 * large step keeps rounding small relative to the difference.
 */
describe('autodiff: Conv and ConvTranspose rules', () => {
  const D = 'float32';
  const tol = { eps: 0.5, rtol: 2e-3, atol: 2e-3, samples: 16 };

  interface ConvCase {
    title: string;
    x: number[];
    w: number[];
    attrs: Record<string, number | number[] | string>;
    y: number[];
    bias?: boolean;
  }
  const cases: ConvCase[] = [
    { title: '3x3, pad 1, bias', x: [2, 3, 7, 7], w: [4, 3, 3, 3], attrs: { pads: [1, 1, 1, 1] }, y: [2, 4, 7, 7], bias: true },
    {
      title: 'stride 2, asymmetric pads, dilation 2 with a remainder',
      x: [2, 3, 8, 9],
      w: [4, 3, 3, 2],
      attrs: { strides: [2, 2], pads: [1, 0, 2, 1], dilations: [1, 2] },
      y: [2, 4, 5, 4],
      bias: true,
    },
    { title: 'groups=2, stride 2', x: [2, 4, 7, 7], w: [6, 2, 3, 3], attrs: { group: 2, strides: [2, 2], pads: [1, 1, 1, 1] }, y: [2, 6, 4, 4] },
    { title: 'depthwise (groups = channels)', x: [1, 3, 6, 6], w: [3, 1, 3, 3], attrs: { group: 3, pads: [0, 1, 0, 1] }, y: [1, 3, 4, 6] },
    { title: 'auto_pad SAME_UPPER, stride 2', x: [1, 2, 7, 6], w: [3, 2, 3, 3], attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] }, y: [1, 3, 4, 3] },
    { title: 'auto_pad SAME_LOWER, kernel 4', x: [1, 2, 6, 6], w: [2, 2, 4, 4], attrs: { auto_pad: 'SAME_LOWER' }, y: [1, 2, 6, 6] },
    { title: 'more channels than output positions (im2col weight gradient)', x: [1, 3, 4, 4], w: [8, 3, 3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] }, y: [1, 8, 2, 2], bias: true },
    { title: 'im2col weight gradient with a batch of two', x: [2, 3, 4, 4], w: [10, 3, 3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] }, y: [2, 10, 2, 2] },
    { title: 'per-offset weight gradient (16 input channels), batch of two', x: [2, 16, 6, 6], w: [4, 16, 3, 3], attrs: { pads: [1, 1, 1, 1] }, y: [2, 4, 6, 6], bias: true },
    { title: 'per-offset weight gradient, batch 1, stride 2, dilation 2', x: [1, 16, 9, 9], w: [3, 16, 3, 3], attrs: { strides: [2, 2], dilations: [2, 2], pads: [1, 1, 1, 1] }, y: [1, 3, 4, 4] },
    { title: 'batch 1, 1x1 kernel, stride 2', x: [1, 4, 5, 5], w: [6, 4, 1, 1], attrs: { strides: [2, 2] }, y: [1, 6, 3, 3] },
    { title: 'auto_pad VALID, 1-D, stride 3', x: [2, 3, 11], w: [2, 3, 3], attrs: { auto_pad: 'VALID', strides: [3] }, y: [2, 2, 3], bias: true },
  ];
  for (const c of cases) {
    it(`Conv: ${c.title}`, async () => {
      const b = new GraphBuilder();
      const inputs = [b.input('x', D, c.x), b.input('w', D, c.w)];
      if (c.bias) inputs.push(b.input('b', D, [c.w[0]]));
      weightedSumLoss(b, b.op('Conv', inputs, c.attrs), D, c.y);
      const feeds = { x: feed(D, c.x, 1), w: feed(D, c.w, 2), ...(c.bias ? { b: feed(D, [c.w[0]], 3) } : {}) };
      await checkGradients(b.model(17), feeds, tol);
    });
  }

  it('Conv with weights as initializers reports them as parameters', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', D, ['N', 2, 5, 5]);
    const w = b.initializer('conv.weight', D, [3, 2, 3, 3], feed(D, [3, 2, 3, 3], 4).data as number[]);
    const bias = b.initializer('conv.bias', D, [3], [0.1, -0.2, 0.3]);
    weightedSumLoss(b, b.op('Conv', [x, w, bias], { pads: [1, 1, 1, 1] }), D, [2, 3, 5, 5]);
    const r = await checkGradients(b.model(13), { x: feed(D, [2, 2, 5, 5], 1) }, { ...tol, initializers: ['conv.weight', 'conv.bias'] });
    if (r.backward.params.join() !== 'conv.weight,conv.bias,R') throw new Error(`params: ${r.backward.params.join()}`);
  });

  const tcases: ConvCase[] = [
    { title: 'stride 2, pad 1, output_padding 1', x: [2, 3, 4, 4], w: [3, 2, 3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }, y: [2, 2, 8, 8], bias: true },
    { title: 'groups=2, dilation 2', x: [1, 4, 5, 5], w: [4, 3, 2, 2], attrs: { group: 2, dilations: [2, 2] }, y: [1, 6, 7, 7] },
    { title: 'asymmetric pads, stride 3', x: [1, 2, 3, 4], w: [2, 2, 3, 2], attrs: { strides: [3, 2], pads: [0, 1, 1, 0] }, y: [1, 2, 8, 7] },
  ];
  for (const c of tcases) {
    it(`ConvTranspose: ${c.title}`, async () => {
      const b = new GraphBuilder();
      const inputs = [b.input('x', D, c.x), b.input('w', D, c.w)];
      const m = c.w[1] * ((c.attrs.group as number) ?? 1);
      if (c.bias) inputs.push(b.input('b', D, [m]));
      weightedSumLoss(b, b.op('ConvTranspose', inputs, c.attrs), D, c.y);
      const feeds = { x: feed(D, c.x, 1), w: feed(D, c.w, 2), ...(c.bias ? { b: feed(D, [m], 3) } : {}) };
      await checkGradients(b.model(17), feeds, tol);
    });
  }
});
