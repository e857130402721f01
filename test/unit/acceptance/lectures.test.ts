import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Model } from '../../../src/core/ir/types';
import { readOnnxFile, writeOnnxFile } from '../../../src/core/onnx/index';
import { summarizeModel } from '../../../src/core/analysis/summary';
import type { LayerSummary, ModelSummary } from '../../../src/core/analysis/types';
import {
  SAMPLES,
  buildAlexNetConv1,
  buildBaselineLinear,
  buildDeeperBnConvNet,
  buildSingle7x7,
  buildStack3x3,
} from '../../../scripts/makeSamples';

/**
 * The acceptance numbers of issue 2, which come from the lecture notes in shared/seeds. Every model goes through the
 * project's writer and reader first, so that the file path is what is tested, not only the in-memory IR.
 */

const REPO = path.resolve(__dirname, '..', '..', '..');
let tmp: string;

function viaFile(model: Model, name: string, inputShapes?: Record<string, number[]>): ModelSummary {
  const file = path.join(tmp, name);
  writeOnnxFile(model, file);
  return summarizeModel(readOnnxFile(file), inputShapes ? { inputShapes } : {});
}

function convs(s: ModelSummary): LayerSummary[] {
  return s.layers.filter((l) => l.op === 'Conv');
}

describe('acceptance: the lecture models', () => {
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'layerscope-acceptance-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('Baseline Linear has 1,645,950 parameters', () => {
    const s = viaFile(buildBaselineLinear(), 'baseline_linear.onnx', { input: [1, 3, 32, 32] });
    assert.equal(s.totals.params, 1645950);
    assert.equal(s.totals.trainableParams, 1645950);
    assert.equal(s.totals.nonTrainableParams, 0);
    assert.deepEqual(s.layers.filter((l) => l.op === 'Gemm').map((l) => l.outputs[0].shape), [[1, 512], [1, 120], [1, 84], [1, 10]]);
    // Flatten then Linear sees the whole image.
    assert.deepEqual(s.layers.find((l) => l.op === 'Gemm')?.receptiveField, { global: true });
  });

  describe('DeeperBNConvNet with BatchNormalization kept', () => {
    let s: ModelSummary;
    before(() => {
      s = viaFile(buildDeeperBnConvNet(), 'deeper_bn.onnx', { input: [1, 3, 32, 32] });
    });

    it('has 17,020 trainable and 90 non-trainable parameters', () => {
      assert.equal(s.totals.trainableParams, 17020);
      assert.equal(s.totals.nonTrainableParams, 90);
      assert.equal(s.totals.params, 17110);
      assert.deepEqual(s.warnings, []);
    });

    it('has the layer sequence of the lecture', () => {
      const ops = s.layers.map((l) => l.op).filter((op) => op !== 'Softmax');
      assert.deepEqual(ops, [
        'Conv', 'Relu', 'Conv', 'BatchNormalization', 'Relu', 'Conv', 'Relu', 'Conv', 'BatchNormalization', 'Relu',
        'Conv', 'Relu', 'Conv', 'BatchNormalization', 'Relu', 'Conv', 'Relu', 'Flatten', 'Gemm', 'Gemm',
      ]);
    });

    it('has output shapes 15×32×32 → 15×16×16 → … → 15×2×2 → 60 → 10', () => {
      assert.deepEqual(convs(s).map((l) => l.outputs[0].shape), [
        [1, 15, 32, 32], [1, 15, 16, 16], [1, 15, 16, 16], [1, 15, 8, 8], [1, 15, 8, 8], [1, 15, 4, 4], [1, 15, 2, 2],
      ]);
      assert.deepEqual(s.layers.find((l) => l.op === 'Flatten')?.outputs[0].shape, [1, 60]);
      assert.deepEqual(s.layers.filter((l) => l.op === 'Gemm').map((l) => l.outputs[0].shape), [[1, 60], [1, 10]]);
    });

    it('has receptive fields 3, 5, 9, 13, 21, 29, 45 for its seven convolutions', () => {
      const sizes = convs(s).map((l) => {
        const rf = l.receptiveField;
        assert.ok(rf && !rf.global);
        assert.equal(rf.size[0], rf.size[1]);
        return rf.size[0];
      });
      assert.deepEqual(sizes, [3, 5, 9, 13, 21, 29, 45]);
    });
  });

  it('DeeperBNConvNet exported with BatchNormalization folded has 16,930 parameters, and says why', () => {
    const s = viaFile(buildDeeperBnConvNet({ foldBatchNorm: true }), 'deeper_bn_folded.onnx', { input: [1, 3, 32, 32] });
    assert.equal(s.totals.params, 16930);
    assert.equal(s.totals.trainableParams, 16930);
    assert.equal(s.totals.nonTrainableParams, 0);
    assert.ok(!s.layers.some((l) => l.op === 'BatchNormalization'));
    assert.ok(s.warnings.some((w) => /BatchNormalization appears to have been folded/.test(w)), s.warnings.join('\n'));
    assert.deepEqual(convs(s).map((l) => (l.receptiveField && !l.receptiveField.global ? l.receptiveField.size[0] : 0)), [3, 5, 9, 13, 21, 29, 45]);
  });

  it("AlexNet's first layer: 227×227×3 in, 96 filters 11×11 stride 4 → 55×55×96 and 34,944 parameters", () => {
    const s = viaFile(buildAlexNetConv1(), 'alexnet_conv1.onnx');
    const conv = convs(s)[0];
    assert.deepEqual(conv.outputs[0].shape, [1, 96, 55, 55]);
    assert.equal(conv.params, 34944);
    assert.equal(s.totals.params, 34944);
    // 55·55·96 outputs, each 11·11·3 = 363 MACs.
    assert.equal(conv.macs, 55 * 55 * 96 * 363);
  });

  it('three stacked 3×3 convolutions and one 7×7 both see 7×7; parameters 27C² against 49C²', () => {
    for (const c of [16, 8]) {
      const stack = viaFile(buildStack3x3(c), `stack_${c}.onnx`);
      const single = viaFile(buildSingle7x7(c), `single_${c}.onnx`);
      assert.equal(stack.totals.params, 27 * c * c);
      assert.equal(single.totals.params, 49 * c * c);
      const last = convs(stack).at(-1)?.receptiveField;
      const one = convs(single)[0].receptiveField;
      assert.deepEqual(last, { size: [7, 7], stride: [1, 1], start: [0, 0], global: false });
      assert.deepEqual(one, last);
    }
  });

  it('the committed samples are what scripts/makeSamples.ts generates, and small', () => {
    for (const [name, build] of Object.entries(SAMPLES)) {
      const committed = path.join(REPO, 'samples', name);
      assert.ok(fs.existsSync(committed), `samples/${name} is missing; run npx tsx scripts/makeSamples.ts`);
      const fresh = path.join(tmp, `fresh_${name}`);
      writeOnnxFile(build(), fresh);
      assert.ok(fs.readFileSync(committed).equals(fs.readFileSync(fresh)), `samples/${name} is stale; run npx tsx scripts/makeSamples.ts`);
      assert.ok(fs.statSync(committed).size < 2 * 1024 * 1024);
    }
  });
});
