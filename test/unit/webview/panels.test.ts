import { strict as assert } from 'node:assert';
import { pngScale } from '../../../webview/exportImage';
import { factoryExportName, pickFactory } from '../../../webview/panels';

describe('webview/panels', () => {
  it('names the factories the shell looks for', () => {
    assert.equal(factoryExportName('probe'), 'createProbePanel');
    assert.equal(factoryExportName('grad'), 'createGradPanel');
  });

  it('picks a factory only when the module exports a function under that name', () => {
    const factory = () => ({ element: null as never, update: () => undefined });
    assert.equal(pickFactory('probe', { createProbePanel: factory }), factory);
    assert.equal(pickFactory('grad', { createProbePanel: factory }), null);
    assert.equal(pickFactory('probe', { createProbePanel: 'nope' }), null);
    assert.equal(pickFactory('probe', null), null);
  });
});

describe('webview/exportImage', () => {
  it('keeps PNG exports within canvas limits', () => {
    assert.equal(pngScale(800, 600), 2);
    const tall = pngScale(440, 148_716);
    assert.ok(148_716 * tall <= 16_384 && tall > 0);
    assert.ok(440 * tall * 148_716 * tall <= 268_435_456);
  });
});
