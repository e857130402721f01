import type { Tree } from 'web-tree-sitter';
import type { Dim } from '../ir/types';
import { CacheConflict, DirectRun } from './analysisCache';
import type { AnalysisCache, AnalysisRun, DefaultModule } from './analysisCache';
import { RunAbandoned, rangeOf } from './trace';
import type { Interpreter } from './interpreter';
import type { Diagnostic, LayerTrace } from './trace';
import { formatShape } from './layerShapes';
import type { RfState } from './layerShapes';
import type { ClassValue, LayerValue, ParamCount, SourceRange, Value } from './values';
import { formatCount } from './values';
import { formatBinaryBytes, formatScaled } from '../format';
import { namedRows } from './rebase';
import type { Rebaser } from './rebase';
import { totalParams, unknownReason } from './params';
import type { SyntaxNode } from './syntax';
import type { Importer } from './imports';
import { MAX_PYTHON_SOURCE_BYTES } from '../limits';

/**
 * Everything the editor and the CLI show for one Python file: per-class totals, per-line lenses with hovers, and
 * shape diagnostics. It is computed from a tree-sitter tree, which is error-tolerant, so a half-typed line costs
 * only the statements it breaks.
 */

export interface AnalyzeOptions {
  /** Used for classes without a `# layerscope: input …` comment, for example [1, 3, 32, 32]. */
  defaultInputShape?: Dim[];
  /** Input shapes by class name, which win over comments (the CLI's --input-shape). */
  inputShapes?: Record<string, Dim[]>;
  /**
   * The cache of the previous analysis of the same document, which this analysis updates: what the edit since then
   * cannot have changed is replayed instead of recomputed. The result is the same as without it.
   */
  cache?: AnalysisCache;
  /** Follows imports to other files (imports.ts); without it imported names stay opaque. */
  importer?: Importer;
  /** The analysed file's path, for relative imports and its own folder. */
  file?: string;
}

/** One leaf layer of a module, in the order PyTorch registers it. */
export interface LeafLayer {
  path: string;
  layer: LayerValue;
  trace?: LayerTrace;
}

export interface ModuleAnalysis {
  name: string;
  range: SourceRange;
  /** The instance analysed: built with the arguments of an instantiation in the file, or else with the defaults. */
  instance: LayerValue;
  params: ParamCount | null;
  reason?: string;
  macs: number | null;
  inputShape: Dim[] | null;
  outputShape: Dim[] | null;
  leaves: LeafLayer[];
  /** The line of the module-level instantiation whose arguments were used, if any. */
  instantiatedAt?: number;
}

export interface InstanceAnalysis {
  className: string;
  /** The assigned name (`model`), or '' for a bare expression. */
  variable: string;
  range: SourceRange;
  instance: LayerValue;
  params: ParamCount | null;
  reason?: string;
  macs: number | null;
  inputShape: Dim[] | null;
  outputShape: Dim[] | null;
}

export interface LensInfo {
  /** 0-based line of the lens. */
  line: number;
  range: SourceRange;
  kind: 'layer' | 'container' | 'class' | 'instance';
  title: string;
  params: number | null;
  macs: number | null;
  outputShape: Dim[] | null;
  /** Markdown lines for the hover. */
  hover: string[];
  /** The layers built on this line (layer and container lenses), which exact mode matches to PyTorch's modules. */
  layers?: readonly LayerValue[];
}

export interface PythonAnalysis {
  modules: ModuleAnalysis[];
  instances: InstanceAnalysis[];
  lenses: LensInfo[];
  diagnostics: Diagnostic[];
  /** True when the tree has syntax errors (the results cover what parsed). */
  hasSyntaxErrors: boolean;
  interpreter: Interpreter;
}

export { MAX_PYTHON_SOURCE_BYTES };

/** The one-line refusal for a source over MAX_PYTHON_SOURCE_BYTES, or undefined when it is within it. */
export function sourceTooLarge(bytes: number, name = 'the file'): string | undefined {
  if (bytes <= MAX_PYTHON_SOURCE_BYTES) return undefined;
  return `${name} is ${formatBinaryBytes(bytes)}, more than the ${MAX_PYTHON_SOURCE_BYTES / 1024 / 1024} MiB of Python source Layerscope analyses`;
}

/** Thousands separators as en-US writes them; toLocaleString is far slower, and lenses format thousands of numbers. */
const fmt = formatCount;

