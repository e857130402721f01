import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readOnnxBytes, readOnnxFile } from '../../../../src/core/onnx/reader';
import { readTensorBytes, readTensorValues } from '../../../../src/core/onnx/tensorBytes';
import { encodeValues, float32ToBfloat16Bits, float32ToFloat16Bits } from '../../../../src/core/ir/tensorData';
import { makeTempDir } from './helpers';
import type { Field } from './protoBuild';
import { modelOf, valueInfo } from './protoBuild';

function tensorField(name: string, dtypeCode: number, dims: number[], data: Field[], packedDims = false): Field {
  return [
    5,
    'message',
    [...(packedDims ? [[1, 'packedVarints', dims] as Field] : dims.map((d): Field => [1, 'varint', d])), [2, 'varint', dtypeCode], [8, 'string', name], ...data],
  ];
}

function readInitializers(tensors: Field[]) {
  const model = readOnnxBytes(modelOf([[2, 'string', 'g'], ...tensors]));
  return new Map(model.graph.initializers.map((t) => [t.name, t]));
}

describe('core/onnx typed data fields', () => {
  it('converts float_data (packed and unpacked) and double_data to raw bytes', () => {
    const t = readInitializers([
      tensorField('packed', 1, [3], [[4, 'packedFloats', [1.5, -2, 3.25]]]),
      tensorField('unpacked', 1, [2], [[4, 'float', 0.5], [4, 'float', -0.25]]),
      tensorField('dbl', 11, [2], [[10, 'packedDoubles', [Math.PI, -1e300]]]),
      tensorField('complex', 14, [1], [[4, 'packedFloats', [1, 2]]]),
    ]);
    assert.deepEqual(Array.from(readTensorValues(t.get('packed')!)), [1.5, -2, 3.25]);
    assert.deepEqual(Array.from(readTensorValues(t.get('unpacked')!)), [0.5, -0.25]);
    assert.deepEqual(readTensorValues(t.get('dbl')!), [Math.PI, -1e300]);
    assert.equal(readTensorBytes(t.get('complex')!).length, 8);
  });

  it('converts int32_data to each narrow type\'s bit pattern', () => {
    const t = readInitializers([
      tensorField('i32', 6, [2], [[5, 'packedVarints', [-7, 2 ** 31 - 1]]]),
      tensorField('i8', 3, [2], [[5, 'packedVarints', [-5, 100]]]),
      tensorField('u8', 2, [2], [[5, 'varint', 255], [5, 'varint', 0]]),
      tensorField('bool', 9, [3], [[5, 'packedVarints', [1, 0, 1]]]),
      tensorField('i16', 5, [1], [[5, 'packedVarints', [-300]]]),
      tensorField('u16', 4, [1], [[5, 'packedVarints', [65535]]]),
      tensorField('f16', 10, [2], [[5, 'packedVarints', [float32ToFloat16Bits(1.5), float32ToFloat16Bits(-2)]]]),
      tensorField('bf16', 16, [1], [[5, 'packedVarints', [float32ToBfloat16Bits(-3)]]]),
      tensorField('u4', 21, [4], [[5, 'packedVarints', [0x21, 0x43]]]),
    ]);
    assert.deepEqual(readTensorValues(t.get('i32')!), [-7, 2 ** 31 - 1]);
    assert.deepEqual(readTensorValues(t.get('i8')!), [-5, 100]);
    assert.deepEqual(readTensorValues(t.get('u8')!), [255, 0]);
    assert.deepEqual(Array.from(readTensorBytes(t.get('bool')!)), [1, 0, 1]);
    assert.deepEqual(readTensorValues(t.get('i16')!), [-300]);
    assert.deepEqual(readTensorValues(t.get('u16')!), [65535]);
    assert.deepEqual(readTensorValues(t.get('f16')!), [1.5, -2]);
    assert.deepEqual(readTensorValues(t.get('bf16')!), [-3]);
    assert.deepEqual(Array.from(readTensorBytes(t.get('u4')!)), [0x21, 0x43]);
  });

  it('converts int64_data and uint64_data exactly, beyond 2^53 included', () => {
    const t = readInitializers([
      tensorField('i64', 7, [4], [[7, 'packedVarints', [-1, 2 ** 40, -(2 ** 63), 2 ** 63]]], true),
      tensorField('i64u', 7, [1], [[7, 'varint', 5]]),
      tensorField('u64', 13, [1], [[11, 'packedVarints', [2 ** 52]]]),
      tensorField('u32', 12, [2], [[11, 'packedVarints', [4294967295, 7]]]),
    ]);
    const i64 = readTensorBytes(t.get('i64')!);
    const view = new DataView(i64.buffer, i64.byteOffset, i64.byteLength);
    assert.equal(view.getBigInt64(0, true), -1n);
    assert.equal(view.getBigInt64(8, true), 2n ** 40n);
    assert.equal(view.getBigInt64(16, true), -(2n ** 63n));
    assert.equal(view.getBigInt64(24, true), 2n ** 63n - 1n, 'INT64_MAX survives exactly in the bytes');
    assert.deepEqual(t.get('i64')!.dims, [4], 'packed dims');
    assert.deepEqual(readTensorValues(t.get('i64u')!), [5]);
    assert.deepEqual(readTensorValues(t.get('u64')!), [2 ** 52]);
    assert.deepEqual(readTensorValues(t.get('u32')!), [4294967295, 7]);
  });

  it('reads string_data as a strings tensor', () => {
    const t = readInitializers([tensorField('s', 8, [2], [[6, 'string', 'ab'], [6, 'string', 'ü']])]);
    const s = t.get('s')!;
    assert.equal(s.data.kind, 'strings');
    if (s.data.kind === 'strings') assert.deepEqual(s.data.values.map((v) => new TextDecoder().decode(v)), ['ab', 'ü']);
  });

  it('skips unknown fields of every wire type at every level', () => {
    const unknown: Field[] = [
      [99, 'varint', 123456789],
      [98, 'string', 'ignored'],
      [97, 'float', 1],
      [96, 'double', 2],
    ];
    const bytes = modelOf(
      [
        [1, 'message', [[1, 'string', 'x'], [2, 'string', 'y'], [4, 'string', 'Relu'], ...unknown]],
        [2, 'string', 'g'],
        ...unknown,
        tensorField('k', 1, [1], [[4, 'float', 3], ...unknown]),
        valueInfo('x', 1, [1, 'N', null]),
      ],
      unknown,
    );
    const model = readOnnxBytes(bytes);
    assert.equal(model.graph.nodes[0].opType, 'Relu');
    assert.deepEqual(Array.from(readTensorValues(model.graph.initializers[0])), [3]);
    assert.deepEqual(model.graph.inputs[0].type, { kind: 'tensor', tensor: { dtype: 'float32', shape: [1, 'N', null] } });
  });

  it('infers an attribute\'s type when the file omits the type field (IR version 1)', () => {
    const bytes = modelOf([
      [
        1,
        'message',
        [
          [1, 'string', 'x'],
          [2, 'string', 'y'],
          [4, 'string', 'Transpose'],
          [5, 'message', [[1, 'string', 'perm'], [8, 'varint', 1], [8, 'varint', 0]]],
          [5, 'message', [[1, 'string', 'alpha'], [2, 'float', 0.5]]],
          [5, 'message', [[1, 'string', 'packed'], [8, 'packedVarints', [3, -4]]]],
        ],
      ],
    ]);
    const attrs = readOnnxBytes(bytes).graph.nodes[0].attributes;
    assert.deepStrictEqual(attrs, [
      { name: 'perm', type: 'ints', value: [1, 0] },
      { name: 'alpha', type: 'float', value: 0.5 },
      { name: 'packed', type: 'ints', value: [3, -4] },
    ]);
  });
});

