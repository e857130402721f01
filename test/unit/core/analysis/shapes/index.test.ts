import { strict as assert } from 'node:assert';
import { GraphBuilder } from '../../../../../src/core/ir/builder';
import { makeTensor } from '../../../../../src/core/ir/tensorData';
import type { Model } from '../../../../../src/core/ir/types';
import { inferShapes } from '../../../../../src/core/analysis/shapes/index';

/** Conv + optional BatchNormalization + ReLU blocks, as the lecture's DeeperBNConvNet defines them. */
function deeperBNConvNet(batch: number | string = 1): { model: Model; convs: string[]; flat: string; fc1: string; fc2: string } {
  const b = new GraphBuilder('DeeperBNConvNet');
  let x = b.input('input', 'float32', [batch, 3, 32, 32]);
  const convs: string[] = [];
  const layers: Array<[number, number, boolean]> = [
    // [in channels, stride, batch norm after]
    [3, 1, false],
    [15, 2, true],
    [15, 1, false],
    [15, 2, true],
    [15, 1, false],
    [15, 2, true],
    [15, 2, false],
  ];
  layers.forEach(([cin, stride, bn], i) => {
    const w = b.initializer(`conv${i}.weight`, 'float32', [15, cin, 3, 3], new Array(15 * cin * 9).fill(0));
    const bias = b.initializer(`conv${i}.bias`, 'float32', [15], new Array(15).fill(0));
    x = b.op('Conv', [x, w, bias], { kernel_shape: [3, 3], strides: [stride, stride], pads: [1, 1, 1, 1] });
    convs.push(x);
    if (bn) {
      const p = (n: string): string => b.initializer(`bn${i}.${n}`, 'float32', [15], new Array(15).fill(1));
      x = b.op('BatchNormalization', [x, p('scale'), p('bias'), p('mean'), p('var')]);
    }
    x = b.op('Relu', [x]);
  });
  const flat = b.op('Flatten', [x], { axis: 1 });
  const w1 = b.initializer('fc1.weight', 'float32', [60, 60], new Array(3600).fill(0));
  const b1 = b.initializer('fc1.bias', 'float32', [60], new Array(60).fill(0));
  const fc1 = b.op('Gemm', [flat, w1, b1], { transB: 1 });
  const w2 = b.initializer('fc2.weight', 'float32', [10, 60], new Array(600).fill(0));
  const b2 = b.initializer('fc2.bias', 'float32', [10], new Array(10).fill(0));
  const fc2 = b.op('Gemm', [fc1, w2, b2], { transB: 1 });
  b.output(fc2);
  return { model: b.model(13), convs, flat, fc1, fc2 };
}

