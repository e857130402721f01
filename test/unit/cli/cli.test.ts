import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../../src/cli/cli';
import { memoryIo } from '../../../src/cli/io';
import { REPO, ensureCliBuilt, runCliProcess } from './helpers';

const SAMPLES = path.join(REPO, 'samples');

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo(REPO);
  const code = await runCli(args, io);
  return { code, out: io.out, err: io.err };
}

describe('cli (in process)', () => {
  it('--help and --version exit 0', async () => {
    const help = await run(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /Usage: layerscope/);
    const version = await run(['--version']);
    assert.equal(version.code, 0);
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    assert.equal(version.out.trim(), pkg.version);
    const summaryHelp = await run(['summary', '--help']);
    assert.equal(summaryHelp.code, 0);
    assert.match(summaryHelp.out, /--input-shape/);
  });

  it('no command or an unknown command exits 2 with one line', async () => {
    const none = await run([]);
    assert.equal(none.code, 2);
    const bad = await run(['summarise', 'x.onnx']);
    assert.equal(bad.code, 2);
    assert.equal(bad.err.trim().split('\n').length, 1);
    assert.match(bad.err, /unknown command 'summarise'/);
  });

  it('--json prints exactly one JSON document with the contract fields', async () => {
    const r = await run(['summary', 'samples/deeper_bn_convnet.onnx', '--json', '--input-shape', 'input=1x3x32x32']);
    assert.equal(r.code, 0, r.err);
    const doc = JSON.parse(r.out) as Record<string, unknown>;
    for (const key of ['format', 'opset', 'inputs', 'outputs', 'totals', 'layers', 'warnings']) assert.ok(key in doc, key);
    const totals = doc.totals as Record<string, number>;
    assert.equal(totals.trainableParams, 17020);
    assert.equal(totals.nonTrainableParams, 90);
    const layers = doc.layers as { name: string; op: string; inputs: string[]; outputs: { name: string; shape: unknown }[]; params: number; macs: number; receptiveField: unknown }[];
    const first = layers[0];
    assert.deepEqual(Object.keys(first).filter((k) => ['name', 'op', 'inputs', 'outputs', 'params', 'macs', 'receptiveField'].includes(k)).length, 7);
    assert.deepEqual(first.outputs[0].shape, [1, 15, 32, 32]);
    assert.ok(Array.isArray(doc.warnings) && (doc.warnings as unknown[]).every((w) => typeof w === 'string'));
  });

  it('an unnamed --input-shape applies to the only input', async () => {
    const r = await run(['summary', 'samples/alexnet_conv1.onnx', '--json', '--input-shape', '2x3x227x227']);
    assert.equal(r.code, 0, r.err);
    const doc = JSON.parse(r.out) as { inputs: { shape: number[] }[]; totals: { macs: number } };
    assert.deepEqual(doc.inputs[0].shape, [2, 3, 227, 227]);
    assert.equal(doc.totals.macs, 2 * 96 * 55 * 55 * 363);
  });

  it('the default table is torchinfo-like: layer, op, shape, params, MACs, field, then totals and memory', async () => {
    const r = await run(['summary', path.join(SAMPLES, 'deeper_bn_convnet.onnx')]);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n');
    assert.match(lines[0], /^Model: .*deeper_bn_convnet\.onnx/);
    assert.ok(lines.some((l) => /Layer \(op\)\s+Output shape\s+Params\s+MACs\s+Receptive field/.test(l)));
    assert.ok(lines.some((l) => /\/net\/net\.15\/Conv \(Conv\)\s+\[N, 15, 2, 2\]\s+2,040\s+8,100\s+45x45 \/16x16 @0,0/.test(l)), r.out);
    assert.ok(lines.includes('Trainable params: 17,020'));
    assert.ok(lines.includes('Non-trainable params: 90'));
    assert.ok(lines.some((l) => l.startsWith('Estimated total size:')));
  });

  it('--markdown prints a pasteable table', async () => {
    const r = await run(['summary', 'samples/stack_3x3.onnx', '--markdown']);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n');
    assert.equal(lines[0], '| Layer | Op | Output shape | Params | MACs | Receptive field |');
    assert.equal(lines[1], '| --- | --- | --- | ---: | ---: | --- |');
    assert.ok(lines.includes('| /convs/convs.4/Conv | Conv | [1, 16, 32, 32] | 2,304 | 2,359,296 | 7x7 /1x1 @0,0 |'), r.out);
    assert.ok(lines.includes('| Params | 6,912 |'));
  });

  it('--json with --markdown, two models, or none is a usage error', async () => {
    for (const args of [['summary', 'a.onnx', '--json', '--markdown'], ['summary', 'a.onnx', 'b.onnx'], ['summary'], ['summary', 'a.onnx', '--bogus']]) {
      const r = await run(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.err.trim().split('\n').length, 1);
      assert.equal(r.out, '');
    }
  });

  it('an internal error exits 1 without a stack trace', async () => {
    const io = memoryIo(REPO);
    // A CliIo whose stdout throws simulates a bug below the command.
    io.stdout = () => {
      throw new TypeError('boom');
    };
    const code = await runCli(['--help'], io);
    assert.equal(code, 1);
    assert.match(io.err, /internal error: boom/);
    assert.ok(!io.err.includes('    at '));
  });
});

describe('cli (dist/cli.js)', function () {
  this.timeout(120_000);
  before(() => ensureCliBuilt());

  it('runs summary on a bundled sample with exit 0', () => {
    const r = runCliProcess(['summary', 'samples/deeper_bn_convnet_folded.onnx', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { totals: { params: number }; warnings: string[] };
    assert.equal(doc.totals.params, 16930);
    assert.ok(doc.warnings.some((w) => /folded/.test(w)));
  });

  it('starts with a shebang so that it runs as `layerscope`', () => {
    assert.ok(fs.readFileSync(path.join(REPO, 'dist', 'cli.js'), 'utf8').startsWith('#!/usr/bin/env node'));
  });
});
