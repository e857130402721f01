import { build } from 'esbuild';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runTests } from '@vscode/test-electron';

/**
 * Runs the extension-host suite inside a desktop VS Code that @vscode/test-electron downloads, for machines with
 * internet access. The suite is bundled first because VS Code's extension host loads plain CommonJS, not TypeScript.
 * The code-server suite in test/e2e is the one that runs offline; this one checks the same extension through VS Code's
 * own API.
 */
async function main(): Promise<void> {
  const root = resolve(__dirname, '..', '..');
  const outDir = join(root, 'out', 'electron');
  await build({
    entryPoints: [join(__dirname, 'suite', 'index.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: join(outDir, 'index.js'),
    external: ['vscode', 'mocha', 'onnxruntime-node'],
    logLevel: 'warning',
  });
  const workspace = mkdtempSync(join(tmpdir(), 'layerscope-electron-'));
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: join(outDir, 'index.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome'],
    extensionTestsEnv: { LAYERSCOPE_TEST_WORKSPACE: workspace, LAYERSCOPE_REPO: root },
  });
}

main().catch((error: unknown) => {
  console.error(`electron tests failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
