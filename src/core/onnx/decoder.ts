import { UserInputError } from '../errors';
import { byteSize, dataTypeFromCode } from '../ir/dtypes';
import { elementCount } from '../ir/tensorData';
import type {
  Attribute,
  DataType,
  Dim,
  FunctionDef,
  Graph,
  Model,
  Node,
  OpsetImport,
  SparseTensor,
  StringEntry,
  Tensor,
  TensorData,
  ValueInfo,
  ValueType,
} from '../ir/types';
import type { ExternalDataResolver } from './externalData';
import { attributeTypeFromCode } from './protoEnums';
import { ProtoReader, WireError } from './wire';
import type { ByteSource } from './wire';

/**
 * Decodes ONNX protobuf messages (onnx.proto) into the IR. Field numbers are written as `field * 8 + wireType` so each
 * case can be checked against onnx.proto at a glance; a field with an unexpected wire type is skipped like an unknown
 * one, as protobuf parsers do. Repeated scalars are accepted packed and unpacked.
 */

/** Subgraphs (If/Loop/Scan bodies) nested deeper than this are treated as hostile input. */
export const MAX_GRAPH_DEPTH = 32;
/** TypeProto nesting (sequence of map of optional ...) deeper than this is treated as hostile input. */
const MAX_TYPE_DEPTH = 32;
/** int32 and int64 tensors up to this size stay inline whatever the limit: they are shapes and indices, not weights. */
export const INTEGER_INLINE_LIMIT_BYTES = 64 * 1024;
/** The largest dimension the IR can hold exactly. */
const MAX_DIM = 2 ** 53;

const V = 0; // varint
const I64 = 1; // fixed64
const LEN = 2; // length-delimited
const I32 = 5; // fixed32

/** Tensor data: bytes in memory, or a byte range in the model file that was skipped without reading. */
type Chunk = Uint8Array | { offset: number; length: number };

export interface DecoderOptions {
  /** Absolute path of the model file, when reading from a file; raw_data above the limit becomes a range in it. */
  filePath: string | undefined;
  inlineLimitBytes: number;
  resolver: ExternalDataResolver;
  label: string;
}

/** Bytes a tensor's data should take, from its dims and dtype; undefined for strings and unknown types. */
export function expectedByteLength(dtype: DataType, dims: number[]): number | undefined {
  if (dtype === 'string' || dtype === 'undefined') return undefined;
  return byteSize(dtype, elementCount(dims));
}

export class OnnxDecoder {
  private readonly r: ProtoReader;

  constructor(
    source: ByteSource,
    private readonly options: DecoderOptions,
  ) {
    this.r = new ProtoReader(source);
  }

  model(): Model {
    const r = this.r;
    const end = r.size;
    const model: Model = {
      format: 'onnx',
      irVersion: 0,
      opsetImports: [],
      metadataProps: [],
      graph: undefined as unknown as Graph,
      functions: [],
    };
    let graph: Graph | undefined;
    while (r.pos < end) {
      const tag = r.tag();
      switch (tag) {
        case 1 * 8 + V:
          model.irVersion = r.int64();
          break;
        case 2 * 8 + LEN:
          model.producerName = this.str(end);
          break;
        case 3 * 8 + LEN:
          model.producerVersion = this.str(end);
          break;
        case 4 * 8 + LEN:
          model.domain = this.str(end);
          break;
        case 5 * 8 + V:
          model.modelVersion = r.int64();
          break;
        case 6 * 8 + LEN:
          model.docString = this.str(end);
          break;
        case 7 * 8 + LEN:
          graph = this.graph(r.lengthEnd(end), 0);
          break;
        case 8 * 8 + LEN:
          model.opsetImports.push(this.opsetImport(r.lengthEnd(end)));
          break;
        case 14 * 8 + LEN:
          model.metadataProps.push(this.stringEntry(r.lengthEnd(end)));
          break;
        case 25 * 8 + LEN:
          model.functions.push(this.func(r.lengthEnd(end)));
          break;
        default:
          r.skip(tag & 7, end);
      }
      this.checkEnd(end);
    }
    if (!graph) {
      throw new UserInputError(`${this.options.label} has no graph: it is not an ONNX model, or it is damaged`);
    }
    model.graph = graph;
    return model;
  }

