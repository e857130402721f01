import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOnnxFile } from '../../../../../src/core/onnx/reader';
import { dataTypeFromCode } from '../../../../../src/core/ir/dtypes';
import { inferShapes } from '../../../../../src/core/analysis/shapes/index';

/**
 * Small PyTorch models exported with dynamic axes by Debian's torch 1.13 (/usr/bin/python3): a GPT block with a
 * causal mask, nn.TransformerEncoder, a bidirectional LSTM and a GRU, and a U-Net-like model with ceil-mode pooling,
 * interpolation to another tensor's size, padding and GroupNorm, at opsets 9, 11 and 14. Real exports are full of
 * shape subgraphs; every value must come out fully known (symbols allowed), with no warnings, and agree with
 * onnx.shape_inference wherever it knows a dim.
 */

const PYTHON = '/usr/bin/python3';

const EXPORT = `
import sys, json, warnings
warnings.filterwarnings('ignore')
import torch, torch.nn as nn, torch.nn.functional as F
import onnx
from onnx import shape_inference
torch.manual_seed(0)
out = sys.argv[1]

class Block(nn.Module):
    def __init__(s, d=32, h=4):
        super().__init__(); s.h = h; s.qkv = nn.Linear(d, 3 * d); s.proj = nn.Linear(d, d); s.ln = nn.LayerNorm(d)
    def forward(s, x):
        B, T, C = x.size()
        q, k, v = s.qkv(s.ln(x)).split(C, dim=2)
        q = q.view(B, T, s.h, C // s.h).transpose(1, 2)
        k = k.view(B, T, s.h, C // s.h).transpose(1, 2)
        v = v.view(B, T, s.h, C // s.h).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / (C // s.h) ** 0.5)
        mask = torch.tril(torch.ones(T, T)).view(1, 1, T, T)
        att = att.masked_fill(mask == 0, float('-inf')).softmax(dim=-1)
        return x + s.proj((att @ v).transpose(1, 2).contiguous().view(B, T, C))

class GPT(nn.Module):
    def __init__(s):
        super().__init__(); s.emb = nn.Embedding(50, 32); s.pos = nn.Embedding(16, 32); s.block = Block(); s.head = nn.Linear(32, 50)
    def forward(s, idx):
        pos = torch.arange(0, idx.size(1), dtype=torch.long).unsqueeze(0)
        return s.head(s.block(s.emb(idx) + s.pos(pos)))[:, -1, :]

class Encoder(nn.Module):
    def __init__(s):
        super().__init__(); s.l = nn.TransformerEncoder(nn.TransformerEncoderLayer(32, 4, 64, batch_first=True), 1)
    def forward(s, x): return s.l(x).mean(dim=1)

class Recurrent(nn.Module):
    def __init__(s):
        super().__init__(); s.lstm = nn.LSTM(8, 16, num_layers=2, bidirectional=True, batch_first=True); s.gru = nn.GRU(32, 4)
    def forward(s, x):
        y, (h, c) = s.lstm(x)
        z, hz = s.gru(y)
        return z, h, hz

class UNet(nn.Module):
    def __init__(s):
        super().__init__()
        s.c1 = nn.Conv2d(3, 8, 3, padding=1); s.p = nn.MaxPool2d(3, 2, ceil_mode=True); s.c2 = nn.Conv2d(8, 16, 3, padding=1)
        s.up = nn.ConvTranspose2d(16, 8, 2, stride=2); s.c3 = nn.Conv2d(16, 4, 1); s.gn = nn.GroupNorm(2, 8)
    def forward(s, x):
        a = F.relu(s.gn(s.c1(x)))
        u = s.up(F.relu(s.c2(s.p(a))))
        u = F.interpolate(u, size=a.shape[-2:], mode='bilinear', align_corners=False)
        y = F.interpolate(s.c3(torch.cat([a, u], 1)), scale_factor=2, mode='nearest')
        y = F.avg_pool2d(F.pad(y, (1, 2, 3, 4)), 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
        return torch.flatten(F.adaptive_avg_pool2d(y, 1), 1)

def export(model, args, name, axes, opset=14):
    path = f'{out}/{name}.onnx'
    torch.onnx.export(model.eval(), args, path, opset_version=opset, input_names=['x'], dynamic_axes={'x': axes})
    inf = shape_inference.infer_shapes(onnx.load(path), data_prop=True)
    vals = {}
    for vi in list(inf.graph.value_info) + list(inf.graph.output):
        t = vi.type.tensor_type
        shape = [d.dim_value if d.HasField('dim_value') else None for d in t.shape.dim] if t.HasField('shape') else None
        vals[vi.name] = {'dtype': t.elem_type, 'shape': shape}
    json.dump(vals, open(f'{out}/{name}.json', 'w'))

export(GPT(), (torch.randint(0, 50, (2, 8)),), 'gpt', {0: 'B', 1: 'T'})
export(Encoder(), (torch.randn(2, 6, 32),), 'encoder', {0: 'B', 1: 'S'})
export(Recurrent(), (torch.randn(2, 5, 8),), 'recurrent', {0: 'B', 1: 'S'})
for opset in (9, 11, 14):
    export(UNet(), (torch.randn(1, 3, 20, 20),), f'unet{opset}', {0: 'N'}, opset)
`;

