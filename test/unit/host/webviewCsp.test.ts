import * as assert from 'node:assert/strict';
import { JSDOM } from 'jsdom';
import { contentSecurityPolicy, escapeHtml, inspectorDocument } from '../../../src/host/webviewCsp';

const SOURCE = 'https://file+.vscode-resource.vscode-cdn.net';

function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name!, values]),
  );
}

describe('host/webviewCsp', () => {
  it('denies everything by default and allows scripts only by nonce', () => {
    const policy = directives(contentSecurityPolicy(SOURCE, 'abc123'));
    assert.deepEqual(policy.get('default-src'), ["'none'"]);
    assert.deepEqual(policy.get('script-src'), ["'nonce-abc123'"]);
    for (const [name, values] of policy) {
      assert.ok(!values.includes("'unsafe-inline'"), `${name} allows no inline code`);
      assert.ok(!values.includes("'unsafe-eval'"), `${name} allows no eval`);
      assert.ok(!values.some((v) => v === '*' || v === 'https:' || v === 'http:'), `${name} names no remote origin`);
      assert.ok(!values.some((v) => /^https?:\/\//.test(v) && v !== SOURCE), `${name} only names the webview's own origin`);
    }
  });

  it('builds a page whose only script carries the nonce and whose title is text', () => {
    const title = '<img src=x onerror="alert(1)">.onnx';
    const html = inspectorDocument({ cspSource: SOURCE, nonce: 'n0nce', scriptUri: `${SOURCE}/dist/webview.js`, styleUri: `${SOURCE}/media/webview.css`, title });
    const { document } = new JSDOM(html).window;
    const meta = document.querySelector('meta[http-equiv="Content-Security-Policy"]');
    assert.equal(meta?.getAttribute('content'), contentSecurityPolicy(SOURCE, 'n0nce'));
    const scripts = [...document.querySelectorAll('script')];
    assert.equal(scripts.length, 1);
    assert.equal(scripts[0]!.getAttribute('nonce'), 'n0nce');
    assert.equal(scripts[0]!.getAttribute('src'), `${SOURCE}/dist/webview.js`);
    assert.equal(document.title, title);
    assert.equal(document.querySelectorAll('img').length, 0);
    assert.equal(document.querySelector('link[rel=stylesheet]')?.getAttribute('href'), `${SOURCE}/media/webview.css`);
  });

  it('escapes every character that could open markup or close an attribute', () => {
    assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62;');
  });
});
