import type { Graph, Node } from '../../ir/types';

/**
 * A topological order of one graph's nodes that never throws. The reader and the CLI reject malformed graphs with
 * precise messages (graphIndex.ts); shape inference only needs an order, and on a cycle it reports the problem and
 * appends the nodes it could not order in file order so that every node still gets a type.
 */
export function orderNodes(graph: Graph): { order: Node[]; cyclic: Node | undefined } {
  const nodes = graph.nodes;
  const producerIndex = new Map<string, number>();
  for (let i = 0; i < nodes.length; i++) {
    for (const out of nodes[i].outputs) if (out !== '' && !producerIndex.has(out)) producerIndex.set(out, i);
  }
  const inDegree = new Int32Array(nodes.length);
  const consumers: number[][] = new Array<number[]>(nodes.length);
  let sorted = true;
  for (let i = 0; i < nodes.length; i++) {
    for (const name of nodes[i].inputs) {
      if (name === '') continue;
      const p = producerIndex.get(name);
      if (p === undefined) continue;
      if (p >= i) sorted = false;
      inDegree[i]++;
      (consumers[p] ??= []).push(i);
    }
  }
  // Exporters almost always write nodes in order already; then the file order is the answer.
  if (sorted) return { order: [...nodes], cyclic: undefined };
  const order: Node[] = [];
  const ready: number[] = [];
  for (let i = 0; i < nodes.length; i++) if (inDegree[i] === 0) ready.push(i);
  const done = new Uint8Array(nodes.length);
  for (let head = 0; head < ready.length; head++) {
    const i = ready[head];
    order.push(nodes[i]);
    done[i] = 1;
    for (const j of consumers[i] ?? []) if (--inDegree[j] === 0) ready.push(j);
  }
  let cyclic: Node | undefined;
  if (order.length < nodes.length) {
    for (let i = 0; i < nodes.length; i++) {
      if (!done[i]) {
        cyclic ??= nodes[i];
        order.push(nodes[i]);
      }
    }
  }
  return { order, cyclic };
}
