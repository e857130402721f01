import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isUserInputError } from '../../../src/core/errors';
import type { Model } from '../../../src/core/ir/types';
import { lowerPythonModel, modelFormat, openModel, openModelBytes, withPythonFile } from '../../../src/core/open';
import { mainModule } from '../../../src/core/python/summary';
import { loadRunnableModel } from '../../../src/cli/runArgs';

/**
 * core/open.ts is the one way every front end opens a model. These check what it decides (the format), that a .py
 * model gets the same weights whichever front end opens it (the CLI's probe with any input --seed, the editor's
 * lowering of an analysed class, bytes in memory), and that those weights are PyTorch's default initialisation.
 */

const MLP = ['import torch.nn as nn', '', '# layerscope: input 2x8', 'class Mlp(nn.Module):', '    def __init__(self):', '        super().__init__()', '        self.net = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 4))', '', '    def forward(self, x):', '        return self.net(x)', ''].join('\n');

function floats(model: Model, name: string): Float32Array {
  const t = model.graph.initializers.find((i) => i.name === name);
  assert.ok(t, `${name} in ${model.graph.initializers.map((i) => i.name).join(', ')}`);
  assert.equal(t.data.kind, 'inline');
  const bytes = (t.data as { bytes: Uint8Array }).bytes;
  return new Float32Array(bytes.slice().buffer);
}

function weights(model: Model): Record<string, number[]> {
  return Object.fromEntries(model.graph.initializers.filter((t) => t.dtype === 'float32').map((t) => [t.name, [...floats(model, t.name)]]));
}

describe('core/open.ts: one way to open a model', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerscope-open-'));
    fs.writeFileSync(path.join(dir, 'mlp.py'), MLP);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('decides the format by extension, case-insensitively, and nothing else', () => {
    assert.equal(modelFormat('/a/b/model.onnx'), 'onnx');
    assert.equal(modelFormat('C:\\x\\Model.ONNX'), 'onnx');
    assert.equal(modelFormat('net.py'), 'python');
    assert.equal(modelFormat('/a/net.PY'), 'python');
    for (const other of ['model.onnx.bak', 'x.npy', 'README', 'model.pt', 'py']) assert.equal(modelFormat(other), undefined, other);
  });

  it('opens an ONNX file and the same bytes in memory to the same graph', async () => {
    const file = path.join(__dirname, '..', '..', '..', 'samples', 'stack_3x3.onnx');
    const fromFile = await openModel(file);
    const fromBytes = await openModelBytes(new Uint8Array(fs.readFileSync(file)), 'onnx', { label: 'stack' });
    assert.equal(fromFile.format, 'onnx');
    assert.equal(fromFile.inputShapeApplied, false);
    assert.deepEqual(fromFile.model.graph.nodes.map((n) => n.opType), fromBytes.model.graph.nodes.map((n) => n.opType));
    assert.ok(fromFile.model.graph.nodes.length > 0);
  });

  it('gives a .py model the same weights in the CLI (whatever the input seed), the editor path and from bytes', async () => {
    const file = path.join(dir, 'mlp.py');
    const opened = await openModel(file);
    assert.equal(opened.format, 'python');
    assert.equal(opened.name, 'Mlp');
    assert.equal(opened.inputShapeApplied, true);
    const cli = await loadRunnableModel(file, { shapes: {}, seed: 7 } as Parameters<typeof loadRunnableModel>[1]);
    const editor = await withPythonFile(file, {}, (analysis) => lowerPythonModel(mainModule(analysis)!, analysis, { file }));
    const bytes = await openModelBytes(new TextEncoder().encode(MLP), 'python', { label: 'mlp.py' });
    const w = weights(opened.model);
    assert.deepEqual(Object.keys(w).sort(), ['net.0.bias', 'net.0.weight', 'net.2.bias', 'net.2.weight']);
    assert.deepEqual(weights(cli.model), w);
    assert.deepEqual(weights(editor), w);
    assert.deepEqual(weights(bytes.model), w);
  });

  it("initialises as PyTorch does: nn.Linear's weight and bias uniform within 1/sqrt(in_features)", async () => {
    const { model } = await openModel(path.join(dir, 'mlp.py'));
    for (const [name, fanIn, count] of [['net.0.weight', 8, 128], ['net.0.bias', 8, 16], ['net.2.weight', 16, 64]] as const) {
      const v = floats(model, name);
      assert.equal(v.length, count, name);
      const bound = 1 / Math.sqrt(fanIn);
      const max = Math.max(...[...v].map(Math.abs));
      assert.ok(max <= bound + 1e-7, `${name}: ${max} beyond ${bound}`);
      // Not zeros and not a narrow normal: uniform draws reach near the bound.
      if (count >= 64) assert.ok(max > 0.8 * bound, `${name}: ${max} far inside ${bound}`);
    }
  });

  it('refuses a .py model without an input shape in one line that says how to give one', async () => {
    // A convolution's spatial size cannot be inferred from the layer, so the shape must come from the user.
    const file = path.join(dir, 'noshape.py');
    fs.writeFileSync(file, ['import torch.nn as nn', '', 'class Net(nn.Module):', '    def __init__(self):', '        super().__init__()', '        self.conv = nn.Conv2d(3, 4, 3)', '', '    def forward(self, x):', '        return self.conv(x)', ''].join('\n'));
    await assert.rejects(openModel(file, { shapeHint: 'pass --input-shape' }), (e: unknown) => isUserInputError(e) && /^Net: no input shape; pass --input-shape$/.test((e as Error).message));
    const withShape = await openModel(file, { inputShape: [2, 3, 9, 9] });
    assert.deepEqual(withShape.model.graph.inputs[0]!.type, { kind: 'tensor', tensor: { dtype: 'float32', shape: [2, 3, 9, 9] } });
  });

  it('refuses a binary .py and reads anything that is not .py as ONNX, whose reader names what is wrong', async () => {
    const binary = path.join(dir, 'binary.py');
    fs.writeFileSync(binary, Buffer.from([0x69, 0x6d, 0x70, 0, 0x6f]));
    await assert.rejects(openModel(binary), (e: unknown) => isUserInputError(e) && /binary\.py: not a Python source file/.test((e as Error).message));
    const text = path.join(dir, 'notes.txt');
    fs.writeFileSync(text, 'hello, this is not a model\n');
    await assert.rejects(openModel(text), (e: unknown) => isUserInputError(e) && (e as Error).message.includes('notes.txt') && !(e as Error).message.includes('\n'));
  });

  it('hands exact mode to the hook for .py files only', async () => {
    const stack = await openModel(path.join(__dirname, '..', '..', '..', 'samples', 'stack_3x3.onnx'));
    let called = '';
    const opened = await openModel(path.join(dir, 'mlp.py'), { exactPython: async (f) => ((called = f), stack.model) });
    assert.equal(called, path.join(dir, 'mlp.py'));
    assert.equal(opened.model, stack.model);
    assert.equal(opened.inputShapeApplied, true);
  });
});
