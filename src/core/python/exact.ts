import type { ModelSummary, SourceLayerSummary, SourceModuleSummary } from '../analysis/types';
import type { Dim } from '../ir/types';
import type { InstanceAnalysis, LensInfo, ModuleAnalysis, PythonAnalysis } from './analyze';
import { paramsText } from './analyze';
import { formatScaled } from '../format';
import { formatShape } from './layerShapes';
import { mainModule } from './summary';
import type { LayerValue } from './values';
import { formatCount } from './values';

/**
 * Exact mode: what the user's own PyTorch reported about a model (through src/runtime/pythonBridge.ts), and how it is
 * laid over the static reading. Everything here is pure, so that the editor and the CLI show the same comparison and
 * it is tested without a Python.
 */

/**
 * How the bridge builds the model: a module-level variable, an expression evaluated in the module, or a name, which
 * is called with no arguments when it is a class or function and used as it is when it already holds a Module.
 */
export type ExactTarget = { kind: 'variable'; name: string } | { kind: 'expression'; expression: string } | { kind: 'call'; name: string };

/** One submodule as PyTorch reports it, in `named_modules()` order ('' is the model itself). */
export interface ExactModule {
  name: string;
  type: string;
  /** The file and 1-based line of the submodule's class (`inspect`), or null for classes without source. */
  file: string | null;
  line: number | null;
  /** True when the class is defined in the user's own folders. */
  userCode: boolean;
  /** True when the submodule has no children. */
  leaf: boolean;
  /** Parameters, deduplicated as `parameters()` does, of this submodule and everything below it. */
  params: number;
  trainable: number;
  /** Elements of floating-point buffers (running statistics). */
  buffers: number;
  /** How many times forward hooks saw it run; 0 when no input was declared or forward never called it. */
  calls: number;
  /** Shapes of every tensor in its first output, or null when it did not run. */
  outputShapes: number[][] | null;
}

export interface ExactResult {
  params: number;
  /** Bytes of the parameters and floating-point buffers, at their own element types. */
  paramBytes: number;
  trainable: number;
  buffers: number;
  inputShape: number[] | null;
  /** What the forward pass was fed: token ids for models whose first layer is an embedding, floats otherwise. */
  inputDtype: 'float32' | 'int64';
  outputShapes: number[][] | null;
  modules: ExactModule[];
  /** 'meta' (PyTorch 2 and later: no memory, no time) or 'cpu' (older PyTorch, under the memory limit). */
  device: 'meta' | 'cpu';
  /** Why a PyTorch 2 model was built on the CPU after all: what failed on the meta device. */
  metaFallback?: string;
}

/** Why a model was built on the CPU rather than on the meta device, for messages. */
export function cpuReason(result: ExactResult): string {
  return result.metaFallback ? `it could not be built on the meta device (${result.metaFallback})` : 'PyTorch below 2.0 has no meta device';
}

/** What the bridge said about itself when it started. */
export interface ExactInterpreter {
  python: string;
  torch: string;
  executable: string;
  device: 'meta' | 'cpu';
  memoryLimitMB: number | null;
}

