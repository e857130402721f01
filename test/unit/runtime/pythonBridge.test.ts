import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExactResult } from '../../../src/core/python/exact';
import { PythonBridge, PythonBridgeError } from '../../../src/runtime/pythonBridge';
import { requireTorchPython, runPython } from './oracle';

/**
 * Exact mode's bridge against PyTorch itself: for torchvision's own model files (factory functions and classes) and
 * for user-style files with timm-like registries and transformers-like configs, every parameter count and every
 * submodule's output shape must equal what a plain PyTorch script counts and sees through its own hooks.
 */

const TORCHVISION = '/usr/lib/python3/dist-packages/torchvision/models';
const FIXTURES = path.join(__dirname, '../../fixtures/python/exact');
const REPO_SAMPLES = path.join(__dirname, '../../../samples/python');

/** The oracle, written independently of the bridge: build, count with named_parameters, hook every module's output. */
const ORACLE = `
import json, runpy, sys, torch
spec = json.loads(sys.argv[1])
sys.path.insert(0, spec["dir"])
if spec["kind"] == "torchvision":
    import importlib
    model = eval(spec["expr"], vars(importlib.import_module("torchvision.models." + spec["module"])))
else:
    model = runpy.run_path(spec["file"], run_name="oracle")[spec["expr"]]
def tensors(v):
    if isinstance(v, torch.Tensor): return [list(v.shape)]
    if isinstance(v, (tuple, list)): return [s for x in v for s in tensors(x)]
    if isinstance(v, dict): return [s for x in v.values() for s in tensors(x)]
    return []
seen = {}
def hook(name):
    def h(m, i, o):
        seen.setdefault(name, tensors(o))
    return h
for name, m in model.named_modules():
    m.register_forward_hook(hook(name))
model.eval()
shape = spec["input"]
x = torch.zeros(*shape, dtype=torch.long) if spec.get("tokens") else torch.randn(*shape)
with torch.no_grad():
    model(x)
out = {"params": sum(p.numel() for _, p in model.named_parameters()),
       "trainable": sum(p.numel() for _, p in model.named_parameters() if p.requires_grad),
       "buffers": sum(b.numel() for _, b in model.named_buffers() if b.dtype.is_floating_point),
       "modules": {name: {"params": sum(p.numel() for _, p in m.named_parameters()), "shapes": seen.get(name)} for name, m in model.named_modules()}}
print(json.dumps(out))
`;

interface OracleOut {
  params: number;
  trainable: number;
  buffers: number;
  modules: Record<string, { params: number; shapes: number[][] | null }>;
}

function assertAgrees(result: ExactResult, oracle: OracleOut): void {
  assert.equal(result.params, oracle.params, 'parameters');
  assert.equal(result.trainable, oracle.trainable, 'trainable parameters');
  assert.equal(result.buffers, oracle.buffers, 'float buffers');
  assert.deepEqual(result.modules.map((m) => m.name), Object.keys(oracle.modules), 'the same submodules in the same order');
  for (const m of result.modules) {
    const o = oracle.modules[m.name];
    assert.equal(m.params, o.params, `parameters of '${m.name}'`);
    assert.deepEqual(m.outputShapes, o.shapes, `output shapes of '${m.name}'`);
  }
}

