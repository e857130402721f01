import { GraphBuilder, f, fs as floats } from '../../../../src/core/ir/builder';
import { encodeValues, makeTensor } from '../../../../src/core/ir/tensorData';
import type { FunctionDef, Graph, Model, Tensor } from '../../../../src/core/ir/types';

/**
 * A model that uses every part of the IR the ONNX reader and writer handle: typed initializers of many dtypes, a
 * large weight (so that reading from a file leaves it as a byte range), sparse initializers, Constant nodes, every
 * attribute kind, If and Loop subgraphs, a model-local function with defaults and a ref attribute, non-tensor value
 * types, symbolic and unknown dims, doc strings and metadata everywhere.
 */
export function richModel(): Model {
  const b = new GraphBuilder('main');
  const x = b.input('x', 'float32', ['N', 3, null, 8]);
  const cond = b.input('cond', 'bool', []);
  const w = b.initializer('w', 'float32', [8, 3, 3, 3], Array.from({ length: 216 }, (_, i) => (i % 17) / 4 - 2));
  const shape = b.initializer('shape', 'int64', [2], [-1, 2 ** 40]);
  b.addInitializer(makeTensor('half', 'float16', [3], [1, -2.5, 65504]));
  b.addInitializer(makeTensor('brain', 'bfloat16', [2], [1, -3]));
  b.addInitializer(makeTensor('flags', 'bool', [2], [1, 0]));
  b.addInitializer(makeTensor('small', 'int8', [2], [-128, 127]));
  b.addInitializer(makeTensor('big', 'uint64', [1], [2 ** 50]));
  b.addInitializer(makeTensor('dbl', 'float64', [2], [Math.PI, -1e300]));
  b.addInitializer({
    name: 'labels',
    dtype: 'string',
    dims: [2],
    data: { kind: 'strings', values: [new TextEncoder().encode('cat'), new TextEncoder().encode('dög')] },
    docString: 'class names',
  });
  const y = b.op('Conv', [x, w, ''], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], auto_pad: 'NOTSET' }, { name: 'conv' });
  const c = b.op('Constant', [], { value: makeTensor('', 'int64', [1], [7]) }, { name: 'const_tensor' });
  const cf = b.op('Constant', [], { value_float: f(0.5) }, { name: 'const_float' });
  const ci = b.op('Constant', [], { value_ints: [1, -2, 3] }, { name: 'const_ints' });
  const r = b.op('Reshape', [y, shape], {}, { name: 'reshape' });
  const everything = b.op(
    'Custom',
    [r, c, cf, ci],
    {
      big_int: 2 ** 63,
      small_int: -(2 ** 63),
      floats: floats([1.5, -2.25]),
      strings: ['a', 'bé'],
      tensors: { name: 'tensors', type: 'tensors', value: [makeTensor('t1', 'int32', [2], [5, -6]), makeTensor('t2', 'float32', [], [2])] },
      typed: { name: 'typed', type: 'typeProto', value: { kind: 'sequence', element: { kind: 'tensor', tensor: { dtype: 'float32', shape: [1, 'K'] } } } },
      typeds: {
        name: 'typeds',
        type: 'typeProtos',
        value: [
          { kind: 'map', keyType: 'int64', value: { kind: 'tensor', tensor: { dtype: 'float32', shape: null } } },
          { kind: 'optional', element: { kind: 'sparseTensor', tensor: { dtype: 'float32', shape: [4] } } },
        ],
      },
      sparse: { name: 'sparse', type: 'sparseTensor', value: sparseTensor('sv') },
      sparses: { name: 'sparses', type: 'sparseTensors', value: [sparseTensor('sa'), sparseTensor('sb')] },
      empty_ints: { name: 'empty_ints', type: 'ints', value: [] },
      documented: { name: 'documented', type: 'int', value: 3, docString: 'an attribute with a doc string' },
    },
    { name: 'custom', domain: 'com.example' },
  );
  const branch = (name: string, value: number): Graph => {
    const g = new GraphBuilder(name);
    g.initializer(`${name}_k`, 'float32', [1], [value]);
    const o = g.op('Mul', [everything, `${name}_k`], {}, { name: `${name}_mul` });
    g.output(o, 'float32', null);
    return g.build();
  };
  const ifOut = b.op('If', [cond], { then_branch: branch('then', 2), else_branch: branch('else', 3) }, { name: 'if' });
  const body = new GraphBuilder('body');
  body.input('i', 'int64', []);
  body.input('cond_in', 'bool', []);
  body.input('acc', 'float32', null);
  const inner = new GraphBuilder('inner');
  inner.output(inner.op('Identity', ['acc'], {}, { name: 'inner_id' }));
  const nested = body.op('If', ['cond_in'], { then_branch: inner.build(), else_branch: inner.build() }, { name: 'nested_if' });
  const next = body.op('Add', [nested, 'x'], {}, { name: 'body_add' });
  body.output('cond_in', 'bool', []);
  body.output(next, 'float32', null);
  const loopOut = b.op('Loop', ['', cond, ifOut], { body: body.build() }, { name: 'loop' });
  const fnOut = b.op('Scaled', [loopOut], { factor: f(2) }, { name: 'call', domain: 'local' });
  b.output(fnOut, 'float32', ['N', null]);
  const g = b.build();
  g.docString = 'the main graph';
  g.metadataProps = [{ key: 'graph-key', value: 'graph-value' }];
  g.inputs.push(
    { name: 'seq', type: { kind: 'sequence', element: { kind: 'tensor', tensor: { dtype: 'int64', shape: [] } } }, docString: 'a sequence' },
    { name: 'untyped', type: null },
  );
  g.valueInfo.push({ name: y, type: { kind: 'tensor', tensor: { dtype: 'float32', shape: ['N', 8, null, 8] } } });
  g.sparseInitializers.push(sparseTensor('sparse_init'));
  g.nodes[0].docString = 'the first convolution';
  g.nodes[0].metadataProps = [{ key: 'origin', value: 'conv1' }];
  g.nodes[0].overload = '';
  return {
    format: 'onnx',
    irVersion: 10,
    opsetImports: [
      { domain: '', version: 21 },
      { domain: 'com.example', version: 1 },
      { domain: 'local', version: 1 },
    ],
    producerName: 'layerscope-test',
    producerVersion: '0.1',
    domain: 'org.example',
    modelVersion: 3,
    docString: 'a model that exercises the whole reader',
    metadataProps: [{ key: 'author', value: 'tests' }],
    graph: g,
    functions: [scaledFunction()],
  };
}

