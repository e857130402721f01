import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserInputError } from '../errors';
import { dataTypeCode } from '../ir/dtypes';
import type {
  Attribute,
  FunctionDef,
  Graph,
  Model,
  Node,
  OpsetImport,
  SparseTensor,
  StringEntry,
  Tensor,
  ValueInfo,
  ValueType,
} from '../ir/types';
import { ATTRIBUTE_TYPE_CODES } from './protoEnums';
import { pipeTensorBytes, readTensorBytes } from './tensorBytes';
import { ProtoWriter, WIRE_FIXED32, WIRE_LENGTH, WIRE_VARINT } from './wire';

/**
 * IR to ONNX bytes. Probes write an in-memory copy of a model with extra outputs, the gradient builder writes its
 * backward graph, and tests write their fixtures with it. Fields are written in field-number order, as protobuf's own
 * serialisers do, and only when the IR has them, so that reading back gives the same IR.
 */

export interface ExternalDataWriteOptions {
  /** The folder the model file will be saved in; the data file goes there too. */
  directory: string;
  /** The data file's name, relative to `directory`, for example `model.onnx.data`. */
  location: string;
  /** Initializers of at least this many bytes go to the data file. Default 1024. */
  thresholdBytes?: number;
  /** Offsets in the data file are multiples of this, so that runtimes can map them. Default 4096. */
  alignment?: number;
}

export interface WriteOnnxOptions {
  /** Write large initializers to a separate data file next to the model instead of into the protobuf. */
  externalData?: ExternalDataWriteOptions;
}

/** Encodes a model as ONNX protobuf bytes. File-backed tensors are read and written as raw_data. */
export function writeOnnx(model: Model, options: WriteOnnxOptions = {}): Uint8Array {
  let sink: ExternalSink | undefined;
  if (options.externalData) sink = new ExternalSink(options.externalData, model);
  try {
    const enc = new OnnxEncoder(sink);
    enc.model(model);
    return enc.w.finish();
  } finally {
    sink?.close();
  }
}

/**
 * Bytes that, appended to a serialised ModelProto, add `outputs` to its graph's outputs. Protobuf parsers merge a
 * repeated occurrence of an embedded-message field into the first one, and append to repeated fields when they do, so
 * the original bytes plus this patch read as the same model with more outputs. A probe uses it to fetch intermediate
 * values without re-encoding (and copying) every weight of the model.
 */
export function encodeGraphOutputsPatch(outputs: readonly ValueInfo[]): Uint8Array {
  const enc = new OnnxEncoder(undefined);
  enc.graphOutputsPatch(outputs);
  return enc.w.finish();
}

/**
 * Writes a model to `filePath`, optionally with its large initializers in `<file>.data` (or `externalData.location`)
 * beside it. It refuses to overwrite the file the model was read from or any file its tensors point into.
 */
export interface WriteOnnxFileOptions {
  /**
   * Put initializers of at least `thresholdBytes` (default 1024) in a data file beside the model, named `location`
   * (default `<model file name>.data`). `true` takes both defaults.
   */
  externalData?: boolean | { location?: string; thresholdBytes?: number };
  /**
   * Initializers whose bytes already lie in a file beside the model (the caller put them there, a copy of the file
   * they were read from, say): written as external-data references to that file instead of copying their bytes.
   */
  references?: (t: Tensor) => ExternalReference | undefined;
}

/** Where an initializer's bytes lie: `location` relative to the model's folder, at `offset`, `length` bytes. */
export interface ExternalReference {
  location: string;
  offset: number;
  length: number;
}

export function writeOnnxFile(model: Model, filePath: string, options: WriteOnnxFileOptions = {}): void {
  const target = path.resolve(filePath);
  const ext = options.externalData;
  let writeOptions: WriteOnnxOptions = {};
  if (ext) {
    const location = (typeof ext === 'object' && ext.location) || `${path.basename(target)}.data`;
    writeOptions = {
      externalData: {
        directory: path.dirname(target),
        location,
        ...(typeof ext === 'object' && ext.thresholdBytes !== undefined ? { thresholdBytes: ext.thresholdBytes } : {}),
      },
    };
  }
  assertNotASource(model, target);
  let sink: ExternalSink | undefined;
  if (writeOptions.externalData) sink = new ExternalSink(writeOptions.externalData, model);
  const references = options.references;
  // Write to a temporary name and rename, so that a failure never leaves a half-written model behind.
  const temporary = `${target}.tmp-${process.pid}`;
  let fd: number | undefined;
  try {
    const enc = new OnnxEncoder(sink, references);
    enc.model(model);
    fd = fs.openSync(temporary, 'w');
    let position = 0;
    const out = fd;
    enc.w.finishTo((bytes) => {
      let done = 0;
      while (done < bytes.length) done += fs.writeSync(out, bytes, done, bytes.length - done, position + done);
      position += bytes.length;
    });
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(temporary, target);
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(temporary, { force: true });
    throw e;
  } finally {
    sink?.close();
  }
}

