/**
 * The element values of small tensors that model code computes in `__init__` to decide its layer sizes (RegNet's
 * quantized stage widths: `torch.round(torch.log(widths / w_0) / math.log(w_m))`, `.int().tolist()`).
 *
 * Each element is an interval that holds the value PyTorch computes. The four basic operations of float32 on exact
 * operands are exact here (a double result rounded once to float32 is IEEE's correctly rounded float32 result); a
 * division by anything but a power of two, and transcendental functions (whose vectorised float32 kernels are within
 * a few units in the last place, not correctly rounded) widen the interval by far more than that error. Rounding and
 * truncation give a number only when the whole interval rounds to it; otherwise the values are unknown, never a guess.
 */

export interface Bound {
  lo: number;
  hi: number;
}

/** Relative widening for results that are not exact: 2^-20 against float32's 2^-24 per rounding. */
const REL = 2 ** -20;
/** Absolute widening too, for results at or near zero. */
const ABS = 1e-30;

const f32 = Math.fround;

export const point = (v: number): Bound => ({ lo: v, hi: v });
export const isPoint = (b: Bound): boolean => b.lo === b.hi;

function widen(lo: number, hi: number): Bound | null {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return null;
  return { lo: lo - Math.abs(lo) * REL - ABS, hi: hi + Math.abs(hi) * REL + ABS };
}

const isFloat = (dtype: string): boolean => /^(float|bfloat)/.test(dtype);
const isPowerOfTwo = (v: number): boolean => v !== 0 && Number.isFinite(v) && 2 ** Math.round(Math.log2(Math.abs(v))) === Math.abs(v);

/**
 * `a op b` for elements of a result of element type `dtype` (float32 or int64; other types give null). Operands are
 * converted to the result's type first, as PyTorch does with a Python scalar.
 */
export function binaryBound(op: string, a: Bound, b: Bound, dtype: string): Bound | null {
  if (dtype === 'int64') {
    if (!isPoint(a) || !isPoint(b) || !Number.isInteger(a.lo) || !Number.isInteger(b.lo)) return null;
    const r = op === '+' ? a.lo + b.lo : op === '-' ? a.lo - b.lo : op === '*' ? a.lo * b.lo : NaN;
    return Number.isSafeInteger(r) ? point(r) : null;
  }
  if (dtype !== 'float32') return null;
  const [x, y] = [{ lo: f32(a.lo), hi: f32(a.hi) }, { lo: f32(b.lo), hi: f32(b.hi) }];
  const apply = (p: number, q: number): number => (op === '+' ? p + q : op === '-' ? p - q : op === '*' ? p * q : p / q);
  if (op !== '+' && op !== '-' && op !== '*' && op !== '/') return null;
  if (op === '/' && y.lo <= 0 && y.hi >= 0) return null;
  if (isPoint(x) && isPoint(y) && (op !== '/' || isPowerOfTwo(y.lo))) {
    const r = f32(apply(x.lo, y.lo));
    return Number.isFinite(r) ? point(r) : null;
  }
  const corners = [apply(x.lo, y.lo), apply(x.lo, y.hi), apply(x.hi, y.lo), apply(x.hi, y.hi)];
  return widen(Math.min(...corners), Math.max(...corners));
}

/** A monotone float32 function of one element (log, or pow with a positive constant base), widened for its error. */
export function monotoneBound(fn: (v: number) => number, a: Bound): Bound | null {
  const [p, q] = [fn(f32(a.lo)), fn(f32(a.hi))];
  if (Number.isNaN(p) || Number.isNaN(q)) return null;
  return widen(Math.min(p, q), Math.max(p, q));
}

/** Round half to even, as torch.round (and Python's round) does. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torch.round, or a cast to an integer type (truncation): a number only when the whole interval gives the same one. */
export function toInteger(a: Bound, how: 'round' | 'trunc'): Bound | null {
  const f = how === 'round' ? roundHalfEven : Math.trunc;
  const [p, q] = [f(a.lo), f(a.hi)];
  return p === q && Number.isSafeInteger(p) ? point(p === 0 ? 0 : p) : null;
}

export { isFloat as isFloatType };
