import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GraphBuilder } from '../../../../src/core/ir/builder';
import type { Tensor } from '../../../../src/core/ir/types';
import { readOnnxFile } from '../../../../src/core/onnx/reader';
import type { ReadStats } from '../../../../src/core/onnx/reader';
import { readTensorValues } from '../../../../src/core/onnx/tensorBytes';
import { writeOnnx } from '../../../../src/core/onnx/writer';
import { makeTempDir } from './helpers';

/** A float32 tensor of `n` elements whose values are cheap to generate and to check (i mod 251, scaled). */
function ramp(name: string, dims: number[]): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = (i % 251) / 8;
  return { name, dtype: 'float32', dims, data: { kind: 'inline', bytes: new Uint8Array(values.buffer) } };
}

describe('core/onnx lazy reading', () => {
  let tmp: { dir: string; cleanup: () => void };
  before(() => {
    tmp = makeTempDir();
  });
  after(() => tmp.cleanup());

  it('opening a model with ~48 MB of weights reads a tiny fraction of the file', () => {
    // VGG-like: a conv stack, then big fully connected layers, weights written inside the protobuf as raw_data.
    const b = new GraphBuilder('vgg-ish');
    let x = b.input('input', 'float32', ['N', 3, 224, 224]);
    const convs = [
      [64, 3],
      [128, 64],
      [256, 128],
      [512, 256],
      [512, 512],
    ];
    convs.forEach(([out, inp], i) => {
      const w = b.addInitializer(ramp(`conv${i}.weight`, [out, inp, 3, 3]));
      const bias = b.addInitializer(ramp(`conv${i}.bias`, [out]));
      x = b.op('Conv', [x, w, bias], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
      x = b.op('Relu', [x]);
      x = b.op('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] });
    });
    x = b.op('Flatten', [x]);
    const fc = b.addInitializer(ramp('fc.weight', [1024, 512 * 7 * 7 / 2]));
    const shape = b.initializer('shape', 'int64', [2], [-1, 512 * 7 * 7 / 2]);
    x = b.op('Reshape', [x, shape]);
    x = b.op('Gemm', [x, fc], { transB: 1 });
    b.output(x, 'float32', ['N', 1024]);
    const file = path.join(tmp.dir, 'vgg.onnx');
    fs.writeFileSync(file, writeOnnx(b.model(17)));
    const size = fs.statSync(file).size;
    assert.ok(size > 40e6, `fixture is ${size} bytes`);

    const stats: ReadStats = { bytesRead: 0, reads: 0, fileSize: 0 };
    const model = readOnnxFile(file, { stats });
    assert.equal(stats.fileSize, size);
    assert.ok(stats.bytesRead < size * 0.01, `read ${stats.bytesRead} of ${size} bytes`);
    assert.ok(stats.bytesRead > 0);

    // Everything the analysis needs is there: nodes, shapes, the inline shape constant, weight ranges.
    assert.equal(model.graph.nodes.length, 18);
    const fcw = model.graph.initializers.find((t) => t.name === 'fc.weight');
    assert.ok(fcw && fcw.data.kind === 'file');
    assert.deepEqual(fcw.dims, [1024, 12544]);
    assert.equal(model.graph.initializers.find((t) => t.name === 'shape')?.data.kind, 'inline');
    // And the recorded ranges really point at the weights.
    const conv3 = model.graph.initializers.find((t) => t.name === 'conv3.bias');
    assert.ok(conv3);
    const values = readTensorValues(conv3);
    assert.equal(values.length, 512);
    assert.equal(values[300], (300 % 251) / 8);
  });

  it('reads a 100,000-node graph', function () {
    const b = new GraphBuilder('long');
    let x = b.input('x', 'float32', ['N', 16]);
    for (let i = 0; i < 100_000; i++) x = b.op(i % 2 ? 'Relu' : 'Neg', [x], {}, { name: `n${i}`, output: `v${i}` });
    b.output(x, 'float32', ['N', 16]);
    const file = path.join(tmp.dir, 'long.onnx');
    fs.writeFileSync(file, writeOnnx(b.model()));
    const model = readOnnxFile(file);
    assert.equal(model.graph.nodes.length, 100_000);
    assert.deepEqual(model.graph.nodes[99_999].inputs, ['v99998']);
    assert.equal(model.graph.outputs[0].name, 'v99999');
  });
});