/** Every file that a model's tensors read from, so that writers never clobber their own input. */
function sourceFiles(model: Model): Set<string> {
  const files = new Set<string>();
  if (model.path) files.add(path.resolve(model.path));
  const visitTensor = (t: Tensor): void => {
    if (t.data.kind === 'file') files.add(path.resolve(t.data.path));
  };
  const visitGraph = (g: Graph): void => {
    g.initializers.forEach(visitTensor);
    for (const s of g.sparseInitializers) {
      visitTensor(s.values);
      visitTensor(s.indices);
    }
    for (const n of g.nodes) visitNodeAttrs(n);
  };
  const visitNodeAttrs = (n: Node): void => {
    for (const a of n.attributes) {
      if (a.type === 'tensor') visitTensor(a.value);
      else if (a.type === 'tensors') a.value.forEach(visitTensor);
      else if (a.type === 'graph') visitGraph(a.value);
      else if (a.type === 'graphs') a.value.forEach(visitGraph);
    }
  };
  visitGraph(model.graph);
  for (const f of model.functions) f.nodes.forEach(visitNodeAttrs);
  return files;
}

function assertNotASource(model: Model, target: string): void {
  if (sourceFiles(model).has(target)) {
    throw new UserInputError(`refusing to write ${target}: the model's own data is read from that file`);
  }
}

/** Appends initializer bytes to the external data file as the encoder meets them. */
class ExternalSink {
  private fd: number | undefined;
  private offset = 0;
  readonly threshold: number;
  private readonly alignment: number;
  readonly location: string;

