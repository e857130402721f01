import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { isUserInputError } from '../../../../src/core/errors';
import { summarizePythonFile, summarizePythonSource } from '../../../../src/core/python/summary';
import { formatCount } from '../../../../src/core/python/values';

const samples = path.join(__dirname, '../../../../samples/python');

describe('python/summary: layerscope summary file.py', () => {
  it('lecture models: modules array per DESIGN.md and totals from the lowered IR', async () => {
    const s = await summarizePythonFile(path.join(samples, 'lectureModels.py'));
    assert.equal(s.format, 'python');
    assert.deepEqual(s.modules!.map((m) => [m.name, m.params]), [['Linear', 1_645_950], ['DeeperBNConvNet', 17_020]]);
    const deeper = s.modules![1];
    assert.deepEqual(Object.keys(deeper).sort(), ['layers', 'line', 'name', 'params']);
    assert.deepEqual(deeper.layers[0], { name: 'net.0', line: deeper.layers[0].line, type: 'Conv2d', params: 420, outputShape: [1, 15, 32, 32] });
    assert.deepEqual(Object.keys(deeper.layers[0]).sort(), ['line', 'name', 'outputShape', 'params', 'type']);
    // The main model is the module-level instance; running statistics count as non-trainable parameters.
    assert.equal(s.totals.trainableParams, 17_020);
    assert.equal(s.totals.nonTrainableParams, 90);
    assert.equal(s.totals.params, 17_110);
    assert.equal(s.totals.macs, 1_755_420);
    assert.ok(s.layers.length > 0 && s.layers.filter((l) => l.op !== 'Constant').every((l) => typeof l.line === 'number'));
    assert.deepEqual(s.inputs[0].shape, [1, 3, 32, 32]);
  });

  it('--input-shape reaches the class, and a shape bug becomes a warning', async () => {
    const src = 'import torch.nn as nn\nclass N(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.c = nn.Conv2d(3, 4, 3)\n        self.fc = nn.Linear(8, 2)\n    def forward(self, x):\n        return self.fc(self.c(x).flatten(1))\n';
    const ok = await summarizePythonSource(src, { inputShapes: { input: [1, 3, 3, 4] } });
    assert.deepEqual(ok.outputs[0].shape, [1, 2]);
    assert.deepEqual(ok.warnings, []);
    const bad = await summarizePythonSource(src, { inputShapes: { N: [1, 3, 5, 5] } });
    assert.ok(bad.warnings.some((w) => /Linear expects 8 input features; the previous layer gives 4×3×3 = 36/.test(w)), bad.warnings.join('\n'));
  });

  it('without an input shape the totals come from the source, with a warning that says how to add one', async () => {
    const src = 'import torch.nn as nn\nclass N(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.c = nn.Conv2d(3, 4, 3)\n';
    const s = await summarizePythonSource(src);
    assert.equal(s.totals.params, 112);
    assert.equal(s.layers.length, 0);
    assert.ok(s.warnings.some((w) => w.includes('# layerscope: input')));
  });

  it('a file without modules, and files that are not there, are handled without a crash', async () => {
    const s = await summarizePythonSource('x = 1\n');
    assert.deepEqual(s.modules, []);
    assert.ok(s.warnings.length > 0);
    await assert.rejects(summarizePythonFile(path.join(samples, 'nope.py')), (e: unknown) => isUserInputError(e) && /no such file/.test((e as Error).message));
    await assert.rejects(summarizePythonFile(samples), (e: unknown) => isUserInputError(e) && /directory/.test((e as Error).message));
  });

  it('formats counts as en-US does', () => {
    for (const n of [0, 7, 999, 1000, 17020, 1645950, 100663296, -1234]) assert.equal(formatCount(n), n.toLocaleString('en-US'));
  });
});
