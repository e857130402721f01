import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { countParams } from '../../../../src/core/analysis/params';
import { isUserInputError } from '../../../../src/core/errors';
import { summarizeModel } from '../../../../src/core/analysis/summary';
import { inlineValues } from '../../../../src/core/ir/tensorData';
import { lowerModuleToModel } from '../../../../src/core/python/lower';
import { analyze } from './helpers';

const samples = path.join(__dirname, '../../../../samples/python');
const read = (f: string): string => fs.readFileSync(path.join(samples, f), 'utf8');

describe('python/lower: source to IR', () => {
  it('an nn.Parameter read in forward becomes an initializer under its name, filled as the tensor it wraps was made', async () => {
    const a = await analyze(`import torch
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1, 8) * 0.5)
        self.pos = nn.Parameter(torch.randn(1, 4000) * 0.02)
        self.bias = nn.Parameter(torch.rand(4000) * 2 - 1)
        self.gamma = nn.Parameter(torch.empty(8))
    def forward(self, x):
        return x * self.scale * self.gamma + self.pos[:, :8] + self.bias[:8]
model = Net()
`);
    const model = lowerModuleToModel(a.instances[0], { inputShape: [2, 8], interpreter: a.interpreter, seed: 3 });
    const values = (name: string): number[] => [...inlineValues(model.graph.initializers.find((t) => t.name === name)!)!];
    assert.deepEqual([...new Set(values('scale'))], [0.5]);
    // torch.empty's values are undefined in PyTorch; the lowering starts them at zero.
    assert.deepEqual([...new Set(values('gamma'))], [0]);
    const pos = values('pos');
    const std = Math.sqrt(pos.reduce((s, v) => s + v * v, 0) / pos.length);
    assert.ok(Math.abs(std - 0.02) < 0.002, `std ${std}`);
    const bias = values('bias');
    assert.ok(Math.min(...bias) >= -1 && Math.max(...bias) <= 1 && Math.min(...bias) < -0.9 && Math.max(...bias) > 0.9, 'U(-1, 1)');
    assert.equal(countParams(model.graph).totals.params, 8 + 4000 + 4000 + 8);
  });

  it('DeeperBNConvNet lowers to Conv/BatchNormalization/Gemm with the same parameters as the source', async () => {
    const a = await analyze(read('lectureModels.py'));
    const m = a.modules.find((x) => x.name === 'DeeperBNConvNet')!;
    const model = lowerModuleToModel(m, { inputShape: [1, 3, 32, 32], interpreter: a.interpreter, seed: 1 });
    const params = countParams(model.graph);
    assert.equal(params.totals.params, m.params!.params + m.params!.buffers);
    assert.equal(params.totals.nonTrainableParams, 90);
    const ops = model.graph.nodes.map((n) => n.opType);
    assert.equal(ops.filter((o) => o === 'Conv').length, 7);
    assert.equal(ops.filter((o) => o === 'BatchNormalization').length, 3);
    const gemm = model.graph.nodes.filter((n) => n.opType === 'Gemm');
    assert.equal(gemm.length, 2);
    assert.deepEqual(gemm[0].attributes.find((x) => x.name === 'transB'), { name: 'transB', type: 'int', value: 1 });
    const conv = model.graph.nodes.find((n) => n.opType === 'Conv')!;
    assert.equal(conv.source?.modulePath, 'net.0');
    assert.equal(conv.source?.line, read('lectureModels.py').split('\n').findIndex((l) => l.includes('nn.Conv2d(3, c, kernel_size=3, padding=1)')) + 1);
    const s = summarizeModel(model);
    assert.deepEqual(s.outputs[0].shape, [1, 10]);
    assert.equal(s.totals.macs, m.macs);
  });

  it('a residual forward with torch.cat lowers with the summary agreeing on shapes', async () => {
    const a = await analyze(read('squeezeFire.py'));
    const m = a.instances[0];
    const model = lowerModuleToModel(m, { inputShape: [1, 3, 64, 64], interpreter: a.interpreter });
    const s = summarizeModel(model);
    assert.equal(s.totals.trainableParams, m.params!.params);
    assert.deepEqual(s.outputs[0].shape, [1, 10]);
    assert.ok(model.graph.nodes.some((n) => n.opType === 'Concat'));
  });

  it('initialises like PyTorch by default: Linear weights within ±1/√fan_in, BatchNorm γ=1 β=0', async () => {
    const a = await analyze(read('lectureModels.py'));
    const m = a.modules.find((x) => x.name === 'DeeperBNConvNet')!;
    const model = lowerModuleToModel(m, { inputShape: [1, 3, 32, 32], interpreter: a.interpreter, seed: 7 });
    const w = inlineValues(model.graph.initializers.find((t) => t.name === 'net.0.weight')!)!;
    const bound = 1 / Math.sqrt(27);
    assert.ok(w.every((v) => Math.abs(v) <= bound + 1e-7));
    assert.ok(Math.max(...w.map(Math.abs)) > bound * 0.8, 'uses the range');
    assert.deepEqual([...new Set(inlineValues(model.graph.initializers.find((t) => t.name === 'net.3.weight')!))], [1]);
    assert.deepEqual([...new Set(inlineValues(model.graph.initializers.find((t) => t.name === 'net.3.bias')!))], [0]);
  });

  it('xavier is std 1/√Din and he is √(2/Din); the seed makes it reproducible', async () => {
    const a = await analyze('import torch.nn as nn\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(400, 300)\n    def forward(self, x):\n        return self.fc(x)\n');
    const m = a.modules[0];
    const std = (scheme: 'xavier' | 'he', seed: number): number => {
      const model = lowerModuleToModel(m, { inputShape: [1, 400], interpreter: a.interpreter, init: scheme, seed });
      const w = inlineValues(model.graph.initializers.find((t) => t.name === 'fc.weight')!)!;
      const mean = w.reduce((x, y) => x + y, 0) / w.length;
      return Math.sqrt(w.reduce((x, y) => x + (y - mean) ** 2, 0) / w.length);
    };
    assert.ok(Math.abs(std('xavier', 1) - 1 / 20) < 0.002);
    assert.ok(Math.abs(std('he', 1) - Math.sqrt(2 / 400)) < 0.002);
    assert.equal(std('he', 3), std('he', 3));
    assert.notEqual(std('he', 3), std('he', 4));
  });

  it('an unsupported layer is a clear error naming it and its line', async () => {
    const a = await analyze('import torch.nn as nn\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.up = nn.Unfold(kernel_size=2)\n    def forward(self, x):\n        return self.up(x)\n');
    assert.throws(() => lowerModuleToModel(a.modules[0], { inputShape: [1, 2, 4, 4], interpreter: a.interpreter }), /up \(nn\.Unfold, line 5\) cannot be converted to ONNX without PyTorch yet/);
  });
});

