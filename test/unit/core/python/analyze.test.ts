import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseShapeText } from '../../../../src/core/python/analyze';
import { analyze, lensTitles } from './helpers';

const samples = path.join(__dirname, '../../../../samples/python');
const read = (f: string): string => fs.readFileSync(path.join(samples, f), 'utf8');

describe('python/analyze: lecture models (acceptance)', () => {
  it('Baseline Linear has 1,645,950 parameters', async () => {
    const a = await analyze(read('lectureModels.py'));
    const lin = a.modules.find((m) => m.name === 'Linear')!;
    assert.equal(lin.params?.params, 1_645_950);
    assert.equal(lensTitles(a).get(lin.range.line + 1)?.[0].startsWith('1,645,950 params'), true);
  });

  it('DeeperBNConvNet has 17,020 with 420, 2,040 ×6, 30 ×3, 3,660 and 610 on its lines', async () => {
    const a = await analyze(read('lectureModels.py'));
    const m = a.modules.find((x) => x.name === 'DeeperBNConvNet')!;
    assert.equal(m.params?.params, 17_020);
    assert.equal(m.params?.buffers, 90);
    const perLine = a.lenses.filter((l) => l.kind === 'layer' && l.line > m.range.line && l.line <= m.range.endLine && (l.params ?? 0) > 0).map((l) => l.params);
    assert.deepEqual(perLine, [420, 2040, 30, 2040, 2040, 30, 2040, 2040, 30, 2040, 3660, 610]);
    const titles = lensTitles(a);
    const first = a.lenses.find((l) => l.params === 420)!;
    assert.equal(titles.get(first.line + 1)?.[0], '420 params · → 15×32×32');
    const inst = a.instances.find((i) => i.variable === 'model')!;
    assert.equal(inst.params?.params, 17_020);
    assert.match(titles.get(inst.range.line + 1)![0], /^17,020 params · 1\.76 MMACs$/);
  });

  it('the hover shows the formula, the output-size formula and the receptive field', async () => {
    const a = await analyze(read('lectureModels.py'));
    const conv = a.lenses.find((l) => l.params === 420)!;
    const hover = conv.hover.join('\n');
    assert.match(hover, /Conv2d: 15·3·3·3 weights \+ 15 biases = 420/);
    assert.match(hover, /⌊\(32 − 3 \+ 2·1\)\/1⌋ \+ 1 = 32/);
    assert.match(hover, /receptive field so far: 3×3, stride 1×1/);
    const last = a.lenses.filter((l) => l.params === 2040).pop()!;
    assert.match(last.hover.join('\n'), /45×45, stride 16×16/);
  });

  it('both MultilayerPerceptron examples are counted on their instantiation lines', async () => {
    const a = await analyze(read('multilayerPerceptron.py'));
    assert.equal(a.instances.length, 2);
    // 784·75+75 + 75·45+45 + 45·10+10, and the BatchNorm version without hidden biases plus 2·(75+45) BN parameters.
    assert.equal(a.instances[0].params?.params, 784 * 75 + 75 + 75 * 45 + 45 + 45 * 10 + 10);
    assert.equal(a.instances[1].params?.params, 784 * 75 + 75 * 45 + 45 * 10 + 10 + 2 * (75 + 45));
    const titles = lensTitles(a);
    assert.match(titles.get(a.instances[1].range.line + 1)![0], /^62,875 params/);
  });
});

describe('python/analyze: recognising torch.nn', () => {
  const body = (ctor: string): string => `class Net(BASE):\n    def __init__(self):\n        super().__init__()\n        self.fc = ${ctor}(4, 3)\n`;
  const cases: Array<[string, string, string]> = [
    ['import torch.nn as nn', 'nn.Module', 'nn.Linear'],
    ['from torch import nn', 'nn.Module', 'nn.Linear'],
    ['from torch.nn import Linear, Module', 'Module', 'Linear'],
    ['import torch', 'torch.nn.Module', 'torch.nn.Linear'],
    ['import torch.nn', 'torch.nn.Module', 'torch.nn.Linear'],
    ['from torch.nn import Linear as L, Module as M', 'M', 'L'],
    ['import torch.nn as tnn', 'tnn.Module', 'tnn.modules.linear.Linear'],
  ];
  for (const [imp, base, ctor] of cases) {
    it(`${imp} with ${ctor}`, async () => {
      const a = await analyze(`${imp}\n${body(ctor).replace('BASE', base)}`);
      assert.equal(a.modules.length, 1);
      assert.equal(a.modules[0].params?.params, 15);
    });
  }

  it('a class that does not derive from nn.Module is not a model', async () => {
    const a = await analyze('import torch.nn as nn\nclass Config:\n    def __init__(self):\n        self.fc = nn.Linear(4, 3)\n');
    assert.equal(a.modules.length, 0);
  });
});

