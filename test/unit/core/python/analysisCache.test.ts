import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AnalysisCache } from '../../../../src/core/python/analysisCache';
import { analyzeTree } from '../../../../src/core/python/analyze';
import type { PythonAnalysis } from '../../../../src/core/python/analyze';
import { Interpreter } from '../../../../src/core/python/interpreter';
import { lowerModuleToModel } from '../../../../src/core/python/lower';
import { loadPythonParser } from '../../../../src/core/python/parser';
import { reparse } from '../../../../src/core/python/reparse';
import type { ParsedText } from '../../../../src/core/python/reparse';
import type { SyntaxNode } from '../../../../src/core/python/syntax';
import type { LayerValue } from '../../../../src/core/python/values';
import { PythonDocumentCache } from '../../../../src/host/pythonDocuments';

/**
 * The analysis cache must be invisible: after every edit, the analysis the editor gets (incremental reparse, then the
 * analysis replaying the previous version's cache) must equal an analysis of the same text from scratch, down to
 * every layer, argument, attribute, trace, lens, hover, diagnostic and module-level binding.
 */

const BASE = `import torch
import torch.nn as nn
import torch.nn.functional as F

HIDDEN = 64
CFG = [16, 'M', 32]


def conv_bn(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


class Fire(nn.Module):
    def __init__(self, cin, squeeze, e1, e3):
        super().__init__()
        self.squeeze = nn.Conv2d(cin, squeeze, 1)
        self.e1 = nn.Conv2d(squeeze, e1, 1)
        self.e3 = nn.Conv2d(squeeze, e3, 3, padding=1)

    def forward(self, x):
        x = F.relu(self.squeeze(x))
        return torch.cat([self.e1(x), self.e3(x)], 1)


# layerscope: input 1×3×32×32
class Squeeze(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(3, 64),
            Fire(64, 16, 64, 64),
            Fire(128, 16, 64, 64),
            nn.MaxPool2d(2),
        )
        self.head = nn.Linear(128 * 16 * 16, num_classes)

    def forward(self, x):
        x = self.features(x)
        return self.head(torch.flatten(x, 1))


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, HIDDEN)
        self.fc2 = nn.Linear(HIDDEN, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


# layerscope: input 1x3x8x8
class Vgg(nn.Module):
    def __init__(self):
        super().__init__()
        layers = []
        c = 3
        for v in CFG:
            if v == 'M':
                layers.append(nn.MaxPool2d(2))
            else:
                layers.append(nn.Conv2d(c, v, 3, padding=1))
                c = v
        self.features = nn.Sequential(*layers)

    def forward(self, x):
        return self.features(x)


class Base(nn.Module):
    expansion = 2

    def __init__(self, width=8):
        super().__init__()
        self.fc = nn.Linear(width, width * self.expansion)


class Child(Base):
    def __init__(self):
        super().__init__(16)
        self.out = nn.Linear(16 * self.expansion, 3)
        while False:
            self.extra = nn.Linear(1, 1)


# layerscope: input 1x3x16x16
class Broken(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(100, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.conv(x), 1))


# layerscope: input 1x3x8x8
class Lazy(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        x = self.conv(x)
        self.fc = nn.Linear(4 * 6 * 6, 2)
        return self.fc(torch.flatten(x, 1))


def register(cls):
    return cls


@register
class Decorated(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)


class Looped(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        while self.fc is None:
            self.fc = nn.Linear(4, 8)


model = Squeeze(num_classes=5)
mlp = Mlp()
lazy = Lazy()
looped = Looped()

if True:
    extra = Mlp()

if __name__ == '__main__':
    out = mlp(torch.randn(1, 784))
`;

