import { strict as assert } from 'node:assert';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { findTorchPython, runPython } from '../unit/runtime/oracle';
import { repoRoot } from './codeServer';
import { artifacts, openEditor, screenshotTest, type EditorSession } from './editorSession';
import { acceptInputBox, findFrameWithText, openInspector, pickQuickItem, pickQuickItemExact, quickOpen, runCommand, runRandomProbeFromTab, waitForQuickTitle } from './workbench';

/**
 * The inspector at the window sizes people use: ResNet-18 (exported by PyTorch at test time, random weights) in an
 * editor 700 px and 1,900 px wide with the Explorer open, read from the webview's own layout (bounding boxes). Then
 * the divider, maximising, live graph search and the gradient probe's first question.
 *
 * LAYERSCOPE_UPDATE_SCREENSHOTS=1 also writes the README's screenshots (1400×900, Explorer open) to media/screenshots.
 */

const EXPORT_RESNET18 = `
import sys, torch, torchvision
torch.manual_seed(0)
model = torchvision.models.resnet18().eval()
torch.onnx.export(model, torch.randn(1, 3, 224, 224), sys.argv[1], opset_version=13, input_names=['input'], output_names=['logits'])
`;

interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

const overlaps = (a: Box, b: Box): boolean => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

/** The outer iframe of the webview that holds `frame`: its width is the editor's width as the user sees it. */
async function editorWidth(frame: Frame): Promise<number> {
  return frame.evaluate(() => document.documentElement.clientWidth);
}

/** Resizes the browser so that the webview is `width` px wide, with the Explorer open beside it. */
async function setEditorWidth(page: Page, frame: Frame, width: number, height = 1000): Promise<number> {
  for (let i = 0; i < 3; i++) {
    const now = await editorWidth(frame);
    if (Math.abs(now - width) <= 4) return now;
    const viewport = page.viewportSize()!;
    await page.setViewportSize({ width: viewport.width + width - now, height });
    await page.waitForTimeout(600);
  }
  return editorWidth(frame);
}

async function ensureExplorerOpen(page: Page): Promise<void> {
  const visible = await page.locator('.part.sidebar .explorer-folders-view, .part.sidebar .explorer-viewlet').first().isVisible().catch(() => false);
  if (!visible) await runCommand(page, 'View: Show Explorer');
}

/** Picks a colour theme the way a user does: the theme picker, type its name, Enter. */
async function setTheme(page: Page, theme: string): Promise<void> {
  // Ctrl+K Ctrl+T opens the theme picker itself; typing its title in the palette can land on the Marketplace browser.
  await page.locator('.part.sidebar .composite.title').first().click();
  await page.keyboard.press('Control+K');
  await page.keyboard.press('Control+T');
  await pickQuickItemExact(page, theme);
}

/** Everything the layout assertions need, measured in the webview. */
async function measure(frame: Frame): Promise<{
  headerCells: (Box & { text: string })[];
  toolbars: Box[];
  controls: Box[];
  rows: { name: string; nameFull: boolean; output: string; outputFull: boolean; nameBox: Box; outputBox: Box }[];
  scroller: Box;
  orientation: string;
  columns: string;
}> {
  // tsx names the helper functions below with an __name call that the page does not define.
  await frame.evaluate('window.__name = (f) => f');
  return frame.evaluate(() => {
    const box = (e: Element): { left: number; top: number; right: number; bottom: number } => {
      const r = e.getBoundingClientRect();
      return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
    };
    const visibleEl = (e: Element): boolean => (e as HTMLElement).offsetParent !== null && e.getBoundingClientRect().width > 0;
    const head = [...document.querySelectorAll('.lt-head .lt-cell')].filter(visibleEl);
    const rows = [...document.querySelectorAll('.lt-body .lt-row')]
      .sort((a, b) => Number(a.getAttribute('data-pos')) - Number(b.getAttribute('data-pos')))
      .slice(0, 6)
      .map((row) => {
        const name = row.querySelector('.lt-col-name')!;
        const nameText = row.querySelector('.lt-name')!;
        const output = row.querySelector('.lt-col-output');
        return {
          name: nameText.textContent ?? '',
          nameFull: nameText.getBoundingClientRect().width <= name.getBoundingClientRect().width - 1 + 0.5,
          output: output?.textContent ?? '',
          outputFull: output ? output.scrollWidth <= output.clientWidth : false,
          nameBox: box(name),
          outputBox: output ? box(output) : { left: 0, top: 0, right: 0, bottom: 0 },
        };
      });
    return {
      headerCells: head.map((c) => ({ ...box(c), text: c.textContent ?? '' })),
      toolbars: [...document.querySelectorAll('.ls-pane-header')].filter(visibleEl).map(box),
      controls: [...document.querySelectorAll('.ls-pane-header > *')].filter(visibleEl).map(box),
      rows,
      scroller: box(document.querySelector('.lt-scroll')!),
      orientation: document.querySelector('.ls-split')?.getAttribute('data-orientation') ?? '',
      columns: document.querySelector('.lt-grid')?.getAttribute('data-columns') ?? '',
    };
  });
}

