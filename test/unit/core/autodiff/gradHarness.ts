import * as assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { buildBackward, type BackwardResult, type LossSpec } from '../../../../src/core/autodiff';
import { GraphBuilder } from '../../../../src/core/ir/builder';
import { elementCount, inlineValues, makeTensor } from '../../../../src/core/ir/tensorData';
import type { DataType, Model } from '../../../../src/core/ir/types';
import { writeOnnx } from '../../../../src/core/onnx';

/**
 * Test support for gradient rules: run a backward graph in onnxruntime-node and compare every gradient it outputs
 * with central finite differences of the loss, computed by running the same graph with perturbed inputs.
 */

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function randn(n: number, seed: number, scale = 1): number[] {
  const r = rng(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = Math.max(r(), 1e-12);
    const v = r();
    out.push(scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  }
  return out;
}

export interface Feed {
  dtype: DataType;
  dims: number[];
  data: number[] | bigint[];
}

function toOrt(f: Feed): ort.Tensor {
  if (f.dtype === 'float32') return new ort.Tensor('float32', Float32Array.from(f.data as number[]), f.dims);
  if (f.dtype === 'float64') return new ort.Tensor('float64', Float64Array.from(f.data as number[]), f.dims);
  if (f.dtype === 'int64') return new ort.Tensor('int64', BigInt64Array.from((f.data as (number | bigint)[]).map((v) => BigInt(v))), f.dims);
  throw new Error(`feed type ${f.dtype}`);
}

export async function session(model: Model): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(writeOnnx(model), { graphOptimizationLevel: 'disabled' });
}

export async function runModel(model: Model, feeds: Record<string, Feed>): Promise<Record<string, number[]>> {
  const s = await session(model);
  const out = await s.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, toOrt(v)])));
  const res: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(out)) res[k] = Array.from(v.data as ArrayLike<number>, Number);
  return res;
}

/**
 * Adds `loss = sum(y * R)` with a fixed random R to a builder, so that every element of y gets a distinct,
 * non-trivial upstream gradient. Returns the loss name.
 */
export function weightedSumLoss(b: GraphBuilder, y: string, dtype: DataType, dims: number[], seed = 99): string {
  const r = b.initializer('R', dtype, dims, randn(elementCount(dims), seed));
  const prod = b.op('Mul', [y, r]);
  const loss = b.op('ReduceSum', [prod], { keepdims: 0 }, { output: 'loss' });
  b.output(loss, dtype, []);
  return loss;
}

export interface CheckOptions {
  loss?: LossSpec;
  /** Finite-difference step; linear ops in float32 tolerate a large one. */
  eps?: number;
  rtol?: number;
  atol?: number;
  /** Coordinates sampled per tensor. */
  samples?: number;
  /** Inputs not to check (integer inputs are never checked). */
  skip?: string[];
  /** Also check these initializers (rebuilding the model for each perturbation). */
  initializers?: string[];
  extraFeeds?: Record<string, Feed>;
}

export interface CheckResult {
  backward: BackwardResult;
  grads: Record<string, number[]>;
  loss: number;
  checked: number;
}

/** Builds the backward graph, runs it, and checks each input's (and listed initializer's) gradient numerically. */
export async function checkGradients(model: Model, feeds: Record<string, Feed>, opts: CheckOptions = {}): Promise<CheckResult> {
  const backward = buildBackward(model, { loss: opts.loss ?? { kind: 'scalar' } });
  const allFeeds = { ...feeds, ...(opts.extraFeeds ?? {}) };
  const s = await session(backward.model);
  const run = async (f: Record<string, Feed>): Promise<Record<string, ort.Tensor>> =>
    s.run(Object.fromEntries(Object.entries(f).map(([k, v]) => [k, toOrt(v)])));
  const out = await run(allFeeds);
  const grads: Record<string, number[]> = {};
  for (const [value, gname] of backward.gradNames) grads[value] = Array.from(out[gname].data as ArrayLike<number>, Number);
  const loss = Number((out[backward.loss].data as ArrayLike<number>)[0]);
  assert.ok(Number.isFinite(loss), 'loss is finite');
  const eps = opts.eps ?? 1e-6;
  const rtol = opts.rtol ?? 1e-6;
  const atol = opts.atol ?? 1e-8;
  const samples = opts.samples ?? 24;
  let checked = 0;
  const compare = (name: string, i: number, analytic: number, numeric: number): void => {
    const tol = atol + rtol * Math.max(Math.abs(analytic), Math.abs(numeric));
    assert.ok(
      Math.abs(analytic - numeric) <= tol,
      `d loss / d ${name}[${i}]: backward graph ${analytic}, finite differences ${numeric} (tolerance ${tol})`,
    );
    checked++;
  };
  const pick = (n: number, seed: number): number[] => {
    if (n <= samples) return Array.from({ length: n }, (_, i) => i);
    const r = rng(seed);
    const set = new Set<number>();
    while (set.size < samples) set.add(Math.floor(r() * n));
    return [...set];
  };
  let seed = 1;
  for (const [name, feed] of Object.entries(feeds)) {
    if (feed.dtype !== 'float32' && feed.dtype !== 'float64') continue;
    if (opts.skip?.includes(name)) continue;
    const g = grads[name];
    assert.ok(g, `a gradient output for input '${name}'`);
    assert.equal(g.length, (feed.data as number[]).length, `gradient of '${name}' has the input's size`);
    for (const i of pick(g.length, seed++)) {
      const lossAt = async (delta: number): Promise<number> => {
        const data = [...(feed.data as number[])];
        data[i] += delta;
        const o = await run({ ...allFeeds, [name]: { ...feed, data } });
        return Number((o[backward.loss].data as ArrayLike<number>)[0]);
      };
      const numeric = ((await lossAt(eps)) - (await lossAt(-eps))) / (2 * eps);
      compare(name, i, g[i], numeric);
    }
  }
  for (const name of opts.initializers ?? []) {
    const t = model.graph.initializers.find((x) => x.name === name);
    assert.ok(t, `initializer ${name}`);
    const base = inlineValues(t)!;
    const g = grads[name];
    assert.ok(g, `a gradient output for initializer '${name}'`);
    for (const i of pick(g.length, seed++)) {
      const lossAt = async (delta: number): Promise<number> => {
        const data = [...base];
        data[i] += delta;
        const m = {
          ...backward.model,
          graph: {
            ...backward.model.graph,
            initializers: backward.model.graph.initializers.map((x) => (x.name === name ? makeTensor(name, t.dtype, t.dims, data) : x)),
          },
        };
        const s2 = await session(m);
        const o = await s2.run(Object.fromEntries(Object.entries(allFeeds).map(([k, v]) => [k, toOrt(v)])));
        return Number((o[backward.loss].data as ArrayLike<number>)[0]);
      };
      const numeric = ((await lossAt(eps)) - (await lossAt(-eps))) / (2 * eps);
      compare(name, i, g[i], numeric);
    }
  }
  assert.ok(checked > 0, 'at least one coordinate was checked');
  return { backward, grads, loss, checked };
}

/** A float feed of random normal values. */
export function feed(dtype: DataType, dims: number[], seed: number, scale = 1): Feed {
  return { dtype, dims, data: randn(elementCount(dims), seed, scale) };
}

export { GraphBuilder };