describe('python/lower: recurrent layers', () => {
  for (const [ctor, features] of [['nn.LSTM(8, 16, num_layers=2, bidirectional=True, batch_first=True)', 32], ['nn.GRU(8, 16)', 16], ["nn.RNN(8, 16, nonlinearity='relu', bias=False)", 16]] as const) {
    it(`${ctor} lowers to ONNX with PyTorch's parameter count and output shape`, async () => {
      const a = await analyze(`import torch.nn as nn\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.rnn = ${ctor}\n        self.fc = nn.Linear(${features}, 3)\n    def forward(self, x):\n        out, _ = self.rnn(x)\n        return self.fc(out)\n`, { defaultInputShape: [4, 5, 8] });
      const m = a.modules[0];
      assert.ok(m.params, m.reason);
      const model = lowerModuleToModel(m, { inputShape: [4, 5, 8], interpreter: a.interpreter, seed: 2 });
      const s = summarizeModel(model);
      assert.equal(s.totals.trainableParams, m.params!.params);
      assert.deepEqual(s.outputs[0].shape, [4, 5, 3]);
      assert.deepEqual(m.outputShape, [4, 5, 3]);
    });
  }
});

/** A one-layer module around `ctor`, called as `call` in forward. */
const wrap = (ctor: string, call = 'self.m(x)', extra = ''): string =>
  `import torch.nn as nn\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.m = ${ctor}\n${extra}    def forward(self, x):\n        return ${call}\n`;