describe('inferShapes', () => {
  it('gives the lecture shapes for DeeperBNConvNet (15x32x32 -> 15x16x16 -> ... -> 15x2x2 -> 60 -> 10)', () => {
    const { model, convs, flat, fc1, fc2 } = deeperBNConvNet();
    const r = inferShapes(model);
    assert.deepEqual(
      convs.map((c) => r.types.get(c)?.shape),
      [
        [1, 15, 32, 32],
        [1, 15, 16, 16],
        [1, 15, 16, 16],
        [1, 15, 8, 8],
        [1, 15, 8, 8],
        [1, 15, 4, 4],
        [1, 15, 2, 2],
      ],
    );
    assert.deepEqual(r.types.get(flat)?.shape, [1, 60]);
    assert.deepEqual(r.types.get(fc1)?.shape, [1, 60]);
    assert.deepEqual(r.types.get(fc2)?.shape, [1, 10]);
    assert.equal(r.types.get(fc2)?.dtype, 'float32');
    assert.deepEqual(r.warnings, []);
  });

  it('keeps a symbolic batch dim N through Conv, BatchNormalization, Flatten and Gemm', () => {
    const { model, convs, fc2 } = deeperBNConvNet('N');
    const r = inferShapes(model);
    assert.deepEqual(r.types.get(convs[6])?.shape, ['N', 15, 2, 2]);
    assert.deepEqual(r.types.get(fc2)?.shape, ['N', 10]);
  });

  it('lets --input-shape fix a symbolic input', () => {
    const { model, fc2 } = deeperBNConvNet('N');
    const r = inferShapes(model, { inputShapes: { input: [8, 3, 32, 32] } });
    assert.deepEqual(r.types.get(fc2)?.shape, [8, 10]);
    assert.deepEqual(r.types.get('input')?.shape, [8, 3, 32, 32]);
  });

  it('binds a symbol fixed on one input on the other inputs and declared value_info too', () => {
    const b = new GraphBuilder();
    const ids = b.input('ids', 'int64', ['B', 'S']);
    const mask = b.input('mask', 'float32', ['B', 'S']);
    const table = b.initializer('table', 'float32', [10, 4], new Array(40).fill(0));
    const emb = b.op('Gather', [table, ids]);
    const m = b.op('Unsqueeze', [mask, b.initializer('ax', 'int64', [1], [-1])]);
    const y = b.op('Mul', [emb, m]);
    const z = b.op('Mystery', [y]);
    const g = b.build();
    g.valueInfo.push({ name: z, type: { kind: 'tensor', tensor: { dtype: 'float32', shape: ['B', 'S', 4] } } });
    const r = inferShapes({ ...b.model(13), graph: g }, { inputShapes: { ids: [1, 128] } });
    assert.deepEqual(r.types.get('mask')?.shape, [1, 128]);
    assert.deepEqual(r.types.get(y)?.shape, [1, 128, 4]);
    assert.deepEqual(r.types.get(z)?.shape, [1, 128, 4]);
  });

  it('warns when --input-shape names no input or changes the rank', () => {
    const { model } = deeperBNConvNet('N');
    const r = inferShapes(model, { inputShapes: { nope: [1], input: [3, 32, 32] } });
    const codes = r.warnings.map((w) => w.code);
    assert.deepEqual(codes.filter((c) => c === 'input-shape').length, 2);
    assert.ok(r.warnings.some((w) => w.message.includes("'nope'")));
  });

  it("gives AlexNet's first layer 55x55x96 (227, F=11, S=4, P=0)", () => {
    const b = new GraphBuilder();
    const x = b.input('image', 'float32', [1, 3, 227, 227]);
    const w = b.initializer('w', 'float32', [96, 3, 11, 11], new Array(96 * 3 * 121).fill(0));
    const y = b.op('Conv', [x, w], { strides: [4, 4] });
    const r = inferShapes(b.model(11));
    assert.deepEqual(r.types.get(y)?.shape, [1, 96, 55, 55]);
  });

  it('types initializers and graph inputs, and folds small inline initializers into constants', () => {
    const b = new GraphBuilder();
    b.input('x', 'float16', ['B', 4]);
    b.initializer('shape', 'int64', [2], [2, -1]);
    const r = inferShapes(b.model());
    assert.deepEqual(r.types.get('x'), { dtype: 'float16', shape: ['B', 4] });
    assert.deepEqual(r.types.get('shape'), { dtype: 'int64', shape: [2] });
    assert.deepEqual(r.constants.get('shape'), { dtype: 'int64', dims: [2], values: [2, -1] });
  });

  it('does not read file-backed initializers', () => {
    const b = new GraphBuilder();
    b.addInitializer({ name: 'w', dtype: 'float32', dims: [2], data: { kind: 'file', path: '/nonexistent', offset: 0, length: 8 } });
    const r = inferShapes(b.model());
    assert.deepEqual(r.types.get('w')?.shape, [2]);
    assert.equal(r.constants.has('w'), false);
  });

  it('folds Shape -> Gather -> Unsqueeze -> Concat -> Reshape with a symbolic batch into [N, 60]', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', ['N', 15, 2, 2]);
    const s = b.op('Shape', [x]);
    const zero = b.initializer('zero', 'int64', [], [0]);
    const n = b.op('Gather', [s, zero], { axis: 0 });
    const axes = b.initializer('axes', 'int64', [1], [0]);
    const nu = b.op('Unsqueeze', [n, axes]);
    const minus = b.initializer('minus', 'int64', [1], [-1]);
    const shape = b.op('Concat', [nu, minus], { axis: 0 });
    const y = b.op('Reshape', [x, shape]);
    const r = inferShapes(b.model(13));
    assert.deepEqual(r.types.get(s)?.shape, [4]);
    assert.deepEqual(r.types.get(s)?.dtype, 'int64');
    assert.deepEqual(r.types.get(n)?.shape, []);
    assert.deepEqual(r.types.get(shape)?.shape, [2]);
    assert.deepEqual(r.types.get(y)?.shape, ['N', 60]);
    // Values holding a symbol are not constants; fully numeric ones are.
    assert.equal(r.constants.has(s), false);
    assert.equal(r.constants.has(shape), false);
  });

  it('folds a fully known shape computation into result.constants', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 3, 4]);
    const s = b.op('Shape', [x]);
    const starts = b.initializer('starts', 'int64', [1], [1]);
    const ends = b.initializer('ends', 'int64', [1], [3]);
    const tail = b.op('Slice', [s, starts, ends]);
    const prod = b.op('ReduceProd', [tail], { keepdims: 1 });
    const two = b.initializer('two', 'int64', [1], [2]);
    const half = b.op('Div', [prod, two]);
    const cast = b.op('Cast', [half], { to: 1 });
    const r = inferShapes(b.model(13));
    assert.deepEqual(r.constants.get(s)?.values, [2, 3, 4]);
    assert.deepEqual(r.constants.get(tail)?.values, [3, 4]);
    assert.deepEqual(r.constants.get(prod), { dtype: 'int64', dims: [1], values: [12] });
    assert.deepEqual(r.constants.get(half)?.values, [6]);
    assert.deepEqual(r.constants.get(cast), { dtype: 'float32', dims: [1], values: [6] });
  });

  it('does not fold tensors larger than maxFoldElements', () => {
    const b = new GraphBuilder();
    const big = b.initializer('big', 'int64', [10], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const y = b.op('Identity', [big]);
    const r = inferShapes(b.model(), { maxFoldElements: 5 });
    assert.equal(r.constants.has(big), false);
    assert.equal(r.constants.has(y), false);
    assert.deepEqual(r.types.get(y)?.shape, [10]);
  });

  it('warns once per unknown op type with a count, and leaves outputs unknown with the declared dtype', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 4]);
    const a = b.op('FancyOp', [x], {}, { domain: 'custom.domain' });
    const a2 = b.op('FancyOp', [a], {}, { domain: 'custom.domain' });
    const y = b.op('Relu', [a2]);
    const g = b.build();
    g.valueInfo.push({ name: a, type: { kind: 'tensor', tensor: { dtype: 'float16', shape: null } } });
    const model: Model = { ...b.model(), graph: g };
    const r = inferShapes(model);
    const unknown = r.warnings.filter((w) => w.code === 'unknown-op');
    assert.equal(unknown.length, 1);
    assert.match(unknown[0].message, /FancyOp/);
    assert.match(unknown[0].message, /2 nodes/);
    assert.deepEqual(r.types.get(a), { dtype: 'float16', shape: null });
    assert.deepEqual(r.types.get(a2), { dtype: 'undefined', shape: null });
    assert.deepEqual(r.types.get(y)?.shape, null);
  });

  it('falls back to the declared value_info shape where inference knows nothing', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 4]);
    const a = b.op('Mystery', [x]);
    const y = b.op('Relu', [a]);
    const g = b.build();
    g.valueInfo.push({ name: a, type: { kind: 'tensor', tensor: { dtype: 'float32', shape: [1, 8] } } });
    const r = inferShapes({ ...b.model(), graph: g });
    assert.deepEqual(r.types.get(y)?.shape, [1, 8]);
  });

  it("warns 'value-info-mismatch' when a declared dim disagrees with the inference", () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 4]);
    const y = b.op('Relu', [x]);
    const g = b.build();
    g.valueInfo.push({ name: y, type: { kind: 'tensor', tensor: { dtype: 'float32', shape: [1, 5] } } });
    g.outputs.push({ name: y, type: { kind: 'tensor', tensor: { dtype: 'float32', shape: [1, null] } } });
    const r = inferShapes({ ...b.model(), graph: g });
    const w = r.warnings.filter((x) => x.code === 'value-info-mismatch');
    assert.equal(w.length, 1);
    assert.match(w[0].message, /\[1, 5\]/);
    assert.match(w[0].message, /\[1, 4\]/);
    assert.deepEqual(r.types.get(y)?.shape, [1, 4]);
  });

  it("turns a malformed node into a 'shape-mismatch' warning and keeps going", () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 3]);
    const w = b.input('w', 'float32', [4, 5]);
    const y = b.op('MatMul', [x, w]);
    const z = b.op('Relu', [x]);
    const r = inferShapes(b.model());
    const m = r.warnings.filter((e) => e.code === 'shape-mismatch');
    assert.equal(m.length, 1);
    assert.match(m[0].message, /3 columns/);
    assert.match(m[0].message, /4 rows/);
    assert.equal(r.types.get(y)?.shape, null);
    assert.deepEqual(r.types.get(z)?.shape, [2, 3]);
  });

  it('refuses impossible sizes computed from constants', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 3]);
    const y = b.op('Tile', [x, b.initializer('rep', 'int64', [2], [2 ** 60, 2 ** 60])]);
    const z = b.op('Relu', [y]);
    const r = inferShapes(b.model(13));
    assert.equal(r.types.get(y)?.shape, null);
    assert.equal(r.types.get(z)?.shape, null);
    assert.match(r.warnings[0].message, /invalid size/);
  });

  it('never throws on a cyclic graph; it warns and infers in file order', () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [2]);
    b.node('Add', ['x', 'b'], {}, { outputs: ['a'] });
    b.node('Relu', ['a'], {}, { outputs: ['b'] });
    const r = inferShapes(b.model());
    assert.ok(r.warnings.some((w) => w.code === 'graph-structure'));
  });

  it('inlines model-local functions with bound inputs and attributes', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', ['N', 3, 8, 8]);
    const y = b.op('Block', [x], { factor: 2 }, { domain: 'local' });
    const model: Model = {
      ...b.model(17, {
        opsetImports: [
          { domain: '', version: 17 },
          { domain: 'local', version: 1 },
        ],
      }),
      functions: [
        {
          name: 'Block',
          domain: 'local',
          inputs: ['inp'],
          outputs: ['out'],
          attributes: ['factor'],
          attributeDefaults: [],
          opsetImports: [{ domain: '', version: 17 }],
          valueInfo: [],
          nodes: [
            { name: 'r', opType: 'Relu', domain: '', inputs: ['inp'], outputs: ['t'], attributes: [] },
            {
              name: 'p',
              opType: 'MaxPool',
              domain: '',
              inputs: ['t'],
              outputs: ['out'],
              attributes: [
                { name: 'kernel_shape', type: 'ints', value: [2, 2] },
                { name: 'strides', type: 'ref', refAttrName: 'factor', refType: 'int' },
              ],
            },
          ],
        },
      ],
    };
    // The reference binds an int to 'strides'; MaxPool reads it as a one-element list, so give a 2-D stride via ints.
    model.graph.nodes[0].attributes = [{ name: 'factor', type: 'ints', value: [2, 2] }];
    const r = inferShapes(model);
    assert.deepEqual(r.types.get(y)?.shape, ['N', 3, 4, 4]);
    assert.deepEqual(r.warnings, []);
  });

  it('infers a 100,000-node chain', function () {
    // Speed is measured by the benchmark, not here; the generous limit only keeps a loaded machine from failing it.
    this.timeout(60_000);
    const b = new GraphBuilder();
    let x = b.input('x', 'float32', ['N', 16]);
    for (let i = 0; i < 100_000; i++) x = b.op(i % 2 ? 'Relu' : 'Sigmoid', [x], {}, { name: `n${i}`, output: `v${i}` });
    const r = inferShapes(b.model());
    assert.deepEqual(r.types.get(x)?.shape, ['N', 16]);
    assert.equal(r.types.size, 100_001);
  });

  it('types Constant outputs from tensor and scalar attributes', () => {
    const b = new GraphBuilder();
    const k = b.op('Constant', [], { value: makeTensor('v', 'int64', [3], [1, 2, 3]) });
    const f = b.op('Constant', [], { value_float: { float: 0.5 } });
    const r = inferShapes(b.model());
    assert.deepEqual(r.constants.get(k), { dtype: 'int64', dims: [3], values: [1, 2, 3] });
    assert.deepEqual(r.types.get(f), { dtype: 'float32', shape: [] });
    assert.deepEqual(r.constants.get(f)?.values, [0.5]);
  });
});
