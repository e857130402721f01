import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { summarizeModel } from '../../../src/core/analysis/summary';
import { readOnnxFile } from '../../../src/core/onnx/index';
import { exportWithPyTorch } from '../../../src/host/pythonExport';
import type { ExportOutcome } from '../../../src/host/pythonExport';
import { requireTorchPython } from '../runtime/oracle';

/** Export with PyTorch runs the user's file in a child process; these tests use real interpreters. */
describe('host: Export with PyTorch', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerscope-export-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const message = (o: ExportOutcome): string => (o.ok ? '' : o.message);

  it('exports the instance the file builds, which reads back with the same output shape', async function () {
    const python = requireTorchPython(this);
    const file = path.join(dir, 'lecture.py');
    fs.copyFileSync(path.join(__dirname, '../../../samples/python/lectureModels.py'), file);
    const output = path.join(dir, 'deeper.onnx');
    const outcome = await exportWithPyTorch({ python, file, className: 'DeeperBNConvNet', variable: 'model', inputShape: [1, 3, 32, 32], output });
    assert.deepEqual(outcome, { ok: true });
    const summary = summarizeModel(readOnnxFile(output));
    assert.deepEqual(summary.outputs[0].shape, [1, 10]);
    // 17,020 parameters plus 90 running statistics, unless the exporter folded the three BatchNorms (30 each) into the
    // convolutions before them, which leaves 17,020 − 90.
    assert.ok([17020 + 90, 17020 - 90].includes(summary.totals.params!), `params ${summary.totals.params}`);
  });

  it('says in one line why the file failed', async function () {
    const python = requireTorchPython(this);
    const file = path.join(dir, 'broken.py');
    fs.writeFileSync(file, 'import torch\nraise RuntimeError("no model here")\n');
    const outcome = await exportWithPyTorch({ python, file, className: 'Net', inputShape: [1, 4], output: path.join(dir, 'x.onnx') });
    assert.equal(outcome.ok, false);
    assert.match(message(outcome), /RuntimeError: no model here/);
  });

  it('says when torch is missing or the interpreter cannot run', async () => {
    const fake = path.join(dir, 'python-without-torch');
    // A stand-in interpreter that runs the script the way a bare virtual environment would: `import torch` fails.
    fs.writeFileSync(fake, '#!/bin/sh\necho "ModuleNotFoundError: No module named torch" >&2\nexit 3\n', { mode: 0o755 });
    const missing = await exportWithPyTorch({ python: fake, file: 'x.py', className: 'Net', inputShape: [1], output: path.join(dir, 'y.onnx') });
    assert.equal(missing.ok, false);
    assert.match(message(missing), /PyTorch is not installed/);
    const absent = await exportWithPyTorch({ python: path.join(dir, 'no-such-python'), file: 'x.py', className: 'Net', inputShape: [1], output: path.join(dir, 'z.onnx') });
    assert.equal(absent.ok, false);
    assert.match(message(absent), /cannot run/);
  });
});
