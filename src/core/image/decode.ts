import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { UserInputError } from '../errors';

/**
 * PNG and JPEG decoding for image probe inputs. pngjs and jpeg-js are pure JavaScript, so they need no native build
 * (the extension ships one bundle for every platform), and both are long-maintained, widely used decoders. Decoding
 * limits guard against images that would exhaust memory.
 */

export interface RgbaImage {
  width: number;
  height: number;
  /** Row-major RGBA, 8 bits per channel. */
  data: Uint8Array;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const MAX_MEGAPIXELS = 100;

export function decodeImage(bytes: Uint8Array, label = 'the image'): RgbaImage {
  if (PNG_MAGIC.every((b, i) => bytes[i] === b)) {
    try {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    } catch (e) {
      throw new UserInputError(`${label}: cannot decode PNG (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    try {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_MEGAPIXELS, maxMemoryUsageInMB: 1024 });
      return { width: img.width, height: img.height, data: img.data };
    } catch (e) {
      throw new UserInputError(`${label}: cannot decode JPEG (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  throw new UserInputError(`${label}: not a PNG or JPEG file`);
}
