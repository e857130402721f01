import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { totalParams } from '../../../../src/core/python/params';
import { evalModule } from './helpers';

interface TorchCount {
  call: string;
  params: number;
  trainable: number;
  buffers: number;
}

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../fixtures/torchCounts.json'), 'utf8')) as { torch: string; counts: TorchCount[] };

describe('python/layers: parameter formulas against PyTorch (torchCounts.json)', () => {
  it('covers every layer family the issue lists', () => {
    const calls = fixture.counts.map((c) => c.call).join(' ');
    for (const family of ['Linear', 'Bilinear', 'Conv1d', 'Conv2d', 'Conv3d', 'ConvTranspose1d', 'ConvTranspose2d', 'ConvTranspose3d', 'BatchNorm1d', 'BatchNorm2d', 'BatchNorm3d', 'LayerNorm', 'GroupNorm', 'InstanceNorm1d', 'Embedding', 'EmbeddingBag', 'RNN', 'LSTM', 'GRU', 'MultiheadAttention', 'TransformerEncoderLayer', 'TransformerDecoderLayer', 'PReLU', 'MaxPool2d', 'Dropout', 'Flatten', 'Unflatten', 'Identity']) {
      assert.ok(calls.includes(`nn.${family}(`), family);
    }
  });

  for (const entry of fixture.counts) {
    it(`${entry.call} has ${entry.params} parameters and ${entry.buffers} buffer values`, async () => {
      const v = await evalModule(`import torch.nn as nn\nm = ${entry.call}\n`, 'm');
      assert.ok(v && v.kind === 'layer', `not a layer: ${v?.kind}`);
      const count = totalParams(v);
      assert.ok(count, `unknown: ${v.reason}`);
      assert.equal(count.params, entry.params);
      assert.equal(count.trainable, entry.trainable);
      assert.equal(count.buffers, entry.buffers);
      if (entry.params > 0) assert.ok(v.formula && v.formula.includes(entry.params.toLocaleString('en-US')), v.formula);
    });
  }
});

describe('python/layers: unknown arguments stay unknown', () => {
  it('a Linear with a name bound nowhere has no count and says why', async () => {
    const v = await evalModule('import torch.nn as nn\nm = nn.Linear(width, 10)\n', 'm');
    assert.ok(v && v.kind === 'layer');
    assert.equal(totalParams(v), null);
    assert.match(v.reason ?? '', /in_features.*width/);
  });

  it('a wrong keyword is reported rather than ignored', async () => {
    const v = await evalModule('import torch.nn as nn\nm = nn.Conv2d(3, 8, kernal_size=3)\n', 'm');
    assert.ok(v && v.kind === 'layer');
    assert.equal(totalParams(v), null);
    assert.match(v.reason ?? '', /kernal_size/);
  });

  it('groups that do not divide the channels make the count unknown', async () => {
    const v = await evalModule('import torch.nn as nn\nm = nn.Conv2d(3, 8, 3, groups=2)\n', 'm');
    assert.ok(v && v.kind === 'layer');
    assert.equal(totalParams(v), null);
  });
});
