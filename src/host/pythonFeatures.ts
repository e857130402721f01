import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Model } from '../core/ir/types';
import { sitePackagesOf } from '../core/python/imports';
import { loadPythonFrontEnd, lowerPythonModel } from '../core/open';
import type { HostServices } from './hostServices';
import { PythonDocumentCache, defaultShapeSetting, hoverMarkdown, lensAt, mainModuleOf, moduleAt } from './pythonDocuments';
import type { DocumentAnalysis, PythonDocumentOptions } from './pythonDocuments';
import { exportWithPyTorch } from './pythonExport';
import { pythonInterpreter } from './pythonInterpreter';
import { canRunPythonCommand } from './trustedPythonCommand';
import { VERIFY_COMMAND, registerPythonVerify } from './pythonVerify';
import { lensKey } from './pythonVerifyCache';

/**
 * The PyTorch-source features of the editor: CodeLens with parameter counts and output shapes above layers and
 * classes, hovers with the formulas, shape-mismatch warnings, "Inspect Model at Cursor" and "Export with PyTorch".
 * The analysis is static (tree-sitter plus a small interpreter), so it runs in Restricted Mode too; only the export
 * executes code and is gated on workspace trust.
 */

/** Edits closer together than this are analysed once, after the last one. */
const DEBOUNCE_MS = 250;

const SELECTOR: vscode.DocumentSelector = [{ language: 'python' }];

/** Internal command behind the CodeLens probe actions; not in the palette. */
const PROBE_CLASS_COMMAND = 'layerscope.probePythonClass';

