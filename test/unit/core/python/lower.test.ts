import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { countParams } from '../../../../src/core/analysis/params';
import { summarizeModel } from '../../../../src/core/analysis/summary';
import { inlineValues } from '../../../../src/core/ir/tensorData';
import { lowerModuleToModel } from '../../../../src/core/python/lower';
import { analyze } from './helpers';

const samples = path.join(__dirname, '../../../../samples/python');
const read = (f: string): string => fs.readFileSync(path.join(samples, f), 'utf8');

describe('python/lower: source to IR', () => {
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
    const a = await analyze('import torch.nn as nn\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.up = nn.Upsample(scale_factor=2)\n    def forward(self, x):\n        return self.up(x)\n');
    assert.throws(() => lowerModuleToModel(a.modules[0], { inputShape: [1, 2, 4, 4], interpreter: a.interpreter }), /up \(nn\.Upsample, line 5\)/);
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

describe('python/lower: what is still refused names the layer', () => {
  const refuses = async (source: string, shape: number[], message: RegExp): Promise<void> => {
    const a = await analyze(source, { defaultInputShape: shape });
    assert.throws(() => lowerModuleToModel(a.modules[0], { inputShape: shape, interpreter: a.interpreter }), message);
  };
  it('EmbeddingBag with offsets', () => refuses(wrap('nn.EmbeddingBag(10, 4)', 'self.m(x, x)'), [6], /m \(nn\.EmbeddingBag, line 5\): offsets/));
  it('MultiheadAttention with add_bias_kv', () => refuses(wrap('nn.MultiheadAttention(8, 2, add_bias_kv=True)', 'self.m(x, x, x)[0]'), [3, 2, 8], /m \(nn\.MultiheadAttention, line 5\): add_bias_kv/));
  it('a TransformerDecoderLayer without its memory', () => refuses(wrap('nn.TransformerDecoderLayer(8, 2)'), [3, 2, 8], /m \(nn\.TransformerDecoderLayer, line 5\): the memory/));
  it('an LSTM given an initial state', () => refuses(wrap('nn.LSTM(8, 4, proj_size=2)', 'self.m(x, (x, x))[0]'), [3, 2, 8], /m \(nn\.LSTM, line 5\): an initial hidden state/));
});
