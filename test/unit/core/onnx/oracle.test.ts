import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dataTypeCode } from '../../../../src/core/ir/dtypes';
import type { Attribute, Graph, Model, Tensor, ValueInfo, ValueType } from '../../../../src/core/ir/types';
import { readOnnxFile } from '../../../../src/core/onnx/reader';
import { readTensorBytes } from '../../../../src/core/onnx/tensorBytes';
import { writeOnnxFile } from '../../../../src/core/onnx/writer';
import { ATTRIBUTE_TYPE_CODES } from '../../../../src/core/onnx/protoEnums';
import { makeTempDir, requirePython, runPython } from './helpers';

/**
 * The reader and writer against Python onnx on real models: the ONNX project's own backend node tests (about 900
 * small models, generated in memory by onnx.backend.test.case) and PyTorch exports (ResNet-18, an LSTM, a scripted
 * model with If and Loop). Python describes each model as JSON; the reader's IR must give the same description, and
 * so must Python reading what the writer wrote.
 */

const DESCRIBE = String.raw`
import hashlib, json, math, os, sys
import numpy as np
from onnx import numpy_helper, AttributeProto

def num(x):
    if isinstance(x, float) and not math.isfinite(x):
        return repr(x)
    return x

def tensor(t):
    if t.data_type == 8:
        data = [s.decode('utf-8', 'replace') for s in t.string_data]
    else:
        arr = numpy_helper.to_array(t)
        data = hashlib.sha1(np.ascontiguousarray(arr).tobytes()).hexdigest()
    return {'name': t.name, 'dtype': t.data_type, 'dims': list(t.dims), 'data': data}

def typ(tp):
    which = tp.WhichOneof('value')
    if which in ('tensor_type', 'sparse_tensor_type'):
        tt = getattr(tp, which)
        shape = None
        if tt.HasField('shape'):
            shape = [d.dim_value if d.HasField('dim_value') else (d.dim_param or None) if d.HasField('dim_param') else None for d in tt.shape.dim]
        return {'kind': 'tensor' if which == 'tensor_type' else 'sparse', 'elem': tt.elem_type, 'shape': shape}
    if which == 'sequence_type':
        return {'kind': 'sequence', 'elem': typ(tp.sequence_type.elem_type) if tp.sequence_type.HasField('elem_type') else None}
    if which == 'optional_type':
        return {'kind': 'optional', 'elem': typ(tp.optional_type.elem_type) if tp.optional_type.HasField('elem_type') else None}
    if which == 'map_type':
        return {'kind': 'map', 'key': tp.map_type.key_type, 'value': typ(tp.map_type.value_type) if tp.map_type.HasField('value_type') else None}
    return None

def vi(v):
    return {'name': v.name, 'type': typ(v.type) if v.HasField('type') else None}

def attr(a):
    out = {'name': a.name, 'type': a.type}
    if a.ref_attr_name:
        out['ref'] = a.ref_attr_name
        return out
    T = AttributeProto
    if a.type == T.FLOAT: out['value'] = num(a.f)
    elif a.type == T.INT: out['value'] = a.i
    elif a.type == T.STRING: out['value'] = a.s.decode('utf-8', 'replace')
    elif a.type == T.TENSOR: out['value'] = tensor(a.t)
    elif a.type == T.GRAPH: out['value'] = graph(a.g)
    elif a.type == T.FLOATS: out['value'] = [num(x) for x in a.floats]
    elif a.type == T.INTS: out['value'] = list(a.ints)
    elif a.type == T.STRINGS: out['value'] = [s.decode('utf-8', 'replace') for s in a.strings]
    elif a.type == T.TENSORS: out['value'] = [tensor(t) for t in a.tensors]
    elif a.type == T.GRAPHS: out['value'] = [graph(g) for g in a.graphs]
    elif a.type == T.SPARSE_TENSOR: out['value'] = [tensor(a.sparse_tensor.values), tensor(a.sparse_tensor.indices), list(a.sparse_tensor.dims)]
    elif a.type == T.TYPE_PROTO: out['value'] = typ(a.tp)
    return out

def node(n):
    return {'name': n.name, 'op': n.op_type, 'domain': '' if n.domain == 'ai.onnx' else n.domain, 'inputs': list(n.input),
            'outputs': list(n.output), 'attrs': [attr(a) for a in n.attribute]}

def graph(g):
    return {'name': g.name, 'nodes': [node(n) for n in g.node], 'inputs': [vi(v) for v in g.input],
            'outputs': [vi(v) for v in g.output], 'valueInfo': [vi(v) for v in g.value_info],
            'initializers': [tensor(t) for t in g.initializer],
            'sparse': [[tensor(s.values), tensor(s.indices), list(s.dims)] for s in g.sparse_initializer]}

def model(m):
    return {'ir': m.ir_version, 'opsets': [[o.domain, o.version] for o in m.opset_import], 'producer': m.producer_name,
            'metadata': [[p.key, p.value] for p in m.metadata_props], 'graph': graph(m.graph),
            'functions': [{'name': f.name, 'domain': f.domain, 'inputs': list(f.input), 'outputs': list(f.output),
                           'attributes': list(f.attribute), 'nodes': [node(n) for n in f.node]} for f in m.functions]}
`;

