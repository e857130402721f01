import type { Parser, Tree } from 'web-tree-sitter';
import type { Dim } from '../core/ir/types';
import * as path from 'node:path';
import { AnalysisCache } from '../core/python/analysisCache';
import { ImportResolver } from '../core/python/imports';
import type { Importer, OpenModuleText } from '../core/python/imports';
import { evaluateImportedModule } from '../core/python/interpreter';
import { MAX_PYTHON_SOURCE_BYTES, analyzeTree, parseShapeText, sourceTooLarge } from '../core/python/analyze';
import type { LensInfo, ModuleAnalysis, PythonAnalysis } from '../core/python/analyze';
import { reparse } from '../core/python/reparse';
import type { ParsedText } from '../core/python/reparse';
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
  /** The file's path on disk, when it has one: imports are followed from its folder. */
  path?: string;
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
  /**
   * Folders imports are looked for in after the file's own: the workspace folders and the site-packages of the
   * Python environment. Imports are followed only for documents with a file path.
   */
  importRoots?: string[];
  /** The unsaved text of a Python file open in the editor, which imports of it follow instead of the file on disk. */
  openText?: (file: string) => OpenModuleText | undefined;
}

/** Parses the `layerscope.defaultInputShape` setting; an empty or malformed value means "none". */
export function defaultShapeSetting(text: string | undefined): Dim[] | undefined {
  if (!text || text.trim() === '') return undefined;
  return parseShapeText(text) ?? undefined;
}

/**
 * What the next version of a document is analysed from: the tree of this version, which the next parse reuses, and
 * the analysis cache, which lets the next analysis redo only what the edit can change.
 */
interface DocumentState {
  parsed: ParsedText;
  cache: AnalysisCache;
}

export class PythonDocumentCache {
  private readonly current = new Map<string, DocumentAnalysis>();
  private readonly lastGood = new Map<string, DocumentAnalysis>();
  private readonly states = new Map<string, DocumentState>();
  /** Import resolvers by their roots; each keeps the modules it read until the options change. */
  private readonly resolvers = new Map<string, ImportResolver>();
  /**
   * The modules each document's analyses loaded, with the resolver that read them, kept (as a union over versions,
   * because a replayed import statement does not load again) until the document is forgotten.
   */
  private readonly imports = new Map<string, { resolver: ImportResolver; files: Set<string> }>();

  constructor(private readonly parser: Parser, private options: PythonDocumentOptions = {}) {}

  /** Settings changed: every cached analysis is dropped, because shapes depend on them. */
  setOptions(options: PythonDocumentOptions): void {
    this.options = options;
    for (const r of this.resolvers.values()) r.dispose();
    this.resolvers.clear();
    for (const key of new Set([...this.current.keys(), ...this.lastGood.keys(), ...this.states.keys()])) this.forget(key);
  }

  /** The analysis for this version of the document, computed at most once per version. Never throws on bad syntax. */
  analyze(doc: PythonDocumentLike): DocumentAnalysis {
    const cached = this.current.get(doc.key);
    if (cached && cached.version === doc.version) return this.peek(doc.key)!;
    const full = doc.getText();
    // A source past the size limit is analysed as empty, with one diagnostic that says why.
    const tooLarge = full.length > MAX_PYTHON_SOURCE_BYTES / 4 ? sourceTooLarge(Buffer.byteLength(full, 'utf8')) : undefined;
    const text = tooLarge ? '' : full;
    const state = this.states.get(doc.key);
    this.states.delete(doc.key);
    let tree: Tree;
    try {
      tree = reparse(this.parser, text, state?.parsed);
    } finally {
      // Reparsing edits the old tree into the new one's base; afterwards it describes neither version.
      state?.parsed.tree.delete();
    }
    const cache = state?.cache ?? new AnalysisCache();
    this.states.set(doc.key, { parsed: { text, tree }, cache });
    // Analyses hold snapshots of the syntax, never the tree, so they stay usable (Inspect Model at Cursor lowers a
    // module later by re-running its forward code) after the tree has been replaced.
    const importer = doc.path ? this.importerFor(doc.key, [path.dirname(doc.path), ...(this.options.importRoots ?? [])]) : undefined;
    const analysis = analyzeTree(tree, text, { ...(this.options.defaultInputShape ? { defaultInputShape: this.options.defaultInputShape } : {}), cache, ...(importer && doc.path ? { importer, file: doc.path } : {}) });
    if (tooLarge) analysis.diagnostics.push({ range: { line: 0, column: 0, endLine: 0, endColumn: 0 }, message: tooLarge });
    const result: DocumentAnalysis = { version: doc.version, analysis, stale: false };
    this.current.set(doc.key, result);
    const good = this.lastGood.get(doc.key);
    // A file that has never parsed cleanly shows its newest partial analysis; one that has keeps its last clean one.
    if (!analysis.hasSyntaxErrors || !good || good.analysis.hasSyntaxErrors) this.lastGood.set(doc.key, result);
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
    if (!c.analysis.hasSyntaxErrors || !good || good === c) return c;
    return { ...good, stale: true };
  }

  /**
   * The keys of the analysed documents that import `file` (an absolute path), directly or through other modules: when
   * it changes, their analyses are out of date although their own text is not.
   */
  dependants(file: string): string[] {
    const out: string[] = [];
    for (const [key, { resolver, files }] of this.imports) {
      const seen = new Set<string>();
      if ([...files].some((f) => resolver.reaches(f, file, seen))) out.push(key);
    }
    return out;
  }

  /** The document's importer: the shared resolver of its roots, noting which modules the document loads. */
  private importerFor(key: string, roots: string[]): Importer {
    const rootsKey = roots.join('\u0000');
    let resolver = this.resolvers.get(rootsKey);
    if (!resolver) {
      resolver = new ImportResolver(this.parser, roots, evaluateImportedModule);
      this.resolvers.set(rootsKey, resolver);
    }
    resolver.openText = this.options.openText;
    let record = this.imports.get(key);
    if (!record || record.resolver !== resolver) {
      record = { resolver, files: new Set() };
      this.imports.set(key, record);
    }
    const { files } = record;
    const r = resolver;
    return {
      find: (name, level, from) => r.find(name, level, from),
      load: (file) => {
        files.add(file);
        return r.load(file);
      },
    };
  }

  forget(key: string): void {
    this.imports.delete(key);
    this.current.delete(key);
    this.lastGood.delete(key);
    this.states.get(key)?.parsed.tree.delete();
    this.states.delete(key);
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
