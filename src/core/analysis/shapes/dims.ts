import type { Dim } from '../../ir/types';
import { mismatch } from './mismatch';

/**
 * Arithmetic on dimensions that may be known numbers, symbols ("N") or unknown (null). Symbols survive only where
 * the result is provably the same symbol (N * 1, a broadcast against 1); any other arithmetic on a symbol gives null,
 * because inventing expressions would make shapes harder to read and compare than an honest "unknown".
 */

export function isKnown(d: Dim | undefined): d is number {
  return typeof d === 'number';
}

/** A shape as people read it: [N, 3, ?, 224]. */
export function formatShape(shape: readonly Dim[] | null | undefined): string {
  if (!shape) return '[?]';
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/** The product of dims: a number when all are known, the symbol when it is the only factor other than 1s. */
export function dimProduct(dims: readonly Dim[]): Dim {
  let n = 1;
  let symbol: string | null = null;
  let symbols = 0;
  for (const d of dims) {
    if (d === null) return null;
    if (typeof d === 'string') {
      symbols++;
      symbol = d;
    } else n *= d;
  }
  if (symbols === 0) return n;
  if (n === 0) return 0;
  return symbols === 1 && n === 1 ? symbol : null;
}

export function addDims(a: Dim, b: Dim): Dim {
  if (isKnown(a) && isKnown(b)) return a + b;
  if (b === 0) return a;
  if (a === 0) return b;
  return null;
}

export function mulDims(a: Dim, b: Dim): Dim {
  if (isKnown(a) && isKnown(b)) return a * b;
  if (a === 1) return b;
  if (b === 1) return a;
  if (a === 0 || b === 0) return 0;
  return null;
}

/** Integer division when it is exact (splitting a known size); null when not known. */
export function divDims(a: Dim, b: Dim): Dim {
  if (isKnown(a) && isKnown(b)) return b !== 0 && a % b === 0 ? a / b : null;
  if (b === 1) return a;
  return null;
}

/**
 * Two dims that must be equal (Concat's other axes, an elementwise op without broadcasting). Known numbers win over
 * symbols and unknowns; two different numbers are a mismatch.
 */
export function mergeDims(a: Dim, b: Dim, what: () => string): Dim {
  if (a === b) return a;
  if (a === null) return b;
  if (b === null) return a;
  if (isKnown(a) && isKnown(b)) return mismatch(`${what()}: ${a} differs from ${b}`);
  if (isKnown(a)) return a;
  if (isKnown(b)) return b;
  return a;
}

/** One dimension of ONNX's multidirectional (numpy) broadcasting. */
export function broadcastDim(a: Dim, b: Dim, what: () => string): Dim {
  if (a === b) return a;
  if (a === 1) return b;
  if (b === 1) return a;
  if (isKnown(a) && isKnown(b)) return mismatch(`${what()}: dims ${a} and ${b} cannot broadcast`);
  if (isKnown(a)) return a;
  if (isKnown(b)) return b;
  return null;
}

/** Multidirectional broadcasting of several shapes; null when any rank is unknown. */
export function broadcastShapes(shapes: ReadonlyArray<readonly Dim[] | null>, what = 'inputs'): Dim[] | null {
  let rank = 0;
  for (const s of shapes) {
    if (!s) return null;
    rank = Math.max(rank, s.length);
  }
  const out: Dim[] = new Array<Dim>(rank).fill(1);
  for (const s of shapes) {
    const offset = rank - s!.length;
    for (let i = 0; i < s!.length; i++) {
      out[offset + i] = broadcastDim(out[offset + i], s![i], () =>
        `${what} ${shapes.map((x) => formatShape(x)).join(' and ')} do not broadcast`,
      );
    }
  }
  return out;
}

/** An axis in [-rank, rank) made non-negative; out of range is a mismatch. */
export function normalizeAxis(axis: number, rank: number, what = 'axis'): number {
  if (axis < -rank || axis >= rank) mismatch(`${what} ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

export function normalizeAxes(axes: readonly number[], rank: number, what = 'axes'): number[] {
  const out = axes.map((a) => normalizeAxis(a, rank, what));
  if (new Set(out).size !== out.length) mismatch(`${what} [${axes.join(', ')}] repeat an axis`);
  return out;
}

export function unknownDims(rank: number): Dim[] {
  return new Array<Dim>(rank).fill(null);
}
