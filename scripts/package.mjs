// Builds the .vsix for one platform (default: this machine's). onnxruntime-node is a native addon and cannot be
// bundled, so its JavaScript and only the target platform's binaries are staged under dist/node_modules, where
// `require('onnxruntime-node')` from dist/*.js finds them; vsce then packages with --no-dependencies.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const targets = {
  'linux-x64': ['linux', 'x64'],
  'linux-arm64': ['linux', 'arm64'],
  'win32-x64': ['win32', 'x64'],
  'win32-arm64': ['win32', 'arm64'],
  'darwin-arm64': ['darwin', 'arm64'],
};
const argTarget = process.argv.find((a) => a.startsWith('--target='))?.slice('--target='.length);
const target = argTarget ?? `${process.platform}-${process.arch}`;
if (!targets[target]) {
  console.error(`package: unknown target '${target}' (one of ${Object.keys(targets).join(', ')})`);
  process.exit(2);
}
const [platform, arch] = targets[target];

execFileSync(process.execPath, ['esbuild.mjs', '--production'], { stdio: 'inherit' });

const staged = join('dist', 'node_modules');
rmSync(staged, { recursive: true, force: true });
const ort = join('node_modules', 'onnxruntime-node');
const ortOut = join(staged, 'onnxruntime-node');
mkdirSync(ortOut, { recursive: true });
cpSync(join(ort, 'package.json'), join(ortOut, 'package.json'));
cpSync(join(ort, 'dist'), join(ortOut, 'dist'), { recursive: true, filter: (p) => !p.endsWith('.map') && !p.endsWith('.d.ts') });
const napi = readFileSync(join(ort, 'dist', 'binding.js'), 'utf8').match(/napi-v(\d+)/)?.[0] ?? 'napi-v6';
const bin = join(ort, 'bin', napi, platform, arch);
if (!existsSync(bin)) {
  console.error(`package: onnxruntime-node has no binary for ${target} (${bin})`);
  process.exit(2);
}
cpSync(bin, join(ortOut, 'bin', napi, platform, arch), { recursive: true });
cpSync(join('node_modules', 'onnxruntime-common'), join(staged, 'onnxruntime-common'), {
  recursive: true,
  filter: (p) => !p.endsWith('.map') && !p.endsWith('.d.ts') && !p.includes(`${join('onnxruntime-common', 'lib')}`),
});

const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
const out = `layerscope-${target}-${version}.vsix`;
execFileSync(
  process.execPath,
  // The README's images and links are relative and ship inside the .vsix (VS Code shows them from the installed
  // folder); without a repository URL vsce would refuse to package rather than rewrite them.
  [join('node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--no-rewrite-relative-links', '--target', target, '--allow-missing-repository', '--skip-license', '-o', out],
  { stdio: 'inherit' },
);
console.log(out);
