import * as assert from 'node:assert/strict';
import { GraphBuilder } from '../../../../src/core/ir/builder';
import type { Model } from '../../../../src/core/ir/types';
import { countMacs, einsumMacs, matmulMacs } from '../../../../src/core/analysis/macs';
import { inferShapes } from '../../../../src/core/analysis/shapes/index';

const zeros = (n: number): number[] => new Array<number>(n).fill(0);

function macsOf(model: Model, inputShapes?: Record<string, (number | string)[]>): { perName: Map<string, number>; total: number; warnings: string[] } {
  const types = inferShapes(model, inputShapes ? { inputShapes } : {}).types;
  const r = countMacs(model.graph, types);
  const perName = new Map<string, number>();
  for (const [node, m] of r.perNode) perName.set(node.name, m);
  return { perName, total: r.total, warnings: r.warnings.map((w) => w.message) };
}

describe('core/analysis/macs', () => {
  it('Conv: output elements × Cin/groups × kernel volume (ResNet conv1 = 118,013,952)', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 3, 224, 224]);
    const w = b.initializer('w', 'float32', [64, 3, 7, 7], zeros(64 * 3 * 49));
    b.output(b.op('Conv', [x, w], { kernel_shape: [7, 7], strides: [2, 2], pads: [3, 3, 3, 3] }, { name: 'conv1' }));
    assert.equal(macsOf(b.model()).perName.get('conv1'), 64 * 112 * 112 * 3 * 49);
  });

  it('Conv with groups and dilation (depthwise 3×3, dilation 2)', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 8, 10, 10]);
    const w = b.initializer('w', 'float32', [8, 1, 3, 3], zeros(72));
    b.output(b.op('Conv', [x, w], { kernel_shape: [3, 3], group: 8, dilations: [2, 2] }, { name: 'dw' }));
    // Output 2×8×6×6 (10 − 2·2), each element 1 × 9 MACs.
    assert.equal(macsOf(b.model()).perName.get('dw'), 2 * 8 * 6 * 6 * 9);
  });

  it('Conv1d and Conv3d', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 4, 16]);
    const w = b.initializer('w', 'float32', [6, 4, 5], zeros(120));
    b.output(b.op('Conv', [x, w], { kernel_shape: [5] }, { name: 'c1' }));
    const v = b.input('v', 'float32', [1, 2, 4, 4, 4]);
    const w3 = b.initializer('w3', 'float32', [3, 2, 3, 3, 3], zeros(162));
    b.output(b.op('Conv', [v, w3], { kernel_shape: [3, 3, 3] }, { name: 'c3' }));
    const r = macsOf(b.model());
    assert.equal(r.perName.get('c1'), 6 * 12 * 4 * 5);
    assert.equal(r.perName.get('c3'), 3 * 8 * 2 * 27);
  });

  it('ConvTranspose: input elements × Cout/groups × kernel volume', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 8, 5, 5]);
    const w = b.initializer('w', 'float32', [8, 4, 4, 4], zeros(8 * 4 * 16));
    b.output(b.op('ConvTranspose', [x, w], { kernel_shape: [4, 4], strides: [2, 2], pads: [1, 1, 1, 1] }, { name: 'up' }));
    assert.equal(macsOf(b.model()).perName.get('up'), 8 * 25 * 4 * 16);
  });

  it('Gemm with transB: M × K × N, bias not counted', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [3, 60]);
    const w = b.initializer('w', 'float32', [10, 60], zeros(600));
    const c = b.initializer('c', 'float32', [10], zeros(10));
    b.output(b.op('Gemm', [x, w, c], { transB: 1 }, { name: 'fc' }));
    assert.equal(macsOf(b.model()).perName.get('fc'), 3 * 60 * 10);
  });

  it("MatMul batched, including attention's QKᵀ and AV", () => {
    const b = new GraphBuilder();
    const q = b.input('q', 'float32', [2, 12, 197, 64]);
    const k = b.input('kt', 'float32', [2, 12, 64, 197]);
    const scores = b.op('MatMul', [q, k], {}, { name: 'qk' });
    const v = b.input('v', 'float32', [2, 12, 197, 64]);
    b.output(b.op('MatMul', [scores, v], {}, { name: 'av' }));
    const r = macsOf(b.model());
    assert.equal(r.perName.get('qk'), 2 * 12 * 197 * 64 * 197);
    assert.equal(r.perName.get('av'), 2 * 12 * 197 * 197 * 64);
    assert.equal(r.total, 2 * 2 * 12 * 197 * 64 * 197);
  });

  it('MatMul broadcasting and 1-D operands', () => {
    assert.equal(matmulMacs([5, 3, 4], [4, 2]), 5 * 3 * 4 * 2);
    assert.equal(matmulMacs([4], [4, 2]), 4 * 2);
    assert.equal(matmulMacs([3, 4], [4]), 3 * 4);
    assert.equal(matmulMacs([1, 3, 4], [7, 4, 2]), 7 * 3 * 4 * 2);
  });

  it('LSTM, GRU and RNN follow the gate equations × seq_len × directions', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [7, 2, 10]);
    const H = 20;
    const wl = b.initializer('wl', 'float32', [2, 4 * H, 10], zeros(2 * 4 * H * 10));
    const rl = b.initializer('rl', 'float32', [2, 4 * H, H], zeros(2 * 4 * H * H));
    b.node('LSTM', [x, wl, rl], { hidden_size: H, direction: 'bidirectional' }, { name: 'lstm', outputs: 3 });
    const wg = b.initializer('wg', 'float32', [1, 3 * H, 10], zeros(3 * H * 10));
    const rg = b.initializer('rg', 'float32', [1, 3 * H, H], zeros(3 * H * H));
    b.node('GRU', [x, wg, rg], { hidden_size: H }, { name: 'gru', outputs: 2 });
    const wr = b.initializer('wr', 'float32', [1, H, 10], zeros(H * 10));
    const rr = b.initializer('rr', 'float32', [1, H, H], zeros(H * H));
    b.node('RNN', [x, wr, rr], { hidden_size: H }, { name: 'rnn', outputs: 2 });
    const r = macsOf(b.model());
    assert.equal(r.perName.get('lstm'), 7 * 2 * 2 * 4 * H * (10 + H));
    assert.equal(r.perName.get('gru'), 7 * 2 * 3 * H * (10 + H));
    assert.equal(r.perName.get('rnn'), 7 * 2 * H * (10 + H));
  });

  it('quantised Conv and MatMul count the same MACs as their float versions', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'uint8', [1, 3, 8, 8]);
    const w = b.initializer('w', 'uint8', [4, 3, 3, 3], zeros(108));
    b.output(b.op('ConvInteger', [x, w], { kernel_shape: [3, 3] }, { name: 'qconv' }));
    const a = b.input('a', 'uint8', [5, 6]);
    const m = b.initializer('m', 'uint8', [6, 7], zeros(42));
    b.output(b.op('MatMulInteger', [a, m], {}, { name: 'qmm' }));
    const r = macsOf(b.model());
    assert.equal(r.perName.get('qconv'), 4 * 36 * 27);
    assert.equal(r.perName.get('qmm'), 5 * 6 * 7);
  });

  it('Einsum: the product of all distinct index sizes for two operands, zero for one', () => {
    assert.equal(einsumMacs('bhqd,bhkd->bhqk', [[2, 3, 5, 4], [2, 3, 7, 4]]), 2 * 3 * 5 * 7 * 4);
    assert.equal(einsumMacs('...ij,...jk->...ik', [[6, 2, 3], [3, 4]]), 6 * 2 * 3 * 4);
    assert.equal(einsumMacs('ij->ji', [[2, 3]]), 0);
    assert.equal(einsumMacs('ij,jk->ik', [[2, 3, 4], [3, 4]]), undefined);
    const b = new GraphBuilder();
    const q = b.input('q', 'float32', [1, 2, 5, 4]);
    const k = b.input('k', 'float32', [1, 2, 6, 4]);
    b.output(b.op('Einsum', [q, k], { equation: 'bhqd,bhkd->bhqk' }, { name: 'einsum' }));
    assert.equal(macsOf(b.model()).perName.get('einsum'), 2 * 5 * 6 * 4);
  });

  it('elementwise ops count zero', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 3, 8, 8]);
    const y = b.op('Relu', [x], {}, { name: 'relu' });
    b.output(b.op('Add', [y, x], {}, { name: 'add' }));
    const r = macsOf(b.model());
    assert.equal(r.perName.get('relu'), 0);
    assert.equal(r.perName.get('add'), 0);
    assert.equal(r.warnings.length, 0);
  });

  it('unknown shapes give 0 and a warning, not a guessed number', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [null, 3, null, null]);
    const w = b.initializer('w', 'float32', [4, 3, 3, 3], zeros(108));
    b.output(b.op('Conv', [x, w], { kernel_shape: [3, 3] }, { name: 'conv' }));
    const r = macsOf(b.model());
    assert.equal(r.perName.get('conv'), 0);
    assert.equal(r.total, 0);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0], /conv/);
    // --input-shape resolves it.
    assert.equal(macsOf(b.model(), { x: [1, 3, 8, 8] }).perName.get('conv'), 4 * 36 * 27);
  });
});
