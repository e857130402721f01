import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ExactSelection } from '../core/python/exact';
import { checkLenses, cpuReason, exactSelection } from '../core/python/exact';
import type { LensInfo } from '../core/python/analyze';
import { DEFAULT_MEMORY_LIMIT_MB, DEFAULT_TIMEOUT_MS, PythonBridge, PythonBridgeError } from '../runtime/pythonBridge';
import type { HostServices } from './hostServices';
import type { DocumentAnalysis } from './pythonDocuments';
import { moduleAt } from './pythonDocuments';
import { pythonInterpreter } from './pythonInterpreter';
import { canRunPythonCommand } from './trustedPythonCommand';
import { ExactResultCache, VerifiedDocuments, lensKey } from './pythonVerifyCache';
import { formatCount } from '../core/format';

/**
 * "Layerscope: Verify with Python" (exact mode in the editor): builds the class under the cursor with the user's own
 * PyTorch (src/runtime/pythonBridge.ts), then marks every lens of that model that PyTorch confirms with a ✓ and
 * replaces the ones that differ or showed `?` with PyTorch's figures, each with an information diagnostic saying what
 * the static reading missed. It executes the user's code, so it runs only in trusted workspaces, only on a command,
 * a CodeLens click or a save (`layerscope.python.verify`), and never on a hover.
 */

export const VERIFY_COMMAND = 'layerscope.verifyWithPython';

/** A warm interpreter that has not been used for this long is stopped, to give its memory back. */
const IDLE_STOP_MS = 10 * 60_000;

export type VerifyMode = 'off' | 'onCommand' | 'onSave';

export interface PythonVerifier {
  /** The lens as verified, when it was: PyTorch's title with the ✓, and a tooltip line. */
  decorate(doc: vscode.TextDocument, lenses: readonly LensInfo[]): Map<string, { title: string; tooltip: string }>;
  /** Whether lenses should offer the Verify action for this document. */
  offered(doc: vscode.TextDocument): boolean;
}

function verifyMode(uri?: vscode.Uri): VerifyMode {
  const v = vscode.workspace.getConfiguration('layerscope', uri).get<string>('python.verify', 'onCommand');
  return v === 'off' || v === 'onSave' ? v : 'onCommand';
}

