import { strict as assert } from 'node:assert';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { repoRoot } from './codeServer';
import { artifacts, openEditor, type EditorSession } from './editorSession';
import { findFrameWithText, quickOpen } from './workbench';

/**
 * Restricted Mode in a real VS Code: the folder is not trusted, so the inspector's static analysis works while
 * everything that runs the model is off and says why.
 */

describe('Layerscope in Restricted Mode (untrusted folder)', function () {
  let session: EditorSession | undefined;
  let page: Page;
  let workspace: string;

  before(async function () {
    this.timeout(900_000);
    workspace = mkdtempSync(join(tmpdir(), 'layerscope-untrusted-'));
    copyFileSync(join(repoRoot, 'samples', 'deeper_bn_convnet.onnx'), join(workspace, 'deeper_bn_convnet.onnx'));
    session = await openEditor({ folder: workspace, restricted: true });
    page = session.page;
  });

  after(async function () {
    this.timeout(60_000);
    await page?.screenshot({ path: join(artifacts, 'restricted.png') }).catch(() => undefined);
    await session?.close();
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  it('still shows the summary, and the probe panels say why they are off', async function () {
    await quickOpen(page, 'deeper_bn_convnet.onnx');
    const frame = await findFrameWithText(page, ['deeper_bn_convnet.onnx', '17,020'], 60_000);
    const notes = await frame.evaluate(() => [...document.querySelectorAll('.panel-restricted')].map((e) => e.textContent ?? ''));
    assert.ok(notes.length > 0, 'the probe panels show a Restricted Mode note');
    assert.ok(notes.every((n) => /off in Restricted Mode/.test(n)), notes.join(' | '));
    assert.equal(await frame.evaluate(() => document.querySelectorAll('.probe-run').length), 0, 'no Run probe button');
  });

  it('does not offer Run Activation Probe in the palette', async function () {
    /** How many palette rows match `title` (after a pause long enough for the list to settle). */
    const paletteRows = async (title: string): Promise<number> => {
      await page.locator('.part.sidebar .composite.title').first().click();
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 15_000 });
      await input.fill(`>${title}`);
      await page.waitForTimeout(1500);
      const count = await page.locator('.quick-input-list .monaco-list-row:visible', { hasText: title }).count();
      await page.keyboard.press('Escape');
      return count;
    };
    // The palette works here, so that an empty result below means the command is off, not a broken query.
    assert.ok((await paletteRows('Layerscope: Show Model Summary')) > 0);
    assert.equal(await paletteRows('Layerscope: Run Activation Probe'), 0);
  });
});
