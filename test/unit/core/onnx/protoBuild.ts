import { ProtoWriter } from '../../../../src/core/onnx/wire';

/**
 * Hand encoding of ONNX messages for tests, independent of the project's writer, so that the reader is tested against
 * field layouts the writer never produces (typed data fields, packed dims, unknown fields, missing type fields).
 * A message is a list of fields; nested messages are lists too.
 */
export type Field =
  | [number, 'varint', number]
  | [number, 'string', string]
  | [number, 'bytes', Uint8Array]
  | [number, 'float', number]
  | [number, 'double', number]
  | [number, 'packedVarints', number[]]
  | [number, 'packedFloats', number[]]
  | [number, 'packedDoubles', number[]]
  | [number, 'message', Field[]];

export function encode(fields: Field[], w = new ProtoWriter()): Uint8Array {
  write(w, fields);
  return w.finish();
}

function write(w: ProtoWriter, fields: Field[]): void {
  for (const f of fields) {
    const [num, kind] = f;
    switch (kind) {
      case 'varint':
        w.int64Field(num, f[2] as number);
        break;
      case 'string':
        w.stringField(num, f[2] as string);
        break;
      case 'bytes':
        w.bytesField(num, f[2] as Uint8Array);
        break;
      case 'float':
        w.tag(num, 5);
        w.float32(f[2] as number);
        break;
      case 'double': {
        w.tag(num, 1);
        const b = new Uint8Array(8);
        new DataView(b.buffer).setFloat64(0, f[2] as number, true);
        w.raw(b);
        break;
      }
      case 'packedVarints': {
        const inner = new ProtoWriter();
        for (const v of f[2] as number[]) inner.int64(v);
        w.bytesField(num, inner.finish());
        break;
      }
      case 'packedFloats': {
        const vals = f[2] as number[];
        const b = new Uint8Array(vals.length * 4);
        vals.forEach((v, i) => new DataView(b.buffer).setFloat32(i * 4, v, true));
        w.bytesField(num, b);
        break;
      }
      case 'packedDoubles': {
        const vals = f[2] as number[];
        const b = new Uint8Array(vals.length * 8);
        vals.forEach((v, i) => new DataView(b.buffer).setFloat64(i * 8, v, true));
        w.bytesField(num, b);
        break;
      }
      case 'message':
        w.begin(num);
        write(w, f[2] as Field[]);
        w.end();
        break;
    }
  }
}

/** A ModelProto around a graph's fields, with ir_version 8 and opset 17. */
export function modelOf(graphFields: Field[], extra: Field[] = []): Uint8Array {
  return encode([
    [1, 'varint', 8],
    [7, 'message', graphFields],
    [8, 'message', [[1, 'string', ''], [2, 'varint', 17]]],
    ...extra,
  ]);
}

/** A tensor-typed ValueInfoProto with the given dims (numbers become dim_value, strings dim_param). */
export function valueInfo(name: string, elemType: number, dims: (number | string | null)[]): Field {
  return [
    11,
    'message',
    [
      [1, 'string', name],
      [
        2,
        'message',
        [
          [
            1,
            'message',
            [
              [1, 'varint', elemType],
              [
                2,
                'message',
                dims.map((d): Field => [1, 'message', d === null ? [] : typeof d === 'number' ? [[1, 'varint', d]] : [[2, 'string', d]]]),
              ],
            ],
          ],
        ],
      ],
    ],
  ];
}
