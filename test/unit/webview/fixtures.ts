/// <reference lib="dom" />
import { JSDOM } from 'jsdom';
import type { LayerSummary, ModelSummary, ReceptiveField } from '../../../src/core/analysis/types';

/**
 * Hand-written ModelSummary fixtures for the webview tests. They are display input, not claimed analysis results:
 * the webview draws whatever the core computed, so the tests only need summaries of the right shape.
 */

export function makeDocument(): { document: Document; window: Window } {
  const dom = new JSDOM('<!doctype html><html><body><div id="root"></div></body></html>', { pretendToBeVisual: true });
  return { document: dom.window.document, window: dom.window as unknown as Window };
}

function layer(
  name: string,
  op: string,
  inputs: string[],
  output: string,
  shape: number[],
  params: number,
  macs: number,
  receptiveField: ReceptiveField | null,
): LayerSummary {
  const activationBytes = shape.reduce((a, b) => a * b, 1) * 4;
  return { name, op, inputs, outputs: [{ name: output, shape, dtype: 'float32' }], params, macs, receptiveField, activationBytes };
}

/**
 * The lecture's DeeperBNConvNet: seven 3×3 conv blocks (conv, batch norm, ReLU) whose strides alternate 1 and 2, so
 * that the receptive field grows 3, 5, 9, 13, 21, 29, 45; then global pooling and a linear classifier.
 */
export function deeperBnConvNet(): ModelSummary {
  const layers: LayerSummary[] = [];
  const strides = [1, 2, 1, 2, 1, 2, 1];
  const rfs = [3, 5, 9, 13, 21, 29, 45];
  let size = 32;
  let channels = 3;
  let jump = 1;
  let prev = 'input';
  strides.forEach((stride, i) => {
    const out = 16 * (i + 1);
    size = Math.floor((size + 2 - 3) / stride) + 1;
    const rfStride = jump * stride;
    const rf: ReceptiveField = { size: [rfs[i]!, rfs[i]!], stride: [rfStride, rfStride], start: [0, 0], global: false };
    jump = rfStride;
    const params = out * channels * 9 + out;
    const conv = `/net/net.${3 * i}/Conv`;
    layers.push(layer(conv, 'Conv', [prev, `net.${3 * i}.weight`, `net.${3 * i}.bias`], `${conv}_output_0`, [1, out, size, size], params, params * size * size, rf));
    const bn = `/net/net.${3 * i + 1}/BatchNormalization`;
    layers.push(layer(bn, 'BatchNormalization', [`${conv}_output_0`, 'g', 'b', 'm', 'v'], `${bn}_output_0`, [1, out, size, size], 4 * out, 0, rf));
    const relu = `/net/net.${3 * i + 2}/Relu`;
    layers.push(layer(relu, 'Relu', [`${bn}_output_0`], `${relu}_output_0`, [1, out, size, size], 0, 0, rf));
    prev = `${relu}_output_0`;
    channels = out;
  });
  layers.push(layer('/pool/GlobalAveragePool', 'GlobalAveragePool', [prev], 'pooled', [1, channels, 1, 1], 0, 0, { global: true }));
  layers.push(layer('/flatten/Flatten', 'Flatten', ['pooled'], 'flat', [1, channels], 0, 0, { global: true }));
  layers.push(layer('/fc/Gemm', 'Gemm', ['flat', 'fc.weight', 'fc.bias'], 'output', [1, 10], channels * 10 + 10, channels * 10, { global: true }));
  const params = layers.reduce((a, l) => a + l.params, 0);
  const nonTrainable = layers.filter((l) => l.op === 'BatchNormalization').reduce((a, l) => a + l.params / 2, 0);
  return {
    format: 'onnx',
    opset: 13,
    model: { name: 'DeeperBNConvNet', producer: 'pytorch', irVersion: 8 },
    inputs: [{ name: 'input', shape: [1, 3, 32, 32], dtype: 'float32' }],
    outputs: [{ name: 'output', shape: [1, 10], dtype: 'float32' }],
    totals: {
      params,
      trainableParams: params - nonTrainable,
      nonTrainableParams: nonTrainable,
      macs: layers.reduce((a, l) => a + l.macs, 0),
      paramBytes: params * 4,
      activationBytes: layers.reduce((a, l) => a + l.activationBytes, 0),
    },
    layers,
    warnings: ['Example warning: value_info for /fc/Gemm disagrees with the inferred shape'],
  };
}

/**
 * A long model in blocks of ten layers (`/blocks/blocks.K/...`), for virtualisation and collapsing tests. Each block
 * is a chain of Conv/Relu pairs with a residual Add at the end.
 */
export function blockChain(layerCount: number): ModelSummary {
  const layers: LayerSummary[] = [];
  let prev = 'input';
  let blockInput = 'input';
  for (let i = 0; i < layerCount; i++) {
    const block = Math.floor(i / 10);
    const k = i % 10;
    if (k === 0) blockInput = prev;
    const op = k === 9 ? 'Add' : k % 2 === 0 ? 'Conv' : 'Relu';
    const name = `/blocks/blocks.${block}/${op === 'Add' ? 'Add' : `${op.toLowerCase()}${k}/${op}`}`;
    const out = `${name}_output_0`;
    const inputs = op === 'Add' ? [prev, blockInput] : op === 'Conv' ? [prev, `w${i}`] : [prev];
    layers.push(layer(name, op, inputs, out, [1, 8, 16, 16], op === 'Conv' ? (i % 97) * 10 + 72 : 0, op === 'Conv' ? 18432 + i : 0, null));
    prev = out;
  }
  return {
    format: 'onnx',
    opset: 17,
    inputs: [{ name: 'input', shape: ['N', 8, 16, 16], dtype: 'float32' }],
    outputs: [{ name: prev, shape: ['N', 8, 16, 16], dtype: 'float32' }],
    totals: { params: 0, trainableParams: 0, nonTrainableParams: 0, macs: 0, paramBytes: 0, activationBytes: 0 },
    layers,
    warnings: [],
  };
}

/** Markup in every string the model controls: names, op types, doc string, metadata, warnings. */
export const HOSTILE = '<img src=x onerror="globalThis.pwned=1"><script>globalThis.pwned=1</script><b>bold</b>';

export function hostileModel(): ModelSummary {
  const summary = deeperBnConvNet();
  summary.model = {
    name: HOSTILE,
    producer: HOSTILE,
    irVersion: 8,
    docString: HOSTILE,
    metadata: { [HOSTILE]: HOSTILE },
  };
  summary.inputs[0]!.name = HOSTILE;
  summary.layers[0]!.inputs[0] = HOSTILE;
  summary.layers.forEach((l, i) => {
    l.name = `/net/${HOSTILE}${i}/Conv`;
  });
  summary.layers[1]!.op = HOSTILE;
  summary.warnings = [HOSTILE];
  return summary;
}
