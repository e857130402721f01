/// <reference lib="dom" />
import { strict as assert } from 'node:assert';
import { RfExplorer } from '../../../webview/rfExplorer';
import { blockChain, deeperBnConvNet, makeDocument } from './fixtures';

describe('webview/rfExplorer', () => {
  it('opens on the deepest spatial layer, centred, with the depth plot', () => {
    const { document } = makeDocument();
    const summary = deeperBnConvNet();
    const explorer = new RfExplorer(document, summary);
    assert.equal(explorer.currentLayer, 20, 'the last ReLU with a spatial field');
    // Its output is 4×4; the centre unit is (1, 1).
    assert.deepEqual(explorer.currentUnit, [1, 1]);
    const grid = explorer.element.querySelector('svg.rf-grid')!;
    // Field 45, stride 8, start 0: unit 1 is centred at 8 and spans -14…30.
    assert.equal(grid.getAttribute('data-span'), '-14,30,-14,30');
    assert.equal(explorer.element.querySelectorAll('svg.rf-depth circle.rf-point').length, 7);
    assert.match(explorer.element.querySelector('.rf-caption')!.textContent!, /field 45×45, stride 8×8/);
    assert.equal(explorer.element.querySelectorAll('vscode-option').length, 21);
  });

  it('switches layers and clamps the chosen unit to the output grid', () => {
    const { document } = makeDocument();
    const explorer = new RfExplorer(document, deeperBnConvNet());
    assert.equal(explorer.showLayer(0), true);
    explorer.setUnit([40, -3]);
    assert.deepEqual(explorer.currentUnit, [31, 0]);
    assert.equal(explorer.element.querySelector('svg.rf-grid')!.getAttribute('data-span'), '30,32,-1,1');
    assert.equal(explorer.element.querySelector('.rf-highlight')!.getAttribute('data-layer'), '0');
  });

  it('ignores layers without a spatial field', () => {
    const { document } = makeDocument();
    const explorer = new RfExplorer(document, deeperBnConvNet());
    assert.equal(explorer.showLayer(22), false, 'Gemm has a global field');
    assert.equal(explorer.currentLayer, 20);
  });

  it('explains when no layer has a spatial field', () => {
    const { document } = makeDocument();
    const explorer = new RfExplorer(document, blockChain(20));
    assert.equal(explorer.currentLayer, -1);
    assert.match(explorer.element.querySelector('.rf-caption')!.textContent!, /No layer/);
  });
});
