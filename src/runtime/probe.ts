import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Model } from '../core/ir/types';
import type { ProbeLayer, ProbeReport } from '../core/reports';
import { diagnoseProbe } from '../core/stats/diagnostics';
import type { DiagnosableLayer } from '../core/stats/diagnostics';
import { DEFAULT_BINS } from '../core/stats/tensorStats';
import { buildFeeds } from './inputs';
import type { InputOptions } from './inputs';
import { DEFAULT_BUDGET_BYTES, planProbe, prepareProbeModels } from './probePlan';
import type { ExecutionProviderChoice } from './providers';
import { isAcceleratorProvider } from './providers';
import { runProbeJob } from './runtimeClient';
import { PARALLEL_MIN_ELEMENTS } from './statsPool';
import type { PlannedValue, ProbePlan, WrittenGroups } from './probePlan';
import type { ProbeJob } from './protocol';
import type { RunJobOptions } from './runtimeClient';

/**
 * An activation probe, end to end: build the inputs, plan which values to fetch in which session, write the probe
 * models to a temporary folder, run them in the worker, and turn the statistics into a ProbeReport (the
 * `layerscope probe --json` contract in docs/json-contract.md) with diagnostics.
 */

export interface ProbeOptions extends InputOptions, Pick<RunJobOptions, 'signal' | 'timeoutMs' | 'onProgress' | 'workerPath'> {
  provider?: ExecutionProviderChoice;
  deviceId?: number;
  bins?: number;
  budgetBytes?: number;
  /** The most nodes the model may have, model-local functions inlined. Default DEFAULT_MAX_NODES. */
  maxNodes?: number;
  /** 'basic' keeps every probed value (a probed value is a graph output, which no fusion may remove). */
  graphOptimizationLevel?: 'disabled' | 'basic';
  /** Only these node or value names. */
  select?: string[];
}

export interface ProbeOutcome {
  report: ProbeReport;
  /** Things the user should know that are not part of the report: providers that failed to start, estimates. */
  notes: string[];
}

/**
 * Probes `model`. It may be a promise: the worker process starts at once, so that its start-up (a Node process, then
 * onnxruntime) overlaps reading the model and the input. The input options are read when the model has arrived.
 */
export async function probeModel(model: Model | Promise<Model>, options: ProbeOptions = {}): Promise<ProbeOutcome> {
  const start = performance.now();
  let written: WrittenGroups | undefined;
  let plan: ProbePlan | undefined;
  let prepared = start;
  const provider = options.provider ?? 'auto';
  // Planning and preparing the models runs once the model is here, after the worker has been forked.
  const job = Promise.resolve(model).then((m): Omit<ProbeJob, 'type' | 'id'> => {
    const feeds = buildFeeds(m, options);
    const inputShapes: Record<string, number[]> = {};
    for (const f of feeds) inputShapes[f.name] = f.dims;
    plan = planProbe(m, { inputShapes, budgetBytes: options.budgetBytes ?? DEFAULT_BUDGET_BYTES, ...(options.maxNodes ? { maxNodes: options.maxNodes } : {}), ...(options.select ? { select: options.select } : {}) });
    written = prepareProbeModels(m, plan);
    const profileDir = join(written.dir, 'profile');
    mkdirSync(profileDir, { recursive: true });
    prepared = performance.now();
    return {
      groups: written.groups,
      feeds,
      provider,
      deviceId: options.deviceId ?? 0,
      graphOptimizationLevel: options.graphOptimizationLevel ?? 'basic',
      bins: options.bins ?? DEFAULT_BINS,
      // Profiling only ever switches on for accelerator providers, where it finds the nodes that fell back to the CPU.
      profileDir,
      // Statistics threads pay off only for large groups; small probes skip starting them.
      ...(maxGroupElements(plan.groups) < PARALLEL_MIN_ELEMENTS ? { statsThreads: 0 } : {}),
    };
  });
  try {
    const result = await runProbeJob(job, options);
    if (!plan) throw new Error('the probe finished without a plan');
    const notes = [...plan.warnings];
    const byValue = new Map(result.values.map((v) => [v.value, v]));
    const diagnosable: DiagnosableLayer[] = [];
    const layers: ProbeLayer[] = [];
    for (const planned of plan.values) {
      const r = byValue.get(planned.value);
      if (!r) continue;
      const layer: ProbeLayer = {
        name: planned.node.name || planned.value,
        op: planned.node.opType,
        output: planned.value,
        shape: r.dims,
        stats: r.stats,
        histogram: r.histogram,
      };
      layers.push(layer);
      diagnosable.push({ layer, findings: r.findings });
    }
    for (const f of result.providerFailures) notes.push(`execution provider ${f.provider} did not start (${briefReason(f.message)})`);
    const report: ProbeReport = {
      executionProvider: result.executionProvider,
      timing: {
        totalMs: round(performance.now() - start),
        prepareMs: round(prepared - start),
        sessionMs: round(result.timing.sessionMs),
        runMs: round(result.timing.runMs),
        statsMs: round(result.timing.statsMs),
        sessions: plan.groups.length,
      },
      layers,
      diagnostics: diagnoseProbe(diagnosable),
    };
    if (isAcceleratorProvider(result.executionProvider) && result.cpuFallbackNodes) report.cpuFallbackNodes = result.cpuFallbackNodes;
    return { report, notes };
  } finally {
    written?.dispose();
  }
}

function maxGroupElements(groups: PlannedValue[][]): number {
  let max = 0;
  for (const g of groups) {
    let bytes = 0;
    for (const v of g) bytes += v.estimatedBytes;
    max = Math.max(max, bytes / 4);
  }
  return max;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** onnxruntime prefixes its reasons with source locations; the last clause is the part a user can act on. */
function briefReason(message: string): string {
  const parts = message.split(/:\s+/).filter((p) => p.trim().length > 0);
  const tail = parts.slice(-2).join(': ');
  return tail.length > 120 ? `${tail.slice(0, 119)}…` : tail;
}
