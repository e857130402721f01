import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { countParams } from '../../../../src/core/analysis/params';
import { writeOnnx } from '../../../../src/core/onnx/writer';
import { lowerModuleToModel } from '../../../../src/core/python/lower';
import { analyze } from './helpers';

/**
 * The lowered graph computes what PyTorch computes: the same source runs in PyTorch with the weights Layerscope drew
 * (recurrent weights put back into PyTorch's gate order), and in onnxruntime from the lowered ONNX; outputs agree.
 */

const PYTHON = '/usr/bin/python3';

const SCRIPT = `
import json, runpy, sys
import numpy as np, torch, onnx
from onnx import numpy_helper
src, onnx_path, var, shape = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
model = runpy.run_path(src)[var]
inits = {t.name: numpy_helper.to_array(t) for t in onnx.load(onnx_path).graph.initializer}
state = model.state_dict()
order = {"LSTM": [0, 2, 3, 1], "GRU": [1, 0, 2], "RNN": [0]}
done = set()
for name, mod in model.named_modules():
    kind = type(mod).__name__
    if kind in order:
        H, gates = mod.hidden_size, len(order[kind])
        dirs = 2 if mod.bidirectional else 1
        for l in range(mod.num_layers):
            def back(a):
                blocks = [a[i * H:(i + 1) * H] for i in range(gates)]
                return np.concatenate([blocks[j] for j in order[kind]])
            W, R = inits[f"{name}.weight_ih_l{l}"], inits[f"{name}.weight_hh_l{l}"]
            B = inits.get(f"{name}.bias_l{l}")
            for d in range(dirs):
                sfx = f"_l{l}" + ("_reverse" if d == 1 else "")
                done.update(f"{name}.{p}{sfx}" for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
                state[f"{name}.weight_ih{sfx}"] = torch.tensor(back(W[d]))
                state[f"{name}.weight_hh{sfx}"] = torch.tensor(back(R[d]))
                if B is not None:
                    state[f"{name}.bias_ih{sfx}"] = torch.tensor(back(B[d][: gates * H]))
                    state[f"{name}.bias_hh{sfx}"] = torch.tensor(back(B[d][gates * H:]))
for k in state:
    if k in inits and k not in done:
        state[k] = torch.tensor(inits[k]).reshape(state[k].shape)
model.load_state_dict(state)
model.eval()
x = torch.linspace(-1, 1, int(np.prod(shape))).reshape(shape)
with torch.no_grad():
    y = model(x)
print(json.dumps(y.flatten().tolist()))
`;

const CASES: Array<{ name: string; source: string; variable: string; shape: number[] }> = [
  {
    name: 'a conv net with BatchNorm, pooling, a residual add, view and Linear',
    variable: 'model',
    shape: [2, 3, 12, 12],
    source: `import torch
import torch.nn as nn
import torch.nn.functional as F
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 6, 3, padding=1)
        self.bn = nn.BatchNorm2d(6)
        self.c2 = nn.Conv2d(6, 6, 3, padding='same', groups=2)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Sequential(nn.Linear(6 * 6 * 6, 8), nn.GELU(), nn.Linear(8, 4))
    def forward(self, x):
        x = F.gelu(self.bn(self.c1(x)))
        x = x + torch.tanh(self.c2(x))
        x = self.pool(x)
        return self.fc(x.view(x.size(0), -1))
model = Net()
`,
  },
  {
    name: 'a bidirectional two-layer LSTM and a GRU, batch first',
    variable: 'model',
    shape: [2, 5, 4],
    source: `import torch.nn as nn
class Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 6, num_layers=2, bidirectional=True, batch_first=True)
        self.gru = nn.GRU(12, 5, batch_first=True)
        self.head = nn.Linear(5, 2)
    def forward(self, x):
        x, _ = self.lstm(x)
        x, h = self.gru(x)
        return self.head(x)
model = Seq()
`,
  },
  {
    name: 'Transformer encoder layers (post-norm relu, pre-norm gelu batch-first) and self-attention',
    variable: 'model',
    shape: [6, 2, 16],
    source: `import torch.nn as nn
class Enc(nn.Module):
    def __init__(self, d=16):
        super().__init__()
        self.layers = nn.ModuleList([nn.TransformerEncoderLayer(d, 4, dim_feedforward=32) for _ in range(2)])
        self.pre = nn.TransformerEncoderLayer(d, 2, dim_feedforward=24, activation="gelu", norm_first=True, batch_first=True)
        self.attn = nn.MultiheadAttention(d, 2)
        self.head = nn.Linear(d, 3)
    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        x = self.pre(x)
        y, _ = self.attn(x, x, x)
        return self.head(y + x)
model = Enc()
`,
  },
];

