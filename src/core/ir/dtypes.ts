import type { DataType } from './types';

/**
 * ONNX's TensorProto.DataType numbers, in the order onnx.proto declares them. The index is the wire value.
 */
export const DATA_TYPES_BY_CODE: readonly DataType[] = [
  'undefined',
  'float32',
  'uint8',
  'int8',
  'uint16',
  'int16',
  'int32',
  'int64',
  'string',
  'bool',
  'float16',
  'float64',
  'uint32',
  'uint64',
  'complex64',
  'complex128',
  'bfloat16',
  'float8e4m3fn',
  'float8e4m3fnuz',
  'float8e5m2',
  'float8e5m2fnuz',
  'uint4',
  'int4',
  'float4e2m1',
];

export function dataTypeFromCode(code: number): DataType | undefined {
  return DATA_TYPES_BY_CODE[code];
}

export function dataTypeCode(dtype: DataType): number {
  return DATA_TYPES_BY_CODE.indexOf(dtype);
}

/**
 * Size of one element in bits. Strings have no fixed size and report 0; 4-bit types pack two elements per byte.
 */
export function bitsPerElement(dtype: DataType): number {
  switch (dtype) {
    case 'float64':
    case 'int64':
    case 'uint64':
    case 'complex64':
      return 64;
    case 'complex128':
      return 128;
    case 'float32':
    case 'int32':
    case 'uint32':
      return 32;
    case 'float16':
    case 'bfloat16':
    case 'int16':
    case 'uint16':
      return 16;
    case 'int8':
    case 'uint8':
    case 'bool':
    case 'float8e4m3fn':
    case 'float8e4m3fnuz':
    case 'float8e5m2':
    case 'float8e5m2fnuz':
      return 8;
    case 'int4':
    case 'uint4':
    case 'float4e2m1':
      return 4;
    case 'string':
    case 'undefined':
      return 0;
  }
}

/** Bytes needed to store `count` elements, rounding packed 4-bit types up to whole bytes. */
export function byteSize(dtype: DataType, count: number): number {
  return Math.ceil((bitsPerElement(dtype) * count) / 8);
}

/** Float types count as parameters when they are initializers (docs/json-contract.md: float, double, float16, bfloat16). */
export function isParameterType(dtype: DataType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
}

export function isFloatType(dtype: DataType): boolean {
  return isParameterType(dtype) || dtype.startsWith('float8') || dtype === 'float4e2m1';
}

export function isIntegerType(dtype: DataType): boolean {
  return /^u?int(4|8|16|32|64)$/.test(dtype);
}
