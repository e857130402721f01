import * as fs from 'node:fs';
import * as path from 'node:path';
import { GraphBuilder } from '../src/core/ir/builder';
import type { DataType, Model, Tensor } from '../src/core/ir/types';
import { writeOnnxFile } from '../src/core/onnx/index';
import { SeededRandom } from '../src/core/stats/random';

/**
 * The lecture models as ONNX files, built with the project's own GraphBuilder and writer, so that the samples, the
 * acceptance tests and the benchmark all use the same definitions.
 *
 *   npx tsx scripts/makeSamples.ts [DIR]          writes the small samples (default: samples/)
 *   npx tsx scripts/makeSamples.ts --vgg16 FILE   writes a VGG-16-shaped model with random weights (about 553 MB)
 *
 * Weights are deterministic: PyTorch's default initialisation (uniform in ±1/sqrt(fan_in)) drawn from a seeded PRNG,
 * so regenerating the samples gives identical bytes. Names follow what torch.onnx.export writes (`/net/net.0/Conv`,
 * `net.0.weight`), so the samples read like real exports.
 */

/** A seeded uniform [0, 1) source for plausible-looking weights: the project's one generator, as a function. */
export function seededRandom(seed: number): () => number {
  const rng = new SeededRandom(seed);
  return () => rng.uniform();
}

/** A float32 tensor filled with U(-bound, bound), written straight into its byte buffer (fast for huge tensors). */
export function uniformTensor(name: string, dims: number[], bound: number, random: () => number): Tensor {
  const count = dims.reduce((a, b) => a * b, 1);
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = (random() * 2 - 1) * bound;
  return floatTensor(name, dims, values);
}

function floatTensor(name: string, dims: number[], values: Float32Array): Tensor {
  // Float32Array bytes are in platform order; every platform Node runs on is little-endian, as ONNX's raw_data is.
  return { name, dtype: 'float32', dims, data: { kind: 'inline', bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) } };
}

interface ConvSpec {
  cin: number;
  cout: number;
  k: number;
  stride: number;
  pad: number;
  bias?: boolean;
}

class LectureBuilder {
  readonly b: GraphBuilder;
  readonly random: () => number;

  constructor(name: string, seed: number) {
    this.b = new GraphBuilder(name);
    this.random = seededRandom(seed);
  }

  conv(prefix: string, x: string, spec: ConvSpec, fold?: BatchNormValues): string {
    const fanIn = spec.cin * spec.k * spec.k;
    const bound = 1 / Math.sqrt(fanIn);
    let w = uniformTensor(`${prefix}.weight`, [spec.cout, spec.cin, spec.k, spec.k], bound, this.random);
    let bias = spec.bias === false ? undefined : uniformTensor(`${prefix}.bias`, [spec.cout], bound, this.random);
    if (fold) {
      // What PyTorch's exporter does in eval mode: scale each output channel and shift the bias. The fused tensors
      // lose their module names, as they do in real exports.
      const wv = new Float32Array(w.data.kind === 'inline' ? w.data.bytes.slice().buffer : new ArrayBuffer(0));
      const bv = bias && bias.data.kind === 'inline' ? new Float32Array(bias.data.bytes.slice().buffer) : new Float32Array(spec.cout);
      const per = spec.cin * spec.k * spec.k;
      for (let c = 0; c < spec.cout; c++) {
        const scale = fold.gamma[c] / Math.sqrt(fold.var[c] + 1e-5);
        for (let i = 0; i < per; i++) wv[c * per + i] *= scale;
        bv[c] = (bv[c] - fold.mean[c]) * scale + fold.beta[c];
      }
      w = floatTensor(this.b.fresh(`onnx::Conv_${fold.id}`), w.dims, wv);
      bias = floatTensor(this.b.fresh(`onnx::Conv_${fold.id + 1}`), [spec.cout], bv);
    }
    this.b.addInitializer(w);
    if (bias) this.b.addInitializer(bias);
    return this.b.op('Conv', bias ? [x, w.name, bias.name] : [x, w.name], {
      dilations: [1, 1],
      group: 1,
      kernel_shape: [spec.k, spec.k],
      pads: [spec.pad, spec.pad, spec.pad, spec.pad],
      strides: [spec.stride, spec.stride],
    }, { name: layerName(prefix, 'Conv') });
  }

  batchNorm(prefix: string, x: string, values: BatchNormValues): string {
    const c = values.gamma.length;
    const names = ['weight', 'bias', 'running_mean', 'running_var'];
    const arrays = [values.gamma, values.beta, values.mean, values.var];
    const inputs = names.map((n, i) => this.b.addInitializer(floatTensor(`${prefix}.${n}`, [c], arrays[i])));
    return this.b.op('BatchNormalization', [x, ...inputs], { epsilon: { float: 1e-5 }, momentum: { float: 0.9 } }, { name: layerName(prefix, 'BatchNormalization') });
  }

