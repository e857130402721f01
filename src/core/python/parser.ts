import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Parser as ParserType } from 'web-tree-sitter';

// require, not import: esbuild then picks web-tree-sitter's CommonJS build, whose ESM build reads import.meta.url,
// which is empty in the CommonJS bundles of the CLI and the extension.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Language, Parser } = require('web-tree-sitter') as typeof import('web-tree-sitter');

/**
 * Loads web-tree-sitter and the Python grammar once per process. Both are wasm files: in the bundled extension and
 * CLI they sit next to the bundle in dist/ (esbuild copies them there), and in tests they are read from node_modules.
 * `locateFile` points the runtime at the right copy, because its default (next to the calling script) is wrong once
 * the code is bundled.
 */

const RUNTIME_WASM = 'tree-sitter.wasm';
const PYTHON_WASM = 'tree-sitter-python.wasm';

let cached: Promise<ParserType> | undefined;
let cachedDir: string | undefined;

/** The folders that may hold the wasm files, most specific first. */
function candidateDirs(wasmDir?: string): { runtime: string[]; grammar: string[] } {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  const roots = [here, path.join(here, '..'), path.join(here, '..', '..'), path.join(here, '..', '..', '..'), process.cwd()];
  const runtime: string[] = [];
  const grammar: string[] = [];
  if (wasmDir) {
    runtime.push(wasmDir);
    grammar.push(wasmDir);
  }
  for (const r of roots) {
    runtime.push(r, path.join(r, 'dist'), path.join(r, 'node_modules', 'web-tree-sitter'));
    grammar.push(r, path.join(r, 'dist'), path.join(r, 'node_modules', 'tree-sitter-python'));
  }
  return { runtime, grammar };
}

function findFile(dirs: string[], name: string): string | undefined {
  for (const d of dirs) {
    const p = path.join(d, name);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

/** The cached Python parser. `wasmDir` names the folder holding both wasm files (dist/ in the bundles). */
export function loadPythonParser(wasmDir?: string): Promise<ParserType> {
  if (cached && cachedDir === wasmDir) return cached;
  if (cached && wasmDir === undefined) return cached;
  cachedDir = wasmDir;
  cached = (async () => {
    const dirs = candidateDirs(wasmDir);
    // web-tree-sitter 0.25 ships tree-sitter.wasm; later releases call it web-tree-sitter.wasm.
    const runtimePath = findFile(dirs.runtime, RUNTIME_WASM) ?? findFile(dirs.runtime, 'web-tree-sitter.wasm');
    const grammarPath = findFile(dirs.grammar, PYTHON_WASM);
    if (!runtimePath || !grammarPath) {
      throw new Error(`cannot find ${!runtimePath ? RUNTIME_WASM : PYTHON_WASM} (looked in ${dirs.runtime.slice(0, 3).join(', ')} …)`);
    }
    await Parser.init({ locateFile: (file: string) => (file.endsWith('.wasm') ? runtimePath : file) });
    const language = await Language.load(fs.readFileSync(grammarPath));
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })();
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}
