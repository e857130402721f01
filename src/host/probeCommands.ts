import * as vscode from 'vscode';
import { isUserInputError } from '../core/errors';
import type { Model } from '../core/ir/types';
import { modelFormat, openModel } from '../core/open';
import type { ProbeReport } from '../core/reports';
import type { HostToWebview } from '../protocol/messages';
import { modelInputs } from '../runtime/inputs';
import { probeModel } from '../runtime/probe';
import { EXECUTION_PROVIDERS, autoProviderOrder, providerAvailability, type ExecutionProviderChoice, type ProviderAvailability } from '../runtime/providers';
import { listSupportedBackends } from '../runtime/providerSupport';
import { ProbeCancelledError } from '../runtime/runtimeClient';
import { choiceKey, choiceToProbeOptions, describeChoice, fixedBatch, parseStoredChoice, providerStatusText, readProbeSettings } from './probeChoices';
import type { ProbeInputChoice } from './probeChoices';

/**
 * "Layerscope: Run Activation Probe" and "Layerscope: Select Execution Provider". A probe runs the user's model, so
 * it is refused in Restricted Mode; it runs in the runtime worker process (a crash costs the probe, not the editor),
 * under a cancellable progress notification, and its report goes to the model's inspector panel as
 * { type: 'probeResult', report }. The input choice is remembered per model in workspaceState, and the status bar
 * shows which execution provider actually ran.
 */

export const RUN_PROBE_COMMAND = 'layerscope.runActivationProbe';
export const SELECT_PROVIDER_COMMAND = 'layerscope.selectExecutionProvider';
/** Cancels the running probe, as the notification's Cancel button does (for keybindings and end-to-end tests). */
export const CANCEL_PROBE_COMMAND = 'layerscope.cancelActivationProbe';

/**
 * The run command's optional argument: a URI (Explorer menu, inspector), or `{ uri, input }` where `input` is a
 * ProbeInputChoice, which skips the input quick pick (tests and automation).
 */
export interface RunProbeArgs {
  uri?: vscode.Uri | string;
  input?: unknown;
}

/** What the probe commands need from the rest of the extension host; HostServices can provide these. */
export interface ProbeHostDeps {
  /** The model behind a URI. Without it, .onnx files are read directly and other files are refused. */
  loadModel?(uri: vscode.Uri): Promise<Model> | Model;
  /** The model to probe when the command is run from the palette: the active inspector's. */
  activeModelUri?(): vscode.Uri | undefined;
  /** Shows the model's inspector on its probe tab and posts the message there. */
  postToPanel?(uri: vscode.Uri, message: HostToWebview): void | Thenable<void> | Promise<void>;
  /** The "Layerscope" LogOutputChannel. */
  log?: vscode.LogOutputChannel;
  /** Register "Select Execution Provider" here too (leave false if the extension registers its own). */
  registerSelectExecutionProvider?: boolean;
  /** Show the provider that ran in a status bar item of its own (leave false when the inspector's item shows it). */
  providerStatusBar?: boolean;
}

function targetUri(arg: unknown, deps: ProbeHostDeps): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && arg.length > 0) return vscode.Uri.file(arg);
  if (typeof arg === 'object' && arg !== null) {
    const uri = (arg as RunProbeArgs).uri;
    if (uri instanceof vscode.Uri) return uri;
    if (typeof uri === 'string' && uri.length > 0) return vscode.Uri.file(uri);
  }
  const active = deps.activeModelUri?.();
  if (active) return active;
  const editor = vscode.window.activeTextEditor?.document.uri;
  return editor && modelFormat(editor.fsPath) !== undefined ? editor : undefined;
}

async function loadModel(uri: vscode.Uri, deps: ProbeHostDeps): Promise<Model> {
  if (deps.loadModel) return deps.loadModel(uri);
  if (modelFormat(uri.fsPath) !== 'onnx') {
    throw new Error(`${uri.fsPath}: only ONNX models can be probed from here; export the module with torch.onnx.export`);
  }
  return (await openModel(uri.fsPath)).model;
}

interface ChoiceItem extends vscode.QuickPickItem {
  choice?: ProbeInputChoice;
  action?: 'normal' | 'uniform' | 'npy' | 'image';
}

