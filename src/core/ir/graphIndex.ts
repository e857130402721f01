import type { Graph, Node } from './types';

/**
 * Producer and consumer maps and a topological order for one graph level. Built once per analysis; the graph itself
 * stays plain data.
 *
 * Values visible in a subgraph but defined in an enclosing graph (outer-scope names) are passed as `outerNames` so
 * that they do not count as dangling.
 */
export interface GraphIndex {
  graph: Graph;
  /** Node that produces each value; graph inputs and initializers have none. */
  producer: Map<string, Node>;
  /** Nodes that read each value, in graph order. */
  consumers: Map<string, Node[]>;
  /** Nodes in an order where every producer comes before its consumers. */
  order: Node[];
  /** Names that are graph inputs, initializers or outer-scope values. */
  sources: Set<string>;
  initializerNames: Set<string>;
}

/** Problems that make a graph unusable; the CLI turns these into exit code 2. */
export class GraphStructureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GraphStructureError';
  }
}

/**
 * Index a graph and check its structure: every value produced once, every input produced somewhere, no cycles.
 * Throws GraphStructureError with a message that names the offending node and value.
 */
export function indexGraph(graph: Graph, outerNames: ReadonlySet<string> = new Set()): GraphIndex {
  const producer = new Map<string, Node>();
  const consumers = new Map<string, Node[]>();
  const initializerNames = new Set<string>();
  for (const t of graph.initializers) initializerNames.add(t.name);
  for (const s of graph.sparseInitializers) initializerNames.add(s.values.name);
  const sources = new Set<string>(outerNames);
  for (const v of graph.inputs) sources.add(v.name);
  for (const n of initializerNames) sources.add(n);

  for (const node of graph.nodes) {
    for (const out of node.outputs) {
      if (out === '') continue;
      const previous = producer.get(out);
      if (previous) {
        throw new GraphStructureError(
          `duplicate output name '${out}': produced by node '${previous.name || previous.opType}' and node '${node.name || node.opType}'`,
        );
      }
      if (graph.inputs.some((i) => i.name === out) && !initializerNames.has(out)) {
        throw new GraphStructureError(`node '${node.name || node.opType}' writes '${out}', which is a graph input`);
      }
      producer.set(out, node);
    }
  }

  const inDegree = new Map<Node, number>();
  for (const node of graph.nodes) {
    let degree = 0;
    for (const name of new Set(node.inputs)) {
      if (name === '') continue;
      const list = consumers.get(name);
      if (list) list.push(node);
      else consumers.set(name, [node]);
      if (producer.has(name)) degree++;
      else if (!sources.has(name)) {
        throw new GraphStructureError(
          `node '${node.name || node.opType}' reads '${name}', which no node, input or initializer produces`,
        );
      }
    }
    inDegree.set(node, degree);
  }

  // Kahn's algorithm, seeded in file order so that the result is stable and close to what the exporter wrote.
  const order: Node[] = [];
  const ready: Node[] = graph.nodes.filter((n) => inDegree.get(n) === 0);
  let head = 0;
  while (head < ready.length) {
    const node = ready[head++];
    order.push(node);
    for (const out of node.outputs) {
      if (out === '') continue;
      for (const consumer of consumers.get(out) ?? []) {
        const d = (inDegree.get(consumer) ?? 0) - 1;
        inDegree.set(consumer, d);
        if (d === 0) ready.push(consumer);
      }
    }
  }
  if (order.length !== graph.nodes.length) {
    const stuck = graph.nodes.find((n) => (inDegree.get(n) ?? 0) > 0);
    throw new GraphStructureError(
      `the graph has a cycle through node '${stuck ? stuck.name || stuck.opType : '?'}'`,
    );
  }
  return { graph, producer, consumers, order, sources, initializerNames };
}