async function lowerWrapped(source: string, inputShape: number[], options: { init?: 'xavier' | 'he'; seed?: number } = {}) {
  const a = await analyze(source, { defaultInputShape: inputShape });
  const m = a.modules[0];
  assert.ok(m.params, m.reason);
  const model = lowerModuleToModel(m, { inputShape, interpreter: a.interpreter, seed: options.seed ?? 4, ...(options.init ? { init: options.init } : {}) });
  assert.equal(countParams(model.graph).totals.trainableParams, m.params!.params, 'lowered parameters');
  const values = (name: string): number[] => {
    const t = model.graph.initializers.find((i) => i.name === name);
    assert.ok(t, `initializer ${name}`);
    return inlineValues(t)!;
  };
  return { model, values };
}

const within = (values: number[], bound: number): void => {
  assert.ok(values.every((v) => Math.abs(v) <= bound + 1e-7), `all within ±${bound}`);
  assert.ok(Math.max(...values.map(Math.abs)) > bound * 0.8, 'uses the range');
};

const stdOf = (values: number[]): number => {
  const mean = values.reduce((x, y) => x + y, 0) / values.length;
  return Math.sqrt(values.reduce((x, y) => x + (y - mean) ** 2, 0) / values.length);
};

describe('python/lower: PyTorch initialisation of Bilinear, EmbeddingBag, norms, attention and projected LSTMs', () => {
  it('Bilinear draws weight and bias U(±1/√in1), and a chosen scheme uses the fan-in in1·in2', async () => {
    const source = wrap('nn.Bilinear(20, 30, 40)', 'self.m(self.a(x), self.b(x))', '        self.a = nn.Linear(8, 20)\n        self.b = nn.Linear(8, 30)\n');
    const { values } = await lowerWrapped(source, [4, 8]);
    within(values('m.weight'), 1 / Math.sqrt(20));
    within(values('m.bias'), 1 / Math.sqrt(20));
    const he = await lowerWrapped(source, [4, 8], { init: 'he' });
    assert.ok(Math.abs(stdOf(he.values('m.weight')) - Math.sqrt(2 / 600)) < 0.003);
    assert.ok(he.values('m.bias').every((v) => v === 0));
  });

  it('EmbeddingBag takes int64 bags, draws N(0, 1) and zeroes the padding row; a chosen scheme draws finite values', async () => {
    const source = wrap("nn.EmbeddingBag(200, 16, mode='sum', padding_idx=3)");
    const { model, values } = await lowerWrapped(source, [2, 5]);
    const input = model.graph.inputs[0];
    assert.equal(input.type?.kind === 'tensor' ? input.type.tensor.dtype : null, 'int64');
    const w = values('m.weight');
    assert.ok(w.slice(48, 64).every((v) => v === 0));
    assert.ok(Math.abs(stdOf([...w.slice(0, 48), ...w.slice(64)]) - 1) < 0.05);
    // PyTorch's fan-in of a [num, dim] weight is dim.
    const xavier = await lowerWrapped(wrap('nn.Embedding(200, 16)'), [2, 5], { init: 'xavier' });
    assert.ok(Math.abs(stdOf(xavier.values('m.weight')) - 1 / 4) < 0.02);
  });

  it('GroupNorm and affine InstanceNorm start at γ = 1 and β = 0; InstanceNorm without affine has no weights', async () => {
    const gn = await lowerWrapped(wrap('nn.GroupNorm(2, 6)'), [1, 6, 4, 4]);
    assert.deepEqual([...new Set(gn.values('m.weight'))], [1]);
    assert.deepEqual([...new Set(gn.values('m.bias'))], [0]);
    const plain = await lowerWrapped(wrap('nn.InstanceNorm2d(6)'), [1, 6, 4, 4]);
    assert.equal(plain.model.graph.initializers.length, 0);
    const running = await lowerWrapped(wrap('nn.InstanceNorm1d(6, track_running_stats=True)'), [1, 6, 4]);
    assert.equal(countParams(running.model.graph).totals.nonTrainableParams, 12);
    assert.deepEqual([...new Set(running.values('m.running_var'))], [1]);
  });

  it('MultiheadAttention with kdim and vdim draws separate xavier_uniform projections and zero biases', async () => {
    const source = wrap('nn.MultiheadAttention(16, 4, kdim=40, vdim=8)', 'self.m(x, self.k(x), self.v(x))[0]', '        self.k = nn.Linear(16, 40)\n        self.v = nn.Linear(16, 8)\n');
    const { values } = await lowerWrapped(source, [5, 2, 16]);
    within(values('m.q_proj_weight'), Math.sqrt(6 / 32));
    within(values('m.k_proj_weight'), Math.sqrt(6 / 56));
    within(values('m.v_proj_weight'), Math.sqrt(6 / 24));
    within(values('m.out_proj.weight'), 1 / 4);
    assert.ok([...values('m.in_proj_bias'), ...values('m.out_proj.bias')].every((v) => v === 0));
  });

  it('TransformerDecoderLayer has PyTorch weight names and its LayerNorms start at 1 and 0', async () => {
    const source = wrap('nn.TransformerDecoderLayer(16, 4, dim_feedforward=32)', 'self.m(x, self.mem(x))', '        self.mem = nn.Linear(16, 16)\n');
    const { values } = await lowerWrapped(source, [5, 2, 16]);
    within(values('m.multihead_attn.in_proj_weight'), Math.sqrt(6 / 64));
    within(values('m.linear1.weight'), 1 / 4);
    assert.deepEqual([...new Set(values('m.norm3.weight'))], [1]);
    assert.deepEqual([...new Set(values('m.norm3.bias'))], [0]);
  });

  it('an LSTM with proj_size draws every weight, weight_hr included, U(±1/√hidden)', async () => {
    const { model, values } = await lowerWrapped(wrap('nn.LSTM(6, 25, proj_size=4, bidirectional=True)', 'self.m(x)[0]'), [3, 2, 6]);
    for (const name of ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0', 'weight_hr_l0', 'weight_hr_l0_reverse']) within(values(`m.${name}`), 1 / 5);
    assert.deepEqual(summarizeModel(model).outputs[0].shape, [3, 2, 8]);
    assert.ok(!model.graph.nodes.some((n) => n.opType === 'LSTM'), 'unrolled, since ONNX LSTM has no projection');
  });

  it('a recurrent layer called twice shares its weights, with and without proj_size', async () => {
    for (const ctor of ['nn.GRU(8, 8)', 'nn.LSTM(8, 16, proj_size=8)']) {
      const { model } = await lowerWrapped(wrap(ctor, 'self.m(self.m(x)[0])[0]'), [3, 2, 8]);
      assert.deepEqual(summarizeModel(model).outputs[0].shape, [3, 2, 8]);
    }
  });
});

/** Lowering the source's first module throws one UserInputError whose one-line message matches. */
async function refuses(source: string, shape: number[], message: RegExp): Promise<void> {
  const a = await analyze(source, { defaultInputShape: shape });
  assert.throws(
    () => lowerModuleToModel(a.modules[0], { inputShape: shape, interpreter: a.interpreter }),
    (e: unknown) => {
      assert.ok(isUserInputError(e), String(e));
      assert.ok(!e.message.includes('\n'), e.message);
      assert.match(e.message, message);
      return true;
    },
  );
}

describe('python/lower: what is still refused names the layer', () => {
  it('EmbeddingBag with offsets', () => refuses(wrap('nn.EmbeddingBag(10, 4)', 'self.m(x, x)'), [6], /m \(nn\.EmbeddingBag, line 5\): offsets/));
  it('MultiheadAttention with add_bias_kv', () => refuses(wrap('nn.MultiheadAttention(8, 2, add_bias_kv=True)', 'self.m(x, x, x)[0]'), [3, 2, 8], /m \(nn\.MultiheadAttention, line 5\): add_bias_kv/));
  it('a TransformerDecoderLayer without its memory', () => refuses(wrap('nn.TransformerDecoderLayer(8, 2)'), [3, 2, 8], /^m \(nn\.TransformerDecoderLayer, line 5\): on line 7, TransformerDecoderLayer's forward needs the argument 'memory'$/));
  it('an LSTM given an initial state of the wrong shape', () => refuses(wrap('nn.LSTM(8, 4, proj_size=2)', 'self.m(x, (x, x))[0]'), [3, 2, 8], /^m \(nn\.LSTM, line 5\): hx on line 7 holds h_0 of shape 3×2×8; PyTorch needs 1×2×2$/));
  it('FractionalMaxPool2d, whose pooling regions are random', () => refuses(wrap('nn.FractionalMaxPool2d(kernel_size=2, output_size=3)'), [1, 2, 6, 6], /^m \(nn\.FractionalMaxPool2d, line 5\) draws its pooling regions at random, so it cannot be converted to ONNX$/));
  it('MaxUnpool2d, whose indices come from another layer', () => refuses(wrap('nn.MaxUnpool2d(kernel_size=2)', 'self.m(x, x)'), [1, 2, 3, 3], /^m \(nn\.MaxUnpool2d, line 5\) needs the indices of a MaxPool with return_indices=True/));
  it('Fold and Unfold', async () => {
    await refuses(wrap('nn.Unfold(kernel_size=2)'), [1, 2, 4, 4], /^m \(nn\.Unfold, line 5\) cannot be converted to ONNX without PyTorch yet$/);
    await refuses(wrap('nn.Fold(output_size=(4, 4), kernel_size=2)'), [1, 8, 9], /^m \(nn\.Fold, line 5\) cannot be converted to ONNX without PyTorch yet$/);
  });
});

describe('python/lower: arguments by position reach the parameter-free layers', () => {
  it("GLU's dim by position, and PyTorch's default -1 without it", async () => {
    for (const [ctor, axis] of [['nn.GLU(1)', 1], ['nn.GLU()', 2]] as const) {
      const { model } = await lowerWrapped(wrap(ctor), [2, 4, 6]);
      const split = model.graph.nodes.find((n) => n.opType === 'Split');
      assert.ok(split, ctor);
      assert.deepEqual(split.attributes.find((x) => x.name === 'axis'), { name: 'axis', type: 'int', value: axis }, ctor);
    }
  });
  it('the padding of ReflectionPad1d by position', async () => {
    const { model } = await lowerWrapped(wrap('nn.ReflectionPad1d(2)'), [1, 2, 6]);
    const pad = model.graph.nodes.find((n) => n.opType === 'Pad');
    assert.ok(pad);
    assert.deepEqual(pad.attributes.find((x) => x.name === 'mode'), { name: 'mode', type: 'string', value: 'reflect' });
    const c = model.graph.nodes.find((n) => n.outputs[0] === pad.inputs[1])!;
    const t = c.attributes.find((x) => x.name === 'value');
    assert.ok(t?.type === 'tensor');
    assert.deepEqual(inlineValues(t.value), [0, 0, 2, 0, 0, 2]);
  });
});

describe('python/lower: the padding layers PyTorch 1.13 lacks (ZeroPad1d and ZeroPad3d, PyTorch 2.1)', () => {
  it('lower to a constant Pad with PyTorch\'s sides, last dim first', async () => {
    for (const [ctor, shape, pads] of [['nn.ZeroPad1d(padding=(1, 2))', [2, 3, 5], [0, 0, 1, 0, 0, 2]], ['nn.ZeroPad3d(padding=(1, 2, 3, 4, 5, 6))', [1, 2, 3, 4, 5], [0, 0, 5, 3, 1, 0, 0, 6, 4, 2]]] as const) {
      const { model } = await lowerWrapped(wrap(ctor), [...shape]);
      const pad = model.graph.nodes.find((n) => n.opType === 'Pad');
      assert.ok(pad, ctor);
      assert.deepEqual(pad.attributes.find((x) => x.name === 'mode'), { name: 'mode', type: 'string', value: 'constant' });
      assert.equal(pad.inputs.length, 2, 'zero is Pad\'s default value');
      const c = model.graph.nodes.find((n) => n.outputs[0] === pad.inputs[1])!;
      const t = c.attributes.find((x) => x.name === 'value');
      assert.ok(t?.type === 'tensor');
      assert.deepEqual(inlineValues(t.value), pads);
    }
  });
});

/** `wrap` with torch and torch.nn.functional imported too: the layer is on line 7 and the call on line 9. */
const wrapTorch = (ctor: string, call: string, extra = ''): string => `import torch\nimport torch.nn.functional as F\n${wrap(ctor, call, extra)}`;

describe('python/lower: call arguments that would change the numbers are converted or refused in one line', () => {
  const attn = 'nn.MultiheadAttention(8, 2)';
  it('a float key padding mask, which PyTorch reads two ways', () =>
    refuses(wrapTorch(attn, 'self.m(x, x, x, key_padding_mask=torch.zeros(2, 3))[0]'), [3, 2, 8], /^m \(nn\.MultiheadAttention, line 7\): key_padding_mask on line 9 is a float mask, which PyTorch adds on one code path and reads as bool on another/));
  it('a mask of the wrong shape', () =>
    refuses(wrapTorch(attn, 'self.m(x, x, x, attn_mask=torch.zeros(3, 2))[0]'), [3, 2, 8], /^m \(nn\.MultiheadAttention, line 7\): attn_mask on line 9 has shape 3×2; PyTorch needs 3×3 or 4×3×3$/));
  it('a mask the graph cannot hold (random values)', () =>
    refuses(wrapTorch(attn, 'self.m(x, x, x, attn_mask=torch.rand(3, 3))[0]'), [3, 2, 8], /^m \(nn\.MultiheadAttention, line 7\): attn_mask on line 9 is a tensor Layerscope could not build in the graph/));
  it('an op on such a tensor', () => refuses(wrapTorch(attn, 'self.m(x, x, x, attn_mask=torch.rand(3, 3) > 0.5)[0]'), [3, 2, 8], /^line 9: > reads a tensor Layerscope could not build in the graph/));
  it('a mask of another type', () =>
    refuses(wrapTorch(attn, 'self.m(x, x, x, attn_mask=torch.zeros(3, 3, dtype=torch.long))[0]'), [3, 2, 8], /^m \(nn\.MultiheadAttention, line 7\): attn_mask on line 9 is a int64; masks must be bool or float32/));
  it('a keyword the forward does not take', () =>
    refuses(wrapTorch(attn, 'self.m(x, x, x, mask=x)[0]'), [3, 2, 8], /^m \(nn\.MultiheadAttention, line 7\): on line 9, MultiheadAttention's forward has no argument 'mask'$/));
  it("PyTorch 2's is_causal=True hint", () =>
    refuses(wrapTorch('nn.TransformerEncoderLayer(8, 2)', 'self.m(x, src_mask=nn.Transformer.generate_square_subsequent_mask(3), is_causal=True)'), [3, 2, 8], /^m \(nn\.TransformerEncoderLayer, line 7\): is_causal on line 9 is True, a PyTorch 2 hint/));
  it("a decoder layer's memory_is_causal that is not known statically", () =>
    refuses(wrapTorch('nn.TransformerDecoderLayer(8, 2)', 'self.m(x, x, memory_is_causal=self.flag)'), [3, 2, 8], /^m \(nn\.TransformerDecoderLayer, line 7\): memory_is_causal on line 9 is not known statically/));
  it('per-sample weights of an EmbeddingBag', () =>
    refuses(wrapTorch("nn.EmbeddingBag(10, 4, mode='sum')", 'self.m(x, per_sample_weights=torch.ones(2, 5))'), [2, 5], /^m \(nn\.EmbeddingBag, line 7\): per_sample_weights on line 9 cannot be converted to ONNX without PyTorch yet/));
  it('an LSTM state that is not a pair', () =>
    refuses(wrapTorch('nn.LSTM(8, 4)', 'self.m(x, hx=torch.zeros(1, 2, 4))[0]'), [3, 2, 8], /^m \(nn\.LSTM, line 7\): hx on line 9 must be a pair \(h_0, c_0\) for an LSTM$/));
  it('an output_size a ConvTranspose cannot reach', () =>
    refuses(wrapTorch('nn.ConvTranspose2d(2, 2, 3, stride=2)', 'self.m(x, output_size=(20, 20))'), [1, 2, 8, 8], /^m \(nn\.ConvTranspose2d, line 7\): on line 9, ConvTranspose2d: output_size 20 is outside the sizes 17 to 18 that an input size of 8 allows$/));
  it('F.dropout, which drops at random unless training=False', () =>
    refuses(wrapTorch('nn.Identity()', 'F.dropout(self.m(x), 0.5)'), [2, 4], /^line 9: F\.dropout: training is True, so it drops at random/));
  it("an approximate= GELU that PyTorch does not have", () =>
    refuses(wrapTorch('nn.Identity()', "F.gelu(self.m(x), approximate='sigmoid')"), [2, 4], /^line 9: F\.gelu: approximate must be 'none' or 'tanh'/));
  it('softmax in another dtype', () =>
    refuses(wrapTorch('nn.Identity()', 'F.softmax(self.m(x), dim=1, dtype=torch.float64)'), [2, 4], /^line 9: F\.softmax: dtype torch\.float64 cannot be converted/));
  it('a conversion to a dtype the interpreter cannot read', () =>
    refuses(wrapTorch('nn.Identity()', 'self.m(x).to(self.dt)'), [2, 4], /^line 9: the conversion's target self\.dt is not known to be a device or a dtype/));
  it('~ on a float tensor, which is not a logical not', () => refuses(wrapTorch('nn.Identity()', '~self.m(x)'), [2, 4], /^line 9: ~ and logical_not of a float32 tensor cannot be converted/));
  it("reflect padding, AvgPool's divisor_override and MaxPool's indices", async () => {
    await refuses(wrapTorch("nn.Conv2d(2, 2, 3, padding=1, padding_mode='reflect')", 'self.m(x)'), [1, 2, 5, 5], /^m \(nn\.Conv2d, line 7\): padding_mode 'reflect' cannot be converted/);
    await refuses(wrapTorch('nn.AvgPool2d(2, divisor_override=3)', 'self.m(x)'), [1, 2, 4, 4], /^m \(nn\.AvgPool2d, line 7\): divisor_override cannot be converted/);
    await refuses(wrapTorch('nn.Identity()', 'F.max_pool2d(self.m(x), 2, 2, 0, 1, False, True)'), [1, 2, 4, 4], /^line 9: F\.max_pool2d: return_indices=True cannot be converted/);
  });

  it('need_weights, average_attn_weights and is_causal=False leave the output, so the graph is the same with them', async () => {
    const plain = await lowerWrapped(wrapTorch(attn, 'self.m(x, x, x)[0]'), [3, 2, 8]);
    const flagged = await lowerWrapped(wrapTorch(attn, 'self.m(query=x, key=x, value=x, need_weights=False, average_attn_weights=False, is_causal=False)[0]'), [3, 2, 8]);
    assert.deepEqual(flagged.model.graph.nodes.map((n) => n.opType), plain.model.graph.nodes.map((n) => n.opType));
  });

  it('a mask adds one Add before the softmax; a key padding mask is spread over the heads', async () => {
    const { model } = await lowerWrapped(wrapTorch(attn, 'self.m(x, x, x, key_padding_mask=torch.tensor([[False, False, True], [False, False, False]]), attn_mask=nn.Transformer.generate_square_subsequent_mask(3))[0]'), [3, 2, 8]);
    const ops = model.graph.nodes.map((n) => n.opType);
    for (const op of ['Trilu', 'ConstantOfShape', 'Expand', 'Where', 'Softmax']) assert.ok(ops.includes(op), op);
    const softmax = model.graph.nodes.find((n) => n.opType === 'Softmax')!;
    const add = model.graph.nodes.find((n) => n.outputs[0] === softmax.inputs[0])!;
    assert.equal(add.opType, 'Add');
  });
});
