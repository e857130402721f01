import type * as vscode from 'vscode';
import type { Model } from '../core/ir/types';
import type { ModelFormat } from '../core/open';
import type { HostToWebview } from '../protocol/messages';

/**
 * What the feature modules (probes, gradient probes, PyTorch source) need from the rest of the extension host. The
 * extension builds one object and hands it to every `register…` function, so those modules never reach into each
 * other or into the inspector's internals.
 */
export interface HostServices {
  /** The "Layerscope" LogOutputChannel. */
  log: vscode.LogOutputChannel;
  /** Reads the model behind a URI: core/open.ts names its format, and the loader registered for that format reads it. */
  loadModel(uri: vscode.Uri): Promise<Model>;
  /** The model of the inspector the user last focused, for commands run from the palette. */
  activeModelUri(): vscode.Uri | undefined;
  /** Shows the model's inspector (opening it when needed) and posts a message to it. */
  postToPanel(uri: vscode.Uri, message: HostToWebview): Promise<void>;
  /**
   * Opens the inspector on a model that has no .onnx file, such as a PyTorch class lowered from source. `uri` keys the
   * panel, so that running the command again reveals the same panel.
   */
  openModel(uri: vscode.Uri, model: Model, title: string): Promise<void>;
  /** Teaches `loadModel` a model format of core/open.ts, for example 'python'. */
  registerModelLoader(format: ModelFormat, loader: (uri: vscode.Uri) => Promise<Model>): void;
  /** Opens (or reveals) the inspector on a model file: the custom editor for .onnx, a registered loader otherwise. */
  openModelFile(uri: vscode.Uri): Promise<void>;
  /** The execution provider and GPU index that probes should use, read from the settings each time. */
  executionProvider(): ExecutionProviderSetting;
  /** False in Restricted Mode: nothing that executes may run. */
  isTrusted(): boolean;
}

/** `layerscope.executionProvider` and `layerscope.deviceId`, as the user set them. */
export interface ExecutionProviderSetting {
  provider: 'auto' | 'cpu' | 'cuda' | 'webgpu' | 'dml' | 'coreml';
  deviceId: number;
}

/**
 * The signature that src/host/pythonFeatures.ts (`registerPythonFeatures`) and src/host/gradCommands.ts
 * (`registerGradCommands`) export. The extension loads them when they exist and passes the same services to both.
 */
export type RegisterFeature = (context: vscode.ExtensionContext, deps: HostServices) => void | Promise<void>;
