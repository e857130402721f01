import type { DataType, Dim } from '../../ir/types';
import { getInt, getString } from '../../ir/attributes';
import { dataTypeFromCode } from '../../ir/dtypes';
import { addDims, broadcastShapes, divDims, mulDims, subDims } from './dims';
import { castNumber, foldBroadcast, type PartialValue } from './partialValue';
import type { ShapeRule, ShapeRuleContext } from './ruleContext';

/**
 * Elementwise operators: the output has the input's shape (unary) or the inputs' broadcast shape (binary and
 * variadic). Shape subgraphs use a few of them on small integer tensors (Mul, Div, Add, Sub, Equal, Where, Cast), so
 * those also fold their values.
 */

type Fold = (xs: Dim[], dtype: DataType) => Dim;

function num(x: Dim): x is number {
  return typeof x === 'number';
}

/** Folds a broadcast elementwise op when every input's value is known (elements may still be symbols). */
function foldInputs(ctx: ShapeRuleContext, indices: number[], outShape: Dim[] | null, dtype: DataType, fold: Fold): PartialValue | undefined {
  if (!outShape || !outShape.every(num)) return undefined;
  const dims = outShape as number[];
  const total = dims.reduce((a, b) => a * b, 1);
  if (total > ctx.maxFoldElements) return undefined;
  const values: PartialValue[] = [];
  for (const i of indices) {
    const v = ctx.value(i);
    if (!v) return undefined;
    values.push(v);
  }
  return { dtype, dims, values: foldBroadcast(values, dims, (xs) => fold(xs, dtype)) };
}

function unaryRule(outDtype?: DataType, fold?: Fold): ShapeRule {
  return (ctx) => {
    const dtype = outDtype ?? ctx.dtype(0);
    const shape = ctx.shape(0);
    ctx.set(0, dtype, shape ? [...shape] : null, fold ? foldInputs(ctx, [0], shape, dtype, fold) : undefined);
  };
}

function broadcastRule(indices: number[] | 'all', outDtype: ((ctx: ShapeRuleContext) => DataType) | DataType, fold?: Fold): ShapeRule {
  return (ctx) => {
    const idx = indices === 'all' ? Array.from({ length: ctx.inputCount }, (_, i) => i).filter((i) => ctx.has(i)) : indices;
    const shape = broadcastShapes(idx.map((i) => ctx.shape(i)));
    const dtype = typeof outDtype === 'function' ? outDtype(ctx) : outDtype;
    ctx.set(0, dtype, shape, fold ? foldInputs(ctx, idx, shape, dtype, fold) : undefined);
  };
}

const firstDtype = (ctx: ShapeRuleContext): DataType => ctx.dtype(0);

function numeric(fn: (...xs: number[]) => number): Fold {
  return (xs, dtype) => (xs.every(num) ? castNumber(fn(...(xs as number[])), dtype) : null);
}

const add: Fold = (xs, dtype) => {
  const [a, b] = xs;
  if (num(a) && num(b)) return castNumber(a + b, dtype);
  if ((num(a) && a < 0) || (num(b) && b < 0)) return null;
  return addDims(a, b);
};
const sub: Fold = (xs, dtype) => {
  const [a, b] = xs;
  if (num(a) && num(b)) return castNumber(a - b, dtype);
  if (num(b) && b < 0) return null;
  return subDims(a, b);
};
const mul: Fold = (xs, dtype) => {
  const [a, b] = xs;
  if (num(a) && num(b)) return castNumber(a * b, dtype);
  if (a === 0 || b === 0) return 0;
  // Symbols are sizes, so only products with non-negative integers stay meaningful dims ("12*N").
  if ((num(a) && (a < 0 || !Number.isInteger(a))) || (num(b) && (b < 0 || !Number.isInteger(b)))) return null;
  return mulDims(a, b);
};
const div: Fold = (xs, dtype) => {
  const [a, b] = xs;
  if (num(a) && num(b)) return b === 0 && dtype !== 'float32' && dtype !== 'float64' ? null : castNumber(a / b, dtype);
  if (num(b) && (b <= 0 || !Number.isInteger(b))) return null;
  return divDims(a, b);
};
const compare = (fn: (a: number, b: number) => boolean, sameSymbol?: number): Fold => (xs) => {
  const [a, b] = xs;
  if (num(a) && num(b)) return fn(a, b) ? 1 : 0;
  if (sameSymbol !== undefined && typeof a === 'string' && a === b) return sameSymbol;
  // A symbol is a size, at least 0: compared with a negative number it behaves like 0 (PyTorch's expand(-1) export
  // asks Equal(shape, -1)).
  if (typeof a === 'string' && num(b) && b < 0) return fn(0, b) ? 1 : 0;
  if (typeof b === 'string' && num(a) && a < 0) return fn(a, 0) ? 1 : 0;
  return null;
};
const extremum = (pick: (...xs: number[]) => number): Fold => (xs, dtype) => {
  if (xs.every(num)) return castNumber(pick(...(xs as number[])), dtype);
  if (xs.every((x) => x === xs[0])) return xs[0];
  return null;
};

