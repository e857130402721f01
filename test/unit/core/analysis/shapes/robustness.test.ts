import { strict as assert } from 'node:assert';
import { GraphBuilder, type AttributeInput } from '../../../../../src/core/ir/builder';
import type { DataType, Dim } from '../../../../../src/core/ir/types';
import { inferShapes } from '../../../../../src/core/analysis/shapes/index';
import { microsoftShapeRules, shapeRules, trainingShapeRules } from '../../../../../src/core/analysis/shapes/registry';

/**
 * Random graphs built from every op that has a rule, with random shapes, constants and attributes, most of them
 * invalid. Inference must never throw, every value must get a type, and every warning must be one of the known kinds.
 */

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const KNOWN_CODES = new Set(['shape-mismatch', 'rule-error', 'unknown-op', 'value-info-mismatch', 'graph-structure', 'input-shape']);

describe('shape inference robustness', () => {
  it('never throws on random, mostly malformed graphs', function () {
    this.timeout(120_000);
    const ops = [
      ...[...shapeRules.keys()].map((op) => ({ op, domain: '' })),
      ...[...microsoftShapeRules.keys()].map((op) => ({ op, domain: 'com.microsoft' })),
      ...[...trainingShapeRules.keys()].map((op) => ({ op, domain: 'ai.onnx.preview.training' })),
    ];
    const dims: Dim[] = [0, 1, 1, 2, 3, 4, 7, 'N', 'S', null];
    const dtypes: DataType[] = ['float32', 'int64', 'bool', 'float16', 'int32'];
    let ruleErrors = 0;
    for (let seed = 1; seed <= 600; seed++) {
      const rand = prng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
      const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
      const b = new GraphBuilder(`g${seed}`);
      const values: string[] = [];
      for (let i = 0; i < 3; i++) {
        const rank = int(0, 5);
        values.push(b.input(`in${i}`, pick(dtypes), rand() < 0.1 ? null : Array.from({ length: rank }, () => pick(dims))));
      }
      for (let i = 0; i < 3; i++) {
        const n = int(0, 6);
        values.push(b.initializer(`c${i}`, 'int64', [n], Array.from({ length: n }, () => (rand() < 0.1 ? pick([2 ** 62, -(2 ** 62), 1e6]) : int(-3, 5)))));
      }
      for (let k = 0; k < 25; k++) {
        const { op, domain } = pick(ops);
        const inputs = Array.from({ length: int(0, 5) }, () => (rand() < 0.1 ? '' : pick(values)));
        const attrs: Record<string, AttributeInput> = {};
        const ints = (): number[] => Array.from({ length: int(0, 4) }, () => int(-3, 4));
        for (const name of ['axis', 'axes', 'perm', 'kernel_shape', 'strides', 'pads', 'dilations', 'group', 'to', 'keepdims', 'split', 'blocksize', 'k', 'transA', 'transB', 'allowzero', 'start', 'end']) {
          if (rand() < 0.25) attrs[name] = name === 'axis' || name === 'group' || name === 'to' || name === 'k' || name === 'blocksize' || name === 'start' || name === 'end' ? int(-3, 6) : ints();
        }
        if (rand() < 0.2) attrs.auto_pad = pick(['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID', 'BOGUS']);
        if (rand() < 0.2) attrs.equation = pick(['ij,jk->ik', '...i,...i', 'ab->ba', 'bad', '->']);
        values.push(...b.node(op, inputs, attrs, { outputs: int(1, 3), domain }));
      }
      const model = b.model(pick([7, 9, 11, 13, 17, 18]));
      const result = inferShapes(model);
      for (const node of model.graph.nodes) {
        for (const out of node.outputs) assert.ok(result.types.has(out), `seed ${seed}: no type for ${node.opType} output ${out}`);
      }
      for (const w of result.warnings) assert.ok(KNOWN_CODES.has(w.code), `seed ${seed}: unexpected warning code ${w.code}`);
      ruleErrors += result.warnings.filter((w) => w.code === 'rule-error').length;
      if (process.env.SHOW_RULE_ERRORS) for (const w of result.warnings) if (w.code === 'rule-error') console.log(w.message);
    }
    // Rule errors are caught, but they are bugs: malformed input should be reported as a shape mismatch.
    assert.equal(ruleErrors, 0);
  });
});
