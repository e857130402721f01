import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isUserInputError } from '../../../../src/core/errors';
import { readOnnxBytes, readOnnxFile } from '../../../../src/core/onnx/reader';
import { sniffModelFormat } from '../../../../src/core/onnx/sniff';
import { writeOnnx } from '../../../../src/core/onnx/writer';
import { MemorySource, ProtoReader } from '../../../../src/core/onnx/wire';
import { GraphBuilder } from '../../../../src/core/ir/builder';
import type { Graph } from '../../../../src/core/ir/types';
import { richModel } from './fixtures';
import { makeTempDir } from './helpers';
import type { Field } from './protoBuild';
import { encode, modelOf, valueInfo } from './protoBuild';
import { SeededRandom } from '../../../../src/core/stats/random';

/** Asserts that `fn` throws a one-line UserInputError matching `pattern`. */
function assertUserError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isUserInputError(e), `expected a UserInputError, got ${e instanceof Error ? e.stack : String(e)}`);
    const message = (e as Error).message;
    assert.match(message, pattern);
    assert.ok(!message.includes('\n'), `one line: ${message}`);
    return true;
  });
}

/** A deterministic pseudo-random source, so failures reproduce. */
function random(seed: number): () => number {
  const rng = new SeededRandom(seed);
  return () => rng.uniform();
}

/** Absolute end of the top-level graph field (7), so tests know which prefixes cut into the graph. */
function graphEnd(bytes: Uint8Array): number {
  const r = new ProtoReader(new MemorySource(bytes));
  while (r.pos < bytes.length) {
    const tag = r.tag();
    if (tag === 7 * 8 + 2) return r.lengthEnd(bytes.length);
    r.skip(tag & 7, bytes.length);
  }
  throw new Error('no graph');
}

