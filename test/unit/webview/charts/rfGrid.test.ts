/// <reference lib="dom" />
import { strict as assert } from 'node:assert';
import { rfGrid } from '../../../../webview/charts/rfGrid';
import { makeDocument } from '../fixtures';

describe('webview/charts/rfGrid', () => {
  const conv1 = { size: [7, 7], stride: [2, 2], start: [0, 0], global: false as const };

  it('draws the field of a corner unit reaching into the padding', () => {
    const { document } = makeDocument();
    const svg = rfGrid({ inputSize: [16, 16], rf: conv1, unit: [0, 0], outputSize: [8, 8] }, { maxSide: 230 }, document);
    assert.equal(svg.getAttribute('data-span'), '-3,3,-3,3');
    assert.equal(svg.getAttribute('data-padding'), '3,0,3,0');
    const cell = 230 / 19;
    const field = svg.querySelector('rect.rf-field')!;
    assert.ok(Math.abs(Number(field.getAttribute('width')) - 7 * cell) < 1e-9);
    const input = svg.querySelector('rect.rf-input')!;
    assert.ok(Math.abs(Number(input.getAttribute('width')) - 16 * cell) < 1e-9);
    assert.ok(Number(input.getAttribute('x')) > Number(field.getAttribute('x')), 'the field starts left of the input');
    assert.equal(svg.querySelectorAll('.rf-stride circle').length, 64, 'one stride dot per output unit');
    assert.equal(svg.querySelectorAll('.rf-gridlines line').length, 30);
    // Padding bands above and to the left of the input, each 3 pixels deep.
    const bands = [...svg.querySelectorAll('.rf-pad rect')];
    assert.equal(bands.length, 2);
    assert.ok(bands.every((b) => Math.abs(Math.min(Number(b.getAttribute('width')), Number(b.getAttribute('height'))) - 3 * cell) < 1e-9));
  });

  it('keeps an inner unit inside the input', () => {
    const { document } = makeDocument();
    const svg = rfGrid({ inputSize: [16, 16], rf: conv1, unit: [4, 3], outputSize: [8, 8] }, {}, document);
    assert.equal(svg.getAttribute('data-span'), '5,11,3,9');
    assert.equal(svg.getAttribute('data-padding'), '0,0,0,0');
    assert.equal(svg.querySelectorAll('.rf-pad rect').length, 0);
  });

  it('draws the stride grid of every unit on large outputs, as a pattern with one tile per stride', () => {
    const { document } = makeDocument();
    const svg = rfGrid({ inputSize: [224, 224], rf: conv1, unit: [56, 56], outputSize: [112, 112] }, { maxStrideDots: 400 }, document);
    assert.equal(svg.querySelectorAll('.rf-stride > circle').length, 0, 'no dot per unit');
    const lattice = svg.querySelector('.rf-stride-lattice')!;
    assert.equal(lattice.getAttribute('data-units'), String(112 * 112));
    const pattern = svg.querySelector('pattern.rf-stride-pattern')!;
    assert.equal(lattice.getAttribute('fill'), `url(#${pattern.getAttribute('id')})`);
    // One tile per stride (2 input pixels), and the lattice spans all 112 units: the whole grid, not a neighbourhood.
    const tile = Number(pattern.getAttribute('width'));
    assert.ok(Math.abs(Number(lattice.getAttribute('width')) - 112 * tile) < 1e-6);
    assert.equal(svg.querySelectorAll('.rf-gridlines line').length, 0, 'no grid lines when cells are too small');
  });

  it('draws one-dimensional fields as a single row', () => {
    const { document } = makeDocument();
    const rf = { size: [5], stride: [1], start: [0], global: false as const };
    const svg = rfGrid({ inputSize: [32], rf, unit: [10], outputSize: [32] }, {}, document);
    assert.equal(svg.getAttribute('data-span'), '0,0,8,12');
  });
});
