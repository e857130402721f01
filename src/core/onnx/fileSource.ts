import * as fs from 'node:fs';
import type { ByteSource } from './wire';

/**
 * A byte source over an open file descriptor. It reads only the ranges asked for, so the ONNX reader can walk a
 * model's graph while skipping its weights, and it counts what it read so that tests can prove how little that is.
 */
export class FileSource implements ByteSource {
  readonly size: number;
  /** Total bytes read from the file so far. */
  bytesRead = 0;
  /** Number of read calls so far. */
  reads = 0;

  constructor(
    private readonly fd: number,
    size?: number,
  ) {
    this.size = size ?? fs.fstatSync(fd).size;
  }

  read(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, out, done, length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    this.bytesRead += done;
    this.reads++;
    // A file that shrank while we read it is reported as truncated by the caller's length checks.
    return done === length ? out : out.subarray(0, done);
  }
}

/** Reads a byte range of a file, opening it read-only for just this call. */
export function readFileRange(path: string, offset: number, length: number): Uint8Array {
  const fd = fs.openSync(path, 'r');
  try {
    const src = new FileSource(fd);
    if (offset + length > src.size) {
      throw new RangeError(`${path}: range ${offset}+${length} is past the end of the file (${src.size} bytes)`);
    }
    const out = src.read(offset, length);
    if (out.length !== length) throw new RangeError(`${path}: file ended while reading ${length} bytes at ${offset}`);
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

/** Passes a byte range of a file to `write` in pieces of at most `pieceBytes`, so large ranges are never held whole. */
export function pipeFileRange(
  path: string,
  offset: number,
  length: number,
  write: (bytes: Uint8Array) => void,
  pieceBytes = 4 * 1024 * 1024,
): void {
  const fd = fs.openSync(path, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (offset + length > size) {
      throw new RangeError(`${path}: range ${offset}+${length} is past the end of the file (${size} bytes)`);
    }
    const buf = new Uint8Array(Math.min(pieceBytes, Math.max(1, length)));
    let done = 0;
    while (done < length) {
      const want = Math.min(buf.length, length - done);
      const n = fs.readSync(fd, buf, 0, want, offset + done);
      if (n === 0) throw new RangeError(`${path}: file ended while reading ${length} bytes at ${offset}`);
      write(buf.subarray(0, n));
      done += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}
