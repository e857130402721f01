import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserInputError } from '../errors';
import type { Model } from '../ir/types';
import { OnnxDecoder } from './decoder';
import { ExternalDataResolver } from './externalData';
import { FileSource } from './fileSource';
import { sniffModelFormat } from './sniff';
import { MemorySource, WireError } from './wire';
import type { ByteSource } from './wire';

/**
 * The entry points that turn a file or a byte array into the neutral IR. They check the format cheaply first, walk
 * the protobuf through a windowed byte source, and turn every way the input can be wrong into one UserInputError line
 * that names the file.
 */

/** Raw tensor data up to this many bytes is read into memory; larger data stays a byte range in the file. */
export const DEFAULT_INLINE_LIMIT_BYTES = 1024;

/** Counters a caller can pass in to learn how much of the file the reader touched (tests and benchmarks use it). */
export interface ReadStats {
  bytesRead: number;
  reads: number;
  fileSize: number;
}

export interface ReadOnnxFileOptions {
  /** Tensor data larger than this stays in the file as a byte range. Default 1024 bytes. */
  inlineLimitBytes?: number;
  /** Filled in with how many bytes were read from the model file. */
  stats?: ReadStats;
}

export interface ReadOnnxBytesOptions {
  /** The folder that external-data locations are relative to. Without it, a model with external data is an error. */
  baseDir?: string;
  /** How to name the model in error messages. Default "the model". */
  label?: string;
}

/** Reads an ONNX model file into the IR without reading its weights. */
export function readOnnxFile(filePath: string, options: ReadOnnxFileOptions = {}): Model {
  const label = filePath;
  const absolute = path.resolve(filePath);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(absolute);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UserInputError(`${label}: no such file`);
    if (code === 'EACCES' || code === 'EPERM') throw new UserInputError(`${label}: permission denied`);
    throw new UserInputError(`${label}: cannot open (${code ?? String(e)})`);
  }
  if (stat.isDirectory()) throw new UserInputError(`${label} is a directory, not an ONNX model file`);
  if (!stat.isFile()) throw new UserInputError(`${label} is not a regular file`);
  if (stat.size === 0) throw new UserInputError(`${label} is empty (0 bytes), not an ONNX model`);

  let fd: number;
  try {
    fd = fs.openSync(absolute, 'r');
  } catch (e) {
    throw new UserInputError(`${label}: cannot open (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  try {
    const source = new FileSource(fd, stat.size);
    try {
      checkFormat(source.read(0, Math.min(1024, stat.size)), label);
      const decoder = new OnnxDecoder(source, {
        filePath: absolute,
        inlineLimitBytes: options.inlineLimitBytes ?? DEFAULT_INLINE_LIMIT_BYTES,
        resolver: new ExternalDataResolver(path.dirname(absolute), label),
        label,
      });
      const model = wrapWireErrors(() => decoder.model(), label, source);
      model.path = absolute;
      return model;
    } finally {
      if (options.stats) {
        options.stats.bytesRead = source.bytesRead;
        options.stats.reads = source.reads;
        options.stats.fileSize = source.size;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads an ONNX model from bytes in memory. All tensor data is copied inline (there is no file to point into). */
export function readOnnxBytes(bytes: Uint8Array, options: ReadOnnxBytesOptions = {}): Model {
  const label = options.label ?? 'the model';
  if (bytes.length === 0) throw new UserInputError(`${label} is empty (0 bytes), not an ONNX model`);
  checkFormat(bytes.subarray(0, 1024), label);
  const source = new MemorySource(bytes);
  const decoder = new OnnxDecoder(source, {
    filePath: undefined,
    inlineLimitBytes: Infinity,
    resolver: new ExternalDataResolver(options.baseDir === undefined ? undefined : path.resolve(options.baseDir), label),
    label,
  });
  return wrapWireErrors(() => decoder.model(), label, source);
}

function checkFormat(head: Uint8Array, label: string): void {
  const sniffed = sniffModelFormat(head);
  if (sniffed.format !== 'onnx') throw new UserInputError(`${label} is ${sniffed.description}`);
}

function wrapWireErrors<T>(fn: () => T, label: string, source: ByteSource): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof WireError) {
      throw new UserInputError(`${label} is not a valid ONNX model (truncated or damaged, ${source.size} bytes): ${e.message}`);
    }
    throw e;
  }
}
