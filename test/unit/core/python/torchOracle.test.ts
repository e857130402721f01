import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PYTHON, analyze, torchAvailable } from './helpers';

/**
 * The samples run under real PyTorch (Debian's /usr/bin/python3 with torch): every module-level instance and every
 * class that builds with its defaults must have exactly the count Layerscope reads from the source.
 */

const samples = path.join(__dirname, '../../../../samples/python');

const SCRIPT = `
import json, runpy, sys, inspect
import torch
ns = runpy.run_path(sys.argv[1])
out = {"instances": {}, "classes": {}}
for k, v in ns.items():
    if isinstance(v, torch.nn.Module):
        out["instances"][k] = sum(p.numel() for p in v.parameters())
    elif inspect.isclass(v) and issubclass(v, torch.nn.Module) and v.__module__ == "<run_path>":
        try:
            out["classes"][k] = sum(p.numel() for p in v().parameters())
        except TypeError:
            pass
print(json.dumps(out))
`;

describe('python: counts against PyTorch running the samples', function () {
  this.timeout(120_000);
  before(function () {
    if (!torchAvailable()) {
      if (process.env.CI) throw new Error(`${PYTHON} with torch is required in CI (apt install python3-torch)`);
      console.warn(`      skipped: ${PYTHON} with torch is not installed`);
      this.skip();
    }
  });

  for (const file of ['lectureModels.py', 'multilayerPerceptron.py', 'squeezeFire.py', 'shapeBug.py']) {
    it(file, async () => {
      const full = path.join(samples, file);
      const torch = JSON.parse(execFileSync(PYTHON, ['-c', SCRIPT, full], { encoding: 'utf8', timeout: 120_000 })) as { instances: Record<string, number>; classes: Record<string, number> };
      const a = await analyze(fs.readFileSync(full, 'utf8'));
      for (const [name, count] of Object.entries(torch.instances)) {
        const ours = a.instances.filter((i) => i.variable === name).pop();
        assert.equal(ours?.params?.params, count, `instance ${name}`);
      }
      for (const [name, count] of Object.entries(torch.classes)) {
        const ours = a.modules.filter((m) => m.name === name).pop();
        assert.equal(ours?.params?.params, count, `class ${name}`);
      }
      assert.ok(Object.keys(torch.instances).length + Object.keys(torch.classes).length > 0);
    });
  }
});

const TV_SCRIPT = `
import importlib, inspect, json, os, sys, warnings
warnings.filterwarnings("ignore")
import torch, torchvision
root = os.path.dirname(torchvision.models.__file__)
out = {}
for name in sorted(os.listdir(root)):
    if not name.endswith(".py") or name.startswith("_"):
        continue
    mod = importlib.import_module("torchvision.models." + name[:-3])
    counts = {}
    for k, v in list(vars(mod).items()):
        if inspect.isclass(v) and issubclass(v, torch.nn.Module) and v.__module__ == mod.__name__:
            try:
                counts[k] = sum(p.numel() for p in v().parameters())
            except Exception:
                counts[k] = None
    out[os.path.join(root, name)] = counts
print(json.dumps(out))
`;

describe("python: torchvision's own model files against PyTorch", function () {
  this.timeout(300_000);
  let torchvision: Record<string, Record<string, number | null>> | undefined;
  before(function () {
    try {
      torchvision = JSON.parse(execFileSync(PYTHON, ['-c', TV_SCRIPT], { encoding: 'utf8', timeout: 240_000, stdio: ['ignore', 'pipe', 'ignore'] }));
    } catch {
      if (process.env.CI) throw new Error(`${PYTHON} with torch and torchvision is required in CI`);
      console.warn(`      skipped: ${PYTHON} with torchvision is not installed`);
      this.skip();
    }
  });

  it('every count Layerscope gives equals PyTorch, and the classic CNNs are all known', async () => {
    const known: string[] = [];
    for (const [file, counts] of Object.entries(torchvision!)) {
      const a = await analyze(fs.readFileSync(file, 'utf8'));
      for (const m of a.modules) {
        if (m.params === null) continue;
        const theirs = counts[m.name];
        // A class PyTorch cannot build without arguments has no reference count; ours must then be unknown too,
        // unless every argument it uses has a default in the source.
        if (theirs === undefined || theirs === null) continue;
        assert.equal(m.params.params, theirs, `${path.basename(file)}: ${m.name}`);
        known.push(m.name);
      }
    }
    for (const name of ['AlexNet', 'SqueezeNet', 'DenseNet', 'GoogLeNet', 'Inception3']) assert.ok(known.includes(name), `${name} should be known; known: ${known.join(', ')}`);
  });
});
