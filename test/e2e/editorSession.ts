import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { ensureCodeServer, packageExtension, repoRoot, startCodeServer, type CodeServer } from './codeServer';
import { waitForWorkbench } from './workbench';

/**
 * One real VS Code for a suite: code-server with the packaged extension, opened on `folder` in Debian's Chromium. Every
 * e2e file starts its own, so that suites cannot leak state into each other; the .vsix is built once per run.
 */

export const CHROMIUM = '/usr/bin/chromium';
export const artifacts = join(repoRoot, '.test-artifacts', 'e2e');

export interface EditorSession {
  server: CodeServer;
  browser: Browser;
  page: Page;
  close(): Promise<void>;
}

export interface EditorOptions {
  folder: string;
  settings?: Record<string, unknown>;
  /** Opens the folder untrusted (Restricted Mode). */
  restricted?: boolean;
  onConsole?: (message: ConsoleMessage) => void;
}

let vsix: string | undefined;

export async function openEditor(options: EditorOptions): Promise<EditorSession> {
  if (!existsSync(CHROMIUM)) throw new Error('Chromium is missing: install it with `apt-get install chromium`');
  mkdirSync(artifacts, { recursive: true });
  const installDir = ensureCodeServer();
  vsix ??= packageExtension();
  const server = await startCodeServer({
    installDir,
    vsix,
    folder: options.folder,
    ...(options.settings ? { settings: options.settings } : {}),
    ...(options.restricted ? { restricted: true } : {}),
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(server.url).origin });
  const page = await context.newPage();
  if (options.onConsole) page.on('console', options.onConsole);
  await page.goto(server.url);
  await waitForWorkbench(page);
  return {
    server,
    browser,
    page,
    async close() {
      await browser.close();
      await server.stop();
    },
  };
}

/** Saves a screenshot named after the test that just ran, as a test artifact. */
export async function screenshotTest(page: Page | undefined, title: string | undefined, prefix = ''): Promise<void> {
  if (!page || !title) return;
  const name = `${prefix}${title.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`;
  await page.screenshot({ path: join(artifacts, `${name}.png`) }).catch(() => undefined);
}
