import { MAX_NODE_ARITY, MAX_RANK } from '../../limits';
import type { Dim } from '../../ir/types';
import { mismatch } from './mismatch';
import { formatShape } from '../../format';

/**
 * Arithmetic on dimensions that may be known numbers, symbols ("N") or unknown (null). Products of symbols are kept
 * as monomials written "12*N" or "B*T": reshapes that fold a batch into another axis (attention heads, Swin windows)
 * then stay known, and folding them back ("12*N" / 12) gives "N" again. Sums of symbols are not kept: they give null,
 * because general expressions would be harder to read and compare than an honest "unknown".
 */

/** A dim as coefficient times a sorted list of symbol factors; null when the dim is unknown. */
interface Monomial {
  coef: number;
  symbols: string[];
}

function toMonomial(d: Dim | undefined): Monomial | null {
  // Undefined comes from reading past the end of a malformed shape; it is as unknown as null.
  if (d === null || d === undefined) return null;
  if (typeof d === 'number') return { coef: d, symbols: [] };
  let coef = 1;
  const symbols: string[] = [];
  for (const raw of d.split('*')) {
    const part = raw.trim();
    if (/^\d+$/.test(part)) coef *= Number(part);
    else symbols.push(part);
  }
  return { coef, symbols: symbols.sort() };
}

function fromMonomial(m: Monomial): Dim {
  if (m.symbols.length === 0 || m.coef === 0) return m.coef;
  return (m.coef === 1 ? '' : `${m.coef}*`) + m.symbols.join('*');
}

/** A dim's value per unit of its symbols: "12*N" gives 12, "N" gives 1, a number itself; null when unknown. */
export function dimPerUnit(d: Dim): number | null {
  const m = toMonomial(d);
  return m ? m.coef : null;
}

/** The symbols a dim is a product of: "12*B*T" gives ["B", "T"]. */
export function dimSymbols(d: Dim): string[] {
  return toMonomial(d)?.symbols ?? [];
}

export function isKnown(d: Dim | undefined): d is number {
  return typeof d === 'number';
}

/** A shape as people read it: [N, 3, ?, 224] (core/format.ts, shared by every printer). */
export { formatShape };

/** The product of dims; symbols multiply into monomials ("N" * 15 * 4 = "60*N"). */
export function dimProduct(dims: readonly Dim[]): Dim {
  let acc: Dim = 1;
  for (const d of dims) {
    acc = mulDims(acc, d);
    if (acc === null) {
      // A zero anywhere still makes the product zero.
      return dims.includes(0) ? 0 : null;
    }
  }
  return acc;
}

/** Sums of dims stay known when both are multiples of the same symbols ("N" + "N" = "2*N"). */
export function addDims(a: Dim, b: Dim): Dim {
  if (isKnown(a) && isKnown(b)) return a + b;
  if (b === 0) return a;
  if (a === 0) return b;
  const ma = toMonomial(a);
  const mb = toMonomial(b);
  if (!ma || !mb || !sameSymbols(ma, mb)) return null;
  return fromMonomial({ coef: ma.coef + mb.coef, symbols: ma.symbols });
}

/** a - b when both are multiples of the same symbols and the result is not negative. */
export function subDims(a: Dim, b: Dim): Dim {
  if (isKnown(a) && isKnown(b)) return a - b;
  if (b === 0) return a;
  const ma = toMonomial(a);
  const mb = toMonomial(b);
  if (!ma || !mb || !sameSymbols(ma, mb) || ma.coef < mb.coef) return null;
  return fromMonomial({ coef: ma.coef - mb.coef, symbols: ma.symbols });
}

/**
 * Compares two dims when that is certain: numbers directly, and multiples of the same symbols by their coefficients
 * (symbols are sizes, so never negative). Undefined when it cannot be told.
 */
export function compareDims(a: Dim, b: Dim): -1 | 0 | 1 | undefined {
  const ma = toMonomial(a);
  const mb = toMonomial(b);
  if (!ma || !mb) return undefined;
  if (ma.symbols.length === 0 && mb.symbols.length === 0) return Math.sign(ma.coef - mb.coef) as -1 | 0 | 1;
  if (!sameSymbols(ma, mb)) return undefined;
  return Math.sign(ma.coef - mb.coef) as -1 | 0 | 1;
}

function sameSymbols(a: Monomial, b: Monomial): boolean {
  return a.symbols.length === b.symbols.length && a.symbols.every((s, i) => s === b.symbols[i]);
}

export function mulDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  if (a === 0 || b === 0) return 0;
  const ma = toMonomial(a);
  const mb = toMonomial(b);
  if (!ma || !mb) return null;
  return fromMonomial({ coef: ma.coef * mb.coef, symbols: [...ma.symbols, ...mb.symbols].sort() });
}

/** Exact division of dims ("12*N" / 12 = "N", "B*T" / "T" = "B"); null when it does not divide exactly. */
export function divDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return b !== 0 && a % b === 0 ? a / b : null;
  const ma = toMonomial(a);
  const mb = toMonomial(b);
  if (!ma || !mb || mb.coef === 0 || ma.coef % mb.coef !== 0) return null;
  const rest = [...ma.symbols];
  for (const s of mb.symbols) {
    const i = rest.indexOf(s);
    if (i < 0) return null;
    rest.splice(i, 1);
  }
  return fromMonomial({ coef: ma.coef / mb.coef, symbols: rest });
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
  checkRank(rank);
  return new Array<Dim>(rank).fill(null);
}

/** A rank read from the file (a declared shape's length, an attribute) must stay small before anything is built from it. */
export function checkRank(rank: number, what = 'rank'): void {
  if (!(rank <= MAX_RANK)) mismatch(`${what} ${rank} is more than ${MAX_RANK}, the largest this analysis builds`);
}

/** A count of outputs or inputs read from an attribute must not exceed the node's real ones before it is used. */
export function checkArity(count: number, actual: number, what: string): void {
  if (!(count <= Math.max(actual, 0)) || count > MAX_NODE_ARITY) mismatch(`${what} is ${count}, but the node has ${actual}`);
}
