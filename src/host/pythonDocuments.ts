import type { Parser, Tree } from 'web-tree-sitter';
import type { Dim } from '../core/ir/types';
import { analyzeTree, parseShapeText } from '../core/python/analyze';
import type { LensInfo, ModuleAnalysis, PythonAnalysis } from '../core/python/analyze';
import { mainModule } from '../core/python/summary';
import type { SourceRange } from '../core/python/values';

/**
 * The editor-independent half of the PyTorch-source features: it analyses documents by version, keeps the last good
 * analysis while the user is mid-edit, and answers "what is at this position" for hovers and Inspect Model at
 * Cursor. It never imports 'vscode', so that the behaviour is unit-tested without an editor.
 */

/** What the cache needs from an editor document. */
export interface PythonDocumentLike {
  /** A stable key for the document, such as its URI string. */
  key: string;
  version: number;
  getText(): string;
}

export interface DocumentAnalysis {
  version: number;
  analysis: PythonAnalysis;
  /**
   * True when the current text has syntax errors and this is the last analysis of a version that parsed cleanly:
   * lenses stay put instead of flickering away while a line is half typed.
   */
  stale: boolean;
}

export interface PythonDocumentOptions {
  /** `layerscope.defaultInputShape`, for classes without a `# layerscope: input …` comment. */
  defaultInputShape?: Dim[];
}

/** Parses the `layerscope.defaultInputShape` setting; an empty or malformed value means "none". */
export function defaultShapeSetting(text: string | undefined): Dim[] | undefined {
  if (!text || text.trim() === '') return undefined;
  return parseShapeText(text) ?? undefined;
}

/** A cached analysis with the syntax tree it points into (tree-sitter trees live in wasm memory until deleted). */
interface Entry {
  result: DocumentAnalysis;
  tree: Tree;
}

export class PythonDocumentCache {
  private readonly current = new Map<string, Entry>();
  private readonly lastGood = new Map<string, Entry>();

  constructor(private readonly parser: Parser, private options: PythonDocumentOptions = {}) {}

  /** Settings changed: every cached analysis is dropped, because shapes depend on them. */
  setOptions(options: PythonDocumentOptions): void {
    this.options = options;
    for (const key of [...this.current.keys(), ...this.lastGood.keys()]) this.forget(key);
  }

  /** The analysis for this version of the document, computed at most once per version. Never throws on bad syntax. */
  analyze(doc: PythonDocumentLike): DocumentAnalysis {
    const cached = this.current.get(doc.key);
    if (cached && cached.result.version === doc.version) return this.peek(doc.key)!;
    const text = doc.getText();
    const tree = this.parser.parse(text);
    if (!tree) throw new Error('the Python parser returned no tree');
    let analysis: PythonAnalysis;
    try {
      analysis = analyzeTree(tree, text, this.options.defaultInputShape ? { defaultInputShape: this.options.defaultInputShape } : {});
    } catch (error) {
      tree.delete();
      throw error;
    }
    // The tree stays alive with the analysis: Inspect Model at Cursor lowers the module later by re-running its
    // forward code, which reads the syntax nodes.
    const entry: Entry = { result: { version: doc.version, analysis, stale: false }, tree };
    const previous = [this.current.get(doc.key), this.lastGood.get(doc.key)];
    this.current.set(doc.key, entry);
    const good = this.lastGood.get(doc.key);
    // A file that has never parsed cleanly shows its newest partial analysis; one that has keeps its last clean one.
    if (!analysis.hasSyntaxErrors || !good || good.result.analysis.hasSyntaxErrors) this.lastGood.set(doc.key, entry);
    this.release(doc.key, previous);
    return this.peek(doc.key)!;
  }

  /**
   * The cached analysis without computing one (for hovers racing an edit). While the current text has syntax
   * errors this is the last version that parsed cleanly, marked stale.
   */
  peek(key: string): DocumentAnalysis | undefined {
    const c = this.current.get(key);
    if (!c) return undefined;
    const good = this.lastGood.get(key);
    if (!c.result.analysis.hasSyntaxErrors || !good || good === c) return c.result;
    return { ...good.result, stale: true };
  }

  forget(key: string): void {
    const previous = [this.current.get(key), this.lastGood.get(key)];
    this.current.delete(key);
    this.lastGood.delete(key);
    this.release(key, previous);
  }

  /** Deletes the trees of entries that neither map holds any more. */
  private release(key: string, entries: Array<Entry | undefined>): void {
    const live = new Set([this.current.get(key), this.lastGood.get(key)]);
    const done = new Set<Tree>();
    for (const e of entries) {
      if (e && !live.has(e) && !done.has(e.tree)) {
        done.add(e.tree);
        e.tree.delete();
      }
    }
  }
}

function contains(r: SourceRange, line: number, column: number): boolean {
  if (line < r.line || line > r.endLine) return false;
  if (line === r.line && column < r.column) return false;
  if (line === r.endLine && column > r.endColumn) return false;
  return true;
}

/** The lens whose range holds the position, preferring the innermost (a layer over its Sequential over its class). */
export function lensAt(analysis: PythonAnalysis, line: number, column: number): LensInfo | undefined {
  const candidates = analysis.lenses.filter((l) => l.kind !== 'class' && contains(l.range, line, column));
  candidates.sort((a, b) => (a.range.endLine - a.range.line) - (b.range.endLine - b.range.line));
  if (candidates[0]) return candidates[0];
  return analysis.lenses.find((l) => l.kind === 'class' && l.line === line);
}

/**
 * The model to inspect for a cursor position: the module-level instantiation on that line, else the innermost Module
 * class around the cursor, else the file's last class. Undefined when the file defines no Module.
 */
export function moduleAt(analysis: PythonAnalysis, line: number): ModuleAnalysis | undefined {
  const inst = analysis.instances.find((i) => line >= i.range.line && line <= i.range.endLine);
  if (inst) {
    const m = analysis.modules.find((mm) => mm.instance === inst.instance);
    if (m) return m;
    return { name: inst.className, range: inst.range, instance: inst.instance, params: inst.params, macs: inst.macs, inputShape: inst.inputShape, outputShape: inst.outputShape, leaves: [] };
  }
  const around = analysis.modules.filter((m) => line >= m.range.line && line <= m.range.endLine);
  around.sort((a, b) => (a.range.endLine - a.range.line) - (b.range.endLine - b.range.line));
  return around[0] ?? analysis.modules[analysis.modules.length - 1];
}

/**
 * The model a .py file stands for when it is opened as a whole (probes, the inspector's loader): the same main model
 * that `layerscope summary` reports, so that the editor and the CLI agree.
 */
export function mainModuleOf(analysis: PythonAnalysis): ModuleAnalysis | undefined {
  const main = mainModule(analysis);
  if (!main) return undefined;
  if (!('variable' in main)) return main;
  return analysis.modules.find((m) => m.instance === main.instance) ?? moduleAt(analysis, main.range.line);
}

/** The Markdown of a hover: the lens's lines, one paragraph each. */
export function hoverMarkdown(lens: LensInfo): string {
  return [`**Layerscope** · ${lens.title}`, ...lens.hover].join('\n\n');
}
