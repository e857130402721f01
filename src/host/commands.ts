import * as vscode from 'vscode';
import { modelFormat } from '../core/open';
import type { ModelFormat } from '../core/open';
import type { ExportFormat } from '../protocol/messages';
import type { Inspector, InspectorRegistry } from './inspectorPanels';
import { OnnxEditorProvider } from './onnxEditorProvider';
import { EXPORT_EXTENSIONS, formatSummary } from './summaryExport';

/**
 * The inspector's commands, listed as data: each entry names its id and what it does. Feature modules (probes,
 * gradients, PyTorch source) register their own commands; every command here degrades to a plain message when
 * there is nothing to act on, never to an exception.
 */
export interface CommandContext {
  registry: InspectorRegistry;
  log: vscode.LogOutputChannel;
  /** The installed extension's folder, where the bundled samples live. */
  extensionUri: vscode.Uri;
}

type CommandHandler = (ctx: CommandContext, ...args: unknown[]) => unknown;

export const INSPECTOR_COMMANDS: Record<string, CommandHandler> = {
  'layerscope.openModel': openModel,
  'layerscope.showSummary': showSummary,
  'layerscope.copySummaryMarkdown': copySummaryMarkdown,
  'layerscope.exportSummary': (ctx, arg) => exportSummary(ctx, typeof arg === 'string' ? (arg as ExportFormat) : undefined),
  'layerscope.revealLayer': revealLayer,
  'layerscope.openSample': (ctx, arg) => openSample(ctx, arg === 'onnx' || arg === 'python' ? arg : undefined),
};

export function registerInspectorCommands(context: vscode.ExtensionContext, ctx: CommandContext): void {
  for (const [id, handler] of Object.entries(INSPECTOR_COMMANDS)) {
    context.subscriptions.push(vscode.commands.registerCommand(id, (...args: unknown[]) => handler(ctx, ...args)));
  }
}

async function openModel(): Promise<void> {
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    filters: { 'ONNX models': ['onnx'] },
    openLabel: 'Inspect',
    title: 'Layerscope: Open Model',
  });
  if (picked && picked[0]) await vscode.commands.executeCommand('vscode.openWith', picked[0], OnnxEditorProvider.viewType);
}

/**
 * Opens one of the samples that ship with the extension, for the walkthrough: ONNX models open in the inspector,
 * Python files in a text editor (where the CodeLens appears). Both are read from the extension's own folder and never
 * written.
 */
async function openSample(ctx: CommandContext, kind?: 'onnx' | 'python'): Promise<void> {
  const folders: { kind: ModelFormat; uri: vscode.Uri }[] = [
    { kind: 'onnx', uri: vscode.Uri.joinPath(ctx.extensionUri, 'samples') },
    { kind: 'python', uri: vscode.Uri.joinPath(ctx.extensionUri, 'samples', 'python') },
  ];
  const items: (vscode.QuickPickItem & { uri: vscode.Uri; sampleKind: 'onnx' | 'python' })[] = [];
  for (const folder of folders) {
    if (kind && folder.kind !== kind) continue;
    let entries: [string, vscode.FileType][] = [];
    try {
      entries = await vscode.workspace.fs.readDirectory(folder.uri);
    } catch {
      // A build without samples offers none of that kind.
    }
    for (const [name, type] of entries) {
      if (type === vscode.FileType.File && modelFormat(name) === folder.kind) {
        items.push({ label: name, description: folder.kind === 'onnx' ? 'ONNX model' : 'PyTorch source', uri: vscode.Uri.joinPath(folder.uri, name), sampleKind: folder.kind });
      }
    }
  }
  if (items.length === 0) {
    void vscode.window.showInformationMessage('Layerscope: this build has no bundled samples.');
    return;
  }
  const preferred = items.find((i) => i.label === 'deeper_bn_convnet.onnx' || i.label === 'lectureModels.py');
  const pick = await vscode.window.showQuickPick(preferred ? [preferred, ...items.filter((i) => i !== preferred)] : items, {
    title: 'Layerscope: Open Sample',
    placeHolder: 'A lecture model to look inside',
  });
  if (!pick) return;
  if (pick.sampleKind === 'onnx') {
    // The inspector is a read-only editor: nothing can be typed into the installed file.
    await vscode.commands.executeCommand('vscode.openWith', pick.uri, OnnxEditorProvider.viewType);
  } else {
    // The file lives in the extension's install folder: open it read-only, so an edit cannot change the installed
    // extension (and vanish with the next update). Save As still gives the user a copy of their own.
    await vscode.window.showTextDocument(pick.uri, { preview: false });
    await vscode.commands.executeCommand('workbench.action.files.setActiveEditorReadonlyInSession').then(undefined, () => undefined);
  }
}

