import * as assert from 'node:assert/strict';
import { MemorySource, ProtoReader, ProtoWriter, WireError, decodeUtf8 } from '../../../../src/core/onnx/wire';
import type { ByteSource } from '../../../../src/core/onnx/wire';

/** A source that serves reads from memory but behaves like a file (paged), and records every read. */
class PagedSource implements ByteSource {
  readonly calls: [number, number][] = [];
  constructor(private readonly bytes: Uint8Array) {}
  get size(): number {
    return this.bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    this.calls.push([offset, length]);
    return this.bytes.slice(offset, offset + length);
  }
}

function reader(bytes: number[] | Uint8Array): ProtoReader {
  return new ProtoReader(new MemorySource(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)));
}

describe('core/onnx/wire', () => {
  describe('varints', () => {
    it('decodes one- and multi-byte unsigned varints', () => {
      assert.equal(reader([0x00]).uint(), 0);
      assert.equal(reader([0x7f]).uint(), 127);
      assert.equal(reader([0xac, 0x02]).uint(), 300);
      assert.equal(reader([0xff, 0xff, 0xff, 0xff, 0x0f]).uint(), 2 ** 32 - 1);
    });

    it('round-trips int64 values through the writer, including negatives and large values', () => {
      const values = [0, 1, 127, 128, 300, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53 - 1, -1, -2, -300, -(2 ** 31), -(2 ** 40), -(2 ** 53 - 1)];
      const w = new ProtoWriter();
      for (const v of values) w.int64(v);
      const r = reader(w.finish());
      for (const v of values) assert.equal(r.int64(), v, `value ${v}`);
    });

    it('writes negative numbers as ten-byte two\'s complement varints', () => {
      const w = new ProtoWriter();
      w.int64(-1);
      assert.deepEqual(Array.from(w.finish()), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    });

    it('clamps values at or beyond 2^63 to INT64_MAX and reads INT64_MAX back as 2^63', () => {
      const w = new ProtoWriter();
      w.int64(2 ** 63);
      w.int64(Infinity);
      w.int64(-(2 ** 64));
      const bytes = w.finish();
      // INT64_MAX is 0x7fff_ffff_ffff_ffff: nine 0xff bytes then 0x7f.
      assert.deepEqual(Array.from(bytes.subarray(0, 9)), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
      const r = reader(bytes);
      assert.equal(r.int64(), 2 ** 63);
      assert.equal(r.int64(), 2 ** 63);
      assert.equal(r.int64(), -(2 ** 63));
    });

    it('reads int32 fields that were sign-extended to ten bytes', () => {
      const w = new ProtoWriter();
      w.int64(-5);
      assert.equal(reader(w.finish()).int32(), -5);
    });

    it('rejects a varint longer than ten bytes', () => {
      assert.throws(() => reader(new Array(11).fill(0x80).concat([0])).int64(), WireError);
    });

    it('rejects a varint cut off by the end of the data', () => {
      assert.throws(() => reader([0x80, 0x80]).uint(), /ends early/);
    });
  });

  describe('fields', () => {
    it('writes and reads tags, strings, floats and nested messages with patched lengths', () => {
      const w = new ProtoWriter();
      w.stringField(1, 'héllo');
      w.begin(2);
      w.int64Field(1, 42);
      w.begin(3);
      w.stringField(4, 'x'.repeat(200));
      w.end();
      w.end();
      w.tag(5, 5);
      w.float32(1.5);
      const r = reader(w.finish());
      assert.equal(r.tag(), 1 * 8 + 2);
      assert.equal(r.string(r.uint()), 'héllo');
      assert.equal(r.tag(), 2 * 8 + 2);
      const outerEnd = r.lengthEnd(r.size);
      assert.equal(r.tag(), 1 * 8 + 0);
      assert.equal(r.int64(), 42);
      assert.equal(r.tag(), 3 * 8 + 2);
      const innerEnd = r.lengthEnd(outerEnd);
      assert.equal(innerEnd, outerEnd);
      assert.equal(r.tag(), 4 * 8 + 2);
      assert.equal(r.string(r.uint()), 'x'.repeat(200));
      assert.equal(r.pos, outerEnd);
      assert.equal(r.tag(), 5 * 8 + 5);
      assert.equal(r.float32(), 1.5);
      assert.equal(r.pos, r.size);
    });

    it('references large payloads instead of copying them, and still joins them correctly', () => {
      const big = new Uint8Array(5000).map((_, i) => i & 0xff);
      const w = new ProtoWriter();
      w.bytesField(9, big);
      w.stringField(1, 'after');
      const bytes = w.finish();
      const r = reader(bytes);
      assert.equal(r.tag(), 9 * 8 + 2);
      assert.deepEqual(r.bytes(r.uint()), big);
      assert.equal(r.tag(), 1 * 8 + 2);
      assert.equal(r.string(r.uint()), 'after');
    });

    it('skips every wire type by its length and refuses groups', () => {
      const w = new ProtoWriter();
      w.int64Field(1, -7);
      w.tag(2, 1);
      w.raw(new Uint8Array(8));
      w.bytesField(3, new Uint8Array(17));
      w.tag(4, 5);
      w.float32(0);
      w.stringField(9, 'end');
      const bytes = w.finish();
      const r = reader(bytes);
      for (let i = 0; i < 4; i++) {
        const t = r.tag();
        r.skip(t & 7, r.size);
      }
      assert.equal(r.tag(), 9 * 8 + 2);
      assert.equal(r.string(r.uint()), 'end');
      assert.throws(() => reader([0x0b]).skip(3, 1), /wire type 3/);
    });

    it('rejects a length that runs past the enclosing message', () => {
      const r = reader([0x0a, 0x05, 1, 2]);
      r.tag();
      assert.throws(() => r.lengthEnd(r.size), /runs past the end/);
    });

    it('rejects field number zero and the reserved wire types 6 and 7', () => {
      assert.throws(() => reader([0x02]).tag(), /invalid field tag/);
      assert.throws(() => reader([0x0e]).tag(), /invalid field tag/);
      assert.throws(() => reader([0x0f]).tag(), /invalid field tag/);
    });
  });

  describe('windowed reading', () => {
    it('skips over a large field without reading it, then reads on after it', () => {
      const w = new ProtoWriter();
      w.stringField(1, 'before');
      w.bytesField(9, new Uint8Array(3_000_000));
      w.stringField(1, 'after');
      const bytes = w.finish();
      const src = new PagedSource(bytes);
      const r = new ProtoReader(src);
      r.tag();
      assert.equal(r.string(r.uint()), 'before');
      r.tag();
      r.skip(2, r.size);
      r.tag();
      assert.equal(r.string(r.uint()), 'after');
      const total = src.calls.reduce((s, [, n]) => s + n, 0);
      assert.ok(total < 100_000, `read ${total} bytes of ${bytes.length}`);
    });

    it('reads a string that spans a window boundary and one larger than any window', () => {
      const long = 'ab'.repeat(700_000);
      const w = new ProtoWriter();
      w.bytesField(2, new Uint8Array(16 * 1024 - 3));
      w.stringField(1, 'boundary-crossing');
      w.stringField(1, long);
      const src = new PagedSource(w.finish());
      const r = new ProtoReader(src);
      r.tag();
      r.skip(2, r.size);
      r.tag();
      assert.equal(r.string(r.uint()), 'boundary-crossing');
      r.tag();
      assert.equal(r.string(r.uint()), long);
    });
  });

  it('decodes ASCII and multi-byte UTF-8', () => {
    assert.equal(decodeUtf8(new TextEncoder().encode('conv1.weight')), 'conv1.weight');
    assert.equal(decodeUtf8(new TextEncoder().encode('Gewichte_ü_😀')), 'Gewichte_ü_😀');
  });
});
