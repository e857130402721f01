import * as vscode from 'vscode';
import type { ModelSummary } from '../core/analysis/types';
import type { Model } from '../core/ir/types';
import { nodeDetails } from '../core/analysis/nodeDetails';
import { summarizeModel } from '../core/analysis/summary';
import { DEFAULT_MAX_NODES } from '../core/limits';
import { isUserInputError } from '../core/errors';
import type { HostToWebview, InitMessage, PaneLayout, WebviewToHost } from '../protocol/messages';
import { isWebviewToHost } from '../protocol/messages';
import { inspectorHtml, webviewOptions } from './webviewHtml';

/**
 * Every open inspector, whether a custom editor on an .onnx file or a panel on a model lowered from Python source.
 * The registry is the single place that knows which webview belongs to which model, so commands run from the palette
 * act on the inspector the user last looked at.
 */
export interface Inspector {
  readonly uri: vscode.Uri;
  readonly panel: vscode.WebviewPanel;
  /** The summary sent to the webview; null until it has been computed or when the model could not be read. */
  summary: ModelSummary | null;
  /** The model behind the summary, kept for the node details the view asks for. */
  model?: Model;
  /** Messages that arrived before the webview said 'ready'. */
  pending: HostToWebview[];
  ready: boolean;
  selectedLayer?: string;
  /** When the editor was opened (Date.now()), so that the webview's first paint can be logged as time since opening. */
  readonly openedAt: number;
  /** The provider setting of the probe whose error the view shows, if it shows one. */
  providerError?: string;
}

export type InspectorAction = (inspector: Inspector, message: WebviewToHost) => void | Promise<void>;

