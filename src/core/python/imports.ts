import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Parser, Tree } from 'web-tree-sitter';
import type { Value } from './values';
import { MAX_PYTHON_SOURCE_BYTES } from '../limits';
import { readRegularFile } from '../regularFile';

/**
 * Following imports to other Python files, statically: a module is found the way Python's import system finds it
 * (relative to the importing file's package, or under each root: the analysed file's own folder, the workspace, and
 * the site-packages of a known Python environment), read as text, parsed and evaluated by the same static interpreter.
 * Nothing is ever run. Parsed and evaluated modules are cached by path, size and modification time, so a module
 * shared by many files is read once; and the work is bounded by a number of files and of bytes, past which an import
 * is left unresolved with the reason.
 *
 * Deliberate differences from Python: a package's `__init__.py` runs only when a name is imported from the package
 * itself (not before each of its submodules), and `import a.b` followed by `a.b.X` reads the submodule's file directly.
 * Modules whose text neither mentions torch nor imports relatively are not followed (their names stay opaque, as without import following).
 */

export interface ImportLimits {
  /** Files read at most, for all analyses sharing the resolver. */
  files: number;
  /** Bytes read at most, likewise. */
  bytes: number;
}

export const DEFAULT_IMPORT_LIMITS: ImportLimits = { files: 400, bytes: 24 * 1024 * 1024 };

/** What the interpreter needs to follow an import: find a module's file, and evaluate it once. */
export interface Importer {
  /** The file of module `name` (`pkg/mod.py` or `pkg/__init__.py`), `level` dots up from `from`; undefined: not found. */
  find(name: string, level: number, from: string | undefined): string | undefined;
  /** The module-level names of the file after evaluating it, or why it was not followed. */
  load(file: string): Map<string, Value> | string;
}

/** Runs a parsed module's top-level statements in a fresh interpreter whose module scope is `globals`. */
export type ModuleEvaluator = (tree: Tree, file: string, importer: Importer, globals: Map<string, Value>) => void;

/** The file each imported module's tree was read from, so that positions in it are not taken for the user's file. */
export const importedTrees = new WeakMap<object, string>();

/**
 * The text of a module that an editor holds with unsaved changes, in place of the file's: imports follow what the user
 * sees. `version` changes with every edit.
 */
export interface OpenModuleText {
  text: string;
  version: number;
}

/** A module that another loaded, as it was then: the cache entry it got, or that the file was missing. */
interface Dependency {
  file: string;
  entry: CachedModule | undefined;
  missing: boolean;
}

interface CachedModule {
  /** Which text was read: the file's size and modification time, or the open document's version. */
  stamp: string;
  /** Bytes counted against the limits for this module. */
  size: number;
  /** The modules this one loaded while it was evaluated: it is stale when any of them changed since. */
  deps: Dependency[];
  tree: Tree | null;
  globals?: Map<string, Value>;
  /** Why the module is not followed, when it is not. */
  skipped?: string;
}

/** Modules Layerscope knows by their names (torch and the standard library parts its interpreter reads). */
const KNOWN_BY_NAME = /^(torch|torchaudio\.functional|math|functools|collections|typing|typing_extensions|numpy|builtins|abc|enum|dataclasses|warnings|copy|os|sys|re|itertools|operator)(\.|$)/;

export class ImportResolver implements Importer {
  private readonly modules = new Map<string, CachedModule>();
  private files = 0;
  private bytes = 0;

  constructor(
    private readonly parser: Parser,
    readonly roots: readonly string[],
    private readonly evaluate: ModuleEvaluator,
    private readonly limits: ImportLimits = DEFAULT_IMPORT_LIMITS,
  ) {}

  find(name: string, level: number, from: string | undefined): string | undefined {
    if (level === 0 && KNOWN_BY_NAME.test(name)) return undefined;
    const parts = name ? name.split('.') : [];
    const bases: string[] = [];
    if (level > 0) {
      if (!from) return undefined;
      let dir = path.dirname(from);
      for (let k = 1; k < level; k++) dir = path.dirname(dir);
      bases.push(dir);
    } else {
      // Absolute imports search the roots only, as Python searches sys.path (whose first entry is the analysed
      // script's folder, which callers put first), whichever module imports.
      bases.push(...this.roots);
    }
    if (level > 0 && parts.length === 0) return path.join(bases[0], '__init__.py');
    for (const base of bases) {
      const stem = path.join(base, ...parts);
      if (parts.length > 0 && isFile(`${stem}.py`)) return `${stem}.py`;
      if (isFile(path.join(stem, '__init__.py'))) return path.join(stem, '__init__.py');
    }
    return undefined;
  }

  /**
   * Where open documents' unsaved texts come from (the editor); a file that it answers for is read from there instead
   * of from the disk.
   */
  openText: ((file: string) => OpenModuleText | undefined) | undefined;
  /** The dependency lists of the modules being evaluated, innermost last. */
  private readonly loading: Dependency[][] = [];

  load(file: string): Map<string, Value> | string {
    const result = this.loadModule(file);
    this.loading[this.loading.length - 1]?.push({ file, entry: this.modules.get(file), missing: typeof result === 'string' && !this.modules.has(file) && 'error' in this.stampOf(file) });
    return result;
  }

