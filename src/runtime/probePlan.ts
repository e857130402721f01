import { checkNodeCount } from '../core/analysis/nodeCount';
import { removeTempFolder, trackTempFolder } from './tempFolders';
import { appendFileSync, constants, copyFileSync, existsSync, mkdtempSync, statfsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserInputError } from '../core/errors';
import { inferShapes } from '../core/analysis/shapes';
import { bitsPerElement } from '../core/ir/dtypes';
import type { DataType, Dim, Model, Node, TensorType } from '../core/ir/types';
import { encodeGraphOutputsPatch, writeOnnxFile } from '../core/onnx/writer';
import { isActivationOp } from '../core/ir/opCatalogue';
import { saturationFor } from '../core/stats/tensorStats';
import type { ClassifierOutputKind } from '../core/stats/units';
import type { ProbeGroup, ProbeTarget } from './protocol';

/**
 * Which values a probe fetches, and in how many sessions. onnxruntime can only fetch graph outputs, so the probe adds
 * the chosen values as outputs of an in-memory copy of the model. Fetched tensors are held until their statistics are
 * computed, so the values are split into groups whose estimated size (from shape inference with the fed input shapes)
 * stays under the memory budget; each group is one session and one run.
 */

export const DEFAULT_BUDGET_BYTES = 512 * 1024 * 1024;

const PROBE_TYPES = new Set<DataType>(['float32', 'float64', 'float16']);

export interface PlannedValue {
  value: string;
  node: Node;
  dtype: DataType;
  /** Inferred shape with the fed input shapes; null when shape inference could not tell. */
  shape: Dim[] | null;
  estimatedBytes: number;
  target: ProbeTarget;
}

export interface ProbePlan {
  values: PlannedValue[];
  groups: PlannedValue[][];
  warnings: string[];
}

export interface PlanOptions {
  inputShapes: Record<string, number[]>;
  budgetBytes?: number;
  /** The most nodes the model may have, functions inlined (see checkNodeCount). Default DEFAULT_MAX_NODES. */
  maxNodes?: number;
  /** Only these values (node output names, or node names for all their outputs). Default: every float node output. */
  select?: string[];
}

function classifierKind(node: Node): ClassifierOutputKind {
  if (node.opType === 'Softmax') return 'probabilities';
  if (node.opType === 'LogSoftmax') return 'logProbabilities';
  return 'logits';
}

function estimate(shape: Dim[] | null, dtype: DataType): number | null {
  if (!shape) return null;
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') return null;
    n *= d;
  }
  return (n * bitsPerElement(dtype)) / 8;
}

export function planProbe(model: Model, options: PlanOptions): ProbePlan {
  const warnings: string[] = [];
  const budget = options.budgetBytes ?? DEFAULT_BUDGET_BYTES;
  let types: Map<string, TensorType> = new Map();
  // Refused before shape inference and before onnxruntime, which inlines every function call.
  checkNodeCount(model, options.maxNodes);
  try {
    types = inferShapes(model, { inputShapes: options.inputShapes }).types;
  } catch (e) {
    warnings.push(`shape inference failed (${e instanceof Error ? e.message : String(e)}); memory estimates are rough`);
  }
  const graphOutputs = new Set(model.graph.outputs.map((o) => o.name));
  const declared = new Map<string, TensorType>();
  for (const v of [...model.graph.valueInfo, ...model.graph.outputs]) {
    if (v.type?.kind === 'tensor') declared.set(v.name, v.type.tensor);
  }
  const selected = options.select && options.select.length > 0 ? new Set(options.select) : null;
  const matched = new Set<string>();

  const values: PlannedValue[] = [];
  for (const node of model.graph.nodes) {
    // Constants are weights, not activations.
    if (node.opType === 'Constant') continue;
    for (const value of node.outputs) {
      if (value === '') continue;
      if (selected) {
        const hit = selected.has(value) ? value : selected.has(node.name) ? node.name : null;
        if (!hit) continue;
        matched.add(hit);
      }
      const type = types.get(value) ?? declared.get(value);
      if (!type || !PROBE_TYPES.has(type.dtype)) continue;
      const shape = type.shape;
      // A classifier's scores leave the graph as [N, C] from a linear layer or a softmax, not from a hidden nonlinearity.
      const isClassifier =
        graphOutputs.has(value) && shape?.length === 2 && typeof shape[1] === 'number' && shape[1] >= 2 && !isActivationOp(node.opType);
      const target: ProbeTarget = {
        value,
        saturation: saturationFor(node.opType),
        deadUnits: node.opType === 'Relu',
        ...(isClassifier ? { classifier: classifierKind(node) } : {}),
      };
      values.push({ value, node, dtype: type.dtype, shape, estimatedBytes: estimate(shape, type.dtype) ?? -1, target });
    }
  }
  if (selected) {
    const missing = [...selected].filter((s) => !matched.has(s));
    if (missing.length > 0) throw new UserInputError(`no node or value named ${missing.map((m) => `'${m}'`).join(', ')} in the model`);
  }
  if (values.length === 0) throw new UserInputError('the model has no float-valued node outputs to probe');

  // A value of unknown size is assumed as large as the largest known one, which errs towards more, smaller groups.
  const known = values.filter((v) => v.estimatedBytes >= 0).map((v) => v.estimatedBytes);
  const fallback = known.length > 0 ? Math.max(...known) : 4 * 1024 * 1024;
  for (const v of values) if (v.estimatedBytes < 0) v.estimatedBytes = fallback;

  const groups: PlannedValue[][] = [];
  let current: PlannedValue[] = [];
  let held = 0;
  for (const v of values) {
    if (v.estimatedBytes > budget) {
      warnings.push(`${v.value} alone needs about ${Math.round(v.estimatedBytes / 2 ** 20)} MB, more than the ${Math.round(budget / 2 ** 20)} MB budget; it is fetched on its own`);
    }
    if (current.length > 0 && held + v.estimatedBytes > budget) {
      groups.push(current);
      current = [];
      held = 0;
    }
    current.push(v);
    held += v.estimatedBytes;
  }
  if (current.length > 0) groups.push(current);
  return { values, groups, warnings };
}