const GENERATE = String.raw`
import json, os, sys, warnings
warnings.filterwarnings('ignore')
import numpy as np
# onnx 1.12's test cases use numpy aliases that numpy 1.24 removed.
for k, v in dict(float=float, int=int, bool=bool, object=object, complex=complex, str=str).items():
    if not hasattr(np, k) or k in ('float', 'int', 'bool', 'object', 'complex', 'str'):
        setattr(np, k, v)
import onnx
out = sys.argv[1]
names = []
import onnx.backend.test.case.node as node_cases
for case in node_cases.collect_testcases(None):
    p = os.path.join(out, case.name + '.onnx')
    if os.path.exists(p):
        continue
    onnx.save(case.model, p)
    names.append(case.name)
try:
    import torch, torchvision
    torch.manual_seed(0)
    def export(name, module, args, **kw):
        module.eval()
        torch.onnx.export(module, args, os.path.join(out, name + '.onnx'), **kw)
        names.append(name)
    export('torch_resnet18', torchvision.models.resnet18(), torch.randn(1, 3, 224, 224), opset_version=13,
           input_names=['input'], output_names=['output'], dynamic_axes={'input': {0: 'N'}})
    class Seq(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(8, 16, num_layers=2, batch_first=True)
            self.fc = torch.nn.Linear(16, 4)
        def forward(self, x):
            y, _ = self.lstm(x)
            return self.fc(y[:, -1])
    export('torch_lstm', Seq(), torch.randn(2, 5, 8), opset_version=14)
    class Flow(torch.nn.Module):
        def forward(self, x, n: int):
            for i in range(n):
                if x.sum() > 0:
                    x = x * 0.5
                else:
                    x = x + 1.0
            return x
    export('torch_control_flow', torch.jit.script(Flow()), (torch.randn(3, 4), 3), opset_version=13)
except ImportError:
    pass
json.dump(names, open(os.path.join(out, 'names.json'), 'w'))
`;

const DESCRIBE_ALL = String.raw`
import onnx
dirname, names_file, out_file = sys.argv[1], sys.argv[2], sys.argv[3]
result = {}
for name in json.load(open(names_file)):
    result[name] = model(onnx.load(os.path.join(dirname, name + '.onnx')))
json.dump(result, open(out_file, 'w'))
`;

function num(x: number): number | string {
  if (Number.isFinite(x)) return x;
  return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
}

function describeTensor(t: Tensor): unknown {
  const data =
    t.data.kind === 'strings'
      ? t.data.values.map((v) => new TextDecoder().decode(v))
      : createHash('sha1').update(readTensorBytes(t)).digest('hex');
  return { name: t.name, dtype: dataTypeCode(t.dtype), dims: t.dims, data };
}

function describeType(t: ValueType | null): unknown {
  if (!t) return null;
  switch (t.kind) {
    case 'tensor':
    case 'sparseTensor':
      return { kind: t.kind === 'tensor' ? 'tensor' : 'sparse', elem: dataTypeCode(t.tensor.dtype), shape: t.tensor.shape };
    case 'sequence':
    case 'optional':
      return { kind: t.kind, elem: describeType(t.element) };
    case 'map':
      return { kind: 'map', key: dataTypeCode(t.keyType), value: describeType(t.value) };
  }
}

function describeValueInfo(v: ValueInfo): unknown {
  return { name: v.name, type: describeType(v.type) };
}

function describeAttribute(a: Attribute): unknown {
  if (a.type === 'ref') return { name: a.name, type: ATTRIBUTE_TYPE_CODES[a.refType], ref: a.refAttrName };
  const out: Record<string, unknown> = { name: a.name, type: ATTRIBUTE_TYPE_CODES[a.type] };
  switch (a.type) {
    case 'float':
      out.value = num(a.value);
      break;
    case 'floats':
      out.value = a.value.map(num);
      break;
    case 'tensor':
      out.value = describeTensor(a.value);
      break;
    case 'tensors':
      out.value = a.value.map(describeTensor);
      break;
    case 'graph':
      out.value = describeGraph(a.value);
      break;
    case 'graphs':
      out.value = a.value.map(describeGraph);
      break;
    case 'sparseTensor':
      out.value = [describeTensor(a.value.values), describeTensor(a.value.indices), a.value.dims];
      break;
    case 'typeProto':
      out.value = describeType(a.value);
      break;
    case 'sparseTensors':
    case 'typeProtos':
      break;
    default:
      out.value = a.value;
  }
  return out;
}

