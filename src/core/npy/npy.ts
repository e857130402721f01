import { UserInputError } from '../errors';

/**
 * NumPy's .npy format (format versions 1.0, 2.0 and 3.0), for the probe inputs a user saves with `np.save`.
 *
 * Only the element types a model input plausibly has are accepted (float32, float64, int64, uint8), always in C order,
 * because those are the layouts onnxruntime takes without a copy. Anything else gets a one-line UserInputError that
 * names the file, rather than silently reinterpreting bytes.
 */

export type NpyDtype = 'float32' | 'float64' | 'int64' | 'uint8';

export type NpyData = Float32Array | Float64Array | BigInt64Array | Uint8Array;

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

const DESCR_TO_DTYPE: Record<string, NpyDtype> = {
  '<f4': 'float32',
  '<f8': 'float64',
  '<i8': 'int64',
  '|u1': 'uint8',
  '<u1': 'uint8',
  '>u1': 'uint8',
  '=u1': 'uint8',
};

const DTYPE_TO_DESCR: Record<NpyDtype, string> = {
  float32: '<f4',
  float64: '<f8',
  int64: '<i8',
  uint8: '|u1',
};

const BYTES: Record<NpyDtype, number> = { float32: 4, float64: 8, int64: 8, uint8: 1 };

/** Parses a .npy file's bytes. `label` (usually the file name) goes into error messages. */
export function readNpy(bytes: Uint8Array, label = '.npy file'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new UserInputError(`${label}: not a NumPy .npy file (missing the \\x93NUMPY magic)`);
  }
  const major = bytes[6]!;
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = bytes[8]! | (bytes[9]! << 8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new UserInputError(`${label}: truncated .npy header`);
    headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
    headerStart = 12;
  } else {
    throw new UserInputError(`${label}: unsupported .npy format version ${major}.${bytes[7]}`);
  }
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) throw new UserInputError(`${label}: truncated .npy header`);
  // Version 3 only differs from 2 by allowing UTF-8 in the header; latin1 is what versions 1 and 2 use.
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));
  const { descr, fortranOrder, shape } = parseHeader(header, label);

  const dtype = DESCR_TO_DTYPE[descr];
  if (!dtype) {
    throw new UserInputError(
      `${label}: unsupported .npy dtype '${descr}'; use float32, float64, int64 or uint8 (little-endian), for example x.astype(np.float32)`,
    );
  }
  if (fortranOrder) {
    throw new UserInputError(`${label}: the array is stored in Fortran order; save it with np.save(path, np.ascontiguousarray(x))`);
  }
  let count = 1;
  for (const d of shape) count *= d;
  const byteLength = count * BYTES[dtype];
  if (bytes.length - dataStart < byteLength) {
    throw new UserInputError(
      `${label}: truncated .npy data: shape (${shape.join(', ')}) needs ${byteLength} bytes, the file has ${bytes.length - dataStart}`,
    );
  }
  // Copy into a fresh, aligned buffer: the data offset is rarely a multiple of 8 in the file's own buffer.
  // Buffer.prototype.slice does not copy, so copy explicitly.
  const copy = new Uint8Array(byteLength);
  copy.set(bytes.subarray(dataStart, dataStart + byteLength));
  const buffer = copy.buffer;
  const data: NpyData =
    dtype === 'float32'
      ? new Float32Array(buffer, 0, count)
      : dtype === 'float64'
        ? new Float64Array(buffer, 0, count)
        : dtype === 'int64'
          ? new BigInt64Array(buffer, 0, count)
          : new Uint8Array(buffer, 0, count);
  return { dtype, shape, data };
}

function parseHeader(header: string, label: string): { descr: string; fortranOrder: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) {
    throw new UserInputError(`${label}: malformed .npy header`);
  }
  const dims = shape[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => Number(s.replace(/L$/, '')));
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new UserInputError(`${label}: malformed shape in .npy header: (${shape[1]})`);
  }
  return { descr: descr[1]!, fortranOrder: fortran[1] === 'True', shape: dims };
}

/** Encodes an array as a .npy file (version 1.0 unless the header needs more room), C order, little-endian. */
export function writeNpy(array: NpyArray): Uint8Array {
  const { dtype, shape, data } = array;
  let count = 1;
  for (const d of shape) count *= d;
  if (data.length !== count) throw new Error(`writeNpy: ${data.length} elements for shape (${shape.join(', ')})`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${DTYPE_TO_DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // NumPy pads the header with spaces and a final newline so that the data starts on a 64-byte boundary.
  let version = 1;
  let prefix = 10;
  let total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  if (total - prefix > 0xffff) {
    version = 2;
    prefix = 12;
    total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  }
  const headerText = dict + ' '.repeat(total - prefix - dict.length - 1) + '\n';
  const dataBytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(total + dataBytes.length);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, total - prefix, true);
  else view.setUint32(8, total - prefix, true);
  for (let i = 0; i < headerText.length; i++) out[prefix + i] = headerText.charCodeAt(i);
  out.set(dataBytes, total);
  return out;
}

/** The array's elements as doubles, for statistics and for inputs of another float type. */
export function npyToFloat64(array: NpyArray): Float64Array {
  const out = new Float64Array(array.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Number(array.data[i]!);
  return out;
}
