import * as vscode from 'vscode';
import type { Model } from '../core/ir/types';
import { modelFormat, openModel } from '../core/open';
import type { ModelFormat } from '../core/open';
import type { WebviewToHost } from '../protocol/messages';
import { registerInspectorCommands } from './commands';
import { registerGradCommands } from './gradCommands';
import type { ExecutionProviderSetting, HostServices, RegisterFeature } from './hostServices';
import type { Inspector } from './inspectorPanels';
import { InspectorRegistry } from './inspectorPanels';
import { OnnxEditorProvider } from './onnxEditorProvider';
import { registerProbeCommands, selectExecutionProvider } from './probeCommands';
import { registerPythonFeatures } from './pythonFeatures';
import { InspectorStatusBar } from './statusBar';

/**
 * Entry point. Everything is registered here and every disposable goes into `context.subscriptions`; the heavy work
 * (reading models, running probes) happens only when the user opens a model or runs a command.
 */
export function activate(context: vscode.ExtensionContext): HostServices {
  const log = vscode.window.createOutputChannel('Layerscope', { log: true });
  context.subscriptions.push(log);

  const registry = new InspectorRegistry(context.extensionUri, log, (inspector, message) => handleWebviewMessage(inspector, message), context.workspaceState);
  context.subscriptions.push(registry);

  // core/open.ts decides what a file is; ONNX files are opened there, and a feature registers how it opens the
  // formats whose live state belongs to the editor (Python source, read from the document with its unsaved edits).
  const loaders = new Map<ModelFormat, (uri: vscode.Uri) => Promise<Model>>();
  loaders.set('onnx', async (uri) => (await openModel(uri.fsPath)).model);

  const services: HostServices = {
    log,
    async loadModel(uri) {
      const format = modelFormat(uri.path);
      const loader = format && loaders.get(format);
      if (!loader) {
        const ext = /\.[^./]+$/.exec(uri.path)?.[0]?.toLowerCase();
        throw new Error(`Layerscope cannot read ${ext ?? 'extension-less'} files; open an .onnx file or a Python model`);
      }
      return loader(uri);
    },
    activeModelUri: () => registry.activeInspector?.uri,
    async postToPanel(uri, message) {
      let inspector = registry.get(uri);
      if (!inspector && modelFormat(uri.path) === 'onnx') {
        await vscode.commands.executeCommand('vscode.openWith', uri, OnnxEditorProvider.viewType);
        inspector = registry.get(uri);
      }
      if (!inspector) {
        log.warn(`no inspector is open for ${uri.toString()}; a '${message.type}' message was dropped`);
        return;
      }
      inspector.panel.reveal(undefined, true);
      registry.post(inspector, message);
    },
    async openModel(uri, model, title) {
      const existing = registry.get(uri);
      if (existing) existing.panel.dispose();
      const panel = vscode.window.createWebviewPanel('layerscope.modelPanel', `Layerscope: ${title}`, vscode.ViewColumn.Beside, {
        retainContextWhenHidden: true,
      });
      registry.attach(uri, panel, title, () => model);
    },
    registerModelLoader(format, loader) {
      loaders.set(format, loader);
    },
    async openModelFile(uri) {
      if (modelFormat(uri.path) === 'onnx') {
        await vscode.commands.executeCommand('vscode.openWith', uri, OnnxEditorProvider.viewType);
        return;
      }
      const model = await services.loadModel(uri);
      await services.openModel(uri, model, uri.path.split('/').pop() ?? uri.path);
    },
    executionProvider() {
      const config = vscode.workspace.getConfiguration('layerscope');
      return {
        provider: config.get<ExecutionProviderSetting['provider']>('executionProvider', 'auto'),
        deviceId: config.get<number>('deviceId', 0),
      };
    },
    isTrusted: () => vscode.workspace.isTrusted,
  };

  OnnxEditorProvider.register(context, registry);
  // Panels opened on models that are not .onnx files (classes from Python source) come back after a window reload:
  // the webview kept the model's URI as its state (webview/main.ts), and the model is loaded again from it.
  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer('layerscope.modelPanel', {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown) {
        const saved = state as { source?: unknown; title?: unknown } | undefined;
        if (typeof saved?.source !== 'string') {
          panel.dispose();
          return;
        }
        const uri = vscode.Uri.parse(saved.source);
        const title = typeof saved.title === 'string' ? saved.title : (uri.path.split('/').pop() ?? uri.path);
        registry.attach(uri, panel, title, () => services.loadModel(uri));
      },
    }),
  );
  const statusBar = InspectorStatusBar.register(context, registry);
  registerInspectorCommands(context, { registry, log, extensionUri: context.extensionUri });
  context.subscriptions.push(vscode.commands.registerCommand('layerscope.selectExecutionProvider', () => selectExecutionProvider()));
  registerProbeCommands(context, {
    loadModel: (uri) => services.loadModel(uri),
    activeModelUri: services.activeModelUri,
    postToPanel: async (uri, message) => {
      if (message.type === 'probeResult') statusBar.setProviderInUse(message.report.executionProvider);
      await services.postToPanel(uri, message);
      statusBar.update(registry.activeInspector);
    },
    log,
    registerSelectExecutionProvider: false,
  });
  // One broken feature must not take the inspector down with it; its failure is logged with its real message.
  for (const feature of FEATURES) {
    void (async () => feature.register(context, services))().catch((error: unknown) => log.error(`could not start ${feature.name}: ${errorText(error)}`));
  }
  log.info(`Layerscope ${String(context.extension.packageJSON.version)} activated (${vscode.workspace.isTrusted ? 'trusted' : 'Restricted Mode: probes are off'})`);
  return services;

  async function handleWebviewMessage(inspector: Inspector, message: WebviewToHost): Promise<void> {
    switch (message.type) {
      case 'runProbe':
        await vscode.commands.executeCommand('layerscope.runActivationProbe', inspector.uri);
        return;
      case 'runGradProbe':
        await vscode.commands.executeCommand('layerscope.runGradientProbe', inspector.uri);
        return;
      case 'cancelProbe':
        await vscode.commands.executeCommand(message.probe === 'gradient' ? 'layerscope.cancelGradientProbe' : 'layerscope.cancelActivationProbe');
        return;
      case 'copyMarkdown':
        await vscode.commands.executeCommand('layerscope.copySummaryMarkdown');
        return;
      case 'exportSummary':
        await vscode.commands.executeCommand('layerscope.exportSummary', message.format);
        return;
      case 'saveImage':
        await saveImage(inspector, message.format, message.data);
        return;
      case 'rendered':
        log.info(
          `${inspector.uri.fsPath || inspector.uri.toString()}: first paint of the ${message.what} ${Date.now() - inspector.openedAt} ms after opening (${message.ms.toFixed(0)} ms in the webview)`,
        );
        return;
      case 'log':
        log[message.level](message.message);
        return;
      case 'layerSelected':
      case 'layoutChanged':
      case 'nodeDetails':
      case 'ready':
        return;
    }
  }

  async function saveImage(inspector: Inspector, format: 'svg' | 'png', data: string): Promise<void> {
    const stem = (inspector.uri.path.split('/').pop() ?? 'model').replace(/\.[^.]+$/, '');
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const target = await vscode.window.showSaveDialog({
      defaultUri: folder ? vscode.Uri.joinPath(folder, `${stem}.graph.${format}`) : undefined,
      filters: { [format.toUpperCase()]: [format] },
      title: 'Layerscope: Export Graph',
    });
    if (!target) return;
    const bytes = format === 'svg' ? new TextEncoder().encode(data) : Buffer.from(data.replace(/^data:image\/png;base64,/, ''), 'base64');
    await vscode.workspace.fs.writeFile(target, bytes);
    log.info(`saved the graph of ${inspector.uri.fsPath} as ${target.fsPath}`);
  }
}

/** The features that plug in through HostServices; each starts on its own, so that one failing leaves the rest. */
const FEATURES: { name: string; register: RegisterFeature }[] = [
  { name: 'PyTorch source features', register: registerPythonFeatures },
  { name: 'gradient probes', register: registerGradCommands },
];

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions; child processes end with their probes.
}
