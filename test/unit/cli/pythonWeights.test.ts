import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { requireTorchPython, runPython } from '../runtime/oracle';
import { CLI, REPO, ensureCliBuilt, makeTempDir } from './helpers';

/**
 * `probe`/`grad` on a .py model with --python and --weights: the user's trained checkpoint, loaded by their PyTorch
 * and exported through torch.onnx, is what runs. The oracle is PyTorch itself running the same checkpoint on the same
 * input; the checkpoint is written both as a .pt state dict and as .safetensors (written here byte by byte).
 */

const SAVE = `
import json, runpy, struct, sys, numpy as np, torch
folder = sys.argv[1]
model = runpy.run_path(folder + "/lectureModels.py", run_name="oracle")["model"]
torch.manual_seed(7)
with torch.no_grad():
    for p in model.parameters():
        p.add_(torch.randn_like(p) * 0.5)
    for name, b in model.named_buffers():
        if "running_var" in name: b.uniform_(0.5, 2.0)
        if "running_mean" in name: b.normal_()
state = model.state_dict()
torch.save(state, folder + "/trained.pt")
codes = {torch.float32: "F32", torch.int64: "I64"}
header, blobs, offset = {}, [], 0
for key, t in state.items():
    data = t.contiguous().numpy().tobytes()
    header[key] = {"dtype": codes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
text = json.dumps(header).encode()
with open(folder + "/trained.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
x = np.random.default_rng(3).standard_normal((1, 3, 32, 32)).astype(np.float32)
np.save(folder + "/x.npy", x)
model.eval()
with torch.no_grad():
    y = model(torch.from_numpy(x))
print(json.dumps({"mean": y.mean().item(), "max": y.max().item(), "min": y.min().item()}))
`;

interface ProbeJson {
  layers: Array<{ name: string; op: string; stats: { mean: number; min: number; max: number } }>;
}

describe('cli: probe and grad on a trained checkpoint (--python, --weights)', function () {
  this.timeout(300_000);
  let python: string;
  before(function () {
    python = requireTorchPython(this);
    ensureCliBuilt();
  });

  it('probes the trained weights (.pt and .safetensors) exactly as PyTorch runs them, and leaves no file behind', () => {
    const { dir, cleanup } = makeTempDir('layerscope-weights-');
    const tmp = makeTempDir('layerscope-weights-tmp-');
    try {
      fs.copyFileSync(path.join(REPO, 'samples/python/lectureModels.py'), path.join(dir, 'lectureModels.py'));
      const oracle = JSON.parse(runPython(python, SAVE, [dir])) as { mean: number; max: number; min: number };
      const before = fs.readdirSync(dir).sort();
      for (const weights of ['trained.pt', 'trained.safetensors']) {
        const r = spawnSync(process.execPath, [CLI, 'probe', 'lectureModels.py', '--python', python, '--weights', weights, '--input', 'x.npy', '--json'], {
          cwd: dir,
          encoding: 'utf8',
          env: { ...process.env, TMPDIR: tmp.dir },
          timeout: 180_000,
        });
        assert.equal(r.status, 0, r.stderr);
        const report = JSON.parse(r.stdout) as ProbeJson;
        const last = report.layers[report.layers.length - 1];
        assert.equal(last.op, 'Softmax');
        assert.ok(Math.abs(last.stats.max - oracle.max) < 1e-4, `${weights}: max ${last.stats.max} vs PyTorch ${oracle.max}`);
        assert.ok(Math.abs(last.stats.min - oracle.min) < 1e-4, `${weights}: min ${last.stats.min} vs PyTorch ${oracle.min}`);
        // (The probe runtime leaves files of its own in TMPDIR; the export's folder is what must be gone.)
        assert.deepEqual(fs.readdirSync(tmp.dir).filter((f) => f.startsWith('layerscope-') || f.endsWith('.onnx')), [], 'the exported ONNX file is removed');
      }
      assert.deepEqual(fs.readdirSync(dir).sort(), before, 'nothing is written beside the model');
      // Without the checkpoint the model has PyTorch's fresh initialisation, which the trained one does not match.
      const fresh = spawnSync(process.execPath, [CLI, 'probe', 'lectureModels.py', '--python', python, '--input', 'x.npy', '--json'], { cwd: dir, encoding: 'utf8', timeout: 180_000 });
      assert.equal(fresh.status, 0, fresh.stderr);
      const freshLast = (JSON.parse(fresh.stdout) as ProbeJson).layers.at(-1)!;
      assert.ok(Math.abs(freshLast.stats.max - oracle.max) > 1e-3, 'the weights made a difference');
      const grad = spawnSync(process.execPath, [CLI, 'grad', 'lectureModels.py', '--python', python, '--weights', 'trained.pt', '--input', 'x.npy', '--loss', 'cross-entropy', '--target', '3', '--json'], { cwd: dir, encoding: 'utf8', timeout: 180_000 });
      assert.equal(grad.status, 0, grad.stderr);
      const loss = (JSON.parse(grad.stdout) as { loss: number }).loss;
      // DESIGN.md's cross-entropy is −log softmax(output)[target], taken over the model's (here already softmaxed) output.
      const expected = Number(runPython(python, 'import runpy,sys,torch,numpy as np; m=runpy.run_path(sys.argv[1]+"/lectureModels.py",run_name="o")["model"]; m.load_state_dict(torch.load(sys.argv[1]+"/trained.pt")); m.eval(); y=m(torch.from_numpy(np.load(sys.argv[1]+"/x.npy"))); print(-torch.log_softmax(y, dim=-1)[0,3].item())', [dir]));
      assert.ok(Math.abs(loss - expected) < 1e-3 * Math.max(1, Math.abs(expected)), `loss ${loss} vs PyTorch ${expected}`);
    } finally {
      cleanup();
      tmp.cleanup();
    }
  });

  it('says in one line when the checkpoint does not fit the model or is not a checkpoint', () => {
    const { dir, cleanup } = makeTempDir('layerscope-weights-');
    try {
      fs.copyFileSync(path.join(REPO, 'samples/python/lectureModels.py'), path.join(dir, 'lectureModels.py'));
      runPython(python, 'import torch,sys; torch.save({"fc.weight": torch.zeros(2, 2)}, sys.argv[1])', [path.join(dir, 'other.pt')]);
      fs.writeFileSync(path.join(dir, 'junk.safetensors'), 'not a checkpoint');
      for (const [weights, pattern] of [['other.pt', /does not fit the model: keys missing/], ['junk.safetensors', /junk\.safetensors/], ['nope.pt', /no such file/], ['model.onnx', /expected a \.pt/]] as const) {
        const r = spawnSync(process.execPath, [CLI, 'probe', 'lectureModels.py', '--python', python, '--weights', weights, '--json'], { cwd: dir, encoding: 'utf8', timeout: 180_000 });
        assert.equal(r.status, 2, `${weights}: ${r.stderr}`);
        assert.match(r.stderr, pattern);
        assert.equal(r.stderr.trim().split('\n').length, 1);
      }
    } finally {
      cleanup();
    }
  });
});
