import { byteSize } from './dtypes';
import type { DataType, Tensor } from './types';

/**
 * Encoding and decoding of tensor bytes. Bytes are little-endian and packed exactly as ONNX's raw_data field holds
 * them, so that inline tensors, file ranges and the writer all agree on one layout.
 */

export type NumericArray = Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | number[];

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Encode numbers as the raw bytes of `dtype`. int64/uint64 values must be safe integers (or ±2^63 sentinels). */
export function encodeValues(dtype: DataType, values: ArrayLike<number>): Uint8Array {
  const n = values.length;
  const out = new Uint8Array(byteSize(dtype, n));
  const view = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    switch (dtype) {
      case 'float32':
        view.setFloat32(i * 4, v, true);
        break;
      case 'float64':
        view.setFloat64(i * 8, v, true);
        break;
      case 'float16':
        view.setUint16(i * 2, float32ToFloat16Bits(v), true);
        break;
      case 'bfloat16':
        view.setUint16(i * 2, float32ToBfloat16Bits(v), true);
        break;
      case 'int8':
        view.setInt8(i, v);
        break;
      case 'uint8':
        view.setUint8(i, v);
        break;
      case 'bool':
        view.setUint8(i, v ? 1 : 0);
        break;
      case 'int16':
        view.setInt16(i * 2, v, true);
        break;
      case 'uint16':
        view.setUint16(i * 2, v, true);
        break;
      case 'int32':
        view.setInt32(i * 4, v, true);
        break;
      case 'uint32':
        view.setUint32(i * 4, v, true);
        break;
      case 'int64':
        view.setBigInt64(i * 8, clampBigInt(v, -(2n ** 63n), 2n ** 63n - 1n), true);
        break;
      case 'uint64':
        view.setBigUint64(i * 8, clampBigInt(v, 0n, 2n ** 64n - 1n), true);
        break;
      default:
        throw new Error(`cannot encode values of type ${dtype}`);
    }
  }
  return out;
}

function clampBigInt(v: number, lo: bigint, hi: bigint): bigint {
  if (!Number.isFinite(v)) return v > 0 ? hi : lo;
  const b = BigInt(Math.trunc(v));
  return b < lo ? lo : b > hi ? hi : b;
}

/**
 * Decode raw little-endian bytes into numbers. int64 values beyond 2^53 lose precision, which is harmless for the
 * sentinels (INT64_MAX as "to the end") that shape code uses them for.
 */
export function decodeValues(dtype: DataType, bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  const step = Math.max(1, byteSize(dtype, 1));
  const n = Math.floor(bytes.byteLength / step);
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case 'float32':
        out.push(view.getFloat32(i * 4, true));
        break;
      case 'float64':
        out.push(view.getFloat64(i * 8, true));
        break;
      case 'float16':
        out.push(float16BitsToFloat32(view.getUint16(i * 2, true)));
        break;
      case 'bfloat16':
        out.push(bfloat16BitsToFloat32(view.getUint16(i * 2, true)));
        break;
      case 'int8':
        out.push(view.getInt8(i));
        break;
      case 'uint8':
      case 'bool':
        out.push(view.getUint8(i));
        break;
      case 'int16':
        out.push(view.getInt16(i * 2, true));
        break;
      case 'uint16':
        out.push(view.getUint16(i * 2, true));
        break;
      case 'int32':
        out.push(view.getInt32(i * 4, true));
        break;
      case 'uint32':
        out.push(view.getUint32(i * 4, true));
        break;
      case 'int64':
        out.push(Number(view.getBigInt64(i * 8, true)));
        break;
      case 'uint64':
        out.push(Number(view.getBigUint64(i * 8, true)));
        break;
      default:
        throw new Error(`cannot decode values of type ${dtype}`);
    }
  }
  return out;
}

/** A tensor with inline bytes, for tests, the writer's callers and constant folding. */
export function makeTensor(name: string, dtype: DataType, dims: number[], values: ArrayLike<number>): Tensor {
  if (values.length !== elementCount(dims)) {
    throw new Error(`tensor '${name}': ${values.length} values for dims [${dims.join(', ')}]`);
  }
  return { name, dtype, dims: [...dims], data: { kind: 'inline', bytes: encodeValues(dtype, values) } };
}

/** Values of a tensor whose bytes are inline; undefined for file-backed or string tensors. */
export function inlineValues(tensor: Tensor): number[] | undefined {
  if (tensor.data.kind !== 'inline') return undefined;
  return decodeValues(tensor.dtype, tensor.data.bytes);
}

export function float16BitsToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

export function float32ToFloat16Bits(value: number): number {
  const f32 = new Float32Array([value]);
  const x = new Uint32Array(f32.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant = (mant | 0x800000) >> (1 - e);
    return sign | ((mant + 0x1000) >> 13);
  }
  const half = sign | (e << 10) | (mant >> 13);
  // Round to nearest; a carry into the exponent is the correct result.
  return mant & 0x1000 ? half + 1 : half;
}

export function bfloat16BitsToFloat32(b: number): number {
  const u = new Uint32Array([b << 16]);
  return new Float32Array(u.buffer)[0];
}

export function float32ToBfloat16Bits(value: number): number {
  const f = new Float32Array([value]);
  const u = new Uint32Array(f.buffer)[0];
  if (Number.isNaN(value)) return 0x7fc0;
  const rounding = 0x7fff + ((u >>> 16) & 1);
  return ((u + rounding) >>> 16) & 0xffff;
}
