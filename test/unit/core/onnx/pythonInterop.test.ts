import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readOnnxFile } from '../../../../src/core/onnx/reader';
import { readTensorBytes, readTensorValues } from '../../../../src/core/onnx/tensorBytes';
import { writeOnnx, writeOnnxFile } from '../../../../src/core/onnx/writer';
import type { Tensor } from '../../../../src/core/ir/types';
import { checkableModel, richModel } from './fixtures';
import { makeTempDir, normalizeModel, requirePython, runPython } from './helpers';

/**
 * Interop with the reference implementation, Python's onnx package (Debian's python3-onnx at /usr/bin/python3): models
 * that onnx.helper builds read correctly here, and models this writer produces pass onnx.checker.
 */

const MAKE_MODELS = String.raw`
import json, os, sys
import numpy as np
import onnx
from onnx import helper, TensorProto, numpy_helper

out = sys.argv[1]
H = helper
w = np.arange(4 * 3 * 3 * 3, dtype=np.float32).reshape(4, 3, 3, 3) / 7.0
inits = [
    H.make_tensor('w_float_data', TensorProto.FLOAT, [4, 3, 3, 3], w.flatten().tolist(), raw=False),
    H.make_tensor('w_raw', TensorProto.FLOAT, [4, 3, 3, 3], w.tobytes(), raw=True),
    H.make_tensor('shape_i64', TensorProto.INT64, [3], [-1, 2, 9007199254740993], raw=False),
    H.make_tensor('d64', TensorProto.DOUBLE, [2], [3.5, -1e-300], raw=False),
    H.make_tensor('h16', TensorProto.FLOAT16, [3], np.array([1.5, -2.0, 0.099975586], dtype=np.float16).tolist(), raw=False),
    H.make_tensor('b8', TensorProto.BOOL, [3], [True, False, True], raw=False),
    H.make_tensor('i8', TensorProto.INT8, [2], [-100, 7], raw=False),
    H.make_tensor('u16', TensorProto.UINT16, [2], [65535, 1], raw=False),
    H.make_tensor('u64', TensorProto.UINT64, [1], [2**60], raw=False),
    H.make_tensor('u32', TensorProto.UINT32, [2], [4294967295, 3], raw=False),
    H.make_tensor('strs', TensorProto.STRING, [2], [b'alpha', 'b\xc3\xa9ta'.encode('latin1')], raw=False),
]
sparse = H.make_sparse_tensor(
    H.make_tensor('sp', TensorProto.FLOAT, [2], [5.0, 6.0]),
    H.make_tensor('sp_idx', TensorProto.INT64, [2], [0, 3]),
    [4])
then_g = H.make_graph([H.make_node('Relu', ['conv_out'], ['t_out'], name='then_relu')], 'then_graph', [],
                      [H.make_tensor_value_info('t_out', TensorProto.FLOAT, None)])
else_g = H.make_graph([H.make_node('Neg', ['conv_out'], ['e_out'], name='else_neg')], 'else_graph', [],
                      [H.make_tensor_value_info('e_out', TensorProto.FLOAT, None)])
nodes = [
    H.make_node('Conv', ['x', 'w_float_data'], ['conv_out'], name='conv', kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                doc_string='conv doc'),
    H.make_node('If', ['cond'], ['if_out'], name='if', then_branch=then_g, else_branch=else_g),
    H.make_node('Constant', [], ['c'], name='const', value=H.make_tensor('cv', TensorProto.FLOAT, [2], [0.25, 0.5])),
    H.make_node('Constant', [], ['cf'], name='constf', value_float=1.25),
    H.make_node('Constant', [], ['ci'], name='consti', value_ints=[1, -2]),
    H.make_node('Scale', ['if_out'], ['y'], name='call', domain='local', factor=3.0),
]
# A function body node whose attribute refers to the caller's attribute 'factor' (ref_attr_name).
ref_node = onnx.NodeProto()
ref_node.op_type = 'Constant'
ref_node.name = 'factor_const'
ref_node.output.append('F')
a = ref_node.attribute.add()
a.name = 'value_float'
a.ref_attr_name = 'factor'
a.type = onnx.AttributeProto.FLOAT
fn = H.make_function('local', 'Scale', ['X'], ['Y'], [ref_node, H.make_node('Mul', ['X', 'F'], ['Y'], name='mul')],
                     [H.make_opsetid('', 17)], ['factor'], doc_string='scales')
graph = H.make_graph(nodes, 'py_graph',
    [H.make_tensor_value_info('x', TensorProto.FLOAT, ['N', 3, 8, None]),
     H.make_tensor_value_info('cond', TensorProto.BOOL, []),
     H.make_tensor_sequence_value_info('seq', TensorProto.INT64, None)],
    [H.make_tensor_value_info('y', TensorProto.FLOAT, ['N', 4, 8, 8])],
    initializer=inits, doc_string='graph doc',
    value_info=[H.make_tensor_value_info('conv_out', TensorProto.FLOAT, ['N', 4, 8, 8])],
    sparse_initializer=[sparse])
model = H.make_model(graph, opset_imports=[H.make_opsetid('', 17), H.make_opsetid('local', 1)], functions=[fn],
                     producer_name='pytest-oracle', producer_version='1.0', doc_string='model doc', model_version=5)
H.set_model_props(model, {'author': 'oracle', 'license': 'MIT'})
onnx.save(model, os.path.join(out, 'typed.onnx'))

ext_dir = os.path.join(out, 'ext')
os.makedirs(ext_dir)
onnx.save_model(model, os.path.join(ext_dir, 'model.onnx'), save_as_external_data=True, all_tensors_to_one_file=True,
                location='weights.bin', size_threshold=16)

expected = {}
for t in inits:
    arr = numpy_helper.to_array(t)
    if t.data_type == TensorProto.STRING:
        expected[t.name] = {'dims': list(t.dims), 'strings': [s.decode('utf-8') if isinstance(s, bytes) else s for s in arr.flatten().tolist()]}
    else:
        expected[t.name] = {'dims': list(t.dims), 'hex': arr.astype(arr.dtype.newbyteorder('<')).tobytes().hex()}
json.dump(expected, open(os.path.join(out, 'expected.json'), 'w'))
`;

