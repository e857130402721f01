// Loads the built webview bundle (dist/webview.js) in Debian's Chromium under a CSP as strict as the extension's,
// feeds it synthetic models, and measures what a user waits for: init message to the first painted frame, and the
// frame time while panning and zooming. Screenshots go to .test-artifacts/webview/.
// Run after `npm run build`: node webview/bench/browserBench.mjs
import { createServer } from 'node:http';
import { readFileSync, mkdirSync, existsSync } from 'node:fs';
import { join, extname } from 'node:path';
import { chromium } from 'playwright-core';

const root = process.cwd();
const outDir = join(root, '.test-artifacts', 'webview');
mkdirSync(outDir, { recursive: true });
const executablePath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
if (!executablePath) {
  console.error('Chromium is missing: apt-get install chromium');
  process.exit(2);
}

const theme = `:root { --vscode-foreground:#cccccc; --vscode-editor-background:#1f1f1f; --vscode-font-family:system-ui,sans-serif;
--vscode-font-size:13px; --vscode-editor-font-family:monospace; --vscode-descriptionForeground:#9d9d9d;
--vscode-panel-border:#2b2b2b; --vscode-focusBorder:#0078d4; --vscode-charts-blue:#3794ff; --vscode-charts-red:#f14c4c;
--vscode-charts-green:#89d185; --vscode-charts-yellow:#cca700; --vscode-charts-orange:#d18616; --vscode-charts-purple:#b180d7;
--vscode-charts-foreground:#cccccc; --vscode-charts-lines:#8b8b8b; --vscode-list-activeSelectionBackground:#04395e;
--vscode-list-activeSelectionForeground:#ffffff; --vscode-list-hoverBackground:#2a2d2e; --vscode-errorForeground:#f85149;
--vscode-button-background:#0078d4; --vscode-button-foreground:#ffffff; --vscode-editorWidget-background:#202020; }`;

