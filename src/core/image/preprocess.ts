import type { RgbaImage } from './decode';

/**
 * Turns a decoded image into a model input: bilinear resize to the model's height and width, scale to [0, 1],
 * normalise per channel, and lay out as NCHW float32 — what torchvision's Resize + ToTensor + Normalize produce for
 * the ImageNet models most users probe.
 */

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

export interface PreprocessOptions {
  height: number;
  width: number;
  /** 3 for RGB, 1 for a luminance (grayscale) input. */
  channels: 1 | 3;
  mean?: readonly number[];
  std?: readonly number[];
  /** Copies of the image along the batch axis. Default 1. */
  batch?: number;
}

/**
 * Bilinear resampling with half-pixel centres (align_corners=False), the convention of PIL's and PyTorch's bilinear
 * resize without antialiasing. Input and output are planar float channels.
 */
export function resizeBilinear(src: Float32Array, srcH: number, srcW: number, dstH: number, dstW: number): Float32Array {
  const out = new Float32Array(dstH * dstW);
  const sy = srcH / dstH;
  const sx = srcW / dstW;
  for (let y = 0; y < dstH; y++) {
    let fy = (y + 0.5) * sy - 0.5;
    if (fy < 0) fy = 0;
    const y0 = Math.min(Math.floor(fy), srcH - 1);
    const y1 = Math.min(y0 + 1, srcH - 1);
    const wy = fy - y0;
    for (let x = 0; x < dstW; x++) {
      let fx = (x + 0.5) * sx - 0.5;
      if (fx < 0) fx = 0;
      const x0 = Math.min(Math.floor(fx), srcW - 1);
      const x1 = Math.min(x0 + 1, srcW - 1);
      const wx = fx - x0;
      const top = src[y0 * srcW + x0]! * (1 - wx) + src[y0 * srcW + x1]! * wx;
      const bottom = src[y1 * srcW + x0]! * (1 - wx) + src[y1 * srcW + x1]! * wx;
      out[y * dstW + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return out;
}

/** The image as an NCHW float32 tensor, resized and normalised. */
export function imageToNchw(image: RgbaImage, options: PreprocessOptions): Float32Array {
  const { height, width, channels } = options;
  const batch = options.batch ?? 1;
  const mean = options.mean ?? (channels === 3 ? IMAGENET_MEAN : [0.5]);
  const std = options.std ?? (channels === 3 ? IMAGENET_STD : [0.5]);
  const n = image.width * image.height;
  const planes: Float32Array[] = [];
  if (channels === 3) {
    for (let c = 0; c < 3; c++) {
      const p = new Float32Array(n);
      for (let i = 0; i < n; i++) p[i] = image.data[i * 4 + c]! / 255;
      planes.push(p);
    }
  } else {
    // ITU-R BT.601 luma, as PIL's convert('L') computes it.
    const p = new Float32Array(n);
    for (let i = 0; i < n; i++) p[i] = (0.299 * image.data[i * 4]! + 0.587 * image.data[i * 4 + 1]! + 0.114 * image.data[i * 4 + 2]!) / 255;
    planes.push(p);
  }
  const plane = height * width;
  const out = new Float32Array(batch * channels * plane);
  for (let c = 0; c < channels; c++) {
    const resized = image.height === height && image.width === width ? planes[c]! : resizeBilinear(planes[c]!, image.height, image.width, height, width);
    const m = mean[c] ?? mean[0]!;
    const s = std[c] ?? std[0]!;
    for (let i = 0; i < plane; i++) out[c * plane + i] = (resized[i]! - m) / s;
  }
  for (let b = 1; b < batch; b++) out.copyWithin(b * channels * plane, 0, channels * plane);
  return out;
}
