import * as fs from 'node:fs';
import { UserInputError } from './errors';
import { formatBinaryBytes as formatBytes } from './format';

/**
 * The one way Layerscope reads a whole input file (Python source, .npy, PNG or JPEG): only a regular file, and at most
 * `maxBytes`. A FIFO would block the read forever and /dev/zero would never end, so both are refused before the file
 * is opened, and the open itself never blocks in case the path was swapped in between.
 */

const MIB = 1024 * 1024;

function describe(stat: fs.Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a named pipe (FIFO)';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

function refuseStat(stat: fs.Stats, label: string, maxBytes: number): void {
  if (!stat.isFile()) throw new UserInputError(`${label} is ${describe(stat)}, not a regular file`);
  if (stat.size > maxBytes) {
    throw new UserInputError(`${label} is ${formatBytes(stat.size)}, more than the ${formatBytes(maxBytes)} this input may have`);
  }
}

/** Reads a regular file of at most `maxBytes`; anything else is a one-line UserInputError that names `label`. */
export function readRegularFile(filePath: string, maxBytes: number, label: string = filePath): Buffer {
  let fd: number;
  try {
    refuseStat(fs.statSync(filePath), label, maxBytes);
    fd = fs.openSync(filePath, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    if (e instanceof UserInputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UserInputError(`${label}: no such file`);
    if (code === 'EACCES' || code === 'EPERM') throw new UserInputError(`${label}: permission denied`);
    throw new UserInputError(`${label}: cannot read (${code ?? String(e)})`);
  }
  try {
    const stat = fs.fstatSync(fd);
    refuseStat(stat, label, maxBytes);
    // Read one byte past the limit to notice a file that grew since fstat.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(Math.max(stat.size - total, 64 * 1024), maxBytes + 1 - total, 64 * MIB));
      if (chunk.length === 0) break;
      const n = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      total += n;
      if (total > maxBytes) throw new UserInputError(`${label} is more than the ${formatBytes(maxBytes)} this input may have`);
    }
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
  } catch (e) {
    if (e instanceof UserInputError) throw e;
    throw new UserInputError(`${label}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  } finally {
    fs.closeSync(fd);
  }
}
