import * as assert from 'node:assert/strict';
import { countsMacs, isActivationOp, opFamily, spatialRole } from '../../../../src/core/ir/opCatalogue';

/**
 * The one op catalogue that the graph colouring, the probe diagnostics, the receptive-field walk and the MAC count
 * read. These check that its facets agree with each other, so that a new op added to one facet and forgotten in
 * another shows up here rather than as a silently wrong field or count.
 */
describe('op catalogue', () => {
  const ACTIVATIONS = ['Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Celu', 'Gelu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Softplus', 'Softsign', 'Mish', 'ThresholdedRelu', 'Clip'];

  it('every activation passes receptive fields through unchanged and counts no MACs', () => {
    for (const op of ACTIVATIONS) {
      assert.ok(isActivationOp(op), op);
      assert.equal(spatialRole(op), 'pass-through', op);
      assert.equal(countsMacs(op), false, op);
    }
  });

  it('sliding-window ops are convolutions or pools, and only the convolutions count MACs', () => {
    for (const op of ['Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'LpPool', 'ConvInteger', 'QLinearConv']) {
      assert.equal(spatialRole(op), 'window', op);
      assert.ok(['conv', 'pool'].includes(opFamily(op)), op);
      assert.equal(countsMacs(op), opFamily(op) === 'conv', op);
    }
  });

  it('gives ops with a rule of their own, and unknown ops, no role', () => {
    for (const op of ['Gemm', 'MatMul', 'Reshape', 'Slice', 'Resize', 'Concat', 'NotAnOnnxOp']) assert.equal(spatialRole(op), undefined, op);
    assert.equal(spatialRole('GlobalAveragePool'), 'global');
    assert.equal(spatialRole('LSTM'), 'sequence');
    assert.equal(spatialRole('ReduceMean'), 'reduce');
    assert.equal(spatialRole('Softmax'), 'axis-mixing');
    assert.equal(spatialRole('Shape'), 'metadata');
  });

  it('counts MACs for exactly the multiply-accumulate ops', () => {
    for (const op of ['Gemm', 'MatMul', 'Einsum', 'LSTM', 'GRU', 'RNN', 'MatMulInteger', 'QLinearMatMul']) assert.ok(countsMacs(op), op);
    for (const op of ['Add', 'Mul', 'BatchNormalization', 'MaxPool', 'Softmax']) assert.equal(countsMacs(op), false, op);
  });
});
