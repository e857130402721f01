import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../../src/core/ir/builder';
import { makeTensor } from '../../../src/core/ir/tensorData';
import { readOnnxFile, writeOnnx } from '../../../src/core/onnx';
import { writeOnnxFile } from '../../../src/core/onnx/writer';
import { readParameterValues } from '../../../src/core/onnx/tensorBytes';
import { copyWeightsBeside } from '../../../src/runtime/gradRunner';

/**
 * The gradient graph's weights as external data in a copy of the model's file (runtime/gradRunner.ts): the weights
 * read from the file are referenced, not written again, while tensors held in memory (the backward graph's own
 * constants, which ResNet-18's has) go into the graph as before, and the graph reads back with the same values.
 */
describe('runtime: the gradient graph references its weights in a copy of the model file', () => {
  let dir = '';
  before(() => (dir = mkdtempSync(join(tmpdir(), 'layerscope-weights-copy-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('references the file-backed weights, writes in-memory ones, and reads back the same values', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 64]);
    const w = b.initializer('fc.weight', 'float32', [32, 64], Array.from({ length: 2048 }, (_, i) => Math.sin(i)));
    b.output(b.op('Gemm', [x, w], { transB: 1 }, { output: 'y' }), 'float32', [1, 32]);
    const source = join(dir, 'model.onnx');
    writeFileSync(source, writeOnnx(b.model(13)));
    const model = readOnnxFile(source);
    assert.equal(model.graph.initializers[0]!.data.kind, 'file');
    // A large constant held in memory, as the backward builder adds them.
    const constant = makeTensor('grad/const', 'float32', [600], Array.from({ length: 600 }, (_, i) => i));
    const withConstant = { ...model, graph: { ...model.graph, initializers: [...model.graph.initializers, constant] } };
    const probe = join(dir, 'probe');
    mkdirSync(probe);
    const copied = copyWeightsBeside(withConstant, probe);
    assert.ok(copied, 'the weights come from one file, so they are copied');
    assert.deepEqual(readFileSync(copied.file), readFileSync(source));
    assert.ok(copied.references(model.graph.initializers[0]!));
    assert.equal(copied.references(constant), undefined);
    const graphFile = join(probe, 'backward.onnx');
    writeOnnxFile(withConstant, graphFile, { references: copied.references });
    // The 8 kB weight is referenced; the 2.4 kB constant is in the graph.
    assert.ok(statSync(graphFile).size < 4000, `${statSync(graphFile).size} bytes`);
    const back = readOnnxFile(graphFile);
    const weight = back.graph.initializers.find((t) => t.name === 'fc.weight')!;
    assert.equal(weight.data.kind === 'file' && weight.data.external?.location, 'weights.bin');
    assert.deepEqual(readParameterValues(weight), readParameterValues(model.graph.initializers[0]!));
    assert.deepEqual(readParameterValues(back.graph.initializers.find((t) => t.name === 'grad/const')!), readParameterValues(constant));
    assert.ok(existsSync(copied.file));
  });

  it('copies nothing where every weight is held in memory', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 64]);
    const w = b.initializer('fc.weight', 'float32', [32, 64], Array.from({ length: 2048 }, (_, i) => Math.sin(i)));
    b.output(b.op('Gemm', [x, w], { transB: 1 }, { output: 'y' }), 'float32', [1, 32]);
    assert.equal(copyWeightsBeside(b.model(13), dir), undefined);
  });
});