/** Replaces exactly one occurrence, so that an edit that no longer applies fails loudly instead of doing nothing. */
function replaceOnce(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  assert.ok(at >= 0 && text.indexOf(from, at + 1) < 0, `expected exactly one ${JSON.stringify(from)}`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

const EDITS: Array<[string, (text: string) => string]> = [
  ['insert a line above a class', (t) => replaceOnce(t, '\nclass Mlp(', '\n\nclass Mlp(')],
  ['insert lines at the top of the file', (t) => `# models\n\n${t}`],
  ['edit inside a class', (t) => replaceOnce(t, 'nn.Linear(784, HIDDEN)', 'nn.Linear(784, HIDDEN, bias=False)')],
  ['edit a class another class uses', (t) => replaceOnce(t, 'self.e1 = nn.Conv2d(squeeze, e1, 1)', 'self.e1 = nn.Conv2d(squeeze, e1, 1, bias=False)')],
  ['edit a module constant', (t) => replaceOnce(t, 'HIDDEN = 64', 'HIDDEN = 32')],
  ['edit a module-level list', (t) => replaceOnce(t, "CFG = [16, 'M', 32]", "CFG = [16, 'M', 24, 'M']")],
  ['edit a helper function', (t) => replaceOnce(t, 'nn.BatchNorm2d(cout), nn.ReLU())', 'nn.BatchNorm2d(cout), nn.ReLU6())')],
  ['change the input-shape comment of a class with an instance', (t) => replaceOnce(t, '# layerscope: input 1×3×32×32', '# layerscope: input 1×3×64×64')],
  ['introduce a syntax error', (t) => replaceOnce(t, 'self.fc2 = nn.Linear(HIDDEN, 10)', 'self.fc2 = nn.Linear(HIDDEN, 10')],
  ['type on while the syntax error is there', (t) => replaceOnce(t, 'HIDDEN = 32', 'HIDDEN = 48')],
  ['fix the syntax error', (t) => replaceOnce(t, 'self.fc2 = nn.Linear(HIDDEN, 10', 'self.fc2 = nn.Linear(HIDDEN, 10)')],
  ['insert a line above a class whose message names a line', (t) => replaceOnce(t, '\nclass Child(', '\n\nclass Child(')],
  ['change a cached instance from new module-level code', (t) => `${t}\nmodel.features.append(nn.ReLU())\n`],
  ['change the input-shape comment of a class without an instance', (t) => replaceOnce(t, '# layerscope: input 1x3x16x16', '# layerscope: input 1x3x12x12')],
  ['end the module early above a block', (t) => replaceOnce(t, '\nif True:\n', '\nif torch.cuda.is_available():\n    def probe():\n        return 1\n\nif True:\n')],
  ['delete lines above everything', (t) => replaceOnce(t, '# models\n\n', '')],
  ['rename a class and its instance', (t) => replaceOnce(replaceOnce(t, 'class Mlp(', 'class Perceptron('), 'mlp = Mlp()', 'mlp = Perceptron()')],
  ['move a base class below its subclass', (t) => {
    const start = t.indexOf('class Base(');
    const end = t.indexOf('class Child(');
    const base = t.slice(start, end);
    const afterChild = t.indexOf('\n\n\n', end) + 3;
    return t.slice(0, start) + t.slice(end, afterChild) + base + t.slice(afterChild);
  }],
  ['paste a second definition of a class', (t) => `${t}\n\nclass Fire(nn.Module):\n    def __init__(self, *args):\n        super().__init__()\n        self.only = nn.Conv2d(64, 128, 1)\n`],
  ['put two statements on one line and edit the first', (t) => replaceOnce(replaceOnce(t, 'lazy = Lazy()', 'a = 1; lazy = Lazy()'), 'a = 1;', 'a = 12;')],
  ['undo everything', () => BASE],
];

/**
 * Everything an analysis holds, as plain data: syntax nodes become their type and span, cycles (a method's class,
 * a bound method's instance) are cut, and the interpreter is reduced to its module-level bindings and traces.
 */
function plain(analysis: PythonAnalysis): unknown {
  const stack: object[] = [];
  const walk = (x: unknown): unknown => {
    if (x === null || typeof x !== 'object') return x;
    if (stack.includes(x)) return '<cycle>';
    if ('childForFieldName' in x) {
      const n = x as SyntaxNode;
      return `${n.type}@${n.startPosition.row}:${n.startPosition.column}-${n.endPosition.row}:${n.endPosition.column}`;
    }
    if (x instanceof Interpreter) return { globals: walk(x.globals), traces: walk([...x.traces.values()]) };
    stack.push(x);
    const out = x instanceof Map ? [...x].map(([k, v]) => [k, walk(v)]) : Array.isArray(x) ? x.map(walk) : Object.fromEntries(Object.entries(x).map(([k, v]) => [k, walk(v)]));
    stack.pop();
    return out;
  };
  return walk(analysis);
}

/** Uses an analysis from scratch (without a cache, it reads the tree, which lives until `use` returns). */
async function fresh<T>(text: string, use: (analysis: PythonAnalysis) => T = plain as (a: PythonAnalysis) => T): Promise<T> {
  const tree = (await loadPythonParser()).parse(text)!;
  try {
    return use(analyzeTree(tree, text));
  } finally {
    tree.delete();
  }
}

describe('python/analysisCache: cached analyses equal analyses from scratch', () => {
  it('after every edit of a sequence (moves, edits inside and across classes, constants, syntax errors)', async () => {
    // The host's path (PythonDocumentCache.analyze), without its keeping the last clean analysis on syntax errors.
    const parser = await loadPythonParser();
    const cache = new AnalysisCache();
    let parsed: ParsedText | undefined;
    const analyze = (text: string): PythonAnalysis => {
      const tree = reparse(parser, text, parsed);
      parsed?.tree.delete();
      parsed = { text, tree };
      return analyzeTree(tree, text, { cache });
    };
    let text = BASE;
    assert.deepStrictEqual(plain(analyze(text)), await fresh(text), 'the first analysis');
    const errors: boolean[] = [];
    for (const [name, edit] of EDITS) {
      text = edit(text);
      const cached = analyze(text);
      assert.deepStrictEqual(plain(cached), await fresh(text), `after: ${name}`);
      errors.push(cached.hasSyntaxErrors);
    }
    assert.deepStrictEqual(errors.map((e, i) => (e ? EDITS[i][0] : '')).filter(Boolean), ['introduce a syntax error', 'type on while the syntax error is there']);
    parsed?.tree.delete();
  });

  it('replays what an edit cannot affect and recomputes what it can', async () => {
    const documents = new PythonDocumentCache(await loadPythonParser());
    let text = BASE;
    let version = 1;
    const analyze = (): PythonAnalysis => documents.analyze({ key: 'k', version: version++, getText: () => text }).analysis;
    const instanceOf = (a: PythonAnalysis, name: string): unknown => a.modules.find((m) => m.name === name)?.instance;
    const before = analyze();
    assert.ok(before.modules.some((m) => m.name === 'Decorated'), 'a decorated class is a module too');
    text = replaceOnce(text, 'nn.Linear(784, HIDDEN)', 'nn.Linear(784, HIDDEN, bias=False)');
    const afterMlp = analyze();
    assert.equal(instanceOf(afterMlp, 'Squeeze'), instanceOf(before, 'Squeeze'), 'an edit in Mlp leaves Squeeze cached');
    assert.equal(instanceOf(afterMlp, 'Broken'), instanceOf(before, 'Broken'), 'an edit in Mlp leaves Broken cached');
    assert.notEqual(instanceOf(afterMlp, 'Mlp'), instanceOf(before, 'Mlp'));
    text = replaceOnce(text, 'self.e1 = nn.Conv2d(squeeze, e1, 1)', 'self.e1 = nn.Conv2d(squeeze, e1, 1, bias=False)');
    const afterFire = analyze();
    assert.notEqual(instanceOf(afterFire, 'Squeeze'), instanceOf(afterMlp, 'Squeeze'), 'an edit in Fire reaches Squeeze, which uses it');
    assert.equal(afterFire.modules.find((m) => m.name === 'Squeeze')!.params!.params, afterMlp.modules.find((m) => m.name === 'Squeeze')!.params!.params - 2 * 64);
    text = `\n\n${text}`;
    const moved = analyze();
    const squeeze = moved.modules.find((m) => m.name === 'Squeeze')!;
    assert.equal(squeeze.range.line, afterFire.modules.find((m) => m.name === 'Squeeze')!.range.line + 2, 'a moved class is re-based');
    // Squeeze builds an nn.Sequential, whose line the interpreter reports in case a message names it; none does, so
    // its cached results move with its lines (a moved copy shares the values without positions) instead of running again.
    const headWidth = (a: PythonAnalysis): unknown => (instanceOf(a, 'Squeeze') as LayerValue).children.find(([n]) => n === 'head')![1].args.get('in_features');
    assert.ok(headWidth(moved) !== undefined && headWidth(moved) === headWidth(afterFire), 'a class whose messages name no line is re-based, not run again');
    assert.deepStrictEqual(plain(moved), await fresh(text));
  });

  it('lowers a cached module with the source lines of the current text', async () => {
    const documents = new PythonDocumentCache(await loadPythonParser());
    let text = BASE;
    documents.analyze({ key: 'k', version: 1, getText: () => text });
    text = `# a\n# b\n${text}`;
    const cached = documents.analyze({ key: 'k', version: 2, getText: () => text }).analysis;
    const lower = (a: PythonAnalysis): unknown => {
      const m = a.modules.find((x) => x.name === 'Squeeze')!;
      const model = lowerModuleToModel({ instance: m.instance, interpreter: a.interpreter }, { inputShape: m.inputShape!, seed: 3 });
      return model.graph.nodes.map((n) => [n.opType, n.source?.line]);
    };
    assert.deepStrictEqual(lower(cached), await fresh(text, lower));
  });

  it('a forward pass that changes its module does not leak into later versions through lowering', async () => {
    const documents = new PythonDocumentCache(await loadPythonParser());
    let text = BASE;
    const first = documents.analyze({ key: 'k', version: 1, getText: () => text }).analysis;
    const lazy = first.modules.find((m) => m.name === 'Lazy')!;
    lowerModuleToModel({ instance: lazy.instance, interpreter: first.interpreter }, { inputShape: lazy.inputShape!, seed: 1 });
    text = replaceOnce(text, 'HIDDEN = 64', 'HIDDEN = 65');
    const cached = documents.analyze({ key: 'k', version: 2, getText: () => text }).analysis;
    assert.deepStrictEqual(plain(cached), await fresh(text));
  });

  it('the sample files, edited line by line, stay equal to analyses from scratch', async () => {
    const samples = path.join(__dirname, '../../../../samples/python');
    for (const file of fs.readdirSync(samples).filter((f) => f.endsWith('.py'))) {
      const documents = new PythonDocumentCache(await loadPythonParser());
      const lines = fs.readFileSync(path.join(samples, file), 'utf8').split('\n');
      let version = 1;
      // Every fifth line in turn gets a blank line inserted above it, and then loses it again.
      for (let k = 0; k < lines.length; k += 5) {
        for (const text of [[...lines.slice(0, k), '', ...lines.slice(k)].join('\n'), lines.join('\n')]) {
          const cached = documents.analyze({ key: file, version: version++, getText: () => text }).analysis;
          assert.deepStrictEqual(plain(cached), await fresh(text), `${file}, a blank line at line ${k + 1}`);
        }
      }
    }
  });
});
