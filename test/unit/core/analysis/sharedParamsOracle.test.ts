import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarizeModel } from '../../../../src/core/analysis/summary';
import { readOnnxFile } from '../../../../src/core/onnx/reader';
import { requireTorchPython, runPython } from '../../runtime/oracle';

/**
 * torchvision's ResNet-18 as PyTorch 1.13 exports it by default (eval, constant folding): BatchNorm folded into every
 * Conv, and the equal (all-zero) folded biases written once and handed out through Identity nodes. PyTorch says what
 * each Conv holds (weight + one bias per output channel after folding); onnx says what the file stores.
 */
const ORACLE = `
import json, sys, os, torch, torchvision, onnx
from onnx import numpy_helper
torch.manual_seed(0)
m = torchvision.models.resnet18().eval()
path = os.path.join(sys.argv[1], 'resnet18.onnx')
torch.onnx.export(m, torch.randn(1, 3, 224, 224), path, opset_version=13)
convs = {name: mod.weight.numel() + mod.out_channels for name, mod in m.named_modules() if isinstance(mod, torch.nn.Conv2d)}
g = onnx.load(path).graph
stored = sum(numpy_helper.to_array(t).size for t in g.initializer)
identities = sum(1 for n in g.node if n.op_type == 'Identity')
print(json.dumps({'path': path, 'convs': convs, 'stored': int(stored), 'identities': identities, 'fc': m.fc.weight.numel() + m.fc.bias.numel()}))
`;

describe('core/analysis: shared parameters against PyTorch (ResNet-18, folded export)', function () {
  this.timeout(300_000);
  let dir = '';
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('gives every Conv its weight and folded bias, counts the shared biases once, and reconciles the column with the total', function () {
    const py = requireTorchPython(this);
    try {
      runPython(py, 'import torchvision');
    } catch {
      if (process.env.CI) throw new Error('CI: torchvision is required for this oracle');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'layerscope-shared-'));
    const oracle = JSON.parse(runPython(py, ORACLE, [dir])) as { path: string; convs: Record<string, number>; stored: number; identities: number; fc: number };
    assert.ok(oracle.identities > 0, 'the export shares tensors through Identity nodes (the case under test)');
    const s = summarizeModel(readOnnxFile(oracle.path));
    assert.equal(s.totals.params, oracle.stored, 'the totals are what the file stores, each tensor once');
    const convRows = s.layers.filter((l) => l.op === 'Conv');
    assert.equal(convRows.length, Object.keys(oracle.convs).length);
    for (const row of convRows) {
      // '/layer1/layer1.0/downsample/downsample.0/Conv' is module 'layer1.0.downsample.0': a scope that repeats its
      // parent's name ('layer1.0' under 'layer1') adds only the new part.
      let module = '';
      let last = '';
      for (const part of row.name.split('/').filter(Boolean).slice(0, -1)) {
        module = last && part.startsWith(`${last}.`) ? module + part.slice(last.length) : module ? `${module}.${part}` : part;
        last = part;
      }
      assert.equal(row.params, oracle.convs[module], `${row.name}: weight + folded bias`);
    }
    for (const row of s.layers.filter((l) => l.op === 'Identity')) assert.equal(row.params, 0, `${row.name} holds no parameters of its own`);
    const rowSum = s.layers.reduce((sum, l) => sum + l.params, 0);
    assert.equal(rowSum, Object.values(oracle.convs).reduce((a, b) => a + b, 0) + oracle.fc, 'the column adds up to what the layers hold');
    const note = s.warnings.find((w) => w.includes('shared by several layers'));
    assert.ok(note, 'a warning explains the difference');
    assert.ok(note.includes(`${(rowSum - s.totals.params).toLocaleString('en-US')} more than the total`), note);
    assert.ok(s.warnings.some((w) => w.includes('BatchNormalization appears to have been folded into 20 convolution(s)')), 'the folded-BatchNorm note');
  });
});
