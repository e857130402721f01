import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MAX_PYTHON_SOURCE_BYTES } from '../../../src/core/python/analyze';
import { isUserInputError } from '../../../src/core/errors';
import { summarizePythonFile, summarizePythonSource } from '../../../src/core/python/summary';
import { analyze, evalModule } from '../core/python/helpers';

/**
 * Static evaluation of hostile Python: sources whose evaluation would allocate without bound or never end. Each
 * must end with unknown values (or one clear refusal), never a crash, a hang or gigabytes of memory.
 */

function heapMiB(): number {
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

describe('hostile Python sources: static evaluation is bounded', function () {
  this.timeout(60_000);

  it('[0] * 10000 * 10000 * 10000 is an unknown list, not 4 GB', async () => {
    const before = heapMiB();
    const v = await evalModule('x = [0] * 10000 * 10000 * 10000\n', 'x');
    assert.equal(v?.kind, 'unknown');
    assert.match((v as { reason: string }).reason, /longer than Layerscope follows/);
    assert.ok(heapMiB() - before < 200, 'memory stays bounded');
  });

  it('A = A + A 64 times ends with an unknown value', async () => {
    const src = 'A = [1]\n' + 'A = A + A\n'.repeat(64) + 'S = "ab"\n' + 'S = S + S\n'.repeat(64);
    const a = await evalModule(src, 'A');
    const s = await evalModule(src, 'S');
    assert.equal(a?.kind, 'unknown');
    assert.equal(s?.kind, 'unknown');
  });

  it('huge integers are unknown rather than inexact', async () => {
    assert.equal((await evalModule('n = 10 ** 30\n', 'n'))?.kind, 'unknown');
    assert.equal((await evalModule('n = 2 ** 52 + 1\n', 'n'))?.kind, 'num');
    assert.equal((await evalModule('n = 99999999999999999999999\n', 'n'))?.kind, 'unknown');
  });

  it('a layer list too long to build is ? with the reason, not clamped', async () => {
    const a = await analyze('import torch.nn as nn\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.layers = nn.ModuleList([nn.Linear(10, 10) for _ in range(3)] * 200000)\nm = M()\n');
    const m = a.instances.find((i) => i.variable === 'm')!;
    assert.equal(m.params, null);
    assert.match(m.reason ?? '', /line 5: .*longer than Layerscope follows/);
  });

  it('an endless loop of statements ends within the evaluation budget', async () => {
    const src = 'import torch.nn as nn\nx = []\nfor i in range(10000):\n    for j in range(10000):\n        x.append(j)\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(2, 2)\nm = M()\n';
    const a = await analyze(src);
    assert.equal(a.instances.find((i) => i.variable === 'm')?.params?.params, 6);
  });

  it('a source over the size limit is refused in one line', async () => {
    const big = '# ' + 'x'.repeat(MAX_PYTHON_SOURCE_BYTES) + '\n';
    await assert.rejects(summarizePythonSource(big, { fileName: 'big.py' }), (e: unknown) => isUserInputError(e) && /MiB of Python source/.test((e as Error).message) && !(e as Error).message.includes('\n'));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerscope-bomb-'));
    try {
      const file = path.join(dir, 'big.py');
      fs.writeFileSync(file, big);
      await assert.rejects(summarizePythonFile(file), (e: unknown) => isUserInputError(e) && /big\.py is 4\.0 MiB/.test((e as Error).message));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
