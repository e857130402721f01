import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeTree } from '../../../../src/core/python/analyze';
import { ImportResolver } from '../../../../src/core/python/imports';
import { evaluateImportedModule } from '../../../../src/core/python/interpreter';
import { loadPythonParser } from '../../../../src/core/python/parser';
import { PYTHON, torchAvailable } from './helpers';

/**
 * The static interpreter's semantics against PyTorch 1.13 running the same files: every module-level instance and
 * every class that builds without arguments, with PyTorch's own counts (parameters once each, as
 * `model.parameters()` yields them; trainable by requires_grad; floating-point buffers of `model.buffers()`).
 * A number Layerscope shows must equal PyTorch's; where it shows `?`, the reason must name a line. Files marked
 * `# layerscope-test: exact` must be fully exact.
 */

const root = path.join(__dirname, '../../../..');
const FIXTURES = path.join(root, 'test/fixtures/python/semantics');
const SAMPLES = path.join(root, 'samples/python');

const SCRIPT = `
import json, runpy, sys, inspect
import torch
sys.argv = [sys.argv[1]]
import os
sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))
ns = runpy.run_path(sys.argv[0], run_name="__main__")
def counts(m):
    ps = list(m.parameters())
    return {"params": sum(p.numel() for p in ps), "trainable": sum(p.numel() for p in ps if p.requires_grad),
            "buffers": sum(b.numel() for b in m.buffers() if b.is_floating_point())}
out = {"instances": {}, "classes": {}}
for k, v in ns.items():
    if isinstance(v, torch.nn.Module):
        out["instances"][k] = counts(v)
    elif inspect.isclass(v) and issubclass(v, torch.nn.Module) and v.__module__ == "__main__":
        try:
            out["classes"][k] = counts(v())
        except Exception:
            pass
print(json.dumps(out))
`;

/** Output shapes of every leaf module's first call, by module path, for the instances and inputs given on stdin. */
const SHAPES = `
import json, runpy, sys, os
import torch
want = json.loads(sys.stdin.read())
sys.argv = [sys.argv[1]]
sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))
ns = runpy.run_path(sys.argv[0], run_name="__main__")
out = {}
for var, shape in want.items():
    model = ns[var].eval()
    seen = {}
    def hook(name):
        def f(m, i, o):
            if name not in seen and isinstance(o, torch.Tensor):
                seen[name] = list(o.shape)
        return f
    for name, m in model.named_modules():
        if len(list(m.children())) == 0:
            m.register_forward_hook(hook(name))
    try:
        with torch.no_grad():
            model(torch.zeros(*shape))
    except Exception:
        continue
    out[var] = seen
print(json.dumps(out))
`;

interface Counts {
  params: number;
  trainable: number;
  buffers: number;
}

function files(): string[] {
  const list = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.py')).map((f) => path.join(dir, f)) : []);
  return [...list(FIXTURES), path.join(FIXTURES, 'imports/userModel.py'), ...list(SAMPLES)];
}

describe('python semantics: every shown count equals PyTorch, or is ? with a line', function () {
  this.timeout(300_000);
  before(function () {
    if (!torchAvailable()) {
      if (process.env.CI) throw new Error(`${PYTHON} with torch is required in CI (apt install python3-torch)`);
      console.warn(`      skipped: ${PYTHON} with torch is not installed`);
      this.skip();
    }
  });

  for (const file of files()) {
    it(path.relative(root, file), async () => {
      const source = fs.readFileSync(file, 'utf8');
      const exact = /^# layerscope-test: exact$/m.test(source);
      const torch = JSON.parse(execFileSync(PYTHON, ['-c', SCRIPT, file], { encoding: 'utf8', timeout: 240_000 }).trim().split('\n').pop()!) as { instances: Record<string, Counts>; classes: Record<string, Counts> };
      // Imports are followed from the file's own folder, as Python finds them when it runs the file.
      const parser = await loadPythonParser();
      const importer = new ImportResolver(parser, [path.dirname(file)], evaluateImportedModule);
      const a = analyzeTree(parser.parse(source)!, source, { importer, file });
      importer.dispose();
      const checked: string[] = [];
      const check = (what: string, ours: { params: { params: number; trainable: number; buffers: number } | null; reason?: string } | undefined, theirs: Counts): void => {
        if (!ours) return;
        checked.push(what);
        if (ours.params === null) {
          assert.ok(!exact, `${what}: unknown (${ours.reason}) in a file marked exact; PyTorch: ${JSON.stringify(theirs)}`);
          assert.match(ours.reason ?? '', /line \d+/, `${what}: the reason must name a line: ${ours.reason}`);
          return;
        }
        assert.deepEqual({ params: ours.params.params, trainable: ours.params.trainable, buffers: ours.params.buffers }, theirs, what);
      };
      for (const [name, counts] of Object.entries(torch.instances)) check(`instance ${name}`, a.instances.filter((i) => i.variable === name).pop(), counts);
      for (const [name, counts] of Object.entries(torch.classes)) {
        // A class used by an instance is counted with that instance's arguments, which the instance check covers.
        const m = a.modules.filter((x) => x.name === name).pop();
        if (m && m.instantiatedAt === undefined) check(`class ${name}`, m, counts);
      }
      assert.ok(checked.length > 0, 'nothing was compared');

      // Layer shapes where the file declares an input: every shape shown must be the one PyTorch's hooks see.
      const shaped = a.instances.filter((i) => i.variable && i.inputShape && i.inputShape.every((d) => typeof d === 'number') && i.variable in torch.instances);
      if (shaped.length === 0) return;
      const want = Object.fromEntries(shaped.map((i) => [i.variable, i.inputShape]));
      const theirs = JSON.parse(execFileSync(PYTHON, ['-c', SHAPES, file], { input: JSON.stringify(want), encoding: 'utf8', timeout: 240_000 }).trim().split('\n').pop()!) as Record<string, Record<string, number[]>>;
      let compared = 0;
      for (const inst of shaped) {
        const m = a.modules.find((x) => x.instance === inst.instance);
        const hooked = theirs[inst.variable];
        if (!hooked) continue;
        for (const leaf of m?.leaves ?? []) {
          const shown = leaf.trace?.output;
          if (!shown || !shown.every((d) => typeof d === 'number')) continue;
          // PyTorch names a module registered twice once, under its first path; the same layer has the same trace.
          if (!(leaf.path in hooked)) continue;
          assert.deepEqual(shown, hooked[leaf.path], `${inst.variable}.${leaf.path}`);
          compared++;
        }
      }
      if (exact && Object.keys(theirs).length > 0) assert.ok(compared > 0, 'no layer shape was compared');
    });
  }
});
