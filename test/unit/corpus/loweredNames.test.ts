import { strict as assert } from 'node:assert';
import { lowerModuleToModel } from '../../../src/core/python/lower';
import { withSourceOfNodes } from '../../../src/core/python/summary';
import { analyze } from '../core/python/helpers';

/**
 * Issue 15, item 11: a model lowered from Python source names its nodes after the module that emits them, as
 * PyTorch's exporter does (`/layer1/0/Add` rather than `Add_7`), and carries the module path and the source line, so
 * that the inspector and diagnostics can point at the code.
 */

const SOURCE = `import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        y = F.relu(self.conv1(x))
        return x + self.conv2(y)


# layerscope: input 1x4x8x8
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(4, 8, 1)
        self.layer1 = nn.Sequential(Block(8), Block(8))

    def forward(self, x):
        x = self.stem(x)
        return F.relu(self.layer1(x))
`;

describe('python lowering: node names and sources name the module and line', () => {
  it('names functional ops after the module whose forward runs them, with the line of the call', async () => {
    const a = await analyze(SOURCE);
    const net = a.modules.find((m) => m.name === 'Net')!;
    const model = lowerModuleToModel(net, { inputShape: [1, 4, 8, 8], init: 'zeros', interpreter: a.interpreter, file: 'net.py' });
    const byName = new Map(model.graph.nodes.map((n) => [n.name, n]));
    const conv = byName.get('/layer1/0/conv1/Conv');
    assert.ok(conv, `nodes: ${[...byName.keys()].join(', ')}`);
    assert.deepEqual(conv.source, { line: 8, modulePath: 'layer1.0.conv1', file: 'net.py' });
    const relu = byName.get('/layer1/1/Relu');
    assert.ok(relu, `nodes: ${[...byName.keys()].join(', ')}`);
    assert.deepEqual(relu.source, { line: 12, modulePath: 'layer1.1', file: 'net.py' });
    const add = byName.get('/layer1/0/Add');
    assert.deepEqual(add?.source, { line: 13, modulePath: 'layer1.0', file: 'net.py' });
    // The model's own forward has no module path: its ops are named from the root, with their line.
    assert.deepEqual(byName.get('/Relu')?.source, { line: 25, file: 'net.py' });
    // No generated `Relu_2` style names are left.
    assert.deepEqual(model.graph.nodes.filter((n) => !n.name.startsWith('/')).map((n) => n.name), []);
  });

  it('diagnostics that name a node also give its module and line, whole names only', async () => {
    const a = await analyze(SOURCE);
    const net = a.modules.find((m) => m.name === 'Net')!;
    const model = lowerModuleToModel(net, { inputShape: [1, 4, 8, 8], init: 'zeros', interpreter: a.interpreter });
    assert.equal(withSourceOfNodes('node /layer1/0/Add: something', model), 'node /layer1/0/Add (module layer1.0, line 13): something');
    assert.equal(withSourceOfNodes('node /layer1/0/Add_9: x', model), 'node /layer1/0/Add_9: x');
  });
});
