import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LayerValue } from '../../../../src/core/python/values';
import { requireTorchPython, runPython } from '../../runtime/oracle';
import { analyze } from './helpers';

/**
 * The lens's receptive fields after a strided ConvTranspose and a merge of two paths (a U-Net's up-sampling step),
 * against PyTorch's gradient support: with all-ones weights and inputs nothing cancels, so the input columns with a
 * non-zero gradient of one output unit are the positions it sees. The largest field over the units must be the lens's,
 * as the core's rules give it (an average over the ConvTranspose's phases gave fields that no unit has).
 */

const SOURCE = `import torch
import torch.nn as nn


# layerscope: input 1x1x40x40
class Up(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(1, 1, 3, stride=2, padding=1, bias=False)
        self.pool = nn.AvgPool2d(2)
        self.up = nn.ConvTranspose2d(1, 1, KT, stride=2, padding=PT, output_padding=OP, bias=False)
        self.skip = nn.Conv2d(1, 1, 3, padding=1, bias=False)
        self.head = nn.Conv2d(2, 1, 3, padding=1, bias=False)

    def forward(self, x):
        y = self.up(self.pool(self.down(x)))
        return self.head(torch.cat([self.skip(self.down(x)), y], dim=1))


model = Up()
`;

/** Per output column of the model: [first, last] input column with a non-zero gradient. */
const SUPPORT = `
import json, runpy, sys, torch
m = runpy.run_path(sys.argv[1])["model"].double()
for p in m.parameters():
    torch.nn.init.ones_(p)
x = torch.ones(1, 1, 40, 40, dtype=torch.float64, requires_grad=True)
y = m(x)
row = y.shape[2] // 2
out = []
for u in range(y.shape[3]):
    g, = torch.autograd.grad(y[0, 0, row, u], x, retain_graph=True)
    cols = (g.abs().sum(dim=(0, 1, 2)) > 0).nonzero().flatten().tolist()
    out.append([cols[0], cols[-1]] if cols else None)
print(json.dumps(out))
`;

function child(layer: LayerValue, name: string): LayerValue {
  return layer.children.find(([n]) => n === name)![1];
}

describe('python: lens receptive fields after a strided ConvTranspose and a merge (PyTorch gradient support)', function () {
  this.timeout(120_000);
  for (const [kt, pt, op] of [
    [2, 0, 0],
    [3, 1, 1],
    [4, 1, 0],
  ]) {
    it(`ConvTranspose2d(kernel ${kt}, stride 2, padding ${pt}, output_padding ${op}) concatenated with a skip path`, async function () {
      const py = requireTorchPython(this);
      const source = SOURCE.replace('KT', String(kt)).replace('PT', String(pt)).replace('OP', String(op));
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerscope-lens-rf-'));
      let support: Array<[number, number] | null>;
      try {
        fs.writeFileSync(path.join(dir, 'up.py'), source);
        support = JSON.parse(runPython(py, SUPPORT, [path.join(dir, 'up.py')])) as Array<[number, number] | null>;
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      const a = await analyze(source);
      const m = a.modules.find((x) => x.name === 'Up')!;
      const rf = a.interpreter.traces.get(child(m.instance, 'head'))?.rf;
      assert.ok(rf && !('global' in rf), `the head has a field: ${JSON.stringify(rf)}`);
      const interior = support.filter((s): s is [number, number] => s !== null && s[0] > 0 && s[1] < 39);
      assert.ok(interior.length >= 6, `${interior.length} interior units`);
      const largest = Math.max(...interior.map(([lo, hi]) => hi - lo + 1));
      assert.equal(rf.size[1], largest, `lens ${rf.size.join('×')}, PyTorch's largest support ${largest}`);
      assert.ok(Number.isInteger(rf.size[1]), 'never a fractional size');
    });
  }
});
