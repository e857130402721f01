/**
 * Protobuf wire-format primitives, written by hand rather than taken from protobufjs because the ONNX reader needs
 * byte-range control: it must know the absolute offset of every raw_data field so that it can skip weights by length
 * instead of reading them, and it must read through a windowed byte source rather than one whole-file buffer.
 */

/** A malformed or truncated protobuf stream. The ONNX reader turns this into a UserInputError that names the file. */
export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH = 2;
export const WIRE_START_GROUP = 3;
export const WIRE_END_GROUP = 4;
export const WIRE_FIXED32 = 5;

/**
 * Random access to a sequence of bytes. `read` may return a view into storage that the source owns; callers that keep
 * the bytes must copy them.
 */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
  /**
   * True when reading is free (the bytes are already in memory), so the reader should take everything in one
   * window instead of paging.
   */
  readonly inMemory?: boolean;
}

/** A byte source over bytes already in memory. */
export class MemorySource implements ByteSource {
  readonly inMemory = true;
  constructor(private readonly bytes: Uint8Array) {}
  get size(): number {
    return this.bytes.byteLength;
  }
  read(offset: number, length: number): Uint8Array {
    return this.bytes.subarray(offset, offset + length);
  }
}

/** The smallest window read after a jump; skipping a weight usually lands in a short stretch of graph metadata. */
const MIN_WINDOW = 16 * 1024;
/** Sequential reads double the window up to this size, so a large graph section costs few read calls. */
const MAX_WINDOW = 1024 * 1024;

const utf8 = new TextDecoder('utf-8');

/** Decodes UTF-8, with a fast path for the short ASCII names that make up most of a graph. */
export function decodeUtf8(bytes: Uint8Array): string {
  const n = bytes.length;
  if (n < 64) {
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (bytes[i] >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      let s = '';
      for (let i = 0; i < n; i++) s += String.fromCharCode(bytes[i]);
      return s;
    }
  }
  return utf8.decode(bytes);
}

/**
 * Reads protobuf values at an absolute position in a byte source. Message boundaries are explicit `end` offsets that
 * callers pass down, and every length is checked against the enclosing end, so hostile lengths fail fast instead of
 * allocating or reading past the data.
 */
export class ProtoReader {
  /** Absolute position of the next byte to read. */
  pos: number;
  /** Low and high 32 bits of the last varint64 read, unsigned. */
  lo = 0;
  hi = 0;
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  private bufEnd = 0;
  private window = MIN_WINDOW;

  constructor(
    readonly source: ByteSource,
    start = 0,
  ) {
    this.pos = start;
  }

  get size(): number {
    return this.source.size;
  }

  /** Makes bytes [pos, pos + n) available in the window; n must be at most the rest of the source. */
  private fill(n: number): void {
    const size = this.source.size;
    if (this.pos + n > size) throw new WireError(`data ends early at byte ${size} (needed ${this.pos + n - size} more)`);
    let length: number;
    if (this.source.inMemory) {
      length = size - this.pos;
    } else {
      // Reading on from where the last window ended means we are walking a long stretch of graph; grow the window.
      this.window = this.pos === this.bufEnd ? Math.min(this.window * 2, MAX_WINDOW) : MIN_WINDOW;
      length = Math.min(Math.max(n, this.window), size - this.pos);
    }
    this.buf = this.source.read(this.pos, length);
    if (this.buf.length < n) throw new WireError(`data ends early at byte ${this.pos + this.buf.length}`);
    this.bufStart = this.pos;
    this.bufEnd = this.pos + this.buf.length;
  }

  byte(): number {
    if (this.pos >= this.bufEnd || this.pos < this.bufStart) this.fill(1);
    return this.buf[this.pos++ - this.bufStart];
  }