export class InspectorRegistry implements vscode.Disposable {
  private readonly inspectors = new Map<string, Inspector>();
  private active: Inspector | undefined;
  private readonly changeEmitter = new vscode.EventEmitter<Inspector | undefined>();
  /** Fires when the focused inspector changes (undefined when none is focused), for the status bar. */
  readonly onDidChangeActive = this.changeEmitter.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    private readonly onMessage: InspectorAction,
    /** Where the pane layout is remembered: the workspace's memento, so each workspace keeps its own. */
    private readonly memento?: vscode.Memento,
  ) {}

  get activeInspector(): Inspector | undefined {
    return this.active;
  }

  get(uri: vscode.Uri): Inspector | undefined {
    return this.inspectors.get(uri.toString());
  }

  /**
   * Wires a webview panel to a model. `load` runs after the webview has said 'ready', so that a slow or failing read
   * still shows the shell first, and a failure appears in the view as one line instead of an empty editor.
   */
  attach(uri: vscode.Uri, panel: vscode.WebviewPanel, title: string, load: () => Model | Promise<Model>): Inspector {
    panel.webview.options = webviewOptions(this.extensionUri);
    panel.webview.html = inspectorHtml(panel.webview, this.extensionUri, title);
    const inspector: Inspector = { uri, panel, summary: null, pending: [], ready: false, openedAt: Date.now() };
    const key = uri.toString();
    this.inspectors.set(key, inspector);
    this.active = inspector;
    this.changeEmitter.fire(inspector);

    const disposables: vscode.Disposable[] = [];
    disposables.push(
      panel.webview.onDidReceiveMessage(async (raw: unknown) => {
        if (!isWebviewToHost(raw)) return;
        if (raw.type === 'ready') {
          inspector.ready = true;
          await this.sendInit(inspector, title, load);
          for (const m of inspector.pending.splice(0)) void panel.webview.postMessage(m);
          return;
        }
        if (raw.type === 'layerSelected') inspector.selectedLayer = raw.name;
        if (raw.type === 'nodeDetails') {
          const details = inspector.model && inspector.summary && Number.isInteger(raw.layer) ? nodeDetails(inspector.model, inspector.summary, raw.layer) : null;
          await panel.webview.postMessage({ type: 'nodeDetails', details } satisfies HostToWebview);
          return;
        }
        if (raw.type === 'layoutChanged') {
          const layout = parsePaneLayout(raw.layout);
          if (layout) await this.memento?.update(PANE_LAYOUT_KEY, layout);
          return;
        }
        try {
          await this.onMessage(inspector, raw);
        } catch (error) {
          this.log.error(`inspector action '${raw.type}' failed: ${error instanceof Error ? error.message : String(error)}`);
          void vscode.window.showErrorMessage(`Layerscope: ${error instanceof Error ? error.message : String(error)}`);
        }
      }),
      panel.onDidChangeViewState((e) => {
        if (e.webviewPanel.active) {
          this.active = inspector;
          this.changeEmitter.fire(inspector);
        } else if (this.active === inspector) {
          this.changeEmitter.fire(undefined);
        }
      }),
      panel.onDidDispose(() => {
        if (this.inspectors.get(key) === inspector) this.inspectors.delete(key);
        if (this.active === inspector) {
          this.active = undefined;
          this.changeEmitter.fire(undefined);
        }
        for (const d of disposables) d.dispose();
      }),
    );
    return inspector;
  }

  private async sendInit(inspector: Inspector, title: string, load: () => Model | Promise<Model>): Promise<void> {
    const started = Date.now();
    try {
      const model = await load();
      const inputShapes = defaultInputShapes(model);
      const config = vscode.workspace.getConfiguration('layerscope');
      const maxNodes = config.get<number>('maxNodes', DEFAULT_MAX_NODES);
      const summary = summarizeModel(model, {
        ...(inputShapes ? { inputShapes } : {}),
        ...(Number.isSafeInteger(maxNodes) && maxNodes > 0 ? { maxNodes } : {}),
      });
      inspector.summary = summary;
      inspector.model = model;
      const init: InitMessage = {
        type: 'init',
        panel: 'inspector',
        title,
        summary,
        trusted: vscode.workspace.isTrusted,
        collapseThreshold: config.get<number>('graph.collapseThreshold', 300),
        source: inspector.uri.toString(),
      };
      const layout = parsePaneLayout(this.memento?.get(PANE_LAYOUT_KEY));
      if (layout) init.layout = layout;
      await inspector.panel.webview.postMessage(init);
      this.log.info(`opened ${inspector.uri.fsPath || title}: ${summary.layers.length} layers, summary in ${Date.now() - started} ms`);
      this.changeEmitter.fire(this.active);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!isUserInputError(error)) this.log.error(`could not open ${inspector.uri.fsPath}: ${error instanceof Error ? error.stack ?? message : message}`);
      else this.log.warn(message);
      await inspector.panel.webview.postMessage({ type: 'error', message } satisfies HostToWebview);
    }
  }

  /** Posts to an inspector, holding the message until its webview is ready. */
  post(inspector: Inspector, message: HostToWebview): void {
    if (message.type === 'error') inspector.providerError = message.provider;
    else if (message.type === 'busy' || message.type === 'probeResult' || message.type === 'gradResult') inspector.providerError = undefined;
    if (inspector.ready) void inspector.panel.webview.postMessage(message);
    else inspector.pending.push(message);
  }

  /** Clears the error lines of probes that failed under another execution-provider setting than `setting`. */
  clearStaleProviderErrors(setting: string): void {
    for (const inspector of this.inspectors.values()) {
      if (inspector.providerError !== undefined && inspector.providerError !== setting) this.post(inspector, { type: 'busy', message: null });
    }
  }

  dispose(): void {
    for (const inspector of this.inspectors.values()) inspector.panel.dispose();
    this.inspectors.clear();
    this.changeEmitter.dispose();
  }
}

const PANE_LAYOUT_KEY = 'layerscope.inspector.paneLayout';

/** A stored or posted pane layout, checked on the way in: workspaceState outlives versions and messages are untyped. */
export function parsePaneLayout(value: unknown): PaneLayout | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.ratio !== 'number' || !Number.isFinite(v.ratio) || v.ratio < 0.15 || v.ratio > 0.85) return undefined;
  if (v.maximized !== 'none' && v.maximized !== 'first' && v.maximized !== 'second') return undefined;
  return { ratio: v.ratio, maximized: v.maximized };
}

/**
 * `layerscope.defaultInputShape` ("1x3x224x224") fixes the dims of the model's first input when its rank matches, so
 * that MACs and activation memory have numbers for models exported with dynamic dims. Fully fixed inputs are left alone.
 */
export function defaultInputShapes(model: Model): Record<string, number[]> | undefined {
  const text = vscode.workspace.getConfiguration('layerscope').get<string>('defaultInputShape', '').trim();
  if (!/^\d+(x\d+)*$/i.test(text)) return undefined;
  const dims = text.split(/x/i).map(Number);
  const initializers = new Set(model.graph.initializers.map((t) => t.name));
  const first = model.graph.inputs.find((i) => !initializers.has(i.name));
  const declared = first?.type?.kind === 'tensor' ? first.type.tensor.shape : null;
  if (!first || !declared || declared.length !== dims.length) return undefined;
  // A model whose input is fully fixed already says what it expects; the setting must not contradict it.
  if (declared.every((d) => typeof d === 'number')) return undefined;
  return { [first.name]: dims };
}
