import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readOnnxFile } from '../../../src/core/onnx/index';
import { summarizeModel } from '../../../src/core/analysis/summary';
import type { Dim } from '../../../src/core/ir/types';
import type { ModelSummary } from '../../../src/core/analysis/types';

/**
 * Oracle tests against PyTorch itself (Debian's torch 1.13 and torchvision at /usr/bin/python3): real exports of the
 * lecture network and of torchvision architectures with random weights, compared with what the module says about
 * itself. Parameter counts come from module.parameters() adjusted for what the exporter folds, MACs from forward
 * hooks on Conv2d and Linear, shapes from running the module. Exports are cached in os.tmpdir() under a hash of the
 * script, so only the first run pays for them.
 */

const PYTHON = '/usr/bin/python3';

const SCRIPT = String.raw`
import json, os, sys, warnings
warnings.filterwarnings('ignore')
import torch, torch.nn as nn, torchvision
out = sys.argv[1]
torch.manual_seed(0)
results = {}

class DeeperBNConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        C = 15
        self.net = nn.Sequential(
            nn.Conv2d(3, C, 3, 1, 1), nn.ReLU(), nn.Conv2d(C, C, 3, 2, 1), nn.BatchNorm2d(C), nn.ReLU(),
            nn.Conv2d(C, C, 3, 1, 1), nn.ReLU(), nn.Conv2d(C, C, 3, 2, 1), nn.BatchNorm2d(C), nn.ReLU(),
            nn.Conv2d(C, C, 3, 1, 1), nn.ReLU(), nn.Conv2d(C, C, 3, 2, 1), nn.BatchNorm2d(C), nn.ReLU(),
            nn.Conv2d(C, C, 3, 2, 1), nn.ReLU(), nn.Flatten(), nn.Linear(60, 60), nn.Linear(60, 10))
        self.decision = nn.Softmax(dim=1)
    def forward(self, x):
        return self.decision(self.net(x))

class SeqNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(10, 20, batch_first=True)
        self.head = nn.Linear(20, 5)
    def forward(self, x):
        y, _ = self.lstm(x)
        return self.head(y[:, -1])

def randomize_bn(m):
    # Trained-looking statistics, so that folded biases differ and the exporter cannot merge identical tensors.
    for mod in m.modules():
        if isinstance(mod, nn.modules.batchnorm._BatchNorm):
            with torch.no_grad():
                mod.weight.uniform_(0.5, 1.5); mod.bias.uniform_(-0.1, 0.1)
                mod.running_mean.uniform_(-0.1, 0.1); mod.running_var.uniform_(0.5, 1.5)

def inspect(m, x):
    macs = [0]; conv_shapes = []; conv_out = {}; fused = []
    def hook(mod, inp, outp):
        if isinstance(mod, nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1]
            macs[0] += outp.numel() * (mod.in_channels // mod.groups) * k
            conv_shapes.append(list(outp.shape)); conv_out[id(outp)] = (mod, outp)  # keep outp alive: ids of freed tensors are reused
        elif isinstance(mod, nn.Linear):
            macs[0] += outp.numel() * mod.in_features
        elif isinstance(mod, nn.modules.batchnorm._BatchNorm):
            hit = conv_out.get(id(inp[0]))
            if hit is not None and hit[1] is inp[0]:
                fused.append((mod.num_features, hit[0].bias is None))
    hooks = [mm.register_forward_hook(hook) for mm in m.modules()]
    with torch.no_grad():
        y = m(x)
    for h in hooks:
        h.remove()
    return macs[0], conv_shapes, list(y.shape), fused

def perturb(m):
    # Freshly initialised modules hold many identical tensors (LayerNorm's ones and zeros, zero biases), and the
    # exporter stores identical constants once. Real trained weights never coincide, so the oracle avoids it too.
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 1e-3)

def export(name, m, x, fold=True, **kw):
    m.eval(); randomize_bn(m); perturb(m)
    macs, conv_shapes, yshape, fused = inspect(m, x)
    f = os.path.join(out, name + '.onnx')
    torch.onnx.export(m, x, f, input_names=['input'], output_names=['output'], opset_version=13, **kw)
    trainable = sum(p.numel() for p in m.parameters())
    running = sum(b.running_mean.numel() + b.running_var.numel() for b in m.modules() if isinstance(b, nn.modules.batchnorm._BatchNorm))
    if fold:
        # A folded BatchNorm loses its scale, shift and statistics; its convolution gains a bias if it had none.
        trainable += sum(-2 * c + (c if no_bias else 0) for c, no_bias in fused)
        running -= sum(2 * c for c, _ in fused)
    results[name] = dict(file=f, trainable=trainable, nonTrainable=running, macs=macs, convShapes=conv_shapes,
                         outputShape=yshape, inputShape=list(x.shape), folded=len(fused) if fold else 0)

export('deeper_bn_folded', DeeperBNConvNet(), torch.randn(1, 3, 32, 32))
export('deeper_bn_kept', DeeperBNConvNet(), torch.randn(1, 3, 32, 32), fold=False, training=torch.onnx.TrainingMode.PRESERVE)
export('resnet18', torchvision.models.resnet18(weights=None), torch.randn(1, 3, 224, 224))
export('mobilenet_v2', torchvision.models.mobilenet_v2(weights=None), torch.randn(1, 3, 224, 224))
export('mobilenet_v3_small', torchvision.models.mobilenet_v3_small(weights=None), torch.randn(1, 3, 224, 224))
export('densenet121', torchvision.models.densenet121(weights=None), torch.randn(1, 3, 224, 224))
export('vit_tiny', torchvision.models.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
       hidden_dim=32, mlp_dim=64, num_classes=10), torch.randn(1, 3, 32, 32))
export('lstm', SeqNet(), torch.randn(2, 7, 10))
results['lstm']['macs'] += 7 * 2 * 4 * 20 * (10 + 20)
json.dump(results, open(os.path.join(out, 'results.json'), 'w'))
`;