function sparseTensor(name: string): { values: Tensor; indices: Tensor; dims: number[] } {
  return {
    values: makeTensor(name, 'float32', [2], [1.5, -4]),
    indices: makeTensor(`${name}_indices`, 'int64', [2], [1, 3]),
    dims: [5],
  };
}

/** Scaled(x) = x * factor * gain, with `factor` taken from the caller and `gain` defaulting to 1. */
export function scaledFunction(): FunctionDef {
  return {
    name: 'Scaled',
    domain: 'local',
    inputs: ['X'],
    outputs: ['Y'],
    attributes: ['factor'],
    attributeDefaults: [{ name: 'gain', type: 'float', value: 1 }],
    nodes: [
      {
        name: 'factor_const',
        opType: 'Constant',
        domain: '',
        inputs: [],
        outputs: ['F'],
        attributes: [{ name: 'value_float', type: 'ref', refAttrName: 'factor', refType: 'float' }],
      },
      { name: 'mul', opType: 'Mul', domain: '', inputs: ['X', 'F'], outputs: ['Y'], attributes: [] },
    ],
    opsetImports: [{ domain: '', version: 21 }],
    valueInfo: [{ name: 'F', type: { kind: 'tensor', tensor: { dtype: 'float32', shape: [] } } }],
    docString: 'multiplies by a factor',
    overload: 'v1',
    metadataProps: [{ key: 'fn-key', value: 'fn-value' }],
  };
}

/** A small valid model for Python's onnx.checker: a conv, an If with two branches, and a model-local function. */
export function checkableModel(): Model {
  const b = new GraphBuilder('checkable');
  const x = b.input('x', 'float32', ['N', 3, 8, 8]);
  const cond = b.input('cond', 'bool', []);
  const w = b.initializer('w', 'float32', [4, 3, 3, 3], Array.from({ length: 108 }, (_, i) => Math.sin(i)));
  const bias = b.initializer('b', 'float32', [4], [0.1, 0.2, 0.3, 0.4]);
  const y = b.op('Conv', [x, w, bias], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] }, { name: 'conv' });
  const branch = (name: string, alpha: number): Graph => {
    const g = new GraphBuilder(name);
    g.output(g.op('LeakyRelu', [y], { alpha: f(alpha) }, { name: `${name}_act` }), 'float32', null);
    return g.build();
  };
  const z = b.op('If', [cond], { then_branch: branch('then', 0.1), else_branch: branch('else', 0.2) }, { name: 'if' });
  const s = b.op('Scaled', [z], { factor: f(2) }, { name: 'call', domain: 'local' });
  const shape = b.initializer('shape', 'int64', [2], [0, -1]);
  const out = b.op('Reshape', [s, shape], {}, { name: 'flatten' });
  b.output(out, 'float32', ['N', 256]);
  const fn = scaledFunction();
  fn.opsetImports = [{ domain: '', version: 17 }];
  delete fn.overload;
  return b.model(17, {
    irVersion: 8,
    opsetImports: [
      { domain: '', version: 17 },
      { domain: 'local', version: 1 },
    ],
    functions: [fn],
    metadataProps: [{ key: 'k', value: 'v' }],
  });
}

/** Raw bytes for a float32 tensor, for tests that compare data. */
export function float32Bytes(values: number[]): Uint8Array {
  return encodeValues('float32', values);
}
