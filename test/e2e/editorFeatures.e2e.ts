import { strict as assert } from 'node:assert';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { GraphBuilder } from '../../src/core/ir/builder';
import { writeOnnx } from '../../src/core/onnx/writer';
import { repoRoot } from './codeServer';
import { artifacts, openEditor, screenshotTest, type EditorSession } from './editorSession';
import { acceptInputBox, findFrameWithText, goToLine, waitForWorkbench, notifications, pickQuickItem, pickQuickItemExact, quickOpen, runCommand, waitForLens, waitForQuickTitle } from './workbench';

/**
 * The editor features that start from source code or run the model, in a real VS Code: the PyTorch CodeLens and its
 * shape diagnostic, Inspect Model at Cursor, the gradient probe, and cancelling a probe from its notification.
 */

/** A model heavy enough (eight 64-channel 3×3 convolutions at 384×384) that a probe is still running when cancelled. */
function slowModel(): Uint8Array {
  const b = new GraphBuilder('slow');
  let x = b.input('input', 'float32', [1, 3, 384, 384]);
  let channels = 3;
  for (let i = 0; i < 8; i++) {
    const w = b.initializer(`conv${i}.weight`, 'float32', [64, channels, 3, 3], new Array(64 * channels * 9).fill(0.01));
    x = b.op('Relu', [b.op('Conv', [x, w], { pads: [1, 1, 1, 1] }, { name: `/conv${i}/Conv` })], {}, { name: `/relu${i}/Relu` });
    channels = 64;
  }
  b.output(x, 'float32', [1, 64, 384, 384]);
  return writeOnnx(b.model(13));
}