describe('core/onnx bad input', () => {
  let tmp: { dir: string; cleanup: () => void };
  beforeEach(() => {
    tmp = makeTempDir();
  });
  afterEach(() => tmp.cleanup());

  function file(name: string, bytes: Uint8Array | string): string {
    const p = path.join(tmp.dir, name);
    fs.writeFileSync(p, bytes);
    return p;
  }

  it('a missing file', () => {
    assertUserError(() => readOnnxFile(path.join(tmp.dir, 'nope.onnx')), /nope\.onnx: no such file/);
  });

  it('a directory', () => {
    assertUserError(() => readOnnxFile(tmp.dir), /is a directory/);
  });

  it('a device or pipe is refused before it is opened, so reading never blocks', function () {
    if (!fs.existsSync('/dev/null')) this.skip();
    assertUserError(() => readOnnxFile('/dev/null'), /\/dev\/null is not a regular file/);
  });

  it('a zero-length file, and empty bytes', () => {
    assertUserError(() => readOnnxFile(file('empty.onnx', new Uint8Array(0))), /empty\.onnx is empty \(0 bytes\)/);
    assertUserError(() => readOnnxBytes(new Uint8Array(0)), /empty/);
  });

  it('a NumPy .npy file', () => {
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
    const npy = Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY'), Buffer.from([1, 0, header.length, 0]), Buffer.from(header), Buffer.alloc(12)]);
    assertUserError(() => readOnnxFile(file('x.npy', npy)), /x\.npy is a NumPy \.npy file, not an ONNX model/);
  });

  it('a PyTorch zip checkpoint and a legacy pickle checkpoint', () => {
    const zip = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(26), Buffer.from('archive/data.pkl'), Buffer.alloc(64)]);
    assertUserError(() => readOnnxFile(file('model.pt', zip)), /model\.pt is a PyTorch checkpoint/);
    assertUserError(() => readOnnxFile(file('legacy.pth', Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c]))), /legacy\.pth is a Python pickle/);
  });

  it('a text file, and ONNX text format', () => {
    assertUserError(() => readOnnxFile(file('notes.onnx', 'hello world\n')), /notes\.onnx is a text file/);
    assertUserError(() => readOnnxFile(file('m.onnxtxt', '<\n  ir_version: 8\n>\ngraph (float[N] x) => (y) {}\n')), /ONNX text format/);
  });

  it('random bytes, for many seeds, always give a UserInputError', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const next = random(seed);
      const bytes = new Uint8Array(64 + Math.floor(next() * 4000)).map(() => Math.floor(next() * 256));
      // Half the cases start with a plausible ModelProto tag so that the parser, not the sniffer, must reject them.
      if (seed % 2 === 0) bytes[0] = 0x08;
      assertUserError(() => readOnnxBytes(bytes, { label: `random-${seed}` }), new RegExp(`random-${seed}`));
    }
    assertUserError(() => readOnnxFile(file('random.onnx', new Uint8Array(2048).map((_, i) => (i * 7919 + 13) & 0xff))), /random\.onnx/);
  });

  it('every truncation that cuts into the graph is a UserInputError; none crashes', () => {
    const bytes = writeOnnx(richModel());
    const end = graphEnd(bytes);
    let parsed = 0;
    for (let n = 1; n < bytes.length; n++) {
      const prefix = bytes.subarray(0, n);
      if (n < end) {
        assertUserError(() => readOnnxBytes(prefix, { label: 'cut.onnx' }), /cut\.onnx/);
      } else {
        // Past the graph, a cut at a field boundary is a valid (smaller) model; anything else must be a clean error.
        try {
          readOnnxBytes(prefix);
          parsed++;
        } catch (e) {
          assert.ok(isUserInputError(e), String(e));
        }
      }
    }
    assert.ok(parsed < 20, `${parsed} truncated prefixes parsed`);
  });

  it('randomly corrupted models either read (and write back) or give a UserInputError, never another error', () => {
    const base = writeOnnx(richModel());
    const next = random(2024);
    let read = 0;
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      const bytes = base.slice();
      const flips = 1 + Math.floor(next() * 4);
      for (let j = 0; j < flips; j++) bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
      try {
        const model = readOnnxBytes(bytes);
        read++;
        readOnnxBytes(writeOnnx(model));
      } catch (e) {
        assert.ok(isUserInputError(e), `mutation ${i}: ${e instanceof Error ? e.stack : String(e)}`);
        refused++;
      }
    }
    // Both outcomes occur, so the test really exercises the error paths and the success path.
    assert.ok(read > 100 && refused > 100, `read ${read}, refused ${refused}`);
  });

  it('a truncated file with large weights names the file and says it is truncated', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', [1, 1000]);
    const w = b.initializer('w', 'float32', [1000, 1000], new Float32Array(1_000_000));
    b.output(b.op('MatMul', [x, w]));
    const bytes = writeOnnx(b.model());
    const p = file('cut.onnx', bytes.subarray(0, Math.floor(bytes.length / 2)));
    assertUserError(() => readOnnxFile(p), /cut\.onnx is not a valid ONNX model \(truncated or damaged/);
  });

  it('a model without a graph', () => {
    assertUserError(() => readOnnxBytes(encode([[1, 'varint', 8]]), { label: 'nograph.onnx' }), /nograph\.onnx has no graph/);
  });

  it('a tensor dim that is negative or at least 2^53', () => {
    const tensor = (dim: number): Field => [5, 'message', [[1, 'varint', dim], [2, 'varint', 1], [8, 'string', 'bad_w']]];
    assertUserError(() => readOnnxBytes(modelOf([tensor(-3)]), { label: 'neg.onnx' }), /neg\.onnx: tensor 'bad_w' has dimension -3/);
    assertUserError(() => readOnnxBytes(modelOf([tensor(2 ** 53)])), /tensor 'bad_w' has dimension 9007199254740992/);
  });

  it('a value dim that is negative or at least 2^53', () => {
    assertUserError(() => readOnnxBytes(modelOf([valueInfo('inp', 1, [1, -1])])), /value 'inp' has dimension -1/);
    assertUserError(() => readOnnxBytes(modelOf([valueInfo('inp', 1, [2 ** 60])])), /value 'inp' has dimension/);
  });

  it('graphs nested too deep are refused without blowing the stack', () => {
    // A chain of Loop bodies, each holding the next, 100 levels deep.
    let chain: Graph = new GraphBuilder('leaf').build();
    for (let i = 0; i < 100; i++) {
      const b = new GraphBuilder(`level${i}`);
      b.node('Loop', [], { body: chain }, { outputs: [] });
      chain = b.build();
    }
    const model = new GraphBuilder('top').model();
    model.graph = chain;
    assertUserError(() => readOnnxBytes(writeOnnx(model)), /nested more than 32 levels/);
  });

  it('a deeply nested type (sequence of sequence of ...) is refused', () => {
    let t: Field[] = [[1, 'message', [[1, 'varint', 1]]]];
    for (let i = 0; i < 100; i++) t = [[4, 'message', [[1, 'message', t]]]];
    const vi: Field = [11, 'message', [[1, 'string', 'deep'], [2, 'message', t]]];
    assertUserError(() => readOnnxBytes(modelOf([vi])), /nested more than 32 levels/);
  });

  it('a length field claiming gigabytes fails fast without allocating', () => {
    // Tag for graph (field 7), then a varint length of 2^40.
    const bytes = new Uint8Array([0x08, 0x08, 0x3a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x00]);
    assertUserError(() => readOnnxBytes(bytes), /runs past the end/);
  });

  it('sniffs formats from their first bytes', () => {
    assert.equal(sniffModelFormat(new Uint8Array([0x08, 0x07, 0x12])).format, 'onnx');
    assert.equal(sniffModelFormat(new Uint8Array([0xca, 0x01, 0x00])).format, 'onnx');
    assert.equal(sniffModelFormat(new Uint8Array(0)).format, 'empty');
    assert.equal(sniffModelFormat(Buffer.from('\x93NUMPY\x01\x00', 'latin1')).format, 'npy');
    assert.equal(sniffModelFormat(Buffer.from('PK\x03\x04xxxx', 'latin1')).format, 'zip');
    assert.equal(sniffModelFormat(Buffer.from([0x80, 0x04, 0x95])).format, 'pickle');
    assert.equal(sniffModelFormat(Buffer.from('{"a": 1}')).format, 'json');
    assert.equal(sniffModelFormat(Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])).format, 'hdf5');
    assert.equal(sniffModelFormat(Buffer.from([0x1f, 0x8b, 0x08])).format, 'gzip');
    assert.equal(sniffModelFormat(Buffer.from([0x18, 0, 0, 0, 0x54, 0x46, 0x4c, 0x33])).format, 'tflite');
    assert.equal(sniffModelFormat(Buffer.from([0xff, 0x00, 0x13])).format, 'unknown');
  });
});
