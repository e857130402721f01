import { execFileSync } from 'node:child_process';
import { analyzeTree } from '../../../../src/core/python/analyze';
import type { AnalyzeOptions, PythonAnalysis } from '../../../../src/core/python/analyze';
import { Interpreter } from '../../../../src/core/python/interpreter';
import { loadPythonParser } from '../../../../src/core/python/parser';
import type { Value } from '../../../../src/core/python/values';

/** Parses and analyses source with the cached parser. */
export async function analyze(source: string, options: AnalyzeOptions = {}): Promise<PythonAnalysis> {
  const parser = await loadPythonParser();
  const tree = parser.parse(source);
  if (!tree) throw new Error('no tree');
  return analyzeTree(tree, source, options);
}

/** Runs module-level code and returns the value bound to `name`. */
export async function evalModule(source: string, name: string): Promise<Value | undefined> {
  const parser = await loadPythonParser();
  const tree = parser.parse(source)!;
  const interp = new Interpreter();
  interp.execModule(tree.rootNode);
  return interp.globals.get(name);
}

/** The lens titles by 1-based line, for compact assertions. */
export function lensTitles(a: PythonAnalysis): Map<number, string[]> {
  const m = new Map<number, string[]>();
  for (const l of a.lenses) m.set(l.line + 1, [...(m.get(l.line + 1) ?? []), l.title]);
  return m;
}

/** Debian's Python, whose torch 1.13 and torchvision 0.14 are the oracles of the tests. */
export const PYTHON = '/usr/bin/python3';

/** Whether PYTHON can import torch. */
export function torchAvailable(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}
