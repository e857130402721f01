import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PNG } from 'pngjs';
import { GraphBuilder } from '../../../src/core/ir/builder';
import type { Model } from '../../../src/core/ir/types';
import { writeNpy } from '../../../src/core/npy/npy';
import { isUserInputError } from '../../../src/core/errors';
import { SeededRandom } from '../../../src/core/stats/random';
import { computeTensorStats } from '../../../src/core/stats/tensorStats';
import { probeModel } from '../../../src/runtime/probe';
import { makeProbeFolder, planProbe, prepareProbeModels } from '../../../src/runtime/probePlan';
import { readOnnxFile } from '../../../src/core/onnx/reader';
import { writeOnnx } from '../../../src/core/onnx/writer';

/** x [N, 6] → MatMul W1 [6, 5] → Relu → MatMul W2 [5, 3] → Tanh, plus a Sigmoid side branch. */
function mlp(w1: number[], w2: number[]): Model {
  const b = new GraphBuilder('mlp');
  const x = b.input('x', 'float32', ['N', 6]);
  const W1 = b.initializer('W1', 'float32', [6, 5], w1);
  const W2 = b.initializer('W2', 'float32', [5, 3], w2);
  const h = b.op('MatMul', [x, W1], {}, { name: 'fc1' });
  const r = b.op('Relu', [h], {}, { name: 'relu1' });
  const g = b.op('MatMul', [r, W2], {}, { name: 'fc2' });
  const t = b.op('Tanh', [g], {}, { name: 'tanh' });
  const s = b.op('Sigmoid', [h], {}, { name: 'gate' });
  b.output(t, 'float32', ['N', 3]);
  b.output(s, 'float32', ['N', 5]);
  return b.model(13);
}

/** The same network in plain JavaScript, float32 rounding at each op as onnxruntime does. */
function forward(x: Float32Array, n: number, w1: number[], w2: number[]): Record<string, Float32Array> {
  const mm = (a: Float32Array, w: number[], k: number, m: number): Float32Array => {
    const out = new Float32Array(n * m);
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += a[i * k + q]! * Math.fround(w[q * m + j]!);
      out[i * m + j] = s;
    }
    return out;
  };
  const fc1 = mm(x, w1, 6, 5);
  const relu1 = fc1.map((v) => Math.max(0, v));
  const fc2 = mm(relu1, w2, 5, 3);
  return { fc1, relu1, fc2, tanh: fc2.map(Math.tanh), gate: fc1.map((v) => 1 / (1 + Math.exp(-v))) };
}

