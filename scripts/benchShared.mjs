// Pieces the whole-process benchmarks share (benchProbe.mjs, benchGrad.mjs): the plain onnxruntime-node run they are
// measured against, medians, and writing a section of docs/benchmarks.md between its markers (every benchmark
// script writes its section through replaceBenchSection).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export const ms = (x) => `${x.toFixed(0)} ms`;

/**
 * Writes, into `dir`, a script that is "a plain onnxruntime-node run": a fresh Node process that reads a float32 .npy
 * input (its data after a 128-byte header, checked by the caller), creates a session with onnxruntime's defaults, runs
 * it once and prints its session and run times as JSON. Usage: node plainRun.cjs MODEL INPUT.npy INPUT_NAME.
 */
export function writePlainRunScript(dir) {
  const script = join(dir, 'plainRun.cjs');
  writeFileSync(
    script,
    `const { createRequire } = require('node:module');
const ort = createRequire(${JSON.stringify(join(root, 'package.json'))})('onnxruntime-node');
const fs = require('node:fs');
(async () => {
  const t0 = performance.now();
  const bytes = fs.readFileSync(process.argv[3]);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 128, bytes.byteOffset + bytes.byteLength));
  const session = await ort.InferenceSession.create(process.argv[2], { executionProviders: ['cpu'] });
  const t1 = performance.now();
  const out = await session.run({ [process.argv[4]]: new ort.Tensor('float32', data, [1, 3, 224, 224]) });
  const t2 = performance.now();
  void out;
  process.stdout.write(JSON.stringify({ sessionMs: t1 - t0, runMs: t2 - t1, totalMs: t2 - t0 }));
})();
`,
  );
  return script;
}

/** The .npy header of a 1×3×224×224 float32 input is 128 bytes; the plain run relies on it, so check, don't assume. */
export function checkInputHeader(npyPath) {
  const npy = readFileSync(npyPath);
  if (npy.readUInt16LE(8) + 10 !== 128) throw new Error(`${npyPath}: unexpected .npy header length`);
}

/**
 * Replaces the section between `<!-- bench:NAME:start -->` and its end marker with `content` (or appends it) in
 * docs/benchmarks.md, so that each benchmark rewrites only its own part. Returns the file's path.
 */
export function replaceBenchSection(name, content) {
  const docs = join(root, 'docs', 'benchmarks.md');
  mkdirSync(dirname(docs), { recursive: true });
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${start}\n${content.trim()}\n${end}`;
  let text = existsSync(docs)
    ? readFileSync(docs, 'utf8')
    : '# Benchmarks\n\nEach section is written by the benchmark named in it; rerun it to refresh the numbers.\n';
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  text = a >= 0 && b > a ? text.slice(0, a) + block + text.slice(b + end.length) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(docs, text);
  return docs;
}

/** A section with its heading: `## HEADING`, a blank line, then `body`. */
export function writeBenchSection(name, heading, body) {
  return replaceBenchSection(name, `## ${heading}\n\n${body}`);
}