  /** Reads a varint of up to 64 bits into `lo` and `hi`. */
  varint64(): void {
    let lo = 0;
    let hi = 0;
    let b: number;
    for (let shift = 0; shift < 28; shift += 7) {
      b = this.byte();
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.lo = lo >>> 0;
        this.hi = 0;
        return;
      }
    }
    b = this.byte();
    lo |= (b & 0x7f) << 28;
    hi = (b & 0x7f) >> 4;
    if (b < 0x80) {
      this.lo = lo >>> 0;
      this.hi = hi >>> 0;
      return;
    }
    for (let shift = 3; shift < 32; shift += 7) {
      b = this.byte();
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    throw new WireError(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  /** An unsigned varint as a number (exact below 2^53). Used for tags, lengths and enum values. */
  uint(): number {
    const b = this.pos < this.bufEnd && this.pos >= this.bufStart ? this.buf[this.pos - this.bufStart] : 0x80;
    if (b < 0x80) {
      this.pos++;
      return b;
    }
    this.varint64();
    return this.hi * 4294967296 + this.lo;
  }

  /** A signed int64 varint as a number; values beyond 2^53 lose precision (INT64_MAX becomes 2^63). */
  int64(): number {
    this.varint64();
    return this.hi >= 0x80000000 ? (this.hi - 4294967296) * 4294967296 + this.lo : this.hi * 4294967296 + this.lo;
  }

  /** A signed int32 varint (negative values are sign-extended to ten bytes on the wire). */
  int32(): number {
    this.varint64();
    return this.lo | 0;
  }

  /** Bytes [pos, pos + n), as a view that may share the window; copy before keeping. */
  view(n: number): Uint8Array {
    if (this.pos < this.bufStart || this.pos + n > this.bufEnd) {
      if (n > MAX_WINDOW && !this.source.inMemory) {
        if (this.pos + n > this.source.size) throw new WireError(`data ends early at byte ${this.source.size}`);
        const out = this.source.read(this.pos, n);
        this.pos += n;
        return out;
      }
      this.fill(n);
    }
    const start = this.pos - this.bufStart;
    this.pos += n;
    return this.buf.subarray(start, start + n);
  }

  /** A copy of the next n bytes. */
  bytes(n: number): Uint8Array {
    return this.view(n).slice();
  }

  string(n: number): string {
    return decodeUtf8(this.view(n));
  }

  float32(): number {
    const v = this.view(4);
    return new DataView(v.buffer, v.byteOffset, 4).getFloat32(0, true);
  }

  float64(): number {
    const v = this.view(8);
    return new DataView(v.buffer, v.byteOffset, 8).getFloat64(0, true);
  }

  /** Reads a length prefix and returns the absolute end of the field, checked against the enclosing `end`. */
  lengthEnd(end: number): number {
    const n = this.uint();
    const fieldEnd = this.pos + n;
    if (fieldEnd > end) {
      throw new WireError(`a field of ${n} bytes at byte ${this.pos} runs past the end of its message at byte ${end}`);
    }
    return fieldEnd;
  }

  /** Reads a tag, returning field number * 8 + wire type, checked for a legal wire type and a non-zero field. */
  tag(): number {
    const t = this.uint();
    const wire = t & 7;
    if (t < 8 || wire > 5) throw new WireError(`invalid field tag ${t} at byte ${this.pos}`);
    return t;
  }

  /** Skips one field's value by its wire type without reading it. */
  skip(wireType: number, end: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint64();
        break;
      case WIRE_FIXED64:
        this.advance(8, end);
        break;
      case WIRE_LENGTH:
        this.pos = this.lengthEnd(end);
        break;
      case WIRE_FIXED32:
        this.advance(4, end);
        break;
      default:
        // Groups are deprecated and no ONNX message uses them; treating them as corruption keeps skipping simple.
        throw new WireError(`unsupported wire type ${wireType} at byte ${this.pos}`);
    }
    if (this.pos > end) throw new WireError(`a field at byte ${this.pos} runs past the end of its message at byte ${end}`);
  }

  private advance(n: number, end: number): void {
    if (this.pos + n > end) throw new WireError(`a field at byte ${this.pos} runs past the end of its message at byte ${end}`);
    this.pos += n;
  }
}

/**
 * Builds protobuf bytes as a list of chunks. Nested messages get their length prefix patched in when they end, so
 * nothing is copied until `finish`, and large payloads (weights) are referenced rather than copied into a buffer.
 */
export class ProtoWriter {
  private chunks: (Uint8Array | DeferredBytes)[] = [];
  private buf = new Uint8Array(4096);
  private start = 0;
  private pos = 0;
  private total = 0;
  private readonly stack: { chunkIndex: number; totalAtStart: number }[] = [];
  private slab = new Uint8Array(64 * 1024);
  private slabPos = 0;