describe('runtime: Python bridge (exact mode) against PyTorch', function () {
  this.timeout(240_000);
  let bridge: PythonBridge;
  let python: string;
  before(function () {
    python = requireTorchPython(this);
    bridge = new PythonBridge({ python });
  });
  after(() => bridge?.dispose());

  const torchvisionCases: Array<{ file: string; expr: string; input: number[]; target: 'call' | 'expression' }> = [
    { file: 'resnet.py', expr: 'resnet18', input: [1, 3, 64, 64], target: 'call' },
    { file: 'resnet.py', expr: 'resnet50', input: [1, 3, 64, 64], target: 'call' },
    { file: 'mobilenetv2.py', expr: 'mobilenet_v2', input: [1, 3, 64, 64], target: 'call' },
    { file: 'vision_transformer.py', expr: 'vit_b_16(image_size=64)', input: [1, 3, 64, 64], target: 'expression' },
    { file: 'resnet.py', expr: 'ResNet(BasicBlock, [1, 2, 1, 1], num_classes=7)', input: [2, 3, 48, 48], target: 'expression' },
    { file: 'alexnet.py', expr: 'AlexNet', input: [1, 3, 96, 96], target: 'call' },
    { file: 'squeezenet.py', expr: 'SqueezeNet', input: [1, 3, 96, 96], target: 'call' },
  ];
  for (const c of torchvisionCases) {
    it(`agrees with PyTorch on torchvision's ${c.expr} (${c.file})`, async () => {
      const target = c.target === 'call' ? { kind: 'call' as const, name: c.expr } : { kind: 'expression' as const, expression: c.expr };
      const result = await bridge.inspect({ file: path.join(TORCHVISION, c.file), target, inputShape: c.input });
      const oracleExpr = c.target === 'call' ? `${c.expr}()` : c.expr;
      const oracle = JSON.parse(runPython(python, ORACLE, [JSON.stringify({ kind: 'torchvision', module: c.file.replace(/\.py$/, ''), expr: oracleExpr, input: c.input, dir: TORCHVISION })])) as OracleOut;
      assertAgrees(result, oracle);
      assert.equal(result.device, 'cpu', 'PyTorch 1.13 has no meta-device construction, so the bridge builds on the CPU');
      const root = result.modules[0];
      assert.equal(root.file?.startsWith(TORCHVISION), true, `the model's class comes from torchvision (${root.file})`);
      assert.ok(root.line !== null && root.line > 0);
    });
  }

  it('agrees with PyTorch on a timm-style registry model built by the script, without running its __main__ block', async () => {
    const file = path.join(FIXTURES, 'timmStyle.py');
    const result = await bridge.inspect({ file, target: { kind: 'variable', name: 'model' }, inputShape: [1, 3, 64, 64] });
    const oracle = JSON.parse(runPython(python, ORACLE, [JSON.stringify({ kind: 'file', file, expr: 'model', input: [1, 3, 64, 64], dir: FIXTURES })])) as OracleOut;
    assertAgrees(result, oracle);
    assert.ok(result.trainable < result.params, 'the frozen head weight is not trainable');
    assert.equal(fs.existsSync(path.join(FIXTURES, 'ran-main-block.txt')), false);
    assert.equal(fs.existsSync(path.join(process.cwd(), 'ran-main-block.txt')), false);
    const block = result.modules.find((m) => m.type === 'Block');
    assert.equal(block?.file, path.join(FIXTURES, 'zoo', 'tinynets.py'));
    assert.equal(block?.userCode, true);
    // A second request re-imports the registry from disk instead of registering its models twice.
    const again = await bridge.inspect({ file, target: { kind: 'variable', name: 'model' }, inputShape: [1, 3, 64, 64] });
    assert.equal(again.params, result.params);
  });

  it('agrees with PyTorch on a transformers-style model built from a config, with tied weights counted once', async () => {
    const file = path.join(FIXTURES, 'hfStyle.py');
    const result = await bridge.inspect({ file, target: { kind: 'variable', name: 'model' }, inputShape: [2, 8] });
    const oracle = JSON.parse(runPython(python, ORACLE, [JSON.stringify({ kind: 'file', file, expr: 'model', input: [2, 8], dir: FIXTURES, tokens: true })])) as OracleOut;
    assertAgrees(result, oracle);
    // Asked for the class, the bridge takes the instance the script built from its config, not the class's defaults.
    const byClass = await bridge.inspect({ file, target: { kind: 'call', name: 'TinyForMaskedLM' }, inputShape: [2, 8] });
    assert.equal(byClass.params, result.params);
    const head = result.modules.find((m) => m.name === 'lm_head');
    assert.equal(head?.params, 500 * 32, 'the head owns its (tied) weight');
    assert.ok(result.params < result.modules.filter((m) => m.leaf).reduce((a, m) => a + m.params, 0), 'the tied weight is counted once in the total');
  });

  describe('errors and isolation', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerscope-bridge-'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    async function failure(promise: Promise<unknown>): Promise<PythonBridgeError> {
      try {
        await promise;
      } catch (e) {
        assert.ok(e instanceof PythonBridgeError, String(e));
        assert.doesNotMatch(e.message, /\n/, 'one line');
        return e;
      }
      assert.fail('expected an error');
    }

    it('names the file and line of a syntax error', async () => {
      const file = path.join(dir, 'broken.py');
      fs.writeFileSync(file, 'import torch\nclass Net(torch.nn.Module):\n    def __init__(self)\n        pass\n');
      const e = await failure(bridge.inspect({ file, target: { kind: 'call', name: 'Net' } }));
      assert.equal(e.kind, 'syntax');
      assert.equal(e.file, file);
      assert.equal(e.line, 3);
      assert.match(e.message, /broken\.py:3: SyntaxError/);
    });

    it("points an exception at the user's own file and line, not PyTorch's", async () => {
      const file = path.join(dir, 'mistake.py');
      fs.writeFileSync(file, ['import torch', 'from torch import nn', '', 'class Net(nn.Module):', '    def __init__(self):', '        super().__init__()', '        self.fc = nn.Linear(4, -3)', ''].join('\n'));
      const e = await failure(bridge.inspect({ file, target: { kind: 'call', name: 'Net' } }));
      assert.equal(e.kind, 'user-code');
      assert.equal(e.file, file);
      assert.equal(e.line, 7);
      assert.match(e.message, /mistake\.py:7: RuntimeError/);
      // The bridge lives on after an error in user code.
      const fine = path.join(dir, 'fine.py');
      fs.writeFileSync(fine, 'from torch import nn\nmodel = nn.Linear(3, 2)\n');
      assert.equal((await bridge.inspect({ file: fine, target: { kind: 'variable', name: 'model' } })).params, 8);
    });

    it('reports a forward pass that fails at its line', async () => {
      const file = path.join(dir, 'shapes.py');
      fs.writeFileSync(file, ['from torch import nn', 'class Net(nn.Module):', '    def __init__(self):', '        super().__init__()', '        self.fc = nn.Linear(4, 3)', '    def forward(self, x):', '        return self.fc(x.view(-1, 5))', ''].join('\n'));
      const e = await failure(bridge.inspect({ file, target: { kind: 'call', name: 'Net' }, inputShape: [2, 4] }));
      assert.equal(e.line, 7);
    });

    it('writes no __pycache__ into the user\'s folders', async () => {
      fs.cpSync(FIXTURES, dir, { recursive: true });
      const result = await bridge.inspect({ file: path.join(dir, 'timmStyle.py'), target: { kind: 'variable', name: 'model' }, inputShape: [1, 3, 32, 32] });
      assert.ok(result.params > 0);
      const written: string[] = [];
      const walk = (d: string): void => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
          if (e.name === '__pycache__' || e.name.endsWith('.pyc') || e.name === 'ran-main-block.txt') written.push(path.join(d, e.name));
          if (e.isDirectory()) walk(path.join(d, e.name));
        }
      };
      walk(dir);
      assert.deepEqual(written, []);
    });

    it('stops a model that runs too long, and the next request starts a fresh interpreter', async () => {
      const slow = path.join(dir, 'slow.py');
      fs.writeFileSync(slow, 'import time\nfrom torch import nn\ntime.sleep(60)\nmodel = nn.Linear(2, 2)\n');
      const own = new PythonBridge({ python });
      try {
        await own.interpreter();
        const e = await failure(own.inspect({ file: slow, target: { kind: 'variable', name: 'model' } }, { timeoutMs: 1500 }));
        assert.equal(e.kind, 'timeout');
        assert.equal(own.warm, false);
        const fine = path.join(dir, 'fine.py');
        fs.writeFileSync(fine, 'from torch import nn\nmodel = nn.Linear(3, 2)\n');
        assert.equal((await own.inspect({ file: fine, target: { kind: 'variable', name: 'model' } })).params, 8);
      } finally {
        own.dispose();
      }
    });

    it('is cancelled through an AbortSignal', async () => {
      const slow = path.join(dir, 'slow.py');
      fs.writeFileSync(slow, 'import time\ntime.sleep(60)\n');
      const own = new PythonBridge({ python });
      try {
        const controller = new AbortController();
        const pending = own.inspect({ file: slow, target: { kind: 'variable', name: 'model' } }, { signal: controller.signal });
        setTimeout(() => controller.abort(), 300);
        assert.equal((await failure(pending)).kind, 'cancelled');
      } finally {
        own.dispose();
      }
    });

    it('fails in one line, and lives on, when a model needs more memory than the limit', async () => {
      const big = path.join(dir, 'big.py');
      fs.writeFileSync(big, 'from torch import nn\nmodel = nn.Linear(50_000, 50_000)\n');
      const own = new PythonBridge({ python, memoryLimitMB: 2048 });
      try {
        const e = await failure(own.inspect({ file: big, target: { kind: 'variable', name: 'model' } }));
        assert.match(e.message, /memory|MemoryError|DefaultCPUAllocator/i);
        const fine = path.join(dir, 'fine.py');
        fs.writeFileSync(fine, 'from torch import nn\nmodel = nn.Linear(3, 2)\n');
        assert.equal((await own.inspect({ file: fine, target: { kind: 'variable', name: 'model' } })).params, 8);
      } finally {
        own.dispose();
      }
    });

    it('says when the interpreter has no torch, or does not exist', async () => {
      // A real interpreter without site-packages: `import torch` fails in it as in a bare virtual environment.
      const bare = path.join(dir, 'python-without-torch');
      fs.writeFileSync(bare, `#!/bin/sh\nexec ${python} -S "$@"\n`, { mode: 0o755 });
      const file = path.join(dir, 'm.py');
      fs.writeFileSync(file, 'model = None\n');
      const noTorch = new PythonBridge({ python: bare });
      const e = await failure(noTorch.inspect({ file, target: { kind: 'variable', name: 'model' } }));
      assert.equal(e.kind, 'no-torch');
      assert.match(e.message, /PyTorch is not installed/);
      noTorch.dispose();
      const absent = new PythonBridge({ python: path.join(dir, 'no-such-python') });
      const a = await failure(absent.inspect({ file, target: { kind: 'variable', name: 'model' } }));
      assert.equal(a.kind, 'no-interpreter');
      absent.dispose();
    });

    it('says when a class needs constructor arguments, pointing at the class', async () => {
      const file = path.join(REPO_SAMPLES, 'squeezeFire.py');
      const e = await failure(bridge.inspect({ file, target: { kind: 'call', name: 'Fire' } }));
      assert.equal(e.kind, 'input');
      assert.equal(e.line, 8);
      assert.match(e.message, /squeezeFire\.py:8: Fire\(\) cannot be built without arguments/);
    });

    it('falls back from the meta device to the CPU when building or running there fails, and says why', async () => {
      // PyTorch 1.13 has no `with torch.device("meta")`, so trying it fails as an unsupported op would on PyTorch 2.
      const own = new PythonBridge({ python, tryMeta: true });
      try {
        const file = path.join(FIXTURES, 'hfStyle.py');
        const result = await own.inspect({ file, target: { kind: 'variable', name: 'model' }, inputShape: [1, 8] });
        assert.equal(result.device, 'cpu');
        assert.match(result.metaFallback ?? '', /\S/);
        const direct = await bridge.inspect({ file, target: { kind: 'variable', name: 'model' }, inputShape: [1, 8] });
        assert.deepEqual({ ...result, metaFallback: undefined }, { ...direct, metaFallback: undefined });
      } finally {
        own.dispose();
      }
    });

    it('runs a training script that parses its command line at import, with its defaults, and reports sys.exit in one line', async () => {
      const file = path.join(dir, 'train.py');
      fs.writeFileSync(file, ['import argparse', 'from torch import nn', 'parser = argparse.ArgumentParser()', 'parser.add_argument("--width", type=int, default=6)', 'args = parser.parse_args()', 'model = nn.Linear(4, args.width)', ''].join('\n'));
      assert.equal((await bridge.inspect({ file, target: { kind: 'variable', name: 'model' } })).params, 4 * 6 + 6);
      const quits = path.join(dir, 'quits.py');
      fs.writeFileSync(quits, 'import sys\nsys.exit("no GPU found")\n');
      const e = await failure(bridge.inspect({ file: quits, target: { kind: 'variable', name: 'model' } }));
      assert.match(e.message, /quits\.py:2: SystemExit: no GPU found/);
      assert.equal((await bridge.inspect({ file, target: { kind: 'variable', name: 'model' } })).params, 30, 'the bridge lives on after sys.exit');
    });

    it('says when the name is not a Module', async () => {
      const file = path.join(dir, 'm.py');
      fs.writeFileSync(file, 'model = 3\n');
      const e = await failure(bridge.inspect({ file, target: { kind: 'variable', name: 'model' } }));
      assert.equal(e.kind, 'input');
      assert.match(e.message, /not a torch\.nn\.Module/);
    });
  });
});