export function registerPythonVerify(
  context: vscode.ExtensionContext,
  deps: HostServices,
  analyze: (doc: vscode.TextDocument) => DocumentAnalysis | undefined,
  lensChanged: vscode.EventEmitter<void>,
): PythonVerifier {
  const bridges = new Map<string, { bridge: PythonBridge; idle?: NodeJS.Timeout }>();
  const results = new ExactResultCache();
  const verified = new VerifiedDocuments();
  const diagnostics = vscode.languages.createDiagnosticCollection('layerscope-python');
  context.subscriptions.push(diagnostics, {
    dispose: () => {
      for (const b of bridges.values()) {
        if (b.idle) clearTimeout(b.idle);
        b.bridge.dispose();
      }
      bridges.clear();
    },
  });

  const bridgeFor = (python: string, cwd: string | undefined): PythonBridge => {
    let entry = bridges.get(python);
    if (!entry) {
      const memoryLimitMB = vscode.workspace.getConfiguration('layerscope').get<number>('python.memoryLimitMB', DEFAULT_MEMORY_LIMIT_MB);
      entry = { bridge: new PythonBridge({ python, memoryLimitMB, ...(cwd ? { cwd } : {}) }) };
      bridges.set(python, entry);
    }
    if (entry.idle) clearTimeout(entry.idle);
    const e = entry;
    e.idle = setTimeout(() => e.bridge.dispose(), IDLE_STOP_MS);
    return e.bridge;
  };

  /** Verifies one model of the document; returns a line for the user, or throws a PythonBridgeError. */
  const verify = async (doc: vscode.TextDocument, line: number | undefined, name: string | undefined, signal?: AbortSignal): Promise<string> => {
    const result = analyze(doc);
    if (!result) throw new Error(`${path.basename(doc.uri.fsPath)} could not be analysed; see the Layerscope output`);
    const text = doc.getText();
    const module = name === undefined && line !== undefined ? moduleAt(result.analysis, line) : undefined;
    const selection: ExactSelection = exactSelection(result.analysis, text, name ?? module?.name);
    const shape = selection.module?.inputShape ?? null;
    const inputShape = shape && shape.every((d) => typeof d === 'number') ? (shape as number[]) : null;
    const python = await pythonInterpreter(doc.uri);
    const folder = vscode.workspace.getWorkspaceFolder(doc.uri)?.uri.fsPath;
    const key = { content: text, python, target: selection.target, inputShape };
    let exact = results.get(key);
    if (!exact) {
      const timeoutMs = vscode.workspace.getConfiguration('layerscope', doc.uri).get<number>('python.timeoutSeconds', DEFAULT_TIMEOUT_MS / 1000) * 1000;
      const started = Date.now();
      exact = await bridgeFor(python, folder).inspect({ file: doc.uri.fsPath, target: selection.target, inputShape, ...(folder ? { roots: [folder] } : {}) }, { timeoutMs, ...(signal ? { signal } : {}) });
      deps.log.info(`verified ${selection.name} in ${doc.uri.fsPath} with ${python} in ${Date.now() - started} ms (${exact.device})`);
      results.set(key, exact);
    }
    const checks = checkLenses(result.analysis, selection, exact);
    verified.record(doc.uri.toString(), text, selection.name, checks);
    publish(doc);
    lensChanged.fire();
    const differing = checks.filter((c) => !c.agrees).length;
    const counted = `${formatCount(exact.params)} parameters`;
    const how = exact.device === 'cpu' ? ` (built on the CPU: ${cpuReason(exact)})` : '';
    if (checks.length === 0) return `${selection.name}: PyTorch counts ${counted}${how}; no static figures of this model to compare`;
    return differing === 0
      ? `${selection.name}: PyTorch agrees with all ${checks.length} figures (${counted})${how}`
      : `${selection.name}: PyTorch counts ${counted}; ${differing} of ${checks.length} figures differed from the static reading and were replaced (see Problems)${how}`;
  };

  const publish = (doc: vscode.TextDocument): void => {
    const checks = verified.checks(doc.uri.toString(), doc.getText());
    diagnostics.set(
      doc.uri,
      checks
        .filter((c) => c.message && c.line < doc.lineCount)
        .map((c) => {
          const d = new vscode.Diagnostic(doc.lineAt(c.line).range, c.message!, vscode.DiagnosticSeverity.Information);
          d.source = 'layerscope (PyTorch)';
          return d;
        }),
    );
  };

  const report = (error: unknown, doc: vscode.TextDocument): void => {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof PythonBridgeError && error.kind === 'cancelled') return;
    deps.log.warn(`Verify with Python (${doc.uri.fsPath}): ${message}`);
    void vscode.window.showErrorMessage(`Layerscope: ${message}`);
  };

  context.subscriptions.push(
    vscode.commands.registerCommand(VERIFY_COMMAND, async (uriArg?: vscode.Uri, lineArg?: number) => {
      const editor = vscode.window.activeTextEditor;
      const doc = uriArg ? await vscode.workspace.openTextDocument(uriArg) : editor?.document;
      if (!canRunPythonCommand(doc, 'Verify with Python', deps.isTrusted(), 'an nn.Module')) return;
      if (verifyMode(doc.uri) === 'off') {
        void vscode.window.showInformationMessage('Layerscope: Verify with Python is off (layerscope.python.verify).');
        return;
      }
      if (doc.isDirty) {
        const choice = await vscode.window.showWarningMessage('Layerscope: Verify with Python runs the file as saved. Save it first?', 'Save and Verify');
        if (choice !== 'Save and Verify' || !(await doc.save())) return;
      }
      const line = lineArg ?? (editor && editor.document === doc ? editor.selection.active.line : undefined);
      try {
        const message = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: 'Layerscope: verifying with PyTorch…', cancellable: true },
          (_progress, token) => {
            const controller = new AbortController();
            token.onCancellationRequested(() => controller.abort());
            return verify(doc, line, undefined, controller.signal);
          },
        );
        void vscode.window.showInformationMessage(`Layerscope: ${message}`);
      } catch (error) {
        report(error, doc);
      }
    }),
    vscode.workspace.onDidSaveTextDocument(async (doc) => {
      if (doc.languageId !== 'python' || !deps.isTrusted() || verifyMode(doc.uri) !== 'onSave') return;
      // On save the models verified before are verified again; a file never verified gets its main model verified.
      const names = verified.names(doc.uri.toString());
      try {
        if (names.length === 0) await verify(doc, undefined, undefined);
        for (const name of names) await verify(doc, undefined, name);
      } catch (error) {
        // A file with no model to verify is simply saved; what PyTorch said about a model is always shown.
        if (error instanceof PythonBridgeError) report(error, doc);
        else deps.log.info(`Verify with Python on save skipped ${doc.uri.fsPath}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }),
    vscode.workspace.onDidChangeTextDocument((e) => {
      // Edited text is no longer what PyTorch verified: its diagnostics go (its lenses fall back by themselves).
      if (e.document.languageId === 'python' && e.contentChanges.length > 0) diagnostics.delete(e.document.uri);
    }),
    vscode.workspace.onDidCloseTextDocument((doc) => {
      verified.forget(doc.uri.toString());
      diagnostics.delete(doc.uri);
    }),
  );

  return {
    decorate(doc, lenses) {
      const checks = verified.lookup(doc.uri.toString(), doc.getText());
      const out = new Map<string, { title: string; tooltip: string }>();
      if (checks.size === 0) return out;
      for (const lens of lenses) {
        const c = checks.get(lensKey(lens.line, lens.kind));
        if (!c) continue;
        out.set(lensKey(lens.line, lens.kind), { title: c.title, tooltip: c.message ?? 'Verified with PyTorch: the static reading agrees.' });
      }
      return out;
    },
    offered(doc) {
      return deps.isTrusted() && verifyMode(doc.uri) !== 'off';
    },
  };
}
