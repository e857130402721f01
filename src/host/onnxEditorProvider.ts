import * as vscode from 'vscode';
import { openModel } from '../core/open';
import type { InspectorRegistry } from './inspectorPanels';

/**
 * The read-only custom editor that opens for every *.onnx file. It never writes: the document is only a URI, and the
 * reader opens the file for reading in ranges.
 */
export class OnnxEditorProvider implements vscode.CustomReadonlyEditorProvider {
  static readonly viewType = 'layerscope.inspector';

  static register(context: vscode.ExtensionContext, registry: InspectorRegistry): void {
    context.subscriptions.push(
      vscode.window.registerCustomEditorProvider(OnnxEditorProvider.viewType, new OnnxEditorProvider(registry), {
        // Large graphs are costly to rebuild; keep the webview alive while its tab is hidden.
        webviewOptions: { retainContextWhenHidden: true },
        supportsMultipleEditorsPerDocument: false,
      }),
    );
  }

  private constructor(private readonly registry: InspectorRegistry) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    const title = document.uri.path.split('/').pop() ?? 'model.onnx';
    this.registry.attach(document.uri, panel, title, async () => {
      if (document.uri.scheme !== 'file') {
        throw new Error(`Layerscope reads models from the file system; ${document.uri.scheme}: URIs are not supported`);
      }
      return (await openModel(document.uri.fsPath)).model;
    });
  }
}