describe('runtime/probe', function () {
  this.timeout(60_000);
  const rng = new SeededRandom(3);
  const w1 = Array.from({ length: 30 }, () => rng.normal());
  const w2 = Array.from({ length: 15 }, () => rng.normal());
  const model = mlp(w1, w2);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'ls-probe-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('probes every float node output in graph order and matches a JavaScript forward pass', async () => {
    const n = 64;
    const x = new Float32Array(n * 6);
    new SeededRandom(9).fillNormal(x);
    writeFileSync(join(dir, 'x.npy'), writeNpy({ dtype: 'float32', shape: [n, 6], data: x }));
    const { report } = await probeModel(model, { sources: [{ kind: 'npy', name: 'x', path: join(dir, 'x.npy') }], provider: 'cpu', bins: 16 });
    assert.equal(report.executionProvider, 'cpu');
    assert.deepEqual(report.layers.map((l) => l.name), ['fc1', 'relu1', 'fc2', 'tanh', 'gate']);
    assert.deepEqual(report.layers.map((l) => l.op), ['MatMul', 'Relu', 'MatMul', 'Tanh', 'Sigmoid']);
    const ref = forward(x, n, w1, w2);
    for (const layer of report.layers) {
      const expected = computeTensorStats(ref[layer.name]!, { bins: 16, saturation: layer.op === 'Tanh' ? 'tanh' : layer.op === 'Sigmoid' ? 'sigmoid' : 'none' });
      for (const key of ['mean', 'std', 'min', 'max', 'p01', 'p50', 'p99'] as const) {
        const a = layer.stats[key];
        const e = expected.stats[key];
        assert.ok(Math.abs(a - e) <= 1e-4 * Math.max(1, Math.abs(e)), `${layer.name}.${key}: ${a} vs ${e}`);
      }
      assert.equal(layer.stats.count, expected.stats.count);
      assert.equal(layer.stats.fracZero, expected.stats.fracZero);
      assert.equal(layer.histogram.counts.length, 16);
    }
    assert.deepEqual(report.layers[1]!.shape, [64, 5]);
    assert.ok(report.timing.totalMs > 0);
  });

  it('splits the values over several sessions under a small budget and gets the same figures', async () => {
    const plan = planProbe(model, { inputShapes: { x: [32, 6] }, budgetBytes: 1000 });
    // fc1, relu1 and gate are 32×5×4 = 640 bytes each, fc2 and tanh 384: no two of the larger ones fit in 1000 bytes.
    assert.ok(plan.groups.length >= 3, `groups: ${plan.groups.length}`);
    for (const g of plan.groups) assert.ok(g.reduce((a, v) => a + v.estimatedBytes, 0) <= 1000 || g.length === 1);
    const one = await probeModel(model, { batch: 32, seed: 5, provider: 'cpu' });
    const many = await probeModel(model, { batch: 32, seed: 5, provider: 'cpu', budgetBytes: 1000 });
    assert.equal(many.report.timing.sessions, plan.groups.length);
    assert.equal(one.report.timing.sessions, 1);
    assert.deepEqual(
      many.report.layers.map((l) => l.stats),
      one.report.layers.map((l) => l.stats),
    );
  });

  it('probes a model read from a file through a copy with the outputs appended, never touching the file', async () => {
    const file = join(dir, 'mlp.onnx');
    writeFileSync(file, writeOnnx(model));
    const before = readFileSync(file);
    const fromFile = readOnnxFile(file);
    const plan = planProbe(fromFile, { inputShapes: { x: [16, 6] } });
    const prepared = prepareProbeModels(fromFile, plan);
    try {
      const copy = readFileSync(prepared.groups[0]!.modelPath);
      assert.notEqual(prepared.groups[0]!.modelPath, file);
      assert.equal(prepared.groups[0]!.temporaryCopy, true);
      // The copy is the file's bytes, then one more ModelProto.graph field (tag 0x3a) that adds the outputs.
      assert.deepEqual(copy.subarray(0, before.length), before);
      assert.equal(copy[before.length], 0x3a);
    } finally {
      prepared.dispose();
    }
    // The values that are already graph outputs (tanh, gate) are not added twice, or onnxruntime would refuse the model.
    const a = await probeModel(fromFile, { batch: 16, seed: 2, provider: 'cpu' });
    const b = await probeModel(model, { batch: 16, seed: 2, provider: 'cpu' });
    assert.deepEqual(a.report.layers.map((l) => l.name), ['fc1', 'relu1', 'fc2', 'tanh', 'gate']);
    assert.deepEqual(a.report.layers, b.report.layers);
    assert.deepEqual(readFileSync(file), before);
  });

  it('puts probe copies in memory (/dev/shm) when there is room, and in the temporary folder otherwise', () => {
    const small = makeProbeFolder(1024);
    const huge = makeProbeFolder(1e15);
    try {
      const shm = process.platform === 'linux' && existsSync('/dev/shm');
      assert.equal(dirname(small), shm ? '/dev/shm' : tmpdir());
      assert.equal(dirname(huge), tmpdir());
      for (const d of [small, huge]) assert.deepEqual(readdirSync(d), []);
    } finally {
      rmSync(small, { recursive: true, force: true });
      rmSync(huge, { recursive: true, force: true });
    }
  });

  it('writes probe copies with the writer for models that were not read from a self-contained .onnx file', () => {
    const plan = planProbe(model, { inputShapes: { x: [16, 6] } });
    for (const m of [model, { ...model, format: 'python' as const, path: join(dir, 'net.py') }]) {
      const prepared = prepareProbeModels(m, plan);
      try {
        const written = readOnnxFile(prepared.groups[0]!.modelPath);
        assert.deepEqual(written.graph.outputs.map((o) => o.name), plan.values.map((v) => v.value));
      } finally {
        prepared.dispose();
      }
    }
  });

  it('probes only the chosen values, and rejects unknown names', async () => {
    const { report } = await probeModel(model, { provider: 'cpu', select: ['relu1', 'tanh_output_0'] });
    assert.deepEqual(report.layers.map((l) => l.name), ['relu1', 'tanh']);
    await assert.rejects(probeModel(model, { provider: 'cpu', select: ['nope'] }), (e: unknown) => isUserInputError(e) && /'nope'/.test((e as Error).message));
  });

  it('is reproducible for a seed and different across seeds', async () => {
    const a = await probeModel(model, { provider: 'cpu', seed: 1, batch: 8, random: 'uniform' });
    const b = await probeModel(model, { provider: 'cpu', seed: 1, batch: 8, random: 'uniform' });
    const c = await probeModel(model, { provider: 'cpu', seed: 2, batch: 8, random: 'uniform' });
    assert.deepEqual(a.report.layers[0]!.stats, b.report.layers[0]!.stats);
    assert.notDeepEqual(a.report.layers[0]!.stats, c.report.layers[0]!.stats);
    assert.deepEqual(a.report.layers[0]!.shape, [8, 5]);
  });

  it('feeds an image resized and normalised into an NCHW input', async () => {
    const b = new GraphBuilder('img');
    const x = b.input('image', 'float32', [1, 3, 4, 4]);
    const y = b.op('Relu', [x], {}, { name: 'relu' });
    b.output(y, 'float32', [1, 3, 4, 4]);
    const png = new PNG({ width: 8, height: 8 });
    png.data.fill(255);
    writeFileSync(join(dir, 'white.png'), PNG.sync.write(png));
    const { report } = await probeModel(b.model(13), { provider: 'cpu', sources: [{ kind: 'image', path: join(dir, 'white.png') }] });
    const s = report.layers[0]!.stats;
    // White normalised with ImageNet statistics: (1 − 0.406) / 0.225 = 2.64 is the largest channel value.
    assert.ok(Math.abs(s.max - (1 - 0.406) / 0.225) < 1e-4);
    assert.ok(Math.abs(s.min - (1 - 0.485) / 0.229) < 1e-4);
  });

  it('rejects inputs that do not fit the model with a user error', async () => {
    writeFileSync(join(dir, 'bad.npy'), writeNpy({ dtype: 'float32', shape: [2, 7], data: new Float32Array(14) }));
    await assert.rejects(probeModel(model, { provider: 'cpu', sources: [{ kind: 'npy', path: join(dir, 'bad.npy') }] }), (e: unknown) => isUserInputError(e) && /does not fit input 'x'/.test((e as Error).message));
    await assert.rejects(probeModel(model, { provider: 'cpu', sources: [{ kind: 'npy', name: 'y', path: join(dir, 'bad.npy') }] }), (e: unknown) => isUserInputError(e) && /no input named 'y'/.test((e as Error).message));
    await assert.rejects(probeModel(model, { provider: 'cpu', sources: [{ kind: 'npy', path: join(dir, 'missing.npy') }] }), (e: unknown) => isUserInputError(e) && /no such file/.test((e as Error).message));
  });
});
