import * as assert from 'node:assert/strict';
import { GraphBuilder } from '../../../../src/core/ir/builder';
import type { Model } from '../../../../src/core/ir/types';
import { computeReceptiveFields, mapReshape } from '../../../../src/core/analysis/receptiveField';
import { inferShapes } from '../../../../src/core/analysis/shapes/index';
import type { ReceptiveField } from '../../../../src/core/analysis/types';

const zeros = (n: number): number[] => new Array<number>(n).fill(0);

function fields(model: Model): { rf: Map<string, ReceptiveField | null>; warnings: string[] } {
  const shapes = inferShapes(model);
  const r = computeReceptiveFields(model.graph, { types: shapes.types, constants: shapes.constants });
  return { rf: new Map([...r.perNode].map(([n, v]) => [n.name, v])), warnings: r.warnings.map((w) => w.message) };
}

function conv(b: GraphBuilder, x: string, cin: number, cout: number, k: number[], attrs: Record<string, number[] | number | string>, name: string): string {
  const w = b.initializer(`${name}_w`, 'float32', [cout, cin, ...k], zeros(cout * cin * k.reduce((a, c) => a * c, 1)));
  return b.op('Conv', [x, w], { kernel_shape: k, ...attrs }, { name });
}

describe('core/analysis/receptiveField', () => {
  it("ResNet's conv1 (7×7/2, pad 3) matches the contract example: size 7, stride 2, start 0", () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 3, 224, 224]);
    const y = conv(b, x, 3, 64, [7, 7], { strides: [2, 2], pads: [3, 3, 3, 3] }, 'conv1');
    const p = b.op('MaxPool', [y], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, { name: 'pool' });
    b.output(p);
    const { rf } = fields(b.model());
    assert.deepEqual(rf.get('conv1'), { size: [7, 7], stride: [2, 2], start: [0, 0], global: false });
    // r = 7 + (3 − 1)·2 = 11, j = 4, centre 0 + (1 − 1)·2 = 0.
    assert.deepEqual(rf.get('pool'), { size: [11, 11], stride: [4, 4], start: [0, 0], global: false });
  });

  it('start is the centre of unit 0: without padding it moves right by (k − 1) / 2 per layer', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 3, 227, 227]);
    const y = conv(b, x, 3, 96, [11, 11], { strides: [4, 4] }, 'alex');
    const z = conv(b, y, 96, 8, [3, 3], {}, 'next');
    b.output(z);
    const { rf } = fields(b.model());
    assert.deepEqual(rf.get('alex'), { size: [11, 11], stride: [4, 4], start: [5, 5], global: false });
    // 11 + 2·4 = 19; centre 5 + 1·4 = 9.
    assert.deepEqual(rf.get('next'), { size: [19, 19], stride: [4, 4], start: [9, 9], global: false });
  });

  it('dilation widens the kernel to d(k − 1) + 1', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 1, 32, 32]);
    b.output(conv(b, x, 1, 1, [3, 3], { dilations: [2, 3], pads: [2, 3, 2, 3] }, 'dil'));
    assert.deepEqual(fields(b.model()).rf.get('dil'), { size: [5, 7], stride: [1, 1], start: [0, 0], global: false });
  });

  it('auto_pad SAME_UPPER, SAME_LOWER and VALID follow Operators.md', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 1, 8]);
    // Input 8, stride 2, k 4: total pad (4 − 1)·2 + 4 − 8 = 2 → 1 before either way.
    b.output(conv(b, x, 1, 1, [4], { strides: [2], auto_pad: 'SAME_UPPER' }, 'upper'));
    // Input 8, stride 2, k 3: total pad 1 → 0 before (UPPER) or 1 before (LOWER).
    b.output(conv(b, x, 1, 1, [3], { strides: [2], auto_pad: 'SAME_UPPER' }, 'upper3'));
    b.output(conv(b, x, 1, 1, [3], { strides: [2], auto_pad: 'SAME_LOWER' }, 'lower3'));
    b.output(conv(b, x, 1, 1, [3], { strides: [2], auto_pad: 'VALID', pads: [5, 5] }, 'valid'));
    const { rf } = fields(b.model());
    assert.deepEqual(rf.get('upper'), { size: [4], stride: [2], start: [0.5], global: false });
    assert.deepEqual(rf.get('upper3'), { size: [3], stride: [2], start: [1], global: false });
    assert.deepEqual(rf.get('lower3'), { size: [3], stride: [2], start: [0], global: false });
    assert.deepEqual(rf.get('valid'), { size: [3], stride: [2], start: [1], global: false });
  });

  it('3-D convolution and pooling with ceil_mode (which never changes unit 0)', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 2, 9, 9, 9]);
    const y = conv(b, x, 2, 2, [3, 3, 3], { pads: [1, 1, 1, 1, 1, 1] }, 'c3');
    const p = b.op('MaxPool', [y], { kernel_shape: [2, 2, 2], strides: [2, 2, 2], ceil_mode: 1 }, { name: 'pool' });
    const q = b.op('AveragePool', [y], { kernel_shape: [2, 2, 2], strides: [2, 2, 2] }, { name: 'pool2' });
    b.output(p);
    b.output(q);
    const { rf } = fields(b.model());
    assert.deepEqual(rf.get('c3'), { size: [3, 3, 3], stride: [1, 1, 1], start: [0, 0, 0], global: false });
    assert.deepEqual(rf.get('pool'), { size: [4, 4, 4], stride: [2, 2, 2], start: [0.5, 0.5, 0.5], global: false });
    assert.deepEqual(rf.get('pool'), rf.get('pool2'));
  });

  it('elementwise ops pass the field through; multi-path takes the largest and warns when grids disagree', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 4, 16, 16]);
    const a = conv(b, x, 4, 4, [3, 3], { pads: [1, 1, 1, 1] }, 'a');
    const a2 = conv(b, a, 4, 4, [3, 3], { pads: [1, 1, 1, 1] }, 'a2');
    const r = b.op('Relu', [a2], {}, { name: 'relu' });
    const add = b.op('Add', [r, x], {}, { name: 'add' });
    b.output(add);
    const shifted = conv(b, x, 4, 4, [3, 3], {}, 'unpadded');
    const shiftedPad = b.op('Pad', [shifted, b.initializer('pads', 'int64', [8], [0, 0, 1, 1, 0, 0, 1, 1])], {}, { name: 'pad' });
    const mismatch = b.op('Add', [add, shiftedPad], {}, { name: 'mismatch' });
    b.output(mismatch);
    const { rf, warnings } = fields(b.model());
    assert.deepEqual(rf.get('relu'), { size: [5, 5], stride: [1, 1], start: [0, 0], global: false });
    assert.deepEqual(rf.get('add'), rf.get('relu'));
    // The unpadded path's unit 0 is centred at 1; after padding by 1 it is centred at 0 again: no warning for that.
    assert.deepEqual(rf.get('pad'), { size: [3, 3], stride: [1, 1], start: [0, 0], global: false });
    assert.equal(warnings.length, 0);
  });

  it('warns when two merged paths disagree on stride', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 4, 16, 16]);
    const s1 = conv(b, x, 4, 4, [1, 1], { strides: [2, 2] }, 's2');
    const big = conv(b, x, 4, 4, [3, 3], { strides: [2, 2], pads: [1, 1, 1, 1] }, 'big');
    const fine = conv(b, big, 4, 4, [1, 1], {}, 'fine');
    const concat = b.op('Concat', [s1, fine], { axis: 1 }, { name: 'cat' });
    b.output(concat);
    const coarse = conv(b, x, 4, 4, [4, 4], { strides: [4, 4] }, 'coarse');
    const up = b.op('Resize', [coarse, '', b.initializer('sc', 'float32', [4], [1, 1, 2, 2])], { mode: 'nearest' }, { name: 'up' });
    const mix = b.op('Add', [up, s1], {}, { name: 'mix' });
    b.output(mix);
    const { rf, warnings } = fields(b.model());
    assert.deepEqual(rf.get('cat'), { size: [3, 3], stride: [2, 2], start: [0, 0], global: false });
    assert.deepEqual(rf.get('up'), { size: [4, 4], stride: [2, 2], start: [1.5, 1.5], global: false });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /mix/);
    assert.match(warnings[0], /centre/);
  });

  it('global pooling, spatial reductions and Flatten followed by Gemm are global; non-spatial outputs are null', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 4, 8, 8]);
    const c = conv(b, x, 4, 4, [3, 3], {}, 'c');
    b.output(b.op('GlobalAveragePool', [c], {}, { name: 'gap' }));
    b.output(b.op('ReduceMean', [c], { axes: [2, 3] }, { name: 'rmean' }));
    b.output(b.op('ReduceMean', [c], { axes: [1], keepdims: 1 }, { name: 'chmean' }));
    const flat = b.op('Flatten', [c], {}, { name: 'flat' });
    const w = b.initializer('w', 'float32', [144, 10], zeros(1440));
    const fc = b.op('Gemm', [flat, w], {}, { name: 'fc' });
    b.output(b.op('Relu', [fc], {}, { name: 'after' }));
    const v = b.input('v', 'float32', [1, 10]);
    b.output(b.op('Relu', [v], {}, { name: 'vector' }));
    const { rf } = fields(b.model());
    assert.deepEqual(rf.get('gap'), { global: true });
    assert.deepEqual(rf.get('rmean'), { global: true });
    assert.deepEqual(rf.get('chmean'), { size: [3, 3], stride: [1, 1], start: [1, 1], global: false });
    assert.equal(rf.get('flat'), null);
    assert.deepEqual(rf.get('fc'), { global: true });
    assert.deepEqual(rf.get('after'), { global: true });
    assert.equal(rf.get('vector'), null);
  });

  it("attention over all positions is global; a token-wise Linear keeps the patch field (ViT's patch embedding)", () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 3, 32, 32]);
    const patches = conv(b, x, 3, 8, [16, 16], { strides: [16, 16] }, 'patch');
    const seq = b.op('Reshape', [patches, b.initializer('shape', 'int64', [3], [1, 8, 4])], {}, { name: 'reshape' });
    const tokens = b.op('Transpose', [seq], { perm: [0, 2, 1] }, { name: 'tokens' });
    const wq = b.initializer('wq', 'float32', [8, 8], zeros(64));
    const q = b.op('MatMul', [tokens, wq], {}, { name: 'q' });
    const kt = b.op('Transpose', [q], { perm: [0, 2, 1] }, { name: 'kt' });
    const scores = b.op('MatMul', [q, kt], {}, { name: 'scores' });
    b.output(b.op('Softmax', [scores], { axis: -1 }, { name: 'softmax' }));
    const back = b.op('Transpose', [q], { perm: [0, 2, 1] }, { name: 'back' });
    const grid = b.op('Reshape', [back, b.initializer('shape2', 'int64', [4], [1, 8, 2, 2])], {}, { name: 'grid' });
    b.output(grid);
    const { rf } = fields(b.model());
    assert.deepEqual(rf.get('patch'), { size: [16, 16], stride: [16, 16], start: [7.5, 7.5], global: false });
    assert.equal(rf.get('tokens'), null);
    assert.equal(rf.get('q'), null);
    assert.deepEqual(rf.get('scores'), { global: true });
    assert.deepEqual(rf.get('softmax'), { global: true });
    // Splitting the flattened positions back into a grid cannot recover which position is which.
    assert.equal(rf.get('grid'), null);
  });

  it('a squeeze-and-excitation gate keeps the convolution field; a spatial global input does not', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 4, 8, 8]);
    const c = conv(b, x, 4, 4, [3, 3], { pads: [1, 1, 1, 1] }, 'c');
    const pooled = b.op('GlobalAveragePool', [c], {}, { name: 'squeeze' });
    const fc = conv(b, pooled, 4, 4, [1, 1], {}, 'excite');
    const gate = b.op('Sigmoid', [fc], {}, { name: 'gate' });
    const scaled = b.op('Mul', [c, gate], {}, { name: 'scale' });
    b.output(conv(b, scaled, 4, 4, [3, 3], { pads: [1, 1, 1, 1] }, 'after'));
    const spread = b.op('Expand', [gate, b.initializer('to', 'int64', [4], [1, 4, 8, 8])], {}, { name: 'spread' });
    b.output(b.op('Add', [spread, spread], {}, { name: 'spatialGlobal' }));
    const { rf } = fields(b.model());
    assert.deepEqual(rf.get('excite'), { global: true });
    assert.deepEqual(rf.get('scale'), { size: [3, 3], stride: [1, 1], start: [0, 0], global: false });
    assert.deepEqual(rf.get('after'), { size: [5, 5], stride: [1, 1], start: [0, 0], global: false });
    assert.deepEqual(rf.get('spatialGlobal'), { global: true });
  });

  it('transposed convolution with stride 1 is exact and upsampling divides the stride', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 2, 8, 8]);
    const c = conv(b, x, 2, 2, [3, 3], { strides: [2, 2], pads: [1, 1, 1, 1] }, 'down');
    const wt = b.initializer('wt', 'float32', [2, 2, 3, 3], zeros(36));
    const t1 = b.op('ConvTranspose', [c, wt], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 't1' });
    const t2 = b.op('ConvTranspose', [c, wt], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }, { name: 't2' });
    b.output(t1);
    b.output(t2);
    const { rf } = fields(b.model());
    // Stride 1: the same as a 3×3 conv with pad 1: 3 + 2·2 = 7.
    assert.deepEqual(rf.get('t1'), { size: [7, 7], stride: [2, 2], start: [0, 0], global: false });
    // Stride 2: even units read one input unit (3), odd units two (3 + 1·2 = 5); the largest is reported, with the
    // set of sizes, and the grid is back to 1.
    assert.deepEqual(rf.get('t2'), { size: [5, 5], stride: [1, 1], start: [0, 0], global: false, sizes: [[3, 5], [3, 5]] });
  });

  it('a rank-3 input becomes [N, C, L] at its first 1-D convolution', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 4, 100]);
    const y = conv(b, x, 4, 4, [5], { strides: [2] }, 'c1');
    b.output(conv(b, y, 4, 4, [5], { strides: [2] }, 'c2'));
    const { rf } = fields(b.model());
    assert.deepEqual(rf.get('c1'), { size: [5], stride: [2], start: [2], global: false });
    assert.deepEqual(rf.get('c2'), { size: [13], stride: [4], start: [6], global: false });
  });

  it('mapReshape keeps one-to-one axes and marks merged positional axes as mixed', () => {
    const f = { size: 3, stride: 1, start: 0 };
    assert.deepEqual(mapReshape([null, null, f, f], [1, 8, 4, 4], [1, 8, 16]), [null, null, 'mixed']);
    assert.deepEqual(mapReshape([null, null, f, f], [2, 8, 4, 4], [2, 8, 4, 4]), [null, null, f, f]);
    assert.deepEqual(mapReshape([null, null, f], [1, 8, 1], [1, 8]), [null, null]);
    assert.equal(mapReshape([null, null], [2, 3], [7]), undefined);
  });
});
