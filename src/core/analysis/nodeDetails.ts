import type { Attribute, DataType, Dim, Model } from '../ir/types';
import type { ModelSummary } from './types';

/**
 * What the inspector's node details panel shows for one layer, as Netron's sidebar does: the node's attributes, each
 * input and output with its shape and element type, which inputs are stored weights, and the layer's parameters and
 * MACs as the summary counted them. Computed on request from the model, so the summary sent to the view stays small.
 */

export interface NodeDetailValue {
  name: string;
  shape: Dim[] | null;
  dtype: DataType | null;
  /** A stored tensor (initializer), possibly handed over through Identity nodes; its element count. */
  stored?: { elements: number; source: string };
}

export interface NodeDetails {
  layer: number;
  name: string;
  op: string;
  attributes: { name: string; value: string }[];
  inputs: NodeDetailValue[];
  outputs: NodeDetailValue[];
  params: number;
  macs: number;
  line?: number;
}

const MAX_LIST = 16;

/** An attribute as one line: lists in brackets, long lists cut with a count, tensors and graphs by shape and size. */
export function formatAttribute(a: Attribute): string {
  const list = (values: readonly (number | string)[]): string =>
    `[${values.slice(0, MAX_LIST).join(', ')}${values.length > MAX_LIST ? `, … ${values.length - MAX_LIST} more` : ''}]`;
  switch (a.type) {
    case 'float':
    case 'int':
      return String(a.value);
    case 'string':
      return a.value;
    case 'floats':
    case 'ints':
      return list(a.value);
    case 'strings':
      return list(a.value);
    case 'tensor':
      return `tensor ${a.value.dtype} [${a.value.dims.join(', ')}]`;
    case 'sparseTensor':
      return `sparse tensor [${a.value.dims.join(', ')}]`;
    case 'graph':
      return `graph '${a.value.name}' (${a.value.nodes.length} nodes)`;
    case 'graphs':
      return `${a.value.length} graphs`;
    case 'tensors':
      return `${a.value.length} tensors`;
    case 'sparseTensors':
      return `${a.value.length} sparse tensors`;
    case 'typeProto':
      return 'type';
    case 'typeProtos':
      return `${a.value.length} types`;
    case 'ref':
      return `= caller's ${a.refAttrName}`;
  }
}

/** Details of the summary's layer `layerIndex`; null when there is no such layer. */
export function nodeDetails(model: Model, summary: ModelSummary, layerIndex: number): NodeDetails | null {
  const layer = summary.layers[layerIndex];
  if (!layer) return null;
  const graph = model.graph;
  // Node outputs are unique in a valid graph, so the first output finds the node; names may be empty or repeated.
  const first = layer.outputs[0]?.name;
  const node = graph.nodes.find((n) => (first !== undefined ? n.outputs[0] === first : n.name === layer.name));
  if (!node) return null;

  const values = new Map<string, { shape: Dim[] | null; dtype: DataType | null }>();
  for (const v of summary.inputs) values.set(v.name, { shape: v.shape, dtype: v.dtype });
  for (const l of summary.layers) for (const o of l.outputs) values.set(o.name, { shape: o.shape, dtype: o.dtype ?? null });
  const stored = new Map<string, { dims: number[]; dtype: DataType }>();
  for (const t of graph.initializers) stored.set(t.name, { dims: t.dims, dtype: t.dtype });
  for (const s of graph.sparseInitializers) stored.set(s.values.name, { dims: s.dims, dtype: s.values.dtype });
  // Follow Identity chains back to the stored tensor they pass on, as the parameter count does.
  const identitySource = new Map<string, string>();
  for (const n of graph.nodes) if (n.opType === 'Identity' && n.domain === '' && n.inputs[0] && n.outputs[0]) identitySource.set(n.outputs[0], n.inputs[0]);
  const storedSource = (name: string): string | undefined => {
    for (let k = 0, at = name; k < 64; k++) {
      if (stored.has(at)) return at;
      const next = identitySource.get(at);
      if (next === undefined) return undefined;
      at = next;
    }
    return undefined;
  };
  const describe = (name: string): NodeDetailValue => {
    const source = storedSource(name);
    const t = source !== undefined ? stored.get(source)! : undefined;
    const known = values.get(name);
    const value: NodeDetailValue = {
      name,
      shape: known?.shape ?? (t ? [...t.dims] : null),
      dtype: known?.dtype ?? t?.dtype ?? null,
    };
    if (t && source !== undefined) value.stored = { elements: t.dims.reduce((a, b) => a * b, 1), source };
    return value;
  };
  const details: NodeDetails = {
    layer: layerIndex,
    name: layer.name,
    op: layer.op,
    attributes: node.attributes.map((a) => ({ name: a.name, value: formatAttribute(a) })),
    inputs: node.inputs.filter((i) => i !== '').map(describe),
    outputs: node.outputs.filter((o) => o !== '').map(describe),
    params: layer.params,
    macs: layer.macs,
  };
  if (layer.line !== undefined) details.line = layer.line;
  return details;
}