  /** Strings read with `this.str(end)` check their own bounds against the source; this checks the message's. */
  private checkEnd(end: number): void {
    if (this.r.pos > end) throw new WireError(`a field runs past the end of its message at byte ${end}`);
  }

  private str(end: number): string {
    const n = this.r.uint();
    if (this.r.pos + n > end) throw new WireError(`a string of ${n} bytes at byte ${this.r.pos} runs past the end of its message`);
    return this.r.string(n);
  }

  private graph(end: number, depth: number): Graph {
    if (depth > MAX_GRAPH_DEPTH) throw new WireError(`subgraphs are nested more than ${MAX_GRAPH_DEPTH} levels deep`);
    const r = this.r;
    const g: Graph = { name: '', nodes: [], inputs: [], outputs: [], valueInfo: [], initializers: [], sparseInitializers: [] };
    const metadata: StringEntry[] = [];
    while (r.pos < end) {
      const tag = r.tag();
      switch (tag) {
        case 1 * 8 + LEN:
          g.nodes.push(this.node(r.lengthEnd(end), depth));
          break;
        case 2 * 8 + LEN:
          g.name = this.str(end);
          break;
        case 5 * 8 + LEN:
          g.initializers.push(this.tensor(r.lengthEnd(end)));
          break;
        case 10 * 8 + LEN:
          g.docString = this.str(end);
          break;
        case 11 * 8 + LEN:
          g.inputs.push(this.valueInfo(r.lengthEnd(end)));
          break;
        case 12 * 8 + LEN:
          g.outputs.push(this.valueInfo(r.lengthEnd(end)));
          break;
        case 13 * 8 + LEN:
          g.valueInfo.push(this.valueInfo(r.lengthEnd(end)));
          break;
        case 15 * 8 + LEN:
          g.sparseInitializers.push(this.sparseTensor(r.lengthEnd(end)));
          break;
        case 16 * 8 + LEN:
          metadata.push(this.stringEntry(r.lengthEnd(end)));
          break;
        default:
          r.skip(tag & 7, end);
      }
      this.checkEnd(end);
    }
    if (metadata.length) g.metadataProps = metadata;
    return g;
  }

