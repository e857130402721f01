import { strict as assert } from 'node:assert';
import { breakdown, buildScopeTree, scopePath } from '../../../../src/core/analysis/scopes';
import { deeperBnConvNet } from '../../webview/fixtures';

describe('core/analysis/scopes', () => {
  it('reads scopes from PyTorch exporter names, dropping the repeated parent prefix', () => {
    assert.deepEqual(scopePath('/layer1/layer1.0/conv1/Conv'), ['layer1', '0', 'conv1']);
    assert.deepEqual(scopePath('/layer1/layer1.0/Add_1'), ['layer1', '0']);
    assert.deepEqual(scopePath('/Flatten'), []);
  });

  it('keeps the downsample branches of different blocks apart, as the exporter names them under their parent', () => {
    // ResNet-18 exported by torch.onnx: each block's downsample conv is written relative to the previous segment.
    assert.deepEqual(scopePath('/layer2/layer2.0/downsample/downsample.0/Conv'), ['layer2', '0', 'downsample', '0']);
    assert.deepEqual(scopePath('/layer3/layer3.0/downsample/downsample.1/BatchNormalization'), ['layer3', '0', 'downsample', '1']);
    assert.notDeepEqual(scopePath('/layer2/layer2.0/downsample/downsample.0/Conv'), scopePath('/layer3/layer3.0/downsample/downsample.0/Conv'));
  });

  it('reads scopes from dotted module paths', () => {
    assert.deepEqual(scopePath('layer1.0.conv1'), ['layer1', '0']);
    assert.deepEqual(scopePath('fc'), []);
  });

  it('sums layer params and MACs into every enclosing scope', () => {
    const summary = deeperBnConvNet();
    const tree = buildScopeTree(summary.layers);
    const expectedParams = summary.layers.reduce((a, l) => a + l.params, 0);
    assert.equal(tree.size, summary.layers.length);
    assert.equal(tree.params, expectedParams);
    const net = tree.children.find((c) => c.name === 'net')!;
    assert.equal(net.size, 21);
    assert.equal(net.params, summary.layers.filter((l) => l.name.startsWith('/net/')).reduce((a, l) => a + l.params, 0));
  });

  it('breaks a metric down by op, largest first', () => {
    const summary = deeperBnConvNet();
    const items = breakdown(summary.layers, 'op', 'params');
    assert.equal(items[0]!.label, 'Conv');
    assert.equal(items[0]!.count, 7);
    assert.equal(items[0]!.value, summary.layers.filter((l) => l.op === 'Conv').reduce((a, l) => a + l.params, 0));
    for (let i = 1; i < items.length; i++) assert.ok(items[i - 1]!.value >= items[i]!.value);
  });

  it('breaks a metric down by scope at a depth, with top-level layers grouped', () => {
    const summary = deeperBnConvNet();
    summary.layers[summary.layers.length - 1]!.name = 'Gemm_0';
    const items = breakdown(summary.layers, 'scope', 'macs', 2);
    const labels = items.map((i) => i.label);
    assert.ok(labels.includes('net.0'));
    assert.ok(labels.includes('(top level)'));
    assert.ok(labels.includes('pool'), 'a shallower scope keeps its own label');
    assert.equal(items.reduce((a, i) => a + i.value, 0), summary.layers.reduce((a, l) => a + l.macs, 0));
  });
});
