import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..', '..');
export const CLI = path.join(REPO, 'dist', 'cli.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Builds dist/cli.js when it is missing or older than the sources, so that spawning tests check the real bundle even
 * when mocha runs without `npm run build` first.
 */
export function ensureCliBuilt(): void {
  const built = fs.existsSync(CLI) ? fs.statSync(CLI).mtimeMs : 0;
  if (built > 0 && built >= newestMtime(path.join(REPO, 'src'))) return;
  const r = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`building dist/cli.js failed: ${r.stderr}`);
}

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function runCliProcess(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): CliRun {
  const start = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? REPO,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    env: { ...process.env, LAYERSCOPE_DEBUG: '' },
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - start };
}

export function makeTempDir(prefix = 'layerscope-cli-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Names, sizes and modification times of everything in a folder, to prove that a command wrote nothing there. */
export function folderSnapshot(dir: string): string {
  return fs
    .readdirSync(dir)
    .sort()
    .map((name) => {
      const s = fs.lstatSync(path.join(dir, name));
      return `${name}:${s.size}:${s.mtimeMs}`;
    })
    .join('\n');
}

/** Runs `layerscope grad` in this process (the worker still forks), capturing its output and exit code. */
export async function runGradInProcess(argv: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  const { runGradCommand } = await import('../../../src/cli/gradCommand');
  let out = '';
  let err = '';
  const code = await runGradCommand(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), cwd });
  return { code, out, err };
}
