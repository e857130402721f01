import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyze } from '../core/python/helpers';
import { compareLensWithLowered } from './parity';

/**
 * The editor's lens path (the interpreter's per-layer shapes, MACs and receptive fields) and the lowered summary (the
 * same model converted to the IR and run through the core's shape, MAC and receptive-field rules, which the ONNX path
 * uses) must print the same numbers for every layer. For every sample and every hand-written corpus file, each torch
 * layer the lens shows a number for is compared with the lowered nodes that carry its module path.
 */

const SAMPLES = path.join(__dirname, '../../../samples/python');
const CORPUS = path.join(__dirname, '../../fixtures/python/corpus');
const userCases = JSON.parse(fs.readFileSync(path.join(CORPUS, 'userCases.json'), 'utf8')) as Array<{ file: string; expr: string; input?: number[] }>;

describe('python: the lens path and the lowered summary print the same per-layer numbers', function () {
  this.timeout(120_000);
  const files = [
    ...fs.readdirSync(SAMPLES).filter((f) => f.endsWith('.py')).map((f) => ({ file: path.join(SAMPLES, f), inputs: {} as Record<string, number[]> })),
    ...[...new Set(userCases.map((c) => c.file))].map((f) => ({
      file: path.join(CORPUS, f),
      inputs: Object.fromEntries(userCases.filter((c) => c.file === f && c.input).map((c) => [/^\w+/.exec(c.expr)![0], c.input!])),
    })),
  ];
  for (const { file, inputs } of files) {
    it(path.relative(path.join(__dirname, '../../..'), file), async () => {
      const a = await analyze(fs.readFileSync(file, 'utf8'), { inputShapes: inputs });
      const problems: string[] = [];
      let layers = 0;
      for (const m of a.modules) {
        const r = compareLensWithLowered(a, m, path.basename(file));
        layers += r.layers;
        problems.push(...r.problems);
      }
      assert.deepEqual(problems, []);
      void layers;
    });
  }
});
