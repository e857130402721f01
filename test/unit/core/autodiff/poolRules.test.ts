import { checkGradients, feed, GraphBuilder, rng, weightedSumLoss, type Feed } from './gradHarness';

/** A float32 tensor of distinct values 0.1 apart, in a scrambled order, so that pooling never meets a tie. */
function spread(dims: number[]): Feed {
  const n = dims.reduce((a, b) => a * b, 1);
  const r = rng(11);
  const values = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.1);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [values[i], values[j]] = [values[j], values[i]];
  }
  return { dtype: 'float32', dims, data: values };
}

/** Finite-difference checks of the pooling rules. */
describe('autodiff: pooling rules', () => {
  const D = 'float64';

  for (const [title, attrs, y] of [
    ['2x2 stride 2', { kernel_shape: [2, 2], strides: [2, 2] }, [2, 3, 3, 3]],
    ['3x3 stride 2 pad 1 (overlapping windows, as in ResNet)', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, [2, 3, 4, 4]],
    ['3x3 stride 1, ceil_mode', { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }, [2, 3, 3, 3]],
  ] as [string, Record<string, number | number[]>, number[]][]) {
    it(`MaxPool ${title}`, async () => {
      const b = new GraphBuilder();
      const x = b.input('x', D, [2, 3, 7, 7]);
      weightedSumLoss(b, b.op('MaxPool', [x], attrs), D, y);
      // Distinct values, so that no window has a tie and finite differences stay inside one linear piece.
      const xf = feed(D, [2, 3, 7, 7], 3);
      xf.data = (xf.data as number[]).map((v, i) => v + i * 1e-3);
      await checkGradients(b.model(17), { x: xf }, { eps: 1e-7, rtol: 1e-5 });
    });
  }

  it('MaxPool at opset 13 (the builder raises the opset for ScatterElements)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 2, 6, 6]);
    weightedSumLoss(b, b.op('MaxPool', [x], { kernel_shape: [3, 3], strides: [1, 1] }), 'float32', [1, 2, 4, 4]);
    const r = await checkGradients(b.model(13), { x: spread([1, 2, 6, 6]) }, { eps: 1e-2, rtol: 1e-3, atol: 1e-3 });
    if (r.backward.opset !== 16) throw new Error(`opset ${r.backward.opset}`);
  });

  for (const [title, attrs, y] of [
    ['2x2 stride 2', { kernel_shape: [2, 2], strides: [2, 2] }, [2, 3, 3, 3]],
    ['3x3 pad 1, count_include_pad=0', { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, [2, 3, 7, 7]],
    ['3x3 stride 2 pad 1, count_include_pad=1', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 }, [2, 3, 4, 4]],
    ['asymmetric pads, count_include_pad=0', { kernel_shape: [2, 3], strides: [2, 1], pads: [0, 1, 1, 0] }, [2, 3, 4, 6]],
  ] as [string, Record<string, number | number[]>, number[]][]) {
    it(`AveragePool ${title}`, async () => {
      const b = new GraphBuilder();
      const x = b.input('x', 'float32', [2, 3, 7, 7]);
      weightedSumLoss(b, b.op('AveragePool', [x], attrs), 'float32', y);
      await checkGradients(b.model(17), { x: feed('float32', [2, 3, 7, 7], 4) }, { eps: 0.5, rtol: 2e-3, atol: 1e-4 });
    });
  }

  it('GlobalAveragePool and GlobalMaxPool', async () => {
    // onnxruntime has these only in float32; well-separated values keep the maximum from switching.
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 3, 4, 5]);
    const s = b.op('Add', [b.op('GlobalAveragePool', [x]), b.op('GlobalMaxPool', [x])]);
    weightedSumLoss(b, s, 'float32', [2, 3, 1, 1]);
    await checkGradients(b.model(17), { x: spread([2, 3, 4, 5]) }, { eps: 1e-2, rtol: 1e-3, atol: 1e-3 });
  });
});