const nonce = 'bench0nonce';
const page = `<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; script-src 'nonce-${nonce}';">
<link rel="stylesheet" href="/theme.css"><link rel="stylesheet" href="/media/webview.css"></head>
<body class="vscode-dark"><div id="root"></div>
<script nonce="${nonce}">window.__posted=[];window.__csp=[];document.addEventListener('securitypolicyviolation',e=>window.__csp.push(e.violatedDirective+' '+e.blockedURI));
window.acquireVsCodeApi=()=>({postMessage:m=>window.__posted.push(m),getState:()=>undefined,setState:()=>{}});</script>
<script nonce="${nonce}" src="/dist/webview.js"></script></body></html>`;

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(page);
  if (url.pathname === '/favicon.ico') return res.writeHead(204).end();
  if (url.pathname === '/theme.css') return res.writeHead(200, { 'content-type': 'text/css' }).end(theme);
  const file = join(root, url.pathname);
  if (!file.startsWith(join(root, 'dist')) && !file.startsWith(join(root, 'media'))) return res.writeHead(404).end();
  try {
    const types = { '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}/`;

const layer = (name, op, inputs, out, shape, params, macs, rf) => ({
  name, op, inputs, outputs: [{ name: out, shape, dtype: 'float32' }], params, macs, receptiveField: rf,
  activationBytes: shape.reduce((a, b) => a * b, 1) * 4,
});
const summaryOf = (layers, inputs, outputs, name) => ({
  format: 'onnx', opset: 17, model: { name, producer: 'bench' }, inputs, outputs, layers, warnings: [],
  totals: { params: layers.reduce((a, l) => a + l.params, 0), trainableParams: layers.reduce((a, l) => a + l.params, 0),
    nonTrainableParams: 0, macs: layers.reduce((a, l) => a + l.macs, 0), paramBytes: 0, activationBytes: 0 },
});

/** A ViT-like encoder exported the way torch names nodes: /blocks/blocks.K/attn/MatMul and so on. */
function vit(target) {
  const layers = [];
  let x = 'input';
  const add = (name, op, inputs, shape, params = 0) => {
    const out = `${name}_output_0`;
    layers.push(layer(name, op, inputs, out, shape, params, params * 197, null));
    return out;
  };
  for (let b = 0; layers.length < target; b++) {
    const p = `/blocks/blocks.${b}`;
    const t = [1, 197, 768];
    const ln = add(`${p}/norm1/LayerNormalization`, 'LayerNormalization', [x], t, 1536);
    const q = add(`${p}/attn/q/MatMul`, 'MatMul', [ln], t, 589824);
    const k = add(`${p}/attn/k/MatMul`, 'MatMul', [ln], t, 589824);
    const v = add(`${p}/attn/v/MatMul`, 'MatMul', [ln], t, 589824);
    const kt = add(`${p}/attn/Transpose`, 'Transpose', [k], [1, 12, 64, 197]);
    const s = add(`${p}/attn/MatMul`, 'MatMul', [q, kt], [1, 12, 197, 197]);
    const sc = add(`${p}/attn/Mul`, 'Mul', [s], [1, 12, 197, 197]);
    const sm = add(`${p}/attn/Softmax`, 'Softmax', [sc], [1, 12, 197, 197]);
    const av = add(`${p}/attn/MatMul_1`, 'MatMul', [sm, v], [1, 12, 197, 64]);
    const r = add(`${p}/attn/Reshape`, 'Reshape', [av], t);
    const o = add(`${p}/attn/proj/MatMul`, 'MatMul', [r], t, 589824);
    const res1 = add(`${p}/Add`, 'Add', [x, o], t);
    const ln2 = add(`${p}/norm2/LayerNormalization`, 'LayerNormalization', [res1], t, 1536);
    const f1 = add(`${p}/mlp/fc1/MatMul`, 'MatMul', [ln2], [1, 197, 3072], 2359296);
    const g = add(`${p}/mlp/act/Gelu`, 'Gelu', [f1], [1, 197, 3072]);
    const f2 = add(`${p}/mlp/fc2/MatMul`, 'MatMul', [g], t, 2359296);
    x = add(`${p}/Add_1`, 'Add', [res1, f2], t);
  }
  return summaryOf(layers, [{ name: 'input', shape: [1, 197, 768], dtype: 'float32' }], [{ name: x, shape: [1, 197, 768], dtype: 'float32' }], `ViT-like (${layers.length} nodes)`);
}

/** The lecture's DeeperBNConvNet, for the receptive-field screenshot. */
function deeper() {
  const layers = [];
  const rfs = [3, 5, 9, 13, 21, 29, 45];
  let prev = 'input', size = 32, jump = 1, c = 3;
  [1, 2, 1, 2, 1, 2, 1].forEach((stride, i) => {
    size = Math.floor((size - 1) / stride) + 1;
    jump *= stride;
    const rf = { size: [rfs[i], rfs[i]], stride: [jump, jump], start: [0, 0], global: false };
    const o = 16 * (i + 1);
    const conv = `/net/net.${3 * i}/Conv`;
    layers.push(layer(conv, 'Conv', [prev, 'w'], `${conv}_o`, [1, o, size, size], o * c * 9 + o, (o * c * 9 + o) * size * size, rf));
    layers.push(layer(`/net/net.${3 * i + 1}/BatchNormalization`, 'BatchNormalization', [`${conv}_o`], `bn${i}`, [1, o, size, size], 4 * o, 0, rf));
    layers.push(layer(`/net/net.${3 * i + 2}/Relu`, 'Relu', [`bn${i}`], `relu${i}`, [1, o, size, size], 0, 0, rf));
    prev = `relu${i}`;
    c = o;
  });
  layers.push(layer('/pool/GlobalAveragePool', 'GlobalAveragePool', [prev], 'pooled', [1, c, 1, 1], 0, 0, { global: true }));
  layers.push(layer('/fc/Gemm', 'Gemm', ['pooled', 'fw'], 'output', [1, 10], c * 10 + 10, c * 10, { global: true }));
  return summaryOf(layers, [{ name: 'input', shape: [1, 3, 32, 32], dtype: 'float32' }], [{ name: 'output', shape: [1, 10], dtype: 'float32' }], 'DeeperBNConvNet');
}

const tabClick = (i) => async (tab) => { await tab.locator('vscode-tab-header').nth(i).click(); await tab.waitForTimeout(200); };
const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
const results = [];
async function run(label, summary, collapseThreshold, shots) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const tab = await context.newPage();
  const consoleErrors = [];
  tab.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  tab.on('pageerror', (e) => consoleErrors.push(String(e)));
  await tab.goto(base);
  await tab.waitForFunction(() => window.__posted.some((m) => m.type === 'ready'));
  const initMs = await tab.evaluate(async ({ summary, collapseThreshold }) => {
    const t0 = performance.now();
    window.postMessage({ type: 'init', panel: 'inspector', title: summary.model.name, summary, trusted: true, collapseThreshold }, '*');
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return performance.now() - t0;
  }, { summary, collapseThreshold });
  const nodes = await tab.evaluate(() => document.querySelectorAll('g.gv-node').length);
  const itemsInGraph = await tab.evaluate(() => Number(document.querySelector('svg.gv-svg').getAttribute('data-nodes')));
  if (process.env.PROFILE) console.log(await tab.evaluate(() => { const s = document.querySelector('svg.gv-svg'); return [s.clientWidth, s.clientHeight, JSON.stringify(s.getBoundingClientRect())]; }));
  for (const [name, action] of shots) {
    if (action) await action(tab);
    await tab.screenshot({ path: join(outDir, `${name}.png`) });
  }
  await tabClick(0)(tab);
  // Pan and zoom: 60 wheel steps over the graph, timing the frames in between.
  const box = await tab.locator('svg.gv-svg').boundingBox();
  await tab.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await tab.evaluate(() => {
    window.__frames = [];
    let last = performance.now();
    const loop = (t) => { window.__frames.push(t - last); last = t; if (window.__frames.length < 400) requestAnimationFrame(loop); };
    requestAnimationFrame(loop);
  });
  if (process.env.EXP) await tab.evaluate((rule) => document.styleSheets[document.styleSheets.length - 1].insertRule(rule), process.env.EXP);
  if (process.env.PROFILE) console.log('texts', await tab.evaluate(() => [...document.querySelectorAll('.gv-svg text')].filter((t) => !t.closest('g[style*="none"]')).length));
  if (process.env.PROFILE) console.log('shown', await tab.evaluate(() => [...document.querySelectorAll('.gv-viewport > g > g')].filter((g) => g.style.display !== 'none').length));
  const cdp = process.env.PROFILE ? await context.newCDPSession(tab) : null;
  if (cdp && process.env.TRACE) await browser.startTracing(tab, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] });
  if (cdp) { await cdp.send('Profiler.enable'); await cdp.send('Profiler.start'); }
  for (let i = 0; i < 30; i++) await tab.mouse.wheel(0, i < 15 ? -120 : 120);
  if (cdp && process.env.TRACE) {
    const trace = JSON.parse((await browser.stopTracing()).toString());
    const sums = new Map();
    for (const e of trace.traceEvents ?? trace) if (e.ph === 'X' && e.dur) sums.set(e.name, (sums.get(e.name) ?? 0) + e.dur / 1000);
    const layouts = (trace.traceEvents ?? trace).filter((e) => e.name === 'Layout' && e.ph === 'X');
    console.log('layouts', layouts.length, JSON.stringify(layouts.slice(0, 3).map((e) => [e.dur / 1000, e.args])));
    console.log([...sums].sort((a, b) => b[1] - a[1]).slice(0, 14).map(([k, v]) => `${v.toFixed(0)}ms ${k}`).join('\n'));
  }
  if (cdp) {
    const { profile } = await cdp.send('Profiler.stop');
    const self = new Map();
    const dt = profile.timeDeltas; const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => { const n = byId.get(id); const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}`; self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0) / 1000); });
    console.log([...self].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([k, v]) => `${v.toFixed(0)}ms ${k}`).join('\n'));
  }
  for (let i = 0; i < 30; i++) {
    await tab.mouse.down();
    await tab.mouse.move(box.x + box.width / 2 + (i % 2 ? 40 : -40), box.y + box.height / 2 + 30);
    await tab.mouse.up();
  }
  const frames = await tab.evaluate(() => window.__frames.slice(2));
  frames.sort((a, b) => a - b);
  const p95 = frames[Math.floor(frames.length * 0.95)] ?? 0;
  const csp = await tab.evaluate(() => window.__csp);
  results.push({ label, layers: summary.layers.length, nodesInDom: nodes, itemsInGraph, initToPaintMs: Math.round(initMs), frameP95Ms: Math.round(p95 * 10) / 10, cspViolations: csp.length, consoleErrors: consoleErrors.length });
  if (csp.length || consoleErrors.length) console.error(label, csp, consoleErrors);
  await context.close();
}

await run('DeeperBNConvNet', deeper(), 1500, [['inspector'], ['breakdown', tabClick(1)], ['receptive-field', tabClick(2)]]);
await run('ViT-like 2,000 nodes, fully expanded', vit(2000), 2500, [['graph-2000']]);
await run('ViT-like 2,000 nodes, default threshold 300', vit(2000), 300, [['graph-2000-collapsed']]);
await run('ViT-like 20,000 nodes, default threshold 300', vit(20000), 300, [['graph-20000-collapsed']]);
console.table(results);
await browser.close();
server.close();
