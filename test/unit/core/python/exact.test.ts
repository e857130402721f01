import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeTree } from '../../../../src/core/python/analyze';
import type { PythonAnalysis } from '../../../../src/core/python/analyze';
import { checkLenses, exactSelection } from '../../../../src/core/python/exact';
import type { ExactResult } from '../../../../src/core/python/exact';
import { loadPythonParser } from '../../../../src/core/python/parser';
import { PythonBridge } from '../../../../src/runtime/pythonBridge';
import { ExactResultCache, VerifiedDocuments } from '../../../../src/host/pythonVerifyCache';
import { requireTorchPython } from '../../runtime/oracle';

/**
 * Exact mode laid over the static reading. With PyTorch as the oracle: on the shipped samples, whose static figures
 * are meant to be exact, every lens of every class must agree with PyTorch; on files static reading cannot follow,
 * every figure it showed either agrees or carries a message saying what it missed.
 */

const REPO = path.resolve(__dirname, '../../../..');

async function analysisOf(file: string): Promise<{ analysis: PythonAnalysis; source: string }> {
  const source = fs.readFileSync(file, 'utf8');
  const parser = await loadPythonParser();
  const tree = parser.parse(source)!;
  // The analysis keeps reading the tree (lowering re-runs forward code), so it is not deleted here.
  return { analysis: analyzeTree(tree, source), source };
}

describe('core/python/exact: static lenses against PyTorch', function () {
  this.timeout(240_000);
  let bridge: PythonBridge;
  before(function () {
    bridge = new PythonBridge({ python: requireTorchPython(this) });
  });
  after(() => bridge?.dispose());

  for (const sample of ['lectureModels.py', 'squeezeFire.py', 'multilayerPerceptron.py', 'initLab.py']) {
    it(`agrees with PyTorch on every lens of every class in samples/python/${sample}`, async () => {
      const file = path.join(REPO, 'samples/python', sample);
      const { analysis, source } = await analysisOf(file);
      let compared = 0;
      // Classes that need constructor arguments (squeezeFire's Fire) are built by the classes that use them.
      for (const m of analysis.modules.filter((mm) => mm.params !== null)) {
        const selection = exactSelection(analysis, source, m.name);
        const shape = m.inputShape && m.inputShape.every((d) => typeof d === 'number') ? (m.inputShape as number[]) : null;
        const result = await bridge.inspect({ file, target: selection.target, inputShape: shape });
        const checks = checkLenses(analysis, selection, result);
        assert.ok(checks.length > 0, `${m.name} has lenses to check`);
        for (const c of checks) assert.equal(c.agrees, true, `${sample}:${c.line + 1} ${c.title} ${c.message ?? ''}`);
        assert.ok(checks.every((c) => c.title.startsWith('✓ ')));
        compared += checks.length;
      }
      assert.ok(compared >= 2, `${compared} lenses compared`);
    });
  }

  it('compares parameters only when no input ran through the model', async () => {
    const file = path.join(REPO, 'samples/python/lectureModels.py');
    const { analysis, source } = await analysisOf(file);
    const selection = exactSelection(analysis, source, 'DeeperBNConvNet');
    const result = await bridge.inspect({ file, target: selection.target, inputShape: null });
    const checks = checkLenses(analysis, selection, result);
    assert.ok(checks.length > 5);
    for (const c of checks) assert.equal(c.agrees, true, `${c.line + 1}: ${c.message ?? ''}`);
    // With the parameters changed under it, the same comparison must fail: the check can tell.
    const wrong = { ...result, modules: result.modules.map((m) => (m.name === 'net.0' ? { ...m, params: m.params + 1 } : m)) };
    const failed = checkLenses(analysis, selection, wrong).filter((c) => !c.agrees);
    assert.equal(failed.length, 1);
    assert.match(failed[0].message ?? '', /static reading showed 420, PyTorch counts 421/);
  });

  it("explains every figure that static reading got wrong or could not read on torchvision's resnet.py", async () => {
    const file = '/usr/lib/python3/dist-packages/torchvision/models/resnet.py';
    const { analysis, source } = await analysisOf(file);
    const selection = exactSelection(analysis, source, 'ResNet');
    const result = await bridge.inspect({ file, target: { kind: 'expression', expression: 'resnet18()' }, inputShape: [1, 3, 64, 64] });
    const checks = checkLenses(analysis, { ...selection, target: { kind: 'expression', expression: 'resnet18()' } }, result);
    assert.ok(checks.length > 5);
    const classCheck = checks.find((c) => c.kind === 'class')!;
    assert.equal(classCheck.exactParams, 11_689_512);
    for (const c of checks) {
      if (c.agrees) assert.equal(c.message, undefined);
      else assert.match(c.message ?? '', /^Verified with PyTorch: /, `line ${c.line + 1} differs and says why`);
      assert.ok(c.title.includes(c.exactParams.toLocaleString('en-US')), 'the title shows PyTorch\'s count');
    }
  });
});

describe('host: what Verify with Python remembers', () => {
  const result = { params: 1 } as ExactResult;

  it('caches results by content, interpreter, target and input shape, dropping the least recently used', () => {
    const cache = new ExactResultCache(2);
    const key = { content: 'a', python: 'py', target: { kind: 'call' as const, name: 'Net' }, inputShape: [1, 4] };
    cache.set(key, result);
    assert.equal(cache.get(key), result);
    assert.equal(cache.get({ ...key, content: 'b' }), undefined);
    assert.equal(cache.get({ ...key, python: 'other' }), undefined);
    assert.equal(cache.get({ ...key, inputShape: [2, 4] }), undefined);
    cache.set({ ...key, content: 'b' }, result);
    cache.get(key);
    cache.set({ ...key, content: 'c' }, result);
    assert.equal(cache.size, 2);
    assert.equal(cache.get(key), result, 'recently used survives');
    assert.equal(cache.get({ ...key, content: 'b' }), undefined, 'least recently used is dropped');
  });

  it('applies a verification only while the text is the one verified', () => {
    const docs = new VerifiedDocuments();
    const check = { line: 3, kind: 'layer' as const, staticParams: null, exactParams: 8, staticShape: null, exactShape: null, agrees: false, title: '✓ 8 params', message: 'm' };
    docs.record('doc', 'text v1', 'Net', [check]);
    assert.equal(docs.lookup('doc', 'text v1').get('3:layer'), check);
    assert.equal(docs.lookup('doc', 'text v2').size, 0);
    docs.record('doc', 'text v1', 'Other', [{ ...check, line: 9 }]);
    assert.equal(docs.checks('doc', 'text v1').length, 2, 'two models verified in the same text');
    assert.deepEqual(docs.names('doc'), ['Net', 'Other']);
    docs.record('doc', 'text v2', 'Net', []);
    assert.deepEqual(docs.names('doc'), ['Net'], 'a new text starts afresh');
  });
});
