import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOnnxFile } from '../../../src/core/onnx/reader';
import { probeModel } from '../../../src/runtime/probe';
import { requireTorchPython, runPython } from './oracle';
import type { Histogram, TensorStats } from '../../../src/core/reports';

/**
 * Acceptance check of issue 5: activation statistics match PyTorch forward hooks on the same model and the same .npy
 * input to 1e-3 relative. The oracle (Debian's /usr/bin/python3 with torch and onnx) exports a small convnet, saves
 * the input, and computes every statistic with NumPy from the hooked module outputs.
 */
const SCRIPT = String.raw`
import sys, json, torch, torch.nn as nn, numpy as np
out = sys.argv[1]
torch.manual_seed(0)
net = nn.Sequential(
    nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(8, 16, 3, stride=2), nn.Tanh(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    nn.Linear(16, 10), nn.Sigmoid())
bn = net[1]
bn.running_mean.uniform_(-0.5, 0.5); bn.running_var.uniform_(0.5, 2)
bn.weight.data.uniform_(0.5, 1.5); bn.bias.data.uniform_(-0.2, 0.2)
with torch.no_grad():
    net[4].weight.mul_(3.0)  # push the tanh into partial saturation so that fracSaturated is exercised
net.eval()
x = torch.randn(8, 3, 32, 32)
np.save(out + '/input.npy', x.numpy())
torch.onnx.export(net, x, out + '/net.onnx', opset_version=13, input_names=['input'], output_names=['output'],
                  do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE)
stats = {}
def hook(name, kind):
    def f(module, inp, output):
        a = output.detach().numpy().astype(np.float64).ravel()
        lo, hi = a.min(), a.max()
        counts, edges = np.histogram(a, bins=64, range=(lo, hi) if hi > lo else (lo - 0.5, hi + 0.5))
        sat = 0.0
        if kind == 'tanh': sat = float(np.mean(np.abs(a) > 0.99))
        if kind == 'sigmoid': sat = float(np.mean((a < 0.01) | (a > 0.99)))
        stats[name] = dict(count=int(a.size), mean=float(a.mean()), std=float(a.std()), min=float(lo), max=float(hi),
                           fracZero=float(np.mean(a == 0)), fracSaturated=sat,
                           p01=float(np.percentile(a, 1)), p50=float(np.percentile(a, 50)), p99=float(np.percentile(a, 99)),
                           counts=counts.tolist(), edges=edges.tolist(), shape=list(output.shape))
    return f
for name, m in net.named_children():
    kind = 'tanh' if isinstance(m, nn.Tanh) else 'sigmoid' if isinstance(m, nn.Sigmoid) else ''
    m.register_forward_hook(hook(name, kind))
with torch.no_grad():
    net(x)
json.dump(stats, open(out + '/hooks.json', 'w'))
`;

/** What the PyTorch hooks script writes per module: the report's statistics, histogram and output shape. */
type HookStats = TensorStats & Histogram & { shape: number[] };

describe('runtime/probe against PyTorch forward hooks', function () {
  this.timeout(180_000);
  let dir: string | undefined;
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('matches every layer statistic to 1e-3 relative', async function () {
    const py = requireTorchPython(this);
    dir = mkdtempSync(join(tmpdir(), 'ls-oracle-'));
    runPython(py, SCRIPT, [dir]);
    const hooks = JSON.parse(readFileSync(join(dir, 'hooks.json'), 'utf8')) as Record<string, HookStats>;
    const model = readOnnxFile(join(dir, 'net.onnx'));
    const { report } = await probeModel(model, { provider: 'cpu', sources: [{ kind: 'npy', path: join(dir, 'input.npy') }], bins: 64 });
    assert.equal(report.layers.length, 10);
    for (const layer of report.layers) {
      // torch.onnx.export names nodes /<module path>/<Op>; here the modules are the Sequential's children 0..9.
      const moduleName = layer.name.split('/')[1]!;
      const ref = hooks[moduleName];
      assert.ok(ref, `no hook output for ${layer.name}`);
      assert.deepEqual(layer.shape, ref.shape, `${layer.name} shape`);
      assert.equal(layer.stats.count, ref.count);
      // Relative to the value, with the layer's spread as the floor for figures that sit near zero.
      const scale = Math.max(ref.std, 1e-6);
      for (const key of ['mean', 'std', 'min', 'max', 'p01', 'p50', 'p99'] as const) {
        const a = layer.stats[key];
        const e = ref[key];
        assert.ok(Math.abs(a - e) <= 1e-3 * Math.max(Math.abs(e), scale), `${layer.name} ${key}: ${a} vs torch ${e}`);
      }
      assert.ok(Math.abs(layer.stats.fracZero - ref.fracZero) <= 1e-3, `${layer.name} fracZero`);
      assert.ok(Math.abs(layer.stats.fracSaturated - ref.fracSaturated) <= 1e-3, `${layer.name} fracSaturated ${layer.stats.fracSaturated} vs ${ref.fracSaturated}`);
      assert.equal(layer.histogram.counts.length, 64);
      for (let i = 0; i < 65; i++) {
        assert.ok(Math.abs(layer.histogram.edges[i]! - ref.edges[i]!) <= 1e-3 * Math.max(Math.abs(ref.edges[i]!), scale), `${layer.name} edge ${i}`);
      }
      const moved = layer.histogram.counts.reduce((s, c, i) => s + Math.abs(c - ref.counts[i]!), 0);
      assert.ok(moved <= Math.max(2, 1e-3 * ref.count), `${layer.name}: histograms differ by ${moved} elements`);
    }
    const tanh = report.layers.find((l) => l.op === 'Tanh')!;
    assert.ok(tanh.stats.fracSaturated > 0.01, 'the oracle model should saturate part of its tanh');
    assert.ok(report.diagnostics.every((d) => d.node.startsWith('/')));
  });
});
