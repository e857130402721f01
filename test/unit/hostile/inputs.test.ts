import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { deflateSync } from 'node:zlib';
import { decodeImage } from '../../../src/core/image/decode';
import { readRegularFile } from '../../../src/core/regularFile';
import { expectRefusal, runHostile, useSandbox } from './harness';
import { symbolicConvNet } from './onnxBombs';
import { pngWith, smallPng } from './images';

/**
 * Issue 11, classes 2 to 4 and 10: probe and gradient-probe input sizes, files that are not regular files, image
 * decompression bombs, and the bare command. Every case runs the real CLI under the harness's limits.
 */

describe('hostile input: probe and gradient-probe inputs', function () {
  this.timeout(180_000);
  const sandbox = useSandbox();
  let model: string;
  beforeEach(() => {
    model = sandbox().file('net.onnx', symbolicConvNet());
  });

  for (const shape of ['1xx3x8', '1e300', '2^53+1', '1x3x8x0x', '1x3x-8x8', ' x ']) {
    it(`--input-shape '${shape}' is not a shape`, () => {
      expectRefusal(sandbox(), ['probe', model, '--input-shape', shape], /is not a shape like 1x3x224x224/);
    });
  }

  for (const batch of ['1e8', '0x10', '-1', '2000000']) {
    it(`--batch ${batch} is refused as an option`, () => {
      expectRefusal(sandbox(), ['probe', model, '--batch', batch], /--batch needs a whole number from 1 to 1000000/);
    });
  }

  it('an input of 1x3x100000x100000 is refused by the memory budget before anything is allocated, in probe and grad', () => {
    for (const command of [['probe'], ['grad', '--loss', 'sum']]) {
      expectRefusal(sandbox(), [...command, model, '--input-shape', '1x3x100000x100000'], /input 'x' of shape 1×3×100000×100000 needs 111\.8 GiB, more than the .* memory budget for inputs; raise it with --memory-budget/);
    }
  });

  it('--batch 300000 of 3x32x32 is refused by a 512 MB --memory-budget, in probe and grad', () => {
    for (const command of [['probe'], ['grad', '--loss', 'sum']]) {
      expectRefusal(sandbox(), [...command, model, '--input-shape', '300000x3x32x32', '--memory-budget', '512'], /needs 3\.4 GiB, more than the 512\.0 MiB memory budget/);
    }
  });

  it('inputs of 2 GiB or more are refused even under a larger budget: one IPC message cannot carry them', () => {
    expectRefusal(sandbox(), ['probe', model, '--input-shape', '1x3x16384x16384', '--memory-budget', '100000'], /needs 3\.0 GiB; a probe's inputs must stay under 1\.9 GiB, the most one message to its worker process can carry/);
  });

  it('--memory-budget takes whole megabytes only', () => {
    expectRefusal(sandbox(), ['probe', model, '--memory-budget', '1e3'], /--memory-budget \(MB\) needs a whole number/);
  });

  describe('files that are not regular files', () => {
    it('a FIFO named model.py, x.npy or x.png is refused at once instead of blocking', () => {
      const fifo = (name: string): string => {
        const p = path.join(sandbox().inputs, name);
        execFileSync('mkfifo', [p]);
        return p;
      };
      expectRefusal(sandbox(), ['summary', fifo('model.py')], /model\.py is a named pipe \(FIFO\), not a regular file/);
      expectRefusal(sandbox(), ['probe', fifo('m.py')], /m\.py is a named pipe \(FIFO\), not a regular file/);
      expectRefusal(sandbox(), ['probe', model, '--input', fifo('x.npy')], /x\.npy is a named pipe \(FIFO\), not a regular file/);
      expectRefusal(sandbox(), ['probe', model, '--image', fifo('x.png')], /x\.png is a named pipe \(FIFO\), not a regular file/);
      expectRefusal(sandbox(), ['summary', fifo('model.onnx')], /model\.onnx is not a regular file/);
      expectRefusal(sandbox(), ['grad', model, '--loss', 'mse', '--target', fifo('t.npy')], /t\.npy is a named pipe \(FIFO\), not a regular file/);
    });

    it('a .py, .npy or .png symlinked to /dev/zero is refused instead of read for ever', () => {
      const zero = (name: string): string => {
        const p = path.join(sandbox().inputs, name);
        fs.symlinkSync('/dev/zero', p);
        return p;
      };
      expectRefusal(sandbox(), ['summary', zero('zero.py')], /zero\.py is a device, not a regular file/);
      expectRefusal(sandbox(), ['probe', model, '--input', zero('zero.npy')], /zero\.npy is a device, not a regular file/);
      expectRefusal(sandbox(), ['grad', model, '--loss', 'sum', '--input', zero('z.png')], /z\.png is a device, not a regular file/);
    });

    it('a directory named model.py or x.npy', () => {
      fs.mkdirSync(path.join(sandbox().inputs, 'model.py'));
      fs.mkdirSync(path.join(sandbox().inputs, 'x.npy'));
      expectRefusal(sandbox(), ['summary', path.join(sandbox().inputs, 'model.py')], /model\.py is a directory, not a regular file/);
      expectRefusal(sandbox(), ['probe', model, '--input', path.join(sandbox().inputs, 'x.npy')], /x\.npy is a directory, not a regular file/);
    });

    it('the reader stops at its byte cap', () => {
      const file = sandbox().file('big.bin', new Uint8Array(4096));
      assert.equal(readRegularFile(file, 4096).length, 4096);
      assert.throws(() => readRegularFile(file, 4095, 'big.bin'), /big\.bin is 4\.0 KiB, more than the 4\.0 KiB this input may have|more than the 4095 bytes/);
    });
  });

  describe('image decompression bombs', () => {
    it('a PNG declaring 30000×30000 is refused from its header, before any inflating', () => {
      const bomb = sandbox().file('bomb.png', pngWith(30_000, 30_000, 8, 2, deflateSync(Buffer.alloc(1024))));
      expectRefusal(sandbox(), ['probe', model, '--image', bomb], /bomb\.png: 30000×30000 is 900 megapixels, more than the 100-megapixel limit/);
    });

    it('a 10000×10000 RGBA 16-bit PNG is refused for the memory its decoding needs', () => {
      const bomb = sandbox().file('deep.png', pngWith(10_000, 10_000, 16, 6, deflateSync(Buffer.alloc(1024))));
      expectRefusal(sandbox(), ['probe', model, '--image', bomb], /deep\.png: a 10000×10000 16-bit PNG needs \d+ MiB to decode, more than the 1024 MiB limit/);
    });

    it('a small PNG whose zlib stream inflates past its header (a deflate bomb) stops at the declared size', () => {
      const bomb = sandbox().file('zip.png', pngWith(100, 100, 8, 2, deflateSync(Buffer.alloc(64 * 1024 * 1024))));
      expectRefusal(sandbox(), ['probe', model, '--image', bomb], /zip\.png: cannot decode PNG \(corrupt image data: more image data than its header declares\)/);
    });

    it('a PNG with a corrupt zlib stream is an error, not a black image', () => {
      const good = smallPng();
      assert.equal(decodeImage(good).width, 8);
      // Scanlines of varied bytes (filter type 0 on each row), so that the stream is long enough to corrupt or cut.
      const raw = Buffer.from(Array.from({ length: 8 * 33 }, (_, i) => (i % 33 === 0 ? 0 : (i * 7919) % 251)));
      const stream = deflateSync(raw);
      stream[Math.floor(stream.length / 2)] ^= 0xff;
      stream[Math.floor(stream.length / 2) + 1] ^= 0x5a;
      const corrupt = sandbox().file('corrupt.png', pngWith(8, 8, 8, 6, stream));
      expectRefusal(sandbox(), ['probe', model, '--image', corrupt], /corrupt\.png: cannot decode PNG \(corrupt image data/);
      const truncated = sandbox().file('short.png', pngWith(8, 8, 8, 6, deflateSync(raw).subarray(0, Math.floor(deflateSync(raw).length / 2))));
      expectRefusal(sandbox(), ['probe', model, '--image', truncated], /short\.png: cannot decode PNG \(corrupt image data/);
    });
  });

  it('no arguments print one line of usage', () => {
    const r = runHostile(sandbox(), []);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^layerscope: no command; usage: layerscope summary\|probe\|grad MODEL \[options\] \(see layerscope --help\)\n$/);
  });
});