interface OracleModel {
  file: string;
  trainable: number;
  nonTrainable: number;
  macs: number;
  convShapes: number[][];
  outputShape: number[];
  inputShape: number[];
  folded: number;
}

function hasTorch(): boolean {
  if (!fs.existsSync(PYTHON)) return false;
  const r = spawnSync(PYTHON, ['-c', 'import torch, torchvision, onnx'], { encoding: 'utf8', timeout: 120_000 });
  return r.status === 0;
}

function exportAll(): Record<string, OracleModel> {
  const hash = createHash('sha256').update(SCRIPT).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), `layerscope-torch-oracle-${hash}`);
  const results = path.join(dir, 'results.json');
  if (!fs.existsSync(results)) {
    fs.mkdirSync(dir, { recursive: true });
    const r = spawnSync(PYTHON, ['-c', SCRIPT, dir], { encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) throw new Error(`the torch export script failed: ${r.stderr.slice(-2000)}`);
  }
  return JSON.parse(fs.readFileSync(results, 'utf8')) as Record<string, OracleModel>;
}

function sortedShapes(shapes: (Dim[] | null | number[])[]): string[] {
  return shapes.map((s) => JSON.stringify(s)).sort();
}

describe('acceptance: PyTorch oracle (torch.onnx.export of real architectures)', function () {
  this.timeout(300_000);
  let oracle: Record<string, OracleModel>;
  const summaries = new Map<string, ModelSummary>();

  before(function () {
    if (!hasTorch()) {
      if (process.env.CI) throw new Error('CI is set but /usr/bin/python3 with torch, torchvision and onnx is missing');
      console.log('      (skipped: /usr/bin/python3 with torch, torchvision and onnx was not found)');
      this.skip();
    }
    oracle = exportAll();
  });

  function summary(name: string): ModelSummary {
    let s = summaries.get(name);
    if (!s) {
      s = summarizeModel(readOnnxFile(oracle[name].file));
      summaries.set(name, s);
    }
    return s;
  }

  for (const name of ['deeper_bn_folded', 'deeper_bn_kept', 'resnet18', 'mobilenet_v2', 'mobilenet_v3_small', 'densenet121', 'vit_tiny', 'lstm']) {
    describe(name, () => {
      it('parameter totals match the module (adjusted for folded BatchNorm)', () => {
        const s = summary(name);
        const o = oracle[name];
        assert.equal(s.totals.trainableParams, o.trainable);
        assert.equal(s.totals.nonTrainableParams, o.nonTrainable);
        assert.equal(s.totals.params, o.trainable + o.nonTrainable);
        const note = s.warnings.some((w) => /BatchNormalization appears to have been folded/.test(w));
        assert.equal(note, o.folded > 0, `folded-BatchNorm note: ${s.warnings.join(' | ')}`);
      });

      it('the output shape matches the module', () => {
        const s = summary(name);
        assert.deepEqual(s.outputs[0].shape, oracle[name].outputShape);
      });

      it('convolution output shapes match the module', () => {
        const s = summary(name);
        const ours = s.layers.filter((l) => l.op === 'Conv').map((l) => l.outputs[0].shape);
        assert.deepEqual(sortedShapes(ours), sortedShapes(oracle[name].convShapes));
      });

      if (name !== 'vit_tiny') {
        it('MACs match Conv2d, Linear (and LSTM gate) counts from forward hooks', () => {
          assert.equal(summary(name).totals.macs, oracle[name].macs);
        });
      }
    });
  }

  it('DeeperBNConvNet folded by the exporter reports 16,930, kept reports 17,020 + 90', () => {
    assert.equal(summary('deeper_bn_folded').totals.params, 16930);
    assert.equal(summary('deeper_bn_kept').totals.trainableParams, 17020);
    assert.equal(summary('deeper_bn_kept').totals.nonTrainableParams, 90);
    const sizes = summary('deeper_bn_folded').layers.filter((l) => l.op === 'Conv').map((l) => (l.receptiveField && !l.receptiveField.global ? l.receptiveField.size[0] : 0));
    assert.deepEqual(sizes, [3, 5, 9, 13, 21, 29, 45]);
  });

  it('ResNet-18: conv1 is 7×7/2 centred at 0, the last block sees 435×435 with stride 32, the classifier is global', () => {
    const s = summary('resnet18');
    const conv1 = s.layers.find((l) => l.op === 'Conv');
    assert.deepEqual(conv1?.receptiveField, { size: [7, 7], stride: [2, 2], start: [0, 0], global: false });
    assert.equal(conv1?.macs, 118013952);
    const lastAdd = s.layers.filter((l) => l.op === 'Add').at(-1);
    assert.deepEqual(lastAdd?.receptiveField, { size: [435, 435], stride: [32, 32], start: [0, 0], global: false });
    assert.deepEqual(s.layers.at(-1)?.receptiveField, { global: true });
  });

  it('MobileNetV3: squeeze-and-excitation gates keep the convolutions\' fields local until the classifier', () => {
    const s = summary('mobilenet_v3_small');
    const lastConv = s.layers.filter((l) => l.op === 'Conv').at(-1);
    const rf = lastConv?.receptiveField;
    assert.ok(rf && !rf.global, JSON.stringify(rf));
    assert.deepEqual(rf.stride, [32, 32]);
    assert.deepEqual(s.layers.at(-1)?.receptiveField, { global: true });
  });

  it('ViT: the patch embedding sees one patch, attention makes every later layer global', () => {
    const s = summary('vit_tiny');
    assert.deepEqual(s.layers.find((l) => l.op === 'Conv')?.receptiveField, { size: [8, 8], stride: [8, 8], start: [3.5, 3.5], global: false });
    const softmax = s.layers.find((l) => l.op === 'Softmax');
    assert.deepEqual(softmax?.receptiveField, { global: true });
    assert.deepEqual(s.layers.at(-1)?.receptiveField, { global: true });
  });
});
