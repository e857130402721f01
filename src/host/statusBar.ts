import * as vscode from 'vscode';
import { formatCount, formatScaled } from '../core/format';
import type { Inspector, InspectorRegistry } from './inspectorPanels';

/**
 * A status bar item that is visible while a Layerscope inspector is focused. It shows the model's size at a glance
 * and the execution provider that probes will use, and opens the provider picker when clicked.
 */
export class InspectorStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('layerscope.status', vscode.StatusBarAlignment.Right, 100);
  private lastProvider: string | undefined;

  static register(context: vscode.ExtensionContext, registry: InspectorRegistry): InspectorStatusBar {
    const bar = new InspectorStatusBar();
    context.subscriptions.push(
      bar,
      registry.onDidChangeActive((inspector) => bar.update(inspector)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration('layerscope.executionProvider')) return;
        bar.update(registry.activeInspector);
        // A probe's "provider could not start" line describes the old setting: it goes when the setting changes.
        registry.clearStaleProviderErrors(vscode.workspace.getConfiguration('layerscope').get<string>('executionProvider', 'auto'));
      }),
    );
    return bar;
  }

  private constructor() {
    this.item.name = 'Layerscope';
    this.item.command = 'layerscope.selectExecutionProvider';
  }

  /** Probes call this with the provider that actually ran, which may differ from the setting under `auto`. */
  setProviderInUse(provider: string): void {
    this.lastProvider = provider;
  }

  update(inspector: Inspector | undefined): void {
    if (!inspector || !inspector.summary) {
      this.item.hide();
      return;
    }
    const { totals } = inspector.summary;
    const setting = vscode.workspace.getConfiguration('layerscope').get<string>('executionProvider', 'auto');
    const provider = this.lastProvider && setting === 'auto' ? `auto → ${this.lastProvider}` : setting;
    this.item.text = `$(layers) ${formatScaled(totals.params)} params · ${formatScaled(totals.macs)} MACs · ${provider}`;
    this.item.tooltip = `Layerscope: ${formatCount(totals.params)} parameters, ${formatCount(totals.macs)} MACs. Probes run on: ${provider}. Click to change the execution provider.`;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
