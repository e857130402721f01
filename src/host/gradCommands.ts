import * as vscode from 'vscode';
import { isUserInputError } from '../core/errors';
import type { Dim, Model } from '../core/ir/types';
import { summarizeModel } from '../core/analysis/summary';
import { modelFormat } from '../core/open';
import type { GradReport } from '../core/reports';
import { modelInputs } from '../runtime/inputs';
import { ProbeCancelledError } from '../runtime/runtimeClient';
import { fixedBatch, readProbeSettings, type ProbeInputChoice } from './probeChoices';
import {
  describeGradChoice,
  gradGoals,
  outputClassCount,
  validateTargetIndex,
  gradChoiceKey,
  gradChoiceToOptions,
  parseStoredGradChoice,
  type GradChoice,
  type GradLoss,
} from './gradChoices';
import { runGradProbe, type GradTarget } from '../runtime/gradRunner';
import type { HostServices } from './hostServices';
import { DEFAULT_CHECK } from '../core/autodiff/gradCheck';

/**
 * "Layerscope: Run Gradient Probe", from the inspector, the palette or a PyTorch CodeLens. It asks for the inputs, the
 * loss and its target (offering the model's last choice first), runs the backward graph and the numerical check in
 * the gradient worker under a cancellable progress notification, and posts { type: 'gradResult', report } to the
 * model's inspector. Like every probe it runs the model, so it is refused in Restricted Mode.
 */

export const RUN_GRAD_PROBE_COMMAND = 'layerscope.runGradientProbe';

function targetUri(arg: unknown, deps: HostServices): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && arg.length > 0) return vscode.Uri.file(arg);
  if (typeof arg === 'object' && arg !== null && (arg as { uri?: unknown }).uri instanceof vscode.Uri) return (arg as { uri: vscode.Uri }).uri;
  const active = deps.activeModelUri();
  if (active) return active;
  const editor = vscode.window.activeTextEditor?.document.uri;
  return editor && modelFormat(editor.fsPath) !== undefined ? editor : undefined;
}

async function askInput(model: Model): Promise<ProbeInputChoice | undefined> {
  const picked = await vscode.window.showQuickPick(
    [
      { label: '$(symbol-numeric) Random normal N(0, 1)', action: 'random' as const },
      { label: '$(file-binary) NumPy .npy file(s)…', action: 'npy' as const },
      { label: '$(file-media) Image (PNG or JPEG)…', description: 'also draws a saliency map', action: 'image' as const },
    ],
    { title: 'Layerscope gradient probe (2/2): inputs' },
  );
  if (!picked) return undefined;
  if (picked.action === 'random') {
    // A model that fixes its batch size runs with that batch whatever is typed, so it is not asked for.
    const fixed = fixedBatch(modelInputs(model));
    if (fixed !== null) return { kind: 'random', distribution: 'normal', seed: 0, batch: fixed };
    const batch = await vscode.window.showInputBox({
      title: 'Batch size',
      value: '4',
      prompt: 'Replaces the model’s symbolic batch dimension',
      validateInput: (v) => (/^[1-9]\d*$/.test(v.trim()) ? undefined : 'a positive integer'),
    });
    return batch === undefined ? undefined : { kind: 'random', distribution: 'normal', seed: 0, batch: Number(batch.trim()) };
  }
  if (picked.action === 'npy') {
    const files: { name?: string; path: string }[] = [];
    for (const input of modelInputs(model)) {
      const chosen = await vscode.window.showOpenDialog({ title: `.npy for input '${input.name}'`, canSelectMany: false, filters: { NumPy: ['npy'] } });
      if (!chosen || chosen.length === 0) return undefined;
      files.push({ name: input.name, path: chosen[0]!.fsPath });
    }
    return { kind: 'npy', files };
  }
  const chosen = await vscode.window.showOpenDialog({ title: 'Image to feed', canSelectMany: false, filters: { Images: ['png', 'jpg', 'jpeg'] } });
  return chosen && chosen.length > 0 ? { kind: 'image', path: chosen[0]!.fsPath } : undefined;
}

/** The first prompt: the gradient of what. Undefined when the user backed out. */
async function askGoal(model: Model): Promise<{ loss: GradLoss; target: GradTarget | null } | undefined> {
  const classes = outputClassCount(firstOutputShape(model));
  const picked = await vscode.window.showQuickPick(
    gradGoals(classes).map((goal) => ({ ...goal })),
    { title: 'Layerscope gradient probe (1/2): gradient of', placeHolder: 'Which loss or output unit to differentiate' },
  );
  if (!picked) return undefined;
  if (picked.target === 'predicted') return { loss: picked.loss, target: { kind: 'predicted' } };
  if (picked.target === 'npy') {
    const title = picked.loss === 'mse' ? 'Target .npy (the expected output)' : 'Target class indices (.npy, int64)';
    const chosen = await vscode.window.showOpenDialog({ title, canSelectMany: false, filters: { NumPy: ['npy'] } });
    return chosen && chosen.length > 0 ? { loss: picked.loss, target: { kind: 'npy', path: chosen[0]!.fsPath } } : undefined;
  }
  const optional = picked.target === 'unit';
  const text = await vscode.window.showInputBox({
    title: optional ? 'Output unit K' : 'Class K',
    prompt: classes !== null ? `0 to ${classes - 1}${optional ? ', or empty for the whole output' : ''}` : optional ? 'empty for the whole output' : 'a class index',
    value: optional ? '' : '0',
    validateInput: (v) => validateTargetIndex(v, classes, optional),
  });
  if (text === undefined) return undefined;
  return { loss: picked.loss, target: text.trim() === '' ? null : { kind: 'class', index: Number(text.trim()) } };
}