function assertLayout(m: Awaited<ReturnType<typeof measure>>, width: number): void {
  assert.ok(m.headerCells.length >= 2, `the table header shows columns (${m.columns})`);
  for (const cell of m.headerCells) {
    for (const control of m.controls) {
      assert.ok(!overlaps(cell, control), `at ${width} px a toolbar control overlaps the table header '${cell.text}'`);
    }
    // The header is on screen, inside the table's own width, not under anything and not scrolled away.
    assert.ok(cell.top >= 0 && cell.right <= m.scroller.right + 1, `header '${cell.text}' is within the table at ${width} px`);
  }
  assert.ok(m.columns.split(' ').includes('name') && m.columns.split(' ').includes('output'), `names and shapes are shown (${m.columns})`);
  assert.ok(m.rows.length >= 5, 'the first rows are drawn');
  for (const row of m.rows) {
    assert.ok(row.nameFull, `at ${width} px the name '${row.name}' is shown in full`);
    assert.ok(row.outputFull, `at ${width} px the shape '${row.output}' of ${row.name} is shown in full`);
    assert.ok(row.nameBox.right <= m.scroller.right + 1 && row.outputBox.right <= m.scroller.right + 1, `${row.name}: name and shape are in view without scrolling sideways`);
  }
}

describe('The inspector at real window sizes (code-server + Chromium)', function () {
  let session: EditorSession | undefined;
  let page: Page;
  let workspace: string;

  before(async function () {
    this.timeout(900_000);
    const py = findTorchPython();
    const torchvision = py !== null && (() => {
      try {
        runPython(py, 'import torchvision');
        return true;
      } catch {
        return false;
      }
    })();
    if (!torchvision) {
      if (process.env.CI) throw new Error('CI: /usr/bin/python3 with torch, torchvision and onnx is required to export ResNet-18');
      // eslint-disable-next-line no-console
      console.log('    (skipped: /usr/bin/python3 with torch, torchvision and onnx not found)');
      this.skip();
    }
    workspace = mkdtempSync(join(tmpdir(), 'layerscope-layout-'));
    runPython(py!, EXPORT_RESNET18, [join(workspace, 'resnet18.onnx')]);
    copyFileSync(join(repoRoot, 'samples', 'deeper_bn_convnet.onnx'), join(workspace, 'deeper_bn_convnet.onnx'));
    session = await openEditor({ folder: workspace, settings: { 'layerscope.executionProvider': 'cpu' } });
    page = session.page;
    await ensureExplorerOpen(page);
  });

  after(async function () {
    this.timeout(60_000);
    await session?.close();
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  afterEach(async function () {
    await screenshotTest(page, this.currentTest?.title, 'layout-');
  });

  for (const width of [700, 1900]) {
    it(`shows ResNet-18's table at an editor width of ${width} px with no toolbar over its header and full names and shapes`, async function () {
      const frame = await openInspector(page, 'resnet18.onnx', 90_000);
      const actual = await setEditorWidth(page, frame, width);
      assert.ok(Math.abs(actual - width) <= 4, `the editor is ${actual} px wide`);
      await frame.waitForFunction(() => document.querySelectorAll('.lt-body .lt-row').length >= 5, undefined, { timeout: 15_000 });
      await page.waitForTimeout(500);
      const m = await measure(frame);
      assertLayout(m, width);
      assert.equal(m.orientation, width < 1100 ? 'column' : 'row', 'narrow editors stack the panes; wide ones put them side by side');
      // Side by side at 1,900 px, the table keeps the op, parameters and MACs as well; only columns with tabs of their
      // own (receptive field, activation memory) may give way.
      if (width >= 1900) for (const c of ['op', 'params', 'macs']) assert.ok(m.columns.split(' ').includes(c), `a wide editor shows ${c} (${m.columns})`);
      await page.screenshot({ path: join(artifacts, `layout-${width}.png`) });
    });
  }

  it('drags the divider, maximises the graph and remembers both for the workspace', async function () {
    await quickOpen(page, 'resnet18.onnx');
    let frame = await findFrameWithText(page, ['resnet18.onnx', 'non-trainable'], 60_000);
    await setEditorWidth(page, frame, 1400);
    const split = frame.locator('.ls-split');
    const divider = frame.locator('.ls-divider');
    const before = (await frame.locator('.ls-table-pane').boundingBox())!;
    const d = (await divider.boundingBox())!;
    const splitBox = (await split.boundingBox())!;
    // Drag the divider 200 px to the right, as a user does with the mouse.
    await page.mouse.move(d.x + d.width / 2, d.y + d.height / 2);
    await page.mouse.down();
    await page.mouse.move(d.x + d.width / 2 + 100, d.y + d.height / 2, { steps: 5 });
    await page.mouse.move(d.x + d.width / 2 + 200, d.y + d.height / 2, { steps: 5 });
    await page.mouse.up();
    const after = (await frame.locator('.ls-table-pane').boundingBox())!;
    assert.ok(Math.abs(after.width - before.width - 200) < 12, `the table pane grew by the drag (${before.width} → ${after.width})`);
    const ratio = Number(await divider.getAttribute('aria-valuenow'));
    assert.ok(Math.abs(ratio - Math.round((100 * (after.width + 4)) / splitBox.width)) <= 3, `the divider reports ${ratio}%`);

    // Maximise the graph: the table goes away and the graph (and its drawing) takes the whole split.
    await frame.locator('.ls-graph-pane .ls-maximize').click();
    await frame.waitForFunction(() => (document.querySelector('.ls-table-pane') as HTMLElement).hidden);
    const graph = (await frame.locator('.ls-graph-pane svg.gv-svg').boundingBox())!;
    assert.ok(graph.width >= splitBox.width - 20, `the graph fills the split (${graph.width} of ${splitBox.width} px)`);
    assert.equal(await frame.locator('.ls-graph-pane .ls-maximize').innerText(), 'Restore');
    const toolbar = (await frame.locator('.ls-graph-pane .ls-pane-header').boundingBox())!;
    assert.ok(toolbar.y + toolbar.height <= graph.y + 1, 'the graph toolbar sits above the graph, not over it');

    // Reopen the model: the layout comes back from the workspace's memory.
    await runCommand(page, 'View: Close All Editors');
    await quickOpen(page, 'resnet18.onnx');
    frame = await findFrameWithText(page, ['resnet18.onnx', 'non-trainable'], 60_000);
    await frame.waitForFunction(() => document.querySelector('.ls-split')?.getAttribute('data-maximized') === 'second', undefined, { timeout: 15_000 });
    await frame.locator('.ls-graph-pane .ls-maximize').click();
    await frame.waitForFunction(() => !(document.querySelector('.ls-table-pane') as HTMLElement).hidden);
    assert.equal(Number(await frame.locator('.ls-divider').getAttribute('aria-valuenow')), ratio, 'the divider position is remembered');
  });

  it('searches the graph live, with a match count, and a miss moves nothing', async function () {
    const frame = await openInspector(page, 'resnet18.onnx');
    const search = frame.locator('.gv-search input, input.gv-search').first();
    const field = (await search.count()) > 0 ? search : frame.locator('.gv-search');
    const tableTop = (await frame.locator('.lt-head').boundingBox())!.y;
    await field.click();
    await page.keyboard.type('downsample', { delay: 30 });
    const count = await frame.waitForFunction(() => {
      const text = document.querySelector('.gv-search-count')?.textContent ?? '';
      return /^\d+ match/.test(text) ? text : null;
    }, undefined, { timeout: 10_000 });
    const n = Number(/(\d+)/.exec(String(await count.jsonValue()))![1]);
    // ResNet-18 has three downsample branches, each a Conv (BatchNorm folded into it by the exporter) or Conv + BN.
    assert.ok(n >= 3, `${n} layers match 'downsample'`);
    const lit = await frame.evaluate(() => document.querySelectorAll('.gv-node.gv-match').length);
    assert.ok(lit >= 1, `${lit} graph nodes are highlighted`);
    await page.keyboard.type('zzz');
    await frame.waitForFunction(() => document.querySelector('.gv-search-count')?.textContent === 'No match', undefined, { timeout: 10_000 });
    assert.equal(await frame.evaluate(() => document.querySelectorAll('.gv-node.gv-match').length), 0);
    assert.equal(await frame.evaluate(() => document.querySelector('.status-error')), null, 'no error banner');
    assert.equal((await frame.locator('.lt-head').boundingBox())!.y, tableTop, 'the page did not move');
  });

  it('shows a selected node\'s attributes, shapes, weights, parameters and MACs beside the graph', async function () {
    const frame = await openInspector(page, 'resnet18.onnx');
    await frame.locator('vscode-tab-header', { hasText: 'Layers & graph' }).click();
    // Reveal the first downsample conv from the graph search, then click its node as a user does.
    const search = frame.locator('.gv-search');
    await search.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('layer2.0/downsample', { delay: 20 });
    await frame.waitForFunction(() => /match/.test(document.querySelector('.gv-search-count')?.textContent ?? ''), undefined, { timeout: 10_000 });
    const node = frame.locator('.gv-node.gv-layer.op-conv.gv-match').first();
    await node.click();
    const panel = frame.locator('.node-details');
    await panel.waitFor({ state: 'visible', timeout: 15_000 });
    await frame.waitForFunction(() => (document.querySelector('.node-details .nd-name td')?.textContent ?? '').includes('downsample'), undefined, { timeout: 15_000 });
    const text = await panel.innerText();
    // torchvision's downsample: Conv2d(64, 128, kernel_size=1, stride=2, bias=False), BatchNorm folded in by the exporter.
    assert.match(text, /kernel_shape\s*\[1, 1\]/);
    assert.match(text, /strides\s*\[2, 2\]/);
    assert.match(text, /pads\s*\[0, 0, 0, 0\]/);
    assert.match(text, /dilations\s*\[1, 1\]/);
    assert.match(text, /group\s*1/);
    assert.match(text, /\[1, 64, 56, 56\] float32/, 'input shape');
    assert.match(text, /\[128, 64, 1, 1\] float32 weight, 8,192 values/, 'weight shape, dtype and size');
    assert.match(text, /\[128\] float32 weight, 128 values/, 'the folded bias');
    assert.match(text, /\[1, 128, 28, 28\] float32/, 'output shape');
    assert.match(text, /params\s*8,320/, '64·128 + 128');
    assert.match(text, /MACs\s*6,422,528/, '128·28·28·64');
    await page.screenshot({ path: join(artifacts, 'node-details.png') });
  });

  it('picks the filtered layer in the Receptive field tab when the user types and presses Enter', async function () {
    const frame = await openInspector(page, 'resnet18.onnx');
    await frame.locator('vscode-tab-header', { hasText: 'Receptive field' }).click();
    const picker = frame.locator('.rf-picker');
    await picker.locator('input').first().click();
    await page.keyboard.type('layer2.1/conv2', { delay: 40 });
    await page.waitForTimeout(300);
    await page.keyboard.press('Enter');
    const chosen = await frame.waitForFunction(() => {
      const el = document.querySelector('.rf-picker') as (HTMLElement & { value?: string }) | null;
      const option = el ? [...el.querySelectorAll('vscode-option')].find((o) => o.getAttribute('value') === el.value) : undefined;
      return option?.textContent ?? null;
    }, undefined, { timeout: 10_000 });
    assert.match(String(await chosen.jsonValue()), /layer2\.1\/conv2/, 'the typed layer is chosen, not the first one');
    const caption = await frame.evaluate(() => document.querySelector('.rf-caption')?.textContent ?? '');
    assert.match(caption, /layer2\.1\/conv2|layer2\.1/, `the explorer shows it: ${caption}`);
  });

  it('asks a gradient probe for a class index first, with the output size, and runs it', async function () {
    const frame = await openInspector(page, 'deeper_bn_convnet.onnx');
    await frame.locator('vscode-tab-header', { hasText: 'Gradients' }).click();
    await frame.locator('.grad-run').click();
    await waitForQuickTitle(page, 'gradient of');
    const first = await page.locator('.quick-input-list .monaco-list-row').first().innerText();
    assert.match(first, /class K/, 'the first choice is a class index');
    assert.match(first, /10 classes/, `with the model’s output size: '${first}'`);
    await pickQuickItem(page, 'Cross-entropy for class K');
    await waitForQuickTitle(page, 'Class K');
    const input = page.locator('.quick-input-widget input:visible');
    await input.fill('3');
    await page.waitForTimeout(200);
    await page.keyboard.press('Enter');
    await waitForQuickTitle(page, 'inputs');
    await pickQuickItem(page, 'Random normal');
    await acceptInputBox(page, 'Batch size');
    // While it runs, the panel says so (the notification has the progress and Cancel); the result replaces the line.
    await frame.waitForFunction(() => /Gradient probe running/.test(document.querySelector('.status-busy')?.textContent ?? '') || document.querySelector('.grad-provider') !== null, undefined, { timeout: 60_000 });
    const provider = await frame.waitForFunction(() => document.querySelector('.grad-provider')?.textContent ?? null, undefined, { timeout: 180_000 });
    assert.equal(String(await provider.jsonValue()), 'cpu');
    assert.equal(await frame.evaluate(() => document.querySelector('.status-busy')), null, 'the running line is gone once the result is shown');
  });

  it('draws every chart mark and label with at least 3:1 contrast in the four theme kinds', async function () {
    const frame = await openInspector(page, 'deeper_bn_convnet.onnx');
    // The gradient test above filled the Gradients tab; an activation probe fills the Probes tab.
    await runRandomProbeFromTab(page, frame);
    await frame.waitForFunction(() => document.querySelectorAll('.probe-panel svg').length > 1, undefined, { timeout: 120_000 });
    await frame.waitForFunction(() => document.querySelectorAll('.grad-panel svg').length > 0, undefined, { timeout: 10_000 });
    const themes: [string, string][] = [
      ['Light Modern', 'vscode-light'],
      ['Dark Modern', 'vscode-dark'],
      ['Light High Contrast', 'vscode-high-contrast-light'],
      ['Dark High Contrast', 'vscode-high-contrast'],
    ];
    const failures: string[] = [];
    for (const [theme, kind] of themes) {
      await setTheme(page, theme);
      await frame.waitForFunction((k) => document.body.getAttribute('data-vscode-theme-kind') === k, kind, { timeout: 30_000 });
      await page.waitForTimeout(500);
      await frame.evaluate('window.__name = (f) => f');
      const found = await frame.evaluate(() => {
        type Rgb = { r: number; g: number; b: number; a: number };
        const parse = (c: string): Rgb | null => {
          const m = /rgba?\(([^)]+)\)/.exec(c);
          if (!m) return null;
          const p = m[1]!.split(/[\s,/]+/).filter(Boolean).map(Number);
          return { r: p[0]!, g: p[1]!, b: p[2]!, a: p[3] ?? 1 };
        };
        const over = (fg: Rgb, bg: Rgb, alpha: number): Rgb => ({ r: fg.r * alpha + bg.r * (1 - alpha), g: fg.g * alpha + bg.g * (1 - alpha), b: fg.b * alpha + bg.b * (1 - alpha), a: 1 });
        const lum = (c: Rgb): number => {
          const f = (v: number): number => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
          return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
        };
        const ratio = (a: Rgb, b: Rgb): number => {
          const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
          return (x! + 0.05) / (y! + 0.05);
        };
        const page = parse(getComputedStyle(document.body).backgroundColor)!;
        /** The colour a mark is painted with, composited over `bg` with its opacities; null when it is not painted. */
        const paint = (el: Element, prop: 'fill' | 'stroke', bg: Rgb): Rgb | null => {
          const cs = getComputedStyle(el);
          const c = parse(prop === 'fill' ? cs.fill : cs.stroke);
          if (!c) return null;
          const alpha = c.a * Number(prop === 'fill' ? cs.fillOpacity : cs.strokeOpacity) * Number(cs.opacity);
          return over(c, bg, alpha);
        };
        const checks: [string, 'fill' | 'stroke'][] = [
          ['.probe-panel .hist-bar', 'fill'],
          ['.probe-panel .depth-line.series-mean', 'stroke'],
          ['.probe-panel .depth-line.series-std', 'stroke'],
          ['.probe-panel text.legend.series-mean', 'fill'],
          ['.probe-panel text.legend.series-std', 'fill'],
          ['.probe-panel .chart-title', 'fill'],
          ['.probe-panel .hist-title', 'fill'],
          ['.probe-panel text.hist-axis', 'fill'],
          ['.probe-panel .axis-label', 'fill'],
          ['.grad-panel .grad-bar', 'fill'],
          ['.grad-panel .chart-title', 'fill'],
          ['.grad-panel .grad-label', 'fill'],
          ['.grad-panel .grad-value', 'fill'],
          ['.grad-panel text.axis-tick', 'fill'],
          ['.grad-panel .hist-title', 'fill'],
        ];
        const out: { what: string; ratio: number }[] = [];
        for (const [selector, prop] of checks) {
          const el = document.querySelector(selector);
          if (!el) {
            out.push({ what: `${selector} (missing)`, ratio: 0 });
            continue;
          }
          const c = paint(el, prop, page);
          const cs = getComputedStyle(el);
          out.push({ what: `${selector} ${prop} ${prop === 'fill' ? cs.fill : cs.stroke} (opacity ${prop === 'fill' ? cs.fillOpacity : cs.strokeOpacity}) on ${getComputedStyle(document.body).backgroundColor}`, ratio: c ? ratio(c, page) : 0 });
        }
        // Graph node labels against their own node's fill, one node per op family.
        const families = new Set<string>();
        for (const node of document.querySelectorAll('.gv-node.gv-layer')) {
          const family = [...node.classList].find((c) => c.startsWith('op-'));
          if (!family || families.has(family)) continue;
          families.add(family);
          const fill = paint(node.querySelector('rect')!, 'fill', page);
          const text = paint(node.querySelector('text')!, 'fill', fill ?? page);
          out.push({ what: `graph ${family} label ${getComputedStyle(node.querySelector('text')!).fill} on ${getComputedStyle(node.querySelector('rect')!).fill}`, ratio: fill && text ? ratio(text, fill) : 0 });
        }
        return out;
      });
      for (const f of found) if (f.ratio < 3) failures.push(`${theme}: ${f.what} has contrast ${f.ratio.toFixed(2)}:1`);
      await page.screenshot({ path: join(artifacts, `theme-${kind}.png`) });
    }
    assert.deepEqual(failures, []);
  });

  it('takes the README screenshots at 1400×900 with the Explorer open', async function () {
    if (!process.env.LAYERSCOPE_UPDATE_SCREENSHOTS) this.skip();
    const dir = join(repoRoot, 'media', 'screenshots');
    mkdirSync(dir, { recursive: true });
    await page.setViewportSize({ width: 1400, height: 900 });
    await ensureExplorerOpen(page);
    // The empty secondary side bar would take a fifth of the window; a user closes it.
    if (await page.locator('.part.auxiliarybar').isVisible().catch(() => false)) {
      await runCommand(page, 'View: Toggle Secondary Side Bar Visibility').catch(() => page.keyboard.press('Escape'));
    }
    await setTheme(page, 'Dark Modern');
    await page.locator('.part.sidebar .composite.title').first().click();
    const frame = await openInspector(page, 'resnet18.onnx');
    await frame.waitForFunction(() => document.body.getAttribute('data-vscode-theme-kind') === 'vscode-dark', undefined, { timeout: 30_000 });
    await frame.locator('vscode-tab-header', { hasText: 'Layers & graph' }).dispatchEvent('click');
    await frame.locator('.gv-search input, input.gv-search').first().fill('').catch(() => undefined);
    await frame.locator('.gv-search').dispatchEvent('input');
    await frame.locator('.lt-row[data-layer]').nth(4).dispatchEvent('click');
    await page.waitForTimeout(800);
    await page.screenshot({ path: join(dir, 'inspector.png') });
    await page.locator('.part.sidebar .composite.title').first().click();
    await quickOpen(page, 'deeper_bn_convnet.onnx');
    const small = await findFrameWithText(page, ['deeper_bn_convnet.onnx', 'non-trainable'], 60_000);
    await small.locator('vscode-tab-header', { hasText: 'Probes' }).dispatchEvent('click');
    await page.waitForTimeout(800);
    await page.screenshot({ path: join(dir, 'probe.png') });
    await small.locator('vscode-tab-header', { hasText: 'Gradients' }).dispatchEvent('click');
    await page.waitForTimeout(800);
    await page.screenshot({ path: join(dir, 'gradients.png') });
  });
});