function modFold(fmod: boolean): Fold {
  return numeric((a, b) => {
    if (fmod) return a % b;
    const r = a % b;
    return r !== 0 && Math.sign(r) !== Math.sign(b) ? r + b : r;
  });
}

/** Unary ops whose output has the input's shape and element type. */
const SAME_TYPE_UNARY = [
  'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Gelu', 'Erf', 'Exp', 'Log', 'Sqrt', 'Abs', 'Neg', 'Reciprocal', 'Floor',
  'Ceil', 'HardSigmoid', 'HardSwish', 'Softplus', 'Softsign', 'Mish', 'Elu', 'Selu', 'Celu', 'Sin', 'Cos', 'Tan',
  'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh', 'Sign', 'Round', 'ThresholdedRelu', 'Shrink',
  'Identity', 'Softmax', 'LogSoftmax', 'Hardmax', 'Clip', 'Not', 'BitwiseNot', 'LpNormalization',
  'MeanVarianceNormalization', 'CumSum', 'Trilu', 'ReverseSequence', 'Scatter', 'ScatterND', 'ScatterElements',
  'Swish',
];

const UNARY_FOLDS: Record<string, Fold> = {
  Identity: (xs) => xs[0],
  Neg: (xs, dtype) => (num(xs[0]) ? castNumber(-xs[0], dtype) : null),
  Abs: (xs) => (num(xs[0]) ? Math.abs(xs[0]) : xs[0]),
  Floor: (xs) => (num(xs[0]) ? Math.floor(xs[0]) : xs[0]),
  Ceil: (xs) => (num(xs[0]) ? Math.ceil(xs[0]) : xs[0]),
  Round: (xs) => (num(xs[0]) ? roundHalfEven(xs[0]) : xs[0]),
  Relu: (xs) => (num(xs[0]) ? Math.max(0, xs[0]) : xs[0]),
  Sqrt: numeric(Math.sqrt),
  Exp: numeric(Math.exp),
  Log: numeric(Math.log),
  Sign: numeric(Math.sign),
  Reciprocal: numeric((x) => 1 / x),
  Not: numeric((x) => (x ? 0 : 1)),
};

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const rules: Record<string, ShapeRule> = {};
for (const op of SAME_TYPE_UNARY) rules[op] = unaryRule(undefined, UNARY_FOLDS[op]);
for (const op of ['IsNaN', 'IsInf']) rules[op] = unaryRule('bool');

// Binary and variadic arithmetic keep the first input's element type.
rules.Add = broadcastRule([0, 1], firstDtype, add);
rules.Sub = broadcastRule([0, 1], firstDtype, sub);
rules.Mul = broadcastRule([0, 1], firstDtype, mul);
rules.Div = broadcastRule([0, 1], firstDtype, div);
rules.Pow = broadcastRule([0, 1], firstDtype, numeric((a, b) => a ** b));
rules.Mod = (ctx) => broadcastRule([0, 1], firstDtype, modFold(getInt(ctx.node, 'fmod', 0) === 1))(ctx);
rules.BitShift = broadcastRule([0, 1], firstDtype);
rules.BitwiseAnd = broadcastRule([0, 1], firstDtype, numeric((a, b) => a & b));
rules.BitwiseOr = broadcastRule([0, 1], firstDtype, numeric((a, b) => a | b));
rules.BitwiseXor = broadcastRule([0, 1], firstDtype, numeric((a, b) => a ^ b));
rules.PRelu = broadcastRule([0, 1], firstDtype);
rules.Max = broadcastRule('all', firstDtype, extremum(Math.max));
rules.Min = broadcastRule('all', firstDtype, extremum(Math.min));
rules.Sum = broadcastRule('all', firstDtype, (xs, dtype) => xs.reduce<Dim>((a, b) => add([a, b], dtype), 0));
rules.Mean = broadcastRule('all', firstDtype);

