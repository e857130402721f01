import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserInputError } from '../errors';
import type { ExternalDataRef, StringEntry } from '../ir/types';

/**
 * Resolution of TensorProto.external_data entries to checked byte ranges, following ONNX's ExternalDataSecurity.md:
 * a location must be relative, must not contain `..`, and its real path (after symlinks, in any component) must stay
 * inside the model's folder. The reader only stats files here; nothing is opened for writing, ever.
 */

export interface ResolvedExternalData {
  /** Absolute real path of the data file. */
  path: string;
  offset: number;
  length: number;
  external: ExternalDataRef;
}

interface CheckedFile {
  realPath: string;
  size: number;
}

/** Caches per-location checks, because a large model can point thousands of tensors at one data file. */
export class ExternalDataResolver {
  private readonly checked = new Map<string, CheckedFile>();
  private baseReal: string | undefined;

  /**
   * @param baseDir The folder locations are relative to (the model file's folder), or undefined for a model read
   *   from memory without one, in which case any external data is an error.
   * @param label How to name the model in messages (the path the user gave).
   */
  constructor(
    private readonly baseDir: string | undefined,
    private readonly label: string,
  ) {}

  resolve(tensorName: string, entries: StringEntry[], expectedBytes: number | undefined): ResolvedExternalData {
    const get = (k: string): string | undefined => entries.find((e) => e.key === k)?.value;
    const location = get('location');
    const where = `${this.label}: tensor '${tensorName}'`;
    if (location === undefined || location === '') throw new UserInputError(`${where} has external data with no location`);
    const external: ExternalDataRef = { location };
    const offsetText = get('offset');
    const lengthText = get('length');
    const checksum = get('checksum');
    const offset = offsetText === undefined ? 0 : parseNonNegative(offsetText, `${where}: external data offset`);
    const length = lengthText === undefined ? undefined : parseNonNegative(lengthText, `${where}: external data length`);
    if (offsetText !== undefined) external.offset = offset;
    if (length !== undefined) external.length = length;
    if (checksum !== undefined) external.checksum = checksum;

    const file = this.check(location, where);
    const size = length ?? (expectedBytes !== undefined ? expectedBytes : file.size - offset);
    if (offset > file.size || offset + size > file.size) {
      throw new UserInputError(
        `${where}: external data '${location}' range ${offset}+${size} runs past the end of the file (${file.size} bytes)`,
      );
    }
    return { path: file.realPath, offset, length: size, external };
  }

  private check(location: string, where: string): CheckedFile {
    const cached = this.checked.get(location);
    if (cached) return cached;
    if (this.baseDir === undefined) {
      throw new UserInputError(`${where} keeps its data in external file '${location}', but the model was not read from a folder`);
    }
    if (path.isAbsolute(location) || path.win32.isAbsolute(location) || /^[a-zA-Z]:/.test(location)) {
      throw new UserInputError(`${where}: external data location '${location}' is an absolute path; it must be relative to the model's folder`);
    }
    if (location.split(/[\\/]+/).some((part) => part === '..')) {
      throw new UserInputError(`${where}: external data location '${location}' contains '..' and would leave the model's folder`);
    }
    if (location.includes('\0')) throw new UserInputError(`${where}: external data location contains a NUL character`);
    const full = path.join(this.baseDir, location);
    let realPath: string;
    let stat: fs.Stats;
    try {
      realPath = fs.realpathSync(full);
      stat = fs.statSync(realPath);
    } catch {
      throw new UserInputError(`${where}: external data file '${location}' not found next to the model`);
    }
    this.baseReal ??= safeRealpath(this.baseDir);
    const rel = path.relative(this.baseReal, realPath);
    if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
      throw new UserInputError(`${where}: external data location '${location}' resolves (through a symlink) outside the model's folder`);
    }
    if (!stat.isFile()) throw new UserInputError(`${where}: external data location '${location}' is not a regular file`);
    const checked = { realPath, size: stat.size };
    this.checked.set(location, checked);
    return checked;
  }
}

function safeRealpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function parseNonNegative(text: string, what: string): number {
  if (!/^\d+$/.test(text.trim())) throw new UserInputError(`${what} '${text}' is not a non-negative integer`);
  const v = Number(text.trim());
  if (!Number.isSafeInteger(v)) throw new UserInputError(`${what} '${text}' is too large`);
  return v;
}