/** A copy of the model whose graph outputs are exactly the given values (typed, shapes left to the runtime). */
export function modelWithOutputs(model: Model, values: PlannedValue[]): Model {
  const names = new Set(values.map((v) => v.value));
  return {
    ...model,
    graph: {
      ...model.graph,
      outputs: values.map((v) => ({ name: v.value, type: { kind: 'tensor', tensor: { dtype: v.dtype, shape: null } } })),
      // value_info must not repeat a graph output's name, and a stale shape there could contradict the runtime's.
      valueInfo: model.graph.valueInfo.filter((vi) => !names.has(vi.name)),
    },
  };
}

/** Files written for one probe; `dispose` removes them. The user's model file is never written. */
export interface WrittenGroups {
  groups: ProbeGroup[];
  dir: string;
  dispose(): void;
}

/** Large models keep their weights in an external-data file, so that no protobuf approaches the 2 GB limit. */
const EXTERNAL_THRESHOLD_BYTES = 256 * 1024 * 1024;

/** Linux's memory-backed file system, where a probe copy is never written back to a disk. */
const MEMORY_FOLDER = '/dev/shm';

/**
 * A new folder for probe copies totalling about `bytes`: in memory (/dev/shm) when the machine has one with room to
 * spare, otherwise in the temporary folder. On a disk, a freshly written copy is still being written back while
 * onnxruntime reads it; on ResNet-18 that made creating the session about 30 ms slower than from memory. Probe
 * copies are deleted as soon as the worker has run them, so the memory is held only briefly.
 */
export function makeProbeFolder(bytes: number): string {
  if (process.platform === 'linux') {
    try {
      const fs = statfsSync(MEMORY_FOLDER);
      if (fs.bavail * fs.bsize > 2 * bytes + 64 * 1024 * 1024) return trackTempFolder(mkdtempSync(join(MEMORY_FOLDER, 'layerscope-probe-')));
    } catch {
      // No /dev/shm, or not writable: the temporary folder serves.
    }
  }
  return trackTempFolder(mkdtempSync(join(tmpdir(), 'layerscope-probe-')));
}

/**
 * The sessions' models, the cheapest way that works. A model read from a self-contained .onnx file is copied as it is
 * (the kernel copies it; nothing is decoded), and a small patch that adds the group's values as graph outputs is
 * appended to the copy (see encodeGraphOutputsPatch). For ResNet-18 that takes about a third of the time that
 * re-encoding its 45 MB of weights did. A model built in memory (PyTorch source), or one whose weights live in
 * external-data files (which onnxruntime finds relative to the model's own folder), is written out by the writer.
 */
export function prepareProbeModels(model: Model, plan: ProbePlan): WrittenGroups {
  const source = model.path;
  const external = model.graph.initializers.some((t) => t.data.kind === 'file' && t.data.external !== undefined);
  if (model.format !== 'onnx' || !source || external || !existsSync(source)) return writeProbeModels(model, plan);
  const dir = makeProbeFolder(statSync(source).size * plan.groups.length);
  const dispose = (): void => removeTempFolder(dir);
  try {
    const alreadyOutputs = new Set(model.graph.outputs.map((o) => o.name));
    const groups = plan.groups.map((group, i) => {
      const file = join(dir, `group${i}.onnx`);
      copyFileSync(source, file, constants.COPYFILE_FICLONE);
      const added = group.filter((v) => !alreadyOutputs.has(v.value));
      appendFileSync(file, encodeGraphOutputsPatch(added.map((v) => ({ name: v.value, type: { kind: 'tensor', tensor: { dtype: v.dtype, shape: null } } }))));
      return { modelPath: file, temporaryCopy: true, targets: group.map((v) => v.target) };
    });
    return { groups, dir, dispose };
  } catch (e) {
    dispose();
    throw e;
  }
}

export function writeProbeModels(model: Model, plan: ProbePlan): WrittenGroups {
  let weightBytes = 0;
  for (const t of model.graph.initializers) weightBytes += t.data.kind === 'file' ? t.data.length : t.data.kind === 'inline' ? t.data.bytes.length : 0;
  const dir = makeProbeFolder(weightBytes * plan.groups.length);
  const dispose = (): void => removeTempFolder(dir);
  try {
    const groups = plan.groups.map((group, i) => {
      const file = `group${i}.onnx`;
      // Streamed to the file as it is encoded, rather than assembled in memory and then written.
      writeOnnxFile(modelWithOutputs(model, group), join(dir, file), weightBytes > EXTERNAL_THRESHOLD_BYTES ? { externalData: { location: `${file}.data` } } : {});
      return { modelPath: join(dir, file), temporaryCopy: true, targets: group.map((v) => v.target) };
    });
    return { groups, dir, dispose };
  } catch (e) {
    dispose();
    throw e;
  }
}
