import { makeTensor } from './tensorData';
import type { Attribute, DataType, Graph, Model, Node, Shape, Tensor, ValueInfo } from './types';

/**
 * A small programmatic way to build graphs. Tests build their fixtures with it (then write them with the ONNX
 * writer), the PyTorch-source path lowers modules through it, and the autodiff builder appends backward nodes with it.
 */

/** A float attribute. Plain numbers that are integers become int attributes, so floats must be marked. */
export interface FloatMark {
  float: number;
}
export function f(value: number): FloatMark {
  return { float: value };
}
export interface FloatsMark {
  floats: number[];
}
export function fs(values: number[]): FloatsMark {
  return { floats: values };
}

export type AttributeInput = number | number[] | string | string[] | FloatMark | FloatsMark | Tensor | Graph | Attribute;

export function toAttribute(name: string, value: AttributeInput): Attribute {
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: 'int', value } : { name, type: 'float', value };
  }
  if (typeof value === 'string') return { name, type: 'string', value };
  if (Array.isArray(value)) {
    if (value.length > 0 && typeof value[0] === 'string') return { name, type: 'strings', value: value as string[] };
    const nums = value as number[];
    return nums.every((v) => Number.isInteger(v))
      ? { name, type: 'ints', value: nums }
      : { name, type: 'floats', value: nums };
  }
  if ('float' in value) return { name, type: 'float', value: value.float };
  if ('floats' in value) return { name, type: 'floats', value: value.floats };
  if ('dtype' in value && 'dims' in value) return { name, type: 'tensor', value: value as Tensor };
  if ('nodes' in value && 'initializers' in value) return { name, type: 'graph', value: value as Graph };
  return { ...(value as Attribute), name };
}

export interface NodeOptions {
  name?: string;
  /** Number of outputs to create, or their explicit names. Defaults to one. */
  outputs?: number | string[];
  domain?: string;
}

export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly initializers: Tensor[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(private readonly name = 'graph') {}

  /** A name not yet used in this graph, based on `hint`. */
  fresh(hint: string): string {
    let candidate = hint;
    while (this.used.has(candidate)) candidate = `${hint}_${++this.counter}`;
    this.used.add(candidate);
    return candidate;
  }

  input(name: string, dtype: DataType, shape: Shape): string {
    this.used.add(name);
    this.inputs.push({ name, type: { kind: 'tensor', tensor: { dtype, shape } } });
    return name;
  }

  initializer(name: string, dtype: DataType, dims: number[], values: ArrayLike<number>): string {
    const unique = this.fresh(name);
    this.initializers.push(makeTensor(unique, dtype, dims, values));
    return unique;
  }

  addInitializer(tensor: Tensor): string {
    this.used.add(tensor.name);
    this.initializers.push(tensor);
    return tensor.name;
  }

  /** Adds a node and returns its output names. */
  node(opType: string, inputs: string[], attrs: Record<string, AttributeInput> = {}, options: NodeOptions = {}): string[] {
    const nodeName = options.name ?? this.fresh(`${opType}_${this.nodes.length}`);
    this.used.add(nodeName);
    const outs =
      Array.isArray(options.outputs)
        ? options.outputs
        : Array.from({ length: options.outputs ?? 1 }, (_, i) => this.fresh(`${nodeName}_output_${i}`));
    for (const o of outs) this.used.add(o);
    this.nodes.push({
      name: nodeName,
      opType,
      domain: options.domain ?? '',
      inputs,
      outputs: outs,
      attributes: Object.entries(attrs).map(([k, v]) => toAttribute(k, v)),
    });
    return outs;
  }

  /** Adds a single-output node and returns that output's name. */
  op(opType: string, inputs: string[], attrs: Record<string, AttributeInput> = {}, options: Omit<NodeOptions, 'outputs'> & { output?: string } = {}): string {
    return this.node(opType, inputs, attrs, { ...options, outputs: options.output ? [options.output] : 1 })[0];
  }

  output(name: string, dtype: DataType = 'float32', shape: Shape = null): void {
    this.outputs.push({ name, type: { kind: 'tensor', tensor: { dtype, shape } } });
  }

  build(): Graph {
    return {
      name: this.name,
      nodes: [...this.nodes],
      inputs: [...this.inputs],
      outputs: [...this.outputs],
      valueInfo: [],
      initializers: [...this.initializers],
      sparseInitializers: [],
    };
  }

  model(opset = 17, extra: Partial<Model> = {}): Model {
    return {
      format: 'onnx',
      irVersion: 8,
      opsetImports: [{ domain: '', version: opset }],
      producerName: 'layerscope',
      metadataProps: [],
      functions: [],
      ...extra,
      graph: this.build(),
    };
  }
}
