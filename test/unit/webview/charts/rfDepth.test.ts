/// <reference lib="dom" />
import { strict as assert } from 'node:assert';
import { rfDepthChart } from '../../../../webview/charts/rfDepth';
import { depthSeries } from '../../../../webview/receptiveField';
import { deeperBnConvNet, makeDocument } from '../fixtures';

describe('webview/charts/rfDepth', () => {
  it("plots the lecture's growing receptive fields", () => {
    const { document } = makeDocument();
    const series = depthSeries(deeperBnConvNet().layers);
    const svg = rfDepthChart(series, { highlight: series[3]!.layerIndex, height: 260 }, document);
    const points = [...svg.querySelectorAll('circle.rf-point')];
    assert.deepEqual(points.map((p) => Number(p.getAttribute('data-size'))), [3, 5, 9, 13, 21, 29, 45]);
    const ys = points.map((p) => Number(p.getAttribute('cy')));
    for (let i = 1; i < ys.length; i++) assert.ok(ys[i]! < ys[i - 1]!, 'bigger fields are drawn higher');
    assert.equal(svg.querySelectorAll('.rf-highlight').length, 1);
    assert.equal(svg.querySelector('.rf-highlight')!.getAttribute('data-size'), '13');
    assert.ok(svg.querySelector('path.rf-line'));
  });

  it('says so when there is nothing to plot', () => {
    const { document } = makeDocument();
    const svg = rfDepthChart([], {}, document);
    assert.equal(svg.querySelectorAll('circle').length, 0);
    assert.match(svg.querySelector('.chart-empty')!.textContent!, /No convolution/);
  });
});