describe('python/analyze: containers and static evaluation', () => {
  it('Sequential with OrderedDict, nested Sequential, ModuleList comprehension and ModuleDict', async () => {
    const src = `import torch.nn as nn
from collections import OrderedDict
WIDTH = 8
class Net(nn.Module):
    depth = 3
    def __init__(self, hidden=WIDTH * 2, num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(OrderedDict([("conv", nn.Conv2d(3, hidden, 3, bias=False)), ("bn", nn.BatchNorm2d(hidden))]))
        self.blocks = nn.ModuleList([nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden // 4) for _ in range(self.depth)])
        self.heads = nn.ModuleDict({"a": nn.Linear(hidden, num_classes), "b": nn.Sequential(nn.Linear(hidden, 2), nn.Sequential(nn.ReLU(), nn.Linear(2, 2)))})
`;
    const a = await analyze(src);
    const m = a.modules[0];
    const conv = 3 * 16 * 9;
    const bn = 32;
    const blocks = 3 * (16 * 4 * 9 + 16);
    const heads = 16 * 10 + 10 + (16 * 2 + 2) + (2 * 2 + 2);
    assert.equal(m.params?.params, conv + bn + blocks + heads);
    assert.deepEqual(m.leaves.map((l) => l.path).slice(0, 5), ['stem.conv', 'stem.bn', 'blocks.0', 'blocks.1', 'blocks.2']);
    assert.ok(m.leaves.some((l) => l.path === 'heads.b.1.1'));
    const line9 = lensTitles(a).get(9)!;
    assert.equal(line9[0], `${(blocks).toLocaleString('en-US')} params`);
  });

  it('arithmetic, tuples, if/for over known values and helper methods', async () => {
    const src = `import torch.nn as nn
def make(cfg, in_ch=3):
    layers = []
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        else:
            layers += [nn.Conv2d(in_ch, v, kernel_size=(3, 3), padding=1), nn.ReLU(inplace=True)]
            in_ch = v
    return nn.Sequential(*layers)
class VGGish(nn.Module):
    def __init__(self, num_classes=2 ** 3 + 2):
        super().__init__()
        self.features = make([4, "M", 8])
        self.fc = nn.Linear(8 * 2 * 2 % 1000 // 1, num_classes)
        self.extra = self._block(8, 8 - 1 + 1)
    def _block(self, a, b):
        return nn.Sequential(nn.Conv2d(a, b, 1), nn.BatchNorm2d(b))
`;
    const a = await analyze(src);
    const expect = (3 * 4 * 9 + 4) + (4 * 8 * 9 + 8) + (32 * 10 + 10) + (8 * 8 + 8) + 16;
    assert.equal(a.modules[0].params?.params, expect);
  });

  it('the user class Fire(64, 16, 64, 64) is followed with its arguments', async () => {
    const a = await analyze(read('squeezeFire.py'));
    const fire = a.modules.find((m) => m.name === 'Fire')!;
    assert.equal(fire.params, null, 'Fire alone has no defaults');
    assert.match(fire.reason ?? '', /inplanes/);
    const net = a.modules.find((m) => m.name === 'TinySqueezeNet')!;
    const fire1 = 64 * 16 + 16 + 16 * 64 + 64 + 16 * 64 * 9 + 64;
    const fire2 = 128 * 16 + 16 + 16 * 64 + 64 + 16 * 64 * 9 + 64;
    assert.equal(net.params?.params, 3 * 64 * 9 + 64 + fire1 + fire2 + 128 * 10 + 10);
    const line = read('squeezeFire.py').split('\n').findIndex((l) => l.includes('("fire1", Fire(64, 16, 64, 64))')) + 1;
    assert.match(lensTitles(a).get(line)![0], new RegExp(`^${fire1.toLocaleString('en-US')} params · → 128×15×15`));
  });

  it('an unresolvable argument makes the layer and the class "?" with a reason, never a guess', async () => {
    const src = 'import torch.nn as nn\nimport config\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.a = nn.Linear(4, 4)\n        self.b = nn.Linear(config.WIDTH, 4)\n';
    const a = await analyze(src);
    assert.equal(a.modules[0].params, null);
    const titles = lensTitles(a);
    assert.equal(titles.get(6)![0], '20 params');
    assert.equal(titles.get(7)![0], '? params');
    assert.match(a.lenses.find((l) => l.line === 6)!.hover.join(' '), /in_features/);
  });

  it('a loop over something unknown that builds modules makes the class incomplete', async () => {
    const src = 'import torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self, sizes):\n        super().__init__()\n        self.layers = nn.ModuleList()\n        for s in sizes:\n            self.layers.append(nn.Linear(s, s))\n';
    const a = await analyze(src);
    assert.equal(a.modules[0].params, null);
  });

  it('nn.Parameter with a known shape counts', async () => {
    const src = 'import torch\nimport torch.nn as nn\nclass Tok(nn.Module):\n    def __init__(self, d=8):\n        super().__init__()\n        self.cls = nn.Parameter(torch.zeros(1, 1, d))\n        self.proj = nn.Linear(d, d)\n';
    const a = await analyze(src);
    assert.equal(a.modules[0].params?.params, 8 + 72);
  });
});