describe('python/lower: outputs agree with PyTorch', function () {
  this.timeout(120_000);
  before(function () {
    try {
      execFileSync(PYTHON, ['-c', 'import torch, onnx'], { stdio: 'ignore', timeout: 60_000 });
    } catch {
      if (process.env.CI) throw new Error(`${PYTHON} with torch and onnx is required in CI`);
      console.warn(`      skipped: ${PYTHON} with torch and onnx is not installed`);
      this.skip();
    }
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerscope-lower-'));
      try {
        const src = path.join(dir, 'model.py');
        fs.writeFileSync(src, c.source);
        const a = await analyze(c.source);
        const inst = a.instances.find((i) => i.variable === c.variable)!;
        const model = lowerModuleToModel(inst, { inputShape: c.shape, interpreter: a.interpreter, seed: 5 });
        assert.equal(countParams(model.graph).totals.trainableParams, inst.params!.params, 'lowered parameters');
        const onnxPath = path.join(dir, 'model.onnx');
        fs.writeFileSync(onnxPath, writeOnnx(model));
        const expected = JSON.parse(execFileSync(PYTHON, ['-c', SCRIPT, src, onnxPath, c.variable, JSON.stringify(c.shape)], { encoding: 'utf8', timeout: 120_000 })) as number[];
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
        const session = await ort.InferenceSession.create(onnxPath);
        const n = c.shape.reduce((x, y) => x * y, 1);
        const input = Float32Array.from({ length: n }, (_, k) => -1 + (2 * k) / (n - 1));
        const out = await session.run({ input: new ort.Tensor('float32', input, c.shape) });
        const got = Array.from(out[model.graph.outputs[0].name].data as Float32Array);
        assert.equal(got.length, expected.length);
        const maxErr = Math.max(...got.map((v, k) => Math.abs(v - expected[k])));
        assert.ok(maxErr < 1e-4, `max abs error ${maxErr}`);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('python/lower: token models', () => {
  it('an Embedding first takes int64 token ids, draws N(0, 1) and zeroes the padding row', async () => {
    const a = await analyze('import torch.nn as nn\n# layerscope: input 2x7\nclass Tok(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.emb = nn.Embedding(50, 16, padding_idx=0)\n        self.fc = nn.Linear(16, 4)\n    def forward(self, x):\n        return self.fc(self.emb(x))\n');
    const m = a.modules[0];
    assert.deepEqual(m.outputShape, [2, 7, 4]);
    const model = lowerModuleToModel(m, { inputShape: [2, 7], interpreter: a.interpreter, seed: 3 });
    const input = model.graph.inputs[0];
    assert.equal(input.type?.kind === 'tensor' ? input.type.tensor.dtype : null, 'int64');
    const w = model.graph.initializers.find((t) => t.name === 'emb.weight')!;
    assert.ok(w.data.kind === 'inline');
    const values = new Float32Array(w.data.bytes.buffer, w.data.bytes.byteOffset, 50 * 16);
    assert.ok(values.subarray(0, 16).every((v) => v === 0));
    const rest = values.subarray(16);
    const mean = rest.reduce((x, y) => x + y, 0) / rest.length;
    const std = Math.sqrt(rest.reduce((x, y) => x + (y - mean) ** 2, 0) / rest.length);
    assert.ok(Math.abs(std - 1) < 0.1, `std ${std}`);
  });
});
