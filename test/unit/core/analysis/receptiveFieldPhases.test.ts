import * as assert from 'node:assert/strict';
import { summarizeModel } from '../../../../src/core/analysis/summary';
import type { ReceptiveField } from '../../../../src/core/analysis/types';
import { GraphBuilder } from '../../../../src/core/ir/builder';
import { requireTorchPython, runPython } from '../../runtime/oracle';

/**
 * Receptive fields downstream of a stride > 1 ConvTranspose depend on the output unit's phase. The oracle is
 * PyTorch's gradient support: with all-ones weights and input nothing cancels, so the input columns with a non-zero
 * d out[0, 0, r, u] / d x are exactly the positions unit u sees. Layerscope must report the largest field, the set of
 * sizes, and unit 0's own centre; never an average over phases.
 */

interface Stage {
  op: 'ConvTranspose' | 'Conv';
  k: number;
  s: number;
  p: number;
}

function field(stages: Stage[], width: number): ReceptiveField[] {
  const b = new GraphBuilder();
  let v = b.input('x', 'float32', [1, 1, width, width]);
  stages.forEach((st, i) => {
    const w = b.initializer(`w${i}`, 'float32', [1, 1, st.k, st.k], new Array(st.k * st.k).fill(1));
    v = b.op(st.op, [v, w], { kernel_shape: [st.k, st.k], strides: [st.s, st.s], pads: [st.p, st.p, st.p, st.p] }, { name: `n${i}` });
  });
  b.output(v, 'float32', null as never);
  return summarizeModel(b.model(13)).layers.map((l) => l.receptiveField!);
}

/** Per output column u of the last stage: [first, last] input column with a non-zero gradient (PyTorch). */
function supports(py: string, stages: Stage[], width: number): [number, number][] {
  const script = [
    'import json, sys, torch',
    'import torch.nn.functional as F',
    'stages, width = json.loads(sys.argv[1]), int(sys.argv[2])',
    'x = torch.ones(1, 1, width, width, dtype=torch.float64, requires_grad=True)',
    'y = x',
    'for st in stages:',
    '    w = torch.ones(1, 1, st["k"], st["k"], dtype=torch.float64)',
    '    y = (F.conv_transpose2d if st["op"] == "ConvTranspose" else F.conv2d)(y, w, stride=st["s"], padding=st["p"])',
    'row = y.shape[2] // 2',
    'out = []',
    'for u in range(y.shape[3]):',
    '    g, = torch.autograd.grad(y[0, 0, row, u], x, retain_graph=True)',
    '    cols = (g.abs().sum(dim=(0, 1, 2)) > 0).nonzero().flatten().tolist()',
    '    out.append([cols[0], cols[-1]] if cols else None)',
    'print(json.dumps(out))',
  ].join('\n');
  return JSON.parse(runPython(py, script, [JSON.stringify(stages), String(width)])) as [number, number][];
}

describe('analysis: receptive fields after a strided ConvTranspose (PyTorch gradient support)', function () {
  this.timeout(60000);
  const cases: { name: string; stages: Stage[] }[] = [
    { name: 'ConvTranspose k5 s3 p1 -> Conv k3 s2 p1', stages: [{ op: 'ConvTranspose', k: 5, s: 3, p: 1 }, { op: 'Conv', k: 3, s: 2, p: 1 }] },
    { name: 'ConvTranspose k4 s2 p1 (DCGAN)', stages: [{ op: 'ConvTranspose', k: 4, s: 2, p: 1 }] },
    { name: 'Conv k3 s2 -> ConvTranspose k3 s2 p1 -> Conv k3 s1 p1', stages: [{ op: 'Conv', k: 3, s: 2, p: 0 }, { op: 'ConvTranspose', k: 3, s: 2, p: 1 }, { op: 'Conv', k: 3, s: 1, p: 1 }] },
  ];
  for (const c of cases) {
    it(c.name, function () {
      const py = requireTorchPython(this);
      const width = 40;
      const rf = field(c.stages, width).at(-1)!;
      assert.equal(rf.global, false);
      if (rf.global) return;
      const support = supports(py, c.stages, width);
      // Interior units (their fields clear of the padding) give the true sizes.
      const interior = support.filter((s): s is [number, number] => s !== null && s[0] > 0 && s[1] < width - 1);
      assert.ok(interior.length >= 6, `${interior.length} interior units`);
      const sizes = [...new Set(interior.map(([a, b]) => b - a + 1))].sort((a, b) => a - b);
      assert.equal(rf.size[0], Math.max(...sizes), `largest field ${rf.size[0]} vs PyTorch ${JSON.stringify(sizes)}`);
      assert.ok(Number.isInteger(rf.size[0]), 'never a fractional size');
      assert.deepEqual(rf.sizes?.[0] ?? [rf.size[0]], sizes);
      // Unit 0 is centred at `start`: its right edge, which padding never clips, is start + (size0 - 1) / 2 for one
      // of the sizes, with its left edge at or before column 0.
      const first = support[0];
      assert.ok(first, 'unit 0 sees some input');
      const right = first[1];
      assert.ok(
        sizes.some((z) => Math.abs(rf.start[0]! + (z - 1) / 2 - right) < 1e-6 && right - z + 1 <= first[0]),
        `unit 0: start ${rf.start[0]} and PyTorch's support ${JSON.stringify(first)} with sizes ${JSON.stringify(sizes)}`,
      );
    });
  }
});
