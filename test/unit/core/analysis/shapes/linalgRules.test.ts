import { strict as assert } from 'node:assert';
import { inferOne, shapeOf, t } from './helpers';
import { einsumShape } from '../../../../../src/core/analysis/shapes/linalgRules';

describe('shape rules: matrix products', () => {
  describe('Gemm', () => {
    it('gives [M, N] and honours transA and transB', () => {
      assert.deepEqual(shapeOf('Gemm', [t([4, 3]), t([3, 5])]), [4, 5]);
      assert.deepEqual(shapeOf('Gemm', [t([3, 4]), t([3, 5])], { transA: 1 }), [4, 5]);
      assert.deepEqual(shapeOf('Gemm', [t(['N', 60]), t([10, 60]), t([10])], { transB: 1 }), ['N', 10]);
    });
    it('warns when the inner dims differ', () => {
      const r = inferOne('Gemm', [t([4, 3]), t([5, 3])]);
      assert.equal(r.types[0]?.shape, null);
      assert.equal(r.warnings[0].code, 'shape-mismatch');
      assert.match(r.warnings[0].message, /3 columns.*5 rows/);
    });
  });

  describe('MatMul', () => {
    it('multiplies matrices and broadcasts batch dims', () => {
      assert.deepEqual(shapeOf('MatMul', [t([2, 3]), t([3, 4])]), [2, 4]);
      assert.deepEqual(shapeOf('MatMul', [t([5, 1, 2, 3]), t([7, 3, 4])]), [5, 7, 2, 4]);
      assert.deepEqual(shapeOf('MatMul', [t(['B', 8, 'S', 64]), t(['B', 8, 64, 'S'])]), ['B', 8, 'S', 'S']);
    });
    it('treats 1-D operands as numpy does', () => {
      assert.deepEqual(shapeOf('MatMul', [t([3]), t([3, 4])]), [4]);
      assert.deepEqual(shapeOf('MatMul', [t([2, 5, 3]), t([3])]), [2, 5]);
      assert.deepEqual(shapeOf('MatMul', [t([3]), t([3])]), []);
    });
    it('warns about differing inner dims and unbroadcastable batches', () => {
      assert.equal(inferOne('MatMul', [t([2, 3]), t([4, 5])]).warnings[0].code, 'shape-mismatch');
      assert.equal(inferOne('MatMul', [t([2, 2, 3]), t([3, 3, 5])]).warnings[0].code, 'shape-mismatch');
    });
    it('gives int32 for MatMulInteger', () => {
      assert.deepEqual(inferOne('MatMulInteger', [t([2, 3], 'uint8'), t([3, 4], 'uint8')]).types[0], { dtype: 'int32', shape: [2, 4] });
    });
    it('chains attention: softmax(Q K^T) V', () => {
      const q = t(['B', 12, 'S', 64]);
      const scores = shapeOf('MatMul', [q, t(['B', 12, 64, 'S'])]);
      assert.deepEqual(scores, ['B', 12, 'S', 'S']);
      assert.deepEqual(shapeOf('MatMul', [t(scores!), t(['B', 12, 'S', 64])]), ['B', 12, 'S', 64]);
    });
  });

  describe('Einsum', () => {
    it('handles explicit equations', () => {
      assert.deepEqual(shapeOf('Einsum', [t([2, 3]), t([3, 4])], { equation: 'ij,jk->ik' }), [2, 4]);
      assert.deepEqual(shapeOf('Einsum', [t([5, 2, 3]), t([5, 3, 4])], { equation: 'bij, bjk -> bik' }), [5, 2, 4]);
      assert.deepEqual(shapeOf('Einsum', [t([2, 3])], { equation: 'ij->ji' }), [3, 2]);
      assert.deepEqual(shapeOf('Einsum', [t([3, 3])], { equation: 'ii->' }), []);
    });
    it('sorts the once-used letters for implicit equations', () => {
      assert.deepEqual(einsumShape('ij,jk', [[2, 3], [3, 4]]), [2, 4]);
      assert.deepEqual(einsumShape('ba', [[2, 3]]), [3, 2]);
    });
    it('broadcasts ellipsis dims', () => {
      assert.deepEqual(einsumShape('...ij,...jk->...ik', [[7, 1, 2, 3], [5, 3, 4]]), [7, 5, 2, 4]);
      assert.deepEqual(einsumShape('bhqd,bhkd->bhqk', [['B', 8, 'S', 64], ['B', 8, 'T', 64]]), ['B', 8, 'S', 'T']);
    });
    it('warns when a subscript has two sizes', () => {
      assert.equal(inferOne('Einsum', [t([2, 3]), t([4, 5])], { equation: 'ij,jk->ik' }).warnings[0].code, 'shape-mismatch');
    });
  });
});
