import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../../../../src/core/ir/builder';
import { dataTypeFromCode } from '../../../../../src/core/ir/dtypes';
import { makeTensor } from '../../../../../src/core/ir/tensorData';
import type { Dim, Model } from '../../../../../src/core/ir/types';
import { writeOnnx } from '../../../../../src/core/onnx/writer';
import { inferShapes } from '../../../../../src/core/analysis/shapes/index';

/**
 * Compares our inference with onnx.shape_inference (Debian's python3-onnx at /usr/bin/python3) on models the
 * project's own writer produces. Wherever onnx knows a dim, ours must agree; where onnx names a symbol, ours must be
 * that symbol or unknown.
 */

const PYTHON = '/usr/bin/python3';

function pythonWithOnnx(): boolean {
  if (!existsSync(PYTHON)) return false;
  return spawnSync(PYTHON, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0;
}

const SCRIPT = `
import sys, json, onnx
from onnx import shape_inference
out = {}
for path in sys.argv[1:]:
    m = onnx.load(path)
    inf = shape_inference.infer_shapes(m, strict_mode=True, data_prop=True)
    vals = {}
    for vi in list(inf.graph.value_info) + list(inf.graph.output):
        if not vi.type.HasField('tensor_type'):
            continue
        t = vi.type.tensor_type
        shape = None
        if t.HasField('shape'):
            shape = []
            for d in t.shape.dim:
                if d.HasField('dim_value'):
                    shape.append(d.dim_value)
                elif d.HasField('dim_param') and not d.dim_param.startswith('unk__'):
                    shape.append(d.dim_param)
                else:
                    shape.append(None)
        vals[vi.name] = {'dtype': t.elem_type, 'shape': shape}
    out[path] = vals
print(json.dumps(out))
`;

const zeros = (n: number): number[] => new Array<number>(n).fill(0);

function convNet(): Model {
  const b = new GraphBuilder('convnet');
  let x = b.input('input', 'float32', ['N', 3, 32, 32]);
  const w1 = b.initializer('w1', 'float32', [15, 3, 3, 3], zeros(405));
  x = b.op('Conv', [x, w1], { pads: [1, 1, 1, 1] });
  x = b.op('Relu', [x]);
  const w2 = b.initializer('w2', 'float32', [15, 15, 3, 3], zeros(2025));
  x = b.op('Conv', [x, w2], { pads: [1, 1, 1, 1], strides: [2, 2] });
  const p = (n: string): string => b.initializer(n, 'float32', [15], zeros(15));
  x = b.op('BatchNormalization', [x, p('s'), p('b'), p('m'), p('v')]);
  x = b.op('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  x = b.op('AveragePool', [x], { kernel_shape: [2, 2], strides: [1, 1], auto_pad: 'SAME_UPPER' });
  const w3 = b.initializer('w3', 'float32', [15, 5, 3, 3], zeros(675));
  x = b.op('Conv', [x, w3], { group: 3, dilations: [2, 2], pads: [2, 2, 2, 2] });
  const wt = b.initializer('wt', 'float32', [15, 4, 3, 3], zeros(540));
  const up = b.op('ConvTranspose', [x, wt], { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] });
  const g = b.op('GlobalAveragePool', [up]);
  const f = b.op('Flatten', [g]);
  const fc = b.initializer('fc', 'float32', [10, 4], zeros(40));
  const y = b.op('Gemm', [f, fc], { transB: 1 });
  const sm = b.op('Softmax', [y], { axis: 1 });
  b.output(sm, 'float32', null);
  return b.model(13);
}

function shapeFolding(): Model {
  const b = new GraphBuilder('folding');
  const x = b.input('x', 'float32', ['N', 15, 2, 2]);
  const s = b.op('Shape', [x]);
  const n = b.op('Gather', [s, b.initializer('zero', 'int64', [], [0])]);
  const nu = b.op('Unsqueeze', [n, b.initializer('ax', 'int64', [1], [0])]);
  const shape = b.op('Concat', [nu, b.initializer('m1', 'int64', [1], [-1])], { axis: 0 });
  const y = b.op('Reshape', [x, shape]);
  const tail = b.op('Slice', [s, b.initializer('st', 'int64', [1], [1]), b.initializer('en', 'int64', [1], [4])]);
  const cs = b.op('ConstantOfShape', [tail], { value: makeTensor('one', 'float32', [1], [1]) });
  const e = b.op('Expand', [b.initializer('row', 'float32', [2], [1, 2]), b.initializer('es', 'int64', [2], [3, 2])]);
  const t = b.op('Tile', [e, b.initializer('rep', 'int64', [2], [2, 2])]);
  const r = b.op('Range', [b.initializer('r0', 'int64', [], [0]), b.initializer('r1', 'int64', [], [7]), b.initializer('r2', 'int64', [], [2])]);
  for (const o of [y, cs, t, r]) b.output(o, o === r ? 'int64' : 'float32', null);
  return b.model(13);
}

function attention(): Model {
  const b = new GraphBuilder('attention');
  const x = b.input('x', 'float32', ['B', 'S', 64]);
  const wq = b.initializer('wq', 'float32', [64, 192], zeros(64 * 192));
  const qkv = b.op('MatMul', [x, wq]);
  const parts = b.node('Split', [qkv, b.initializer('sp', 'int64', [3], [64, 64, 64])], { axis: 2 }, { outputs: 3 });
  const heads = b.initializer('heads', 'int64', [4], [0, 0, 4, 16]);
  const [q, k, v] = parts.map((p) => b.op('Transpose', [b.op('Reshape', [p, heads])], { perm: [0, 2, 1, 3] }));
  const kt = b.op('Transpose', [k], { perm: [0, 1, 3, 2] });
  const scores = b.op('MatMul', [q, kt]);
  const scaled = b.op('Div', [scores, b.initializer('scale', 'float32', [], [4])]);
  const probs = b.op('Softmax', [scaled], { axis: -1 });
  const ctx = b.op('MatMul', [probs, v]);
  const merged = b.op('Reshape', [b.op('Transpose', [ctx], { perm: [0, 2, 1, 3] }), b.initializer('back', 'int64', [3], [0, 0, 64])]);
  const ln = b.op('LayerNormalization', [merged, b.initializer('g', 'float32', [64], zeros(64)), b.initializer('bb', 'float32', [64], zeros(64))], { axis: -1 });
  const ein = b.op('Einsum', [q, k], { equation: 'bhqd,bhkd->bhqk' });
  const red = b.op('ReduceMean', [ln], { axes: [-1], keepdims: 0 });
  const am = b.op('ArgMax', [ln], { axis: 1, keepdims: 0 });
  const first = b.op('Gather', [ln, b.initializer('idx', 'int64', [], [0])], { axis: 1 });
  const last = b.op('Slice', [ln, b.initializer('ls', 'int64', [1], [-1]), b.initializer('le', 'int64', [1], [2 ** 62]), b.initializer('la', 'int64', [1], [1])]);
  const sq = b.op('Squeeze', [last, b.initializer('sa', 'int64', [1], [1])]);
  const un = b.op('Unsqueeze', [sq, b.initializer('ua', 'int64', [2], [0, -1])]);
  for (const o of [ln, ein, red, first, un]) b.output(o, 'float32', null);
  b.output(am, 'int64', null);
  return b.model(13);
}

function assorted(): Model {
  const b = new GraphBuilder('assorted');
  const seq = b.input('seq', 'float32', [7, 'N', 10]);
  const w = b.initializer('W', 'float32', [2, 80, 10], zeros(1600));
  const r = b.initializer('R', 'float32', [2, 80, 20], zeros(3200));
  const outs = b.node('LSTM', [seq, w, r], { hidden_size: 20, direction: 'bidirectional' }, { outputs: 3 });
  const gw = b.initializer('GW', 'float32', [1, 48, 10], zeros(480));
  const gr = b.initializer('GR', 'float32', [1, 48, 16], zeros(768));
  const gru = b.node('GRU', [seq, gw, gr], { hidden_size: 16 }, { outputs: 2 });
  const img = b.input('img', 'float32', [1, 8, 6, 6]);
  const rs = b.op('Resize', [img, '', b.initializer('scales', 'float32', [4], [1, 1, 2, 2])], { mode: 'nearest' });
  const pd = b.op('Pad', [img, b.initializer('pads', 'int64', [8], [0, 0, 1, 2, 0, 0, 3, 0])]);
  const d2s = b.op('DepthToSpace', [img], { blocksize: 2 });
  const s2d = b.op('SpaceToDepth', [img], { blocksize: 3 });
  const topk = b.node('TopK', [img, b.initializer('k', 'int64', [1], [3])], { axis: 1 }, { outputs: 2 });
  const cond = b.op('Greater', [img, b.initializer('zero', 'float32', [], [0])]);
  const wh = b.op('Where', [cond, img, b.initializer('neg', 'float32', [1, 1, 1], [-1])]);
  const mx = b.op('Max', [img, b.initializer('m', 'float32', [6], zeros(6))]);
  const tr = b.op('Trilu', [img]);
  const cast = b.op('Cast', [img], { to: 7 });
  const oh = b.op('OneHot', [cast, b.initializer('depth', 'int64', [], [5]), b.initializer('ohv', 'float32', [2], [0, 1])], { axis: 1 });
  const mp = b.node('MaxPool', [img], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }, { outputs: 2 });
  const lp = b.op('LpPool', [img], { kernel_shape: [3, 3], strides: [2, 2] });
  for (const o of [...outs, ...gru, rs, pd, d2s, s2d, topk[0], wh, mx, tr, oh, mp[0], lp]) b.output(o, 'float32', null);
  b.output(topk[1], 'int64', null);
  b.output(mp[1], 'int64', null);
  b.output(cond, 'bool', null);
  return b.model(16);
}

