import { strict as assert } from 'node:assert';
import { layeredLayout } from '../../../webview/layout';

function residualGraph(blocks: number) {
  const nodes: { id: string; width: number; height: number }[] = [];
  const edges: { from: string; to: string }[] = [];
  const add = (id: string, ...from: string[]): string => {
    nodes.push({ id, width: 100, height: 30 });
    for (const f of from) edges.push({ from: f, to: id });
    return id;
  };
  let x = add('in');
  for (let b = 0; b < blocks; b++) {
    const a = add(`b${b}a`, x);
    const c = add(`b${b}c`, a);
    x = add(`b${b}add`, x, c);
  }
  return { nodes, edges };
}

describe('webview/layout', () => {
  it('places every node, with each edge pointing down', () => {
    const { nodes, edges } = residualGraph(20);
    const result = layeredLayout(nodes, edges);
    assert.equal(result.nodes.size, nodes.length);
    for (const e of edges) {
      const a = result.nodes.get(e.from)!;
      const b = result.nodes.get(e.to)!;
      assert.ok(a.layer < b.layer, `${e.from} above ${e.to}`);
      assert.ok(a.y < b.y);
    }
    assert.equal(result.edges.length, edges.length);
  });

  it('routes long edges through the layers they cross', () => {
    const { nodes, edges } = residualGraph(1);
    const result = layeredLayout(nodes, edges);
    const skip = result.edges.find((e) => e.from === 'in' && e.to === 'b0add')!;
    assert.equal(skip.points.length, 4, 'source, two dummies, target');
    for (let i = 1; i < skip.points.length; i++) assert.ok(skip.points[i]!.y > skip.points[i - 1]!.y);
  });

  it('never overlaps nodes within a layer', () => {
    const nodes = Array.from({ length: 30 }, (_, i) => ({ id: `n${i}`, width: 40 + (i % 5) * 20, height: 20 }));
    const edges = nodes.slice(1).map((n, i) => ({ from: `n${Math.floor(i / 4)}`, to: n.id }));
    const result = layeredLayout(nodes, edges, { nodeGap: 10 });
    const byLayer = new Map<number, { x: number; width: number }[]>();
    for (const n of result.nodes.values()) byLayer.set(n.layer, [...(byLayer.get(n.layer) ?? []), n]);
    for (const layer of byLayer.values()) {
      layer.sort((a, b) => a.x - b.x);
      for (let i = 1; i < layer.length; i++) {
        assert.ok(layer[i]!.x - layer[i]!.width / 2 >= layer[i - 1]!.x + layer[i - 1]!.width / 2 + 10 - 1e-6);
      }
    }
  });

  it('survives a cycle', () => {
    const result = layeredLayout(
      [
        { id: 'a', width: 10, height: 10 },
        { id: 'b', width: 10, height: 10 },
        { id: 'c', width: 10, height: 10 },
      ],
      [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c' },
        { from: 'c', to: 'a' },
      ],
    );
    assert.equal(result.nodes.size, 3);
    for (const n of result.nodes.values()) assert.ok(Number.isFinite(n.x) && Number.isFinite(n.y));
  });

  it('lays out a 2,000-node graph', () => {
    const { nodes, edges } = residualGraph(667);
    const result = layeredLayout(nodes, edges);
    assert.equal(result.nodes.size, nodes.length);
    for (const n of result.nodes.values()) assert.ok(Number.isFinite(n.x) && Number.isFinite(n.y));
  });
});