  get length(): number {
    return this.total;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    this.buf = new Uint8Array(Math.max(4096, n));
    this.start = 0;
    this.pos = 0;
  }

  private flush(): void {
    if (this.pos > this.start) this.chunks.push(this.buf.subarray(this.start, this.pos));
    this.start = this.pos;
  }

  /** Writes an unsigned number below 2^53 as a varint. */
  uint(v: number): void {
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    if (v < 0x80000000) {
      while (v > 0x7f) {
        b[p++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      b[p++] = v;
    } else {
      p = writeVarint64(b, p, v >>> 0, Math.floor(v / 4294967296) >>> 0);
    }
    this.total += p - this.pos;
    this.pos = p;
  }

  /**
   * Writes a signed 64-bit integer. Values at or beyond ±2^63 clamp to INT64_MAX and INT64_MIN, which is how the IR's
   * 2^63 "to the end" sentinel goes back to ONNX.
   */
  int64(v: number): void {
    if (v >= 0 && v < 0x80000000) {
      this.uint(v);
      return;
    }
    let b: bigint;
    if (!Number.isFinite(v)) b = v > 0 ? 2n ** 63n - 1n : -(2n ** 63n);
    else {
      b = BigInt(Math.trunc(v));
      if (b > 2n ** 63n - 1n) b = 2n ** 63n - 1n;
      if (b < -(2n ** 63n)) b = -(2n ** 63n);
    }
    const u = BigInt.asUintN(64, b);
    this.ensure(10);
    const p = writeVarint64(this.buf, this.pos, Number(u & 0xffffffffn), Number(u >> 32n));
    this.total += p - this.pos;
    this.pos = p;
  }

  tag(field: number, wireType: number): void {
    this.uint(field * 8 + wireType);
  }

  float32(v: number): void {
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).setFloat32(0, v, true);
    this.pos += 4;
    this.total += 4;
  }

  /** Writes raw bytes; large ones are referenced, not copied. */
  raw(bytes: Uint8Array): void {
    if (bytes.length > 1024) {
      this.flush();
      this.chunks.push(bytes);
      this.total += bytes.length;
      return;
    }
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    this.total += bytes.length;
  }

  /** A length-delimited bytes field. */
  bytesField(field: number, bytes: Uint8Array): void {
    this.tag(field, WIRE_LENGTH);
    this.uint(bytes.length);
    this.raw(bytes);
  }

  stringField(field: number, s: string): void {
    const n = s.length;
    if (n < 128) {
      // Names are short and almost always ASCII; writing them directly avoids a TextEncoder call per name.
      let ascii = true;
      for (let i = 0; i < n; i++) {
        if (s.charCodeAt(i) >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        this.tag(field, WIRE_LENGTH);
        this.ensure(n + 1);
        const b = this.buf;
        let p = this.pos;
        b[p++] = n;
        for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
        this.total += p - this.pos;
        this.pos = p;
        return;
      }
    }
    this.bytesField(field, encodeUtf8(s));
  }

  int64Field(field: number, v: number): void {
    this.tag(field, WIRE_VARINT);
    this.int64(v);
  }

  /** Starts a nested message; its length is patched in by the matching `end`. */
  begin(field: number): void {
    this.tag(field, WIRE_LENGTH);
    this.flush();
    this.stack.push({ chunkIndex: this.chunks.length, totalAtStart: this.total });
    this.chunks.push(EMPTY);
  }

  end(): void {
    const frame = this.stack.pop();
    if (!frame) throw new Error('ProtoWriter.end without begin');
    this.flush();
    const len = this.total - frame.totalAtStart;
    // Length prefixes are carved from a shared slab rather than allocated one by one.
    if (this.slabPos + 10 > this.slab.length) {
      this.slab = new Uint8Array(64 * 1024);
      this.slabPos = 0;
    }
    const start = this.slabPos;
    const end =
      len < 0x80000000
        ? writeVarint32(this.slab, start, len)
        : writeVarint64(this.slab, start, len >>> 0, Math.floor(len / 4294967296) >>> 0);
    this.slabPos = end;
    this.chunks[frame.chunkIndex] = this.slab.subarray(start, end);
    this.total += end - start;
  }

  /**
   * Reserves `length` bytes whose content is loaded only when the output is assembled, so that a writer can lay out
   * a model with file-backed weights without holding all of them in memory at once.
   */
  deferred(length: number, load: () => Uint8Array, pipe?: (write: (bytes: Uint8Array) => void) => void): void {
    this.flush();
    this.chunks.push(pipe ? { length, load, pipe } : { length, load });
    this.total += length;
  }

  /** Joins all chunks into one array. */
  finish(): Uint8Array {
    if (this.stack.length) throw new Error('ProtoWriter.finish with an open message');
    this.flush();
    const out = new Uint8Array(this.total);
    let p = 0;
    for (const c of this.chunks) {
      const bytes = c instanceof Uint8Array ? c : loadDeferred(c);
      out.set(bytes, p);
      p += bytes.length;
    }
    return out;
  }

  /** Writes all chunks through `write` in order, loading deferred ones one at a time. Returns the byte count. */
  finishTo(write: (bytes: Uint8Array) => void): number {
    if (this.stack.length) throw new Error('ProtoWriter.finishTo with an open message');
    this.flush();
    // Small chunks are gathered into one buffer so that a graph of many small messages costs few writes.
    const batch = new Uint8Array(1024 * 1024);
    let used = 0;
    const drain = (): void => {
      if (used) write(batch.subarray(0, used));
      used = 0;
    };
    for (const c of this.chunks) {
      if (!(c instanceof Uint8Array) && c.pipe) {
        // Streamed in pieces: a 400 MB weight never sits in memory whole.
        drain();
        let n = 0;
        c.pipe((piece) => {
          n += piece.length;
          write(piece);
        });
        if (n !== c.length) throw new Error(`deferred data has ${n} bytes, expected ${c.length}`);
        continue;
      }
      const bytes = c instanceof Uint8Array ? c : loadDeferred(c);
      if (bytes.length > batch.length - used) {
        drain();
        if (bytes.length > batch.length) {
          write(bytes);
          continue;
        }
      }
      batch.set(bytes, used);
      used += bytes.length;
    }
    drain();
    return this.total;
  }
}

interface DeferredBytes {
  length: number;
  load: () => Uint8Array;
  pipe?: (write: (bytes: Uint8Array) => void) => void;
}

function loadDeferred(c: DeferredBytes): Uint8Array {
  const bytes = c.load();
  if (bytes.length !== c.length) throw new Error(`deferred data has ${bytes.length} bytes, expected ${c.length}`);
  return bytes;
}

const EMPTY = new Uint8Array(0);
const utf8Encoder = new TextEncoder();

export function encodeUtf8(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

function writeVarint32(b: Uint8Array, p: number, v: number): number {
  while (v > 0x7f) {
    b[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  b[p++] = v;
  return p;
}

function writeVarint64(b: Uint8Array, p: number, lo: number, hi: number): number {
  while (hi > 0 || lo > 0x7f) {
    b[p++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  b[p++] = lo;
  return p;
}
