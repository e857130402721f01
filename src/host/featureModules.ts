import type * as vscode from 'vscode';
import type { HostServices } from './hostServices';

/**
 * Features that plug into the inspector through HostServices. Listed as data so that adding one is one line, and so
 * that activation can isolate a failing feature from the rest.
 */
export interface FeatureModule {
  name: string;
  register(context: vscode.ExtensionContext, services: HostServices): void;
}

export const FEATURE_MODULES: FeatureModule[] = [];