export async function registerPythonFeatures(context: vscode.ExtensionContext, deps: HostServices): Promise<void> {
  const wasmDir = path.join(context.extensionPath, 'dist');
  const parser = await loadPythonFrontEnd(wasmDir);
  const cache = new PythonDocumentCache(parser, readOptions());
  const diagnostics = vscode.languages.createDiagnosticCollection('layerscope');
  const lensChanged = new vscode.EventEmitter<void>();
  const timers = new Map<string, NodeJS.Timeout>();
  context.subscriptions.push(diagnostics, lensChanged, { dispose: () => timers.forEach((t) => clearTimeout(t)) });

  const analyze = (doc: vscode.TextDocument): DocumentAnalysis | undefined => {
    try {
      const result = cache.analyze({ key: doc.uri.toString(), version: doc.version, getText: () => doc.getText(), ...(doc.uri.scheme === 'file' ? { path: doc.uri.fsPath } : {}) });
      if (!result.stale) publishDiagnostics(diagnostics, doc, result);
      return result;
    } catch (error) {
      // The analysis is best effort: a bug in it must not break the editor, only cost the lenses of this file.
      deps.log.error(`PyTorch source analysis of ${doc.uri.fsPath} failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      return undefined;
    }
  };

  const schedule = (doc: vscode.TextDocument): void => {
    if (doc.languageId !== 'python') return;
    const key = doc.uri.toString();
    const previous = timers.get(key);
    if (previous) clearTimeout(previous);
    timers.set(
      key,
      setTimeout(() => {
        timers.delete(key);
        analyze(doc);
        if (doc.uri.scheme === 'file') reanalyzeDependants([doc.uri.fsPath]);
        lensChanged.fire();
      }, DEBOUNCE_MS),
    );
  };

  // A document's analysis is cached by its own version, and its import statements replay the modules they bound, so
  // an edit to a module it imports (typed in the editor, saved, or changed on disk) must drop that analysis.
  const reanalyzeDependants = (files: readonly string[]): void => {
    const keys = new Set(files.flatMap((f) => cache.dependants(f)));
    for (const doc of vscode.workspace.textDocuments) {
      const key = doc.uri.toString();
      if (doc.languageId !== 'python' || !keys.has(key) || files.includes(doc.uri.fsPath)) continue;
      cache.forget(key);
      analyze(doc);
    }
    if (keys.size > 0) lensChanged.fire();
  };

  // Files changed outside the editor (a git checkout, a formatter) are gathered and handled after a pause. A file that
  // appears or disappears can resolve or break an import that no cache records, so it re-analyses every open file.
  const changedOnDisk = new Set<string>();
  let created = false;
  let diskTimer: NodeJS.Timeout | undefined;
  const onDisk = (uri: vscode.Uri, appeared: boolean): void => {
    if (uri.scheme !== 'file') return;
    changedOnDisk.add(uri.fsPath);
    created ||= appeared;
    if (diskTimer) clearTimeout(diskTimer);
    diskTimer = setTimeout(() => {
      diskTimer = undefined;
      const files = [...changedOnDisk];
      changedOnDisk.clear();
      if (created) {
        created = false;
        for (const doc of vscode.workspace.textDocuments) {
          if (doc.languageId !== 'python') continue;
          cache.forget(doc.uri.toString());
          analyze(doc);
        }
        lensChanged.fire();
      } else reanalyzeDependants(files);
    }, DEBOUNCE_MS);
  };
  const watcher = vscode.workspace.createFileSystemWatcher('**/*.py');
  context.subscriptions.push(
    watcher,
    watcher.onDidChange((uri) => onDisk(uri, false)),
    watcher.onDidCreate((uri) => onDisk(uri, true)),
    watcher.onDidDelete((uri) => onDisk(uri, true)),
    { dispose: () => diskTimer && clearTimeout(diskTimer) },
  );

  // The environment is found in the background; until then imports are followed in the workspace only.
  const refreshEnvironment = async (): Promise<void> => {
    try {
      environmentRoots = await sitePackages();
    } catch {
      environmentRoots = [];
    }
    cache.setOptions(readOptions());
    for (const doc of vscode.workspace.textDocuments) if (doc.languageId === 'python') analyze(doc);
    lensChanged.fire();
  };
  void refreshEnvironment();

  context.subscriptions.push(
    vscode.workspace.onDidChangeTextDocument((e) => schedule(e.document)),
    vscode.workspace.onDidOpenTextDocument((doc) => schedule(doc)),
    vscode.workspace.onDidCloseTextDocument((doc) => {
      cache.forget(doc.uri.toString());
      diagnostics.delete(doc.uri);
      // Closed with unsaved changes, the module's text is the file's again for the files that import it.
      if (doc.languageId === 'python' && doc.uri.scheme === 'file') reanalyzeDependants([doc.uri.fsPath]);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('layerscope.pythonPath')) void refreshEnvironment();
      if (e.affectsConfiguration('layerscope.defaultInputShape') || e.affectsConfiguration('layerscope.codeLens.enabled')) {
        cache.setOptions(readOptions());
        for (const doc of vscode.workspace.textDocuments) if (doc.languageId === 'python') analyze(doc);
        lensChanged.fire();
      }
    }),
  );

  const verifier = registerPythonVerify(context, deps, analyze, lensChanged);

  context.subscriptions.push(
    vscode.languages.registerCodeLensProvider(SELECTOR, {
      onDidChangeCodeLenses: lensChanged.event,
      provideCodeLenses(doc) {
        if (!vscode.workspace.getConfiguration('layerscope', doc.uri).get<boolean>('codeLens.enabled', true)) return [];
        // While an edit is pending, the last analysis is shown rather than re-running on every keystroke.
        const result = timers.has(doc.uri.toString()) ? cache.peek(doc.uri.toString()) ?? analyze(doc) : analyze(doc);
        if (!result) return [];
        // Lenses that "Verify with Python" checked show PyTorch's figures with a ✓ while the text is the one verified.
        const verifiedLenses = result.stale ? new Map<string, { title: string; tooltip: string }>() : verifier.decorate(doc, result.analysis.lenses);
        return result.analysis.lenses
          .filter((l) => l.line < doc.lineCount)
          .flatMap((l) => {
            const range = new vscode.Range(l.line, 0, l.line, 0);
            const canInspect = l.kind === 'class' || l.kind === 'instance';
            const exact = verifiedLenses.get(lensKey(l.line, l.kind));
            const lenses = [
              new vscode.CodeLens(range, {
                title: exact?.title ?? l.title,
                tooltip: exact ? exact.tooltip : l.hover.join('\n').replace(/`/g, ''),
                command: canInspect ? 'layerscope.inspectModelAtCursor' : '',
                arguments: canInspect ? [doc.uri, l.line] : [],
              }),
            ];
            if (canInspect && verifier.offered(doc)) {
              lenses.push(new vscode.CodeLens(range, { title: '$(beaker) Verify with Python', tooltip: "Layerscope: build this model with your own PyTorch and check these figures (runs the file's code)", command: VERIFY_COMMAND, arguments: [doc.uri, l.line] }));
            }
            // A model class also offers the probes, which run on it lowered from source (trusted workspaces only).
            if (canInspect && deps.isTrusted()) {
              lenses.push(
                new vscode.CodeLens(range, { title: '$(pulse) Probe activations', tooltip: 'Layerscope: Run Activation Probe on this model', command: PROBE_CLASS_COMMAND, arguments: [doc.uri, l.line, 'layerscope.runActivationProbe'] }),
                new vscode.CodeLens(range, { title: '$(graph-line) Gradients', tooltip: 'Layerscope: Run Gradient Probe on this model', command: PROBE_CLASS_COMMAND, arguments: [doc.uri, l.line, 'layerscope.runGradientProbe'] }),
              );
            }
            return lenses;
          });
      },
    }),
    vscode.languages.registerHoverProvider(SELECTOR, {
      provideHover(doc, position) {
        const result = cache.peek(doc.uri.toString()) ?? analyze(doc);
        if (!result) return undefined;
        const lens = lensAt(result.analysis, position.line, position.character);
        if (!lens) return undefined;
        const md = new vscode.MarkdownString(hoverMarkdown(lens));
        return new vscode.Hover(md, new vscode.Range(lens.range.line, lens.range.column, lens.range.endLine, lens.range.endColumn));
      },
    }),
  );

  // Python files open in the inspector through the same loader path as ONNX files.
  // An inspector opened on one class keys its panel as file.py#ClassName, so probes run from it load that class.
  deps.registerModelLoader('python', async (uri) => {
    const doc = await vscode.workspace.openTextDocument(uri.with({ fragment: '' }));
    return (await modelFor(doc, undefined, analyze, deps, uri.fragment || undefined)).model;
  });

  context.subscriptions.push(
    vscode.commands.registerCommand('layerscope.inspectModelAtCursor', async (uriArg?: vscode.Uri, lineArg?: number) => {
      const editor = vscode.window.activeTextEditor;
      const doc = uriArg ? await vscode.workspace.openTextDocument(uriArg) : editor?.document;
      if (!doc || doc.languageId !== 'python') {
        void vscode.window.showInformationMessage('Layerscope: open a Python file that defines an nn.Module, then run Inspect Model at Cursor.');
        return;
      }
      const line = lineArg ?? (editor && editor.document === doc ? editor.selection.active.line : 0);
      try {
        const { model, name } = await modelFor(doc, line, analyze, deps);
        await deps.openModel(doc.uri.with({ fragment: name }), model, `${name} (${path.basename(doc.uri.fsPath)})`);
        // Beside keeps the width VS Code last gave that group, often a narrow strip; the inspector needs about half.
        // Only here: in the CodeLens probe flow the re-layout took focus from the probe's quick pick.
        await vscode.commands.executeCommand('workbench.action.evenEditorWidths');
      } catch (error) {
        void vscode.window.showErrorMessage(`Layerscope: ${error instanceof Error ? error.message : String(error)}`);
      }
    }),
    // The CodeLens probe actions: open the class's inspector, then run the probe there, so that its result has a panel.
    vscode.commands.registerCommand(PROBE_CLASS_COMMAND, async (uri: vscode.Uri, line: number, probeCommand: string) => {
      try {
        const doc = await vscode.workspace.openTextDocument(uri);
        const { model, name } = await modelFor(doc, line, analyze, deps);
        const target = doc.uri.with({ fragment: name });
        await deps.openModel(target, model, `${name} (${path.basename(doc.uri.fsPath)})`);
        await vscode.commands.executeCommand(probeCommand, target);
      } catch (error) {
        void vscode.window.showErrorMessage(`Layerscope: ${error instanceof Error ? error.message : String(error)}`);
      }
    }),
    vscode.commands.registerCommand('layerscope.exportWithPyTorch', async () => {
      const doc = vscode.window.activeTextEditor?.document;
      if (!canRunPythonCommand(doc, 'Export with PyTorch', deps.isTrusted())) return;
      const result = analyze(doc);
      const line = vscode.window.activeTextEditor?.selection.active.line ?? 0;
      const target = result ? moduleAt(result.analysis, line) : undefined;
      if (!target || !target.inputShape || target.inputShape.some((d) => typeof d !== 'number')) {
        void vscode.window.showErrorMessage('Layerscope: Export with PyTorch needs a Module class with a known input shape (a "# layerscope: input 1x3x32x32" comment above the class).');
        return;
      }
      const instance = result!.analysis.instances.find((i) => i.instance === target.instance);
      await doc.save();
      const python = await pythonInterpreter(doc.uri);
      const out = doc.uri.fsPath.replace(/\.py$/i, '') + `.${target.name}.onnx`;
      const outcome = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Layerscope: exporting ${target.name} with PyTorch…`, cancellable: false },
        () => exportWithPyTorch({ python, file: doc.uri.fsPath, className: target.name, ...(instance?.variable ? { variable: instance.variable } : {}), inputShape: target.inputShape as number[], output: out }),
      );
      if (!outcome.ok) {
        deps.log.warn(`Export with PyTorch: ${outcome.detail ?? outcome.message}`);
        void vscode.window.showErrorMessage(`Layerscope: ${outcome.message}`);
        return;
      }
      await deps.openModelFile(vscode.Uri.file(out));
    }),
  );

  for (const doc of vscode.workspace.textDocuments) if (doc.languageId === 'python') analyze(doc);
}

/** Site-packages folders of the Python environment, found once it is known (see sitePackages below). */
let environmentRoots: string[] = [];

function readOptions(): PythonDocumentOptions {
  const shape = defaultShapeSetting(vscode.workspace.getConfiguration('layerscope').get<string>('defaultInputShape', ''));
  // Imports are looked for in the workspace folders and then in the environment's site-packages, read as files.
  const importRoots = [...(vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath), ...environmentRoots];
  return { ...(shape ? { defaultInputShape: shape } : {}), importRoots, openText: unsavedPythonText };
}

/** The text of a Python file open in the editor with unsaved changes: imports of it follow what the user sees. */
function unsavedPythonText(file: string): { text: string; version: number } | undefined {
  const doc = vscode.workspace.textDocuments.find((d) => d.isDirty && d.uri.scheme === 'file' && d.uri.fsPath === file);
  return doc ? { text: doc.getText(), version: doc.version } : undefined;
}

/**
 * The site-packages of the Python interpreter (the Python extension's, else `layerscope.pythonPath`, else python3 on
 * the PATH), found on the filesystem: the interpreter is never run for this.
 */
async function sitePackages(): Promise<string[]> {
  let exe = await pythonInterpreter(vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(process.cwd()));
  if (!path.isAbsolute(exe)) {
    const found = (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, exe)).find((p) => fs.existsSync(p));
    if (!found) return [];
    exe = found;
  }
  return sitePackagesOf(exe);
}

function publishDiagnostics(collection: vscode.DiagnosticCollection, doc: vscode.TextDocument, result: DocumentAnalysis): void {
  collection.set(
    doc.uri,
    result.analysis.diagnostics.map((d) => {
      const diagnostic = new vscode.Diagnostic(new vscode.Range(d.range.line, d.range.column, d.range.endLine, d.range.endColumn), d.message, vscode.DiagnosticSeverity.Warning);
      diagnostic.source = 'layerscope';
      return diagnostic;
    }),
  );
}

/** Lowers the model under the cursor (or the file's main model) to the IR for the inspector, through core/open.ts. */
async function modelFor(
  doc: vscode.TextDocument,
  line: number | undefined,
  analyze: (doc: vscode.TextDocument) => DocumentAnalysis | undefined,
  deps: HostServices,
  className?: string,
): Promise<{ model: Model; name: string }> {
  const result = analyze(doc);
  if (!result) throw new Error(`${path.basename(doc.uri.fsPath)} could not be analysed; see the Layerscope output`);
  const named = className ? result.analysis.modules.find((m) => m.name === className) : undefined;
  const target = named ?? (line === undefined ? mainModuleOf(result.analysis) : moduleAt(result.analysis, line));
  if (!target) throw new Error(`${path.basename(doc.uri.fsPath)} defines no torch.nn.Module subclass`);
  deps.log.info(`lowering ${target.name} from ${doc.uri.fsPath} with input ${target.inputShape?.join('x') ?? '(none)'}`);
  const model = await lowerPythonModel(target, result.analysis, {
    file: doc.uri.fsPath,
    shapeHint: 'add a "# layerscope: input 1x3x32x32" comment above the class, or set layerscope.defaultInputShape, so that its shapes are known',
  });
  return { model, name: target.name };
}