/** Parses `1x3x32x32` (also `1×3×32×32` or `1,3,32,32`) into dims. */
export function parseShapeText(text: string): Dim[] | null {
  const parts = text.trim().split(/\s*[x×,]\s*/i).filter((p) => p.length > 0);
  if (parts.length === 0) return null;
  const dims: Dim[] = [];
  for (const p of parts) {
    if (/^\d+$/.test(p)) dims.push(Number(p));
    else if (/^[A-Za-z_]\w*$/.test(p)) dims.push(p);
    else return null;
  }
  return dims;
}

/** The `# layerscope: input 1x3x32x32` comment directly above a class (decorators and blank lines in between are fine). */
export function inputShapeComment(source: string | string[], classLine: number): Dim[] | null {
  const lines = typeof source === 'string' ? source.split('\n') : source;
  for (let l = classLine - 1; l >= 0 && l >= classLine - 10; l--) {
    const t = lines[l].trim();
    if (t === '' || t.startsWith('@')) continue;
    if (!t.startsWith('#')) break;
    const m = /layerscope:\s*input\s+([\w×x,\s]+)/i.exec(t);
    if (m) return parseShapeText(m[1]);
  }
  return null;
}

function nameTree(layer: LayerValue, prefix: string, leaves: LeafLayer[], interp: Interpreter): void {
  for (const [name, child] of layer.children) {
    const path = prefix ? `${prefix}.${name}` : name;
    child.path = path;
    if (child.category === 'torch') {
      const trace = interp.traces.get(child);
      leaves.push({ path, layer: child, ...(trace ? { trace } : {}) });
    } else nameTree(child, path, leaves, interp);
  }
}

/**
 * Sum of the MACs of every traced torch layer in the tree, each module once with all of its calls (a module shared
 * or called in a loop counts per call, as PyTorch's hooks see it); null when a layer with parameters was not traced.
 */
function treeMacs(layer: LayerValue, interp: Interpreter, seen = new Set<LayerValue>()): number | null {
  if (seen.has(layer)) return 0;
  seen.add(layer);
  if (layer.category === 'torch' || (layer.torchType && layer.own && layer.own.params > 0)) {
    const t = interp.traces.get(layer);
    if (!t) return layer.own && layer.own.params === 0 ? 0 : null;
    return t.totalMacs !== undefined ? t.totalMacs : t.macs;
  }
  let sum = 0;
  for (const [, c] of layer.children) {
    const m = treeMacs(c, interp, seen);
    if (m === null) return null;
    sum += m;
  }
  return sum;
}

function within(r: SourceRange, outer: SourceRange): boolean {
  return !r.file && !outer.file && r.line >= outer.line && r.endLine <= outer.endLine;
}

function rfText(rf: RfState | undefined): string | undefined {
  if (!rf) return undefined;
  if ('global' in rf) return 'receptive field: the whole input';
  return `receptive field so far: ${rf.size.join('×')}, stride ${rf.stride.join('×')}`;
}

/** A replaying run that meets a cached value it must not share starts again; past this many tries it replays nothing. */
const REPLAY_ATTEMPTS = 3;

export function analyzeTree(tree: Tree, source: string, options: AnalyzeOptions = {}): PythonAnalysis {
  const hasSyntaxErrors = tree.rootNode.hasError;
  const cache = options.cache;
  if (!cache) {
    // Nothing will be replayed, so the analysis reads the tree itself (which must outlive it wherever its forward code
    // is run again, as lowering does) rather than copying the syntax into snapshots first.
    const statements = tree.rootNode.namedChildren.filter((n): n is NonNullable<typeof n> => n !== null).map((node) => ({ node }));
    return analyzeStatements(new DirectRun(), statements, source, options, hasSyntaxErrors);
  }
  try {
    const statements = cache.load(tree.rootNode, source);
    for (let attempt = 1; ; attempt++) {
      const run = cache.begin(attempt <= REPLAY_ATTEMPTS);
      try {
        const analysis = analyzeStatements(run, statements, source, options, hasSyntaxErrors);
        cache.commit(run, statements);
        return analysis;
      } catch (e) {
        // The conflict has already dropped the cached result it met; the next try runs that part afresh.
        if (!(e instanceof CacheConflict)) throw e;
      } finally {
        run.end();
      }
    }
  } catch (e) {
    // A half-updated cache could replay results of a version that no longer exists.
    cache.clear();
    throw e;
  }
}

