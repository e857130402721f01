import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../src/cli/cli';
import { memoryIo } from '../../../src/cli/io';
import { GraphBuilder } from '../../../src/core/ir/builder';
import { writeOnnx } from '../../../src/core/onnx';

/**
 * `layerscope summary --by-scope`: parameters and MACs per name scope, from core's scope tree (the one the inspector's
 * graph and breakdown draw), checked on a model whose counts are known by hand.
 */
describe('layerscope summary --by-scope', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'layerscope-by-scope-'));
    // features.0: Conv 3->4 3x3 (108 + 4 params) on 8x8 (pad 1): 4*8*8*27 = 6,912 MACs; features.1: Relu;
    // head: Gemm 256 -> 10 (2,560 + 10 params, 2,560 MACs), exporter-style names.
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 3, 8, 8]);
    const w = b.initializer('features.0.weight', 'float32', [4, 3, 3, 3], new Array(108).fill(0.1));
    const bias = b.initializer('features.0.bias', 'float32', [4], [0, 0, 0, 0]);
    const c = b.op('Conv', [x, w, bias], { pads: [1, 1, 1, 1] }, { name: '/features/features.0/Conv' });
    const r = b.op('Relu', [c], {}, { name: '/features/features.1/Relu' });
    const f = b.op('Flatten', [r], { axis: 1 }, { name: '/Flatten' });
    const fw = b.initializer('head.weight', 'float32', [10, 256], new Array(2560).fill(0.01));
    const fb = b.initializer('head.bias', 'float32', [10], new Array(10).fill(0));
    b.output(b.op('Gemm', [f, fw, fb], { transB: 1 }, { name: '/head/Gemm' }), 'float32', [1, 10]);
    writeFileSync(join(dir, 'm.onnx'), writeOnnx(b.model(13)));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const io = memoryIo(dir);
    const code = await runCli(args, io);
    return { code, out: io.out, err: io.err };
  }

  it('prints one row per scope, in graph order, with their totals', async () => {
    const { code, out, err } = await cli(['summary', 'm.onnx', '--by-scope', '--depth', '2']);
    assert.equal(code, 0, err);
    const rows = out.trim().split('\n').slice(1).map((l) => l.trim().split(/\s{2,}/));
    const byScope = new Map(rows.map((r) => [r[0], r.slice(1)]));
    assert.deepEqual(byScope.get('features'), ['2', '112', '6.91 k']);
    assert.deepEqual(byScope.get('features.0'), ['1', '112', '6.91 k']);
    assert.deepEqual(byScope.get('head'), ['1', '2,570', '2.56 k']);
    assert.deepEqual(byScope.get('(top level)'), ['1', '0', '0'], 'the Flatten named /Flatten is in no scope');
    const order = rows.map((r) => r[0]).filter((n) => n === 'features' || n === 'head');
    assert.deepEqual(order, ['features', 'head'], 'graph order');
  });

  it('adds the scopes to the JSON summary, and their totals add up to the model', async () => {
    const { code, out, err } = await cli(['summary', 'm.onnx', '--by-scope', '--json']);
    assert.equal(code, 0, err);
    const r = JSON.parse(out) as { totals: { params: number; macs: number }; scopes: { scope: string; depth: number; layers: number; params: number; macs: number }[] };
    const top = r.scopes.filter((s) => s.depth === 1);
    assert.equal(top.reduce((a, s) => a + s.params, 0), r.totals.params);
    assert.equal(top.reduce((a, s) => a + s.macs, 0), r.totals.macs);
    assert.deepEqual(r.scopes.find((s) => s.scope === 'features'), { scope: 'features', depth: 1, layers: 2, params: 112, macs: 6912 });
  });

  it('refuses --markdown with --by-scope in one line', async () => {
    const { code, err } = await cli(['summary', 'm.onnx', '--by-scope', '--markdown']);
    assert.equal(code, 2);
    assert.equal(err.trim().split('\n').length, 1);
  });
});