describe('python/analyze: shapes and diagnostics', () => {
  it('reports the lecture-style mismatch on the Linear line', async () => {
    const a = await analyze(read('shapeBug.py'));
    assert.equal(a.diagnostics.length, 1);
    assert.equal(a.diagnostics[0].message, 'Linear expects 61 input features; the previous layer gives 15×2×2 = 60');
    const line = read('shapeBug.py').split('\n').findIndex((l) => l.includes('nn.Linear(61')) ;
    assert.equal(a.diagnostics[0].range.line, line);
    assert.ok(a.diagnostics[0].range.endColumn > a.diagnostics[0].range.column);
  });

  it('propagates through forward: functional relu, flatten, view, residual add and cat', async () => {
    const src = `import torch
import torch.nn as nn
import torch.nn.functional as F
# layerscope: input 2x3x8x8
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 4, 3, padding=1)
        self.c2 = nn.Conv2d(4, 4, 3, padding='same')
        self.c3 = nn.Conv2d(8, 6, 3, stride=2, dilation=2)
        self.fc = nn.Linear(6 * 2 * 2, 5)
    def forward(self, x):
        x = F.relu(self.c1(x))
        y = torch.relu(self.c2(x))
        x = x + y
        x = torch.cat([x, y], dim=1)
        x = self.c3(x)
        x = x.reshape(x.size(0), -1)
        x = torch.flatten(x, 1)
        return self.fc(x)
`;
    const a = await analyze(src);
    assert.deepEqual(a.diagnostics, []);
    const m = a.modules[0];
    assert.deepEqual(m.outputShape, [2, 5]);
    const c3 = m.leaves.find((l) => l.path === 'c3')!;
    assert.deepEqual(c3.trace?.output, [2, 6, 2, 2]);
    assert.match(c3.trace?.sizeFormula ?? '', /⌊\(8 − 5 \+ 2·0\)\/2⌋ \+ 1 = 2/);
  });

  it('a channel mismatch names both numbers', async () => {
    const src = '# layerscope: input 1x3x16x16\nimport torch.nn as nn\n# layerscope: input 1x3x16x16\nclass N(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Conv2d(16, 4, 3))\n    def forward(self, x):\n        return self.net(x)\n';
    const a = await analyze(src);
    assert.equal(a.diagnostics.length, 1);
    assert.match(a.diagnostics[0].message, /Conv2d expects 16 input channels; the previous layer gives 8/);
  });

  it('the input shape can come from options instead of a comment', async () => {
    const src = 'import torch.nn as nn\nclass N(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.MaxPool2d(2))\n    def forward(self, x):\n        return self.net(x)\n';
    const a = await analyze(src, { defaultInputShape: [1, 3, 10, 10] });
    assert.deepEqual(a.modules[0].outputShape, [1, 8, 4, 4]);
    const none = await analyze(src);
    assert.equal(none.modules[0].outputShape, null);
  });

  it('parses shape text', () => {
    assert.deepEqual(parseShapeText('1x3x32x32'), [1, 3, 32, 32]);
    assert.deepEqual(parseShapeText('N×3×224×224'), ['N', 3, 224, 224]);
    assert.equal(parseShapeText('1x?'), null);
  });
});

