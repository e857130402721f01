import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGradArgs } from '../../../src/cli/gradCommand';
import { GraphBuilder } from '../../../src/core/ir/builder';
import { writeNpy } from '../../../src/core/npy/npy';
import { writeOnnx } from '../../../src/core/onnx';
import type { GradReport } from '../../../src/core/reports';
import { runGradInProcess } from './helpers';

/** `layerscope grad`: the contract's JSON, the exit codes, and one-line errors for bad input. */
describe('layerscope grad', function () {
  this.timeout(120000);
  let dir = '';
  const weights = [0.5, -0.3, 0.2, 0.1, -0.4, 0.6, 0.3, 0.2, -0.1, 0.05, 0.7, -0.2];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'layerscope-grad-cli-'));
    // An image classifier small enough to check by hand: Conv 3->1 (1x1), Flatten, Gemm to 3 classes.
    const b = new GraphBuilder();
    const x = b.input('image', 'float32', [1, 3, 2, 2]);
    const w = b.initializer('conv.weight', 'float32', [1, 3, 1, 1], [0.5, -0.25, 1]);
    const c = b.op('Conv', [x, w], {}, { name: '/conv/Conv' });
    const r = b.op('Relu', [c], {}, { name: '/relu/Relu' });
    const fl = b.op('Flatten', [r], { axis: 1 });
    const fc = b.initializer('fc.weight', 'float32', [3, 4], weights);
    const y = b.op('Gemm', [fl, fc], { transB: 1 }, { output: 'logits' });
    b.output(y, 'float32', [1, 3]);
    writeFileSync(join(dir, 'tiny.onnx'), writeOnnx(b.model(13)));
    writeFileSync(join(dir, 'image.npy'), writeNpy({ dtype: 'float32', shape: [1, 3, 2, 2], data: Float32Array.from([1, 2, 3, 4, 0.5, 0.5, 0.5, 0.5, -1, 1, -1, 1]) }));
    writeFileSync(join(dir, 'target.npy'), writeNpy({ dtype: 'float32', shape: [1, 3], data: Float32Array.from([0, 1, 0]) }));
    const u = new GraphBuilder();
    const ux = u.input('x', 'float32', [1, 2]);
    u.output(u.op('Atan', [ux], {}, { name: 'the_atan' }), 'float32', [1, 2]);
    writeFileSync(join(dir, 'atan.onnx'), writeOnnx(u.model(13)));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const grad = (argv: string[]): Promise<{ code: number; out: string; err: string }> => runGradInProcess(argv, dir);

  it('lowers a PyTorch .py model from source and reports a gradient for every parameter it declares', async () => {
    writeFileSync(
      join(dir, 'mlp.py'),
      [
        'import torch.nn as nn',
        '',
        '# layerscope: input 2x8',
        'class Mlp(nn.Module):',
        '    def __init__(self):',
        '        super().__init__()',
        '        self.net = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 4))',
        '',
        '    def forward(self, x):',
        '        return self.net(x)',
        '',
      ].join('\n'),
    );
    const { code, out, err } = await grad(['mlp.py', '--random', 'normal', '--seed', '3', '--loss', 'cross-entropy', '--target', '1', '--check', '0', '--json']);
    assert.equal(code, 0, err);
    const report = JSON.parse(out) as GradReport;
    assert.deepEqual(report.params.map((p) => [p.name, p.shape]).sort(), [['net.0.bias', [16]], ['net.0.weight', [16, 8]], ['net.2.bias', [4]], ['net.2.weight', [4, 16]]]);
    assert.ok(report.params.every((p) => p.l2 > 0 && Number.isFinite(p.l2)));
    // With fresh PyTorch-style weights the logits are small, so the loss starts near ln 4.
    assert.ok(Math.abs(report.loss - Math.log(4)) < 0.5, `loss ${report.loss}`);
  });

  it('prints the contract JSON: loss, input, params by initializer name, activations, check, saliency', async () => {
    const { code, out, err } = await grad(['tiny.onnx', '--input', 'image=image.npy', '--loss', 'cross-entropy', '--target', '2', '--check', '5', '--json']);
    assert.equal(code, 0, err);
    const r = JSON.parse(out) as GradReport;
    // The loss by hand: conv = 0.5*c0 - 0.25*c1 + c2 per pixel, relu, logits = fc . h, cross-entropy at class 2.
    const img = [1, 2, 3, 4, 0.5, 0.5, 0.5, 0.5, -1, 1, -1, 1];
    const h = [0, 1, 2, 3].map((p) => Math.max(0, 0.5 * img[p] - 0.25 * img[4 + p] + img[8 + p]));
    const z = [0, 1, 2].map((k) => h.reduce((s, v, j) => s + v * weights[k * 4 + j], 0));
    const expected = Math.log(z.reduce((s, v) => s + Math.exp(v), 0)) - z[2];
    assert.ok(Math.abs(r.loss - expected) < 1e-5, `loss ${r.loss} vs ${expected}`);
    assert.equal(r.executionProvider, 'cpu');
    assert.equal(r.input.name, 'image');
    assert.deepEqual(r.params.map((p) => p.name), ['conv.weight', 'fc.weight']);
    assert.deepEqual(r.params[1].shape, [3, 4]);
    for (const p of r.params) for (const k of ['l2', 'mean', 'std', 'maxAbs', 'weightL2']) assert.equal(typeof (p as unknown as Record<string, unknown>)[k], 'number');
    assert.deepEqual(r.activations.map((a) => a.name), ['/conv/Conv_output_0', '/relu/Relu_output_0', 'Flatten_2_output_0', 'logits']);
    assert.ok(r.check && r.check.sampled === 8 && r.check.maxRelError < 0.05, JSON.stringify(r.check));
    assert.equal(r.input.saliency?.width, 2);
    assert.equal(r.input.saliency?.values.length, 4);
    // d loss / d fc.weight[k, j] = (softmax_k - [k = 2]) * h_j, so its norm is known exactly.
    const sm = z.map((v) => Math.exp(v) / z.reduce((s, u) => s + Math.exp(u), 0));
    const g = [0, 1, 2].flatMap((k) => h.map((hj) => (sm[k] - (k === 2 ? 1 : 0)) * hj));
    assert.ok(Math.abs(r.params[1].l2 - Math.hypot(...g)) < 1e-5);
  });

  it('supports mse against a .npy target and the sum of one output unit, and prints a readable table', async () => {
    const mse = await grad(['tiny.onnx', '--input', 'image.npy', '--loss', 'mse', '--target', 'target.npy', '--check', '0', '--json']);
    assert.equal(mse.code, 0, mse.err);
    assert.equal((JSON.parse(mse.out) as GradReport).check, undefined);
    const text = await grad(['tiny.onnx', '--input', 'image.npy', '--loss', 'sum', '--target', '1', '--check', '2']);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /^loss: /m);
    assert.match(text.out, /fc\.weight\s+\[3,4\]/);
    assert.match(text.out, /numerical check: 4 coordinates/);
  });

  for (const [title, argv, pattern] of [
    ['no --loss', ['tiny.onnx', '--input', 'image.npy'], /needs --loss/],
    ['an unknown loss', ['tiny.onnx', '--loss', 'hinge'], /--loss must be/],
    ['cross-entropy without a target', ['tiny.onnx', '--input', 'image.npy', '--loss', 'cross-entropy'], /needs --target/],
    ['mse with a class target', ['tiny.onnx', '--input', 'image.npy', '--loss', 'mse', '--target', '1'], /mse needs --target FILE\.npy/],
    ['an unknown option', ['tiny.onnx', '--loss', 'sum', '--frobnicate'], /unknown option/],
    ['the predicted class with a sum loss', ['tiny.onnx', '--input', 'image.npy', '--loss', 'sum', '--target', 'predicted'], /--target predicted goes with --loss cross-entropy/],
    ['a target that is neither', ['tiny.onnx', '--loss', 'cross-entropy', '--target', 'argmax'], /'predicted'/],
    ['a missing model file', ['nope.onnx', '--loss', 'sum'], /nope\.onnx/],
    ['an op without a gradient rule', ['atan.onnx', '--loss', 'sum'], /the_atan.*Atan/],
    ['a negative --check', ['tiny.onnx', '--loss', 'sum', '--check', '-1'], /--check/],
  ] as [string, string[], RegExp][]) {
    it(`exits 2 with one line for ${title}`, async () => {
      const { code, err, out } = await grad(argv);
      assert.equal(code, 2, err);
      assert.equal(out, '');
      assert.match(err, pattern);
      assert.equal(err.trim().split('\n').length, 1, err);
      assert.doesNotMatch(err, /\n\s+at /);
    });
  }

  it('parses --flag=value and NAME=FILE forms', () => {
    const p = parseGradArgs(['m.onnx', '--input=x=a.npy', '--loss=sum', '--target=3', '--ep', 'cpu', '--lr', '0.01'], '/w');
    assert.equal(p.model, '/w/m.onnx');
    assert.deepEqual(p.options.sources, [{ kind: 'npy', path: '/w/a.npy', name: 'x' }]);
    assert.deepEqual(p.options.target, { kind: 'class', index: 3 });
    assert.equal(p.options.provider, 'cpu');
    assert.equal(p.options.learningRate, 0.01);
    assert.deepEqual(parseGradArgs(['m.onnx', '--loss', 'cross-entropy', '--target', 'predicted'], '/w').options.target, { kind: 'predicted' });
  });
});
