/// <reference lib="dom" />
import { strict as assert } from 'node:assert';
import type { PaneLayout } from '../../../src/protocol/messages';
import { SplitPane, clampRatio } from '../../../webview/splitPane';
import { makeDocument } from './fixtures';

function setup(initial?: PaneLayout) {
  const { document } = makeDocument();
  const first = document.createElement('div');
  const second = document.createElement('div');
  const changes: PaneLayout[] = [];
  const split = new SplitPane(document, first, second, { ...(initial ? { initial } : {}), onChange: (l) => changes.push(l) });
  document.body.appendChild(split.element);
  const key = (k: string): void => {
    split.divider.dispatchEvent(new (document.defaultView!.KeyboardEvent)('keydown', { key: k, bubbles: true }));
  };
  return { first, second, split, changes, key };
}

describe('webview/splitPane', () => {
  it('shares the space by the ratio and reports every change for the host to remember', () => {
    const { first, second, split, changes, key } = setup();
    assert.equal(first.style.flex, '0.5 1 0px');
    assert.equal(split.divider.getAttribute('role'), 'separator');
    key('ArrowRight');
    assert.equal(split.layout.ratio, 0.55);
    assert.equal(second.style.flex, `${1 - 0.55} 1 0px`);
    key('Home');
    assert.equal(split.layout.ratio, 0.15, 'never narrower than 15%');
    key('End');
    assert.equal(split.layout.ratio, 0.85);
    assert.deepEqual(changes.map((c) => c.ratio), [0.55, 0.15, 0.85]);
    assert.equal(split.divider.getAttribute('aria-valuenow'), '85');
  });

  it('stacks when narrow, and the arrow keys follow the orientation', () => {
    const { split, key } = setup();
    split.setOrientation('column');
    assert.equal(split.element.getAttribute('data-orientation'), 'column');
    assert.equal(split.divider.getAttribute('aria-orientation'), 'horizontal');
    key('ArrowRight');
    assert.equal(split.layout.ratio, 0.5, 'left/right do nothing to a horizontal divider');
    key('ArrowDown');
    assert.equal(split.layout.ratio, 0.55);
  });

  it('maximises either pane and restores both', () => {
    const { first, second, split, changes } = setup();
    split.toggleMaximized('second');
    assert.equal(first.hidden, true);
    assert.equal(second.hidden, false);
    assert.equal(split.divider.hidden, true);
    split.toggleMaximized('second');
    assert.equal(first.hidden, false);
    assert.equal(split.divider.hidden, false);
    split.toggleMaximized('first');
    assert.equal(second.hidden, true);
    assert.deepEqual(changes.map((c) => c.maximized), ['second', 'none', 'first']);
  });

  it('starts from a remembered layout and clamps nonsense', () => {
    const { first, split } = setup({ ratio: 0.3, maximized: 'first' });
    assert.equal(split.layout.ratio, 0.3);
    assert.equal(first.hidden, false);
    assert.equal(split.element.getAttribute('data-maximized'), 'first');
    assert.equal(clampRatio(2), 0.85);
    assert.equal(clampRatio(Number.NaN), 0.5);
  });
});
