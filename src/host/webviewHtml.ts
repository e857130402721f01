import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/**
 * The inspector's HTML shell. The content security policy allows nothing by default; scripts run only from the
 * extension's dist/ folder and only with this page's nonce, styles come from media/ (plus nonce'd inline styles that
 * @vscode-elements/elements injects), and images only as data: URIs that the webview itself draws (PNG export).
 * No string from the model is placed here: the model reaches the page as data through postMessage.
 */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

export function inspectorHtml(webview: vscode.Webview, extensionUri: vscode.Uri, title: string): string {
  const nonce = makeNonce();
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'webview.css'));
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data: blob:`,
  ].join('; ');
  const safeTitle = title.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta property="csp-nonce" nonce="${nonce}">
<link rel="stylesheet" href="${style}">
<title>${safeTitle}</title>
</head>
<body>
<div id="root" role="main" aria-label="Layerscope inspector"></div>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