function analyzeStatements<S extends { readonly node: SyntaxNode }>(run: AnalysisRun<S>, statements: S[], source: string, options: AnalyzeOptions, hasSyntaxErrors: boolean): PythonAnalysis {
  const interp = run.interpreter;
  if (options.importer) interp.importer = options.importer;
  if (options.file) interp.file = options.file;
  const classes: ClassValue[] = [];
  const instantiations: Array<{ layer: LayerValue; variable: string; node: SyntaxNode; stmt: S; index: number }> = [];
  for (const statement of statements) {
    const stmt = statement.node;
    run.statement(statement, () => interp.execTopLevel(stmt));
    if (stmt.type === 'class_definition' || (stmt.type === 'decorated_definition' && stmt.childForFieldName('definition')?.type === 'class_definition')) {
      const def = stmt.type === 'class_definition' ? stmt : stmt.childForFieldName('definition')!;
      const v = interp.globals.get(def.childForFieldName('name')?.text ?? '');
      if (v && v.kind === 'class' && sameNode(v.node as SyntaxNode, def) && v.isModule) classes.push(v);
      continue;
    }
    const found: Array<{ layer: LayerValue; variable: string; node: SyntaxNode }> = [];
    collectInstantiations(stmt, interp.globals, found);
    found.forEach((f, index) => instantiations.push({ ...f, stmt: statement, index }));
  }

  const modules: ModuleAnalysis[] = [];
  const instances: InstanceAnalysis[] = [];
  // Split once: a file with many classes looks up one comment per class.
  let lines: string[] | undefined;
  const inputFor = (cls: ClassValue, instance?: LayerValue): Dim[] | null =>
    options.inputShapes?.[cls.name] ?? options.inputShapes?.['input'] ?? (cls.range.file ? null : inputShapeComment((lines ??= source.split('\n')), cls.range.line)) ?? options.defaultInputShape ?? (instance ? linearInput(instance) : null);

  // Summaries and lenses are derived from an instance and its traces, which a replayed instance brings unchanged, so
  // they are reused with it as long as what else they show (names, lines, shapes) is the same too.
  const lensLists: LensInfo[][] = [];
  const instanceLenses: LensInfo[] = [];
  for (const inst of instantiations) {
    const cls = inst.layer.classRef!;
    const inputShape = inputFor(cls, inst.layer);
    const outputShape = run.shapes(inst.stmt, inst.index, inst.layer, inputShape, () => (inputShape ? runShapes(interp, inst.layer, inputShape) : null));
    const range = rangeOf(inst.node);
    const derived = run.derive(
      inst.layer,
      'instance',
      [inst.variable, range, inputShape, outputShape],
      () => {
        const summary = summarizeInstance(cls.name, inst.variable, range, inst.layer, inputShape, outputShape, interp);
        return { summary, lenses: [instanceLens(summary)] };
      },
      moveInstanceResult,
    );
    instances.push(derived.summary);
    instanceLenses.push(...derived.lenses);
  }

  for (const cls of classes) {
    const used = instances.find((i) => i.instance.classRef === cls);
    const requested = used ? null : inputFor(cls);
    const { instance, inputShape, output } = used
      ? { instance: used.instance, inputShape: used.inputShape, output: used.outputShape }
      : run.defaultModule(cls, requested, () => defaultModule(interp, cls, requested));
    const derived = run.derive(
      instance,
      'module',
      [cls.name, cls.range, inputShape, output, used?.range ?? null],
      () => {
        const summary = summarizeModule(cls, instance, inputShape, output, used, interp);
        return { summary, lenses: moduleLenses(summary, interp) };
      },
      moveModuleResult,
    );
    modules.push(derived.summary);
    lensLists.push(derived.lenses);
  }

  const lenses = mergeLenses([...lensLists, instanceLenses]);
  const seen = new Set<string>();
  // Messages about another file's lines (code of an imported module) would land on the wrong lines here.
  const diagnostics = interp.diagnostics.filter((d) => {
    if (d.range.file) return false;
    const key = `${d.range.line}:${d.range.column}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { modules, instances, lenses, diagnostics, hasSyntaxErrors, interpreter: interp };
}

/** The class lens's hover line that names the instantiation whose arguments were used. */
function countedWith(row: number): string {
  return `Counted with the arguments of line ${row + 1}.`;
}

/**
 * The lenses of an instance or a class whose source moved by whole lines (analysisCache.ts): the same lenses on the new
 * lines, with the moved copies of their layers; undefined when one of their texts names a line that moved, except the
 * texts that `rewrite` puts on the new lines.
 */
function moveLenses(lenses: readonly LensInfo[], r: Rebaser, rewrite?: { from: string; to: string }): LensInfo[] | undefined {
  const out: LensInfo[] = [];
  for (const l of lenses) {
    const line = r.line(l.line);
    if (line === undefined || !textsStay([l.title], r)) return undefined;
    let hover = l.hover;
    const at = rewrite ? hover.indexOf(rewrite.from) : -1;
    if (at >= 0) hover = hover.map((t, k) => (k === at ? rewrite!.to : t));
    if (!textsStay(at >= 0 ? hover.filter((_, k) => k !== at) : hover, r)) return undefined;
    out.push({ ...l, line, range: r.range(l.range), hover, ...(l.layers ? { layers: l.layers.map((x) => r.layer(x)) } : {}) });
  }
  return out;
}

/** Whether the lines that texts name stay where they are. */
function textsStay(texts: ReadonlyArray<string | undefined>, r: Rebaser): boolean {
  // Most texts name no line at all; only those that do are searched.
  if (!texts.some((t) => t !== undefined && t.includes('line '))) return true;
  for (const row of namedRows(texts)) if (r.line(row) !== row) return false;
  return true;
}

function moveInstanceResult(result: { summary: InstanceAnalysis; lenses: LensInfo[] }, r: Rebaser): typeof result | undefined {
  const lenses = moveLenses(result.lenses, r);
  if (!lenses || !textsStay([result.summary.reason], r)) return undefined;
  return { summary: { ...result.summary, range: r.range(result.summary.range), instance: r.layer(result.summary.instance) }, lenses };
}

function moveModuleResult(result: { summary: ModuleAnalysis; lenses: LensInfo[] }, r: Rebaser): typeof result | undefined {
  const m = result.summary;
  const from = m.instantiatedAt;
  const to = from === undefined ? undefined : r.line(from);
  if (from !== undefined && to === undefined) return undefined;
  const lenses = moveLenses(result.lenses, r, from === undefined ? undefined : { from: countedWith(from), to: countedWith(to!) });
  if (!lenses || !textsStay([m.reason], r)) return undefined;
  const summary: ModuleAnalysis = {
    ...m,
    range: r.range(m.range),
    instance: r.layer(m.instance),
    leaves: m.leaves.map((leaf) => ({ ...leaf, layer: r.layer(leaf.layer), ...(leaf.trace ? { trace: r.trace(leaf.trace) } : {}) })),
    ...(to !== undefined ? { instantiatedAt: to } : {}),
  };
  return { summary, lenses };
}

function summarizeInstance(className: string, variable: string, range: SourceRange, instance: LayerValue, inputShape: Dim[] | null, outputShape: Dim[] | null, interp: Interpreter): InstanceAnalysis {
  const params = totalParams(instance);
  const reason = params ? undefined : unknownReason(instance);
  return { className, variable, range, instance, params, ...(reason ? { reason } : {}), macs: inputShape ? treeMacs(instance, interp) : null, inputShape, outputShape };
}

function summarizeModule(cls: ClassValue, instance: LayerValue, inputShape: Dim[] | null, outputShape: Dim[] | null, used: InstanceAnalysis | undefined, interp: Interpreter): ModuleAnalysis {
  const leaves: LeafLayer[] = [];
  nameTree(instance, '', leaves, interp);
  const params = totalParams(instance);
  const reason = params ? undefined : unknownReason(instance);
  return {
    name: cls.name,
    range: cls.range,
    instance,
    params,
    ...(reason ? { reason } : {}),
    macs: inputShape ? treeMacs(instance, interp) : null,
    inputShape,
    outputShape,
    leaves,
    ...(used ? { instantiatedAt: used.range.line } : {}),
  };
}

/**
 * Whether the class bound to a name is the one this statement defined (and not a later definition of the same name).
 * Tree-sitter makes a new node object on every access, so nodes compare by what they are.
 */
function sameNode(a: SyntaxNode, b: SyntaxNode): boolean {
  if (a === b) return true;
  const [as, bs, ae, be] = [a.startPosition, b.startPosition, a.endPosition, b.endPosition];
  return a.type === b.type && as.row === bs.row && as.column === bs.column && ae.row === be.row && ae.column === be.column;
}

/** A class that no instance uses, built with its constructor's defaults and shaped with the input it asks for. */
function defaultModule(interp: Interpreter, cls: ClassValue, requested: Dim[] | null): DefaultModule {
  let instance: LayerValue;
  try {
    interp.resetBudget();
    instance = interp.instantiate(cls, [], new Map(), cls.range);
  } catch (e) {
    if (e instanceof RunAbandoned) throw e;
    instance = { kind: 'layer', type: cls.name, category: 'user', args: new Map(), children: [], own: null, range: cls.range, incomplete: 'the constructor could not be followed' };
  }
  const inputShape = requested ?? linearInput(instance);
  return { instance, inputShape, output: inputShape ? runShapes(interp, instance, inputShape) : null };
}

/**
 * A model whose first layer is Linear (after an optional Flatten) takes one sample of `in_features` values, so its
 * shapes are known without a comment. Nothing else is guessed.
 */
function linearInput(instance: LayerValue): Dim[] | null {
  const first: LayerValue[] = [];
  const walk = (l: LayerValue): void => {
    for (const [, c] of l.children) {
      if (first.length >= 2) return;
      if (c.category === 'torch') first.push(c);
      else walk(c);
    }
  };
  walk(instance);
  const lin = first[0]?.type === 'Flatten' ? first[1] : first[0];
  if (!lin || lin.type !== 'Linear') return null;
  const fin = lin.args.get('in_features');
  return fin && fin.kind === 'num' && fin.isInt ? [1, fin.value] : null;
}

function runShapes(interp: Interpreter, layer: LayerValue, inputShape: Dim[]): Dim[] | null {
  try {
    interp.resetBudget();
    const out = interp.shapes(() => interp.callLayer(layer, [{ kind: 'tensor', shape: [...inputShape] }], new Map(), layer.classRef!.node as SyntaxNode));
    if (out.kind === 'tensor') return out.shape;
    if (out.kind === 'seq' && out.items[0]?.kind === 'tensor') return out.items[0].shape;
    return null;
  } catch (e) {
    if (e instanceof RunAbandoned) throw e;
    return null;
  }
}

function collectInstantiations(stmt: SyntaxNode, scope: Map<string, Value>, out: Array<{ layer: LayerValue; variable: string; node: SyntaxNode }>): void {
  if (stmt.type === 'if_statement') {
    for (const s of stmt.childForFieldName('consequence')?.namedChildren ?? []) if (s) collectInstantiations(s, scope, out);
    return;
  }
  if (stmt.type !== 'expression_statement') return;
  const e = stmt.namedChild(0);
  if (!e || e.type !== 'assignment') return;
  const left = e.childForFieldName('left');
  const right = e.childForFieldName('right');
  if (!left || left.type !== 'identifier' || !right || right.type !== 'call') return;
  const v = scope.get(left.text);
  // Built by this statement: a constructor call on this line, or a factory function (`model = resnet18()`) that
  // returns a module it built.
  const fn = right.childForFieldName('function');
  const factory = (fn?.type === 'identifier' && scope.get(fn.text)?.kind === 'func') || fn?.type === 'attribute';
  if (v && v.kind === 'layer' && v.category === 'user' && !v.plain && v.classRef && (v.range.line === right.startPosition.row || v.range.file || factory) && !out.some((o) => o.layer === v)) {
    out.push({ layer: v, variable: left.text, node: right });
  }
}

export function paramsText(p: number | null): string {
  return p === null ? '? params' : `${fmt(p)} params`;
}

/** The class lens and the per-line lenses inside the class. */
function moduleLenses(m: ModuleAnalysis, interp: Interpreter): LensInfo[] {
  const p = m.params ? m.params.params : null;
  const hover = [`**${m.name}**: ${paramsText(p)}${m.params && m.params.buffers ? ` (+${fmt(m.params.buffers)} buffer values)` : ''}`];
  if (m.reason) hover.push(`Unknown because ${m.reason}.`);
  if (m.instantiatedAt !== undefined) hover.push(countedWith(m.instantiatedAt));
  if (m.inputShape) hover.push(`Input ${formatShape(m.inputShape)} → output ${formatShape(m.outputShape)}`);
  const lenses: LensInfo[] = [
    {
      line: m.range.line,
      range: m.range,
      kind: 'class',
      title: `${paramsText(p)}${m.macs !== null && m.macs > 0 ? ` · ${formatScaled(m.macs, 'MACs')}` : ''}`,
      params: p,
      macs: m.macs,
      outputShape: m.outputShape,
      hover,
    },
  ];
  // Per-line lenses: every constructor call inside this class's source, grouped by line.
  const byLine = new Map<number, LayerValue[]>();
  // A layer built on the same line as its container (a comprehension inside ModuleList) is counted by the container.
  const walk = (layer: LayerValue, parentLine: number): void => {
    for (const [, c] of layer.children) {
      if (within(c.range, m.range) && c.range.line !== parentLine) {
        const list = byLine.get(c.range.line) ?? [];
        if (!list.includes(c)) list.push(c);
        byLine.set(c.range.line, list);
      }
      if (c.category !== 'user' || !within(c.range, m.range)) walk(c, c.range.line);
    }
  };
  walk(m.instance, -1);
  for (const [line, layers] of byLine) lenses.push(lineLens(line, layers, interp));
  return lenses;
}

function instanceLens(inst: InstanceAnalysis): LensInfo {
  const p = inst.params ? inst.params.params : null;
  const hover = [`**${inst.variable || inst.className}** = ${inst.className}(…): ${paramsText(p)}`];
  if (inst.reason) hover.push(`Unknown because ${inst.reason}.`);
  if (inst.inputShape) hover.push(`Input ${formatShape(inst.inputShape)} → output ${formatShape(inst.outputShape)}`);
  return {
    line: inst.range.line,
    range: inst.range,
    kind: 'instance',
    title: `${paramsText(p)}${inst.macs !== null && inst.macs > 0 ? ` · ${formatScaled(inst.macs, 'MACs')}` : ''}`,
    params: p,
    macs: inst.macs,
    outputShape: inst.outputShape,
    hover,
  };
}

/** Every lens in line order; two analyses can reach the same line (a class used by another): the first per kind wins. */
function mergeLenses(lists: LensInfo[][]): LensInfo[] {
  const lenses = lists.flat();
  lenses.sort((a, b) => a.line - b.line);
  // Lenses of a line are next to each other after the sort, so a repeated kind is found among them.
  return lenses.filter((l, k) => {
    for (let j = k - 1; j >= 0 && lenses[j].line === l.line; j--) if (lenses[j].kind === l.kind) return false;
    return true;
  });
}

function lineLens(line: number, layers: LayerValue[], interp: Interpreter): LensInfo {
  const first = layers[0];
  const counts = layers.map((l) => totalParams(l));
  const known = counts.every((c) => c !== null);
  const total = known ? counts.reduce((a, c) => a + c!.params, 0) : null;
  const trace = interp.traces.get(first);
  const out = trace?.output ?? null;
  const kind: LensInfo['kind'] = first.category === 'torch' ? 'layer' : 'container';
  let title: string;
  if (layers.length > 1) {
    const each = counts[0]?.params;
    const same = known && counts.every((c) => c!.params === each);
    title = same ? `${layers.length} × ${fmt(each!)} params` : `${layers.length} layers · ${paramsText(total)}`;
  } else title = paramsText(total);
  if (out && layers.length === 1) title += ` · → ${formatShape(out.slice(1).length > 0 ? out.slice(1) : out)}`;
  let macs: number | null = null;
  if (first.category !== 'torch' && layers.length === 1) {
    macs = treeMacsPublic(first, interp);
    if (macs !== null && macs > 0) title += ` · ${formatScaled(macs, 'MACs')}`;
  } else if (trace) macs = trace.macs;
  const hover: string[] = [];
  for (const l of layers.slice(0, 3)) {
    if (l.formula) hover.push(`\`${l.formula}\``);
    else if (l.category !== 'torch') hover.push(`**${l.type}**: ${paramsText(totalParams(l)?.params ?? null)}`);
    const reason = unknownReason(l) ?? (l.category === 'torch' && !l.own ? l.reason : undefined);
    if (reason) hover.push(`Unknown because ${reason}.`);
  }
  if (layers.length > 3) hover.push(`… and ${layers.length - 3} more on this line`);
  if (trace) {
    hover.push(`Output ${formatShape(trace.output)} (input ${formatShape(trace.input)})`);
    if (trace.sizeFormula) hover.push(`Output size ⌊(W − F + 2P)/S⌋ + 1: ${trace.sizeFormula}`);
    if (trace.unknownBecause) hover.push(`Part of the output shape is unknown because ${trace.unknownBecause}.`);
    const rf = rfText(trace.rf);
    if (rf) hover.push(rf);
    if (trace.macs !== null && trace.macs > 0) hover.push(`${fmt(trace.macs)} MACs`);
  }
  return { line, range: first.range, kind, title, params: total, macs, outputShape: out, hover, layers };
}

function treeMacsPublic(layer: LayerValue, interp: Interpreter): number | null {
  return interp.traces.has(layer) || layer.children.some(([, c]) => interp.traces.has(c)) ? treeMacs(layer, interp) : null;
}
