import { summarizeModel } from '../../../src/core/analysis/summary';
import type { LayerSummary, ReceptiveField } from '../../../src/core/analysis/types';
import type { InstanceAnalysis, ModuleAnalysis, PythonAnalysis } from '../../../src/core/python/analyze';
import type { RfState } from '../../../src/core/python/layerShapes';
import { lowerModuleToModel } from '../../../src/core/python/lower';
import type { LayerValue } from '../../../src/core/python/values';
import { totalParams } from '../../../src/core/python/params';

/**
 * Compares the lens path's per-layer numbers (the interpreter's traces) with the lowered summary's (the model
 * converted to the IR and run through the core's rules): output shape, parameters, MACs and receptive field of every
 * torch layer the lens shows a number for, against the nodes that carry the layer's module path.
 */

function rfOf(rf: ReceptiveField | null): string {
  if (!rf) return 'none';
  return rf.global ? 'global' : `${rf.size.join('x')}/${rf.stride.join('x')}`;
}

function lensRf(rf: RfState | undefined): string {
  if (!rf) return 'none';
  return 'global' in rf ? 'global' : `${rf.size.join('x')}/${rf.stride.join('x')}`;
}

export interface Compared {
  layers: number;
  problems: string[];
}

export function compareLensWithLowered(a: PythonAnalysis, m: ModuleAnalysis | InstanceAnalysis, file: string): Compared {
  const out: Compared = { layers: 0, problems: [] };
  if (!m.inputShape || !m.params) return out;
  let layers: LayerSummary[];
  try {
    const model = lowerModuleToModel(m, { inputShape: m.inputShape, init: 'zeros', interpreter: a.interpreter, file });
    // In the order the lowering emitted the nodes, which is the order of the calls.
    const emitted = new Map(model.graph.nodes.map((n, i) => [n.name, i]));
    layers = summarizeModel(model).layers.sort((x, y) => emitted.get(x.name)! - emitted.get(y.name)!);
  } catch {
    return out;
  }
  // The nodes of each module path's first call: the lens shows a layer's first call, and a layer called twice (one
  // ReLU after two branches) has its calls' nodes apart in the graph.
  const byPath = new Map<string, LayerSummary[]>();
  const closed = new Set<string>();
  let previous = '';
  for (const l of layers) {
    const scope = l.name.startsWith('/') ? l.name.slice(1, l.name.lastIndexOf('/')).replace(/\//g, '.') : '';
    if (scope !== previous) closed.add(previous);
    previous = scope;
    if (!closed.has(scope)) byPath.set(scope, [...(byPath.get(scope) ?? []), l]);
  }
  const leaves: Array<{ path: string; layer: LayerValue }> = [];
  const walk = (layer: LayerValue, prefix: string): void => {
    for (const [name, child] of layer.children) {
      const at = prefix ? `${prefix}.${name}` : name;
      if (child.category === 'torch') leaves.push({ path: at, layer: child });
      else walk(child, at);
    }
  };
  walk(m.instance, '');
  const label = 'name' in m ? m.name : m.variable;
  for (const leaf of leaves) {
    const trace = a.interpreter.traces.get(leaf.layer);
    if (!trace || leaf.layer.type === 'Parameter') continue;
    const nodes = byPath.get(leaf.path) ?? [];
    const where = `${file}: ${label}.${leaf.path} (${leaf.layer.type})`;
    if (nodes.length === 0) {
      // A layer that lowers to nothing (Identity, Dropout in inference) passes its input through.
      continue;
    }
    out.layers++;
    const last = nodes[nodes.length - 1];
    const lowered = last.outputs[0]?.shape ?? null;
    if (trace.output && JSON.stringify(trace.output) !== JSON.stringify(lowered)) out.problems.push(`${where}: lens shape ${JSON.stringify(trace.output)}, lowered ${JSON.stringify(lowered)}`);
    const own = totalParams(leaf.layer);
    const loweredParams = nodes.reduce((s, n) => s + n.params, 0);
    if (own && own.params + own.buffers !== loweredParams) out.problems.push(`${where}: lens params ${own.params} + ${own.buffers} buffers, lowered ${loweredParams}`);
    const loweredMacs = nodes.reduce((s, n) => s + n.macs, 0);
    if (trace.macs !== null && trace.macs !== loweredMacs) out.problems.push(`${where}: lens MACs ${trace.macs}, lowered ${loweredMacs}`);
    if (trace.rf && lensRf(trace.rf) !== rfOf(last.receptiveField)) out.problems.push(`${where}: lens receptive field ${lensRf(trace.rf)}, lowered ${rfOf(last.receptiveField)}`);
  }
  return out;
}

