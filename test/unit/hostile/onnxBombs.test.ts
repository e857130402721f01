import * as assert from 'node:assert/strict';
import { summarizeModel } from '../../../src/core/analysis/summary';
import { readOnnxBytes } from '../../../src/core/onnx/reader';
import { expectRefusal, expectSuccess, useSandbox } from './harness';
import * as bombs from './onnxBombs';

/**
 * Issue 11, class 1: tiny ONNX files whose static analysis used to take exponential time or unbounded memory, through
 * `summary` and `probe` (whose plan runs shape inference in the CLI process). Each is built here, a few hundred bytes.
 */
describe('hostile input: ONNX files that blow up static analysis', function () {
  this.timeout(120_000);
  const sandbox = useSandbox();

  it('a function that calls itself six times: recursion is reported, not followed', () => {
    const file = sandbox().file('recursive.onnx', bombs.recursiveFunction());
    const r = expectSuccess(sandbox(), ['summary', file]);
    assert.match(r.stdout, /function 'F' calls itself/);
  });

  it('15 functions each calling the next 10 times are refused by --max-nodes, and analysed fast when it is raised', () => {
    const file = sandbox().file('fanout.onnx', bombs.fanoutChain());
    expectRefusal(sandbox(), ['summary', file], /more than 50,000 nodes with its model-local functions inlined/);
    expectRefusal(sandbox(), ['probe', file], /more than 50,000 nodes with its model-local functions inlined/);
    // With the limit raised past 10^15 inlined nodes, memoised inference still visits each function once.
    const r = expectSuccess(sandbox(), ['summary', file, '--max-nodes', '9000000000000000', '--json']);
    assert.deepEqual(JSON.parse(r.stdout).outputs[0].shape, [1, 4]);
  });

  it('a 60,000-node function called once, and 2,000 calls of a 200-node function, count against --max-nodes', () => {
    expectRefusal(sandbox(), ['summary', sandbox().file('big.onnx', bombs.bigFunction(60_000, 1))], /more than 50,000 nodes/);
    expectRefusal(sandbox(), ['summary', sandbox().file('many.onnx', bombs.bigFunction(200, 2_000))], /more than 50,000 nodes/);
  });

  for (const [name, make, pattern] of [
    ['ConstantOfShape of a shape declared int64[2000000000]', bombs.constantOfShapeRank, /rank 2000000000 is more than 1024/],
    ['Reshape to a shape declared int64[2000000000]', bombs.reshapeRank, /rank 2000000000 is more than 1024/],
    ['Expand to a shape declared int64[2000000000]', bombs.expandRank, /rank 2000000000 is more than 1024/],
    ['Split with num_outputs=2e9', () => bombs.splitOutputs(2_000_000_000), /num_outputs is 2000000000, but the node has 1/],
    ['Split with num_outputs=2e9 of a known axis', () => bombs.splitOutputs(2_000_000_000, 8), /num_outputs is 2000000000/],
    ['Scan with num_scan_inputs=2e9', bombs.scanInputs, /num_scan_inputs is 2000000000, but the node has 1/],
  ] as const) {
    it(`${name}: the output is unknown with a warning`, () => {
      const file = sandbox().file('bomb.onnx', make());
      const r = expectSuccess(sandbox(), ['summary', file]);
      assert.match(r.stdout, pattern);
    });
  }

  it('in-process, the size bombs give warnings and never a RangeError', () => {
    for (const bytes of [bombs.constantOfShapeRank(), bombs.reshapeRank(), bombs.splitOutputs(), bombs.scanInputs()]) {
      const summary = summarizeModel(readOnnxBytes(bytes));
      assert.ok(summary.warnings.length > 0);
      assert.equal(summary.layers[0].outputs[0].shape, null);
    }
  });

  it('memoised function inference gives the same shapes as inlining each call', () => {
    // Two calls of the same function on different shapes must not share a result; two on the same shape may.
    const model = readOnnxBytes(bombs.bigFunction(3, 3));
    const summary = summarizeModel(model, { inputShapes: { x: [2, 4] } });
    assert.deepEqual(
      summary.layers.filter((l) => l.op === 'local.Big').map((l) => l.outputs[0].shape),
      [[2, 4], [4, 4], [8, 4]],
    );
  });
});

describe('hostile input: the shape inference budget on its own', () => {
  it('refuses to inline more function nodes than maxNodes when no node count ran first (as the gradient builder calls it)', async () => {
    const { inferShapes } = await import('../../../src/core/analysis/shapes/index');
    const model = readOnnxBytes(bombs.bigFunction(200, 2_000));
    assert.throws(() => inferShapes(model), (e: Error) => e.name === 'UserInputError' && /inline more than 50,000 nodes/.test(e.message));
    assert.doesNotThrow(() => inferShapes(model, { maxNodes: 1_000_000 }));
  });
});
