import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isUserInputError } from '../../../../src/core/errors';
import { readOnnxBytes, readOnnxFile } from '../../../../src/core/onnx/reader';
import { readTensorValues } from '../../../../src/core/onnx/tensorBytes';
import { ProtoWriter } from '../../../../src/core/onnx/wire';
import { float32Bytes } from './fixtures';
import { makeTempDir } from './helpers';

/**
 * A minimal ModelProto, encoded by hand rather than by the writer, whose one initializer 'w' (float32 [4]) keeps its
 * data in an external file with exactly the given entries.
 */
function modelWithExternal(entries: Record<string, string>): Uint8Array {
  const w = new ProtoWriter();
  w.int64Field(1, 8); // ir_version
  w.begin(7); // graph
  w.begin(1); // node
  w.stringField(1, 'w');
  w.stringField(2, 'y');
  w.stringField(4, 'Relu');
  w.end();
  w.stringField(2, 'g');
  w.begin(5); // initializer
  w.int64Field(1, 4); // dims
  w.int64Field(2, 1); // float32
  w.stringField(8, 'w');
  for (const [key, value] of Object.entries(entries)) {
    w.begin(13);
    w.stringField(1, key);
    w.stringField(2, value);
    w.end();
  }
  w.int64Field(14, 1); // data_location = EXTERNAL
  w.end();
  w.end();
  w.begin(8);
  w.stringField(1, '');
  w.int64Field(2, 17);
  w.end();
  return w.finish();
}

const VALUES = [1, 2, 3, 4];

describe('core/onnx external data', () => {
  let tmp: { dir: string; cleanup: () => void };
  let modelDir: string;
  let outsideDir: string;
  beforeEach(() => {
    tmp = makeTempDir();
    modelDir = path.join(tmp.dir, 'model');
    outsideDir = path.join(tmp.dir, 'outside');
    fs.mkdirSync(modelDir);
    fs.mkdirSync(outsideDir);
    // Ten bytes of padding, then the four floats: offset 10.
    fs.writeFileSync(path.join(modelDir, 'weights.bin'), Buffer.concat([Buffer.alloc(10), float32Bytes(VALUES)]));
    fs.writeFileSync(path.join(outsideDir, 'secret.bin'), float32Bytes(VALUES));
  });
  afterEach(() => tmp.cleanup());

  function writeModel(entries: Record<string, string>): string {
    const file = path.join(modelDir, 'model.onnx');
    fs.writeFileSync(file, modelWithExternal(entries));
    return file;
  }

  function assertRefused(entries: Record<string, string>, pattern: RegExp): void {
    const file = writeModel(entries);
    assert.throws(
      () => readOnnxFile(file),
      (e: unknown) => {
        assert.ok(isUserInputError(e), `expected a UserInputError, got ${String(e)}`);
        assert.match((e as Error).message, pattern);
        assert.match((e as Error).message, /tensor 'w'/);
        assert.ok(!(e as Error).message.includes('\n'), 'one line');
        return true;
      },
    );
  }

  it('reads location, offset and length as a checked file range', () => {
    const file = writeModel({ location: 'weights.bin', offset: '10', length: '16' });
    const w = readOnnxFile(file).graph.initializers[0];
    assert.equal(w.data.kind, 'file');
    if (w.data.kind === 'file') {
      assert.equal(w.data.path, fs.realpathSync(path.join(modelDir, 'weights.bin')));
      assert.equal(w.data.offset, 10);
      assert.equal(w.data.length, 16);
      assert.deepEqual(w.data.external, { location: 'weights.bin', offset: 10, length: 16 });
    }
    assert.deepEqual(Array.from(readTensorValues(w)), VALUES);
  });

  it('takes the length from dims and dtype when the file gives none', () => {
    const file = writeModel({ location: 'weights.bin', offset: '10' });
    const w = readOnnxFile(file).graph.initializers[0];
    assert.ok(w.data.kind === 'file' && w.data.length === 16);
    assert.deepEqual(Array.from(readTensorValues(w)), VALUES);
  });

  it('resolves locations in subfolders and symlinks that stay inside the folder', () => {
    fs.mkdirSync(path.join(modelDir, 'sub'));
    fs.writeFileSync(path.join(modelDir, 'sub', 'w.bin'), float32Bytes(VALUES));
    const file = writeModel({ location: 'sub/w.bin' });
    assert.deepEqual(Array.from(readTensorValues(readOnnxFile(file).graph.initializers[0])), VALUES);
    fs.symlinkSync(path.join(modelDir, 'sub', 'w.bin'), path.join(modelDir, 'inside-link.bin'));
    const file2 = writeModel({ location: 'inside-link.bin' });
    assert.deepEqual(Array.from(readTensorValues(readOnnxFile(file2).graph.initializers[0])), VALUES);
  });

  it('refuses an absolute location', () => {
    assertRefused({ location: path.join(outsideDir, 'secret.bin') }, /absolute path/);
  });

  it('refuses a Windows drive path', () => {
    assertRefused({ location: 'C:\\secret.bin' }, /absolute path/);
  });

  it('refuses .. segments, with either slash', () => {
    assertRefused({ location: '../outside/secret.bin' }, /'\.\.'/);
    assertRefused({ location: 'sub/../../outside/secret.bin' }, /'\.\.'/);
    assertRefused({ location: '..\\outside\\secret.bin' }, /'\.\.'/);
  });

  it('refuses a symlink that points out of the folder', () => {
    fs.symlinkSync(path.join(outsideDir, 'secret.bin'), path.join(modelDir, 'link.bin'));
    assertRefused({ location: 'link.bin' }, /outside the model's folder/);
  });

  it('refuses a path through a symlinked folder that points out of the folder', () => {
    fs.symlinkSync(outsideDir, path.join(modelDir, 'linkdir'));
    assertRefused({ location: 'linkdir/secret.bin' }, /outside the model's folder/);
  });

  it('refuses a missing external file', () => {
    assertRefused({ location: 'nope.bin' }, /'nope\.bin' not found/);
  });

  it('refuses a range past the end of the external file', () => {
    assertRefused({ location: 'weights.bin', offset: '20', length: '16' }, /runs past the end/);
    assertRefused({ location: 'weights.bin', offset: '1000' }, /runs past the end/);
  });

  it('refuses a location that is a folder, an empty location and a malformed offset', () => {
    fs.mkdirSync(path.join(modelDir, 'adir'));
    assertRefused({ location: 'adir' }, /not a regular file/);
    assertRefused({ offset: '0' }, /no location/);
    assertRefused({ location: 'weights.bin', offset: '-4' }, /not a non-negative integer/);
  });

  it('needs a folder for external data when reading from memory', () => {
    const bytes = modelWithExternal({ location: 'weights.bin', offset: '10', length: '16' });
    assert.throws(() => readOnnxBytes(bytes), /not read from a folder/);
    const model = readOnnxBytes(bytes, { baseDir: modelDir });
    assert.deepEqual(Array.from(readTensorValues(model.graph.initializers[0])), VALUES);
  });

  it('never modifies the external data file', () => {
    const data = path.join(modelDir, 'weights.bin');
    const before = fs.statSync(data);
    const file = writeModel({ location: 'weights.bin', offset: '10', length: '16' });
    readOnnxFile(file);
    const after = fs.statSync(data);
    assert.equal(after.mtimeMs, before.mtimeMs);
    assert.equal(after.size, before.size);
  });
});