/** The first output's shape as shape inference gives it: exporters often leave the declared output shape out. */
function firstOutputShape(model: Model): Dim[] | null {
  try {
    return summarizeModel(model).outputs[0]?.shape ?? null;
  } catch {
    return null;
  }
}

async function askChoice(model: Model, remembered: GradChoice | undefined): Promise<GradChoice | undefined> {
  if (remembered) {
    const again = await vscode.window.showQuickPick(
      [
        { label: '$(history) Same as last time', description: describeGradChoice(remembered), reuse: true },
        { label: '$(edit) Choose the loss, its target and the inputs…', reuse: false },
      ],
      { title: 'Layerscope: Run Gradient Probe' },
    );
    if (!again) return undefined;
    if (again.reuse) return remembered;
  }
  const goal = await askGoal(model);
  if (!goal) return undefined;
  const input = await askInput(model);
  if (!input) return undefined;
  return { input, loss: goal.loss, check: remembered?.check ?? DEFAULT_CHECK, ...(goal.target ? { target: goal.target } : {}) };
}

/** Cancels the running gradient probe, as the notification's Cancel does (the panel's Cancel button and keybindings). */
export const CANCEL_GRAD_PROBE_COMMAND = 'layerscope.cancelGradientProbe';

export function registerGradCommands(context: vscode.ExtensionContext, deps: HostServices): void {
  let running: AbortController | null = null;
  context.subscriptions.push(
    vscode.commands.registerCommand(CANCEL_GRAD_PROBE_COMMAND, () => {
      if (running) running.abort();
      else void vscode.window.showInformationMessage('Layerscope: no gradient probe is running.');
    }),
    vscode.commands.registerCommand(RUN_GRAD_PROBE_COMMAND, async (arg?: unknown): Promise<GradReport | undefined> => {
      if (!deps.isTrusted()) {
        void vscode.window.showWarningMessage('Layerscope: gradient probes run the model, so they are off in Restricted Mode. Trust this workspace to enable them.');
        return undefined;
      }
      const uri = targetUri(arg, deps);
      if (!uri) {
        void vscode.window.showInformationMessage('Layerscope: open an ONNX model (or a PyTorch file) to run a gradient probe on.');
        return undefined;
      }
      try {
        const model = await deps.loadModel(uri);
        const key = gradChoiceKey(uri.toString());
        const choice = await askChoice(model, parseStoredGradChoice(context.workspaceState.get(key)));
        if (!choice) return undefined;
        await context.workspaceState.update(key, choice);
        const settings = readProbeSettings((k) => vscode.workspace.getConfiguration('layerscope', uri).get(k));
        const { provider } = deps.executionProvider();
        const options = { ...gradChoiceToOptions(choice, settings), provider, deviceId: deps.executionProvider().deviceId };
        // The panel says that a probe is running (with the progress ring) until its result or error replaces it.
        await deps.postToPanel(uri, { type: 'busy', message: `Gradient probe running on ${provider}…`, cancel: 'gradient' });
        const report = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `Layerscope: gradient probe of ${vscode.workspace.asRelativePath(uri)}`, cancellable: true },
          async (progress, token) => {
            const abort = new AbortController();
            running?.abort();
            running = abort;
            const sub = token.onCancellationRequested(() => abort.abort());
            try {
              progress.report({ message: `backward pass on ${provider}…` });
              let last = 0;
              return await runGradProbe(model, {
                ...options,
                signal: abort.signal,
                onProgress: (done, total, message) => {
                  const pct = (100 * done) / Math.max(1, total);
                  progress.report({ message: `numerical check: ${message} (${done}/${total})`, increment: pct - last });
                  last = pct;
                },
              });
            } finally {
              sub.dispose();
              if (running === abort) running = null;
            }
          },
        );
        deps.log.info(
          `gradient probe of ${uri.fsPath}: loss ${report.loss} on ${report.executionProvider}, ${report.params.length} parameters` +
            (report.check ? `, check worst ${report.check.maxRelError} (${report.check.worst})` : ''),
        );
        await deps.postToPanel(uri, { type: 'gradResult', report });
        return report;
      } catch (e) {
        if (e instanceof ProbeCancelledError) {
          await deps.postToPanel(uri, { type: 'busy', message: null });
          void vscode.window.showInformationMessage('Layerscope: gradient probe cancelled.');
          return undefined;
        }
        const message = e instanceof Error ? e.message : String(e);
        deps.log.error(`gradient probe of ${uri.fsPath} failed: ${message}`);
        void vscode.window.showErrorMessage(`Layerscope: ${isUserInputError(e) ? '' : 'gradient probe failed: '}${message}`);
        await deps.postToPanel(uri, { type: 'error', message, provider: deps.executionProvider().provider });
        return undefined;
      }
    }),
  );
}