  linear(prefix: string, x: string, fin: number, fout: number): string {
    const bound = 1 / Math.sqrt(fin);
    const w = this.b.addInitializer(uniformTensor(`${prefix}.weight`, [fout, fin], bound, this.random));
    const bias = this.b.addInitializer(uniformTensor(`${prefix}.bias`, [fout], bound, this.random));
    return this.b.op('Gemm', [x, w, bias], { alpha: { float: 1 }, beta: { float: 1 }, transB: 1 }, { name: layerName(prefix, 'Gemm') });
  }

  relu(prefix: string, x: string): string {
    return this.b.op('Relu', [x], {}, { name: layerName(prefix, 'Relu') });
  }

  flatten(prefix: string, x: string): string {
    return this.b.op('Flatten', [x], { axis: 1 }, { name: layerName(prefix, 'Flatten') });
  }

  /** Finishes the model; the last value is renamed `output`, as torch.onnx.export(output_names=['output']) does. */
  model(output: string, dtype: DataType = 'float32'): Model {
    this.b.output('output', dtype, null);
    const model = this.b.model(13, { producerName: 'layerscope-samples', producerVersion: '0.1.0' });
    for (const node of model.graph.nodes) node.outputs = node.outputs.map((o) => (o === output ? 'output' : o));
    return model;
  }
}

/** PyTorch-style node names: `net.3` becomes `/net/net.3/Op`, as torch.onnx.export scopes them. */
function layerName(prefix: string, op: string): string {
  const parts = prefix.split('.');
  const scopes = parts.map((_, i) => parts.slice(0, i + 1).join('.')).filter((s) => !/^\d+$/.test(s));
  return `/${scopes.join('/')}/${op}`;
}

export interface BatchNormValues {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  var: Float32Array;
  id: number;
}

function batchNormValues(c: number, random: () => number, id: number): BatchNormValues {
  // Trained-looking statistics rather than PyTorch's initial 1/0/0/1, so that folding visibly changes the weights.
  const gamma = new Float32Array(c);
  const beta = new Float32Array(c);
  const mean = new Float32Array(c);
  const variance = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    gamma[i] = 0.8 + 0.4 * random();
    beta[i] = 0.2 * random() - 0.1;
    mean[i] = 0.2 * random() - 0.1;
    variance[i] = 0.5 + random();
  }
  return { gamma, beta, mean, var: variance, id };
}

/** The lectures' "Baseline Linear": Flatten, 3072→512, ReLU, 512→120, ReLU, 120→84, 84→10, Softmax; 1,645,950 params. */
export function buildBaselineLinear(): Model {
  const L = new LectureBuilder('Linear', 1);
  let x = L.b.input('input', 'float32', ['N', 3, 32, 32]);
  x = L.flatten('net.0', x);
  x = L.linear('net.1', x, 3072, 512);
  x = L.relu('net.2', x);
  x = L.linear('net.3', x, 512, 120);
  x = L.relu('net.4', x);
  x = L.linear('net.5', x, 120, 84);
  x = L.linear('net.6', x, 84, 10);
  x = L.b.op('Softmax', [x], { axis: 1 }, { name: '/decision/Softmax' });
  return L.model(x);
}

/**
 * The lectures' DeeperBNConvNet (17,020 trainable parameters and 90 running statistics). With `foldBatchNorm`, each
 * BatchNorm is folded into the convolution before it, as a default PyTorch export does: 16,930 parameters.
 */
export function buildDeeperBnConvNet(options: { foldBatchNorm?: boolean } = {}): Model {
  const fold = options.foldBatchNorm === true;
  const L = new LectureBuilder('DeeperBNConvNet', 2);
  const C = 15;
  let x = L.b.input('input', 'float32', ['N', 3, 32, 32]);
  // [index of conv in net, stride, index of the BatchNorm after it or -1]
  const convs: [number, number, number][] = [
    [0, 1, -1],
    [2, 2, 3],
    [5, 1, -1],
    [7, 2, 8],
    [10, 1, -1],
    [12, 2, 13],
    [15, 2, -1],
  ];
  let cin = 3;
  let foldId = 50;
  for (const [index, stride, bnIndex] of convs) {
    const bn = bnIndex >= 0 ? batchNormValues(C, L.random, foldId) : undefined;
    x = L.conv(`net.${index}`, x, { cin, cout: C, k: 3, stride, pad: 1 }, fold ? bn : undefined);
    if (bn) {
      foldId += 3;
      if (!fold) x = L.batchNorm(`net.${bnIndex}`, x, bn);
    }
    x = L.relu(`net.${bnIndex >= 0 ? bnIndex + 1 : index + 1}`, x);
    cin = C;
  }
  x = L.flatten('net.17', x);
  x = L.linear('net.18', x, 60, 60);
  x = L.linear('net.19', x, 60, 10);
  x = L.b.op('Softmax', [x], { axis: 1 }, { name: '/decision/Softmax' });
  const model = L.model(x);
  // Real exports say who made them; the folding note keys on PyTorch's producer name.
  return fold ? { ...model, producerName: 'pytorch', producerVersion: '1.13.0' } : model;
}