describe('Layerscope editor features in a real VS Code', function () {
  let session: EditorSession | undefined;
  let page: Page;

  before(async function () {
    this.timeout(900_000);
    const workspace = mkdtempSync(join(tmpdir(), 'layerscope-ws-features-'));
    for (const f of ['lectureModels.py', 'shapeBug.py']) copyFileSync(join(repoRoot, 'samples', 'python', f), join(workspace, f));
    copyFileSync(join(repoRoot, 'samples', 'deeper_bn_convnet.onnx'), join(workspace, 'deeper_bn_convnet.onnx'));
    writeFileSync(join(workspace, 'slow.onnx'), slowModel());
    session = await openEditor({ folder: workspace, settings: { 'layerscope.executionProvider': 'cpu' } });
    page = session.page;
  });

  after(async function () {
    this.timeout(60_000);
    await session?.close();
  });

  afterEach(async function () {
    await screenshotTest(page, this.currentTest?.title, 'features-');
  });

  it('shows parameter counts as CodeLens above PyTorch layers and classes', async function () {
    await quickOpen(page, 'lectureModels.py');
    await waitForLens(page, '420 params');
    await waitForLens(page, '17,020 params');
    await waitForLens(page, '1,645,950 params');
    const lenses = await page.evaluate(() => [...document.querySelectorAll('.monaco-editor .codelens-decoration')].map((e) => (e as HTMLElement).innerText));
    // Only lines in view have their lenses in the DOM; the first convolution of DeeperBNConvNet is in view.
    assert.ok(lenses.some((l) => /420 params · → 15×32×32/.test(l)), `the first convolution shows its count and output shape among ${lenses.length} lenses`);
    assert.ok(lenses.some((l) => /61,560 params · → 120/.test(l)), 'Linear(512, 120) shows 61,560 parameters');
  });

  it('opens the inspector for the class at the cursor', async function () {
    // A narrow, empty second editor group, as one left from an earlier session: Beside opens the inspector there.
    await runCommand(page, 'View: New Editor Group to the Right');
    for (let i = 0; i < 6; i++) await runCommand(page, 'Decrease Editor Width');
    await runCommand(page, 'View: Focus First Editor Group');
    await goToLine(page, 28);
    await runCommand(page, 'Layerscope: Inspect Model at Cursor');
    const frame = await findFrameWithText(page, '17,020', 60_000);
    assert.match(await frame.evaluate(() => document.body.innerText), /non-trainable/);
    // The inspector opens beside the code with half of the editor area, not in a narrow side column.
    const widths = await page.evaluate(() => [...document.querySelectorAll('.part.editor .editor-group-container')].map((g) => g.getBoundingClientRect().width));
    assert.equal(widths.length, 2, `two editor groups: ${widths.join(', ')}`);
    const total = widths[0]! + widths[1]!;
    assert.ok(Math.min(...widths) >= 0.45 * total, `the groups share the editor area evenly: ${widths.map((w) => Math.round(w)).join(' and ')} px`);
  });

  it('reports a deliberate shape bug as a warning that explains itself', async function () {
    await quickOpen(page, 'shapeBug.py');
    await waitForLens(page, 'params');
    await runCommand(page, 'View: Toggle Problems');
    await page.waitForFunction(() => document.querySelector('.markers-panel')?.textContent?.includes('expects 61 input features') ?? false, undefined, {
      timeout: 30_000,
    });
    const text = await page.locator('.markers-panel').innerText();
    assert.match(text, /Linear expects 61 input features; the previous layer gives 15×2×2 = 60/);
    await runCommand(page, 'View: Toggle Problems');
  });

  it('runs a gradient probe from the inspector and shows the gradient flow and the check', async function () {
    await quickOpen(page, 'deeper_bn_convnet.onnx');
    // The inspector of the .onnx file, not the one Inspect Model at Cursor opened beside it.
    const frame = await findFrameWithText(page, 'deeper_bn_convnet.onnx', 60_000);
    await frame.locator('vscode-tab-header', { hasText: 'Gradients' }).click();
    await frame.locator('.grad-run').click();
    // The first question is what to differentiate, a class index first.
    await waitForQuickTitle(page, 'gradient of');
    await pickQuickItem(page, 'Cross-entropy for class K');
    await acceptInputBox(page, 'Class K'); // class 0
    await waitForQuickTitle(page, 'inputs');
    await pickQuickItem(page, 'Random normal');
    await acceptInputBox(page, 'Batch size');
    const bars = await frame.waitForFunction(() => document.querySelectorAll('.grad-panel .grad-row').length, undefined, { timeout: 180_000 });
    assert.ok(Number(await bars.jsonValue()) >= 7, 'a gradient-norm bar per weight tensor');
    const text = await frame.evaluate(() => document.querySelector('.grad-panel')?.textContent ?? '');
    assert.match(text, /net\.0\.weight|\/net\/net\.0|Conv/);
    // The numerical check ran and gives its verdict.
    const verdict = await frame.waitForFunction(() => document.querySelector('.grad-panel .grad-check-summary')?.textContent ?? null, undefined, { timeout: 30_000 });
    assert.ok(String(await verdict.jsonValue()).length > 0, 'the check result is shown');
    await page.screenshot({ path: join(artifacts, 'gradient.png') });
  });

  it('cancels a running probe from its progress notification', async function () {
    await page.keyboard.press('Escape');
    await quickOpen(page, 'slow.onnx');
    await findFrameWithText(page, 'slow.onnx', 60_000);
    await runCommand(page, 'Layerscope: Run Activation Probe');
    await waitForQuickTitle(page, 'probe inputs');
    // slow.onnx fixes its batch size, so the probe does not ask for one.
    await pickQuickItem(page, 'Random normal');
    const cancel = page.locator('.notification-toast', { hasText: 'probing' }).getByRole('button', { name: 'Cancel' });
    await cancel.waitFor({ timeout: 30_000 });
    await cancel.click();
    await page.waitForFunction(() => document.querySelector('.notifications-toasts')?.textContent?.includes('probe cancelled') ?? false, undefined, {
      timeout: 30_000,
    });
    assert.match(await notifications(page), /probe cancelled/);
  });

  it('cancels a running probe from the Cancel button beside the panel\'s running line', async function () {
    const frame = await findFrameWithText(page, 'slow.onnx', 60_000);
    await runCommand(page, 'Layerscope: Run Activation Probe');
    await waitForQuickTitle(page, 'probe inputs');
    await pickQuickItem(page, 'Same as last time');
    const button = await frame.waitForSelector('.status-busy .status-cancel', { timeout: 30_000 });
    assert.match(await frame.evaluate(() => document.querySelector('.status-busy')?.textContent ?? ''), /Activation probe running/);
    await button.click();
    await page.waitForFunction(() => (document.querySelector('.notifications-toasts')?.textContent?.match(/probe cancelled/g) ?? []).length > 0, undefined, { timeout: 30_000 });
    await frame.waitForFunction(() => document.querySelector('.status-busy') === null, undefined, { timeout: 30_000 });
  });

  it('refuses an execution provider this onnxruntime build lacks and warns about one that is not installed', async function () {
    // Linux's onnxruntime-node has no DirectML at all, and lists CUDA without its libraries (they are not installed here).
    // Earlier toasts are cleared first: VS Code shows only the newest few.
    await runCommand(page, 'Notifications: Clear All Notifications');
    await runCommand(page, 'Layerscope: Select Execution Provider');
    await waitForQuickTitle(page, 'execution provider');
    await pickQuickItemExact(page, 'dml');
    await page.waitForFunction(() => /has no dml execution provider/.test(document.querySelector('.notifications-toasts')?.textContent ?? ''), undefined, { timeout: 30_000 });
    await runCommand(page, 'Notifications: Clear All Notifications');
    await runCommand(page, 'Layerscope: Select Execution Provider');
    await waitForQuickTitle(page, 'execution provider');
    await pickQuickItemExact(page, 'cuda');
    const keep = page.locator('.notification-toast', { hasText: 'not installed here' }).getByRole('button', { name: /^Keep/ });
    await keep.waitFor({ timeout: 30_000 });
    assert.match(await notifications(page), /--onnxruntime-node-install=cuda12/);
    await keep.click();
  });

  it('probes a PyTorch class from its CodeLens', async function () {
    await quickOpen(page, 'lectureModels.py');
    await waitForLens(page, 'Probe activations');
    await page.locator('.monaco-editor .codelens-decoration a:visible', { hasText: 'Probe activations' }).first().click();
    await waitForQuickTitle(page, 'probe inputs');
    // The class's input comment fixes the batch (1x3x32x32), so the probe does not ask for one.
    await pickQuickItem(page, 'Random normal');
    // The class opens in its own inspector, titled after the class and its file, and the probe's result lands there.
    const frame = await findFrameWithText(page, '(lectureModels.py)', 60_000);
    const provider = await frame.waitForFunction(() => document.querySelector('.probe-provider')?.textContent ?? null, undefined, { timeout: 120_000 });
    assert.equal(String(await provider.jsonValue()), 'cpu');
    assert.ok(await frame.evaluate(() => document.querySelectorAll('.probe-panel svg').length > 1), 'histograms are drawn');
  });

  it('brings a panel opened from a .py file back after a window reload', async function () {
    // The class inspector of lectureModels.py from the test above is open; a reload must reopen it, not leave it blank.
    await runCommand(page, 'Developer: Reload Window');
    await waitForWorkbench(page);
    const frame = await findFrameWithText(page, '(lectureModels.py)', 120_000);
    await frame.waitForFunction(() => (document.querySelector('.hd-stat[data-key="params"]')?.textContent ?? '').length > 0, undefined, { timeout: 60_000 });
    assert.doesNotMatch(await frame.evaluate(() => document.body.innerText), /could not|error/i);
  });
});
