import type { Frame, Page } from 'playwright-core';

/**
 * Small drivers for the VS Code workbench as a user sees it: the palette, Quick Open, and the webviews, which live in
 * nested iframes. Each waits for what the user would wait for, with a timeout that names what never appeared.
 */

export async function waitForWorkbench(page: Page): Promise<void> {
  await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
  // The explorer appears once the folder is open and extensions have had a chance to start.
  await page.waitForSelector('.explorer-folders-view, .explorer-viewlet', { timeout: 60_000 });
}

export async function quickOpen(page: Page, fileName: string): Promise<void> {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 30_000 });
  await input.fill(fileName);
  await page.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 30_000 });
  await page.waitForTimeout(300);
  await page.keyboard.press('Enter');
}

/** Runs a command from the palette by its title, as a user types it. */
export async function runCommand(page: Page, title: string): Promise<void> {
  // A focused webview keeps keys to itself, so focus the workbench first (the side bar's title: the active editor stays
  // the active editor), as a user clicks outside the view before pressing F1.
  await page.locator('.part.sidebar .composite.title').first().click();
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 30_000 });
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ timeout: 30_000 });
  await page.waitForTimeout(200);
  await page.keyboard.press('Enter');
  // Wait until the palette has let go of the input, so that what is typed next goes to the command's own prompt.
  await page.waitForFunction(
    () => {
      const widget = document.querySelector('.quick-input-widget') as HTMLElement | null;
      const value = widget?.querySelector('input')?.value ?? '';
      return !widget || widget.style.display === 'none' || !value.startsWith('>');
    },
    undefined,
    { timeout: 30_000 },
  );
}

/**
 * Picks an item in the open quick pick the way a keyboard user does: type to filter, wait until a row with the text
 * is shown and focused, press Enter. Typing is steadier than clicking, as the list re-renders while it filters.
 */
export async function pickQuickItem(page: Page, text: string): Promise<void> {
  const input = page.locator('.quick-input-widget input:visible');
  await input.waitFor({ timeout: 30_000 });
  await input.fill(text);
  const row = page.locator('.quick-input-list .monaco-list-row.focused:visible', { hasText: text });
  await row.first().waitFor({ timeout: 30_000 });
  // The list marks the row focused a moment before the quick pick takes it as its active item; Enter in between
  // would accept nothing.
  await page.waitForTimeout(150);
  await page.keyboard.press('Enter');
}

/** Waits until a quick pick or input box with this title is open, for commands that ask several questions. */
export async function waitForQuickTitle(page: Page, title: string): Promise<void> {
  await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ state: 'visible', timeout: 30_000 });
}

/** Picks the item whose label is exactly `label`, for lists where one label is part of another's description. */
export async function pickQuickItemExact(page: Page, label: string): Promise<void> {
  const input = page.locator('.quick-input-widget input:visible');
  await input.waitFor({ timeout: 30_000 });
  await input.fill(label);
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const row = page
    .locator('.quick-input-list .monaco-list-row.focused:visible')
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escaped}\\s*$`) }) });
  await row.first().waitFor({ timeout: 30_000 });
  // The list marks the row focused a moment before the quick pick takes it as its active item; Enter in between
  // would accept nothing.
  await page.waitForTimeout(150);
  await page.keyboard.press('Enter');
}

/** The webview frame whose body shows all the given texts (the workbench's own frame is never the answer). */
export async function findFrameWithText(page: Page, text: string | string[], timeoutMs = 30_000): Promise<Frame> {
  const wanted = Array.isArray(text) ? text : [text];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      if (frame === page.mainFrame()) continue;
      try {
        const body = await frame.evaluate(() => document.body?.innerText ?? '');
        if (wanted.every((t) => body.includes(t))) return frame;
      } catch {
        // Frames come and go while the workbench lays out; try again.
      }
    }
    if (Date.now() > deadline) throw new Error(`no webview showed '${wanted.join("' and '")}' within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function frameText(frame: Frame): Promise<string> {
  return frame.evaluate(() => document.body.innerText);
}

/** Notifications currently shown, as text. */
export async function notifications(page: Page): Promise<string> {
  return (await page.locator('.notifications-toasts').allInnerTexts()).join('\n');
}

/** Accepts the prefilled value of the input box with this title, once it is really there. */
export async function acceptInputBox(page: Page, title: string): Promise<void> {
  await waitForQuickTitle(page, title);
  await page.waitForTimeout(200);
  await page.keyboard.press('Enter');
}

/** Opens a model with Quick Open and returns its inspector's frame once the summary is shown. */
export async function openInspector(page: Page, fileName: string, timeoutMs = 60_000): Promise<Frame> {
  await quickOpen(page, fileName);
  return findFrameWithText(page, [fileName, 'non-trainable'], timeoutMs);
}

/** Runs an activation probe from the inspector's Probes tab on random normal inputs, accepting the offered batch size. */
export async function runRandomProbeFromTab(page: Page, frame: Frame): Promise<void> {
  await frame.locator('vscode-tab-header', { hasText: 'Probes' }).click();
  await frame.locator('.probe-run').click();
  await waitForQuickTitle(page, 'probe inputs');
  await pickQuickItem(page, 'Random normal');
  await acceptInputBox(page, 'Batch size');
}

/** Waits until a CodeLens of the active editor shows `text`. */
export async function waitForLens(page: Page, text: string, timeoutMs = 60_000): Promise<void> {
  await page.waitForFunction(
    (t) => [...document.querySelectorAll('.monaco-editor .codelens-decoration')].some((e) => (e as HTMLElement).innerText.includes(t)),
    text,
    { timeout: timeoutMs },
  );
}

/** The CodeLens texts of the lines in view. */
export async function lensTexts(page: Page): Promise<string[]> {
  return page.evaluate(() => [...document.querySelectorAll('.monaco-editor .codelens-decoration')].map((e) => (e as HTMLElement).innerText));
}

/** Go to Line (Control+G) in the active editor. */
export async function goToLine(page: Page, line: number): Promise<void> {
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 30_000 });
  await input.fill(`:${line}`);
  await page.keyboard.press('Enter');
}