  private node(end: number, depth: number): Node {
    const r = this.r;
    const n: Node = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: [] };
    const metadata: StringEntry[] = [];
    while (r.pos < end) {
      const tag = r.tag();
      switch (tag) {
        case 1 * 8 + LEN:
          n.inputs.push(this.str(end));
          break;
        case 2 * 8 + LEN:
          n.outputs.push(this.str(end));
          break;
        case 3 * 8 + LEN:
          n.name = this.str(end);
          break;
        case 4 * 8 + LEN:
          n.opType = this.str(end);
          break;
        case 5 * 8 + LEN: {
          const a = this.attribute(r.lengthEnd(end), depth);
          if (a) n.attributes.push(a);
          break;
        }
        case 6 * 8 + LEN:
          n.docString = this.str(end);
          break;
        case 7 * 8 + LEN:
          n.domain = this.str(end);
          break;
        case 8 * 8 + LEN:
          n.overload = this.str(end);
          break;
        case 9 * 8 + LEN:
          metadata.push(this.stringEntry(r.lengthEnd(end)));
          break;
        default:
          r.skip(tag & 7, end);
      }
      this.checkEnd(end);
    }
    if (n.domain === 'ai.onnx') n.domain = '';
    if (metadata.length) n.metadataProps = metadata;
    return n;
  }

  private attribute(end: number, depth: number): Attribute | undefined {
    const r = this.r;
    let name = '';
    let refAttrName: string | undefined;
    let docString: string | undefined;
    let typeCode = 0;
    let f: number | undefined;
    let i: number | undefined;
    let s: string | undefined;
    let t: Tensor | undefined;
    let g: Graph | undefined;
    let sparse: SparseTensor | undefined;
    let tp: ValueType | null | undefined;
    const floats: number[] = [];
    const ints: number[] = [];
    const strings: string[] = [];
    const tensors: Tensor[] = [];
    const graphs: Graph[] = [];
    const sparseTensors: SparseTensor[] = [];
    const typeProtos: (ValueType | null)[] = [];
    while (r.pos < end) {
      const tag = r.tag();
      switch (tag) {
        case 1 * 8 + LEN:
          name = this.str(end);
          break;
        case 21 * 8 + LEN:
          refAttrName = this.str(end);
          break;
        case 13 * 8 + LEN:
          docString = this.str(end);
          break;
        case 20 * 8 + V:
          typeCode = r.int32();
          break;
        case 2 * 8 + I32:
          f = r.float32();
          break;
        case 3 * 8 + V:
          i = r.int64();
          break;
        case 4 * 8 + LEN:
          s = this.str(end);
          break;
        case 5 * 8 + LEN:
          t = this.tensor(r.lengthEnd(end));
          break;
        case 6 * 8 + LEN:
          g = this.graph(r.lengthEnd(end), depth + 1);
          break;
        case 22 * 8 + LEN:
          sparse = this.sparseTensor(r.lengthEnd(end));
          break;
        case 14 * 8 + LEN:
          tp = this.type(r.lengthEnd(end), 0, `attribute '${name}'`);
          break;
        case 7 * 8 + I32:
          floats.push(r.float32());
          break;
        case 7 * 8 + LEN: {
          const fieldEnd = r.lengthEnd(end);
          while (r.pos + 4 <= fieldEnd) floats.push(r.float32());
          r.pos = fieldEnd;
          break;
        }
        case 8 * 8 + V:
          ints.push(r.int64());
          break;
        case 8 * 8 + LEN: {
          const fieldEnd = r.lengthEnd(end);
          while (r.pos < fieldEnd) ints.push(r.int64());
          this.checkEnd(fieldEnd);
          break;
        }
        case 9 * 8 + LEN:
          strings.push(this.str(end));
          break;
        case 10 * 8 + LEN:
          tensors.push(this.tensor(r.lengthEnd(end)));
          break;
        case 11 * 8 + LEN:
          graphs.push(this.graph(r.lengthEnd(end), depth + 1));
          break;
        case 23 * 8 + LEN:
          sparseTensors.push(this.sparseTensor(r.lengthEnd(end)));
          break;
        case 15 * 8 + LEN:
          typeProtos.push(this.type(r.lengthEnd(end), 0, `attribute '${name}'`));
          break;
        default:
          r.skip(tag & 7, end);
      }
      this.checkEnd(end);
    }
    let type = attributeTypeFromCode(typeCode);
    if (refAttrName !== undefined) {
      const a: Attribute = { name, type: 'ref', refAttrName, refType: type ?? 'int' };
      if (docString !== undefined) a.docString = docString;
      return a;
    }
    // IR version 1 files have no type field; the type is whichever value field is set.
    if (!type) {
      type =
        f !== undefined ? 'float'
        : i !== undefined ? 'int'
        : s !== undefined ? 'string'
        : t ? 'tensor'
        : g ? 'graph'
        : sparse ? 'sparseTensor'
        : tp !== undefined ? 'typeProto'
        : floats.length ? 'floats'
        : ints.length ? 'ints'
        : strings.length ? 'strings'
        : tensors.length ? 'tensors'
        : graphs.length ? 'graphs'
        : sparseTensors.length ? 'sparseTensors'
        : typeProtos.length ? 'typeProtos'
        : undefined;
    }
    let a: Attribute;
    switch (type) {
      case 'float':
        a = { name, type, value: f ?? 0 };
        break;
      case 'int':
        a = { name, type, value: i ?? 0 };
        break;
      case 'string':
        a = { name, type, value: s ?? '' };
        break;
      case 'tensor':
        if (!t) return undefined;
        a = { name, type, value: t };
        break;
      case 'graph':
        if (!g) return undefined;
        a = { name, type, value: g };
        break;
      case 'sparseTensor':
        if (!sparse) return undefined;
        a = { name, type, value: sparse };
        break;
      case 'typeProto':
        if (!tp) return undefined;
        a = { name, type, value: tp };
        break;
      case 'floats':
        a = { name, type, value: floats };
        break;
      case 'ints':
        a = { name, type, value: ints };
        break;
      case 'strings':
        a = { name, type, value: strings };
        break;
      case 'tensors':
        a = { name, type, value: tensors };
        break;
      case 'graphs':
        a = { name, type, value: graphs };
        break;
      case 'sparseTensors':
        a = { name, type, value: sparseTensors };
        break;
      case 'typeProtos':
        a = { name, type, value: typeProtos.filter((x): x is ValueType => x !== null) };
        break;
      default:
        // An attribute with no value and no type carries nothing the IR can hold.
        return undefined;
    }
    if (docString !== undefined) a.docString = docString;
    return a;
  }

  private tensor(end: number): Tensor {
    const r = this.r;
    let name = '';
    let dtypeCode = 0;
    const dims: number[] = [];
    let docString: string | undefined;
    let raw: Chunk | undefined;
    let dataLocation = 0;
    const external: StringEntry[] = [];
    // Typed data fields, kept as they arrive and converted to raw little-endian bytes once the dtype is known.
    const floatChunks: Chunk[] = [];
    const doubleChunks: Chunk[] = [];
    const int32s: number[] = [];
    const int64s: number[] = []; // lo, hi pairs, so int64 values stay exact
    const strings: Uint8Array[] = [];
    while (r.pos < end) {
      const tag = r.tag();
      switch (tag) {
        case 1 * 8 + V:
          dims.push(r.int64());
          break;
        case 1 * 8 + LEN: {
          const fieldEnd = r.lengthEnd(end);
          while (r.pos < fieldEnd) dims.push(r.int64());
          this.checkEnd(fieldEnd);
          break;
        }
        case 2 * 8 + V:
          dtypeCode = r.int32();
          break;
        case 8 * 8 + LEN:
          name = this.str(end);
          break;
        case 12 * 8 + LEN:
          docString = this.str(end);
          break;
        case 9 * 8 + LEN: {
          const fieldEnd = r.lengthEnd(end);
          raw = this.payload(fieldEnd - r.pos, dtypeCode);
          break;
        }
        case 13 * 8 + LEN:
          external.push(this.stringEntry(r.lengthEnd(end)));
          break;
        case 14 * 8 + V:
          dataLocation = r.int32();
          break;
        case 4 * 8 + I32:
          floatChunks.push(r.bytes(4));
          break;
        case 4 * 8 + LEN: {
          // Packed float_data is exactly raw float32 (or complex64) bytes, so large ones are skipped like raw_data.
          const fieldEnd = r.lengthEnd(end);
          floatChunks.push(this.payload(fieldEnd - r.pos, dtypeCode));
          break;
        }
        case 10 * 8 + I64:
          doubleChunks.push(r.bytes(8));
          break;
        case 10 * 8 + LEN: {
          const fieldEnd = r.lengthEnd(end);
          doubleChunks.push(this.payload(fieldEnd - r.pos, dtypeCode));
          break;
        }
        case 5 * 8 + V:
          r.varint64();
          int32s.push(r.lo);
          break;
        case 5 * 8 + LEN: {
          const fieldEnd = r.lengthEnd(end);
          while (r.pos < fieldEnd) {
            r.varint64();
            int32s.push(r.lo);
          }
          this.checkEnd(fieldEnd);
          break;
        }
        case 7 * 8 + V:
        case 11 * 8 + V:
          r.varint64();
          int64s.push(r.lo, r.hi);
          break;
        case 7 * 8 + LEN:
        case 11 * 8 + LEN: {
          const fieldEnd = r.lengthEnd(end);
          while (r.pos < fieldEnd) {
            r.varint64();
            int64s.push(r.lo, r.hi);
          }
          this.checkEnd(fieldEnd);
          break;
        }
        case 6 * 8 + LEN: {
          const fieldEnd = r.lengthEnd(end);
          strings.push(r.bytes(fieldEnd - r.pos));
          break;
        }
        default:
          r.skip(tag & 7, end);
      }
      this.checkEnd(end);
    }
    const dtype: DataType = dataTypeFromCode(dtypeCode) ?? 'undefined';
    for (const d of dims) {
      if (!(d >= 0 && d < MAX_DIM)) {
        throw new UserInputError(`${this.options.label}: tensor '${name}' has dimension ${d}, which is negative or at least 2^53`);
      }
    }
    let data: TensorData;
    if (dataLocation === 1) {
      const resolved = this.options.resolver.resolve(name, external, expectedByteLength(dtype, dims));
      data = { kind: 'file', path: resolved.path, offset: resolved.offset, length: resolved.length, external: resolved.external };
    } else if (dtype === 'string') {
      data = { kind: 'strings', values: strings };
    } else if (raw !== undefined) {
      data = this.chunkData(raw);
    } else if (floatChunks.length === 1 || doubleChunks.length === 1) {
      data = this.chunkData(floatChunks.length ? floatChunks[0] : doubleChunks[0]);
    } else {
      const floats = floatChunks.map((c) => this.materialize(c));
      const doubles = doubleChunks.map((c) => this.materialize(c));
      data = { kind: 'inline', bytes: typedToRaw(dtype, floats, doubles, int32s, int64s) };
    }
    const t: Tensor = { name, dtype, dims, data };
    if (docString !== undefined) t.docString = docString;
    return t;
  }

  /**
   * The next n bytes of tensor data: copied when small, or recorded as a range in the model file and skipped without
   * reading when larger than the inline limit. Integer tensors get a higher limit, because they are shape constants,
   * indices and axes that shape folding reads, not weights.
   */
  private payload(n: number, dtypeCode: number): Chunk {
    const r = this.r;
    const limit = dtypeCode === 6 || dtypeCode === 7 ? Math.max(this.options.inlineLimitBytes, INTEGER_INLINE_LIMIT_BYTES) : this.options.inlineLimitBytes;
    if (this.options.filePath !== undefined && n > limit) {
      const range = { offset: r.pos, length: n };
      r.pos += n;
      return range;
    }
    return r.bytes(n);
  }

  private materialize(c: Chunk): Uint8Array {
    return c instanceof Uint8Array ? c : this.r.source.read(c.offset, c.length).slice();
  }

  private chunkData(c: Chunk): TensorData {
    if (c instanceof Uint8Array) return { kind: 'inline', bytes: c };
    return { kind: 'file', path: this.options.filePath as string, offset: c.offset, length: c.length };
  }

  private sparseTensor(end: number): SparseTensor {
    const r = this.r;
    let values: Tensor | undefined;
    let indices: Tensor | undefined;
    const dims: number[] = [];
    while (r.pos < end) {
      const tag = r.tag();
      switch (tag) {
        case 1 * 8 + LEN:
          values = this.tensor(r.lengthEnd(end));
          break;
        case 2 * 8 + LEN:
          indices = this.tensor(r.lengthEnd(end));
          break;
        case 3 * 8 + V:
          dims.push(r.int64());
          break;
        case 3 * 8 + LEN: {
          const fieldEnd = r.lengthEnd(end);
          while (r.pos < fieldEnd) dims.push(r.int64());
          this.checkEnd(fieldEnd);
          break;
        }
        default:
          r.skip(tag & 7, end);
      }
      this.checkEnd(end);
    }
    const name = values?.name ?? '';
    for (const d of dims) {
      if (!(d >= 0 && d < MAX_DIM)) {
        throw new UserInputError(`${this.options.label}: sparse tensor '${name}' has dimension ${d}, which is negative or at least 2^53`);
      }
    }
    const empty = (n: string, dtype: DataType): Tensor => ({ name: n, dtype, dims: [0], data: { kind: 'inline', bytes: new Uint8Array(0) } });
    return { values: values ?? empty(name, 'float32'), indices: indices ?? empty('', 'int64'), dims };
  }

  private valueInfo(end: number): ValueInfo {
    const r = this.r;
    const v: ValueInfo = { name: '', type: null };
    while (r.pos < end) {
      const tag = r.tag();
      switch (tag) {
        case 1 * 8 + LEN:
          v.name = this.str(end);
          break;
        case 2 * 8 + LEN:
          v.type = this.type(r.lengthEnd(end), 0, v.name ? `value '${v.name}'` : 'a value');
          break;
        case 3 * 8 + LEN:
          v.docString = this.str(end);
          break;
        default:
          r.skip(tag & 7, end);
      }
      this.checkEnd(end);
    }
    return v;
  }

  private type(end: number, depth: number, what: string): ValueType | null {
    if (depth > MAX_TYPE_DEPTH) throw new WireError(`types are nested more than ${MAX_TYPE_DEPTH} levels deep`);
    const r = this.r;
    let out: ValueType | null = null;
    while (r.pos < end) {
      const tag = r.tag();
      switch (tag) {
        case 1 * 8 + LEN:
          out = { kind: 'tensor', tensor: this.tensorType(r.lengthEnd(end), what) };
          break;
        case 8 * 8 + LEN:
          out = { kind: 'sparseTensor', tensor: this.tensorType(r.lengthEnd(end), what) };
          break;
        case 4 * 8 + LEN:
          out = { kind: 'sequence', element: this.elementType(r.lengthEnd(end), depth, what) };
          break;
        case 9 * 8 + LEN:
          out = { kind: 'optional', element: this.elementType(r.lengthEnd(end), depth, what) };
          break;
        case 5 * 8 + LEN: {
          const fieldEnd = r.lengthEnd(end);
          let keyType: DataType = 'undefined';
          let value: ValueType | null = null;
          while (r.pos < fieldEnd) {
            const t = r.tag();
            if (t === 1 * 8 + V) keyType = dataTypeFromCode(r.int32()) ?? 'undefined';
            else if (t === 2 * 8 + LEN) value = this.type(r.lengthEnd(fieldEnd), depth + 1, what);
            else r.skip(t & 7, fieldEnd);
            this.checkEnd(fieldEnd);
          }
          out = { kind: 'map', keyType, value };
          break;
        }
        default:
          // Opaque types and denotations have no place in the IR.
          r.skip(tag & 7, end);
      }
      this.checkEnd(end);
    }
    return out;
  }

  /** The `elem_type` (field 1) of TypeProto.Sequence and TypeProto.Optional. */
  private elementType(end: number, depth: number, what: string): ValueType | null {
    const r = this.r;
    let element: ValueType | null = null;
    while (r.pos < end) {
      const tag = r.tag();
      if (tag === 1 * 8 + LEN) element = this.type(r.lengthEnd(end), depth + 1, what);
      else r.skip(tag & 7, end);
      this.checkEnd(end);
    }
    return element;
  }

  private tensorType(end: number, what: string): { dtype: DataType; shape: Dim[] | null } {
    const r = this.r;
    let dtype: DataType = 'undefined';
    let shape: Dim[] | null = null;
    while (r.pos < end) {
      const tag = r.tag();
      if (tag === 1 * 8 + V) dtype = dataTypeFromCode(r.int32()) ?? 'undefined';
      else if (tag === 2 * 8 + LEN) shape = this.shape(r.lengthEnd(end), what);
      else r.skip(tag & 7, end);
      this.checkEnd(end);
    }
    return { dtype, shape };
  }

  private shape(end: number, what: string): Dim[] {
    const r = this.r;
    const dims: Dim[] = [];
    while (r.pos < end) {
      const tag = r.tag();
      if (tag === 1 * 8 + LEN) {
        const dimEnd = r.lengthEnd(end);
        let dim: Dim = null;
        while (r.pos < dimEnd) {
          const t = r.tag();
          if (t === 1 * 8 + V) {
            const v = r.int64();
            if (!(v >= 0 && v < MAX_DIM)) {
              throw new UserInputError(`${this.options.label}: ${what} has dimension ${v}, which is negative or at least 2^53`);
            }
            dim = v;
          } else if (t === 2 * 8 + LEN) {
            const p = this.str(dimEnd);
            dim = p === '' ? null : p;
          } else r.skip(t & 7, dimEnd);
          this.checkEnd(dimEnd);
        }
        dims.push(dim);
      } else r.skip(tag & 7, end);
      this.checkEnd(end);
    }
    return dims;
  }

  private stringEntry(end: number): StringEntry {
    const r = this.r;
    const e: StringEntry = { key: '', value: '' };
    while (r.pos < end) {
      const tag = r.tag();
      if (tag === 1 * 8 + LEN) e.key = this.str(end);
      else if (tag === 2 * 8 + LEN) e.value = this.str(end);
      else r.skip(tag & 7, end);
      this.checkEnd(end);
    }
    return e;
  }

  private opsetImport(end: number): OpsetImport {
    const r = this.r;
    const o: OpsetImport = { domain: '', version: 0 };
    while (r.pos < end) {
      const tag = r.tag();
      if (tag === 1 * 8 + LEN) o.domain = this.str(end);
      else if (tag === 2 * 8 + V) o.version = r.int64();
      else r.skip(tag & 7, end);
      this.checkEnd(end);
    }
    return o;
  }

  private func(end: number): FunctionDef {
    const r = this.r;
    const fn: FunctionDef = {
      name: '',
      domain: '',
      inputs: [],
      outputs: [],
      attributes: [],
      attributeDefaults: [],
      nodes: [],
      opsetImports: [],
      valueInfo: [],
    };
    const metadata: StringEntry[] = [];
    while (r.pos < end) {
      const tag = r.tag();
      switch (tag) {
        case 1 * 8 + LEN:
          fn.name = this.str(end);
          break;
        case 4 * 8 + LEN:
          fn.inputs.push(this.str(end));
          break;
        case 5 * 8 + LEN:
          fn.outputs.push(this.str(end));
          break;
        case 6 * 8 + LEN:
          fn.attributes.push(this.str(end));
          break;
        case 11 * 8 + LEN: {
          const a = this.attribute(r.lengthEnd(end), 0);
          if (a) fn.attributeDefaults.push(a);
          break;
        }
        case 7 * 8 + LEN:
          fn.nodes.push(this.node(r.lengthEnd(end), 0));
          break;
        case 8 * 8 + LEN:
          fn.docString = this.str(end);
          break;
        case 9 * 8 + LEN:
          fn.opsetImports.push(this.opsetImport(r.lengthEnd(end)));
          break;
        case 10 * 8 + LEN:
          fn.domain = this.str(end);
          break;
        case 12 * 8 + LEN:
          fn.valueInfo.push(this.valueInfo(r.lengthEnd(end)));
          break;
        case 13 * 8 + LEN:
          fn.overload = this.str(end);
          break;
        case 14 * 8 + LEN:
          metadata.push(this.stringEntry(r.lengthEnd(end)));
          break;
        default:
          r.skip(tag & 7, end);
      }
      this.checkEnd(end);
    }
    if (metadata.length) fn.metadataProps = metadata;
    return fn;
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

/**
 * Converts ONNX's typed data fields to the raw little-endian layout the IR uses. int32_data carries every type of 16
 * bits or fewer as bit patterns (float16 and bfloat16 included), and two elements per entry for 4-bit types.
 */
function typedToRaw(dtype: DataType, floatChunks: Uint8Array[], doubleChunks: Uint8Array[], int32s: number[], int64s: number[]): Uint8Array {
  if (floatChunks.length) return concat(floatChunks);
  if (doubleChunks.length) return concat(doubleChunks);
  if (int64s.length) {
    const out = new Uint8Array(int64s.length * 4);
    const view = new DataView(out.buffer);
    if (dtype === 'uint32') {
      // uint64_data carries uint32 tensors too; keep the low words.
      const narrow = new Uint8Array(int64s.length * 2);
      const nv = new DataView(narrow.buffer);
      for (let i = 0; i < int64s.length / 2; i++) nv.setUint32(i * 4, int64s[2 * i], true);
      return narrow;
    }
    for (let i = 0; i < int64s.length; i++) view.setUint32(i * 4, int64s[i], true);
    return out;
  }
  if (int32s.length) {
    const bits = dtype === 'int4' || dtype === 'uint4' || dtype === 'float4e2m1' ? 8 : byteSize(dtype, 1) * 8;
    const bytesPer = Math.max(1, bits / 8);
    const out = new Uint8Array(int32s.length * bytesPer);
    const view = new DataView(out.buffer);
    for (let i = 0; i < int32s.length; i++) {
      const v = int32s[i];
      if (bytesPer === 4) view.setUint32(i * 4, v >>> 0, true);
      else if (bytesPer === 2) view.setUint16(i * 2, v & 0xffff, true);
      else out[i] = v & 0xff;
    }
    return out;
  }
  return new Uint8Array(0);
}
