import type * as Ort from 'onnxruntime-node';
import { float16BitsToFloat32 } from '../core/ir/tensorData';
import type { Feed } from './protocol';
import { isAcceleratorProvider, providerConfig, providerFailureHint } from './providers';
import type { ConcreteProvider } from './providers';
import { quietRuntimeEnvironment } from './workerProcess';

/**
 * What both runtime workers (the activation probe's worker.ts and the gradient probe's gradWorker.ts) do with
 * onnxruntime-node: create a session with one provider per attempt, run it with errors cut to one line, and read
 * fetched tensors as floating-point arrays for the statistics (float16 widened from its bits). Kept in one place
 * because the two copies this replaces had drifted: the gradient worker read float16 bit patterns as numbers.
 *
 * onnxruntime-node is required lazily, on first use: the probe worker's statistics threads load the same bundle and
 * must never load the native addon.
 */

/** An error caused by the user's model or input, reported as one line with exit code 2 (not a crash). */
export class WorkerUserError extends Error {}

let ortModule: typeof Ort | undefined;

/** onnxruntime-node, loaded on first use with its telemetry off (see `quietRuntimeEnvironment`). */
export function ort(): typeof Ort {
  if (!ortModule) {
    // The parent already sets these (workerProcess.ts); set again for a worker started some other way.
    Object.assign(process.env, quietRuntimeEnvironment());
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    ortModule = require('onnxruntime-node') as typeof Ort;
    ortModule.env.logLevel = 'error';
  }
  return ortModule;
}

/** onnxruntime's messages are long and multi-line; the first line (trimmed) says what went wrong. */
export function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const line = text.split('\n').find((l) => l.trim().length > 0) ?? text;
  return line.length > 400 ? `${line.slice(0, 400)}…` : line.trim();
}

export function toOrtTensor(feed: Feed): Ort.Tensor {
  return new (ort().Tensor)(feed.dtype, feed.data as never, feed.dims);
}

export interface SessionRequest {
  modelPath: string;
  /** Providers to try in order; the first that starts is used. */
  attempts: ConcreteProvider[];
  deviceId: number;
  graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
  /** Every failed attempt is appended here, so that front ends can say which providers did not start and why. */
  failures: { provider: string; message: string }[];
  /** What the model is in error messages: 'the model', 'the gradient graph'. */
  what: string;
  /** Profile sessions on accelerator providers into files with this prefix (CPU fallback detection). */
  profilePrefix?: string;
  /**
   * Whether onnxruntime's intra-op threads spin while they wait for work (its default, true). false makes them sleep:
   * on a machine that other work shares, spinning threads take turns away from the ones with work to do.
   */
  spinning?: boolean;
}

export interface OpenedSession {
  session: Ort.InferenceSession;
  provider: ConcreteProvider;
  profiled: boolean;
}

/**
 * Creates a session, one provider per attempt: onnxruntime throws at session creation when a compiled-in provider
 * cannot start, even when 'cpu' follows it in the list (see providers.ts).
 */
export async function createSession(request: SessionRequest): Promise<OpenedSession> {
  for (const provider of request.attempts) {
    const profiled = request.profilePrefix !== undefined && isAcceleratorProvider(provider);
    const options: Ort.InferenceSession.SessionOptions = {
      executionProviders: [providerConfig(provider, request.deviceId) as Ort.InferenceSession.ExecutionProviderConfig],
      graphOptimizationLevel: request.graphOptimizationLevel,
      logSeverityLevel: 3,
      ...(request.spinning === false ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
    };
    if (profiled) {
      options.enableProfiling = true;
      options.profileFilePrefix = request.profilePrefix;
    }
    try {
      const session = await ort().InferenceSession.create(request.modelPath, options);
      return { session, provider, profiled };
    } catch (e) {
      request.failures.push({ provider, message: firstLine(e) });
    }
  }
  const why = request.failures[request.failures.length - 1]?.message ?? '';
  if (request.attempts.length === 1) {
    const only = request.attempts[0]!;
    if (only === 'cpu') throw new WorkerUserError(`onnxruntime could not load ${request.what}: ${why}`);
    throw new WorkerUserError(`the ${only} execution provider could not start (${why}); ${providerFailureHint(only)}`);
  }
  throw new WorkerUserError(`no execution provider could start: ${request.failures.map((f) => `${f.provider}: ${f.message}`).join('; ')}`);
}

/** The session's inputs picked from `feeds`; a missing one is the user's error. */
export function feedsFor(session: Ort.InferenceSession, feeds: Record<string, Ort.Tensor>): Record<string, Ort.Tensor> {
  const out: Record<string, Ort.Tensor> = {};
  for (const name of session.inputNames) {
    const feed = feeds[name];
    if (!feed) throw new WorkerUserError(`no value given for the model input '${name}'`);
    out[name] = feed;
  }
  return out;
}

/** Runs a session; onnxruntime's failure becomes one line that names `what`. */
export async function runSession(
  session: Ort.InferenceSession,
  feeds: Record<string, Ort.Tensor>,
  what: string,
  fetches?: string[],
): Promise<Ort.InferenceSession.OnnxValueMapType> {
  try {
    return fetches ? await session.run(feeds, fetches) : await session.run(feeds);
  } catch (e) {
    throw new WorkerUserError(`onnxruntime failed to run ${what}: ${firstLine(e)}`);
  }
}

/** A fetched tensor's elements as float32/float64 for the statistics; float16 is widened; null for 64-bit integers and strings. */
export function floatData(tensor: Ort.Tensor): Float32Array | Float64Array | null {
  const data = tensor.data as unknown;
  if (data instanceof Float32Array || data instanceof Float64Array) return data;
  if (tensor.type === 'float16') {
    // onnxruntime-node hands float16 back as its raw bits (a Uint16Array), or as a Float16Array where Node has one.
    if (data instanceof Uint16Array) {
      const out = new Float32Array(data.length);
      for (let i = 0; i < data.length; i++) out[i] = float16BitsToFloat32(data[i]!);
      return out;
    }
    return Float32Array.from(data as ArrayLike<number>);
  }
  if (ArrayBuffer.isView(data) && !(data instanceof BigInt64Array) && !(data instanceof BigUint64Array)) {
    return Float64Array.from(data as unknown as ArrayLike<number>);
  }
  return null;
}

/** Like `floatData`, for tensors that must be floating point (gradients). */
export function floatValues(tensor: Ort.Tensor | undefined, name: string): Float32Array | Float64Array {
  const data = tensor ? floatData(tensor) : null;
  if (!data) throw new WorkerUserError(`onnxruntime returned no floating-point value for '${name}'`);
  return data;
}

/** The first element of a fetched tensor as a number (a loss); NaN when there is none. */
export function scalarValue(tensor: Ort.Tensor | undefined): number {
  if (!tensor) return NaN;
  const data = floatData(tensor);
  return data && data.length > 0 ? data[0]! : NaN;
}
