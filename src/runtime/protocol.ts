import type { Histogram, TensorStats } from '../core/reports';
import type { LayerFindings } from '../core/stats/diagnostics';
import type { ClassifierOutputKind } from '../core/stats/units';
import type { Saturation } from '../core/stats/tensorStats';
import type { ExecutionProviderChoice } from './providers';
import type { WorkerEnvelope } from './workerProcess';

/**
 * The typed protocol between a front end (CLI or extension host) and the runtime worker, a child process that owns
 * onnxruntime-node. Messages travel over child_process IPC with the 'advanced' serialization, so typed arrays arrive
 * as typed arrays and no tensor is ever turned into JSON. Only statistics come back: the worker never ships an
 * activation tensor to its parent.
 */

export type FeedDtype = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool' | 'float16';

export interface Feed {
  name: string;
  dtype: FeedDtype;
  dims: number[];
  /** float16 travels as its raw bits in a Uint16Array. */
  data: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Uint16Array;
}

/** One value to fetch and summarise. */
export interface ProbeTarget {
  value: string;
  /** Which saturation rule applies (from the producing op). */
  saturation: Saturation;
  /** Count units that stay zero over the whole batch (ReLU outputs). */
  deadUnits: boolean;
  /** For graph outputs shaped [N, C]: how to read them for the initial-loss check. */
  classifier?: ClassifierOutputKind;
}

/** One session: a model file whose graph outputs include the group's targets (a probe copy of the user's model). */
export interface ProbeGroup {
  modelPath: string;
  /**
   * The file is a temporary probe copy: the worker deletes it once the session has loaded it and run, so that deleting
   * a large file overlaps the statistics instead of delaying the result.
   */
  temporaryCopy?: boolean;
  targets: ProbeTarget[];
}

export interface ProbeJob {
  type: 'probe';
  id: number;
  groups: ProbeGroup[];
  feeds: Feed[];
  provider: ExecutionProviderChoice;
  deviceId: number;
  graphOptimizationLevel: 'disabled' | 'basic';
  bins: number;
  /** Folder for onnxruntime's profiling traces (CPU fallback detection); none disables profiling. */
  profileDir?: string;
  /** Threads that compute statistics besides the main one; default: one per spare core, at most 7. */
  statsThreads?: number;
  /** For tests of the isolation: make the worker crash or hang on purpose. */
  debug?: 'crash' | 'hang' | 'oom';
}

export type ParentToWorker = ProbeJob | { type: 'shutdown' };

export interface ValueResult {
  value: string;
  dims: number[];
  dtype: string;
  stats: TensorStats;
  histogram: Histogram;
  findings: LayerFindings;
}

export interface ProbeJobResult {
  executionProvider: string;
  /** Providers tried before the one that ran, with why each failed. */
  providerFailures: { provider: string; message: string }[];
  cpuFallbackNodes?: string[];
  values: ValueResult[];
  timing: { sessionMs: number; runMs: number; statsMs: number };
}

/** The envelope every worker speaks (see runtime/workerProcess.ts), carrying this worker's result. */
export type WorkerToParent = WorkerEnvelope<ProbeJobResult>;

export function isWorkerToParent(value: unknown): value is WorkerToParent {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}