/** The model that exact mode builds for a class or name, with the static analysis it is compared against. */
export interface ExactSelection {
  /** The class (or factory) name the user asked for. */
  name: string;
  target: ExactTarget;
  /** The static analysis of that model, when the file has one. */
  module?: ModuleAnalysis | InstanceAnalysis;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Chooses what to build, with the arguments the static path used: the module-level instantiation whose arguments
 * counted the class (`model = Net(10)` by its variable, a bare call by its text), else `Name()` with the defaults. A
 * name that is not a class in the file (a factory function such as torchvision's `resnet18`) is called with none.
 */
export function exactSelection(analysis: PythonAnalysis, source: string, name?: string): ExactSelection {
  if (name !== undefined && !IDENTIFIER.test(name)) throw new Error(`'${name}' is not a Python name`);
  const instance = name === undefined ? undefined : analysis.instances.filter((i) => i.variable === name || i.className === name).pop();
  if (name === undefined && analysis.instances.length === 0) {
    // A script whose model comes from code static reading cannot follow (a registry, a config's from_config) still
    // names it: the file's last module-level `model = …` (or `net = …`) is what it trains.
    const assigned = [...source.matchAll(/^(model|net)\s*(?::[^=\n]+)?=(?!=)/gm)].pop()?.[1];
    if (assigned) return { name: assigned, target: { kind: 'variable', name: assigned } };
  }
  const module = name === undefined ? mainModule(analysis) : (analysis.modules.find((m) => m.name === name) ?? instance);
  if (!module) {
    if (name === undefined) throw new Error('static reading found no torch.nn.Module here, and no module-level `model = …`');
    return { name, target: { kind: 'call', name } };
  }
  const inst = 'variable' in module ? module : module.instantiatedAt !== undefined ? analysis.instances.find((i) => i.range.line === module.instantiatedAt && i.instance === module.instance) : undefined;
  const className = 'variable' in module ? module.className : module.name;
  if (inst?.variable && IDENTIFIER.test(inst.variable)) return { name: className, target: { kind: 'variable', name: inst.variable }, module };
  if (inst) return { name: className, target: { kind: 'expression', expression: textOf(source, inst.range) }, module };
  return { name: className, target: { kind: 'call', name: className }, module };
}

function textOf(source: string, range: { line: number; column: number; endLine: number; endColumn: number }): string {
  const lines = source.split('\n').slice(range.line, range.endLine + 1);
  if (lines.length === 0) return '';
  lines[lines.length - 1] = lines[lines.length - 1].slice(0, range.endColumn);
  lines[0] = lines[0].slice(range.column);
  return lines.join('\n');
}

/** How one static figure compares with PyTorch's. */
export interface LensCheck {
  line: number;
  kind: LensInfo['kind'];
  staticParams: number | null;
  exactParams: number;
  staticShape: Dim[] | null;
  /** The first output shape PyTorch saw, or null when the layer did not run. */
  exactShape: number[] | null;
  /** True when the static lens showed the same parameters and, where it showed one, the same output shape. */
  agrees: boolean;
  /** The lens title with PyTorch's figures and the ✓. */
  title: string;
  /** For a lens that differed or showed `?`: one line saying what the static reading missed. */
  message?: string;
}

function sameShape(a: readonly Dim[] | null, b: readonly number[] | null): boolean {
  return a !== null && b !== null && a.length === b.length && a.every((d, i) => d === b[i]);
}

function shapeText(shape: readonly Dim[] | null): string {
  if (!shape) return '';
  return ` · → ${formatShape(shape.slice(1).length > 0 ? shape.slice(1) : shape)}`;
}

function layerSet(root: LayerValue): Set<LayerValue> {
  const out = new Set<LayerValue>([root]);
  const visit = (l: LayerValue): void => {
    for (const [, c] of l.children) {
      out.add(c);
      visit(c);
    }
  };
  visit(root);
  return out;
}

/**
 * Compares the lenses of one verified model with PyTorch's report: its class (or instance) lens and the lenses of the
 * layers built in its own body. Lenses that belong to other models are left alone, without a ✓.
 */
export function checkLenses(analysis: PythonAnalysis, selection: ExactSelection, result: ExactResult): LensCheck[] {
  const byName = new Map(result.modules.map((m) => [m.name, m]));
  const root = byName.get('');
  const module = selection.module;
  if (!root || !module) return [];
  const mine = layerSet(module.instance);
  const ran = result.inputShape !== null;
  const checks: LensCheck[] = [];
  const ownLines = new Set<number>([module.range.line]);
  if ('instantiatedAt' in module && module.instantiatedAt !== undefined) ownLines.add(module.instantiatedAt);
  for (const lens of analysis.lenses) {
    if ((lens.kind === 'class' || lens.kind === 'instance') && ownLines.has(lens.line)) {
      checks.push(check(lens, result.params, result.outputShapes?.[0] ?? null, ran));
      continue;
    }
    if (!lens.layers || lens.layers.length === 0 || !lens.layers.every((l) => mine.has(l) && l.path !== undefined)) continue;
    const found = lens.layers.map((l) => byName.get(l.path!));
    if (found.some((f) => f === undefined)) continue;
    const exact = found as ExactModule[];
    const shape = lens.layers.length === 1 ? (exact[0].outputShapes?.[0] ?? null) : null;
    checks.push(check(lens, exact.reduce((a, m) => a + m.params, 0), shape, ran));
  }
  return checks;
}

function check(lens: LensInfo, exactParams: number, exactShape: number[] | null, ran: boolean): LensCheck {
  const paramsAgree = lens.params === exactParams;
  // Shapes are compared only when PyTorch ran an input through the model (a symbolic or missing input shape runs
  // none). Then a `?` shape that PyTorch knows is a difference too.
  const shapeAgrees = !ran || (lens.outputShape === null ? exactShape === null : sameShape(lens.outputShape, exactShape));
  const agrees = paramsAgree && shapeAgrees;
  const macs = agrees && lens.macs !== null && lens.macs > 0 ? ` · ${formatScaled(lens.macs, 'MACs')}` : '';
  const shown = lens.kind === 'layer' || lens.kind === 'container' ? shapeText(exactShape) : '';
  const title = `✓ ${paramsText(exactParams)}${shown}${macs}`;
  if (agrees) return { line: lens.line, kind: lens.kind, staticParams: lens.params, exactParams, staticShape: lens.outputShape, exactShape, agrees, title };
  const missed: string[] = [];
  if (!paramsAgree) missed.push(lens.params === null ? `parameters: static reading showed ?, PyTorch counts ${formatCount(exactParams)}` : `parameters: static reading showed ${formatCount(lens.params)}, PyTorch counts ${formatCount(exactParams)}`);
  if (!shapeAgrees) missed.push(`output shape: static reading showed ${formatShape(lens.outputShape)}, PyTorch ran ${exactShape ? formatShape(exactShape) : 'no forward pass through it'}`);
  return { line: lens.line, kind: lens.kind, staticParams: lens.params, exactParams, staticShape: lens.outputShape, exactShape, agrees, title, message: `Verified with PyTorch: ${missed.join('; ')}.` };
}

/** A layer in the summary's `modules[].layers`, with the static figures kept where they differed. */
export interface ExactLayerSummary extends SourceLayerSummary {
  file?: string | null;
  staticParams?: number | null;
  staticOutputShape?: Dim[] | null;
}

export interface ExactModuleSummary extends Omit<SourceModuleSummary, 'layers'> {
  source: 'static' | 'python';
  file?: string | null;
  staticParams?: number | null;
  layers: ExactLayerSummary[];
}

/**
 * The rows of PyTorch's module tree that line up with the static layer list: every leaf, and every module that the
 * static reading treats as one layer (nn.MultiheadAttention has children in PyTorch), without what is below it.
 */
function layerRows(result: ExactResult, staticLeaves: Set<string>): ExactModule[] {
  const rows: ExactModule[] = [];
  let covered: string | null = null;
  for (const m of result.modules) {
    if (m.name === '') continue;
    if (covered !== null && m.name.startsWith(`${covered}.`)) continue;
    if (m.leaf || staticLeaves.has(m.name)) {
      rows.push(m);
      covered = m.name;
    }
  }
  return rows;
}

/**
 * `layerscope summary FILE.py --python`: the static summary with the verified model's figures replaced by PyTorch's.
 * Its `modules` entry says `source: "python"` and keeps each static figure that differed; every other module says
 * `source: "static"`. When the verified model is the one the totals describe, the totals and input/output shapes are
 * PyTorch's too; the layer graph and MACs stay only where the static parameters agreed, since they were read from the
 * same static model.
 */
export function mergeExactSummary(summary: ModelSummary, selection: ExactSelection, result: ExactResult, file: string, describesTotals: boolean): ModelSummary {
  const modules: ExactModuleSummary[] = (summary.modules ?? []).map((m) => ({ ...m, source: 'static' as const }));
  const rootType = result.modules[0]?.type ?? selection.name;
  const index = modules.findIndex((m) => m.name === selection.name || m.name === rootType);
  const previous = index >= 0 ? modules[index] : undefined;
  const staticLayers = new Map((previous?.layers ?? []).map((l) => [l.name, l]));
  const layers: ExactLayerSummary[] = layerRows(result, new Set(staticLayers.keys())).map((m) => {
    const s = staticLayers.get(m.name);
    const shape = m.outputShapes?.[0] ?? null;
    const row: ExactLayerSummary = {
      name: m.name,
      line: s?.line ?? (m.file === file && m.line !== null ? m.line : 0),
      type: m.type,
      params: m.params,
      outputShape: shape,
      file: s ? file : m.file,
    };
    if (s && s.params !== m.params) row.staticParams = s.params;
    if (s && result.inputShape !== null && !sameShape(s.outputShape, shape)) row.staticOutputShape = s.outputShape;
    return row;
  });
  const root = result.modules[0];
  const verified: ExactModuleSummary = {
    name: previous?.name ?? rootType,
    line: previous?.line ?? (root && root.file === file && root.line !== null ? root.line : 0),
    params: result.params,
    layers,
    source: 'python',
    ...(previous ? {} : { file: root?.file ?? null }),
    ...(previous && previous.params !== result.params ? { staticParams: previous.params } : {}),
  };
  if (index >= 0) modules[index] = verified;
  else modules.push(verified);

  const total = result.params + result.buffers;
  const staticOutput = summary.outputs[0]?.shape ?? null;
  const exactOutput = result.outputShapes?.[0] ?? null;
  const agreed = describesTotals && summary.totals.params === total && (result.inputShape === null || sameShape(staticOutput, exactOutput));
  const warnings = [...summary.warnings];
  if (!describesTotals) {
    warnings.push(`${verified.name} is not the file's main model, so the totals are PyTorch's without MACs or a layer graph (those come from the static reading of the main model)`);
  } else if (!agreed) {
    const what = summary.totals.params !== total ? `PyTorch counts ${formatCount(total)} parameters and buffer values where the static reading ${summary.totals.params === null ? 'could not count them' : summary.totals.params > 0 ? `counted ${formatCount(summary.totals.params)}` : 'had none'}` : `PyTorch's output shape is ${formatShape(exactOutput)} where the static reading had ${formatShape(staticOutput)}`;
    warnings.push(`${verified.name}: ${what}; MACs and the layer graph, which come from the static reading, are left out`);
  }
  return {
    ...summary,
    model: { ...summary.model, name: verified.name },
    inputs: agreed || !result.inputShape ? summary.inputs : [{ name: 'input', shape: [...result.inputShape], dtype: result.inputDtype }],
    outputs: agreed || !result.outputShapes ? summary.outputs : result.outputShapes.map((shape, i) => ({ name: i === 0 ? 'output' : `output${i}`, shape: [...shape], dtype: 'float32' })),
    totals: {
      ...summary.totals,
      params: total,
      trainableParams: result.trainable,
      nonTrainableParams: total - result.trainable,
      paramBytes: result.paramBytes,
      macs: agreed ? summary.totals.macs : null,
      activationBytes: agreed ? summary.totals.activationBytes : null,
    },
    layers: agreed ? summary.layers : [],
    warnings,
    modules: modules as SourceModuleSummary[],
  };
}