/** AlexNet's first layer: 227×227×3 input, 96 filters of 11×11, stride 4, no padding; 55×55×96 out, 34,944 params. */
export function buildAlexNetConv1(): Model {
  const L = new LectureBuilder('AlexNetConv1', 3);
  const x = L.b.input('input', 'float32', [1, 3, 227, 227]);
  let y = L.conv('features.0', x, { cin: 3, cout: 96, k: 11, stride: 4, pad: 0 });
  y = L.relu('features.1', y);
  return L.model(y);
}

/** Three stacked 3×3 convolutions without bias (27C² parameters); they see 7×7, like one 7×7 convolution. */
export function buildStack3x3(channels = 16): Model {
  const L = new LectureBuilder('Stack3x3', 4);
  let x = L.b.input('input', 'float32', [1, channels, 32, 32]);
  for (let i = 0; i < 3; i++) {
    x = L.conv(`convs.${2 * i}`, x, { cin: channels, cout: channels, k: 3, stride: 1, pad: 1, bias: false });
    x = L.relu(`convs.${2 * i + 1}`, x);
  }
  return L.model(x);
}

/** One 7×7 convolution without bias (49C² parameters). */
export function buildSingle7x7(channels = 16): Model {
  const L = new LectureBuilder('Single7x7', 5);
  const x = L.b.input('input', 'float32', [1, channels, 32, 32]);
  let y = L.conv('conv', x, { cin: channels, cout: channels, k: 7, stride: 1, pad: 3, bias: false });
  y = L.relu('relu', y);
  return L.model(y);
}

/** A VGG-16-shaped classifier (138,357,544 float32 parameters, about 553 MB) with random weights, for the benchmark. */
export function buildVgg16(): Model {
  const L = new LectureBuilder('VGG16', 16);
  let x = L.b.input('input', 'float32', ['N', 3, 224, 224]);
  const plan: (number | 'M')[] = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'];
  let cin = 3;
  let i = 0;
  for (const item of plan) {
    if (item === 'M') {
      x = L.b.op('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] }, { name: `/features/features.${i}/MaxPool` });
    } else {
      x = L.conv(`features.${i}`, x, { cin, cout: item, k: 3, stride: 1, pad: 1 });
      i++;
      x = L.relu(`features.${i}`, x);
      cin = item;
    }
    i++;
  }
  x = L.flatten('flatten', x);
  x = L.linear('classifier.0', x, 512 * 7 * 7, 4096);
  x = L.relu('classifier.1', x);
  x = L.linear('classifier.3', x, 4096, 4096);
  x = L.relu('classifier.4', x);
  x = L.linear('classifier.6', x, 4096, 1000);
  return L.model(x);
}

/** A chain of `length` Relu nodes: large graphs for robustness tests without large weights. */
export function buildChain(length: number): Model {
  const b = new GraphBuilder('chain');
  let x = b.input('input', 'float32', [1, 4]);
  for (let i = 0; i < length; i++) x = b.op('Relu', [x], {}, { name: `r${i}`, output: `v${i}` });
  b.output(x, 'float32', [1, 4]);
  return b.model(13);
}

/** The small samples that are committed in samples/. */
export const SAMPLES: Record<string, () => Model> = {
  'deeper_bn_convnet.onnx': () => buildDeeperBnConvNet(),
  'deeper_bn_convnet_folded.onnx': () => buildDeeperBnConvNet({ foldBatchNorm: true }),
  'alexnet_conv1.onnx': buildAlexNetConv1,
  'stack_3x3.onnx': () => buildStack3x3(),
  'single_7x7.onnx': () => buildSingle7x7(),
};

export function writeSamples(dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const [file, build] of Object.entries(SAMPLES)) {
    const target = path.join(dir, file);
    writeOnnxFile(build(), target);
    written.push(target);
  }
  return written;
}

function main(argv: string[]): void {
  if (argv[0] === '--vgg16') {
    if (!argv[1]) throw new Error('usage: makeSamples.ts --vgg16 FILE');
    writeOnnxFile(buildVgg16(), argv[1]);
    process.stdout.write(`${argv[1]}\n`);
    return;
  }
  if (argv[0] === '--baseline-linear') {
    if (!argv[1]) throw new Error('usage: makeSamples.ts --baseline-linear FILE');
    writeOnnxFile(buildBaselineLinear(), argv[1]);
    return;
  }
  for (const f of writeSamples(argv[0] ?? path.join(__dirname, '..', 'samples'))) process.stdout.write(`${f}\n`);
}

if (process.argv[1] && /makeSamples\.[tj]s$/.test(process.argv[1])) main(process.argv.slice(2));
