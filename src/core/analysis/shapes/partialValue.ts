import type { ConstValue } from '../types';
import type { DataType, Dim, Tensor } from '../../ir/types';
import { elementCount, inlineValues } from '../../ir/tensorData';
import { isIntegerType } from '../../ir/dtypes';

/**
 * A small tensor whose elements are partly known at analysis time. Shape subgraphs (Shape -> Gather -> Concat ->
 * Reshape) carry dims, and a dim may be symbolic, so an element is a number, a symbol such as "N", or null. Only
 * values whose elements are all numbers become result.constants.
 */
export interface PartialValue {
  dtype: DataType;
  dims: number[];
  values: Dim[];
}

/** Decodes an inline tensor when it is small enough to fold; file-backed weights are never read. */
export function valueFromTensor(tensor: Tensor, maxElements: number): PartialValue | undefined {
  if (tensor.data.kind !== 'inline') return undefined;
  if (tensor.dtype === 'string' || tensor.dtype.startsWith('complex')) return undefined;
  if (elementCount(tensor.dims) > maxElements) return undefined;
  let values: number[] | undefined;
  try {
    values = inlineValues(tensor);
  } catch {
    return undefined;
  }
  if (!values || values.length !== elementCount(tensor.dims)) return undefined;
  return { dtype: tensor.dtype, dims: [...tensor.dims], values };
}

export function isFullyKnown(v: PartialValue): boolean {
  return v.values.every((x) => typeof x === 'number');
}

/** The value's elements when all are numbers. */
export function numericValues(v: PartialValue | undefined): number[] | undefined {
  if (!v) return undefined;
  for (const x of v.values) if (typeof x !== 'number') return undefined;
  return v.values as number[];
}

export function toConstValue(v: PartialValue): ConstValue | undefined {
  const values = numericValues(v);
  return values ? { dtype: v.dtype, dims: [...v.dims], values: [...values] } : undefined;
}

/** Rounds a folded number to what the element type can hold, so integer shape arithmetic stays integral. */
export function castNumber(x: number, dtype: DataType): number {
  if (dtype === 'bool') return x ? 1 : 0;
  if (isIntegerType(dtype)) return Number.isFinite(x) ? Math.trunc(x) : x;
  if (dtype === 'float32') return Math.fround(x);
  return x;
}

/**
 * Applies `fn` elementwise with numpy broadcasting over small partial values whose output dims are known. The caller
 * has already checked that the total size is small.
 */
export function foldBroadcast(inputs: readonly PartialValue[], outDims: readonly number[], fn: (xs: Dim[]) => Dim): Dim[] {
  const rank = outDims.length;
  const total = outDims.reduce((a, b) => a * b, 1);
  // Per-input strides aligned to the output's rank, zero where the input broadcasts.
  const strides = inputs.map((v) => {
    const s = new Array<number>(rank).fill(0);
    let acc = 1;
    for (let i = v.dims.length - 1; i >= 0; i--) {
      const o = rank - v.dims.length + i;
      s[o] = v.dims[i] === 1 ? 0 : acc;
      acc *= v.dims[i];
    }
    return s;
  });
  const out: Dim[] = new Array<Dim>(total);
  const index = new Array<number>(rank).fill(0);
  const args: Dim[] = new Array<Dim>(inputs.length);
  for (let flat = 0; flat < total; flat++) {
    for (let k = 0; k < inputs.length; k++) {
      let off = 0;
      for (let i = 0; i < rank; i++) off += index[i] * strides[k][i];
      args[k] = inputs[k].values[off];
    }
    out[flat] = fn(args);
    for (let i = rank - 1; i >= 0; i--) {
      if (++index[i] < outDims[i]) break;
      index[i] = 0;
    }
  }
  return out;
}
