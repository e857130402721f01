import { strict as assert } from 'node:assert';
import { copyFileSync, existsSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../../src/core/ir/builder';
import { writeOnnx } from '../../../src/core/onnx/writer';
import { isUserInputError } from '../../../src/core/errors';
import { ProbeCancelledError, ProbeRuntimeError, runProbeJob } from '../../../src/runtime/runtimeClient';
import type { ProbeJob } from '../../../src/runtime/protocol';

/**
 * The isolation contract: whatever happens in the worker (a native crash, an out-of-memory kill, a hang, a provider
 * that cannot start), the caller gets one clear error and keeps running.
 */
describe('runtime/runtimeClient', function () {
  this.timeout(60_000);
  let dir: string;
  let job: Omit<ProbeJob, 'type' | 'id'>;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ls-client-'));
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 3]);
    const y = b.op('Relu', [x], {}, { name: 'relu' });
    b.output(y, 'float32', [2, 3]);
    writeFileSync(join(dir, 'relu.onnx'), writeOnnx(b.model(13)));
    job = {
      groups: [{ modelPath: join(dir, 'relu.onnx'), targets: [{ value: y, saturation: 'none', deadUnits: true }] }],
      feeds: [{ name: 'x', dtype: 'float32', dims: [2, 3], data: new Float32Array([-1, 2, -3, 4, 0, 6]) }],
      provider: 'cpu',
      deviceId: 0,
      graphOptimizationLevel: 'basic',
      bins: 4,
    };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs a job and returns statistics only', async () => {
    let progress = 0;
    const r = await runProbeJob(job, { onProgress: () => progress++ });
    assert.equal(r.executionProvider, 'cpu');
    assert.equal(r.values.length, 1);
    const s = r.values[0]!.stats;
    assert.equal(s.count, 6);
    assert.equal(s.mean, 2);
    assert.equal(s.fracZero, 0.5);
    assert.deepEqual(r.values[0]!.histogram.counts, [3, 1, 1, 1]);
    assert.equal(progress, 1);
  });

  it('deletes a temporary model copy once its session has run, and leaves other files alone', async () => {
    const copy = join(dir, 'copy.onnx');
    copyFileSync(join(dir, 'relu.onnx'), copy);
    const r = await runProbeJob({ ...job, groups: [{ ...job.groups[0]!, modelPath: copy, temporaryCopy: true }] });
    assert.equal(r.values[0]!.stats.count, 6);
    assert.equal(existsSync(copy), false);
    assert.equal(existsSync(join(dir, 'relu.onnx')), true);
  });

  it('accepts the job as a promise, so that preparing it overlaps the worker start-up, and passes its failure on', async () => {
    const later = new Promise<typeof job>((resolve) => setTimeout(() => resolve(job), 300));
    const r = await runProbeJob(later);
    assert.equal(r.values[0]!.stats.count, 6);
    const broken = new Promise<typeof job>((_, reject) => setTimeout(() => reject(new Error('could not write the probe model')), 50));
    await assert.rejects(runProbeJob(broken), /could not write the probe model/);
  });

  it('reports a native crash as one error', async () => {
    await assert.rejects(runProbeJob({ ...job, debug: 'crash' }), (e: unknown) => e instanceof ProbeRuntimeError && /crashed \(SIGABRT\)/.test(e.message));
  });

  it('reports an out-of-memory kill as one error', async () => {
    await assert.rejects(runProbeJob({ ...job, debug: 'oom' }), (e: unknown) => e instanceof ProbeRuntimeError && /SIGKILL.*out of memory/.test(e.message));
  });

  it('stops a hung worker at the timeout', async () => {
    await assert.rejects(runProbeJob({ ...job, debug: 'hang' }, { timeoutMs: 1500 }), (e: unknown) => e instanceof ProbeRuntimeError && /timed out/.test(e.message));
  });

  it('kills the worker on cancellation', async () => {
    const ac = new AbortController();
    const p = runProbeJob({ ...job, debug: 'hang' }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 800);
    await assert.rejects(p, (e: unknown) => e instanceof ProbeCancelledError);
    await assert.rejects(runProbeJob(job, { signal: AbortSignal.abort() }), (e: unknown) => e instanceof ProbeCancelledError);
  });

  it('says why an explicitly chosen provider cannot start, and falls back under auto', async () => {
    // DirectML exists only in Windows builds, so on other platforms the explicit choice must fail with a hint.
    if (process.platform !== 'win32') {
      await assert.rejects(runProbeJob({ ...job, provider: 'dml' }), (e: unknown) => isUserInputError(e) && /dml execution provider could not start.*Windows/.test((e as Error).message));
    }
    const auto = await runProbeJob({ ...job, provider: 'auto' });
    const tried = auto.providerFailures.map((f) => f.provider);
    // Whatever ran, every provider before it in the platform order must have been tried and failed.
    assert.ok(['cuda', 'webgpu', 'cpu', 'dml', 'coreml'].includes(auto.executionProvider));
    assert.ok(!tried.includes(auto.executionProvider));
  });

  it('turns a model the runtime rejects into a user error', async () => {
    writeFileSync(join(dir, 'bad.onnx'), 'not an onnx file');
    await assert.rejects(
      runProbeJob({ ...job, groups: [{ modelPath: join(dir, 'bad.onnx'), targets: [] }] }),
      (e: unknown) => isUserInputError(e) && /could not load the model/.test((e as Error).message),
    );
  });
});
