/**
 * Benchmark (not a unit test): the backward graph of a ResNet-18 export against a plain forward run, both in
 * onnxruntime-node on the same provider. Run with `npx tsx test/unit/core/autodiff/bench/gradBench.ts DIR [cpu|cuda] [threads]`
 * after resnet18.py has written DIR/resnet18.onnx. Prints medians in milliseconds as JSON.
 */
import * as ort from 'onnxruntime-node';
import { join } from 'node:path';
import { buildBackward } from '../../../../../src/core/autodiff';
import { readOnnxFile, writeOnnx } from '../../../../../src/core/onnx';
import { DEFAULT_GRAD_OPTIMIZATION } from '../../../../../src/runtime/gradRunner';

/**
 * Medians of interleaved runs: on a shared machine the load changes over seconds, and alternating the two sessions
 * makes both see the same conditions, so their ratio is steadier than either time.
 */
async function interleavedMedians(a: () => Promise<unknown>, b: () => Promise<unknown>, n: number): Promise<[number, number]> {
  for (let i = 0; i < 2; i++) {
    await a();
    await b();
  }
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < n; i++) {
    let t = performance.now();
    await a();
    ta.push(performance.now() - t);
    t = performance.now();
    await b();
    tb.push(performance.now() - t);
  }
  const med = (v: number[]): number => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)];
  return [med(ta), med(tb)];
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  const provider = process.argv[3] ?? 'cpu';
  const model = readOnnxFile(join(dir, 'resnet18.onnx'));
  const threads = Number(process.argv[4] ?? 0);
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [provider],
    // The forward run gets onnxruntime's default ('all'); the gradient graph gets what the gradient probe uses.
    graphOptimizationLevel: 'all',
    ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
  };
  const x = new ort.Tensor('float32', new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i)), [1, 3, 224, 224]);
  const fwd = await ort.InferenceSession.create(writeOnnx(model), options);
  const result: Record<string, number | string> = { provider, threads };
  for (const activations of [false, true]) {
    const t0 = performance.now();
    const b = buildBackward(model, { loss: { kind: 'cross-entropy' }, activations });
    const buildMs = performance.now() - t0;
    const bwd = await ort.InferenceSession.create(writeOnnx(b.model), { ...options, graphOptimizationLevel: DEFAULT_GRAD_OPTIMIZATION });
    const feeds = { input: x, [b.target!.name]: new ort.Tensor('int64', BigInt64Array.from([0n]), []) };
    const [forwardMs, ms] = await interleavedMedians(() => fwd.run({ input: x }), () => bwd.run(feeds), 15);
    const key = activations ? 'withActivationGrads' : 'paramAndInputGrads';
    result[`${key}ForwardMs`] = forwardMs;
    result[`${key}Ms`] = ms;
    result[`${key}Ratio`] = ms / forwardMs;
    result[`${key}BuildMs`] = buildMs;
    result[`${key}Nodes`] = b.model.graph.nodes.length;
  }
  console.log(JSON.stringify(result));
}

void main();