const CHECK_MODEL = String.raw`
import sys, json
import onnx
from onnx import numpy_helper
path = sys.argv[1]
m = onnx.load(path)
onnx.checker.check_model(path, full_check=True)
out = {'nodes': [n.op_type for n in m.graph.node], 'functions': [f.name for f in m.functions],
       'inits': {t.name: numpy_helper.to_array(t).tobytes().hex() for t in m.graph.initializer if t.data_type != 8},
       'opset': [(o.domain, o.version) for o in m.opset_import], 'metadata': {p.key: p.value for p in m.metadata_props}}
print(json.dumps(out))
`;

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

describe('core/onnx interop with Python onnx', function () {
  this.timeout(120_000);
  let tmp: { dir: string; cleanup: () => void };
  let py: string;
  before(function () {
    py = requirePython(this);
    tmp = makeTempDir();
    runPython(py, MAKE_MODELS, [tmp.dir]);
  });
  after(() => tmp?.cleanup());

  function expected(): Record<string, { dims: number[]; hex?: string; strings?: string[] }> {
    return JSON.parse(fs.readFileSync(path.join(tmp.dir, 'expected.json'), 'utf8'));
  }

  function checkInitializers(initializers: Tensor[]): void {
    const byName = new Map(initializers.map((t) => [t.name, t]));
    for (const [name, want] of Object.entries(expected())) {
      const t = byName.get(name);
      assert.ok(t, `initializer ${name}`);
      assert.deepEqual(t.dims, want.dims, `${name} dims`);
      if (want.strings) {
        assert.ok(t.data.kind === 'strings');
        if (t.data.kind === 'strings') assert.deepEqual(t.data.values.map((v) => new TextDecoder().decode(v)), want.strings);
      } else {
        assert.equal(hex(readTensorBytes(t)), want.hex, `${name} bytes`);
      }
    }
  }

  it('reads a model built with onnx.helper: typed data fields, sparse, If, Constant, functions, metadata', () => {
    const model = readOnnxFile(path.join(tmp.dir, 'typed.onnx'));
    checkInitializers(model.graph.initializers);
    assert.equal(model.producerName, 'pytest-oracle');
    assert.equal(model.producerVersion, '1.0');
    assert.equal(model.docString, 'model doc');
    assert.equal(model.modelVersion, 5);
    assert.deepEqual(model.metadataProps, [
      { key: 'author', value: 'oracle' },
      { key: 'license', value: 'MIT' },
    ]);
    assert.deepEqual(model.opsetImports, [
      { domain: '', version: 17 },
      { domain: 'local', version: 1 },
    ]);
    assert.equal(model.graph.docString, 'graph doc');
    assert.deepEqual(model.graph.nodes.map((n) => n.opType), ['Conv', 'If', 'Constant', 'Constant', 'Constant', 'Scale']);
    assert.equal(model.graph.nodes[0].docString, 'conv doc');
    assert.deepEqual(model.graph.inputs[0].type, { kind: 'tensor', tensor: { dtype: 'float32', shape: ['N', 3, 8, null] } });
    assert.deepEqual(model.graph.inputs[2].type, { kind: 'sequence', element: { kind: 'tensor', tensor: { dtype: 'int64', shape: null } } });
    assert.equal(model.graph.valueInfo[0].name, 'conv_out');
    const ifNode = model.graph.nodes[1];
    const thenBranch = ifNode.attributes.find((a) => a.name === 'then_branch');
    assert.ok(thenBranch && thenBranch.type === 'graph' && thenBranch.value.nodes[0].opType === 'Relu');
    assert.deepEqual(model.graph.nodes[3].attributes, [{ name: 'value_float', type: 'float', value: 1.25 }]);
    assert.deepEqual(model.graph.nodes[4].attributes, [{ name: 'value_ints', type: 'ints', value: [1, -2] }]);
    const sp = model.graph.sparseInitializers[0];
    assert.deepEqual(Array.from(readTensorValues(sp.values)), [5, 6]);
    assert.deepEqual(readTensorValues(sp.indices), [0, 3]);
    assert.deepEqual(sp.dims, [4]);
    const fn = model.functions[0];
    assert.equal(fn.name, 'Scale');
    assert.equal(fn.domain, 'local');
    assert.deepEqual(fn.attributes, ['factor']);
    assert.deepEqual(fn.nodes[0].attributes[0], { name: 'value_float', type: 'ref', refAttrName: 'factor', refType: 'float' });
  });

  it('reads the same model saved with external data, and matches the inline one', () => {
    const external = readOnnxFile(path.join(tmp.dir, 'ext', 'model.onnx'));
    checkInitializers(external.graph.initializers);
    const w = external.graph.initializers.find((t) => t.name === 'w_raw');
    assert.ok(w && w.data.kind === 'file' && w.data.external?.location === 'weights.bin');
    const inline = readOnnxFile(path.join(tmp.dir, 'typed.onnx'));
    // External data differs only in where bytes live; after loading them the models are equal.
    const strip = (m: ReturnType<typeof readOnnxFile>): unknown => {
      const n = normalizeModel(m) as { graph: { initializers: Record<string, unknown>[] } };
      n.graph.initializers = n.graph.initializers.map(({ data, name, dims, dtype }) => ({ data, name, dims, dtype }));
      return n;
    };
    assert.deepStrictEqual(strip(external), strip(inline));
  });

  it('a model read from Python output writes back to a file that onnx.checker accepts', () => {
    const model = readOnnxFile(path.join(tmp.dir, 'typed.onnx'));
    const out = path.join(tmp.dir, 'rewritten.onnx');
    writeOnnxFile(model, out);
    const result = JSON.parse(runPython(py, CHECK_MODEL, [out]));
    assert.deepEqual(result.nodes, ['Conv', 'If', 'Constant', 'Constant', 'Constant', 'Scale']);
    assert.deepEqual(result.functions, ['Scale']);
    assert.equal(result.inits.w_float_data, expected().w_float_data.hex);
  });

  it('models built by the writer pass onnx.checker with full shape checking, with and without external data', () => {
    const model = checkableModel();
    const inline = path.join(tmp.dir, 'checkable.onnx');
    fs.writeFileSync(inline, writeOnnx(model));
    const a = JSON.parse(runPython(py, CHECK_MODEL, [inline]));
    assert.deepEqual(a.nodes, ['Conv', 'If', 'Scaled', 'Reshape']);
    assert.deepEqual(a.metadata, { k: 'v' });
    const wHex = hex(readTensorBytes(model.graph.initializers[0]));
    assert.equal(a.inits.w, wHex);

    const extDir = path.join(tmp.dir, 'ext-out');
    fs.mkdirSync(extDir);
    const external = path.join(extDir, 'checkable.onnx');
    writeOnnxFile(model, external, { externalData: { thresholdBytes: 64 } });
    assert.ok(fs.existsSync(path.join(extDir, 'checkable.onnx.data')));
    const b = JSON.parse(runPython(py, CHECK_MODEL, [external]));
    assert.equal(b.inits.w, wHex);
    assert.equal(b.inits.shape, a.inits.shape);
  });

  it('the rich fixture (every attribute kind, nested subgraphs, sparse) loads in Python onnx', () => {
    const file = path.join(tmp.dir, 'rich.onnx');
    fs.writeFileSync(file, writeOnnx(richModel()));
    const script = String.raw`
import sys, onnx
m = onnx.load(sys.argv[1])
n = {x.name: x for x in m.graph.node}
a = {x.name: x for x in n['custom'].attribute}
assert a['big_int'].i == 2**63 - 1, a['big_int'].i
assert a['small_int'].i == -2**63
assert list(a['floats'].floats) == [1.5, -2.25]
assert [g.name for g in (n['if'].attribute[0].g, n['if'].attribute[1].g)] == ['then', 'else']
assert m.graph.sparse_initializer[0].values.name == 'sparse_init'
assert m.functions[0].node[0].attribute[0].ref_attr_name == 'factor'
print('ok')
`;
    assert.equal(runPython(py, script, [file]).trim(), 'ok');
  });
});