/** Asks how to feed the model, offering the remembered choice first. Undefined when the user backs out. */
async function askInputs(model: Model, uri: vscode.Uri, state: vscode.Memento): Promise<ProbeInputChoice | undefined> {
  const remembered = parseStoredChoice(state.get(choiceKey(uri.toString())));
  const items: ChoiceItem[] = [];
  if (remembered) items.push({ label: '$(history) Same as last time', description: describeChoice(remembered), choice: remembered });
  items.push(
    { label: '$(symbol-numeric) Random normal N(0, 1)', description: 'seeded', action: 'normal' },
    { label: '$(symbol-numeric) Random uniform U(0, 1)', description: 'seeded', action: 'uniform' },
    { label: '$(file-binary) NumPy .npy file(s)…', description: 'one per input', action: 'npy' },
    { label: '$(file-media) Image (PNG or JPEG)…', description: 'resized, ImageNet-normalised', action: 'image' },
  );
  const picked = await vscode.window.showQuickPick(items, { title: 'Layerscope: probe inputs', placeHolder: 'What should the model see?' });
  if (!picked) return undefined;
  if (picked.choice) return picked.choice;
  const inputs = modelInputs(model);
  if (picked.action === 'normal' || picked.action === 'uniform') {
    // A model that fixes its batch size runs with that batch whatever is typed, so it is not asked for.
    const fixed = fixedBatch(inputs);
    const batchText = fixed !== null ? String(fixed) : await vscode.window.showInputBox({
      title: 'Batch size',
      value: '1',
      prompt: 'Replaces a symbolic batch dimension; the lectures use 16',
      validateInput: (v) => (/^[1-9]\d*$/.test(v.trim()) ? undefined : 'a positive integer'),
    });
    if (batchText === undefined) return undefined;
    const shapes: Record<string, number[]> = {};
    for (const input of inputs) {
      // Only inputs whose rank is unknown need a shape; symbolic dims take the batch size or 1.
      if (input.shape) continue;
      const text = await vscode.window.showInputBox({
        title: `Shape of input '${input.name}'`,
        prompt: 'The model does not declare it; for example 1x3x224x224',
        validateInput: (v) => (/^\d+(x\d+)*$/.test(v.trim()) ? undefined : 'dimensions separated by x'),
      });
      if (text === undefined) return undefined;
      shapes[input.name] = text.trim().split('x').map(Number);
    }
    return { kind: 'random', distribution: picked.action, seed: 0, batch: Number(batchText.trim()), ...(Object.keys(shapes).length > 0 ? { shapes } : {}) };
  }
  if (picked.action === 'npy') {
    const files: { name?: string; path: string }[] = [];
    for (const input of inputs) {
      const chosen = await vscode.window.showOpenDialog({ title: `.npy for input '${input.name}'`, canSelectMany: false, filters: { NumPy: ['npy'] } });
      if (!chosen || chosen.length === 0) return undefined;
      files.push({ name: input.name, path: chosen[0]!.fsPath });
    }
    return { kind: 'npy', files };
  }
  const chosen = await vscode.window.showOpenDialog({ title: 'Image to feed', canSelectMany: false, filters: { Images: ['png', 'jpg', 'jpeg'] } });
  if (!chosen || chosen.length === 0) return undefined;
  return { kind: 'image', path: chosen[0]!.fsPath };
}

export function registerProbeCommands(context: vscode.ExtensionContext, deps: ProbeHostDeps = {}): void {
  let status: vscode.StatusBarItem | undefined;
  if (deps.providerStatusBar) {
    status = vscode.window.createStatusBarItem('layerscope.probeProvider', vscode.StatusBarAlignment.Right, 90);
    status.name = 'Layerscope execution provider';
    status.command = SELECT_PROVIDER_COMMAND;
    context.subscriptions.push(status);
  }

  const showProvider = (report: ProbeReport): void => {
    if (!status) return;
    status.text = providerStatusText(report.executionProvider);
    const fallback = report.cpuFallbackNodes?.length ? `\n${report.cpuFallbackNodes.length} nodes fell back to the CPU.` : '';
    status.tooltip = `The last activation probe ran on ${report.executionProvider}.${fallback}\nClick to choose the execution provider.`;
    status.show();
  };

  let running: AbortController | null = null;
  context.subscriptions.push(
    vscode.commands.registerCommand(CANCEL_PROBE_COMMAND, () => {
      if (running) running.abort();
      else void vscode.window.showInformationMessage('Layerscope: no activation probe is running.');
    }),
    vscode.commands.registerCommand(RUN_PROBE_COMMAND, async (arg?: unknown) => {
      if (!vscode.workspace.isTrusted) {
        void vscode.window.showWarningMessage('Layerscope: probes run the model, so they are off in Restricted Mode. Trust this workspace to enable them.');
        return undefined;
      }
      const uri = targetUri(arg, deps);
      if (!uri) {
        void vscode.window.showInformationMessage('Layerscope: open an ONNX model (or a PyTorch file) to probe.');
        return undefined;
      }
      try {
        const model = await loadModel(uri, deps);
        const given = typeof arg === 'object' && arg !== null ? parseStoredChoice((arg as RunProbeArgs).input) : undefined;
        const choice = given ?? (await askInputs(model, uri, context.workspaceState));
        if (!choice) return undefined;
        await context.workspaceState.update(choiceKey(uri.toString()), choice);
        const settings = readProbeSettings((key) => vscode.workspace.getConfiguration('layerscope', uri).get(key));
        const options = choiceToProbeOptions(choice, settings);
        await deps.postToPanel?.(uri, { type: 'busy', message: `Activation probe running on ${settings.executionProvider}…`, cancel: 'activation' });
        const outcome = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `Layerscope: probing ${vscode.workspace.asRelativePath(uri)}`, cancellable: true },
          async (progress, token) => {
            const abort = new AbortController();
            running?.abort();
            running = abort;
            const sub = token.onCancellationRequested(() => abort.abort());
            try {
              progress.report({ message: `on ${settings.executionProvider}…` });
              return await probeModel(model, {
                ...options,
                signal: abort.signal,
                onProgress: (done, total, message) => progress.report({ message: `${message} (${done}/${total} sessions)`, increment: 100 / total }),
              });
            } finally {
              sub.dispose();
              if (running === abort) running = null;
            }
          },
        );
        for (const note of outcome.notes) deps.log?.info(`probe: ${note}`);
        deps.log?.info(`probe of ${uri.fsPath}: ${outcome.report.layers.length} values on ${outcome.report.executionProvider} in ${outcome.report.timing.totalMs} ms`);
        showProvider(outcome.report);
        await deps.postToPanel?.(uri, { type: 'probeResult', report: outcome.report });
        return outcome.report;
      } catch (e) {
        if (e instanceof ProbeCancelledError) {
          await deps.postToPanel?.(uri, { type: 'busy', message: null });
          void vscode.window.showInformationMessage('Layerscope: probe cancelled.');
          return undefined;
        }
        const message = e instanceof Error ? e.message : String(e);
        deps.log?.error(`probe of ${uri.fsPath} failed: ${message}`);
        void vscode.window.showErrorMessage(`Layerscope: ${isUserInputError(e) ? '' : 'probe failed: '}${message}`);
        await deps.postToPanel?.(uri, { type: 'error', message, provider: vscode.workspace.getConfiguration('layerscope', uri).get<string>('executionProvider', 'auto') });
        return undefined;
      }
    }),
  );

  if (deps.registerSelectExecutionProvider) {
    context.subscriptions.push(vscode.commands.registerCommand(SELECT_PROVIDER_COMMAND, () => selectExecutionProvider()));
  }
}