const MODELS = ['gpt', 'encoder', 'recurrent', 'unet9', 'unet11', 'unet14'];

function pythonWithTorch(): boolean {
  if (!existsSync(PYTHON)) return false;
  return spawnSync(PYTHON, ['-c', 'import torch, onnx'], { stdio: 'ignore' }).status === 0;
}

describe('shape inference on PyTorch exports with dynamic axes', function () {
  this.timeout(180_000);
  let dir = '';

  before(function () {
    if (!pythonWithTorch()) {
      if (process.env.CI) throw new Error(`${PYTHON} with torch and onnx is required in CI`);
      console.log(`      (skipped: ${PYTHON} with torch and onnx is not installed)`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'layerscope-torch-exports-'));
    execFileSync(PYTHON, ['-c', EXPORT, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const name of MODELS) {
    it(`knows every value of ${name} and agrees with onnx`, () => {
      const model = readOnnxFile(join(dir, `${name}.onnx`));
      // Judge the inference alone: the exporter's own declarations would otherwise fill gaps.
      model.graph.valueInfo = [];
      model.graph.outputs = model.graph.outputs.map((o) => ({ ...o, type: null }));
      const result = inferShapes(model);
      assert.deepEqual(result.warnings, []);
      const unknown: string[] = [];
      for (const node of model.graph.nodes) {
        for (const out of node.outputs) {
          const t = out ? result.types.get(out) : undefined;
          if (out && (!t || !t.shape || t.shape.includes(null) || t.dtype === 'undefined')) unknown.push(`${node.opType} ${out}`);
        }
      }
      assert.deepEqual(unknown, []);
      const oracle: Record<string, { dtype: number; shape: Array<number | null> | null }> = JSON.parse(
        readFileSync(join(dir, `${name}.json`), 'utf8'),
      );
      for (const [value, theirs] of Object.entries(oracle)) {
        const mine = result.types.get(value);
        assert.ok(mine, `no type for '${value}'`);
        assert.equal(mine.dtype, dataTypeFromCode(theirs.dtype), `dtype of '${value}'`);
        theirs.shape?.forEach((d, i) => {
          if (d !== null) assert.equal(mine.shape?.[i], d, `'${value}': ours ${JSON.stringify(mine.shape)}, onnx ${JSON.stringify(theirs.shape)}`);
        });
      }
    });
  }

  it('keeps the symbolic batch of the GPT output', () => {
    const model = readOnnxFile(join(dir, 'gpt.onnx'));
    model.graph.valueInfo = [];
    const result = inferShapes(model);
    assert.deepEqual(result.types.get(model.graph.outputs[0].name)?.shape, ['B', 50]);
  });
});
