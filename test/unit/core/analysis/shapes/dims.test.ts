import { strict as assert } from 'node:assert';
import {
  addDims,
  broadcastShapes,
  compareDims,
  dimPerUnit,
  dimProduct,
  dimSymbols,
  divDims,
  mergeDims,
  mulDims,
  subDims,
} from '../../../../../src/core/analysis/shapes/dims';
import { ShapeMismatch } from '../../../../../src/core/analysis/shapes/mismatch';

describe('shape dims', () => {
  it('multiplies symbols into canonical monomials', () => {
    assert.equal(mulDims('N', 12), '12*N');
    assert.equal(mulDims(12, 'N'), '12*N');
    assert.equal(mulDims('T', 'B'), 'B*T');
    assert.equal(mulDims('2*T', '3*B'), '6*B*T');
    assert.equal(mulDims('N', 1), 'N');
    assert.equal(mulDims('N', 0), 0);
    assert.equal(mulDims('N', null), null);
    assert.equal(dimProduct(['N', 15, 2, 2]), '60*N');
    assert.equal(dimProduct([3, 4]), 12);
    assert.equal(dimProduct([]), 1);
    assert.equal(dimProduct([null, 0]), 0);
  });
  it('divides exactly or gives null', () => {
    assert.equal(divDims('12*N', 12), 'N');
    assert.equal(divDims('12*N', 4), '3*N');
    assert.equal(divDims('B*T', 'T'), 'B');
    assert.equal(divDims('N', 'N'), 1);
    assert.equal(divDims('N', 2), null);
    assert.equal(divDims('12*N', 'B'), null);
    assert.equal(divDims(12, 5), null);
  });
  it('adds, subtracts and compares multiples of the same symbols', () => {
    assert.equal(addDims('N', 'N'), '2*N');
    assert.equal(addDims('N', 'M'), null);
    assert.equal(addDims('N', 0), 'N');
    assert.equal(subDims('3*N', 'N'), '2*N');
    assert.equal(subDims('N', 'N'), 0);
    assert.equal(subDims('N', '2*N'), null);
    assert.equal(compareDims('2*N', 'N'), 1);
    assert.equal(compareDims('N', 3), undefined);
    assert.equal(compareDims(2, 3), -1);
  });
  it('evaluates a dim per unit of its symbols', () => {
    assert.equal(dimPerUnit('12*N'), 12);
    assert.equal(dimPerUnit('N'), 1);
    assert.equal(dimPerUnit(7), 7);
    assert.equal(dimPerUnit(null), null);
    assert.deepEqual(dimSymbols('12*B*T'), ['B', 'T']);
    assert.deepEqual(dimSymbols(3), []);
  });
  it('merges equal-required dims, preferring known numbers', () => {
    assert.equal(mergeDims('N', 3, () => 'x'), 3);
    assert.equal(mergeDims(null, 'N', () => 'x'), 'N');
    assert.throws(() => mergeDims(2, 3, () => 'axis 1'), ShapeMismatch);
  });
  it('broadcasts numpy-style', () => {
    assert.deepEqual(broadcastShapes([[8, 1, 6, 1], [7, 1, 5]]), [8, 7, 6, 5]);
    assert.deepEqual(broadcastShapes([['N', 1], [1, 'M'], []]), ['N', 'M']);
    assert.deepEqual(broadcastShapes([['N'], ['M']]), [null]);
    assert.deepEqual(broadcastShapes([[3], null]), null);
    assert.throws(() => broadcastShapes([[2], [3]]), /2 and 3/);
  });
});
