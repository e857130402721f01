import * as assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOnnxFile } from '../../../src/core/onnx';
import { runGradProbe } from '../../../src/runtime/gradRunner';
import { requireTorchPython, runPython } from './oracle';

/**
 * Issue 15's bar for the default (directional) numerical check: on torchvision 0.14's own ResNet-18, MobileNetV2 and
 * SqueezeNet, exported by PyTorch 1.13 with random weights, correct gradients must not raise a warning. MobileNetV2's
 * zero biases put units exactly on ReLU6 kinks, where no gradient exists: the check says so ('kink') instead of
 * calling the gradient wrong. Every ONNX sample passes outright. The planted-bug half is in gradRuntime.test.ts. Inputs are 96×96 to keep this quick.
 */
describe('runtime: the default gradient check on torchvision models', function () {
  this.timeout(600000);
  let dir = '';
  before(function () {
    const py = requireTorchPython(this);
    dir = mkdtempSync(join(tmpdir(), 'layerscope-gradcheck-tv-'));
    runPython(
      py,
      [
        'import sys, torch, torchvision',
        'torch.manual_seed(0)',
        'for name in ["resnet18", "mobilenet_v2", "squeezenet1_0"]:',
        '    m = getattr(torchvision.models, name)(weights=None).eval()',
        '    torch.onnx.export(m, torch.randn(1, 3, 96, 96), f"{sys.argv[1]}/{name}.onnx", input_names=["input"], output_names=["logits"], opset_version=13)',
      ].join('\n'),
      [dir],
    );
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every ONNX sample: every tensor fine', async () => {
    const samples = readdirSync(join(__dirname, '..', '..', '..', 'samples')).filter((f) => f.endsWith('.onnx'));
    assert.ok(samples.length >= 5);
    for (const f of samples) {
      const model = readOnnxFile(join(__dirname, '..', '..', '..', 'samples', f));
      const report = await runGradProbe(model, { loss: 'mean', random: 'normal', seed: 2, provider: 'cpu' });
      assert.deepEqual(report.params.filter((p) => p.check?.verdict !== 'fine').map((p) => [f, p.name, p.check]), []);
    }
  });

  for (const name of ['resnet18', 'mobilenet_v2', 'squeezenet1_0']) {
    it(`${name}: no tensor judged wrong or uncomfortable`, async () => {
      const model = readOnnxFile(join(dir, `${name}.onnx`));
      const report = await runGradProbe(model, { loss: 'cross-entropy', target: { kind: 'class', index: 3 }, random: 'normal', seed: 1, provider: 'cpu' });
      assert.equal(report.check?.method, 'direction');
      assert.equal(report.check?.sampled, report.params.length);
      const flagged = report.params.filter((p) => p.check?.verdict === 'wrong' || p.check?.verdict === 'uncomfortable');
      assert.deepEqual(flagged.map((p) => [p.name, p.check]), []);
      assert.ok(!report.diagnostics?.some((d) => d.kind === 'gradient-check' && /failed|worth a look/.test(d.message)), JSON.stringify(report.diagnostics));
      // Most tensors are judged, and fine.
      const fine = report.params.filter((p) => p.check?.verdict === 'fine').length;
      assert.ok(fine >= report.params.length * 0.8, `${fine} of ${report.params.length} fine`);
    });
  }
});
