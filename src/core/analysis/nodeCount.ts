import { UserInputError } from '../errors';
import { subgraphsOf } from '../ir/attributes';
import type { FunctionDef, Graph, Model, Node } from '../ir/types';
import { DEFAULT_MAX_NODES } from '../limits';
import { formatCount } from '../format';

/**
 * How many nodes a graph really has: subgraph bodies included, and every call of a model-local function counted as
 * its body, inlined, as onnxruntime and shape inference see it. A 260-byte file whose function calls itself or the
 * next one ten times over has billions of nodes by this count, and is refused before anything walks them.
 */

function functionKey(domain: string, name: string): string {
  return `${domain}\u0000${name}`;
}

/** The node count of `graph`, stopping early once it is past `limit` (the result is then just more than the limit). */
export function countNodes(graph: Graph, limit = Infinity, functions: readonly FunctionDef[] = []): number {
  const byKey = new Map(functions.map((f) => [functionKey(f.domain, f.name), f]));
  const sizes = new Map<string, number>();
  const active = new Set<string>();

  const nodeSize = (node: Node): number => {
    const key = functionKey(node.domain, node.opType);
    const fn = byKey.get(key);
    let size = 1;
    if (fn && !active.has(key)) {
      const known = sizes.get(key);
      if (known !== undefined) size = known;
      else {
        // A function that calls itself counts once: ONNX forbids recursion, and inference reports it as unknown.
        active.add(key);
        size = Math.min(nodesOf(fn.nodes), limit + 1);
        active.delete(key);
        sizes.set(key, size);
      }
    }
    for (const g of node.attributes.length > 0 ? subgraphsOf(node) : []) size += graphSize(g);
    return size;
  };
  const nodesOf = (nodes: readonly Node[]): number => {
    let total = 0;
    for (const n of nodes) {
      total += nodeSize(n);
      if (total > limit) return total;
    }
    return total;
  };
  const graphSize = (g: Graph): number => nodesOf(g.nodes);
  return graphSize(graph);
}

/** Refuses a model with more than `maxNodes` nodes by countNodes, with a message that says how to raise the limit. */
export function checkNodeCount(model: Model, maxNodes = DEFAULT_MAX_NODES): void {
  if (countNodes(model.graph, maxNodes, model.functions) > maxNodes) {
    const limit = formatCount(maxNodes);
    const inlined = model.functions.length > 0 ? ' with its model-local functions inlined' : '';
    throw new UserInputError(`the graph has more than ${limit} nodes${inlined} (limit ${limit}); raise it with --max-nodes N or the layerscope.maxNodes setting`);
  }
}
