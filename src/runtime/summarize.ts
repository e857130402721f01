import type { LayerFindings } from '../core/stats/diagnostics';
import { computeTensorStats } from '../core/stats/tensorStats';
import { deadUnits, initialCrossEntropy } from '../core/stats/units';
import type { ProbeTarget, ValueResult } from './protocol';

/**
 * One fetched tensor reduced to what the report needs. It runs on the worker's main thread or on one of its stats
 * threads, so it takes plain data and returns plain data.
 */
export interface StatsTask {
  index: number;
  value: string;
  dtype: string;
  dims: number[];
  data: Float32Array | Float64Array;
  target: ProbeTarget;
  bins: number;
}

export function summarizeValue(task: StatsTask): ValueResult {
  const { data, dims, target } = task;
  const { stats, histogram, nonFinite } = computeTensorStats(data, { bins: task.bins, saturation: target.saturation });
  const findings: LayerFindings = {};
  if (nonFinite) findings.nonFinite = nonFinite;
  if (target.deadUnits && dims.length >= 2) {
    findings.deadUnits = deadUnits(data, dims);
    findings.observationsPerUnit = dims[0]! * dims.slice(2).reduce((a, b) => a * b, 1);
  }
  if (target.classifier) findings.initialLoss = initialCrossEntropy(data, dims, target.classifier);
  return { value: task.value, dims, dtype: task.dtype, stats, histogram, findings };
}

/**
 * Longest-processing-time-first assignment of tasks to `bins` workers by element count: the largest tensor goes to
 * the least loaded worker. Returns task indices per worker.
 */
export function partitionTasks(sizes: readonly number[], bins: number): number[][] {
  const out: number[][] = Array.from({ length: Math.max(1, bins) }, () => []);
  const load = new Array<number>(out.length).fill(0);
  const order = sizes.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0]);
  for (const [size, i] of order) {
    let best = 0;
    for (let b = 1; b < load.length; b++) if (load[b]! < load[best]!) best = b;
    out[best]!.push(i);
    load[best]! += size;
  }
  return out;
}
