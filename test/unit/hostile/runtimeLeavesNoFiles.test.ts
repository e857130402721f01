import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../../src/core/ir/builder';
import { writeOnnx } from '../../../src/core/onnx';
import { CLI, ensureCliBuilt } from '../cli/helpers';

/**
 * onnxruntime 1.2x writes a telemetry device id and an SQLite queue under ~/.cache/Microsoft/DeveloperTools/ and an
 * empty /tmp/mat-debug-<pid>.log on every session unless ORT_DISABLE_TELEMETRY=1. A probe and a gradient probe, run
 * as a user runs them (the bundled CLI, with the user's environment, not ours), must leave no file behind: not in
 * HOME (pointed at an empty folder), not in the temporary folder, not in /tmp, not in /dev/shm.
 */

function listing(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string, prefix: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      out.push(prefix + e.name);
      if (e.isDirectory()) walk(join(d, e.name), `${prefix}${e.name}/`);
    }
  };
  walk(dir, '');
  return out;
}

function names(dir: string): Set<string> {
  try {
    return new Set(readdirSync(dir));
  } catch {
    return new Set();
  }
}

describe('hostile: the runtime leaves no file behind', function () {
  this.timeout(120000);
  let work = '';
  let home = '';
  let tmp = '';

  before(() => {
    ensureCliBuilt();
    work = mkdtempSync(join(tmpdir(), 'layerscope-nofiles-'));
    home = join(work, 'home');
    tmp = join(work, 'tmp');
    for (const d of [home, tmp]) spawnSync('mkdir', ['-p', d]);
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 4]);
    const w = b.initializer('fc.weight', 'float32', [3, 4], [0.5, -0.3, 0.2, 0.1, -0.4, 0.6, 0.3, 0.2, -0.1, 0.05, 0.7, -0.2]);
    b.output(b.op('Relu', [b.op('Gemm', [x, w], { transB: 1 })], {}, { output: 'y' }), 'float32', [1, 3]);
    writeFileSync(join(work, 'model.onnx'), writeOnnx(b.model(13)));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  for (const command of [
    ['probe', 'model.onnx', '--random', 'normal', '--json'],
    ['grad', 'model.onnx', '--random', 'normal', '--loss', 'cross-entropy', '--target', '1', '--json'],
  ]) {
    it(`layerscope ${command[0]}`, async () => {
      const shmBefore = names('/dev/shm');
      const tmpBefore = names('/tmp');
      const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, TMPDIR: tmp, XDG_CACHE_HOME: '' };
      delete env.ORT_DISABLE_TELEMETRY;
      delete env.XDG_CACHE_HOME;
      const r = spawnSync(process.execPath, [CLI, ...command], { cwd: work, env, encoding: 'utf8', timeout: 90000 });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(listing(home), [], 'nothing under HOME');
      assert.deepEqual(listing(tmp), [], 'nothing in the temporary folder');
      const strayTmp = [...names('/tmp')].filter((n) => !tmpBefore.has(n) && /^mat-debug-/.test(n));
      assert.deepEqual(strayTmp, [], 'no onnxruntime debug log in /tmp');
      // Other processes on this machine may be probing at the same time: a folder of theirs goes away when they end.
      let strayShm: string[] = [];
      for (let wait = 0; wait < 10; wait++) {
        strayShm = [...names('/dev/shm')].filter((n) => !shmBefore.has(n) && /layerscope/.test(n));
        if (strayShm.length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      assert.deepEqual(strayShm, [], 'nothing left in /dev/shm');
    });
  }
});
