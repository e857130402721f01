import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { inspectorDocument } from './webviewCsp';

/**
 * The inspector's webview options and HTML shell. Only dist/ (the bundled script) and media/ (the stylesheet) can be
 * loaded; the policy itself lives in webviewCsp.ts.
 */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

/** A fresh nonce per page from the operating system's random source, as the CSP nonce must be unguessable. */
export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

export function inspectorHtml(webview: vscode.Webview, extensionUri: vscode.Uri, title: string): string {
  return inspectorDocument({
    cspSource: webview.cspSource,
    nonce: makeNonce(),
    scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js')).toString(),
    styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'webview.css')).toString(),
    title,
  });
}
