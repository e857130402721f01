import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runGradCommand } from '../../../src/cli/gradCommand';
import type { GradReport } from '../../../src/core/reports';
import { findTorchPython } from '../runtime/oracle';

/**
 * Acceptance against PyTorch autograd: for each architecture the oracle script builds and exports (the lecture
 * models, LeNet-5, a BatchNorm ConvNet, tanh and ReLU MLPs, a transformer encoder layer at opsets 13 and 17, and an
 * embedding model, torchvision's MobileNetV2 and ShuffleNetV2, and LeNet-5 and the encoder with `--target predicted`), `layerscope grad --json` must give PyTorch's loss, input-gradient norm and every parameter's
 * gradient norm to 1e-3 relative, with the initializers named as PyTorch names the parameters.
 */

interface OracleModel {
  name: string;
  onnx: string;
  input: string;
  ids?: string;
  loss: 'cross-entropy' | 'mse' | 'sum';
  target: string | number;
  predictedClasses?: number[];
  lossValue: number;
  inputGradNorm: number;
  params: Record<string, number>;
  check: boolean;
}

function relClose(actual: number, expected: number, what: string, rtol = 1e-3): void {
  const err = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-12);
  assert.ok(err <= rtol, `${what}: layerscope ${actual}, PyTorch ${expected} (relative error ${err.toExponential(2)})`);
}

describe('layerscope grad against PyTorch autograd', function () {
  this.timeout(300000);
  let dir = '';
  let models: OracleModel[] = [];

  before(function () {
    const py = findTorchPython();
    if (!py) {
      if (process.env.CI) throw new Error('CI: /usr/bin/python3 with torch and onnx is required for the gradient oracle');
      // eslint-disable-next-line no-console
      console.log('    (skipped: /usr/bin/python3 with torch, onnx and numpy not found)');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'layerscope-grad-oracle-'));
    const script = resolve(__dirname, '../../fixtures/gradOracle.py');
    const r = spawnSync(py!, [script, dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`the oracle script failed: ${r.stderr}`);
    models = (JSON.parse(readFileSync(join(dir, 'oracle.json'), 'utf8')) as { models: OracleModel[] }).models;
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const names = ['deeper_bn_convnet', 'baseline_linear', 'lenet5', 'bn_convnet', 'tanh_mlp', 'relu_mlp', 'transformer_encoder_13', 'transformer_encoder_17', 'embed_net', 'mobilenet_v2', 'shufflenet_v2', 'lenet5_predicted', 'transformer_encoder_predicted'];
  for (const name of names) {
    it(name, async function () {
      const m = models.find((x) => x.name === name);
      if (!m && name.includes('net_v2') && !process.env.CI) this.skip(); // torchvision is optional outside CI
      assert.ok(m, `the oracle produced ${name}`);
      const argv = [m.onnx, '--input', `input=${m.input}`, '--loss', m.loss, '--target', String(m.target), '--check', m.check ? '4' : '0', '--json'];
      if (m.ids) argv.push('--input', `ids=${m.ids}`);
      let out = '';
      let err = '';
      const code = await runGradCommand(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
      assert.equal(code, 0, err);
      const report = JSON.parse(out) as GradReport;
      relClose(report.loss, m.lossValue, 'loss');
      if (m.predictedClasses) assert.deepEqual(report.predictedClasses, m.predictedClasses, 'the predicted classes are PyTorch argmax');
      relClose(report.input.l2, m.inputGradNorm, 'input gradient norm');
      const byName = new Map(report.params.map((p) => [p.name, p]));
      for (const [param, norm] of Object.entries(m.params)) {
        const p = byName.get(param);
        assert.ok(p, `a gradient for parameter ${param} (have: ${[...byName.keys()].join(', ')})`);
        // Gradients that PyTorch computes as (almost) zero are compared absolutely against the largest one.
        const scale = Math.max(...Object.values(m.params));
        if (norm < 1e-6 * scale) assert.ok(p.l2 < 1e-5 * scale, `${param}: expected ~0, got ${p.l2}`);
        else relClose(p.l2, norm, `gradient norm of ${param}`);
      }
      if (m.check) {
        assert.ok(report.check && report.check.sampled > 0, 'the numerical check ran');
        assert.ok(report.check.maxRelError < 0.3, `numerical check worst relative error ${report.check.maxRelError} (${report.check.worst})`);
      }
    });
  }
});
