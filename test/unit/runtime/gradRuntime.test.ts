import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gradRules } from '../../../src/core/autodiff/rules';
import type { RuleEntry } from '../../../src/core/autodiff/ruleTypes';
import { isUserInputError } from '../../../src/core/errors';
import { GraphBuilder } from '../../../src/core/ir/builder';
import { writeNpy } from '../../../src/core/npy/npy';
import { readOnnxFile, writeOnnx } from '../../../src/core/onnx';
import type { GradReport } from '../../../src/core/reports';
import { runGradProbe } from '../../../src/runtime/gradRunner';
import { requireTorchPython, runPython } from './oracle';
import { runGradInProcess } from '../cli/helpers';

/**
 * The gradient runtime (runtime/gradRunner.ts, gradWorker.ts on ortSession.ts): float16 gradients read as numbers,
 * not bit patterns (numpy as the oracle); class indices outside the output refused as PyTorch refuses them, from the
 * CLI and from the runner the editor calls; and the default check (one joint direction, then each tensor where that
 * does not pass) failing on planted wrong rules, naming the broken tensors, while passing the correct gradient.
 */
describe('runtime: gradient probe', function () {
  this.timeout(180000);
  let dir = '';

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'layerscope-grad-runtime-'));
    // y = x @ W in float16, x [2, 4], W [4, 3]; values exact in float16.
    const b = new GraphBuilder();
    const x = b.input('x', 'float16', [2, 4]);
    const w = b.initializer('W', 'float16', [4, 3], [0.5, -0.25, 1, 0.75, 0.125, -1.5, 2, -0.5, 0.25, -0.75, 1.25, 0.5]);
    b.output(b.op('MatMul', [x, w], {}, { output: 'y' }), 'float16', [2, 3]);
    writeFileSync(join(dir, 'matmul16.onnx'), writeOnnx(b.model(13)));
    writeFileSync(join(dir, 'x.npy'), writeNpy({ dtype: 'float32', shape: [2, 4], data: Float32Array.from([1, 2, -1, 0.5, 0.25, -2, 3, 1.5]) }));
    // A 10-class classifier: Gemm [1, 4] -> [1, 10].
    const c = new GraphBuilder();
    const cx = c.input('x', 'float32', [1, 4]);
    const cw = c.initializer('fc.weight', 'float32', [10, 4], Array.from({ length: 40 }, (_, i) => Math.sin(i + 1)));
    c.output(c.op('Gemm', [cx, cw], { transB: 1 }, { output: 'logits' }), 'float32', [1, 10]);
    writeFileSync(join(dir, 'ten.onnx'), writeOnnx(c.model(13)));
    // A small ConvNet with ReLUs, for the planted rule.
    const n = new GraphBuilder();
    const nx = n.input('image', 'float32', [1, 2, 6, 6]);
    const w1 = n.initializer('conv1.weight', 'float32', [4, 2, 3, 3], Array.from({ length: 72 }, (_, i) => 0.4 * Math.sin(1.7 * i + 0.3)));
    const b1 = n.initializer('conv1.bias', 'float32', [4], [0.1, -0.2, 0.05, 0.15]);
    const h1 = n.op('Relu', [n.op('Conv', [nx, w1, b1], { pads: [1, 1, 1, 1] })]);
    const w2 = n.initializer('conv2.weight', 'float32', [3, 4, 3, 3], Array.from({ length: 108 }, (_, i) => 0.3 * Math.cos(1.3 * i + 0.1)));
    const h2 = n.op('Relu', [n.op('Conv', [h1, w2], { pads: [1, 1, 1, 1] })]);
    const pooled = n.op('Flatten', [n.op('GlobalAveragePool', [h2])], { axis: 1 });
    const fc = n.initializer('fc.weight', 'float32', [5, 3], Array.from({ length: 15 }, (_, i) => Math.cos(i)));
    n.output(n.op('Gemm', [pooled, fc], { transB: 1 }, { output: 'logits' }), 'float32', [1, 5]);
    writeFileSync(join(dir, 'convnet.onnx'), writeOnnx(n.model(13)));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const grad = (argv: string[]): Promise<{ code: number; out: string; err: string }> => runGradInProcess(argv, dir);

  it('reads float16 gradients as numbers: a one-MatMul model matches numpy', async function () {
    const py = requireTorchPython(this);
    const { code, out, err } = await grad(['matmul16.onnx', '--input', 'x=x.npy', '--loss', 'sum', '--json']);
    assert.equal(code, 0, err);
    const report = JSON.parse(out) as GradReport;
    const oracle = JSON.parse(
      runPython(
        py,
        [
          'import json, numpy as np',
          'x = np.array([1, 2, -1, 0.5, 0.25, -2, 3, 1.5], dtype=np.float16).reshape(2, 4).astype(np.float32)',
          'W = np.array([0.5, -0.25, 1, 0.75, 0.125, -1.5, 2, -0.5, 0.25, -0.75, 1.25, 0.5], dtype=np.float16).reshape(4, 3).astype(np.float32)',
          'gy = np.ones((2, 3), dtype=np.float32)',
          'print(json.dumps({"loss": float((x @ W).sum()), "gW": float(np.linalg.norm(x.T @ gy)), "gx": float(np.linalg.norm(gy @ W.T))}))',
        ].join('\n'),
      ),
    ) as { loss: number; gW: number; gx: number };
    const w = report.params.find((p) => p.name === 'W')!;
    assert.ok(Math.abs(w.l2 - oracle.gW) <= 1e-3 * oracle.gW, `|dL/dW| ${w.l2} vs numpy ${oracle.gW}`);
    assert.ok(Math.abs(report.input.l2 - oracle.gx) <= 1e-3 * oracle.gx, `|dL/dx| ${report.input.l2} vs numpy ${oracle.gx}`);
    assert.ok(Math.abs(report.loss - oracle.loss) <= 1e-2 * Math.abs(oracle.loss), `loss ${report.loss} vs ${oracle.loss}`);
    assert.ok(w.maxAbs < 10, `max |g| ${w.maxAbs}: float16 bits were read as numbers`);
  });

  it('refuses a class index outside the output in one line, as PyTorch does', async () => {
    for (const target of ['10', '99999', '1e20', '-1', '2.5', '99999999999999999999']) {
      const { code, out, err } = await grad(['ten.onnx', '--random', 'normal', '--loss', 'cross-entropy', '--target', target, '--json']);
      assert.equal(code, 2, `--target ${target}: ${err}`);
      assert.equal(out, '');
      assert.equal(err.trim().split('\n').length, 1, err);
    }
    const tooFar = await grad(['ten.onnx', '--random', 'normal', '--loss', 'cross-entropy', '--target', '10']);
    assert.match(tooFar.err, /class index 10 is out of range: the output 'logits' has 10 \(0 to 9\)/);
    const unit = await grad(['ten.onnx', '--random', 'normal', '--loss', 'sum', '--target', '12']);
    assert.equal(unit.code, 2, unit.err);
    assert.match(unit.err, /unit index 12 is out of range/);
    const last = await grad(['ten.onnx', '--random', 'normal', '--loss', 'cross-entropy', '--target', '9', '--check', '0', '--json']);
    assert.equal(last.code, 0, last.err);
    // The editor calls the runner directly: the same refusal.
    const model = readOnnxFile(join(dir, 'ten.onnx'));
    await assert.rejects(
      runGradProbe(model, { loss: 'cross-entropy', target: { kind: 'class', index: 10 }, random: 'normal', check: 0 }),
      (e: unknown) => isUserInputError(e) && /out of range/.test((e as Error).message),
    );
    // Class indices in a .npy file are checked too.
    writeFileSync(join(dir, 'targets.npy'), writeNpy({ dtype: 'int64', shape: [1], data: BigInt64Array.from([10n]) }));
    const file = await grad(['ten.onnx', '--random', 'normal', '--loss', 'cross-entropy', '--target', 'targets.npy']);
    assert.equal(file.code, 2, file.err);
    assert.match(file.err, /class index 10 is out of range/);
  });

  it('the default check is one joint direction over all tensors, shows its cost, and passes a correct gradient', async () => {
    const { code, out, err } = await grad(['convnet.onnx', '--random', 'normal', '--seed', '3', '--loss', 'cross-entropy', '--target', '2', '--json']);
    assert.equal(code, 0, err);
    const report = JSON.parse(out) as GradReport;
    assert.equal(report.check?.method, 'joint');
    assert.equal(report.check?.sampled, report.params.length);
    assert.equal(report.check?.verdict, 'fine', JSON.stringify(report.check));
    assert.deepEqual({ ...report.check?.joint, relError: 0 }, { relError: 0, tensors: 4, passed: true, threshold: 5e-3 });
    assert.ok(report.check!.joint!.relError < 5e-3);
    // Every tensor says that the joint check judged it, and carries the joint error, not one of its own.
    assert.ok(report.params.every((p) => p.check?.verdict === 'fine' && p.check.method === 'joint' && p.check.maxRelError === report.check!.joint!.relError), JSON.stringify(report.params.map((p) => p.check)));
    assert.ok(typeof report.timing?.checkMs === 'number' && report.timing.checkMs > 0);
    // Its two forward runs ran inside the gradient run, so no session of its own was opened.
    assert.equal(report.timing?.checkRunsInRun, 2);
    assert.equal(report.timing?.checkRuns, 2);
    assert.equal(report.timing?.checkSessionMs, 0);
    const text = await grad(['convnet.onnx', '--random', 'normal', '--seed', '3', '--loss', 'cross-entropy', '--target', '2']);
    assert.match(text.out, /numerical check: one joint random direction over all 4 tensors, relative error .*: passed, so every tensor passed \(joint check; .*its 2 forward runs ran inside the gradient run \(\d+(\.\d+)? m?s in all\), then it took \d+(\.\d+)? m?s, of \d+(\.\d+)? m?s\)/);
    const coords = await grad(['convnet.onnx', '--random', 'normal', '--seed', '3', '--loss', 'cross-entropy', '--target', '2', '--check', '3', '--json']);
    const byCoords = JSON.parse(coords.out) as GradReport;
    assert.equal(byCoords.check?.method, 'coordinates');
    assert.equal(byCoords.check?.sampled, 12);
  });

  it('the default check fails a planted wrong gradient rule and names the broken tensors', async () => {
    const rules = gradRules as Record<string, RuleEntry>;
    const relu = rules.Relu!;
    const conv = rules.Conv!;
    const model = readOnnxFile(join(dir, 'convnet.onnx'));
    const options = { loss: 'cross-entropy' as const, target: { kind: 'class' as const, index: 2 }, random: 'normal' as const, seed: 3 };
    /** A Conv rule whose gradient for input `index` (1: weight, 2: bias) comes out twice too large. */
    const doubled = (index: number): RuleEntry => ({
      ...conv,
      rule: (ctx) => conv.rule(ctx).map((g, i) => (i === index && g ? ctx.e.op('Mul', [g, ctx.e.constF(2)]) : g)),
    });
    const localised = (r: GradReport): void => {
      assert.equal(r.check?.joint?.passed, false, JSON.stringify(r.check));
      // The gradient graph's joint stage failed; the retry and the per-tensor stage ran in the loss graph's session,
      // on weights the worker read from the model's file.
      assert.equal(r.timing?.checkRunsInRun, 2);
      assert.ok(r.timing!.checkRuns! > 2 && r.timing!.checkSessionMs! > 0, JSON.stringify(r.timing));
      assert.equal(r.check?.method, 'direction');
      assert.ok(r.params.every((p) => p.check?.method === 'direction'));
    };
    try {
      // ReLU passing the gradient everywhere, as if it were the identity.
      rules.Relu = { ...relu, rule: (ctx) => [ctx.gy[0]!] };
      const wrongRelu = await runGradProbe(model, options);
      localised(wrongRelu);
      assert.equal(wrongRelu.check?.verdict, 'wrong', JSON.stringify(wrongRelu.params.map((p) => [p.name, p.check])));
      assert.ok(wrongRelu.diagnostics?.some((d) => d.kind === 'gradient-check' && /failed/.test(d.message)));
      // The ReLUs sit after the convolutions: the tensors upstream of them are wrong, the classifier is not.
      assert.equal(wrongRelu.params.find((p) => p.name === 'fc.weight')?.check?.verdict, 'fine');
      rules.Relu = relu;
      rules.Conv = doubled(1);
      const wrongConv = await runGradProbe(model, options);
      localised(wrongConv);
      assert.deepEqual(Object.fromEntries(wrongConv.params.map((p) => [p.name, p.check?.verdict])), {
        'conv1.weight': 'wrong',
        'conv1.bias': 'fine',
        'conv2.weight': 'wrong',
        'fc.weight': 'fine',
      });
      // The smallest tensor (four biases, 4 of 199 parameters): the joint direction weighs every tensor alike, so
      // a wrong gradient there is not hidden behind the large ones.
      rules.Conv = doubled(2);
      const wrongBias = await runGradProbe(model, options);
      localised(wrongBias);
      assert.deepEqual(wrongBias.params.filter((p) => p.check?.verdict !== 'fine').map((p) => [p.name, p.check?.verdict]), [['conv1.bias', 'wrong']]);
      assert.ok(wrongBias.diagnostics?.some((d) => d.kind === 'gradient-check' && d.node === 'conv1.bias' && /failed/.test(d.message)));
    } finally {
      rules.Relu = relu;
      rules.Conv = conv;
    }
    const correct = await runGradProbe(model, options);
    assert.equal(correct.check?.verdict, 'fine');
    assert.equal(correct.check?.method, 'joint');
  });
});
