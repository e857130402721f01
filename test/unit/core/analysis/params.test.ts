import * as assert from 'node:assert/strict';
import { GraphBuilder } from '../../../../src/core/ir/builder';
import { makeTensor } from '../../../../src/core/ir/tensorData';
import type { Graph } from '../../../../src/core/ir/types';
import { countParams } from '../../../../src/core/analysis/params';

const zeros = (n: number): number[] => new Array<number>(n).fill(0);

function nodeParams(graph: Graph, name: string): number | undefined {
  const analysis = countParams(graph);
  const node = graph.nodes.find((n) => n.name === name);
  return node ? analysis.perNode.get(node)?.params : undefined;
}

describe('core/analysis/params', () => {
  it('counts a Conv weight and bias: Cout*Cin*k*k + Cout', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 3, 8, 8]);
    const w = b.initializer('w', 'float32', [15, 3, 3, 3], zeros(405));
    const bias = b.initializer('b', 'float32', [15], zeros(15));
    b.output(b.op('Conv', [x, w, bias], { kernel_shape: [3, 3] }, { name: 'conv' }));
    const g = b.build();
    const r = countParams(g);
    assert.equal(r.totals.params, 15 * 3 * 9 + 15);
    assert.equal(r.totals.trainableParams, 420);
    assert.equal(r.totals.paramBytes, 420 * 4);
    assert.deepEqual(r.totals.paramBytesByDtype, { float32: 1680 });
    assert.equal(nodeParams(g, 'conv'), 420);
  });

  it('counts a shared initializer once in the totals and in every row that reads it', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 4]);
    const w = b.initializer('w', 'float32', [4, 4], zeros(16));
    const y = b.op('MatMul', [x, w], {}, { name: 'first' });
    b.output(b.op('MatMul', [y, w], {}, { name: 'second' }));
    const g = b.build();
    const r = countParams(g);
    assert.equal(r.totals.params, 16);
    assert.equal(nodeParams(g, 'first'), 16);
    assert.equal(nodeParams(g, 'second'), 16);
  });

  it('gives a parameter passed through Identity nodes to the layers that read it, not to the Identities', () => {
    // PyTorch's exporter writes equal tensors once and hands each Conv a copy through an Identity (ResNet-18's folded
    // BatchNorm biases of a fresh model are all zero).
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 4, 8, 8]);
    const w1 = b.initializer('w1', 'float32', [4, 4, 3, 3], zeros(144));
    const w2 = b.initializer('w2', 'float32', [4, 4, 3, 3], zeros(144));
    const bias = b.initializer('bias', 'float32', [4], zeros(4));
    const b1 = b.op('Identity', [bias], {}, { name: 'Identity_0' });
    const b2 = b.op('Identity', [b.op('Identity', [bias], {}, { name: 'Identity_1' })], {}, { name: 'Identity_2' });
    const y = b.op('Conv', [x, w1, b1], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'conv1' });
    b.output(b.op('Conv', [y, w2, b2], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'conv2' }));
    const g = b.build();
    const r = countParams(g);
    assert.equal(r.totals.params, 144 + 144 + 4, 'the shared bias counts once in the totals');
    assert.equal(nodeParams(g, 'conv1'), 148);
    assert.equal(nodeParams(g, 'conv2'), 148, 'through a chain of two Identities');
    for (const id of ['Identity_0', 'Identity_1', 'Identity_2']) assert.equal(nodeParams(g, id), 0, id);
    assert.deepEqual(r.shared, [{ name: 'bias', elements: 4, users: 2 }]);
  });

  it('does not count integer constants, unused initializers or configuration inputs', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 3, 4, 4]);
    const shape = b.initializer('shape', 'int64', [2], [1, -1]);
    b.initializer('unused', 'float32', [10], zeros(10));
    const scales = b.initializer('scales', 'float32', [4], [1, 1, 2, 2]);
    const lo = b.initializer('lo', 'float32', [], [0]);
    const up = b.op('Resize', [x, '', scales], { mode: 'nearest' });
    const c = b.op('Clip', [up, lo]);
    b.output(b.op('Reshape', [c, shape]));
    const r = countParams(b.build());
    assert.equal(r.totals.params, 0);
    assert.equal(r.tensors.length, 0);
  });

  it("separates BatchNormalization's running statistics as non-trainable", () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 15, 4, 4]);
    const ins = ['scale', 'bias', 'mean', 'var'].map((n) => b.initializer(n, 'float32', [15], zeros(15)));
    b.output(b.op('BatchNormalization', [x, ...ins], {}, { name: 'bn' }));
    const g = b.build();
    const r = countParams(g);
    assert.equal(r.totals.params, 60);
    assert.equal(r.totals.trainableParams, 30);
    assert.equal(r.totals.nonTrainableParams, 30);
    assert.deepEqual(countParams(g).perNode.get(g.nodes[0]), { params: 60, trainable: 30, nonTrainable: 30 });
  });

  it('counts bytes by dtype for float16, float64 and bfloat16', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 2]);
    const h = b.initializer('h', 'float16', [2, 2], zeros(4));
    const d = b.initializer('d', 'float64', [2], zeros(2));
    const bf = b.initializer('bf', 'bfloat16', [3], zeros(3));
    const y = b.op('MatMul', [x, h]);
    const z = b.op('Add', [y, d]);
    b.output(b.op('Mul', [z, bf]));
    const r = countParams(b.build());
    assert.equal(r.totals.params, 9);
    assert.deepEqual(r.totals.paramBytesByDtype, { float16: 8, float64: 16, bfloat16: 6 });
    assert.equal(r.totals.paramBytes, 30);
  });

  it('counts the stored values of a sparse initializer', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 100]);
    b.output(b.op('MatMul', [x, 'sparse_w']));
    const g: Graph = {
      ...b.build(),
      sparseInitializers: [
        {
          values: makeTensor('sparse_w', 'float32', [3], [1, 2, 3]),
          indices: makeTensor('sparse_w_idx', 'int64', [3], [0, 5, 9]),
          dims: [100, 10],
        },
      ],
    };
    assert.equal(countParams(g).totals.params, 3);
  });

  it('counts a float Constant that feeds a weight slot, but not scalar constants', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 4]);
    const w = b.op('Constant', [], { value: makeTensor('w', 'float32', [4, 3], zeros(12)) });
    const bias = b.op('Constant', [], { value: makeTensor('bias', 'float32', [3], zeros(3)) });
    const scale = b.op('Constant', [], { value: makeTensor('s', 'float32', [], [0.5]) });
    const y = b.op('MatMul', [x, w]);
    const z = b.op('Add', [y, bias]);
    b.output(b.op('Mul', [z, scale]));
    const r = countParams(b.build());
    assert.equal(r.totals.params, 15);
    assert.ok(r.tensors.every((t) => t.origin === 'constant'));
  });

  it('attributes outer initializers read inside a subgraph to the node that owns it', () => {
    const inner = new GraphBuilder('body');
    const w = 'outer_w';
    inner.output(inner.op('MatMul', ['x', w], {}, { output: 'y_then' }));
    const thenBranch = inner.build();
    const elseB = new GraphBuilder('else');
    elseB.output(elseB.op('Identity', ['x'], {}, { output: 'y_else' }));
    const b = new GraphBuilder();
    b.input('x', 'float32', [1, 2]);
    const cond = b.input('cond', 'bool', []);
    b.initializer('outer_w', 'float32', [2, 2], zeros(4));
    b.output(b.op('If', [cond], { then_branch: thenBranch, else_branch: elseB.build() }, { name: 'if' }));
    const g = b.build();
    assert.equal(nodeParams(g, 'if'), 4);
    assert.equal(countParams(g).totals.params, 4);
  });
});