  constructor(options: ExternalDataWriteOptions, model: Model) {
    const loc = options.location;
    if (!loc || path.isAbsolute(loc) || loc.split(/[\\/]+/).includes('..')) {
      throw new UserInputError(`external data location '${loc}' must be a plain relative path inside the model's folder`);
    }
    this.location = loc.split(path.sep).join('/');
    this.threshold = options.thresholdBytes ?? 1024;
    this.alignment = Math.max(1, options.alignment ?? 4096);
    const target = path.resolve(options.directory, loc);
    if (sourceFiles(model).has(target)) {
      throw new UserInputError(`refusing to write ${target}: the model's own data is read from that file`);
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    this.fd = fs.openSync(target, 'w');
  }

  /** Appends the tensor's bytes (streamed, for file-backed tensors) at an aligned offset and returns that offset. */
  appendTensor(t: Tensor, length: number): number {
    const fd = this.fd;
    if (fd === undefined) throw new Error('external data sink is closed');
    const pad = (this.alignment - (this.offset % this.alignment)) % this.alignment;
    if (pad) {
      fs.writeSync(fd, new Uint8Array(pad), 0, pad, this.offset);
      this.offset += pad;
    }
    const at = this.offset;
    pipeTensorBytes(t, (bytes) => {
      let done = 0;
      while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done, this.offset + done);
      this.offset += bytes.length;
    });
    if (this.offset - at !== length) throw new Error(`tensor '${t.name}': wrote ${this.offset - at} bytes, expected ${length}`);
    return at;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

class OnnxEncoder {
  readonly w = new ProtoWriter();

  constructor(
    private readonly sink: ExternalSink | undefined,
    private readonly references?: (t: Tensor) => ExternalReference | undefined,
  ) {}

  model(m: Model): void {
    const w = this.w;
    w.int64Field(1, m.irVersion);
    if (m.producerName !== undefined) w.stringField(2, m.producerName);
    if (m.producerVersion !== undefined) w.stringField(3, m.producerVersion);
    if (m.domain !== undefined) w.stringField(4, m.domain);
    if (m.modelVersion !== undefined) w.int64Field(5, m.modelVersion);
    if (m.docString !== undefined) w.stringField(6, m.docString);
    w.begin(7);
    this.graph(m.graph);
    w.end();
    for (const o of m.opsetImports) this.opset(8, o);
    for (const e of m.metadataProps) this.entry(14, e);
    for (const f of m.functions) {
      w.begin(25);
      this.func(f);
      w.end();
    }
  }

  /** ModelProto.graph (field 7) holding only GraphProto.output entries (field 12). */
  graphOutputsPatch(outputs: readonly ValueInfo[]): void {
    this.w.begin(7);
    for (const v of outputs) this.valueInfo(12, v);
    this.w.end();
  }

  private graph(g: Graph): void {
    const w = this.w;
    for (const n of g.nodes) {
      w.begin(1);
      this.node(n);
      w.end();
    }
    w.stringField(2, g.name);
    for (const t of g.initializers) {
      w.begin(5);
      this.tensor(t, this.sink !== undefined || this.references !== undefined);
      w.end();
    }
    if (g.docString !== undefined) w.stringField(10, g.docString);
    for (const v of g.inputs) this.valueInfo(11, v);
    for (const v of g.outputs) this.valueInfo(12, v);
    for (const v of g.valueInfo) this.valueInfo(13, v);
    for (const s of g.sparseInitializers) {
      w.begin(15);
      this.sparseTensor(s);
      w.end();
    }
    for (const e of g.metadataProps ?? []) this.entry(16, e);
  }

  private node(n: Node): void {
    const w = this.w;
    for (const i of n.inputs) w.stringField(1, i);
    for (const o of n.outputs) w.stringField(2, o);
    if (n.name) w.stringField(3, n.name);
    w.stringField(4, n.opType);
    for (const a of n.attributes) {
      w.begin(5);
      this.attribute(a);
      w.end();
    }
    if (n.docString !== undefined) w.stringField(6, n.docString);
    if (n.domain) w.stringField(7, n.domain);
    if (n.overload !== undefined) w.stringField(8, n.overload);
    for (const e of n.metadataProps ?? []) this.entry(9, e);
  }

  private attribute(a: Attribute): void {
    const w = this.w;
    w.stringField(1, a.name);
    if (a.type === 'ref') {
      if (a.docString !== undefined) w.stringField(13, a.docString);
      w.tag(20, WIRE_VARINT);
      w.uint(ATTRIBUTE_TYPE_CODES[a.refType]);
      w.stringField(21, a.refAttrName);
      return;
    }
    switch (a.type) {
      case 'float':
        w.tag(2, WIRE_FIXED32);
        w.float32(a.value);
        break;
      case 'int':
        w.int64Field(3, a.value);
        break;
      case 'string':
        w.stringField(4, a.value);
        break;
      case 'tensor':
        w.begin(5);
        this.tensor(a.value, false);
        w.end();
        break;
      case 'graph':
        w.begin(6);
        this.graph(a.value);
        w.end();
        break;
      case 'floats':
        for (const v of a.value) {
          w.tag(7, WIRE_FIXED32);
          w.float32(v);
        }
        break;
      case 'ints':
        for (const v of a.value) w.int64Field(8, v);
        break;
      case 'strings':
        for (const v of a.value) w.stringField(9, v);
        break;
      case 'tensors':
        for (const t of a.value) {
          w.begin(10);
          this.tensor(t, false);
          w.end();
        }
        break;
      case 'graphs':
        for (const g of a.value) {
          w.begin(11);
          this.graph(g);
          w.end();
        }
        break;
      case 'typeProto':
        w.begin(14);
        this.type(a.value);
        w.end();
        break;
      case 'typeProtos':
        for (const t of a.value) {
          w.begin(15);
          this.type(t);
          w.end();
        }
        break;
      case 'sparseTensor':
        w.begin(22);
        this.sparseTensor(a.value);
        w.end();
        break;
      case 'sparseTensors':
        for (const s of a.value) {
          w.begin(23);
          this.sparseTensor(s);
          w.end();
        }
        break;
    }
    if (a.docString !== undefined) w.stringField(13, a.docString);
    w.tag(20, WIRE_VARINT);
    w.uint(ATTRIBUTE_TYPE_CODES[a.type]);
  }

  private tensor(t: Tensor, mayExternalize: boolean): void {
    const w = this.w;
    for (const d of t.dims) w.int64Field(1, d);
    const code = dataTypeCode(t.dtype);
    w.int64Field(2, code < 0 ? 0 : code);
    if (t.data.kind === 'strings') {
      for (const s of t.data.values) w.bytesField(6, s);
    }
    if (t.name) w.stringField(8, t.name);
    let external: { location: string; offset: number; length: number } | undefined;
    if (t.data.kind !== 'strings') {
      const length = t.data.kind === 'inline' ? t.data.bytes.length : t.data.length;
      const reference = mayExternalize ? this.references?.(t) : undefined;
      if (reference) {
        if (path.isAbsolute(reference.location) || reference.location.split(/[\\/]+/).includes('..') || reference.length !== length) {
          throw new Error(`tensor '${t.name}': bad external reference ${JSON.stringify(reference)}`);
        }
        external = reference;
      } else if (mayExternalize && this.sink && length >= this.sink.threshold) {
        external = { location: this.sink.location, offset: this.sink.appendTensor(t, length), length };
      } else if (t.data.kind === 'file') {
        // File-backed weights are read only when the output is assembled, one tensor at a time.
        w.tag(9, WIRE_LENGTH);
        w.uint(length);
        w.deferred(
          length,
          () => readTensorBytes(t),
          (write) => pipeTensorBytes(t, write),
        );
      } else {
        w.bytesField(9, t.data.bytes);
      }
    }
    if (t.docString !== undefined) w.stringField(12, t.docString);
    if (external) {
      this.entry(13, { key: 'location', value: external.location });
      this.entry(13, { key: 'offset', value: String(external.offset) });
      this.entry(13, { key: 'length', value: String(external.length) });
      w.int64Field(14, 1);
    }
  }

  private sparseTensor(s: SparseTensor): void {
    const w = this.w;
    w.begin(1);
    this.tensor(s.values, false);
    w.end();
    w.begin(2);
    this.tensor(s.indices, false);
    w.end();
    for (const d of s.dims) w.int64Field(3, d);
  }

  private valueInfo(field: number, v: ValueInfo): void {
    const w = this.w;
    w.begin(field);
    w.stringField(1, v.name);
    if (v.type) {
      w.begin(2);
      this.type(v.type);
      w.end();
    }
    if (v.docString !== undefined) w.stringField(3, v.docString);
    w.end();
  }

  private type(t: ValueType): void {
    const w = this.w;
    switch (t.kind) {
      case 'tensor':
      case 'sparseTensor': {
        w.begin(t.kind === 'tensor' ? 1 : 8);
        const code = dataTypeCode(t.tensor.dtype);
        w.int64Field(1, code < 0 ? 0 : code);
        if (t.tensor.shape) {
          w.begin(2);
          for (const d of t.tensor.shape) {
            w.begin(1);
            if (typeof d === 'number') w.int64Field(1, d);
            else if (typeof d === 'string') w.stringField(2, d);
            w.end();
          }
          w.end();
        }
        w.end();
        break;
      }
      case 'sequence':
      case 'optional':
        w.begin(t.kind === 'sequence' ? 4 : 9);
        if (t.element) {
          w.begin(1);
          this.type(t.element);
          w.end();
        }
        w.end();
        break;
      case 'map': {
        w.begin(5);
        const code = dataTypeCode(t.keyType);
        w.int64Field(1, code < 0 ? 0 : code);
        if (t.value) {
          w.begin(2);
          this.type(t.value);
          w.end();
        }
        w.end();
        break;
      }
    }
  }

  private func(f: FunctionDef): void {
    const w = this.w;
    w.stringField(1, f.name);
    for (const i of f.inputs) w.stringField(4, i);
    for (const o of f.outputs) w.stringField(5, o);
    for (const a of f.attributes) w.stringField(6, a);
    for (const n of f.nodes) {
      w.begin(7);
      this.node(n);
      w.end();
    }
    if (f.docString !== undefined) w.stringField(8, f.docString);
    for (const o of f.opsetImports) this.opset(9, o);
    w.stringField(10, f.domain);
    for (const a of f.attributeDefaults) {
      w.begin(11);
      this.attribute(a);
      w.end();
    }
    for (const v of f.valueInfo) this.valueInfo(12, v);
    if (f.overload !== undefined) w.stringField(13, f.overload);
    for (const e of f.metadataProps ?? []) this.entry(14, e);
  }

  private opset(field: number, o: OpsetImport): void {
    const w = this.w;
    w.begin(field);
    w.stringField(1, o.domain);
    w.int64Field(2, o.version);
    w.end();
  }

  private entry(field: number, e: StringEntry): void {
    const w = this.w;
    w.begin(field);
    w.stringField(1, e.key);
    w.stringField(2, e.value);
    w.end();
  }
}
