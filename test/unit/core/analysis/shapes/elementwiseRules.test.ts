import { strict as assert } from 'node:assert';
import { c, inferOne, shapeOf, t } from './helpers';
import { shapeRules } from '../../../../../src/core/analysis/shapes/registry';

const UNARY = [
  'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Gelu', 'Erf', 'Exp', 'Log', 'Sqrt', 'Abs', 'Neg', 'Reciprocal', 'Floor', 'Ceil',
  'HardSigmoid', 'HardSwish', 'Softplus', 'Softsign', 'Mish', 'Elu', 'Selu', 'Celu', 'Sin', 'Cos', 'Tan', 'Sign', 'Round',
  'ThresholdedRelu', 'Shrink', 'Identity', 'Softmax', 'LogSoftmax', 'Hardmax', 'Clip', 'LpNormalization',
  'MeanVarianceNormalization', 'Trilu',
];

describe('shape rules: elementwise', () => {
  it('every unary op keeps the shape and element type', () => {
    for (const op of UNARY) {
      assert.ok(shapeRules.has(op), `${op} has a rule`);
      const r = inferOne(op, [t(['N', 3, 7], 'float16')]);
      assert.deepEqual(r.types[0], { dtype: 'float16', shape: ['N', 3, 7] }, op);
      assert.deepEqual(r.warnings, [], op);
    }
  });

  it('Not keeps bool; IsNaN and IsInf give bool', () => {
    assert.deepEqual(inferOne('Not', [t([2], 'bool')]).types[0], { dtype: 'bool', shape: [2] });
    assert.deepEqual(inferOne('IsNaN', [t([2, 2])]).types[0], { dtype: 'bool', shape: [2, 2] });
    assert.deepEqual(inferOne('IsInf', [t([3])]).types[0], { dtype: 'bool', shape: [3] });
  });

  it('binary arithmetic broadcasts multidirectionally', () => {
    for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'PRelu']) {
      assert.deepEqual(shapeOf(op, [t([2, 1, 4]), t([3, 1])]), [2, 3, 4], op);
    }
    assert.deepEqual(shapeOf('Add', [t(['N', 64, 56, 56]), t([64, 1, 1])]), ['N', 64, 56, 56]);
    assert.deepEqual(shapeOf('Mul', [t([]), t([5])]), [5]);
    assert.deepEqual(shapeOf('Add', [t(['N', 1]), t([1, 'M'])]), ['N', 'M']);
  });

  it('comparisons and logic give bool', () => {
    for (const op of ['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual']) {
      assert.deepEqual(inferOne(op, [t([4, 1]), t([5])]).types[0], { dtype: 'bool', shape: [4, 5] }, op);
    }
    for (const op of ['And', 'Or', 'Xor']) {
      assert.deepEqual(inferOne(op, [t([2], 'bool'), t([1], 'bool')]).types[0], { dtype: 'bool', shape: [2] }, op);
    }
  });

  it('variadic Max, Min, Mean and Sum broadcast all their inputs', () => {
    for (const op of ['Max', 'Min', 'Mean', 'Sum']) {
      assert.deepEqual(shapeOf(op, [t([3, 1]), t([1, 4]), t([4])]), [3, 4], op);
    }
  });

  it('Where broadcasts three inputs and takes the type of X', () => {
    assert.deepEqual(inferOne('Where', [t([1, 4], 'bool'), t([3, 1], 'int32'), t([])]).types[0], { dtype: 'int32', shape: [3, 4] });
  });

  it("warns 'shape-mismatch' when dims cannot broadcast", () => {
    const r = inferOne('Add', [t([2, 3]), t([4])]);
    assert.equal(r.types[0]?.shape, null);
    assert.equal(r.warnings[0].code, 'shape-mismatch');
    assert.match(r.warnings[0].message, /3 and 4/);
  });

  it('Cast and CastLike change the element type only', () => {
    assert.deepEqual(inferOne('Cast', [t([2, 'N'])], { to: 7 }).types[0], { dtype: 'int64', shape: [2, 'N'] });
    assert.deepEqual(inferOne('Cast', [t([2])], { to: 10 }).types[0], { dtype: 'float16', shape: [2] });
    assert.deepEqual(inferOne('CastLike', [t([2]), t([], 'float64')]).types[0], { dtype: 'float64', shape: [2] });
    // Cast-1 named the type as a string.
    assert.deepEqual(inferOne('Cast', [t([2])], { to: 'DOUBLE' }, { opset: 1 }).types[0], { dtype: 'float64', shape: [2] });
  });

  it('Dropout passes through and gives a bool mask from opset 10 on', () => {
    const r = inferOne('Dropout', [t([2, 3])], {}, { outputs: 2, opset: 13 });
    assert.deepEqual(r.types[0], { dtype: 'float32', shape: [2, 3] });
    assert.deepEqual(r.types[1], { dtype: 'bool', shape: [2, 3] });
    assert.deepEqual(inferOne('Dropout', [t([2])], {}, { outputs: 2, opset: 7 }).types[1]?.dtype, 'float32');
  });

  it('QuantizeLinear takes the zero point type; DequantizeLinear the scale type', () => {
    assert.deepEqual(inferOne('QuantizeLinear', [t([2, 3]), t([]), t([], 'int8')]).types[0], { dtype: 'int8', shape: [2, 3] });
    assert.deepEqual(inferOne('QuantizeLinear', [t([2, 3]), t([])]).types[0]?.dtype, 'uint8');
    assert.deepEqual(inferOne('DequantizeLinear', [t([2, 3], 'int8'), t([])]).types[0], { dtype: 'float32', shape: [2, 3] });
  });

  describe('folding', () => {
    it('folds integer arithmetic with broadcasting', () => {
      assert.deepEqual(inferOne('Mul', [c([2, 3]), c([4], 'int64', [])]).values[0], { dtype: 'int64', dims: [2], values: [8, 12] });
      assert.deepEqual(inferOne('Div', [c([7, -7]), c([2, 2])]).values[0]?.values, [3, -3]);
      assert.deepEqual(inferOne('Sub', [c([5]), c([1])]).values[0]?.values, [4]);
      assert.deepEqual(inferOne('Add', [c([1.5], 'float32'), c([1], 'float32')]).values[0]?.values, [2.5]);
      assert.deepEqual(inferOne('Mod', [c([-7]), c([3])]).values[0]?.values, [2]);
      assert.deepEqual(inferOne('Mod', [c([-7]), c([3])], { fmod: 1 }).values[0]?.values, [-1]);
    });
    it('folds comparisons to 0/1 booleans and Where', () => {
      assert.deepEqual(inferOne('Equal', [c([1, 2, 3]), c([2], 'int64', [])]).values[0], { dtype: 'bool', dims: [3], values: [0, 1, 0] });
      assert.deepEqual(inferOne('Where', [c([1, 0], 'bool'), c([10, 20]), c([30, 40])]).values[0]?.values, [10, 40]);
    });
    it('folds Cast by truncating to integers', () => {
      assert.deepEqual(inferOne('Cast', [c([2.7, -1.5], 'float32')], { to: 7 }).values[0], { dtype: 'int64', dims: [2], values: [2, -1] });
    });
    it('does not fold inputs whose values are unknown', () => {
      assert.equal(inferOne('Add', [t([2], 'int64'), c([1, 1])]).values[0], undefined);
    });
  });
});
