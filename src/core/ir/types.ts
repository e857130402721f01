/**
 * The neutral model that every front end produces and every analysis consumes.
 *
 * It mirrors ONNX closely, because ONNX is the richest format Layerscope reads, but it is plain data: no protobuf
 * classes, no lazy getters. The PyTorch-source path builds the same objects, so analyses never need to know where a
 * graph came from. Weight bytes are never held here for analysis: a tensor's data is either small inline bytes or a
 * byte range in a file that the runtime reads when it really needs the values.
 */

/** A dimension: a known size, a symbolic name such as "N", or null when nothing is known. */
export type Dim = number | string | null;

/** A shape is a list of dimensions; null means even the rank is unknown. */
export type Shape = Dim[] | null;

/** Element types, named as ONNX's TensorProto.DataType names them, lower-cased. */
export type DataType =
  | 'undefined'
  | 'float32'
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'string'
  | 'bool'
  | 'float16'
  | 'float64'
  | 'uint32'
  | 'uint64'
  | 'complex64'
  | 'complex128'
  | 'bfloat16'
  | 'float8e4m3fn'
  | 'float8e4m3fnuz'
  | 'float8e5m2'
  | 'float8e5m2fnuz'
  | 'uint4'
  | 'int4'
  | 'float4e2m1';

/** The type of a tensor value: element type and shape. */
export interface TensorType {
  dtype: DataType;
  shape: Shape;
}

/**
 * The type of any value a graph can carry. Almost everything is a tensor; sequences, maps and optionals exist so that
 * models that use them still read and round-trip.
 */
export type ValueType =
  | { kind: 'tensor'; tensor: TensorType }
  | { kind: 'sparseTensor'; tensor: TensorType }
  | { kind: 'sequence'; element: ValueType | null }
  | { kind: 'optional'; element: ValueType | null }
  | { kind: 'map'; keyType: DataType; value: ValueType | null };

/** A named value as declared in a graph's inputs, outputs or value_info. */
export interface ValueInfo {
  name: string;
  /** Null when the file declares no type (legal for intermediate values). */
  type: ValueType | null;
  docString?: string;
  /** Per-dimension denotations or free-form notes are not kept; only what analysis and round-trip need. */
}

/**
 * Where a tensor's bytes live.
 * - `inline`: bytes already in memory, little-endian and packed as ONNX raw_data would hold them. Used for small
 *   tensors (shape constants, scalars) and for everything the writer or a test builds.
 * - `file`: a byte range in a file, either raw_data inside the model file or an external-data file. The reader
 *   records the range without reading it; `path` is absolute and has passed the external-data security checks.
 * - `strings`: the elements of a string tensor.
 */
export type TensorData =
  | { kind: 'inline'; bytes: Uint8Array }
  | { kind: 'file'; path: string; offset: number; length: number; external?: ExternalDataRef }
  | { kind: 'strings'; values: Uint8Array[] };

/** The external-data entries as the file wrote them, kept so that the writer can reproduce them. */
export interface ExternalDataRef {
  location: string;
  offset?: number;
  length?: number;
  checksum?: string;
}

/** A constant tensor: an initializer, a Constant node's value, or a tensor-valued attribute. */
export interface Tensor {
  name: string;
  dtype: DataType;
  dims: number[];
  data: TensorData;
  docString?: string;
}

/** A sparse tensor in COO form, as ONNX stores sparse initializers. */
export interface SparseTensor {
  values: Tensor;
  indices: Tensor;
  dims: number[];
}

export type AttributeType =
  | 'float'
  | 'int'
  | 'string'
  | 'tensor'
  | 'graph'
  | 'sparseTensor'
  | 'typeProto'
  | 'floats'
  | 'ints'
  | 'strings'
  | 'tensors'
  | 'graphs'
  | 'sparseTensors'
  | 'typeProtos';

/**
 * A node attribute. Integers are JavaScript numbers: ONNX's int64 sentinels (INT64_MAX in old Slice attributes) become
 * 2^63, which every consumer treats as "to the end", and the writer clamps back to INT64_MAX.
 */
export type Attribute =
  | { name: string; type: 'float'; value: number; docString?: string }
  | { name: string; type: 'int'; value: number; docString?: string }
  | { name: string; type: 'string'; value: string; docString?: string }
  | { name: string; type: 'tensor'; value: Tensor; docString?: string }
  | { name: string; type: 'graph'; value: Graph; docString?: string }
  | { name: string; type: 'sparseTensor'; value: SparseTensor; docString?: string }
  | { name: string; type: 'typeProto'; value: ValueType; docString?: string }
  | { name: string; type: 'floats'; value: number[]; docString?: string }
  | { name: string; type: 'ints'; value: number[]; docString?: string }
  | { name: string; type: 'strings'; value: string[]; docString?: string }
  | { name: string; type: 'tensors'; value: Tensor[]; docString?: string }
  | { name: string; type: 'graphs'; value: Graph[]; docString?: string }
  | { name: string; type: 'sparseTensors'; value: SparseTensor[]; docString?: string }
  | { name: string; type: 'typeProtos'; value: ValueType[]; docString?: string }
  /** Inside a function body: the attribute takes the value of the caller's attribute `refAttrName`. */
  | { name: string; type: 'ref'; refAttrName: string; refType: AttributeType; docString?: string };

/** Where in the user's source a node came from (PyTorch-source path); ONNX nodes have none. */
export interface SourceLocation {
  file?: string;
  /** 1-based line. */
  line: number;
  /** The module path as PyTorch would name it, for example `features.0`. */
  modulePath?: string;
}

export interface Node {
  name: string;
  opType: string;
  /** '' is the default ONNX domain; 'ai.onnx.ml', 'com.microsoft', or a model-local function's domain otherwise. */
  domain: string;
  /** Input value names, in order. An empty string marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attributes: Attribute[];
  docString?: string;
  overload?: string;
  metadataProps?: StringEntry[];
  source?: SourceLocation;
}

export interface StringEntry {
  key: string;
  value: string;
}

export interface Graph {
  name: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  valueInfo: ValueInfo[];
  initializers: Tensor[];
  sparseInitializers: SparseTensor[];
  docString?: string;
  metadataProps?: StringEntry[];
}

export interface OpsetImport {
  domain: string;
  version: number;
}

/** A model-local function (FunctionProto). */
export interface FunctionDef {
  name: string;
  domain: string;
  overload?: string;
  inputs: string[];
  outputs: string[];
  /** Attribute names without defaults. */
  attributes: string[];
  /** Attributes with default values. */
  attributeDefaults: Attribute[];
  nodes: Node[];
  opsetImports: OpsetImport[];
  valueInfo: ValueInfo[];
  docString?: string;
  metadataProps?: StringEntry[];
}

export type ModelFormat = 'onnx' | 'python';

export interface Model {
  format: ModelFormat;
  irVersion: number;
  opsetImports: OpsetImport[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  metadataProps: StringEntry[];
  graph: Graph;
  functions: FunctionDef[];
  /** Absolute path of the file the model was read from, when it came from a file. */
  path?: string;
}

/** The opset version of the default ONNX domain, which decides which version of each op's rules applies. */
export function defaultOpset(model: Pick<Model, 'opsetImports'>): number {
  const entry = model.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  return entry ? entry.version : 0;
}
