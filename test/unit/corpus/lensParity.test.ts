import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { summarizeModel } from '../../../src/core/analysis/summary';
import type { LayerSummary, ReceptiveField } from '../../../src/core/analysis/types';
import type { ModuleAnalysis, PythonAnalysis } from '../../../src/core/python/analyze';
import type { RfState } from '../../../src/core/python/layerShapes';
import { lowerModuleToModel } from '../../../src/core/python/lower';
import { totalParams } from '../../../src/core/python/values';
import { analyze } from '../core/python/helpers';

/**
 * The editor's lens path (the interpreter's per-layer shapes, MACs and receptive fields) and the lowered summary (the
 * same model converted to the IR and run through the core's shape, MAC and receptive-field rules, which the ONNX path
 * uses) must print the same numbers for every layer. For every sample and every hand-written corpus file, each torch
 * layer the lens shows a number for is compared with the lowered nodes that carry its module path.
 */

const SAMPLES = path.join(__dirname, '../../../samples/python');
const CORPUS = path.join(__dirname, '../../fixtures/python/corpus');
const userCases = JSON.parse(fs.readFileSync(path.join(CORPUS, 'userCases.json'), 'utf8')) as Array<{ file: string; expr: string; input?: number[] }>;

function rfOf(rf: ReceptiveField | null): string {
  if (!rf) return 'none';
  return rf.global ? 'global' : `${rf.size.join('x')}/${rf.stride.join('x')}`;
}

function lensRf(rf: RfState | undefined): string {
  if (!rf) return 'none';
  return 'global' in rf ? 'global' : `${rf.size.join('x')}/${rf.stride.join('x')}`;
}

interface Compared {
  layers: number;
  problems: string[];
}

function compareModule(a: PythonAnalysis, m: ModuleAnalysis, file: string): Compared {
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
  for (const leaf of m.leaves) {
    const trace = a.interpreter.traces.get(leaf.layer);
    if (!trace || leaf.layer.type === 'Parameter') continue;
    const nodes = byPath.get(leaf.path) ?? [];
    const where = `${file}: ${m.name}.${leaf.path} (${leaf.layer.type})`;
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

describe('python: the lens path and the lowered summary print the same per-layer numbers', function () {
  this.timeout(120_000);
  const files = [
    ...fs.readdirSync(SAMPLES).filter((f) => f.endsWith('.py')).map((f) => ({ file: path.join(SAMPLES, f), inputs: {} as Record<string, number[]> })),
    ...[...new Set(userCases.map((c) => c.file))].map((f) => ({
      file: path.join(CORPUS, f),
      inputs: Object.fromEntries(userCases.filter((c) => c.file === f && c.input).map((c) => [/^\w+/.exec(c.expr)![0], c.input!])),
    })),
  ];
  for (const { file, inputs } of files) {
    it(path.relative(path.join(__dirname, '../../..'), file), async () => {
      const a = await analyze(fs.readFileSync(file, 'utf8'), { inputShapes: inputs });
      const problems: string[] = [];
      let layers = 0;
      for (const m of a.modules) {
        const r = compareModule(a, m, path.basename(file));
        layers += r.layers;
        problems.push(...r.problems);
      }
      assert.deepEqual(problems, []);
      void layers;
    });
  }
});
