import type { Parser } from 'web-tree-sitter';
import type { Dim } from '../core/ir/types';
import { analyzeTree, parseShapeText } from '../core/python/analyze';
import type { LensInfo, ModuleAnalysis, PythonAnalysis } from '../core/python/analyze';
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

export class PythonDocumentCache {
  private readonly current = new Map<string, DocumentAnalysis>();
  private readonly lastGood = new Map<string, DocumentAnalysis>();

  constructor(private readonly parser: Parser, private options: PythonDocumentOptions = {}) {}

  /** Settings changed: every cached analysis is dropped, because shapes depend on them. */
  setOptions(options: PythonDocumentOptions): void {
    this.options = options;
    this.current.clear();
    this.lastGood.clear();
  }

  /** The analysis for this version of the document, computed at most once per version. Never throws. */
  analyze(doc: PythonDocumentLike): DocumentAnalysis {
    const cached = this.current.get(doc.key);
    if (cached && cached.version === doc.version) return cached.stale ? this.lastGood.get(doc.key) ?? cached : cached;
    const analysis = this.run(doc.getText());
    const fresh: DocumentAnalysis = { version: doc.version, analysis, stale: false };
    if (!analysis.hasSyntaxErrors) {
      this.current.set(doc.key, fresh);
      this.lastGood.set(doc.key, fresh);
      return fresh;
    }
    const good = this.lastGood.get(doc.key);
    this.current.set(doc.key, { ...fresh, stale: good !== undefined });
    return good ? { ...good, stale: true } : fresh;
  }

  /** The cached analysis without computing one (for hovers racing an edit). */
  peek(key: string): DocumentAnalysis | undefined {
    const c = this.current.get(key);
    if (!c) return undefined;
    return c.stale ? (this.lastGood.has(key) ? { ...this.lastGood.get(key)!, stale: true } : c) : c;
  }

  forget(key: string): void {
    this.current.delete(key);
    this.lastGood.delete(key);
  }

  private run(text: string): PythonAnalysis {
    const tree = this.parser.parse(text);
    if (!tree) throw new Error('the Python parser returned no tree');
    try {
      return analyzeTree(tree, text, this.options.defaultInputShape ? { defaultInputShape: this.options.defaultInputShape } : {});
    } finally {
      tree.delete();
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

/** The Markdown of a hover: the lens's lines, one paragraph each. */
export function hoverMarkdown(lens: LensInfo): string {
  return [`**Layerscope** · ${lens.title}`, ...lens.hover].join('\n\n');
}
