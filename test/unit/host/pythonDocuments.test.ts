import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { execFileSync } from 'node:child_process';
import { loadPythonParser } from '../../../src/core/python/parser';
import { summarizeModel } from '../../../src/core/analysis/summary';
import { lowerModuleToModel } from '../../../src/core/python/lower';
import { PythonDocumentCache, defaultShapeSetting, hoverMarkdown, lensAt, mainModuleOf, moduleAt } from '../../../src/host/pythonDocuments';
import type { PythonDocumentLike } from '../../../src/host/pythonDocuments';

/** The editor-independent half of the PyTorch-source features: version keying, last good lenses, position lookups. */
describe('host: Python document analysis', () => {
  const lecture = fs.readFileSync(path.join(__dirname, '../../../samples/python/lectureModels.py'), 'utf8');

  function doc(text: string, version: number, reads: { n: number } = { n: 0 }): PythonDocumentLike {
    return {
      key: 'file:///lecture.py',
      version,
      getText: () => {
        reads.n++;
        return text;
      },
    };
  }

  it('analyses each document version once', async () => {
    const cache = new PythonDocumentCache(await loadPythonParser());
    const reads = { n: 0 };
    const a = cache.analyze(doc(lecture, 1, reads));
    const b = cache.analyze(doc(lecture, 1, reads));
    assert.equal(reads.n, 1);
    assert.equal(a, b);
    cache.analyze(doc(lecture.replace('num_classes=10)', 'num_classes=5)'), 2, reads));
    assert.equal(reads.n, 2);
    const deeper = cache.analyze(doc(lecture.replace('model = DeeperBNConvNet(num_classes=10)', 'model = DeeperBNConvNet(num_classes=5)'), 3, reads));
    const instanceLens = deeper.analysis.lenses.find((l) => l.kind === 'instance');
    // Linear(60, 5) has 305 parameters instead of 610.
    assert.equal(instanceLens?.params, 17020 - 610 + 305);
  });

  it('keeps the last good lenses while a line is half typed, and never throws', async () => {
    const cache = new PythonDocumentCache(await loadPythonParser());
    const good = cache.analyze(doc(lecture, 1));
    assert.equal(good.stale, false);
    const broken = lecture.replace('nn.Linear(512, 120),', 'nn.Linear(512, 120,');
    const mid = cache.analyze(doc(broken, 2));
    assert.equal(mid.stale, true);
    assert.deepEqual(mid.analysis.lenses.map((l) => l.title), good.analysis.lenses.map((l) => l.title));
    assert.equal(cache.peek('file:///lecture.py')?.stale, true);
    // The stale analysis can still be lowered for the inspector: it holds plain snapshots of the syntax, not the tree.
    const main = mainModuleOf(mid.analysis)!;
    const lowered = lowerModuleToModel({ instance: main.instance, interpreter: mid.analysis.interpreter }, { inputShape: main.inputShape!, seed: 1 });
    assert.equal(summarizeModel(lowered).totals.trainableParams, 17020);
    const garbage = cache.analyze(doc('class (((:\n  def\n\x00', 3));
    assert.equal(garbage.stale, true);
    const fixed = cache.analyze(doc(lecture, 4));
    assert.equal(fixed.stale, false);
    assert.equal(fixed.version, 4);
  });

  it('a file that never parsed cleanly still gets what parsed, marked not stale', async () => {
    const cache = new PythonDocumentCache(await loadPythonParser());
    const text = 'import torch.nn as nn\nclass A(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 2)\n\nx = (\n';
    const r = cache.analyze({ key: 'k', version: 1, getText: () => text });
    assert.equal(r.stale, false);
    assert.equal(r.analysis.hasSyntaxErrors, true);
    assert.equal(r.analysis.modules[0]?.params?.params, 10);
    const r2 = cache.analyze({ key: 'k', version: 2, getText: () => text.replace('nn.Linear(4, 2)', 'nn.Linear(4, 3)') });
    assert.equal(r2.stale, false, 'with no clean version yet, the newest partial analysis is shown');
    assert.equal(r2.analysis.modules[0]?.params?.params, 15);
  });

  it('finds the layer under the cursor with its formula, and the model to inspect', async () => {
    const cache = new PythonDocumentCache(await loadPythonParser());
    const { analysis } = cache.analyze(doc(lecture, 1));
    const lines = lecture.split('\n');
    const convLine = lines.findIndex((l) => l.includes('nn.Conv2d(3, c, kernel_size=3, padding=1)'));
    const lens = lensAt(analysis, convLine, lines[convLine].indexOf('Conv2d'));
    assert.ok(lens);
    assert.equal(lens.params, 420);
    const md = hoverMarkdown(lens);
    assert.match(md, /Conv2d: 15·3·3·3 weights \+ 15 biases = 420/);
    assert.match(md, /⌊\(32 − 3 \+ 2·1\)\/1⌋ \+ 1 = 32/);
    assert.match(md, /receptive field so far: 3×3/);
    const instLine = lines.findIndex((l) => l.startsWith('model = DeeperBNConvNet'));
    assert.equal(moduleAt(analysis, instLine)?.name, 'DeeperBNConvNet');
    const linearClassBody = lines.findIndex((l) => l.includes('nn.Linear(3 * 32 * 32, 512)'));
    assert.equal(moduleAt(analysis, linearClassBody)?.name, 'Linear');
  });

  it('opens the same main model as the CLI, and the inspected graph has the module\'s parameters', async () => {
    const cache = new PythonDocumentCache(await loadPythonParser());
    const { analysis } = cache.analyze(doc(lecture, 1));
    const main = mainModuleOf(analysis);
    assert.equal(main?.name, 'DeeperBNConvNet');
    const model = lowerModuleToModel({ instance: main!.instance, interpreter: analysis.interpreter }, { inputShape: main!.inputShape!, init: 'pytorch', seed: 0 });
    const totals = summarizeModel(model).totals;
    assert.equal(totals.trainableParams, 17020);
    assert.equal(totals.nonTrainableParams, 90);
    const lines = lecture.split('\n');
    const linear = moduleAt(analysis, lines.findIndex((l) => l.includes('nn.Linear(512, 120)')))!;
    const linearModel = lowerModuleToModel({ instance: linear.instance, interpreter: analysis.interpreter }, { inputShape: linear.inputShape!, init: 'pytorch', seed: 0 });
    assert.equal(summarizeModel(linearModel).totals.params, 1645950);
    assert.ok(linearModel.graph.nodes.some((n) => n.source?.line === lines.findIndex((l) => l.includes('nn.Linear(512, 120)')) + 1));
  });

  it('uses layerscope.defaultInputShape for classes without an input comment', async () => {
    const text = 'import torch.nn as nn\nclass A(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.conv = nn.Conv2d(3, 8, 3)\n    def forward(self, x):\n        return self.conv(x)\n';
    const cache = new PythonDocumentCache(await loadPythonParser());
    assert.equal(cache.analyze({ key: 'a', version: 1, getText: () => text }).analysis.modules[0].outputShape, null);
    cache.setOptions({ defaultInputShape: defaultShapeSetting('1x3x10x10') });
    assert.deepEqual(cache.analyze({ key: 'a', version: 1, getText: () => text }).analysis.modules[0].outputShape, [1, 8, 8, 8]);
  });

  it('parses the defaultInputShape setting', () => {
    assert.deepEqual(defaultShapeSetting('1x3x224x224'), [1, 3, 224, 224]);
    assert.equal(defaultShapeSetting(''), undefined);
    assert.equal(defaultShapeSetting('  '), undefined);
    assert.equal(defaultShapeSetting('1x-3'), undefined);
  });
});

