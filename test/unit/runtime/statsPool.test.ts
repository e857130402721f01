import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../../src/core/ir/builder';
import { writeOnnx } from '../../../src/core/onnx/writer';
import { SeededRandom } from '../../../src/core/stats/random';
import { runProbeJob } from '../../../src/runtime/runtimeClient';
import { partitionTasks } from '../../../src/runtime/summarize';
import type { ProbeJob } from '../../../src/runtime/protocol';

describe('runtime/statsPool', function () {
  this.timeout(60_000);

  it('balances tasks by size, largest first', () => {
    const parts = partitionTasks([10, 1, 7, 3, 3], 2);
    assert.deepEqual(parts, [[0, 4], [2, 3, 1]]);
    assert.deepEqual(partitionTasks([5], 3), [[0], [], []]);
  });

  it('gives the same statistics with and without statistics threads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ls-pool-'));
    try {
      const n = 1 << 20;
      const b = new GraphBuilder();
      const x = b.input('x', 'float32', [4, n / 4]);
      const r = b.op('Relu', [x], {}, { name: 'relu' });
      const t = b.op('Tanh', [x], {}, { name: 'tanh' });
      const s = b.op('Sigmoid', [r], {}, { name: 'sig' });
      for (const o of [r, t, s]) b.output(o, 'float32', [4, n / 4]);
      writeFileSync(join(dir, 'm.onnx'), writeOnnx(b.model(13)));
      const data = new Float32Array(n);
      new SeededRandom(4).fillNormal(data, 2);
      const job = (threads: number): Omit<ProbeJob, 'type' | 'id'> => ({
        groups: [
          {
            modelPath: join(dir, 'm.onnx'),
            targets: [
              { value: r, saturation: 'none', deadUnits: true },
              { value: t, saturation: 'tanh', deadUnits: false },
              { value: s, saturation: 'sigmoid', deadUnits: false },
            ],
          },
        ],
        feeds: [{ name: 'x', dtype: 'float32', dims: [4, n / 4], data: data.slice() }],
        provider: 'cpu',
        deviceId: 0,
        graphOptimizationLevel: 'basic',
        bins: 64,
        statsThreads: threads,
      });
      const serial = await runProbeJob(job(0));
      const parallel = await runProbeJob(job(2));
      assert.equal(parallel.values.length, 3);
      for (let i = 0; i < 3; i++) assert.equal(JSON.stringify(parallel.values[i]), JSON.stringify(serial.values[i]));
      // N(0, 2²) through tanh: |y| > 0.99 when |x| > 2.65, about 19% of the elements.
      assert.ok(Math.abs(parallel.values[1]!.stats.fracSaturated - 0.187) < 0.01);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('runtime/statsPool defaults', () => {
  it('uses spare cores only on machines with at least four', async () => {
    const { defaultStatsThreads } = await import('../../../src/runtime/statsPool');
    assert.equal(defaultStatsThreads(2), 0);
    assert.equal(defaultStatsThreads(4), 3);
    assert.equal(defaultStatsThreads(64), 7);
  });
});
