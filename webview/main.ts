import '@vscode-elements/elements';
import type { HostToWebview, WebviewToHost } from '../src/protocol/messages';
import { InspectorApp } from './app';
import type { PanelName } from './panels';

/** The API VS Code injects into webviews; it may be acquired once per page. */
declare function acquireVsCodeApi(): { postMessage(message: WebviewToHost): void; setState(state: PanelState): void };

/** What VS Code keeps for a panel across a window reload; the host's serializer reopens the model from it. */
interface PanelState {
  source: string;
  title: string;
}

const vscode = acquireVsCodeApi();
const post = (message: WebviewToHost): void => vscode.postMessage(message);

const root = document.getElementById('root') ?? document.body.appendChild(document.createElement('div'));
const app = new InspectorApp(document, root, post, {
  // Each panel's chart code loads when its tab first opens; a failure shows its message in the panel.
  loadPanel: (name: PanelName) => (name === 'probe' ? import('./charts/probePanel') : import('./charts/gradPanel')),
});

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  const message = event.data;
  if (typeof message !== 'object' || message === null || typeof message.type !== 'string') return;
  if (message.type === 'init' && message.source) vscode.setState({ source: message.source, title: message.title } satisfies PanelState);
  try {
    app.handle(message);
  } catch (error) {
    post({ type: 'log', level: 'error', message: `webview: ${error instanceof Error ? error.stack ?? error.message : String(error)}` });
  }
});

window.addEventListener('error', (event) => post({ type: 'log', level: 'error', message: `webview: ${event.message}` }));

// The host sends nothing until the webview says it is listening.
post({ type: 'ready' });