// Comparisons and logic give booleans.
rules.Equal = broadcastRule([0, 1], 'bool', compare((a, b) => a === b, 1));
rules.Less = broadcastRule([0, 1], 'bool', compare((a, b) => a < b, 0));
rules.Greater = broadcastRule([0, 1], 'bool', compare((a, b) => a > b, 0));
rules.LessOrEqual = broadcastRule([0, 1], 'bool', compare((a, b) => a <= b, 1));
rules.GreaterOrEqual = broadcastRule([0, 1], 'bool', compare((a, b) => a >= b, 1));
rules.And = broadcastRule([0, 1], 'bool', numeric((a, b) => (a && b ? 1 : 0)));
rules.Or = broadcastRule([0, 1], 'bool', numeric((a, b) => (a || b ? 1 : 0)));
rules.Xor = broadcastRule([0, 1], 'bool', numeric((a, b) => (!a !== !b ? 1 : 0)));

rules.Where = broadcastRule([0, 1, 2], (ctx) => ctx.dtype(1), (xs) => {
  const [c, x, y] = xs;
  if (c === null || typeof c === 'string') return x === y ? x : null;
  return c ? x : y;
});

/** Cast-1 named its target type as a string ("FLOAT"); later versions use the TensorProto code. */
const TYPE_NAMES = ['UNDEFINED', 'FLOAT', 'UINT8', 'INT8', 'UINT16', 'INT16', 'INT32', 'INT64', 'STRING', 'BOOL', 'FLOAT16', 'DOUBLE', 'UINT32', 'UINT64', 'COMPLEX64', 'COMPLEX128', 'BFLOAT16'];

rules.Cast = (ctx) => {
  const named = getString(ctx.node, 'to');
  const code = named !== undefined ? TYPE_NAMES.indexOf(named.toUpperCase()) : getInt(ctx.node, 'to', 0);
  const to = dataTypeFromCode(code) ?? 'undefined';
  const shape = ctx.shape(0);
  ctx.set(0, to, shape ? [...shape] : null, foldInputs(ctx, [0], shape, to, (xs) => (num(xs[0]) ? castNumber(xs[0], to) : xs[0])));
};
rules.CastLike = (ctx) => {
  const to = ctx.dtype(1);
  const shape = ctx.shape(0);
  ctx.set(0, to, shape ? [...shape] : null, foldInputs(ctx, [0], shape, to, (xs) => (num(xs[0]) ? castNumber(xs[0], to) : xs[0])));
};

// Dropout passes its input through; the optional mask is boolean from opset 10 on and the input's type before.
rules.Dropout = (ctx) => {
  const shape = ctx.shape(0);
  ctx.set(0, ctx.dtype(0), shape ? [...shape] : null, ctx.value(0));
  if (ctx.wants(1)) ctx.set(1, ctx.opset >= 10 ? 'bool' : ctx.dtype(0), shape ? [...shape] : null);
};

// Quantization changes the element type only.
rules.QuantizeLinear = (ctx) => {
  const shape = ctx.shape(0);
  const attr = getInt(ctx.node, 'output_dtype', 0);
  const dtype = attr ? dataTypeFromCode(attr) ?? 'uint8' : ctx.has(2) ? ctx.dtype(2) : 'uint8';
  ctx.set(0, dtype, shape ? [...shape] : null);
};
rules.DequantizeLinear = (ctx) => {
  const shape = ctx.shape(0);
  const scale = ctx.dtype(1);
  ctx.set(0, scale === 'undefined' ? 'float32' : scale, shape ? [...shape] : null);
};
rules.DynamicQuantizeLinear = (ctx) => {
  const shape = ctx.shape(0);
  ctx.set(0, 'uint8', shape ? [...shape] : null);
  ctx.set(1, 'float32', []);
  ctx.set(2, 'uint8', []);
};

export const elementwiseRules: Readonly<Record<string, ShapeRule>> = rules;
