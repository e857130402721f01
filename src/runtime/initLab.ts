import { GraphBuilder } from '../core/ir/builder';
import type { Model } from '../core/ir/types';
import { SeededRandom } from '../core/stats/random';

/**
 * The lectures' weight-initialisation experiment as ONNX models: `dims = [4096] * 7`, a batch of 16 inputs drawn
 * from N(0, 1), six fully connected layers each followed by tanh or ReLU, with the weights drawn at build time. They
 * are generated rather than committed because at 4096 wide they weigh 400 MB.
 *
 * The fixed-std cases (0.01 and 0.05) are defined at the lecture's width. At another width the std is rescaled so
 * that std·√Din stays the lecture's (0.64 and 3.2): that product, not the std itself, decides whether activations
 * collapse or saturate, so a 512-wide model shows the same outcome in a fraction of the time. Xavier and He are
 * width-free by construction.
 */

export type InitLabActivation = 'tanh' | 'relu';
export type InitLabInit = 'normal-0.01' | 'normal-0.05' | 'xavier' | 'he';

export interface InitLabCase {
  id: string;
  activation: InitLabActivation;
  init: InitLabInit;
  /** What the lectures say the probe panel shows. */
  expected: string;
}

export const INIT_LAB_CASES: readonly InitLabCase[] = [
  { id: 'tanh-0.01', activation: 'tanh', init: 'normal-0.01', expected: 'activations collapse to zero in deeper layers' },
  { id: 'tanh-0.05', activation: 'tanh', init: 'normal-0.05', expected: 'activations saturate at -1 and 1' },
  { id: 'tanh-xavier', activation: 'tanh', init: 'xavier', expected: 'activations nicely scaled in every layer' },
  { id: 'relu-xavier', activation: 'relu', init: 'xavier', expected: 'activations collapse towards zero again' },
  { id: 'relu-he', activation: 'relu', init: 'he', expected: 'every layer mean ≈ 0.56 and std ≈ 0.83 (1/√π and √(1 − 1/π))' },
];

export const LECTURE_WIDTH = 4096;
export const LECTURE_LAYERS = 6;
export const LECTURE_BATCH = 16;

export interface InitLabOptions {
  /** Layer width; the lecture's is 4096. */
  width?: number;
  layers?: number;
  /** The batch is fixed in the model's input shape so that the probe needs no --input-shape. */
  batch?: number;
  seed?: number;
}

/** The weight std for a case at a given fan-in. */
export function initLabStd(init: InitLabInit, fanIn: number): number {
  switch (init) {
    case 'normal-0.01':
      return (0.01 * Math.sqrt(LECTURE_WIDTH)) / Math.sqrt(fanIn);
    case 'normal-0.05':
      return (0.05 * Math.sqrt(LECTURE_WIDTH)) / Math.sqrt(fanIn);
    case 'xavier':
      return 1 / Math.sqrt(fanIn);
    case 'he':
      return Math.sqrt(2 / fanIn);
  }
}

export function findInitLabCase(id: string): InitLabCase | undefined {
  return INIT_LAB_CASES.find((c) => c.id === id);
}

export function buildInitLabModel(labCase: InitLabCase, options: InitLabOptions = {}): Model {
  const width = options.width ?? LECTURE_WIDTH;
  const layers = options.layers ?? LECTURE_LAYERS;
  const batch = options.batch ?? LECTURE_BATCH;
  const rng = new SeededRandom(options.seed ?? 0);
  const b = new GraphBuilder(`initlab_${labCase.id}`);
  let x = b.input('x', 'float32', [batch, width]);
  const act = labCase.activation === 'tanh' ? 'Tanh' : 'Relu';
  for (let i = 0; i < layers; i++) {
    const w = new Float32Array(width * width);
    rng.fillNormal(w, initLabStd(labCase.init, width));
    const W = b.initializer(`layers.${i}.weight`, 'float32', [width, width], w);
    const h = b.op('MatMul', [x, W], {}, { name: `/layers.${i}/MatMul` });
    x = b.op(act, [h], {}, { name: `/layers.${i}/${act}` });
  }
  b.output(x, 'float32', [batch, width]);
  return b.model(13, { docString: `Layerscope initialisation lab: ${labCase.id} (${labCase.expected}).` });
}
