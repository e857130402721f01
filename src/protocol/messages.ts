import type { NodeDetails } from '../core/analysis/nodeDetails';
import type { ModelSummary } from '../core/analysis/types';
import type { GradReport, ProbeReport } from '../core/reports';

/**
 * The one typed protocol between the extension host and the webview. It is the only module both sides import; the
 * webview's tsconfig has DOM libs and no Node types, so keep this file free of runtime imports.
 *
 * The webview posts 'ready' first; only then does the host send data. Large payloads (thousands of layers) travel in
 * one message, never one per node.
 */

/** Which panel a webview shows. One bundle serves them all and switches on this. */
export type PanelKind = 'inspector' | 'probe' | 'grad';

export type ExportFormat = 'markdown' | 'json' | 'csv';

/** The two kinds of probe that run in a worker and can be cancelled from the panel. */
export type ProbeKind = 'activation' | 'gradient';

/** How the layer table and the graph share the inspector: the table's share and which pane, if any, fills it. */
export interface PaneLayout {
  /** The layer table's fraction of the split (0.15 to 0.85). */
  ratio: number;
  maximized: 'none' | 'first' | 'second';
}

export interface InitMessage {
  type: 'init';
  panel: PanelKind;
  /** Shown in the header; for a Python model it is the class name. */
  title: string;
  summary: ModelSummary;
  /** False in Restricted Mode: probes are off and the view says why. */
  trusted: boolean;
  /** Layer names whose scope should start collapsed, decided by the host from the setting and the graph size. */
  collapseThreshold: number;
  /** The model's URI (file.py#Class for a class from Python source): the webview keeps it as its state, so that a
   * panel survives a window reload (the host's panel serializer reopens it). */
  source?: string;
  /** The pane layout the user last chose in this workspace; absent before the first change. */
  layout?: PaneLayout;
}

export type HostToWebview =
  | InitMessage
  | { type: 'revealLayer'; name: string }
  /** Answer to the webview's 'nodeDetails' request; null when the layer is not in the model. */
  | { type: 'nodeDetails'; details: NodeDetails | null }
  | { type: 'probeResult'; report: ProbeReport }
  | { type: 'gradResult'; report: GradReport }
  /** A status line with a progress ring; `cancel` names the running probe that the line's Cancel button stops. */
  | { type: 'busy'; message: string | null; cancel?: ProbeKind }
  /**
   * An error line. `provider` is the execution-provider setting a failed probe ran under: the host clears the line
   * once the setting changes, because the error no longer describes what a probe would do.
   */
  | { type: 'error'; message: string; provider?: string };

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'layerSelected'; name: string }
  /** The user selected a layer: the host answers with its attributes, inputs and outputs (computed from the model). */
  | { type: 'nodeDetails'; layer: number }
  | { type: 'runProbe' }
  | { type: 'runGradProbe' }
  /** The status line's Cancel button: the host cancels the probe as the progress notification's Cancel does. */
  | { type: 'cancelProbe'; probe: ProbeKind }
  | { type: 'exportSummary'; format: ExportFormat }
  | { type: 'copyMarkdown' }
  /** The webview renders the SVG or PNG itself; the host only asks where to save it. */
  | { type: 'saveImage'; format: 'svg' | 'png'; data: string }
  /** The user resized or maximised a pane; the host remembers it for the workspace. */
  | { type: 'layoutChanged'; layout: PaneLayout }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  /** Timing of the first paint after data arrived, logged by the host and read by the editor benchmark. */
  | { type: 'rendered'; what: string; ms: number };

export function isWebviewToHost(value: unknown): value is WebviewToHost {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}
