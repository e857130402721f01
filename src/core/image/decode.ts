import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { inflateSync } from 'node:zlib';
import { UserInputError } from '../errors';
import { MAX_IMAGE_PIXELS } from '../limits';

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
const MAX_MEGAPIXELS = MAX_IMAGE_PIXELS / 1_000_000;
/** What decoding a PNG may hold at once: the inflated scanlines plus the 8-bit RGBA result. */
const MAX_PNG_DECODE_BYTES = 1024 * 1024 * 1024;
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** The inflated size of a PNG's scanlines (a filter byte per row), for each of the seven Adam7 passes when interlaced. */
function scanlineBytes(width: number, height: number, bitsPerPixel: number, interlaced: boolean): number {
  const row = (w: number): number => (w === 0 ? 0 : 1 + Math.ceil((w * bitsPerPixel) / 8));
  if (!interlaced) return height * row(width);
  const passes = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2],
  ];
  let total = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil((width - x0) / dx);
    const h = Math.ceil((height - y0) / dy);
    if (w > 0 && h > 0) total += h * row(w);
  }
  return total;
}

/**
 * Checks a PNG before pngjs decodes it: the size in IHDR against the pixel and memory limits, and the zlib stream of
 * the IDAT chunks, which must inflate without error to exactly the scanlines IHDR promises (pngjs would otherwise
 * give a black image for a corrupt stream). Inflating is capped at that size, so a deflate bomb stops there.
 */
function checkPng(bytes: Uint8Array, label: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 33 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') throw new UserInputError(`${label}: cannot decode PNG (no IHDR chunk)`);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const depth = bytes[24];
  const channels = PNG_CHANNELS[bytes[25]];
  if (width === 0 || height === 0 || channels === undefined || ![1, 2, 4, 8, 16].includes(depth)) {
    throw new UserInputError(`${label}: cannot decode PNG (invalid header: ${width}×${height}, bit depth ${depth}, colour type ${bytes[25]})`);
  }
  const pixels = width * height;
  if (pixels > MAX_IMAGE_PIXELS) {
    throw new UserInputError(`${label}: ${width}×${height} is ${(pixels / 1e6).toFixed(0)} megapixels, more than the ${MAX_MEGAPIXELS}-megapixel limit for images`);
  }
  const expected = scanlineBytes(width, height, channels * depth, bytes[28] === 1);
  if (expected + pixels * 4 > MAX_PNG_DECODE_BYTES) {
    throw new UserInputError(`${label}: a ${width}×${height} ${depth}-bit PNG needs ${Math.ceil((expected + pixels * 4) / 2 ** 20)} MiB to decode, more than the ${MAX_PNG_DECODE_BYTES / 2 ** 20} MiB limit`);
  }
  const idat: Uint8Array[] = [];
  for (let p = 8; p + 12 <= bytes.length; ) {
    const length = view.getUint32(p);
    const type = String.fromCharCode(...bytes.subarray(p + 4, p + 8));
    if (p + 12 + length > bytes.length) throw new UserInputError(`${label}: cannot decode PNG (chunk ${type} is truncated)`);
    if (type === 'IDAT') idat.push(bytes.subarray(p + 8, p + 8 + length));
    if (type === 'IEND') break;
    p += 12 + length;
  }
  let inflated: Buffer;
  try {
    inflated = inflateSync(Buffer.concat(idat), { maxOutputLength: Math.max(expected, 1) });
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? 'more image data than its header declares' : e instanceof Error ? e.message : String(e);
    throw new UserInputError(`${label}: cannot decode PNG (corrupt image data: ${reason})`);
  }
  if (inflated.length !== expected) {
    throw new UserInputError(`${label}: cannot decode PNG (corrupt image data: ${inflated.length} of ${expected} bytes)`);
  }
}

export function decodeImage(bytes: Uint8Array, label = 'the image'): RgbaImage {
  if (PNG_MAGIC.every((b, i) => bytes[i] === b)) {
    checkPng(bytes, label);
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
