import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Node } from 'web-tree-sitter';
import { loadPythonParser } from '../../../../src/core/python/parser';
import { snapshotStatement } from '../../../../src/core/python/syntax';
import type { SyntaxNode } from '../../../../src/core/python/syntax';

/** The interpreter reads snapshots instead of tree-sitter nodes, so every property it reads must be the same. */

const samples = path.join(__dirname, '../../../../samples/python');

const EXTRA: Record<string, string> = {
  'non-ASCII text before and inside statements': '# größe: 1×3×32×32 ✓\nclass A(nn.Module):  # ünïcödé\n    def __init__(self):\n        self.s = "→ 😀 ←"; self.fc = nn.Linear(4, 2)\n',
  'CRLF line endings': 'import torch.nn as nn\r\nclass A(nn.Module):\r\n    def __init__(self):\r\n        super().__init__()\r\n        self.fc = nn.Linear(4, 2)\r\n',
  'statements after semicolons': 'a = 1; b = [x for x in range(3) if x]; c = a if b else -a\n',
  'syntax errors and missing tokens': 'class A(nn.Module:\n    def __init__(self\n        self.fc = nn.Linear(4, 2\nx = (1, 2\nif a is not b and c not in d: pass\ny = z[1:2, ::3]\n',
};

function compare(real: Node, snap: SyntaxNode, fields: string[], where: string): void {
  const at = `${where} ${real.type}@${real.startPosition.row}:${real.startPosition.column}`;
  assert.equal(snap.type, real.type, at);
  assert.equal(snap.isNamed, real.isNamed, at);
  assert.equal(snap.text, real.text, at);
  assert.deepStrictEqual(snap.startPosition, real.startPosition, at);
  assert.deepStrictEqual(snap.endPosition, real.endPosition, at);
  assert.equal(snap.children.length, real.children.length, at);
  assert.equal(snap.namedChildren.length, real.namedChildren.length, at);
  for (let i = 0; i < real.namedChildren.length; i++) assert.equal(snap.namedChild(i)?.startPosition.column, real.namedChild(i)?.startPosition.column, at);
  for (const f of fields) {
    const r = real.childForFieldName(f);
    const s = snap.childForFieldName(f);
    assert.equal(s?.type, r?.type, `${at} field ${f}`);
    assert.deepStrictEqual(s?.startPosition, r?.startPosition, `${at} field ${f}`);
    assert.deepStrictEqual(snap.childrenForFieldName(f).map((c) => c?.text), real.childrenForFieldName(f).map((c) => c?.text), `${at} fields ${f}`);
  }
  real.children.forEach((c, i) => compare(c!, snap.children[i]!, fields, where));
}

describe('python/syntax: statement snapshots', () => {
  const files = Object.entries(EXTRA);
  for (const f of fs.readdirSync(samples).filter((n) => n.endsWith('.py'))) files.push([f, fs.readFileSync(path.join(samples, f), 'utf8')]);

  for (const [name, source] of files) {
    it(`read like the tree-sitter nodes they copy: ${name}`, async () => {
      const parser = await loadPythonParser();
      const tree = parser.parse(source)!;
      const fields = parser.language!.fields.filter((f): f is string => !!f);
      try {
        for (const stmt of tree.rootNode.namedChildren) compare(stmt!, snapshotStatement(stmt!, source).node, fields, name);
      } finally {
        tree.delete();
      }
    });
  }

  it('a moved snapshot reports its new lines', async () => {
    const parser = await loadPythonParser();
    const source = '\n\nclass A:\n    x = 1\n';
    const tree = parser.parse(source)!;
    const snap = snapshotStatement(tree.rootNode.namedChild(0)!, source);
    tree.delete();
    snap.row += 5;
    assert.deepStrictEqual(snap.node.startPosition, { row: 7, column: 0 });
    assert.deepStrictEqual(snap.node.childForFieldName('body')!.endPosition, { row: 8, column: 9 });
  });
});
