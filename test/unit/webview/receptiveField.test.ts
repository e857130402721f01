import type { LayerSummary } from '../../../src/core/analysis/types';
import { strict as assert } from 'node:assert';
import { clampUnit, depthSeries, paddingOverlap, spatialDims, unitNearest, unitSpan } from '../../../webview/receptiveField';
import { deeperBnConvNet } from './fixtures';

describe('webview/receptiveField', () => {
  // ResNet's conv1: 7x7, stride 2, padding 3. Unit 0 is centred on input pixel 0 and reaches 3 pixels into padding.
  const conv1 = { size: [7, 7], stride: [2, 2], start: [0, 0], global: false as const };

  it('locates a unit from size, stride and start', () => {
    assert.deepEqual(unitSpan(conv1, [0, 0])[0], { low: -3, high: 3, centre: 0 });
    assert.deepEqual(unitSpan(conv1, [5, 10])[1], { low: 17, high: 23, centre: 20 });
  });

  it('measures the padding a field reaches into', () => {
    assert.deepEqual(paddingOverlap({ low: -3, high: 3, centre: 0 }, 224), { before: 3, after: 0 });
    assert.deepEqual(paddingOverlap({ low: 219, high: 225, centre: 222 }, 224), { before: 0, after: 2 });
  });

  it('reads spatial dims only when they are known', () => {
    assert.deepEqual(spatialDims([1, 3, 224, 224], 2), [224, 224]);
    assert.equal(spatialDims(['N', 3, 'H', 224], 2), null);
    assert.equal(spatialDims(null, 2), null);
  });

  it('clamps and picks units inside the output grid', () => {
    assert.deepEqual(clampUnit([-1, 500], [112, 112]), [0, 111]);
    assert.deepEqual(unitNearest(conv1, [40, 41], [112, 112]), [20, 21]);
  });

  it('follows the lecture: DeeperBNConvNet fields grow 3, 5, 9, 13, 21, 29, 45', () => {
    const series = depthSeries(deeperBnConvNet().layers);
    assert.deepEqual(series.map((p) => p.size), [3, 5, 9, 13, 21, 29, 45]);
    assert.deepEqual(series.map((p) => p.depth), [1, 2, 3, 4, 5, 6, 7]);
  });

  it('follows the path that sets the field, so a residual block\'s 1x1 downsample conv is not a dip', () => {
    const summary = deeperBnConvNet();
    const layers = [...summary.layers];
    // A residual block on top of conv 6 (field 45, stride 8): conv7 3x3 stride 2 on the main path (45 + 2·8 = 61), and
    // a 1x1 stride-2 downsample of the block input beside it (field 45), merged by an Add.
    const base = layers.find((l) => l.name === '/net/net.20/Relu')!;
    const rf = (size: number): LayerSummary['receptiveField'] => ({ size: [size, size], stride: [16, 16], start: [0, 0], global: false });
    const mk = (name: string, op: string, inputs: string[], size: number): LayerSummary => ({
      ...base,
      name,
      op,
      inputs,
      outputs: [{ name: `${name}_out`, shape: [1, 112, 2, 2], dtype: 'float32' }],
      receptiveField: rf(size),
    });
    const tail = layers.splice(layers.indexOf(base) + 1);
    layers.push(
      mk('/block/downsample/Conv', 'Conv', ['/net/net.20/Relu_output_0'], 45),
      mk('/block/conv/Conv', 'Conv', ['/net/net.20/Relu_output_0'], 61),
      mk('/block/Add', 'Add', ['/block/conv/Conv_out', '/block/downsample/Conv_out'], 61),
    );
    tail[0] = { ...tail[0]!, inputs: ['/block/Add_out'] };
    layers.push(...tail);
    const series = depthSeries(layers);
    assert.deepEqual(series.map((p) => p.size), [3, 5, 9, 13, 21, 29, 45, 61]);
    assert.ok(!series.some((p) => p.name.includes('downsample')));
  });
});
