import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { requireTorchPython, runPython } from '../runtime/oracle';
import { REPO, ensureCliBuilt, folderSnapshot, makeTempDir, runCliProcess } from './helpers';

/**
 * `layerscope summary FILE.py --python PATH`: the real bundle, the real bridge and Debian's PyTorch. The figures must
 * be PyTorch's own (checked against a plain PyTorch script), each module must say where its figures come from, and
 * wherever the static reading showed a figure that PyTorch contradicts, the static figure is kept beside it.
 */

interface Layer {
  name: string;
  params: number | null;
  outputShape: Array<number | string | null> | null;
  staticParams?: number | null;
  staticOutputShape?: unknown;
}
interface Module {
  name: string;
  source: 'static' | 'python';
  params: number | null;
  staticParams?: number | null;
  layers: Layer[];
}
interface Summary {
  totals: { params: number; trainableParams: number; nonTrainableParams: number; macs: number };
  inputs: Array<{ shape: number[]; dtype: string }>;
  outputs: Array<{ shape: number[] }>;
  layers: unknown[];
  warnings: string[];
  modules: Module[];
}

const TORCHVISION = '/usr/lib/python3/dist-packages/torchvision/models';
const FIXTURES = path.join(REPO, 'test/fixtures/python/exact');

function summary(args: string[], cwd = REPO): { status: number | null; json?: Summary; stderr: string } {
  const r = runCliProcess(['summary', ...args, '--json'], { cwd, timeoutMs: 180_000 });
  return { status: r.status, stderr: r.stderr, ...(r.status === 0 ? { json: JSON.parse(r.stdout) as Summary } : {}) };
}

/** Every static figure that was shown either agrees with PyTorch or is kept beside PyTorch's as the one that differed. */
function assertDisagreementsVisible(staticOnly: Summary, exact: Summary, name: string): void {
  const before = new Map(staticOnly.modules.find((m) => m.name === name)?.layers.map((l) => [l.name, l]) ?? []);
  const after = exact.modules.find((m) => m.name === name)!;
  for (const layer of after.layers) {
    const s = before.get(layer.name);
    if (!s) continue;
    if (s.params !== null && s.params !== layer.params) assert.equal(layer.staticParams, s.params, `${layer.name}: differing static params kept`);
    if (s.params === layer.params) assert.equal('staticParams' in layer, false, `${layer.name}: agreeing params carry no static figure`);
    if (s.outputShape !== null && JSON.stringify(s.outputShape) !== JSON.stringify(layer.outputShape)) assert.deepEqual(layer.staticOutputShape, s.outputShape, `${layer.name}: differing static shape kept`);
  }
}

