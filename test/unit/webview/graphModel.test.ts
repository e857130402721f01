import { strict as assert } from 'node:assert';
import { GraphModel, inputId, layerId, outputId } from '../../../webview/graphModel';
import { blockChain, deeperBnConvNet } from './fixtures';

describe('webview/graphModel', () => {
  it('opens scopes breadth-first up to the threshold', () => {
    const summary = blockChain(200);
    const model = new GraphModel(summary);
    const expanded = model.initialExpansion(60);
    const graph = model.visible(expanded);
    assert.ok(graph.items.length <= 60 + 2, `visible ${graph.items.length}`);
    assert.ok(expanded.has('blocks'));
    assert.ok(expanded.has('blocks/0'), 'the first blocks open while the budget lasts');
    assert.ok(!expanded.has('blocks/19'), 'later blocks stay closed');
  });

  it('shows every layer, the inputs and the outputs of a small graph', () => {
    const summary = deeperBnConvNet();
    const model = new GraphModel(summary);
    const graph = model.visible(model.initialExpansion(500));
    const layerItems = graph.items.filter((i) => i.kind === 'layer');
    assert.equal(layerItems.length, summary.layers.length);
    assert.deepEqual(new Set(layerItems.map((i) => i.layerIndex)), new Set(summary.layers.map((_, i) => i)));
    assert.ok(graph.items.some((i) => i.id === inputId('input')));
    assert.ok(graph.items.some((i) => i.id === outputId('output')));
  });

  it('labels edges with the shape of the tensor they carry', () => {
    const summary = deeperBnConvNet();
    const model = new GraphModel(summary);
    const graph = model.visible(new Set(model.collapsibleKeys()));
    const first = graph.edges.find((e) => e.from === inputId('input') && e.to === layerId(0));
    assert.equal(first?.label, '[1, 3, 32, 32]');
    const convToBn = graph.edges.find((e) => e.from === layerId(0) && e.to === layerId(1));
    assert.equal(convToBn?.label, '[1, 16, 32, 32]');
    // Weights are initializers, not graph inputs, so they have no edge.
    assert.ok(!graph.edges.some((e) => e.from.includes('weight')));
    assert.equal(graph.edges.length, summary.layers.length + 1);
  });

  it('opens a large graph collapsed, within the threshold', () => {
    const summary = blockChain(20000);
    const model = new GraphModel(summary);
    const expanded = model.initialExpansion(200);
    const graph = model.visible(expanded);
    // The lone top-level scope opens even though its 2,000 blocks exceed the threshold; the blocks stay closed.
    assert.ok(expanded.has('blocks'));
    assert.equal(graph.items.length, 2000 + 2);
    const scopes = graph.items.filter((i) => i.kind === 'scope');
    assert.equal(scopes.length, 2000);
    // The collapsed items still stand for every layer.
    const represented = graph.items.reduce((a, i) => a + (i.kind === 'layer' ? 1 : i.kind === 'scope' ? i.size : 0), 0);
    assert.equal(represented, 20000);
  });

  it('collapses a scope into one node and reroutes its edges', () => {
    const summary = blockChain(30);
    const model = new GraphModel(summary);
    const all = new Set(model.collapsibleKeys());
    all.delete('blocks/1');
    const graph = model.visible(all);
    const scope = graph.items.find((i) => i.id === 'scope:blocks/1');
    assert.ok(scope);
    assert.equal(scope.size, 10);
    assert.equal(graph.items.filter((i) => i.kind === 'layer').length, 20);
    assert.ok(graph.edges.some((e) => e.from === layerId(9) && e.to === 'scope:blocks/1'));
    assert.ok(graph.edges.some((e) => e.from === 'scope:blocks/1' && e.to === layerId(20)));
    assert.ok(!graph.edges.some((e) => e.from === e.to));
    // The residual edge from block 0's output into block 1 and the chain edge merge into one edge carrying two tensors.
    const into = graph.edges.filter((e) => e.to === 'scope:blocks/1');
    assert.equal(into.length, 1);
    assert.equal(into[0]!.tensors, 2);
  });

  it('finds the item that stands for a hidden layer, and the scopes around it', () => {
    const summary = blockChain(30);
    const model = new GraphModel(summary);
    assert.equal(model.ownerOf(15, new Set(['blocks'])), 'scope:blocks/1');
    assert.equal(model.ownerOf(15, new Set(['blocks', 'blocks/1'])), layerId(15));
    assert.deepEqual(model.ancestors(15), ['blocks', 'blocks/1', 'blocks/1/relu5']);
  });

  it('reports clusters for expanded scopes', () => {
    const summary = blockChain(30);
    const model = new GraphModel(summary);
    const graph = model.visible(new Set(model.collapsibleKeys()));
    const keys = graph.clusters.map((c) => c.key);
    assert.ok(keys.includes('blocks/0'));
    assert.equal(graph.clusters.find((c) => c.key === 'blocks/0')!.members.length, 10);
  });
});