function oldOpsets(): Model {
  const b = new GraphBuilder('old');
  const x = b.input('x', 'float32', [2, 3, 8, 8]);
  const sl = b.op('Slice', [x], { starts: [1, -3], ends: [1000, 1000], axes: [1, 3] });
  const up = b.op('Upsample', [x, b.initializer('sc', 'float32', [4], [1, 1, 2, 2])], { mode: 'nearest' });
  const uq = b.op('Unsqueeze', [x], { axes: [0] });
  const sq = b.op('Squeeze', [uq], { axes: [0] });
  const sp = b.node('Split', [x], { axis: 1, split: [1, 2] }, { outputs: 2 });
  const pd = b.op('Pad', [x], { pads: [0, 0, 1, 1, 0, 0, 1, 1] });
  const rd = b.op('ReduceSum', [x], { axes: [2, 3], keepdims: 0 });
  const tk = b.node('TopK', [x], { k: 2 }, { outputs: 2 });
  for (const o of [sl, up, sq, ...sp, pd, rd, tk[0]]) b.output(o, 'float32', null);
  b.output(tk[1], 'int64', null);
  return b.model(9);
}

describe('shape inference against onnx.shape_inference (oracle)', function () {
  this.timeout(60_000);
  const models: Record<string, () => Model> = { convNet, shapeFolding, attention, assorted, oldOpsets };

  before(function () {
    if (!pythonWithOnnx()) {
      if (process.env.CI) throw new Error(`${PYTHON} with the onnx package is required in CI`);
      console.log(`      (skipped: ${PYTHON} with onnx is not installed)`);
      this.skip();
    }
  });

  let dir = '';
  let oracle: Record<string, Record<string, { dtype: number; shape: Array<number | string | null> | null }>> = {};
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'layerscope-shapes-'));
    const paths = Object.entries(models).map(([name, make]) => {
      const p = join(dir, `${name}.onnx`);
      writeFileSync(p, writeOnnx(make()));
      return p;
    });
    const out = execFileSync(PYTHON, ['-c', SCRIPT, ...paths], { encoding: 'utf8' });
    oracle = JSON.parse(out);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, make] of Object.entries(models)) {
    it(`agrees on ${name}`, () => {
      const expected = oracle[join(dir, `${name}.onnx`)];
      const ours = inferShapes(make());
      assert.deepEqual(ours.warnings, []);
      let compared = 0;
      for (const [value, theirs] of Object.entries(expected)) {
        const mine = ours.types.get(value);
        assert.ok(mine, `${name}: no type for '${value}'`);
        assert.equal(mine.dtype, dataTypeFromCode(theirs.dtype), `${name}: dtype of '${value}'`);
        if (!theirs.shape) continue;
        assert.ok(mine.shape, `${name}: onnx knows the shape of '${value}' (${JSON.stringify(theirs.shape)}) but we do not`);
        assert.equal(mine.shape.length, theirs.shape.length, `${name}: rank of '${value}'`);
        theirs.shape.forEach((d, i) => {
          const m: Dim = mine.shape![i];
          if (typeof d === 'number') assert.equal(m, d, `${name}: '${value}' dim ${i}: ours ${JSON.stringify(mine.shape)}, onnx ${JSON.stringify(theirs.shape)}`);
          else if (typeof d === 'string') assert.ok(m === d || m === null, `${name}: '${value}' dim ${i}: ours ${JSON.stringify(mine.shape)}, onnx ${JSON.stringify(theirs.shape)}`);
        });
        compared++;
      }
      assert.ok(compared > 3, `${name}: compared only ${compared} values`);
    });
  }
});
