import type { LayerFindings } from '../core/stats/diagnostics';
import { SeededRandom } from '../core/stats/random';
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

/**
 * Runs the statistics on small synthetic tensors, once, so that the JavaScript around the WebAssembly kernels (dead
 * units, the histogram folds, the percentile search) is compiled and optimised before real tensors arrive, and the
 * kernels' module is instantiated. A probe runs in a fresh process, where that code would otherwise start in V8's slow
 * tiers. Statistics threads do this while the main thread creates the session, which keeps the main thread blocked
 * anyway.
 */
export function warmUpStatistics(): void {
  const random = new SeededRandom(1);
  const elements = 1 << 12;
  const dims = [2, 16, elements / 32];
  const general = new Float32Array(elements);
  random.fillNormal(general);
  const relu = general.map((v) => Math.max(0, v));
  const tasks: [Float32Array, ProbeTarget][] = [
    [general, { value: 'warm-up', saturation: 'none', deadUnits: false }],
    [relu, { value: 'warm-up', saturation: 'none', deadUnits: true }],
    [general, { value: 'warm-up', saturation: 'tanh', deadUnits: false }],
    [relu, { value: 'warm-up', saturation: 'sigmoid', deadUnits: true }],
  ];
  for (let round = 0; round < 10; round++) {
    for (const [data, target] of tasks) summarizeValue({ index: 0, value: target.value, dtype: 'float32', dims, data, target, bins: 64 });
  }
}
