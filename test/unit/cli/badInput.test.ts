import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GraphBuilder } from '../../../src/core/ir/builder';
import type { Model } from '../../../src/core/ir/types';
import { writeOnnx, writeOnnxFile } from '../../../src/core/onnx/index';
import { buildChain, seededRandom } from '../../../scripts/makeSamples';
import type { CliRun } from './helpers';
import { REPO, ensureCliBuilt, folderSnapshot, makeTempDir, runCliProcess } from './helpers';

/**
 * Every bad input of issue 2, through the real bundle: exit code 2, exactly one line on stderr that names the
 * problem, no stack trace, nothing on stdout, and nothing written to the file's folder.
 */

function tinyModel(): { b: GraphBuilder; x: string } {
  const b = new GraphBuilder('tiny');
  const x = b.input('x', 'float32', [1, 4]);
  return { b, x };
}

describe('cli bad input (dist/cli.js)', function () {
  this.timeout(180_000);
  let tmp: { dir: string; cleanup: () => void };
  before(() => ensureCliBuilt());
  beforeEach(() => {
    tmp = makeTempDir();
  });
  afterEach(() => tmp.cleanup());

  function write(name: string, bytes: Uint8Array | string): string {
    const p = path.join(tmp.dir, name);
    fs.writeFileSync(p, bytes);
    return p;
  }

  function writeModel(name: string, model: Model): string {
    return write(name, writeOnnx(model));
  }

  function expectRefused(args: string[], pattern: RegExp): CliRun {
    const before = folderSnapshot(tmp.dir);
    for (const format of [[], ['--json']]) {
      const r = runCliProcess(['summary', ...args, ...format]);
      assert.equal(r.status, 2, `exit code for ${args.join(' ')}: ${r.status}\nstderr: ${r.stderr}`);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
      assert.match(lines[0], pattern);
      assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
      assert.equal(r.stdout, '', 'nothing on stdout');
    }
    assert.equal(folderSnapshot(tmp.dir), before, 'the folder is unchanged');
    return runCliProcess(['summary', ...args]);
  }

  it('a truncated file', () => {
    const whole = fs.readFileSync(path.join(REPO, 'samples', 'deeper_bn_convnet.onnx'));
    const file = write('truncated.onnx', whole.subarray(0, Math.floor(whole.length / 2)));
    expectRefused([file], /truncated\.onnx.*(truncated|damaged)/);
  });

  it('random bytes', () => {
    const random = seededRandom(7);
    const bytes = new Uint8Array(4096).map(() => Math.floor(random() * 256));
    expectRefused([write('random.onnx', bytes)], /random\.onnx/);
  });

  it('a zero-length file', () => {
    expectRefused([write('empty.onnx', new Uint8Array(0))], /empty\.onnx is empty/);
  });

  it('a NumPy .npy file and a PyTorch .pt checkpoint', () => {
    const npy = new Uint8Array([0x93, ...Buffer.from('NUMPY'), 1, 0, 0x76, 0, ...Buffer.from("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }".padEnd(118)), 0x0a]);
    expectRefused([write('weights.npy', npy)], /NumPy/);
    const pt = Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(26), Buffer.from('archive/data.pkl'), Buffer.alloc(64)]);
    expectRefused([write('model.pt', pt)], /PyTorch checkpoint/);
  });

  it('a missing file and a directory', () => {
    expectRefused([path.join(tmp.dir, 'nope.onnx')], /nope\.onnx: no such file/);
    fs.mkdirSync(path.join(tmp.dir, 'folder.onnx'));
    expectRefused([path.join(tmp.dir, 'folder.onnx')], /folder\.onnx is a directory/);
  });

  it('a cyclic graph', () => {
    const { b, x } = tinyModel();
    const a = b.op('Add', [x, 'loop_back'], {}, { name: 'add', output: 'a' });
    b.op('Relu', [a], {}, { name: 'relu', output: 'loop_back' });
    b.output('loop_back');
    expectRefused([writeModel('cycle.onnx', b.model())], /cycle/);
  });

  it('a node input that nothing produces', () => {
    const { b, x } = tinyModel();
    b.output(b.op('Add', [x, 'ghost'], {}, { name: 'add' }));
    expectRefused([writeModel('dangling.onnx', b.model())], /'ghost'.*no node, input or initializer produces/);
  });

  it('a duplicate output name', () => {
    const { b, x } = tinyModel();
    b.op('Relu', [x], {}, { name: 'first', output: 'y' });
    b.op('Sigmoid', [x], {}, { name: 'second', output: 'y' });
    b.output('y');
    expectRefused([writeModel('duplicate.onnx', b.model())], /duplicate output name 'y'/);
  });

  it('a dim that is negative or at least 2^53', () => {
    for (const [name, dim] of [['negative.onnx', -3], ['huge.onnx', 2 ** 53]] as const) {
      const b = new GraphBuilder('dims');
      const x = b.input('x', 'float32', [1, dim]);
      b.output(b.op('Relu', [x]));
      expectRefused([writeModel(name, b.model())], /negative or at least 2\^53/);
    }
  });

  it('a dim that is negative or at least 2^53 in --input-shape', () => {
    const file = path.join(REPO, 'samples', 'alexnet_conv1.onnx');
    expectRefused([file, '--input-shape', 'input=1x3x-227x227'], /negative/);
    expectRefused([file, '--input-shape', `input=1x3x${2 ** 53}x227`], /2\^53/);
    expectRefused([file, '--input-shape', 'image=1x3x227x227'], /'image', which is not an input/);
  });

  it('a 100,000-node graph is refused at once; --max-nodes lets it through', () => {
    const file = path.join(tmp.dir, 'huge-graph.onnx');
    writeOnnxFile(buildChain(100_000), file);
    const refused = expectRefused([file], /more than 50,000 nodes.*--max-nodes/);
    assert.ok(refused.ms < 30_000, `refused in ${refused.ms} ms`);
    const r = runCliProcess(['summary', file, '--json', '--max-nodes', '200000'], { timeoutMs: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { layers: unknown[]; outputs: { shape: unknown }[] };
    assert.equal(doc.layers.length, 100_000);
    assert.deepEqual(doc.outputs[0].shape, [1, 4]);
  });

  it('missing external data', () => {
    const { b, x } = tinyModel();
    const w = b.initializer('w', 'float32', [4, 256], new Array<number>(1024).fill(0.5));
    b.output(b.op('MatMul', [x, w]));
    const file = path.join(tmp.dir, 'ext.onnx');
    writeOnnxFile(b.model(), file, { externalData: { location: 'ext.onnx.data', thresholdBytes: 16 } });
    fs.rmSync(path.join(tmp.dir, 'ext.onnx.data'));
    expectRefused([file], /ext\.onnx\.data/);
  });

  it('external data that escapes the model folder', () => {
    const { b, x } = tinyModel();
    const w = b.initializer('w', 'float32', [4, 256], new Array<number>(1024).fill(0.5));
    b.output(b.op('MatMul', [x, w]));
    const inner = path.join(tmp.dir, 'inner');
    fs.mkdirSync(inner);
    const file = path.join(inner, 'escape.onnx');
    writeOnnxFile(b.model(), file, { externalData: { location: 'abcdefghij.bin', thresholdBytes: 16 } });
    fs.renameSync(path.join(inner, 'abcdefghij.bin'), path.join(tmp.dir, 'outside.bin'));
    // Same length, so the protobuf stays valid: the location now points out of the model's folder.
    const bytes = fs.readFileSync(file);
    const at = bytes.indexOf('abcdefghij.bin');
    assert.ok(at > 0);
    bytes.write('../outside.bin', at, 'latin1');
    fs.writeFileSync(file, bytes);
    expectRefused([file], /'\.\.'|outside|escape/);
  });

  it('a readable model with parts that are not understood exits 0 and lists warnings', () => {
    const { b, x } = tinyModel();
    b.output(b.op('FancyOp', [x], {}, { name: 'fancy', domain: 'com.example' }));
    const model = b.model(13, { opsetImports: [{ domain: '', version: 13 }, { domain: 'com.example', version: 1 }] });
    const r = runCliProcess(['summary', writeModel('unknown-op.onnx', model), '--json']);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { warnings: string[] };
    assert.ok(doc.warnings.some((w) => /FancyOp/.test(w)), doc.warnings.join('\n'));
  });
});