describe('core/onnx typed data in files', () => {
  let tmp: { dir: string; cleanup: () => void };
  beforeEach(() => {
    tmp = makeTempDir();
  });
  afterEach(() => tmp.cleanup());

  it('leaves large packed float_data and double_data in the file, like raw_data, and keeps integer constants inline', () => {
    const floats = Array.from({ length: 5000 }, (_, i) => i / 4);
    const file = path.join(tmp.dir, 'typed.onnx');
    fs.writeFileSync(
      file,
      modelOf([
        tensorField('f', 1, [5000], [[4, 'packedFloats', floats]]),
        tensorField('d', 11, [300], [[10, 'packedDoubles', floats.slice(0, 300)]]),
        tensorField('idx', 7, [1000], [[9, 'bytes', encodeValues('int64', Array.from({ length: 1000 }, (_, i) => i - 500))]]),
      ]),
    );
    const model = readOnnxFile(file);
    const [f, d, idx] = model.graph.initializers;
    assert.equal(f.data.kind, 'file');
    assert.equal(d.data.kind, 'file');
    assert.deepEqual(Array.from(readTensorValues(f)), floats);
    assert.deepEqual(readTensorValues(d), floats.slice(0, 300));
    assert.equal(idx.data.kind, 'inline', '8000 bytes of int64 indices stay inline');
    assert.deepEqual(readTensorValues(idx).slice(0, 3), [-500, -499, -498]);
  });

  it('readTensorValues refuses data whose length does not match dims and dtype', () => {
    const model = readOnnxBytes(modelOf([tensorField('short', 1, [4], [[9, 'bytes', new Uint8Array(12)]])]));
    assert.throws(() => readTensorValues(model.graph.initializers[0]), /'short' has 12 bytes of data, but float32 \[4\] needs 16/);
  });
});
