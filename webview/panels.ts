import type { ModelSummary } from '../src/core/analysis/types';
import type { GradReport, ProbeReport } from '../src/core/reports';
import type { WebviewToHost } from '../src/protocol/messages';

/**
 * The contract between the inspector shell (main.ts) and the probe and gradient panels that other modules own
 * (webview/charts/probePanel.ts and webview/charts/gradPanel.ts). The shell loads those modules when they exist, so
 * it compiles and runs before they are written; a panel module exports a factory named `createProbePanel` or
 * `createGradPanel` with the `PanelFactory` signature below.
 */

/** What the shell lends a panel: everything it may need, passed in rather than reached for through globals. */
export interface PanelHost {
  document: Document;
  /** The model the panel belongs to; null until the init message has arrived. */
  summary: ModelSummary | null;
  /** False in Restricted Mode, where nothing may execute; the panel should say so instead of offering a run button. */
  trusted: boolean;
  /** Sends a message to the extension host, for example { type: 'runProbe' }. */
  post(message: WebviewToHost): void;
  /** Selects a layer in the table and reveals it in the graph, for example from a diagnostic that names a node. */
  revealLayer(name: string): void;
}

/** A mounted panel. The shell inserts `element` into its tab and calls `update` for each result that arrives. */
export interface ResultPanel<R> {
  readonly element: HTMLElement;
  update(report: R): void;
  dispose?(): void;
}

export type PanelFactory<R> = (host: PanelHost) => ResultPanel<R>;

export interface PanelReports {
  probe: ProbeReport;
  grad: GradReport;
}

export type PanelName = keyof PanelReports;

/** The export name the shell looks for in webview/charts/<name>Panel.ts. */
export function factoryExportName(name: PanelName): string {
  return `create${name[0]!.toUpperCase()}${name.slice(1)}Panel`;
}

/** Picks the factory out of a loaded module, or returns null when the module does not provide one. */
export function pickFactory<N extends PanelName>(name: N, module: unknown): PanelFactory<PanelReports[N]> | null {
  if (typeof module !== 'object' || module === null) return null;
  const candidate = (module as Record<string, unknown>)[factoryExportName(name)];
  return typeof candidate === 'function' ? (candidate as PanelFactory<PanelReports[N]>) : null;
}