describe('cli: summary FILE.py --python (exact mode)', function () {
  this.timeout(300_000);
  let python: string;
  before(function () {
    python = requireTorchPython(this);
    ensureCliBuilt();
  });

  it('verifies the lecture model: PyTorch agrees with the static reading, and each module says its source', () => {
    const file = path.join(REPO, 'samples/python/lectureModels.py');
    const plain = summary([file]);
    const exact = summary([file, '--python', python]);
    assert.equal(exact.status, 0, exact.stderr);
    const deeper = exact.json!.modules.find((m) => m.name === 'DeeperBNConvNet')!;
    assert.equal(deeper.source, 'python');
    assert.equal(exact.json!.modules.find((m) => m.name === 'Linear')?.source, 'static');
    const oracle = JSON.parse(runPython(python, 'import runpy,json,sys; m=runpy.run_path(sys.argv[1], run_name="o")["model"]; print(json.dumps([sum(p.numel() for p in m.parameters()), sum(b.numel() for b in m.buffers() if b.is_floating_point())]))', [file])) as [number, number];
    assert.equal(deeper.params, oracle[0]);
    assert.equal(exact.json!.totals.params, oracle[0] + oracle[1]);
    // The static reading of this file is exact, so nothing differs and the MACs and layer graph stay.
    assert.deepEqual(exact.json!.totals, plain.json!.totals);
    assert.equal(deeper.layers.some((l) => 'staticParams' in l || 'staticOutputShape' in l), false);
    assert.ok(exact.json!.layers.length > 0);
  });

  it("verifies torchvision's resnet18 factory; where static reading showed a figure PyTorch contradicts, it is kept beside", () => {
    const file = path.join(TORCHVISION, 'resnet.py');
    const plain = summary([file, '--input-shape', '1x3x64x64']);
    const exact = summary([file, '--python', python, '--class', 'resnet18', '--input-shape', '1x3x64x64']);
    assert.equal(exact.status, 0, exact.stderr);
    const resnet = exact.json!.modules.find((m) => m.source === 'python')!;
    assert.equal(resnet.name, 'ResNet');
    const oracle = JSON.parse(runPython(python, 'import json, torchvision; m = torchvision.models.resnet18(); print(json.dumps({n: sum(p.numel() for p in mod.parameters()) for n, mod in m.named_modules() if not list(mod.children())}))')) as Record<string, number>;
    assert.deepEqual(Object.fromEntries(resnet.layers.map((l) => [l.name, l.params])), oracle);
    assert.equal(resnet.params, 11_689_512);
    assert.deepEqual(exact.json!.outputs[0].shape, [1, 1000]);
    assertDisagreementsVisible(plain.json!, exact.json!, 'ResNet');
  });

  it('builds the model a timm-style script creates from a registry, and a transformers-style one from a config', () => {
    const timm = summary([path.join(FIXTURES, 'timmStyle.py'), '--python', python, '--input-shape', '1x3x64x64'], FIXTURES);
    assert.equal(timm.status, 0, timm.stderr);
    assert.equal(timm.json!.modules.find((m) => m.source === 'python')?.name, 'TinyConvNeXt');
    assert.deepEqual(timm.json!.outputs[0].shape, [1, 10]);
    assert.ok(timm.json!.totals.nonTrainableParams > 0, 'the frozen head weight is non-trainable');
    assert.equal(fs.existsSync(path.join(FIXTURES, 'ran-main-block.txt')), false, 'the __main__ block did not run');
    const hf = summary([path.join(FIXTURES, 'hfStyle.py'), '--python', python, '--input-shape', '2x8']);
    assert.equal(hf.status, 0, hf.stderr);
    assert.equal(hf.json!.inputs[0].dtype, 'int64');
    assert.deepEqual(hf.json!.outputs[0].shape, [2, 8, 500]);
    const lm = hf.json!.modules.find((m) => m.name === 'TinyForMaskedLM')!;
    assert.equal(lm.source, 'python');
    // The static reading follows the classmethod factory, the dataclass config, setattr and the tied head, so it
    // gives PyTorch's count: nothing is kept beside it.
    assert.equal('staticParams' in lm, false, `the static reading showed ${lm.staticParams} for it, PyTorch ${lm.params}`);
    const plainHf = summary([path.join(FIXTURES, 'hfStyle.py'), '--input-shape', '2x8'], FIXTURES);
    assert.equal(plainHf.json!.modules.find((m) => m.name === 'TinyForMaskedLM')?.params, lm.params);
  });

  it('fails in one line with exit code 2 on errors in the user code, and writes nothing', () => {
    const { dir, cleanup } = makeTempDir();
    try {
      const file = path.join(dir, 'net.py');
      fs.writeFileSync(file, ['import torch.nn as nn', '', '# layerscope: input 1x4', 'class Net(nn.Module):', '    def __init__(self):', '        super().__init__()', '        raise ValueError("bad config")', ''].join('\n'));
      const before = folderSnapshot(dir);
      const r = summary([file, '--python', python], dir);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /net\.py:7: ValueError: bad config/);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.equal(folderSnapshot(dir), before);
      const missing = summary([file, '--python', path.join(dir, 'no-python')], dir);
      assert.equal(missing.status, 2);
      assert.match(missing.stderr, /cannot run/);
      const onnx = summary([path.join(REPO, 'samples/python/lectureModels.py'), '--class', 'Net']);
      assert.equal(onnx.status, 2);
      assert.match(onnx.stderr, /--python/);
    } finally {
      cleanup();
    }
  });
});
