import { STATS_KERNELS_WASM_BASE64 } from './statsKernelsWasm';

/**
 * The WebAssembly statistics kernels (statsKernels.wat) behind a small typed API. computeTensorStats hands a float32
 * tensor to `loadTensor`, which copies it into the kernels' memory once; the three passes then run there. Everything
 * else (moments from the sums, the histogram, selecting the order statistics) stays in tensorStats.ts.
 *
 * The module is compiled on first use, synchronously: it is under a kilobyte. Where WebAssembly or its SIMD
 * instructions are missing, `loadTensor` returns null and the TypeScript loops run instead.
 */

interface KernelExports {
  memory: WebAssembly.Memory;
  scan(p: number, n: number, out: number): void;
  bin(p: number, n: number, binOf: number, mean: number, lo: number, scale: number, fine: number, lastFine: number): number;
  gather(p: number, n: number, binOf: number, slotOf: number, cursor: number, out: number): void;
  sumsq(p: number, n: number): number;
}

/**
 * A tensor needs about 10 bytes per element in the kernels' memory (values, bin numbers, gathered values). Larger
 * tensors than this use the TypeScript loops, which work on the tensor where it is.
 */
export const MAX_KERNEL_ELEMENTS = 64 * 1024 * 1024;
/** Fine bin numbers are u16, and the value 0xffff marks none; slot tables are indexed by all of them. */
const SLOT_TABLE_BYTES = 65536;
const MAX_SLOTS = 16;
const PAGE = 65536;

let kernels: KernelExports | null | undefined;

function loadKernels(): KernelExports | null {
  if (kernels !== undefined) return kernels;
  try {
    const bytes = Uint8Array.from(atob(STATS_KERNELS_WASM_BASE64), (c) => c.charCodeAt(0));
    kernels = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as KernelExports;
  } catch {
    kernels = null;
  }
  return kernels;
}

const align = (x: number): number => (x + 15) & ~15;

/** What the first pass finds: the sum, extremes and exact zeros of the elements. */
export interface KernelScan {
  sum: number;
  min: number;
  max: number;
  zeros: number;
  negatives: number;
}

/** One float32 tensor copied into the kernels' memory, with room for its bins and gathered values. */
export class KernelTensor {
  private readonly binOf: number;
  private readonly fine: number;
  private readonly slotOf: number;
  private readonly cursor: number;
  private readonly scanOut: number;
  private readonly out: number;

  constructor(
    private readonly k: KernelExports,
    private readonly n: number,
    private readonly fineBins: number,
  ) {
    this.binOf = align(n * 4);
    this.fine = align(this.binOf + n * 2);
    this.slotOf = align(this.fine + fineBins * 4);
    this.cursor = this.slotOf + SLOT_TABLE_BYTES;
    this.scanOut = this.cursor + MAX_SLOTS * 4;
    this.out = this.scanOut + 48;
  }

  /** Bytes of kernel memory this tensor needs. */
  get bytes(): number {
    return this.out + this.n * 4;
  }

  /** The sum of squares of the finite elements. */
  sumOfSquares(): number {
    return this.k.sumsq(0, this.n);
  }

  scan(): KernelScan {
    this.k.scan(0, this.n, this.scanOut);
    const r = new Float64Array(this.k.memory.buffer, this.scanOut, 5);
    return { sum: r[0]!, min: r[1]!, max: r[2]!, zeros: this.n - r[3]!, negatives: r[4]! };
  }

  /** Pass 2 for an all-finite tensor: fills `fine` (the fine histogram) and returns the sum of squared deviations. */
  bin(mean: number, lo: number, fineScale: number, fine: Int32Array): number {
    if (fine.length !== this.fineBins) throw new RangeError('KernelTensor.bin: fine histogram of the wrong size');
    new Int32Array(this.k.memory.buffer, this.fine, this.fineBins).fill(0);
    const m2 = this.k.bin(0, this.n, this.binOf, mean, lo, fineScale, this.fine, this.fineBins - 1);
    fine.set(new Int32Array(this.k.memory.buffer, this.fine, this.fineBins));
    return m2;
  }

  /**
   * Pass 3, after `bin`: the elements of the given fine bins, each bin's contiguous from its start (`starts`, in bin
   * order of `bins`), `total` in all.
   */
  gather(bins: readonly number[], starts: readonly number[], total: number): Float32Array {
    if (bins.length === 0) return new Float32Array(0);
    if (bins.length > MAX_SLOTS) throw new RangeError(`KernelTensor.gather: at most ${MAX_SLOTS} bins`);
    const buffer = this.k.memory.buffer;
    const slotOf = new Int8Array(buffer, this.slotOf, SLOT_TABLE_BYTES).fill(-1);
    bins.forEach((b, slot) => (slotOf[b] = slot));
    new Int32Array(buffer, this.cursor, bins.length).set(starts);
    this.k.gather(0, this.n, this.binOf, this.slotOf, this.cursor, this.out);
    return new Float32Array(buffer, this.out, total).slice();
  }
}

/**
 * Copies `values` into the kernels' memory (growing it when needed) and returns the handle for the passes, or null when
 * the kernels are unavailable or the tensor is too large for them. Only one tensor is loaded at a time: loading the
 * next one reuses the memory, so a handle is good until the next call.
 */
export function loadTensor(values: Float32Array, fineBins: number): KernelTensor | null {
  if (values.length > MAX_KERNEL_ELEMENTS) return null;
  const k = loadKernels();
  if (!k) return null;
  const tensor = new KernelTensor(k, values.length, fineBins);
  const missing = tensor.bytes - k.memory.buffer.byteLength;
  if (missing > 0) {
    try {
      k.memory.grow(Math.ceil(missing / PAGE));
    } catch {
      return null;
    }
  }
  new Float32Array(k.memory.buffer, 0, values.length).set(values);
  return tensor;
}