describe('python/analyze: half-typed code', () => {
  it('a syntax error mid-edit keeps the rest of the analysis and never throws', async () => {
    const src = read('lectureModels.py').replace('nn.Linear(60, num_classes),', 'nn.Linear(60, num_cl');
    const a = await analyze(src);
    assert.equal(a.hasSyntaxErrors, true);
    assert.equal(a.modules.find((m) => m.name === 'Linear')?.params?.params, 1_645_950);
  });

  it('survives every prefix of a sample', async () => {
    const src = read('squeezeFire.py');
    for (let cut = 0; cut < src.length; cut += 97) {
      const a = await analyze(src.slice(0, cut));
      assert.ok(Array.isArray(a.lenses));
    }
  });

  it('a runaway loop hits the step budget instead of hanging', async () => {
    const src = 'import torch.nn as nn\nclass N(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.l = nn.ModuleList([nn.Linear(i, i) for i in range(9000) for j in range(9000)])\n';
    const a = await analyze(src);
    assert.equal(a.modules[0].params, null);
  });
});

describe('python/analyze: torch container subclasses and generated names', () => {
  it('an nn.Sequential subclass passes its layers to super().__init__ and chains them in forward', async () => {
    const src = `import torch.nn as nn
class ConvBNReLU(nn.Sequential):
    def __init__(self, cin, cout, k=3):
        super().__init__(nn.Conv2d(cin, cout, k, padding=k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))
# layerscope: input 1x3x8x8
class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.a = ConvBNReLU(3, 8)
        self.b = ConvBNReLU(8, 16, k=1)
    def forward(self, x):
        return self.b(self.a(x))
`;
    const a = await analyze(src);
    const net = a.modules.find((m) => m.name === 'Net')!;
    assert.equal(net.params?.params, 3 * 8 * 9 + 16 + 8 * 16 + 32);
    assert.deepEqual(net.outputShape, [1, 16, 8, 8]);
    assert.deepEqual(net.leaves.map((l) => l.path), ['a.0', 'a.1', 'a.2', 'b.0', 'b.1', 'b.2']);
  });

  it('add_module with %-formatted and f-string names, and a subclass calling its base constructor', async () => {
    const src = `import torch.nn as nn
class Block(nn.ModuleDict):
    def __init__(self, n, width):
        super().__init__()
        for i in range(n):
            self.add_module("layer%d" % (i + 1), nn.Linear(width, width))
class Base(nn.Module):
    def __init__(self, width=4):
        super().__init__()
        self.body = Block(2, width)
class Child(Base):
    def __init__(self):
        super().__init__(width=8)
        for j in range(2):
            setattr_free = j
            self.add_module(f"head{j}", nn.Linear(8, 1))
`;
    const a = await analyze(src);
    assert.equal(a.modules.find((m) => m.name === 'Base')?.params?.params, 2 * 20);
    const child = a.modules.find((m) => m.name === 'Child')!;
    assert.equal(child.params?.params, 2 * 72 + 2 * 9);
    assert.deepEqual(child.leaves.map((l) => l.path), ['body.layer1', 'body.layer2', 'head0', 'head1']);
  });
});

