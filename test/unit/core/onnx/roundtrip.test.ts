import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readOnnxBytes, readOnnxFile } from '../../../../src/core/onnx/reader';
import { pipeFileRange } from '../../../../src/core/onnx/fileSource';
import { readTensorBytes, readTensorValues } from '../../../../src/core/onnx/tensorBytes';
import { writeOnnx, writeOnnxFile } from '../../../../src/core/onnx/writer';
import { makeTensor } from '../../../../src/core/ir/tensorData';
import type { Attribute, Graph } from '../../../../src/core/ir/types';
import { richModel } from './fixtures';
import { makeTempDir, normalizeModel } from './helpers';

function attr(g: Graph, node: string, name: string): Attribute {
  const n = g.nodes.find((x) => x.name === node);
  assert.ok(n, `node ${node}`);
  const a = n.attributes.find((x) => x.name === name);
  assert.ok(a, `attribute ${node}.${name}`);
  return a;
}

describe('core/onnx round trip', () => {
  let tmp: { dir: string; cleanup: () => void };
  beforeEach(() => {
    tmp = makeTempDir();
  });
  afterEach(() => tmp.cleanup());

  it('write then read from memory gives the same IR', () => {
    const model = richModel();
    const back = readOnnxBytes(writeOnnx(model));
    assert.deepStrictEqual(normalizeModel(back), normalizeModel(model));
  });

  it('write then read from a file gives the same IR, with large weights left in the file', () => {
    const model = richModel();
    const file = path.join(tmp.dir, 'rich.onnx');
    fs.writeFileSync(file, writeOnnx(model));
    const back = readOnnxFile(file, { inlineLimitBytes: 64 });
    assert.equal(back.path, file);
    assert.deepStrictEqual(normalizeModel(back), normalizeModel(model));
    const w = back.graph.initializers.find((t) => t.name === 'w');
    assert.ok(w);
    assert.equal(w.data.kind, 'file');
    if (w.data.kind === 'file') {
      assert.equal(w.data.path, file);
      assert.equal(w.data.length, 216 * 4);
    }
    // Shape constants stay inline because shape folding reads them.
    assert.equal(back.graph.initializers.find((t) => t.name === 'shape')?.data.kind, 'inline');
  });

  it('a model read from a file writes back byte-identically', () => {
    const first = writeOnnx(richModel());
    const file = path.join(tmp.dir, 'rich.onnx');
    fs.writeFileSync(file, first);
    const second = writeOnnx(readOnnxFile(file, { inlineLimitBytes: 16 }));
    assert.deepStrictEqual(second, first);
  });

  it('keeps int64 sentinels: 2^63 becomes INT64_MAX on disk and 2^63 again in the IR', () => {
    const back = readOnnxBytes(writeOnnx(richModel()));
    assert.deepStrictEqual(attr(back.graph, 'custom', 'big_int'), { name: 'big_int', type: 'int', value: 2 ** 63 });
    assert.deepStrictEqual(attr(back.graph, 'custom', 'small_int'), { name: 'small_int', type: 'int', value: -(2 ** 63) });
    const shape = back.graph.initializers.find((t) => t.name === 'shape');
    assert.ok(shape);
    assert.deepEqual(readTensorValues(shape), [-1, 2 ** 40]);
  });

  it('parses subgraphs recursively, including a graph nested two levels deep', () => {
    const back = readOnnxBytes(writeOnnx(richModel()));
    const thenBranch = attr(back.graph, 'if', 'then_branch');
    assert.equal(thenBranch.type, 'graph');
    if (thenBranch.type === 'graph') {
      assert.equal(thenBranch.value.name, 'then');
      assert.deepEqual(thenBranch.value.nodes.map((n) => n.opType), ['Mul']);
      assert.deepEqual(readTensorValues(thenBranch.value.initializers[0]), new Float32Array([2]));
    }
    const body = attr(back.graph, 'loop', 'body');
    assert.equal(body.type, 'graph');
    if (body.type === 'graph') {
      const inner = attr(body.value, 'nested_if', 'else_branch');
      assert.equal(inner.type, 'graph');
      if (inner.type === 'graph') assert.equal(inner.value.nodes[0].opType, 'Identity');
    }
  });

  it('reads model-local functions with attribute defaults and ref attributes', () => {
    const back = readOnnxBytes(writeOnnx(richModel()));
    assert.equal(back.functions.length, 1);
    const fn = back.functions[0];
    assert.equal(fn.name, 'Scaled');
    assert.deepEqual(fn.attributes, ['factor']);
    assert.deepEqual(fn.attributeDefaults, [{ name: 'gain', type: 'float', value: 1 }]);
    assert.deepEqual(fn.nodes[0].attributes[0], { name: 'value_float', type: 'ref', refAttrName: 'factor', refType: 'float' });
  });

  it('reads sparse initializers, Constant nodes and string tensors', () => {
    const back = readOnnxBytes(writeOnnx(richModel()));
    const sp = back.graph.sparseInitializers[0];
    assert.equal(sp.values.name, 'sparse_init');
    assert.deepEqual(sp.dims, [5]);
    assert.deepEqual(readTensorValues(sp.indices), [1, 3]);
    const value = attr(back.graph, 'const_tensor', 'value');
    assert.equal(value.type, 'tensor');
    if (value.type === 'tensor') assert.deepEqual(readTensorValues(value.value), [7]);
    assert.deepStrictEqual(attr(back.graph, 'const_float', 'value_float'), { name: 'value_float', type: 'float', value: 0.5 });
    assert.deepStrictEqual(attr(back.graph, 'const_ints', 'value_ints'), { name: 'value_ints', type: 'ints', value: [1, -2, 3] });
    const labels = back.graph.initializers.find((t) => t.name === 'labels');
    assert.ok(labels && labels.data.kind === 'strings');
    if (labels.data.kind === 'strings') assert.deepEqual(labels.data.values.map((v) => new TextDecoder().decode(v)), ['cat', 'dög']);
  });

  it('reads value types and dims: symbolic, unknown, scalar, unranked, sequences, untyped values', () => {
    const back = readOnnxBytes(writeOnnx(richModel()));
    assert.deepStrictEqual(back.graph.inputs[0].type, { kind: 'tensor', tensor: { dtype: 'float32', shape: ['N', 3, null, 8] } });
    assert.deepStrictEqual(back.graph.inputs[1].type, { kind: 'tensor', tensor: { dtype: 'bool', shape: [] } });
    assert.equal(back.graph.inputs[2].type?.kind, 'sequence');
    assert.equal(back.graph.inputs[3].type, null);
  });

  it('writes large initializers as external data next to the output file, and reads them back', () => {
    const model = richModel();
    const file = path.join(tmp.dir, 'out.onnx');
    writeOnnxFile(model, file, { externalData: { thresholdBytes: 100 } });
    const dataFile = path.join(tmp.dir, 'out.onnx.data');
    assert.ok(fs.existsSync(dataFile));
    const back = readOnnxFile(file);
    const w = back.graph.initializers.find((t) => t.name === 'w');
    assert.ok(w && w.data.kind === 'file');
    if (w.data.kind === 'file') {
      assert.equal(w.data.path, fs.realpathSync(dataFile));
      assert.equal(w.data.external?.location, 'out.onnx.data');
      assert.equal(w.data.offset % 4096, 0);
    }
    assert.deepStrictEqual(normalizeModel(back), normalizeModel(model));
    // Small tensors stay in the protobuf.
    assert.equal(back.graph.initializers.find((t) => t.name === 'shape')?.data.kind, 'inline');
  });

  it('writeOnnxFile streams file-backed weights and writes the same bytes as writeOnnx', () => {
    const model = richModel();
    model.graph.initializers.push(makeTensor('huge', 'float32', [3, 100_000], Array.from({ length: 300_000 }, (_, i) => i % 97)));
    const source = path.join(tmp.dir, 'source.onnx');
    fs.writeFileSync(source, writeOnnx(model));
    const fromFile = readOnnxFile(source);
    assert.equal(fromFile.graph.initializers.find((t) => t.name === 'huge')?.data.kind, 'file');
    const copy = path.join(tmp.dir, 'copy.onnx');
    writeOnnxFile(fromFile, copy);
    assert.deepEqual(new Uint8Array(fs.readFileSync(copy)), writeOnnx(fromFile));
    assert.deepEqual(fs.readdirSync(tmp.dir).sort(), ['copy.onnx', 'source.onnx'], 'no temporary files left behind');
    // And as external data, streamed from the source file into the data file.
    const ext = path.join(tmp.dir, 'ext.onnx');
    writeOnnxFile(fromFile, ext, { externalData: { location: 'ext.weights' } });
    assert.deepStrictEqual(normalizeModel(readOnnxFile(ext)), normalizeModel(model));
  });

  it('writes initializers as references into a copy of their file beside the model, and reads them back', () => {
    const model = richModel();
    model.graph.initializers.push(makeTensor('huge', 'float32', [3, 1000], Array.from({ length: 3000 }, (_, i) => i % 97)));
    const source = path.join(tmp.dir, 'source.onnx');
    fs.writeFileSync(source, writeOnnx(model));
    const fromFile = readOnnxFile(source);
    const out = path.join(tmp.dir, 'out');
    fs.mkdirSync(out);
    fs.copyFileSync(source, path.join(out, 'weights.bin'));
    writeOnnxFile(fromFile, path.join(out, 'model.onnx'), {
      references: (t) => (t.name === 'huge' && t.data.kind === 'file' ? { location: 'weights.bin', offset: t.data.offset, length: t.data.length } : undefined),
    });
    // The model holds the reference, not the 12 kB.
    assert.ok(fs.statSync(path.join(out, 'model.onnx')).size < 12_000);
    const back = readOnnxFile(path.join(out, 'model.onnx'));
    const huge = back.graph.initializers.find((t) => t.name === 'huge')!;
    assert.equal(huge.data.kind === 'file' && huge.data.external?.location, 'weights.bin');
    assert.deepStrictEqual(normalizeModel(back), normalizeModel(model));
    assert.throws(
      () => writeOnnxFile(fromFile, path.join(out, 'bad.onnx'), { references: (t) => (t.name === 'huge' ? { location: '../source.onnx', offset: 0, length: 12_000 } : undefined) }),
      /bad external reference/,
    );
  });

  it('pipeFileRange passes a range in pieces that join to the range', () => {
    const file = path.join(tmp.dir, 'bytes.bin');
    const bytes = new Uint8Array(10_000).map((_, i) => (i * 31) & 0xff);
    fs.writeFileSync(file, bytes);
    const pieces: Uint8Array[] = [];
    pipeFileRange(file, 123, 9000, (p) => pieces.push(p.slice()), 1000);
    assert.equal(pieces.length, 9);
    assert.deepEqual(Buffer.concat(pieces), Buffer.from(bytes.subarray(123, 9123)));
    assert.throws(() => pipeFileRange(file, 9000, 2000, () => undefined), /past the end/);
  });

  it('refuses to overwrite the file a model reads its weights from', () => {
    const file = path.join(tmp.dir, 'm.onnx');
    fs.writeFileSync(file, writeOnnx(richModel()));
    const before = fs.readFileSync(file);
    const back = readOnnxFile(file);
    assert.throws(() => writeOnnxFile(back, file), /refusing to write/);
    assert.deepEqual(fs.readFileSync(file), before);
  });

  it('readTensorBytes reads a file range and readTensorValues decodes it', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i * 0.5);
    const model = richModel();
    model.graph.initializers.push(makeTensor('ramp', 'float32', [1000], values));
    const file = path.join(tmp.dir, 'ramp.onnx');
    fs.writeFileSync(file, writeOnnx(model));
    const ramp = readOnnxFile(file).graph.initializers.find((t) => t.name === 'ramp');
    assert.ok(ramp && ramp.data.kind === 'file');
    assert.equal(readTensorBytes(ramp).length, 4000);
    assert.deepEqual(Array.from(readTensorValues(ramp)), values);
  });
});
