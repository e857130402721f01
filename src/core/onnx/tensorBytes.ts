import { UserInputError } from '../errors';
import { decodeValues } from '../ir/tensorData';
import type { Tensor } from '../ir/types';
import { expectedByteLength } from './decoder';
import { pipeFileRange, readFileRange } from './fileSource';

/**
 * Loading a tensor's actual bytes. Analysis never calls this; the runtime, the writer and constant folding of large
 * constants do, when they really need values.
 */

/** The tensor's raw little-endian bytes, read from the model or external-data file when they are not inline. */
export function readTensorBytes(tensor: Tensor): Uint8Array {
  const data = tensor.data;
  switch (data.kind) {
    case 'inline':
      return data.bytes;
    case 'file':
      try {
        return readFileRange(data.path, data.offset, data.length);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        throw new UserInputError(`cannot read the data of tensor '${tensor.name}' from ${data.path}: ${why}`);
      }
    case 'strings':
      throw new UserInputError(`tensor '${tensor.name}' holds strings, which have no raw byte layout`);
  }
}

/**
 * The tensor's values as numbers: a Float32Array for float32 tensors (the common case, without a per-element copy
 * into a JavaScript array), plain numbers otherwise. int64 values beyond 2^53 lose precision.
 */
export function readTensorValues(tensor: Tensor): Float32Array | number[] {
  const bytes = readTensorBytes(tensor);
  const expected = expectedByteLength(tensor.dtype, tensor.dims);
  if (expected !== undefined && bytes.length !== expected) {
    // Decoding would silently give too few or too many values; a damaged file should say so instead.
    throw new UserInputError(
      `tensor '${tensor.name}' has ${bytes.length} bytes of data, but ${tensor.dtype} [${tensor.dims.join(', ')}] needs ${expected}`,
    );
  }
  if (tensor.dtype === 'float32') {
    const n = Math.floor(bytes.byteLength / 4);
    if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
    return new Float32Array(bytes.slice(0, n * 4).buffer);
  }
  return decodeValues(tensor.dtype, bytes);
}

/**
 * A float parameter's values in a typed array of its own (a copy, never a view on the file's bytes), float64 for
 * float64 tensors and float32 otherwise: what the gradient probe perturbs and measures.
 */
export function readParameterValues(tensor: Tensor): Float32Array | Float64Array {
  const values = readTensorValues(tensor);
  return tensor.dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values);
}

/** A copy of the tensor with its data loaded inline (string tensors are returned unchanged). */
export function inlineTensor(tensor: Tensor): Tensor {
  if (tensor.data.kind !== 'file') return tensor;
  return { ...tensor, data: { kind: 'inline', bytes: readTensorBytes(tensor) } };
}

/**
 * Passes a tensor's bytes to `write` in pieces (a file range is streamed, inline bytes go in one call), for writers
 * that copy weights without holding a whole tensor in memory. The pieces may reuse one buffer; copy them to keep them.
 */
export function pipeTensorBytes(tensor: Tensor, write: (bytes: Uint8Array) => void): void {
  const data = tensor.data;
  if (data.kind !== 'file') {
    write(readTensorBytes(tensor));
    return;
  }
  try {
    pipeFileRange(data.path, data.offset, data.length, write);
  } catch (e) {
    if (!(e instanceof RangeError) && !(e as NodeJS.ErrnoException).code) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw new UserInputError(`cannot read the data of tensor '${tensor.name}' from ${data.path}: ${why}`);
  }
}
