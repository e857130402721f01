import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CUDA_INSTALL_ADVICE, providerAvailability, providerFailureHint } from '../../../src/runtime/providers';
import { listSupportedBackends } from '../../../src/runtime/providerSupport';

/**
 * Selecting an execution provider is judged against what this machine's onnxruntime-node build lists
 * (`listSupportedBackends()`, asked in a child process), and the advice it gives is README's.
 */
describe('runtime/providerSupport', function () {
  this.timeout(60_000);

  it('lists the backends onnxruntime-node itself lists, from a child process', async () => {
    const listed = await listSupportedBackends();
    // The oracle: onnxruntime-node's own answer in a separate Node process.
    const direct = spawnSync(process.execPath, ['-e', "process.stdout.write(JSON.stringify(require('onnxruntime-node').listSupportedBackends()))"], {
      encoding: 'utf8',
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
    });
    assert.equal(direct.status, 0, direct.stderr);
    const expected = JSON.parse(direct.stdout) as { name: string; bundled: boolean }[];
    assert.deepEqual(listed.map((b) => ({ name: b.name, bundled: b.bundled })), expected);
    assert.ok(listed.some((b) => b.name === 'cpu' && b.installed), 'the CPU is always there');
    for (const b of listed) if (b.bundled) assert.ok(b.installed, `${b.name} is bundled, so installed`);
  });

  it('refuses a provider the build lacks, warns about one not installed, and accepts the rest', () => {
    const backends = [
      { name: 'cpu', bundled: true, installed: true },
      { name: 'webgpu', bundled: true, installed: true },
      { name: 'cuda', bundled: false, installed: false },
    ];
    assert.deepEqual(providerAvailability('auto', backends, 'linux'), { kind: 'available' });
    assert.deepEqual(providerAvailability('webgpu', backends, 'linux'), { kind: 'available' });
    const cuda = providerAvailability('cuda', backends, 'linux');
    assert.equal(cuda.kind, 'notInstalled');
    assert.match((cuda as { message: string }).message, /--onnxruntime-node-install=cuda12/);
    const dml = providerAvailability('dml', backends, 'linux');
    assert.equal(dml.kind, 'notInBuild');
    assert.match((dml as { message: string }).message, /has no dml execution provider \(it has cpu, webgpu, cuda\)/);
    assert.deepEqual(providerAvailability('cuda', [{ name: 'cuda', bundled: false, installed: true }], 'linux'), { kind: 'available' });
  });

  it('judges this machine: a provider missing from its build is never reported available', async () => {
    const listed = await listSupportedBackends();
    const names = new Set(listed.map((b) => b.name));
    for (const p of ['cuda', 'webgpu', 'dml', 'coreml'] as const) {
      const a = providerAvailability(p, listed, process.platform);
      if (!names.has(p)) assert.equal(a.kind, 'notInBuild', p);
    }
  });

  it('gives the CUDA install advice that README gives', () => {
    const readme = readFileSync(join(__dirname, '../../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Execution providers and GPUs'), readme.indexOf('## Commands and settings'));
    assert.equal(providerFailureHint('cuda'), CUDA_INSTALL_ADVICE);
    const command = /`(npm install onnxruntime-node [^`]+)`/.exec(CUDA_INSTALL_ADVICE)?.[1];
    assert.ok(command, 'the advice names a command');
    assert.ok(section.includes(command), `README's section gives the same command: ${command}`);
    assert.match(section, /cuDNN 9/);
    assert.doesNotMatch(CUDA_INSTALL_ADVICE, /install-cuda|INSTALL_CUDA/, 'not the deprecated flag');
  });
});