describe('python/analyze: attention layers', () => {
  it('propagates shapes through TransformerEncoderLayer and MultiheadAttention and checks the width', async () => {
    const src = `import torch.nn as nn
# layerscope: input 10x2x32
class Enc(nn.Module):
    def __init__(self, d=32):
        super().__init__()
        self.layers = nn.ModuleList([nn.TransformerEncoderLayer(d, 4, dim_feedforward=64) for _ in range(2)])
        self.attn = nn.MultiheadAttention(d, 4)
        self.bad = nn.TransformerEncoderLayer(48, 4)
    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        y, _ = self.attn(x, x, x)
        return self.bad(y)
`;
    const a = await analyze(src);
    const m = a.modules[0];
    assert.deepEqual(m.leaves.find((l) => l.path === 'attn')?.trace?.output, [10, 2, 32]);
    assert.equal(a.diagnostics.length, 1);
    assert.match(a.diagnostics[0].message, /TransformerEncoderLayer expects 48 features in the last dim; the previous layer gives 32/);
  });
});

describe('python/analyze: instantiation lines', () => {
  it('model = Net(...).to(device) still gets its lens', async () => {
    const a = await analyze('import torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self, n):\n        super().__init__()\n        self.fc = nn.Linear(n, 2)\ndevice = "cpu"\nmodel = Net(n=3).to(device)\n');
    assert.equal(a.instances.length, 1);
    assert.equal(a.instances[0].params?.params, 8);
    assert.equal(lensTitles(a).get(7)?.[0].startsWith('8 params'), true);
  });
});

