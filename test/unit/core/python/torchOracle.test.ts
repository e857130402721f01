import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyze } from './helpers';

/**
 * The samples run under real PyTorch (Debian's /usr/bin/python3 with torch): every module-level instance and every
 * class that builds with its defaults must have exactly the count Layerscope reads from the source.
 */

const PYTHON = '/usr/bin/python3';
const samples = path.join(__dirname, '../../../../samples/python');

function torchAvailable(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

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
