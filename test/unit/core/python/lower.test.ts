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