  private loadModule(file: string): Map<string, Value> | string {
    const current = this.stampOf(file);
    if ('error' in current) return current.error;
    const cached = this.modules.get(file);
    if (cached && this.fresh(file, new Set())) {
      if (cached.skipped) return cached.skipped;
      // A module being evaluated (an import cycle) gives the names bound so far, as Python's partial module does.
      return cached.globals ?? new Map();
    }
    const open = this.openText?.(file);
    const size = current.size;
    // A module read again (it changed) gives back what its earlier text counted against the limits.
    if (cached) {
      this.files--;
      this.bytes -= cached.size;
    }
    if (this.files >= this.limits.files || this.bytes + size > this.limits.bytes) {
      if (cached) this.forgetModule(file);
      return `the limit of ${this.limits.files} imported files or ${this.limits.bytes / 1024 / 1024} MiB was reached before ${path.basename(file)}`;
    }
    this.files++;
    this.bytes += size;
    const entry: CachedModule = { stamp: current.stamp, size, deps: [], tree: null };
    cached?.tree?.delete();
    this.modules.set(file, entry);
    let text: string;
    if (open) {
      if (size > MAX_PYTHON_SOURCE_BYTES) {
        entry.skipped = `${path.basename(file)} is larger than the ${MAX_PYTHON_SOURCE_BYTES / 1024 / 1024} MiB of Python source Layerscope reads`;
        return entry.skipped;
      }
      text = open.text;
    } else {
      try {
        // The same guarded read as every other input: a path swapped for a FIFO between the stat above and the read
        // must not block the analysis.
        text = readRegularFile(file, MAX_PYTHON_SOURCE_BYTES).toString('utf8');
      } catch (e) {
        entry.skipped = e instanceof Error ? e.message : `${file} cannot be read`;
        return entry.skipped;
      }
    }
    if (!file.endsWith('__init__.py') && !/\btorch\b|^\s*from\s+\./m.test(text)) {
      entry.skipped = `${path.basename(file)} does not use torch`;
      return entry.skipped;
    }
    const tree = this.parser.parse(text);
    if (!tree) {
      entry.skipped = `${file} could not be parsed`;
      return entry.skipped;
    }
    entry.tree = tree;
    importedTrees.set(tree, file);
    entry.globals = new Map();
    this.loading.push(entry.deps);
    try {
      this.evaluate(tree, file, this, entry.globals);
    } finally {
      this.loading.pop();
    }
    return entry.globals;
  }

  /**
   * Whether a module, or any module it imported, directly or through others, is `changed` (an absolute path): the
   * editor re-analyses the documents that import a file when it changes.
   */
  reaches(file: string, changed: string, seen = new Set<string>()): boolean {
    if (file === changed) return true;
    if (seen.has(file)) return false;
    seen.add(file);
    return (this.modules.get(file)?.deps ?? []).some((d) => this.reaches(d.file, changed, seen));
  }

  /** Which text the file has now (`disk:size:mtime`, or `open:version` in the editor) and its size, or why it cannot be read. */
  private stampOf(file: string): { stamp: string; size: number } | { error: string } {
    const open = this.openText?.(file);
    if (open) return { stamp: `open:${open.version}`, size: Buffer.byteLength(open.text, 'utf8') };
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      return { error: `${file} cannot be read` };
    }
    if (!stat.isFile()) return { error: `${file} is not a regular file` };
    return { stamp: `disk:${stat.size}:${stat.mtimeMs}`, size: stat.size };
  }

  /**
   * A cached module is fresh when its text is the one read and every module it imported is still the one it got (and
   * fresh, and a missing one still missing): a module whose import changed must run again, or it would keep the old
   * classes. A module in an import cycle counts as fresh while it is being checked.
   */
  private fresh(file: string, seen: Set<string>): boolean {
    if (seen.has(file)) return true;
    seen.add(file);
    const cached = this.modules.get(file);
    const now = this.stampOf(file);
    if (!cached || 'error' in now || cached.stamp !== now.stamp) return false;
    return cached.deps.every((d) => (d.entry ? this.modules.get(d.file) === d.entry && this.fresh(d.file, seen) : !d.missing || 'error' in this.stampOf(d.file)));
  }

  private forgetModule(file: string): void {
    this.modules.get(file)?.tree?.delete();
    this.modules.delete(file);
  }

  /** Releases the parsed trees. */
  dispose(): void {
    for (const m of this.modules.values()) m.tree?.delete();
    this.modules.clear();
  }
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * The site-packages folders of a Python interpreter, found on the filesystem without running it:
 * `<prefix>/lib/python3.X/site-packages` for a virtual environment or a prefix install, and for Debian's system
 * Python also `/usr/lib/python3/dist-packages` and `/usr/local/lib/python3.X/dist-packages`.
 */
export function sitePackagesOf(pythonPath: string): string[] {
  const out: string[] = [];
  let resolved = pythonPath;
  const bin = path.dirname(pythonPath);
  const prefixes = [path.dirname(bin)];
  try {
    resolved = fs.realpathSync(pythonPath);
    const real = path.dirname(path.dirname(resolved));
    if (!prefixes.includes(real)) prefixes.push(real);
  } catch {
    // A path that does not resolve still names its prefix.
  }
  const version = /python(3\.\d+)$/.exec(path.basename(resolved))?.[1];
  for (const prefix of prefixes) {
    for (const lib of ['lib', 'lib64']) {
      const libDir = path.join(prefix, lib);
      let entries: string[] = [];
      try {
        entries = fs.readdirSync(libDir).filter((d) => /^python3\.\d+$/.test(d) && (!version || d === `python${version}`));
      } catch {
        continue;
      }
      for (const d of entries) for (const sp of ['site-packages', 'dist-packages']) pushDir(out, path.join(libDir, d, sp));
    }
    if (prefix === '/usr') pushDir(out, '/usr/lib/python3/dist-packages');
  }
  return out;
}

function pushDir(out: string[], dir: string): void {
  try {
    if (fs.statSync(dir).isDirectory() && !out.includes(dir)) out.push(dir);
  } catch {
    // Not there.
  }
}