/** Opens the inspector for the .onnx file the user means: an Explorer selection, the active editor's file, or a pick. */
async function showSummary(ctx: CommandContext, arg?: unknown): Promise<void> {
  const uri = arg instanceof vscode.Uri ? arg : activeOnnxUri(ctx);
  if (uri) {
    await vscode.commands.executeCommand('vscode.openWith', uri, OnnxEditorProvider.viewType);
    return;
  }
  const found = await vscode.workspace.findFiles('**/*.onnx', '**/node_modules/**', 200);
  if (found.length === 0) {
    void vscode.window.showInformationMessage('Layerscope: there is no .onnx file in this workspace. Use "Layerscope: Open Model…" to pick one.');
    return;
  }
  const pick = await vscode.window.showQuickPick(
    found.map((u) => ({ label: vscode.workspace.asRelativePath(u), uri: u })),
    { title: 'Layerscope: Show Model Summary', placeHolder: 'Which model?' },
  );
  if (pick) await vscode.commands.executeCommand('vscode.openWith', pick.uri, OnnxEditorProvider.viewType);
}

function activeOnnxUri(ctx: CommandContext): vscode.Uri | undefined {
  const active = ctx.registry.activeInspector;
  if (active && modelFormat(active.uri.path) === 'onnx') return active.uri;
  const editorUri = vscode.window.activeTextEditor?.document.uri;
  if (editorUri && modelFormat(editorUri.path) === 'onnx') return editorUri;
  const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (tab instanceof vscode.TabInputCustom && modelFormat(tab.uri.path) === 'onnx') return tab.uri;
  return undefined;
}

/** The inspector to act on, with a one-line message when there is none. */
function requireInspector(ctx: CommandContext): Inspector | undefined {
  const inspector = ctx.registry.activeInspector;
  if (!inspector || !inspector.summary) {
    void vscode.window.showInformationMessage('Layerscope: open a model first (an .onnx file, or "Inspect Model at Cursor" in a Python file).');
    return undefined;
  }
  return inspector;
}

async function copySummaryMarkdown(ctx: CommandContext): Promise<void> {
  const inspector = requireInspector(ctx);
  if (!inspector?.summary) return;
  await vscode.env.clipboard.writeText(formatSummary(inspector.summary, 'markdown'));
  void vscode.window.showInformationMessage(`Layerscope: copied the summary of ${baseName(inspector.uri)} as Markdown.`);
}

async function exportSummary(ctx: CommandContext, format?: ExportFormat): Promise<void> {
  const inspector = requireInspector(ctx);
  if (!inspector?.summary) return;
  const chosen =
    format ??
    (
      await vscode.window.showQuickPick(
        [
          { label: 'Markdown', format: 'markdown' as const, description: 'a table to paste into a README' },
          { label: 'JSON', format: 'json' as const, description: 'the `layerscope summary --json` document' },
          { label: 'CSV', format: 'csv' as const, description: 'one row per layer, for spreadsheets' },
        ],
        { title: 'Layerscope: Export Summary' },
      )
    )?.format;
  if (!chosen) return;
  const stem = baseName(inspector.uri).replace(/\.[^.]+$/, '');
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({
    defaultUri: folder ? vscode.Uri.joinPath(folder, `${stem}.summary.${EXPORT_EXTENSIONS[chosen]}`) : undefined,
    filters: { [chosen.toUpperCase()]: [EXPORT_EXTENSIONS[chosen]] },
    title: 'Layerscope: Export Summary',
  });
  if (!target) return;
  if (target.toString() === inspector.uri.toString()) {
    void vscode.window.showErrorMessage('Layerscope never writes to a model file; choose another name.');
    return;
  }
  await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(formatSummary(inspector.summary, chosen)));
  ctx.log.info(`exported the ${chosen} summary of ${inspector.uri.fsPath} to ${target.fsPath}`);
  // Say where the file went, with a way to it; the command itself does not wait for the answer.
  void vscode.window.showInformationMessage(`Layerscope: exported the summary to ${baseName(target)}.`, 'Open').then((action) => {
    if (action === 'Open') void vscode.commands.executeCommand('vscode.open', target);
  });
}

async function revealLayer(ctx: CommandContext, arg?: unknown): Promise<void> {
  const inspector = requireInspector(ctx);
  if (!inspector?.summary) return;
  let name = typeof arg === 'string' ? arg : undefined;
  if (!name) {
    const pick = await vscode.window.showQuickPick(
      inspector.summary.layers.map((l) => ({ label: l.name || '(unnamed)', description: l.op, name: l.name })),
      { title: 'Layerscope: Reveal Layer in Graph', matchOnDescription: true },
    );
    name = pick?.name;
  }
  if (name === undefined) return;
  inspector.panel.reveal(undefined, false);
  ctx.registry.post(inspector, { type: 'revealLayer', name });
}

function baseName(uri: vscode.Uri): string {
  return uri.path.split('/').pop() ?? uri.path;
}