describe('python/analyze: shapes of Bilinear, EmbeddingBag and unbatched inputs, and call arguments', () => {
  const shapeOf = (a: Awaited<ReturnType<typeof analyze>>, path: string) => a.modules[0].leaves.find((l) => l.path === path)?.trace?.output;

  it('Bilinear gives [..., out] from both inputs, by position or by keyword, and checks the second', async () => {
    const src = `import torch
import torch.nn as nn
# layerscope: input 2x7x6
class Pair(nn.Module):
    def __init__(self):
        super().__init__()
        self.q = nn.Linear(6, 4)
        self.bil = nn.Bilinear(6, 4, 3)
        self.kw = nn.Bilinear(6, 4, 5)
        self.fc = nn.Linear(7 * 8, 2)
    def forward(self, x):
        y = torch.cat([self.bil(x, self.q(x)), self.kw(input2=self.q(x), input1=x)], 2)
        return self.fc(torch.flatten(y, 1))
`;
    const a = await analyze(src);
    assert.deepEqual(a.diagnostics, []);
    assert.deepEqual(shapeOf(a, 'bil'), [2, 7, 3]);
    assert.deepEqual(shapeOf(a, 'kw'), [2, 7, 5]);
    assert.deepEqual(a.modules[0].outputShape, [2, 2]);
    const bad = await analyze(src.replace('self.kw(input2=self.q(x), input1=x)', 'self.kw(x, x)'));
    assert.equal(bad.diagnostics.length, 1);
    assert.equal(bad.diagnostics[0].message, 'Bilinear expects 4 features in its second input; it is given 2×7×6');
  });

  it('EmbeddingBag: [B, L] → [B, D]; a 1-d input with offsets has one bag per offset, or an unknown count with the reason', async () => {
    const src = (input: string, call: string, extra = ''): string => `import torch
import torch.nn as nn
# layerscope: input ${input}
class Bags(nn.Module):
    def __init__(self):
        super().__init__()
        self.bag = nn.EmbeddingBag(100, 16${extra})
        self.fc = nn.Linear(16, 2)
    def forward(self, x):
        return self.fc(${call})
`;
    const rows = await analyze(src('4x7', 'self.bag(x)'));
    assert.deepEqual(rows.diagnostics, []);
    assert.deepEqual(shapeOf(rows, 'bag'), [4, 16]);
    assert.deepEqual(rows.modules[0].outputShape, [4, 2]);
    const offsets = await analyze(src('12', 'self.bag(x, torch.tensor([0, 3, 7]))'));
    assert.deepEqual(shapeOf(offsets, 'bag'), [3, 16]);
    const last = await analyze(src('12', 'self.bag(x, offsets=torch.tensor([0, 3, 7, 12]))', ', include_last_offset=True'));
    assert.deepEqual(shapeOf(last, 'bag'), [3, 16]);
    const unknownCount = await analyze(src('12', 'self.bag(x, self.offsets)'));
    assert.deepEqual(unknownCount.diagnostics, []);
    assert.deepEqual(shapeOf(unknownCount, 'bag'), [null, 16]);
    const lens = unknownCount.lenses.find((l) => l.line === 6)!;
    assert.ok(lens.hover.includes('Part of the output shape is unknown because EmbeddingBag makes one bag per offset, and the length of its offsets is not known statically.'), lens.hover.join('\n'));
    const missing = await analyze(src('12', 'self.bag(x)'));
    assert.equal(missing.diagnostics[0]?.message, 'EmbeddingBag needs offsets with a 1-d input, to know where each bag starts');
  });

  it('InstanceNorm takes unbatched inputs (C×L, C×H×W) as PyTorch does, and still checks channels and rank', async () => {
    const src = `import torch
import torch.nn as nn
# layerscope: input 3x8x8
class Single(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = nn.InstanceNorm2d(3, affine=True)
        self.conv = nn.Conv2d(3, 4, 3)
        self.pool = nn.MaxPool2d(2)
        self.seq = nn.InstanceNorm1d(4)
        self.fc = nn.Linear(9, 2)
    def forward(self, x):
        x = self.pool(self.conv(self.norm(x)))
        return self.fc(self.seq(torch.flatten(x, 1)))
`;
    const a = await analyze(src);
    assert.deepEqual(a.diagnostics, []);
    assert.deepEqual(shapeOf(a, 'norm'), [3, 8, 8]);
    assert.deepEqual(shapeOf(a, 'pool'), [4, 3, 3]);
    assert.deepEqual(shapeOf(a, 'seq'), [4, 9]);
    assert.deepEqual(a.modules[0].outputShape, [4, 2]);
    const channels = await analyze(src.replace('nn.InstanceNorm2d(3, affine=True)', 'nn.InstanceNorm2d(4, affine=True)'));
    assert.equal(channels.diagnostics[0]?.message, 'InstanceNorm2d expects 4 channels; the previous layer gives 3 (shape 3×8×8)');
    const rank = await analyze(src.replace('self.seq(torch.flatten(x, 1))', 'self.seq(torch.flatten(x))'));
    assert.equal(rank.diagnostics[0]?.message, 'InstanceNorm1d expects a 2-d (unbatched) or 3-d input; the previous layer gives 36');
  });

  it("keywords reach the shape rules: attention's query, ConvTranspose's output_size; a keyword PyTorch rejects is reported at the call", async () => {
    const src = `import torch.nn as nn
# layerscope: input 1x4x8x8
class Up(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(4, 4, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1)
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
    def forward(self, x):
        y = self.up(self.down(x), output_size=x.size())
        z, _ = self.attn(query=y.reshape(4, 8, 8), key=y.reshape(4, 8, 8), value=y.reshape(4, 8, 8))
        return z
`;
    const a = await analyze(src);
    assert.deepEqual(a.diagnostics, []);
    assert.deepEqual(shapeOf(a, 'up'), [1, 4, 8, 8]);
    assert.deepEqual(shapeOf(a, 'attn'), [4, 8, 8]);
    const plain = await analyze(src.replace(', output_size=x.size()', ''));
    assert.deepEqual(shapeOf(plain, 'up'), [1, 4, 7, 7]);
    const wrong = await analyze(src.replace('query=y.reshape', 'q=y.reshape'));
    assert.equal(wrong.diagnostics.length, 1);
    assert.equal(wrong.diagnostics[0].message, "MultiheadAttention's forward has no argument 'q'");
    assert.equal(wrong.diagnostics[0].range.line, 10);
    // Layers Layerscope does not know keep whatever arguments they are given.
    const unknownLayer = await analyze('import torch.nn as nn\n# layerscope: input 5x2x8\nclass E(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2), 2)\n    def forward(self, x):\n        return self.enc(x, mask=None)\n');
    assert.deepEqual(unknownLayer.diagnostics, []);
  });

  it('a comparison with a tensor is a tensor (a mask), whose truth depends on the data: a branch on it is not followed', async () => {
    const a = await analyze('import torch.nn as nn\n# layerscope: input 2x4\nclass B(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.a = nn.Linear(4, 3)\n        self.b = nn.Linear(4, 5)\n    def forward(self, x):\n        if x.mean() > 0:\n            return self.a(x)\n        return self.b(x)\n');
    assert.equal(a.modules[0].outputShape, null);
  });
});
