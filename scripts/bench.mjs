// `npm run bench` (after `npm run build`): times `layerscope summary` on a generated VGG-16-shaped model of about
// 553 MB against Debian's python3-onnx (onnx.load + onnx.shape_inference.infer_shapes) on the same file, and rewrites
// the "Summary" section of docs/benchmarks.md between its markers. Other benchmarks own other sections of that file.
//
// The model is written to a temporary folder and removed afterwards; it is never committed. Peak memory is the
// child's maximum resident set size as /usr/bin/time -v reports it (GNU time), falling back to wall time only.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { replaceBenchSection } from './benchShared.mjs';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(repo, 'dist', 'cli.js');
const python = '/usr/bin/python3';
const gnuTime = '/usr/bin/time';
const runs = Number(process.env.BENCH_RUNS ?? 3);

function log(message) {
  process.stderr.write(`${message}\n`);
}

/** Runs a command once; returns wall seconds, peak RSS in bytes (when GNU time is there) and the exit status. */
function measure(command, args) {
  const useTime = fs.existsSync(gnuTime);
  const argv = useTime ? [gnuTime, '-v', command, ...args] : [command, ...args];
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  let rss;
  if (useTime) {
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? '');
    if (m) rss = Number(m[1]) * 1024;
  }
  return { wall, rss, status: r.status, stderr: r.stderr ?? '', stdout: r.stdout ?? '' };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function repeat(label, command, args) {
  const results = [];
  for (let i = 0; i < runs; i++) {
    const r = measure(command, args);
    if (r.status !== 0) throw new Error(`${label} failed (exit ${r.status}): ${r.stderr.slice(-1500)}`);
    log(`  ${label} run ${i + 1}: ${r.wall.toFixed(3)} s, peak RSS ${r.rss ? (r.rss / 2 ** 20).toFixed(1) + ' MiB' : '?'}`);
    results.push(r);
  }
  return {
    wall: median(results.map((r) => r.wall)),
    rss: results.every((r) => r.rss !== undefined) ? Math.max(...results.map((r) => r.rss)) : undefined,
    stdout: results[0].stdout,
  };
}

function mib(bytes) {
  return bytes === undefined ? 'n/a' : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function machine() {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown CPU'} (${cpus.length} logical CPUs), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
}


function main() {
  if (!fs.existsSync(cli)) throw new Error('dist/cli.js is missing; run npm run build first');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerscope-bench-'));
  const model = path.join(dir, 'vgg16.onnx');
  try {
    log(`writing a VGG-16-shaped model with random weights to ${model} ...`);
    const gen = spawnSync(process.execPath, ['--import', 'tsx', path.join(repo, 'scripts', 'makeSamples.ts'), '--vgg16', model], {
      cwd: repo,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (gen.status !== 0) throw new Error(`generating the model failed: ${gen.stderr}`);
    const size = fs.statSync(model).size;
    log(`model: ${(size / 1e6).toFixed(1)} MB`);

    log('layerscope summary --json ...');
    const ours = repeat('layerscope', process.execPath, [cli, 'summary', model, '--json']);
    const summary = JSON.parse(ours.stdout);
    log('layerscope summary (table, time to first line) ...');
    const firstLine = timeToFirstLine(process.execPath, [cli, 'summary', model]);

    let theirs;
    const hasOnnx = fs.existsSync(python) && spawnSync(python, ['-c', 'import onnx'], { encoding: 'utf8' }).status === 0;
    if (hasOnnx) {
      log('python3 onnx.load + onnx.shape_inference.infer_shapes ...');
      theirs = repeat('python-onnx', python, ['-c', 'import sys, onnx; m = onnx.load(sys.argv[1]); onnx.shape_inference.infer_shapes(m)', model]);
    } else {
      log('(python3 with onnx not found: the comparison column stays empty)');
    }
    const onnxVersion = hasOnnx ? spawnSync(python, ['-c', 'import onnx; print(onnx.__version__)'], { encoding: 'utf8' }).stdout.trim() : 'n/a';

    const speedup = theirs ? theirs.wall / ours.wall : undefined;
    const memFraction = ours.rss !== undefined ? ours.rss / size : undefined;
    const date = new Date().toISOString().slice(0, 10);
    const text = `## Summary

What: \`layerscope summary --json\` on a VGG-16-shaped ONNX model (13 Conv, 5 MaxPool, 3 Gemm; ${summary.totals.params.toLocaleString('en-US')} float32 parameters; ${(size / 1e6).toFixed(1)} MB) with random weights, generated by \`scripts/makeSamples.ts --vgg16\` into a temporary folder and deleted afterwards. It is compared with what Python users run for the same job: \`onnx.load\` followed by \`onnx.shape_inference.infer_shapes\` (onnx ${onnxVersion}, Debian's python3-onnx) on the same file.

How: \`npm run bench\` (\`scripts/bench.mjs\`), ${runs} runs each, median wall time, largest peak resident set size as \`/usr/bin/time -v\` reports it for the whole process (Node's or Python's start-up included). The page cache is warm for both tools after the first run. "First line" is the time until the human-readable table printed its first line.

| | layerscope summary | python3 onnx load + infer_shapes | ratio |
| --- | ---: | ---: | ---: |
| wall time (median) | ${ours.wall.toFixed(3)} s | ${theirs ? theirs.wall.toFixed(3) + ' s' : 'n/a'} | ${speedup ? speedup.toFixed(1) + '× faster' : 'n/a'} |
| peak RSS | ${mib(ours.rss)} | ${theirs ? mib(theirs.rss) : 'n/a'} | ${ours.rss && theirs?.rss ? (theirs.rss / ours.rss).toFixed(1) + '× less' : 'n/a'} |
| peak RSS / file size | ${memFraction !== undefined ? (100 * memFraction).toFixed(1) + ' %' : 'n/a'} | ${theirs?.rss ? (100 * theirs.rss / size).toFixed(1) + ' %' : 'n/a'} | |
| time to first line (table) | ${firstLine !== undefined ? firstLine.toFixed(3) + ' s' : 'n/a'} | | |

Targets (issue 2): at least 10× faster than the Python baseline — ${speedup === undefined ? 'not measured' : speedup >= 10 ? `met (${speedup.toFixed(1)}×)` : `NOT met (${speedup.toFixed(1)}×)`}; peak memory under 25 % of the file size — ${memFraction === undefined ? 'not measured' : memFraction < 0.25 ? `met (${(100 * memFraction).toFixed(1)} %)` : `NOT met (${(100 * memFraction).toFixed(1)} %)`}.

Why it is fast: the reader walks the protobuf through a windowed file source and records each initializer's raw_data as a byte range without reading it, so the 553 MB of weights are never loaded; the analyses need only dims and dtypes.

Machine: ${machine()}. Measured ${date}.
`;
    replaceBenchSection('summary', text);
    log(text);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Seconds until the child writes its first byte to stdout. */
function timeToFirstLine(command, args) {
  const script = `
    const { spawn } = require('node:child_process');
    const start = process.hrtime.bigint();
    const child = spawn(${JSON.stringify(command)}, ${JSON.stringify(args)}, { stdio: ['ignore', 'pipe', 'inherit'] });
    let done = false;
    child.stdout.on('data', () => { if (!done) { done = true; console.log(Number(process.hrtime.bigint() - start) / 1e9); } });
    child.on('exit', () => { if (!done) console.log('NaN'); });
  `;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  const value = Number(r.stdout.trim().split('\n')[0]);
  return Number.isFinite(value) ? value : undefined;
}

main();
