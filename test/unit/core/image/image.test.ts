import { strict as assert } from 'node:assert';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { decodeImage } from '../../../../src/core/image/decode';
import { imageToNchw, resizeBilinear, IMAGENET_MEAN, IMAGENET_STD } from '../../../../src/core/image/preprocess';
import { isUserInputError } from '../../../../src/core/errors';

function pngBytes(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Uint8Array {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      const i = (y * width + x) * 4;
      png.data[i] = r;
      png.data[i + 1] = g;
      png.data[i + 2] = b;
      png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

describe('core/image', () => {
  it('decodes PNG exactly and JPEG approximately', () => {
    const img = decodeImage(pngBytes(3, 2, (x, y) => [x * 100, y * 200, 7]));
    assert.equal(img.width, 3);
    assert.equal(img.height, 2);
    assert.deepEqual(Array.from(img.data.subarray(4 * 5, 4 * 6)), [200, 200, 7, 255]);
    const raw = { width: 8, height: 8, data: Buffer.alloc(8 * 8 * 4, 128) };
    const j = decodeImage(jpeg.encode(raw, 95).data);
    assert.equal(j.width, 8);
    assert.ok(Math.abs(j.data[0]! - 128) <= 2);
  });

  it('rejects other and corrupt files with a UserInputError', () => {
    assert.throws(() => decodeImage(new Uint8Array([1, 2, 3, 4]), 'x.gif'), (e: unknown) => isUserInputError(e) && /not a PNG or JPEG/.test((e as Error).message));
    const bad = pngBytes(2, 2, () => [0, 0, 0]).slice(0, 30);
    assert.throws(() => decodeImage(bad), (e: unknown) => isUserInputError(e));
  });

  it('resizes bilinearly with half-pixel centres', () => {
    // Upsampling [0, 1] to four pixels with align_corners=False gives [0, 0.25, 0.75, 1] (PyTorch's result).
    assert.deepEqual(Array.from(resizeBilinear(new Float32Array([0, 1]), 1, 2, 1, 4)), [0, 0.25, 0.75, 1]);
    // Downsampling by two averages neighbouring pairs.
    assert.deepEqual(Array.from(resizeBilinear(new Float32Array([0, 2, 4, 6]), 1, 4, 1, 2)), [1, 5]);
  });

  it('normalises with ImageNet statistics into NCHW', () => {
    const img = decodeImage(pngBytes(4, 4, () => [255, 0, 51]));
    const t = imageToNchw(img, { height: 2, width: 2, channels: 3, batch: 2 });
    assert.equal(t.length, 2 * 3 * 4);
    const expect = [(1 - IMAGENET_MEAN[0]) / IMAGENET_STD[0], (0 - IMAGENET_MEAN[1]) / IMAGENET_STD[1], (0.2 - IMAGENET_MEAN[2]) / IMAGENET_STD[2]];
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(t[c * 4]! - expect[c]!) < 1e-5, `channel ${c}`);
    assert.equal(t[12 + 4], t[4]);
    const gray = imageToNchw(img, { height: 4, width: 4, channels: 1, mean: [0], std: [1] });
    assert.ok(Math.abs(gray[0]! - (0.299 + 0.114 * 0.2)) < 1e-5);
  });
});
