import { strict as assert } from 'node:assert';
import { GraphBuilder } from '../../../../../src/core/ir/builder';
import type { Graph } from '../../../../../src/core/ir/types';
import { inferShapes } from '../../../../../src/core/analysis/shapes/index';

/** A branch that applies `op` to an outer-scope value and declares its output with no shape. */
function branch(name: string, build: (b: GraphBuilder) => string): Graph {
  const b = new GraphBuilder(name);
  const out = build(b);
  b.output(out, 'float32', null);
  return b.build();
}

describe('shape rules: control flow', () => {
  it('If joins its branches: equal dims stay, differing ones become unknown', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', ['N', 8]);
    const cond = b.input('cond', 'bool', []);
    const thenG = branch('then', (g) => g.op('Relu', [x], {}, { output: 't_out' }));
    const elseG = branch('else', (g) => g.op('Concat', [x, x], { axis: 1 }, { output: 'e_out' }));
    const y = b.op('If', [cond], { then_branch: thenG, else_branch: elseG });
    const r = inferShapes(b.model(13));
    assert.deepEqual(r.types.get(y), { dtype: 'float32', shape: ['N', null] });
  });

  it('If with a constant condition takes the chosen branch', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', ['N', 8]);
    const cond = b.initializer('cond', 'bool', [], [0]);
    const thenG = branch('then', (g) => g.op('Relu', [x], {}, { output: 't_out' }));
    const elseG = branch('else', (g) => g.op('Concat', [x, x], { axis: 1 }, { output: 'e_out' }));
    const y = b.op('If', [cond], { then_branch: thenG, else_branch: elseG });
    assert.deepEqual(inferShapes(b.model(13)).types.get(y)?.shape, ['N', 16]);
  });

  it('Loop keeps carried values and stacks scan outputs on a new leading axis', () => {
    const body = new GraphBuilder('body');
    body.input('i', 'int64', []);
    const condIn = body.input('cond_in', 'bool', []);
    const acc = body.input('acc', 'float32', null);
    const condOut = body.op('Identity', [condIn], {}, { output: 'cond_out' });
    const next = body.op('Add', [acc, acc], {}, { output: 'acc_out' });
    const scan = body.op('ReduceSum', [acc], { keepdims: 0, axes: [1] }, { output: 'scan_out' });
    body.output(condOut, 'bool', []);
    body.output(next, 'float32', null);
    body.output(scan, 'float32', null);
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 3]);
    const m = b.initializer('M', 'int64', [], [5]);
    const outs = b.node('Loop', [m, '', x], { body: body.build() }, { outputs: 2 });
    // Opset 11, where ReduceSum still takes axes as an attribute; subgraphs use the model's opset.
    const r = inferShapes(b.model(11));
    assert.deepEqual(r.types.get(outs[0])?.shape, [2, 3]);
    // No loop condition and a body that passes its condition through: exactly M iterations.
    assert.deepEqual(r.types.get(outs[1])?.shape, [5, 2]);
    const data = new GraphBuilder();
    const y = data.input('x', 'float32', [2, 3]);
    const stop = data.input('stop', 'bool', []);
    const dynamic = data.node('Loop', [data.initializer('M', 'int64', [], [5]), stop, y], { body: body.build() }, { outputs: 2 });
    assert.deepEqual(inferShapes(data.model(11)).types.get(dynamic[1])?.shape, [null, 2]);
  });

  it('Scan slices scan inputs along the axis and stacks scan outputs (opset 9+)', () => {
    const body = new GraphBuilder('body');
    const state = body.input('s', 'float32', null);
    const slice = body.input('row', 'float32', null);
    const sum = body.op('Add', [state, slice], {}, { output: 's_out' });
    const copy = body.op('Identity', [sum], {}, { output: 'y_out' });
    body.output(sum, 'float32', null);
    body.output(copy, 'float32', null);
    const b = new GraphBuilder();
    const init = b.input('init', 'float32', [4]);
    const xs = b.input('xs', 'float32', [7, 4]);
    const outs = b.node('Scan', [init, xs], { body: body.build(), num_scan_inputs: 1 }, { outputs: 2 });
    const r = inferShapes(b.model(11));
    assert.deepEqual(r.types.get(outs[0])?.shape, [4]);
    assert.deepEqual(r.types.get(outs[1])?.shape, [7, 4]);
  });

  it('sequence ops are known and do not warn', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2]);
    const s = b.op('SequenceConstruct', [x, x]);
    const n = b.op('SequenceLength', [s]);
    const r = inferShapes(b.model(13));
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.types.get(n), { dtype: 'int64', shape: [] });
  });
});
