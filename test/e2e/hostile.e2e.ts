import { strict as assert } from 'node:assert';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { constantOfShapeRank, fanoutChain, recursiveFunction } from '../unit/hostile/onnxBombs';
import { repoRoot } from './codeServer';
import { openEditor, screenshotTest, type EditorSession } from './editorSession';
import { findFrameWithText, notifications, quickOpen, runCommand } from './workbench';

/**
 * Issue 11 inside the editor: the inspector runs the same static analysis in the extension host, so a hostile model
 * must end in its one-line error (or a warning) within bounded time there too, and the editor must keep working.
 * Before the fix, each of these files hung the extension host.
 */

/** How long a hostile file may take to show its verdict; the CLI bound, with room for the webview to load. */
const VERDICT_MS = 30_000;

describe('Layerscope on hostile models in a real VS Code (code-server + Chromium)', function () {
  let session: EditorSession | undefined;
  let page: Page;
  let workspace: string;

  before(async function () {
    this.timeout(900_000);
    workspace = mkdtempSync(join(tmpdir(), 'layerscope-hostile-ws-'));
    copyFileSync(join(repoRoot, 'samples', 'deeper_bn_convnet.onnx'), join(workspace, 'deeper_bn_convnet.onnx'));
    writeFileSync(join(workspace, 'fanout.onnx'), fanoutChain());
    writeFileSync(join(workspace, 'recursive.onnx'), recursiveFunction());
    writeFileSync(join(workspace, 'rankbomb.onnx'), constantOfShapeRank());
    session = await openEditor({ folder: workspace });
    page = session.page;
  });

  after(async function () {
    this.timeout(60_000);
    await session?.close();
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  afterEach(async function () {
    await screenshotTest(page, this.currentTest?.title, 'hostile-');
  });

  it('shows the one-line refusal of a function fan-out bomb, and the editor keeps running commands', async function () {
    const start = Date.now();
    await quickOpen(page, 'fanout.onnx');
    const frame = await findFrameWithText(page, 'model-local functions inlined', VERDICT_MS);
    assert.ok(Date.now() - start < VERDICT_MS, `the verdict took ${Date.now() - start} ms`);
    const line = await frame.evaluate(() => document.querySelector('.status-error')?.textContent ?? '');
    assert.match(line, /more than 50,000 nodes with its model-local functions inlined \(limit 50,000\)/);
    assert.ok(!line.includes('\n') && !/\bat .*\(.*:\d+:\d+\)/.test(line), 'one line, no stack trace');

    // The extension host is free: another model opens and a Layerscope command runs on it.
    await quickOpen(page, 'deeper_bn_convnet.onnx');
    await findFrameWithText(page, '17,020', VERDICT_MS);
    await runCommand(page, 'Layerscope: Copy Summary as Markdown');
    await page.waitForFunction(() => document.querySelector('.notifications-toasts')?.textContent?.includes('as Markdown'), undefined, { timeout: 15_000 });
    assert.match(await notifications(page), /copied the summary/);
  });

  it('opens a self-calling function and a rank-2,000,000,000 shape with a warning instead of hanging', async function () {
    for (const [file, warning] of [
      ['recursive.onnx', /function 'F' calls itself/],
      ['rankbomb.onnx', /rank 2000000000 is more than 1024/],
    ] as const) {
      const start = Date.now();
      await quickOpen(page, file);
      // The header shows the file name and opset once the summary is in; warnings sit in a collapsed section.
      const frame = await findFrameWithText(page, [file, 'opset 17'], VERDICT_MS);
      assert.ok(Date.now() - start < VERDICT_MS, `${file} took ${Date.now() - start} ms`);
      const warnings = await frame.waitForFunction(() => document.querySelector('.hd-warnings')?.textContent || null, undefined, { timeout: 10_000 });
      assert.match(String(await warnings.jsonValue()), warning);
    }
  });
});