function describeGraph(g: Graph): unknown {
  return {
    name: g.name,
    nodes: g.nodes.map((n) => ({
      name: n.name,
      op: n.opType,
      domain: n.domain,
      inputs: n.inputs,
      outputs: n.outputs,
      attrs: n.attributes.map(describeAttribute),
    })),
    inputs: g.inputs.map(describeValueInfo),
    outputs: g.outputs.map(describeValueInfo),
    valueInfo: g.valueInfo.map(describeValueInfo),
    initializers: g.initializers.map(describeTensor),
    sparse: g.sparseInitializers.map((s) => [describeTensor(s.values), describeTensor(s.indices), s.dims]),
  };
}

function describeModel(m: Model): unknown {
  return {
    ir: m.irVersion,
    opsets: m.opsetImports.map((o) => [o.domain, o.version]),
    producer: m.producerName ?? '',
    metadata: m.metadataProps.map((p) => [p.key, p.value]),
    graph: describeGraph(m.graph),
    functions: m.functions.map((f) => ({
      name: f.name,
      domain: f.domain,
      inputs: f.inputs,
      outputs: f.outputs,
      attributes: f.attributes,
      nodes: f.nodes.map((n) => ({ name: n.name, op: n.opType, domain: n.domain, inputs: n.inputs, outputs: n.outputs, attrs: n.attributes.map(describeAttribute) })),
    })),
  };
}

describe('core/onnx against Python onnx on real models', function () {
  this.timeout(300_000);
  let tmp: { dir: string; cleanup: () => void };
  let py: string;
  let names: string[];
  let expected: Record<string, unknown>;

  before(function () {
    py = requirePython(this);
    tmp = makeTempDir();
    runPython(py, GENERATE, [tmp.dir], tmp.dir);
    names = JSON.parse(fs.readFileSync(path.join(tmp.dir, 'names.json'), 'utf8'));
    const out = path.join(tmp.dir, 'expected.json');
    runPython(py, `import sys, json, os\n${DESCRIBE}\n${DESCRIBE_ALL}`, [tmp.dir, path.join(tmp.dir, 'names.json'), out]);
    expected = JSON.parse(fs.readFileSync(out, 'utf8'));
  });
  after(() => tmp?.cleanup());

  it('reads every backend node-test model and every PyTorch export exactly as Python onnx does', () => {
    assert.ok(names.length > 500, `only ${names.length} models were generated`);
    const failures: string[] = [];
    for (const name of names) {
      try {
        const model = readOnnxFile(path.join(tmp.dir, `${name}.onnx`), { inlineLimitBytes: 256 });
        assert.deepStrictEqual(JSON.parse(JSON.stringify(describeModel(model))), expected[name]);
      } catch (e) {
        failures.push(`${name}: ${e instanceof Error ? e.message.split('\n').slice(0, 12).join('\n') : String(e)}`);
      }
    }
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${names.length} models differ`);
  });

  it('writes every one of them back so that Python onnx reads the same model', () => {
    const outDir = path.join(tmp.dir, 'written');
    fs.mkdirSync(outDir);
    for (const name of names) {
      writeOnnxFile(readOnnxFile(path.join(tmp.dir, `${name}.onnx`)), path.join(outDir, `${name}.onnx`));
    }
    const out = path.join(tmp.dir, 'rewritten.json');
    runPython(py, `import sys, json, os\n${DESCRIBE}\n${DESCRIBE_ALL}`, [outDir, path.join(tmp.dir, 'names.json'), out]);
    const rewritten = JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, unknown>;
    const differing = names.filter((n) => JSON.stringify(rewritten[n]) !== JSON.stringify(expected[n]));
    assert.deepEqual(differing.slice(0, 5), [], `${differing.length} of ${names.length} models differ after writing`);
  });

  it('the PyTorch exports include a real ResNet-18 with its weights left in the file', function () {
    if (!names.includes('torch_resnet18')) {
      if (process.env.CI) throw new Error('torch/torchvision are missing on CI');
      this.skip();
    }
    const model = readOnnxFile(path.join(tmp.dir, 'torch_resnet18.onnx'));
    const fileBacked = model.graph.initializers.filter((t) => t.data.kind === 'file').length;
    assert.ok(fileBacked > 20, `${fileBacked} file-backed initializers`);
    assert.deepEqual(model.graph.inputs[0].type, { kind: 'tensor', tensor: { dtype: 'float32', shape: ['N', 3, 224, 224] } });
  });
});