/**
 * The picker behind "Layerscope: Select Execution Provider": writes `layerscope.executionProvider` (and deviceId). It
 * asks this machine's onnxruntime build which providers it has first, so that a provider it lacks is refused and one
 * whose libraries are not installed is picked only after a warning, instead of failing later at the first probe.
 */
export async function selectExecutionProvider(): Promise<void> {
  const config = vscode.workspace.getConfiguration('layerscope');
  const current = config.get<string>('executionProvider', 'auto');
  const backends = listSupportedBackends({ timeoutMs: 10_000 }).catch(() => null);
  const order = autoProviderOrder(process.platform).join(', then ');
  const descriptions: Record<string, string> = {
    auto: `try ${order}`,
    cpu: 'always available',
    cuda: 'NVIDIA GPUs; needs onnxruntime-node installed with CUDA, plus cuDNN',
    webgpu: 'experimental; Vulkan, D3D12 or Metal',
    dml: 'DirectML, Windows only',
    coreml: 'Core ML, macOS only',
  };
  const listed = await backends;
  const availability = (p: ExecutionProviderChoice): ProviderAvailability => (listed ? providerAvailability(p, listed, process.platform) : { kind: 'available' });
  const note = (a: ProviderAvailability): string => (a.kind === 'notInBuild' ? ' · not in this onnxruntime build' : a.kind === 'notInstalled' ? ' · not installed here' : '');
  const picked = await vscode.window.showQuickPick(
    EXECUTION_PROVIDERS.map((p) => ({ label: p, description: descriptions[p] + note(availability(p)), picked: p === current, detail: p === current ? 'current' : undefined })),
    { title: 'Layerscope: execution provider for probes' },
  );
  if (!picked) return;
  const verdict = availability(picked.label);
  if (verdict.kind === 'notInBuild') {
    void vscode.window.showErrorMessage(`Layerscope: ${verdict.message}. The execution provider stays ${current}.`);
    return;
  }
  if (verdict.kind === 'notInstalled') {
    const use = await vscode.window.showWarningMessage(`Layerscope: ${verdict.message}. Probes will fail on ${picked.label} until it is installed.`, 'Use anyway', 'Keep ' + current);
    if (use !== 'Use anyway') return;
  }
  await config.update('executionProvider', picked.label, vscode.ConfigurationTarget.Global);
  if (picked.label === 'cuda' || picked.label === 'dml') {
    const id = await vscode.window.showInputBox({ title: 'GPU device index', value: String(config.get<number>('deviceId', 0)), validateInput: (v) => (/^\d+$/.test(v) ? undefined : 'a non-negative integer') });
    if (id !== undefined) await config.update('deviceId', Number(id), vscode.ConfigurationTarget.Global);
  }
}
