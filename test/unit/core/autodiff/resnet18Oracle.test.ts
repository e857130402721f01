import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runGradCommand } from '../../../../src/cli/gradCommand';
import type { GradReport } from '../../../../src/core/reports';
import { findTorchPython } from '../../runtime/oracle';

/**
 * ResNet-18 against PyTorch autograd: `layerscope grad` must give the loss, the input-gradient norm and every
 * parameter's gradient norm to 1e-3 relative, the stem's bn1.bias included (it once missed the bound by a single
 * ReLU input that float32 rounding put on the other side of zero; bench/resnet18Oracle.py and bench/kinks.py keep
 * the comparison clear of such inputs).
 */

interface Oracle {
  onnx: string;
  input: string;
  target: number;
  loss: number;
  inputGradNorm: number;
  params: Record<string, number>;
}

function relError(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-12);
}

describe('autodiff: ResNet-18 against PyTorch autograd', function () {
  this.timeout(300000);
  let dir = '';
  let oracle: Oracle | undefined;

  before(function () {
    const py = findTorchPython();
    const torchvision = py && spawnSync(py, ['-c', 'import torchvision'], { encoding: 'utf8' }).status === 0;
    if (!py || !torchvision) {
      if (process.env.CI) throw new Error('CI: /usr/bin/python3 with torch, torchvision and onnx is required for the ResNet-18 gradient oracle');
      // eslint-disable-next-line no-console
      console.log('    (skipped: /usr/bin/python3 with torch, torchvision, onnx and numpy not found)');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'layerscope-resnet18-oracle-'));
    const r = spawnSync(py!, [resolve(__dirname, 'bench/resnet18Oracle.py'), dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`the oracle script failed: ${r.stderr}`);
    oracle = JSON.parse(readFileSync(join(dir, 'oracle.json'), 'utf8')) as Oracle;
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loss, input gradient and every parameter gradient agree to 1e-3 relative', async () => {
    const m = oracle!;
    let out = '';
    let err = '';
    const argv = [m.onnx, '--input', m.input, '--loss', 'cross-entropy', '--target', String(m.target), '--check', '0', '--json'];
    const code = await runGradCommand(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
    assert.equal(code, 0, err);
    const report = JSON.parse(out) as GradReport;
    const failures: string[] = [];
    const check = (what: string, actual: number, expected: number): void => {
      const e = relError(actual, expected);
      if (!(e <= 1e-3)) failures.push(`${what}: layerscope ${actual}, PyTorch ${expected} (relative error ${e.toExponential(2)})`);
    };
    check('loss', report.loss, m.loss);
    check('input gradient norm', report.input.l2, m.inputGradNorm);
    const byName = new Map(report.params.map((p) => [p.name, p.l2]));
    assert.ok(byName.has('bn1.bias'), 'the stem BatchNorm bias is a parameter');
    for (const [name, norm] of Object.entries(m.params)) {
      const l2 = byName.get(name);
      if (l2 === undefined) failures.push(`no gradient for ${name}`);
      else check(`gradient norm of ${name}`, l2, norm);
    }
    assert.deepEqual(failures, []);
  });
});
