import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, REPO, ensureCliBuilt } from '../cli/helpers';

/**
 * Runs the real CLI bundle on one hostile input and checks the contract of issue 11: exit 0 or 2, at most one line on
 * stderr and never a stack trace, done within 30 s, a peak resident size under 2 GB (measured with /usr/bin/time, on
 * top of a 2 GB V8 heap cap), no raw control or bidi character on either stream, and no file left behind in the
 * temporary folder, $HOME or /dev/shm. The temporary folder and $HOME are private to each run, so those checks are
 * exact.
 */

export const TIME_LIMIT_MS = 30_000;
export const MEMORY_LIMIT_KB = 2 * 1024 * 1024;
const GNU_TIME = '/usr/bin/time';

// eslint-disable-next-line no-control-regex
export const RAW_UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

export interface HostileRun {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  peakRssKb?: number;
}

/** A private folder for one test's inputs, with the temporary folder and $HOME the CLI is given. */
export class Sandbox {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerscope-hostile-'));
  readonly tmp = path.join(this.dir, 'tmp');
  readonly home = path.join(this.dir, 'home');
  readonly inputs = path.join(this.dir, 'in');

  constructor() {
    for (const d of [this.tmp, this.home, this.inputs]) fs.mkdirSync(d);
  }

  file(name: string, bytes: Uint8Array | string): string {
    const p = path.join(this.inputs, name);
    fs.writeFileSync(p, bytes);
    return p;
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

let privateShm: boolean | undefined;

/**
 * Whether runs can get a /dev/shm of their own: a user and mount namespace (`unshare -rm`) with a fresh tmpfs on
 * /dev/shm, listed before the namespace ends. Then a folder left there is certainly the run's; other processes on the
 * machine (another probe running meanwhile) cannot be mistaken for it.
 */
function canUsePrivateShm(): boolean {
  privateShm ??= process.platform === 'linux' && spawnSync('unshare', ['-rm', 'sh', '-c', 'mount -t tmpfs none /dev/shm'], { stdio: 'ignore' }).status === 0;
  return privateShm;
}

function shmEntries(): Set<string> {
  try {
    return new Set(fs.readdirSync('/dev/shm').filter((n) => n.startsWith('layerscope-')));
  } catch {
    return new Set();
  }
}

/** Runs `layerscope ARGS` in the sandbox and asserts everything but the exit code's meaning. */
export function runHostile(box: Sandbox, args: string[]): HostileRun {
  const shmBefore = shmEntries();
  const rssFile = path.join(box.dir, 'rss');
  const useTime = fs.existsSync(GNU_TIME);
  const shmList = path.join(box.dir, 'shm');
  const node = [process.execPath, '--max-old-space-size=2048', CLI, ...args];
  const timed = useTime ? [GNU_TIME, '-q', '-f', '%M', '-o', rssFile, ...node] : node;
  const isolated = canUsePrivateShm();
  const shmScript = 'mount -t tmpfs none /dev/shm || exit 97; "$@"; rc=$?; ls -A /dev/shm > "$0"; exit $rc';
  const [command, ...argv] = isolated ? ['unshare', '-rm', 'sh', '-c', shmScript, shmList, ...timed] : timed;
  const start = Date.now();
  const r = spawnSync(command, argv, {
    cwd: REPO,
    encoding: 'utf8',
    timeout: TIME_LIMIT_MS,
    killSignal: 'SIGKILL',
    env: { ...process.env, HOME: box.home, TMPDIR: box.tmp, LAYERSCOPE_DEBUG: '' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = Date.now() - start;
  const what = `layerscope ${args.map((a) => JSON.stringify(a)).join(' ')}`;
  assert.ok(ms < TIME_LIMIT_MS, `${what} ran past ${TIME_LIMIT_MS / 1000} s`);
  const run: HostileRun = { status: r.status, stdout: r.stdout, stderr: r.stderr, ms };
  if (useTime) {
    const kb = Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop());
    fs.rmSync(rssFile);
    if (Number.isFinite(kb)) run.peakRssKb = kb;
    assert.ok(run.peakRssKb !== undefined && run.peakRssKb < MEMORY_LIMIT_KB, `${what}: peak RSS ${run.peakRssKb} KB`);
  }
  assert.ok(r.status === 0 || r.status === 2, `${what}: exit ${r.status} (signal ${r.signal})\n${r.stderr.slice(0, 2000)}`);
  const errLines = r.stderr.trimEnd() === '' ? [] : r.stderr.trimEnd().split('\n');
  if (r.status === 2) assert.equal(errLines.length, 1, `${what}: one line on stderr, got:\n${r.stderr.slice(0, 2000)}`);
  assert.ok(!/\n\s+at /.test(r.stderr), `${what}: a stack trace on stderr`);
  assert.ok(!RAW_UNSAFE.test(r.stdout), `${what}: a raw control or bidi character on stdout`);
  assert.ok(!RAW_UNSAFE.test(r.stderr), `${what}: a raw control or bidi character on stderr`);
  assert.deepEqual(fs.readdirSync(box.tmp), [], `${what} left files in the temporary folder`);
  assert.deepEqual(fs.readdirSync(box.home), [], `${what} left files in $HOME`);
  if (isolated) {
    const left = fs.readFileSync(shmList, 'utf8').trim();
    fs.rmSync(shmList);
    assert.equal(left, '', `${what} left files in /dev/shm`);
    return run;
  }
  // Without a private /dev/shm it is shared with every other process on the machine: a folder counts as left behind
  // only if it is new and still there a few seconds after the command ended (another probe running meanwhile removes
  // its own). Another user's long probe can outlive that wait, so this fallback is strict under CI=true only.
  let leftInShm = [...shmEntries()].filter((n) => !shmBefore.has(n));
  for (let waited = 0; leftInShm.length > 0 && waited < 5_000; waited += 250) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    const now = shmEntries();
    leftInShm = leftInShm.filter((n) => now.has(n));
  }
  if (process.env.CI === 'true') assert.deepEqual(leftInShm, [], `${what} left folders in /dev/shm`);
  else if (leftInShm.length > 0) console.warn(`      note: new folders in /dev/shm during ${what}: ${leftInShm.join(', ')} (strict under CI=true)`);
  return run;
}

/** A hostile run that must be refused: exit 2, and its one line matches `pattern`. */
export function expectRefusal(box: Sandbox, args: string[], pattern: RegExp): HostileRun {
  const r = runHostile(box, args);
  assert.equal(r.status, 2, `layerscope ${args.join(' ')} should be refused; stdout:\n${r.stdout.slice(0, 500)}`);
  assert.match(r.stderr, pattern);
  return r;
}

/** A hostile run that must still succeed (exit 0), for example with a warning that a value is unknown. */
export function expectSuccess(box: Sandbox, args: string[]): HostileRun {
  const r = runHostile(box, args);
  assert.equal(r.status, 0, `layerscope ${args.join(' ')} should succeed; stderr: ${r.stderr}`);
  return r;
}

/** Mocha hooks for a suite of hostile runs: the CLI bundle is built once, and each test gets a fresh sandbox. */
export function useSandbox(): () => Sandbox {
  let box: Sandbox | undefined;
  before(() => ensureCliBuilt());
  beforeEach(() => {
    box = new Sandbox();
  });
  afterEach(() => box?.cleanup());
  return () => box!;
}
