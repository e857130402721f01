/**
 * The inspector page as a pure function of its inputs, so that its content security policy is unit-tested without
 * VS Code. The policy allows nothing by default; scripts run only from the extension's dist/ folder and only with this
 * page's nonce, styles come from media/ (plus nonce'd inline styles that @vscode-elements/elements injects), fonts
 * from the extension, and images only as data: or blob: URIs that the webview draws itself (PNG export). No remote
 * origin appears anywhere. No string from the model is placed here: the model reaches the page as data through
 * postMessage, and the title is escaped.
 */
export interface InspectorPage {
  /** `webview.cspSource`: the origin that VS Code serves the extension's local resources from. */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
  title: string;
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `img-src ${cspSource} data: blob:`,
  ].join('; ');
}

/** Escapes text for an HTML text node or a double-quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function inspectorDocument(page: InspectorPage): string {
  const nonce = escapeHtml(page.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(page.cspSource, page.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta property="csp-nonce" nonce="${nonce}">
<link rel="stylesheet" href="${escapeHtml(page.styleUri)}">
<title>${escapeHtml(page.title)}</title>
</head>
<body>
<div id="root" role="main" aria-label="Layerscope inspector"></div>
<script nonce="${nonce}" src="${escapeHtml(page.scriptUri)}"></script>
</body>
</html>`;
}
