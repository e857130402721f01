import type { Attribute, Graph, Node, Tensor } from './types';

/**
 * Typed attribute look-ups with ONNX defaults. Shape rules, analyses and the autodiff builder all read attributes
 * through these, so a missing or mistyped attribute is handled in one place.
 */

export function findAttribute(node: Node, name: string): Attribute | undefined {
  return node.attributes.find((a) => a.name === name);
}

export function getInt(node: Node, name: string, fallback: number): number;
export function getInt(node: Node, name: string): number | undefined;
export function getInt(node: Node, name: string, fallback?: number): number | undefined {
  const a = findAttribute(node, name);
  return a && a.type === 'int' ? a.value : fallback;
}

export function getFloat(node: Node, name: string, fallback: number): number;
export function getFloat(node: Node, name: string): number | undefined;
export function getFloat(node: Node, name: string, fallback?: number): number | undefined {
  const a = findAttribute(node, name);
  if (a && a.type === 'float') return a.value;
  if (a && a.type === 'int') return a.value;
  return fallback;
}

export function getString(node: Node, name: string, fallback: string): string;
export function getString(node: Node, name: string): string | undefined;
export function getString(node: Node, name: string, fallback?: string): string | undefined {
  const a = findAttribute(node, name);
  return a && a.type === 'string' ? a.value : fallback;
}

export function getInts(node: Node, name: string): number[] | undefined {
  const a = findAttribute(node, name);
  if (a && a.type === 'ints') return a.value;
  if (a && a.type === 'int') return [a.value];
  return undefined;
}

export function getFloats(node: Node, name: string): number[] | undefined {
  const a = findAttribute(node, name);
  if (a && a.type === 'floats') return a.value;
  if (a && a.type === 'float') return [a.value];
  return undefined;
}

export function getStrings(node: Node, name: string): string[] | undefined {
  const a = findAttribute(node, name);
  return a && a.type === 'strings' ? a.value : undefined;
}

export function getTensor(node: Node, name: string): Tensor | undefined {
  const a = findAttribute(node, name);
  return a && a.type === 'tensor' ? a.value : undefined;
}

export function getGraph(node: Node, name: string): Graph | undefined {
  const a = findAttribute(node, name);
  return a && a.type === 'graph' ? a.value : undefined;
}

/** Every subgraph a node carries (If branches, Loop and Scan bodies), for walkers that descend into them. */
export function subgraphsOf(node: Node): Graph[] {
  const out: Graph[] = [];
  for (const a of node.attributes) {
    if (a.type === 'graph') out.push(a.value);
    else if (a.type === 'graphs') out.push(...a.value);
  }
  return out;
}