/**
 * A document's lenses follow the workspace modules it imports: when `blocks.py` changes (on disk, or unsaved in the
 * editor), the documents that import it, directly or through another module, are found and re-analysed. PyTorch,
 * building the same classes from the same folder, is the oracle.
 */
describe('host: Python documents that import other workspace files', function () {
  this.timeout(120_000);
  const FIXTURE = path.join(__dirname, '../../fixtures/python/workspaceImports');
  let dir: string;
  let blocks: string;
  let model: string;
  let wrapper: string;

  /** PyTorch's count for `cls` in `module`, built with its defaults from the folder `dir`; undefined without torch. */
  function torchCount(module: string, cls: string): number | undefined {
    try {
      const out = execFileSync('/usr/bin/python3', ['-B', path.join(FIXTURE, 'countParams.py'), dir, module, cls], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 });
      return Number(out.trim());
    } catch {
      if (process.env.CI) throw new Error('/usr/bin/python3 with torch is required in CI');
      return undefined;
    }
  }

  function setText(file: string, text: string, mtimeS: number): void {
    fs.writeFileSync(file, text);
    // An explicit modification time, so that a rewrite within the file system's time granularity still counts.
    fs.utimesSync(file, mtimeS, mtimeS);
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerscope-ws-imports-'));
    for (const f of ['blocks.py', 'model.py']) fs.copyFileSync(path.join(FIXTURE, f), path.join(dir, f));
    blocks = path.join(dir, 'blocks.py');
    model = path.join(dir, 'model.py');
    wrapper = path.join(dir, 'wrapper.py');
    fs.writeFileSync(wrapper, 'from model import TinyNet\n\nnet = TinyNet(num_classes=4)\n');
    fs.utimesSync(blocks, 1_000_000, 1_000_000);
  });

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const open = (file: string, version = 1): PythonDocumentLike => ({ key: `file://${file}`, version, path: file, getText: () => fs.readFileSync(file, 'utf8') });
  const classLens = (cache: PythonDocumentCache, file: string) => cache.analyze(open(file)).analysis.lenses.find((l) => l.kind === 'class');
  const instanceLens = (cache: PythonDocumentCache, file: string) => cache.analyze(open(file)).analysis.lenses.find((l) => l.kind === 'instance');

  it('counts a class built from an imported block as PyTorch does, and follows a change of the block on disk', async function () {
    const before = torchCount('model', 'TinyNet');
    if (before === undefined) {
      console.warn('      skipped: /usr/bin/python3 with torch is not installed');
      this.skip();
    }
    // By hand: stem 3·16·9 + 2·16 = 464, body 16·32·9 + 2·32 = 4,672, head 32·10 + 10 = 330.
    assert.equal(before, 5466);
    const cache = new PythonDocumentCache(await loadPythonParser(), { importRoots: [dir] });
    assert.equal(classLens(cache, model)?.params, before);
    // TinyNet(num_classes=4): the head has 32·4 + 4 = 132 parameters instead of 330.
    assert.equal(instanceLens(cache, wrapper)?.params, before - 330 + 132);
    assert.deepEqual(cache.dependants(blocks).sort(), [`file://${model}`, `file://${wrapper}`].sort());
    assert.deepEqual(cache.dependants(wrapper), []);

    setText(blocks, fs.readFileSync(blocks, 'utf8').replace('k=3', 'k=5'), 2_000_000);
    const after = torchCount('model', 'TinyNet')!;
    assert.equal(after, 14426);
    // The document's own version did not change: its cached analysis stands until the host drops it.
    assert.equal(classLens(cache, model)?.params, before);
    for (const key of cache.dependants(blocks)) cache.forget(key);
    assert.equal(classLens(cache, model)?.params, after);
    // wrapper.py reaches blocks.py only through model.py, whose cached module must not keep the old ConvBNAct.
    assert.equal(instanceLens(cache, wrapper)?.params, after - 330 + 132);
  });

  it('follows the unsaved text of an imported module that the editor holds', async function () {
    const edited = fs.readFileSync(blocks, 'utf8').replace('bias=False', 'bias=True');
    let version = 0;
    const cache = new PythonDocumentCache(await loadPythonParser(), { importRoots: [dir], openText: (f) => (f === blocks && version > 0 ? { text: edited, version } : undefined) });
    const before = classLens(cache, model)?.params;
    assert.equal(before, 5466);
    version = 2;
    for (const key of cache.dependants(blocks)) cache.forget(key);
    // Two convolutions gain a bias each: 16 + 32 values.
    assert.equal(classLens(cache, model)?.params, before + 48);
    // Closed without saving: the file's text again.
    version = 0;
    for (const key of cache.dependants(blocks)) cache.forget(key);
    assert.equal(classLens(cache, model)?.params, before);
  });
});
