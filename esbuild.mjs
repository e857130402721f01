// Bundles every entry point. Each front end (CLI, extension host, runtime worker, webview) is one
// self-contained file in dist/, so the .vsix and `npm i -g` need no node_modules beyond native addons.
import * as esbuild from 'esbuild';
import { mkdirSync, copyFileSync } from 'node:fs';
import { dirname } from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const nodeEntries = [
  { in: 'src/cli/main.ts', out: 'cli', banner: '#!/usr/bin/env node' },
  { in: 'src/host/extension.ts', out: 'extension' },
  { in: 'src/runtime/worker.ts', out: 'runtimeWorker' },
  { in: 'src/runtime/gradWorker.ts', out: 'gradWorker' },
  { in: 'src/runtime/backendsWorker.ts', out: 'backendsWorker' },
];

const webEntries = [{ in: 'webview/main.ts', out: 'webview' }];

const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  outdir: 'dist',
};

const builds = [];
for (const e of nodeEntries) {
  builds.push({
    ...common,
    entryPoints: [{ in: e.in, out: e.out }],
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // onnxruntime-node is a native addon and vscode is provided by the editor; neither can be bundled.
    external: ['vscode', 'onnxruntime-node'],
    banner: e.banner ? { js: e.banner } : undefined,
  });
}
for (const e of webEntries) {
  builds.push({
    ...common,
    entryPoints: [{ in: e.in, out: e.out }],
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    tsconfig: 'webview/tsconfig.json',
  });
}

// Tree-sitter's runtime and grammar ship as wasm files that are loaded at run time with locateFile; the bridge script too.
const wasmFiles = [
  ['node_modules/web-tree-sitter/tree-sitter.wasm', 'dist/tree-sitter.wasm'],
  ['node_modules/tree-sitter-python/tree-sitter-python.wasm', 'dist/tree-sitter-python.wasm'],
  // Exact mode's Python side, run with the user's interpreter (src/runtime/pythonBridge.ts finds it next to the bundle).
  ['src/runtime/python/layerscopeBridge.py', 'dist/layerscopeBridge.py'],
];
mkdirSync('dist', { recursive: true });
for (const [from, to] of wasmFiles) {
  // A missing grammar is a broken install, not an optional part: copyFileSync fails the build with the path.
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}

if (watch) {
  for (const b of builds) (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}

