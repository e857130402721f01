import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../../src/core/ir/builder';
import { writeNpy } from '../../../src/core/npy/npy';
import { writeOnnx } from '../../../src/core/onnx/writer';
import { parseProbeArgs, runProbeCommand } from '../../../src/cli/probeCommand';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runProbeCommand(argv, { stdout: (t) => (out += t), stderr: { write: (t: string) => (err += t) } });
  return { code, out, err };
}

describe('cli/probeCommand', function () {
  this.timeout(60_000);
  let dir: string;
  let modelPath: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ls-cli-probe-'));
    const b = new GraphBuilder('net');
    const x = b.input('input', 'float32', ['N', 4]);
    const w = b.initializer('fc.weight', 'float32', [4, 10], Array.from({ length: 40 }, (_, i) => Math.cos(i) * 0.1));
    const h = b.op('MatMul', [x, w], {}, { name: '/fc/MatMul' });
    const r = b.op('Relu', [h], {}, { name: '/relu/Relu' });
    const y = b.op('MatMul', [r, b.initializer('out.weight', 'float32', [10, 10], Array.from({ length: 100 }, (_, i) => Math.sin(i) * 0.01))], {}, { name: '/out/MatMul' });
    b.output(y, 'float32', ['N', 10]);
    modelPath = join(dir, 'net.onnx');
    writeFileSync(modelPath, writeOnnx(b.model(13)));
    writeFileSync(join(dir, 'x.npy'), writeNpy({ dtype: 'float64', shape: [3, 4], data: new Float64Array(12).map((_, i) => i - 6) }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('parses the contract options', () => {
    const p = parseProbeArgs(['m.onnx', '--input', 'input=x.npy', '--input-shape', '1x3x8x8', '--ep=cpu', '--bins', '32', '--budget-mb', '16', '--seed', '7', '--random', 'uniform', '--json', '--image', 'a.png', '--mean', '0.5,0.5,0.5']);
    assert.equal(p.model, 'm.onnx');
    assert.equal(p.json, true);
    assert.deepEqual(p.options.sources, [{ kind: 'npy', path: 'x.npy', name: 'input' }, { kind: 'image', path: 'a.png', mean: [0.5, 0.5, 0.5] }]);
    assert.deepEqual(p.options.shapes, { '': [1, 3, 8, 8] });
    assert.equal(p.options.provider, 'cpu');
    assert.equal(p.options.bins, 32);
    assert.equal(p.options.budgetBytes, 16 * 1024 * 1024);
    assert.equal(p.options.seed, 7);
    assert.equal(p.options.random, 'uniform');
  });

  it('prints exactly one JSON document with the contract fields', async () => {
    const { code, out } = await run([modelPath, '--input', join(dir, 'x.npy'), '--ep', 'cpu', '--json']);
    assert.equal(code, 0);
    const report = JSON.parse(out);
    assert.deepEqual(Object.keys(report).sort(), ['diagnostics', 'executionProvider', 'layers', 'timing']);
    assert.equal(report.executionProvider, 'cpu');
    assert.equal(typeof report.timing.totalMs, 'number');
    assert.deepEqual(report.layers.map((l: { name: string }) => l.name), ['/fc/MatMul', '/relu/Relu', '/out/MatMul']);
    const relu = report.layers[1];
    assert.deepEqual(Object.keys(relu), ['name', 'op', 'output', 'shape', 'stats', 'histogram']);
    assert.deepEqual(Object.keys(relu.stats), ['count', 'mean', 'std', 'min', 'max', 'fracZero', 'fracSaturated', 'p01', 'p50', 'p99']);
    assert.deepEqual(relu.shape, [3, 10]);
    assert.equal(relu.histogram.counts.length, 64);
    assert.equal(relu.histogram.edges.length, 65);
    // The classifier-shaped output gets the initial-loss check.
    assert.ok(report.diagnostics.some((d: { kind: string; node: string }) => d.kind === 'initial-loss' && d.node === '/out/MatMul'));
  });

  it('prints a readable table without --json', async () => {
    const { code, out } = await run([modelPath, '--input-shape', 'input=2x4', '--ep', 'cpu', '--bins', '8']);
    assert.equal(code, 0);
    assert.match(out, /execution provider: cpu/);
    assert.match(out, /\/relu\/Relu\s+Relu\s+2×10/);
  });

  it('exits 2 with one line for unusable input', async () => {
    for (const argv of [[join(dir, 'missing.onnx')], [modelPath, '--ep', 'tpu'], [modelPath, '--input', join(dir, 'nope.npy')], [], [modelPath, '--bogus'], [modelPath, '--input', 'other=' + join(dir, 'x.npy')]]) {
      const { code, out, err } = await run(argv);
      assert.equal(code, 2, `argv ${argv.join(' ')}: ${err}`);
      assert.equal(out, '');
      assert.equal(err.trim().split('\n').length, 1, err);
      assert.match(err, /^layerscope probe: /);
    }
  });

  it('probes a PyTorch source file through the Python front end', async () => {
    const py = join(dir, 'net.py');
    writeFileSync(
      py,
      [
        'import torch',
        'import torch.nn as nn',
        '',
        '',
        '# layerscope: input 8x3x16x16',
        'class Net(nn.Module):',
        '    def __init__(self):',
        '        super().__init__()',
        '        self.conv = nn.Conv2d(3, 8, 3, padding=1)',
        '        self.act = nn.ReLU()',
        '        self.pool = nn.AdaptiveAvgPool2d(1)',
        '        self.fc = nn.Linear(8, 10)',
        '',
        '    def forward(self, x):',
        '        x = self.pool(self.act(self.conv(x)))',
        '        return self.fc(torch.flatten(x, 1))',
        '',
      ].join('\n'),
    );
    const { code, out, err } = await run([py, '--ep', 'cpu', '--json']);
    assert.equal(code, 0, err);
    const report = JSON.parse(out);
    const relu = report.layers.find((l: { op: string }) => l.op === 'Relu');
    assert.deepEqual(relu.shape, [8, 8, 16, 16]);
    assert.ok(relu.stats.fracZero > 0.2 && relu.stats.fracZero < 0.8);
    assert.ok(report.diagnostics.some((d: { kind: string }) => d.kind === 'initial-loss'));
    const missing = await run([join(dir, 'nope.py')]);
    assert.equal(missing.code, 2);
  });
});
