import { strict as assert } from 'node:assert';
import { GraphBuilder } from '../../../../../src/core/ir/builder';
import { orderNodes } from '../../../../../src/core/analysis/shapes/nodeOrder';

describe('shape node order', () => {
  it('keeps a sorted graph in file order and sorts an unsorted one', () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [1]);
    b.node('Relu', ['y'], {}, { name: 'second', outputs: ['z'] });
    b.node('Relu', ['x'], {}, { name: 'first', outputs: ['y'] });
    const g = b.build();
    assert.deepEqual(orderNodes(g).order.map((n) => n.name), ['first', 'second']);
    g.nodes.reverse();
    assert.deepEqual(orderNodes(g).order.map((n) => n.name), ['first', 'second']);
  });
  it('reports a cycle and still returns every node', () => {
    const b = new GraphBuilder();
    b.node('Relu', ['b'], {}, { name: 'p', outputs: ['a'] });
    b.node('Relu', ['a'], {}, { name: 'q', outputs: ['b'] });
    const r = orderNodes(b.build());
    assert.equal(r.order.length, 2);
    assert.ok(r.cyclic);
  });
});
