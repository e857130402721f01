import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { countParams } from '../../../../src/core/analysis/params';
import { inlineValues } from '../../../../src/core/ir/tensorData';
import type { Model } from '../../../../src/core/ir/types';
import { writeOnnx } from '../../../../src/core/onnx/writer';
import { lowerModuleToModel } from '../../../../src/core/python/lower';
import { analyze } from './helpers';

/**
 * The lowered graph computes what PyTorch computes: the same source runs in PyTorch with the weights Layerscope drew
 * (recurrent weights put back into PyTorch's gate order), and in onnxruntime from the lowered ONNX; outputs agree.
 * Every floating-point parameter and buffer PyTorch has must come from the lowered model, so a weight the lowering
 * names differently fails the test rather than keeping PyTorch's own draw. Weights that start constant (norm scales,
 * zero biases, running statistics) are perturbed on both sides first, so that a lowering that ignored them would fail.
 */

const PYTHON = '/usr/bin/python3';

const SCRIPT = `
import json, runpy, sys, warnings
import numpy as np, torch, onnx
# Softmax without dim is tested on purpose; PyTorch's deprecation warning about it is expected.
warnings.filterwarnings("ignore", "Implicit dimension choice")
from onnx import numpy_helper
src, onnx_path, var, shape, tokens = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), json.loads(sys.argv[5])
model = runpy.run_path(src)[var]
inits = {t.name: numpy_helper.to_array(t) for t in onnx.load(onnx_path).graph.initializer}
state = model.state_dict()
order = {"LSTM": [0, 2, 3, 1], "GRU": [1, 0, 2], "RNN": [0]}
done = set()
for name, mod in model.named_modules():
    kind = type(mod).__name__
    # An LSTM with proj_size is unrolled in PyTorch's own layout and names, so it loads like any other layer.
    if kind in order and not getattr(mod, "proj_size", 0):
        H, gates = mod.hidden_size, len(order[kind])
        dirs = 2 if mod.bidirectional else 1
        for l in range(mod.num_layers):
            def back(a):
                blocks = [a[i * H:(i + 1) * H] for i in range(gates)]
                return np.concatenate([blocks[j] for j in order[kind]])
            W, R = inits[f"{name}.weight_ih_l{l}"], inits[f"{name}.weight_hh_l{l}"]
            B = inits.get(f"{name}.bias_l{l}")
            for d in range(dirs):
                sfx = f"_l{l}" + ("_reverse" if d == 1 else "")
                done.update(f"{name}.{p}{sfx}" for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
                state[f"{name}.weight_ih{sfx}"] = torch.tensor(back(W[d]))
                state[f"{name}.weight_hh{sfx}"] = torch.tensor(back(R[d]))
                if B is not None:
                    state[f"{name}.bias_ih{sfx}"] = torch.tensor(back(B[d][: gates * H]))
                    state[f"{name}.bias_hh{sfx}"] = torch.tensor(back(B[d][gates * H:]))
for k in state:
    if k in inits and k not in done:
        state[k] = torch.tensor(inits[k]).reshape(state[k].shape)
missing = [k for k, v in state.items() if v.is_floating_point() and k not in inits and k not in done]
if missing:
    raise SystemExit(f"not in the lowered model: {missing}")
model.load_state_dict(state)
model.eval()
x = torch.tensor(tokens).reshape(shape) if tokens else torch.linspace(-1, 1, int(np.prod(shape))).reshape(shape)
with torch.no_grad():
    y = model(x)
print(json.dumps(y.flatten().tolist()))
`;

/** Float inputs are linspace(-1, 1); token models give their int64 ids. */
const CASES: Array<{ name: string; source: string; variable: string; shape: number[]; tokens?: number[] }> = [
  {
    name: 'nn.TransformerEncoder with a final norm and a causal mask, nn.TransformerDecoder over its memory',
    variable: 'model',
    shape: [2, 5, 8],
    source: `import torch
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        enc = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(enc, num_layers=2, norm=nn.LayerNorm(8))
        dec = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True, norm_first=True)
        self.decoder = nn.TransformerDecoder(dec, 2)
        self.fc = nn.Linear(8, 3)
    def forward(self, x):
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1])
        m = self.encoder(x, mask=mask)
        y = self.decoder(x, m, tgt_mask=mask)
        return self.fc(y)
model = Net()
`,
  },
  {
    name: 'RMSNorm (pow, mean with keepdim by keyword and by position, rsqrt), a class token, a position table sliced in forward, basic indexing, split, reductions and *_like fills',
    variable: 'model',
    shape: [2, 6, 8],
    source: `import torch
import torch.nn as nn
class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))
    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = RMSNorm(8)
        self.cls = nn.Parameter(torch.zeros(1, 1, 8))
        self.pos = nn.Parameter(torch.randn(1, 10, 8))
        self.qkv = nn.Linear(8, 24)
        self.fc = nn.Linear(8, 3)
    def forward(self, x):
        B, T, C = x.shape
        x = self.norm(x) + self.pos[:, :T]
        x = torch.cat([self.cls.expand(B, -1, -1), x], dim=1)
        q, k, v = self.qkv(x).split(C, dim=2)
        a, b = torch.split(v, [3, 5], dim=-1)
        s = (q * k).sum(-1, True) / C ** 0.5 + x[..., None, 0] + a[:, :, None, 1:3].amax((2, 3))[..., None] + torch.zeros_like(a[:, :, :1])
        h = x * torch.sigmoid(s) + torch.full_like(x, 0.5) * torch.erf(x).square() - torch.cos(x) * torch.sin(b.mean(-1, True)) + 1.0 / (2.0 + x ** 2)
        return self.fc(h[:, 0]) + self.fc(x[-1, 2]) + self.fc(h[:, 1:].mean(1)) + self.fc(x.mean((0, 1), keepdim=False)) + torch.reciprocal(2.0 + torch.exp(-x[:, -1])).sum(-1, keepdim=True)
model = Net()
`,
  },
  {
    name: 'a conv net with BatchNorm, pooling, a residual add, view and Linear',
    variable: 'model',
    shape: [2, 3, 12, 12],
    source: `import torch
import torch.nn as nn
import torch.nn.functional as F
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 6, 3, padding=1)
        self.bn = nn.BatchNorm2d(6)
        self.c2 = nn.Conv2d(6, 6, 3, padding='same', groups=2)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Sequential(nn.Linear(6 * 6 * 6, 8), nn.GELU(), nn.Linear(8, 4))
    def forward(self, x):
        x = F.gelu(self.bn(self.c1(x)))
        x = x + torch.tanh(self.c2(x))
        x = self.pool(x)
        return self.fc(x.view(x.size(0), -1))
model = Net()
`,
  },
  {
    name: 'a bidirectional two-layer LSTM and a GRU, batch first',
    variable: 'model',
    shape: [2, 5, 4],
    source: `import torch.nn as nn
class Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 6, num_layers=2, bidirectional=True, batch_first=True)
        self.gru = nn.GRU(12, 5, batch_first=True)
        self.head = nn.Linear(5, 2)
    def forward(self, x):
        x, _ = self.lstm(x)
        x, h = self.gru(x)
        return self.head(x)
model = Seq()
`,
  },
  {
    name: 'Transformer encoder layers (post-norm relu, pre-norm gelu batch-first) and self-attention',
    variable: 'model',
    shape: [6, 2, 16],
    source: `import torch.nn as nn
class Enc(nn.Module):
    def __init__(self, d=16):
        super().__init__()
        self.layers = nn.ModuleList([nn.TransformerEncoderLayer(d, 4, dim_feedforward=32) for _ in range(2)])
        self.pre = nn.TransformerEncoderLayer(d, 2, dim_feedforward=24, activation="gelu", norm_first=True, batch_first=True)
        self.attn = nn.MultiheadAttention(d, 2)
        self.head = nn.Linear(d, 3)
    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        x = self.pre(x)
        y, _ = self.attn(x, x, x)
        return self.head(y + x)
model = Enc()
`,
  },
  {
    name: 'GroupNorm, InstanceNorm2d (plain, affine, running statistics with and without affine) and Bilinear',
    variable: 'model',
    shape: [2, 3, 6, 6],
    source: `import torch
import torch.nn as nn
class Norms(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.gn = nn.GroupNorm(4, 8)
        self.plain = nn.InstanceNorm2d(8)
        self.affine = nn.InstanceNorm2d(8, affine=True)
        self.running = nn.InstanceNorm2d(8, affine=True, track_running_stats=True)
        self.running_plain = nn.InstanceNorm2d(8, eps=1e-3, track_running_stats=True)
        self.whole = nn.GroupNorm(1, 8, eps=1e-3, affine=False)
        self.pool = nn.MaxPool2d(2)
        self.p = nn.Linear(72, 5)
        self.q = nn.Linear(72, 4)
        self.bil = nn.Bilinear(5, 4, 3)
    def forward(self, x):
        x = torch.relu(self.gn(self.conv(x)))
        x = self.plain(x) + self.affine(x)
        x = self.whole(self.running_plain(self.running(x)))
        h = torch.flatten(self.pool(x), 1)
        return self.bil(torch.tanh(self.p(h)), self.q(h))
model = Norms()
`,
  },
  {
    name: 'InstanceNorm1d and InstanceNorm3d, GroupNorm on 3-d and 5-d inputs',
    variable: 'model',
    shape: [2, 2, 3, 4, 4],
    source: `import torch
import torch.nn as nn
class Volumes(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3d(2, 4, 3, padding=1)
        self.inorm = nn.InstanceNorm3d(4, affine=True)
        self.gn = nn.GroupNorm(2, 4)
        self.seq_norm = nn.InstanceNorm1d(4)
        self.seq_running = nn.InstanceNorm1d(4, affine=True, track_running_stats=True)
        self.seq_gn = nn.GroupNorm(2, 4, affine=False)
        self.head = nn.Linear(192, 3)
    def forward(self, x):
        x = torch.relu(self.gn(self.inorm(self.conv(x))))
        x = torch.flatten(x, 2)
        x = self.seq_gn(self.seq_running(self.seq_norm(x)))
        return self.head(torch.flatten(x, 1))
model = Volumes()
`,
  },
  {
    name: 'LSTMs with proj_size (two bidirectional layers batch-first, one without bias) and a Bilinear on 3-d inputs',
    variable: 'model',
    shape: [2, 6, 7],
    source: `import torch.nn as nn
class Projected(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(7, 5, num_layers=2, proj_size=3, bidirectional=True, batch_first=True)
        self.lstm2 = nn.LSTM(6, 4, proj_size=2, bias=False)
        self.bil = nn.Bilinear(6, 2, 3)
    def forward(self, x):
        a, _ = self.lstm(x)
        b, _ = self.lstm2(a)
        return self.bil(a, b)
model = Projected()
`,
  },
  {
    name: "EmbeddingBag in 'mean', 'sum' and 'max' modes, with padding_idx (an all-padding bag included)",
    variable: 'model',
    shape: [3, 4],
    tokens: [1, 2, 0, 3, 0, 0, 0, 0, 9, 9, 5, 0],
    source: `import torch.nn as nn
class Bags(nn.Module):
    def __init__(self):
        super().__init__()
        self.mean = nn.EmbeddingBag(10, 6)
        self.sum = nn.EmbeddingBag(10, 6, mode='sum')
        self.max = nn.EmbeddingBag(10, 6, mode='max')
        self.mean_pad = nn.EmbeddingBag(10, 6, padding_idx=-1)
        self.sum_pad = nn.EmbeddingBag(10, 6, mode='sum', padding_idx=0)
        self.max_pad = nn.EmbeddingBag(10, 6, mode='max', padding_idx=0)
        self.mean_pad0 = nn.EmbeddingBag(10, 6, padding_idx=0)
        self.head = nn.Linear(6, 2)
    def forward(self, x):
        y = self.mean(x) + self.sum(x) * 0.5 - self.max(x)
        y = y + self.mean_pad(x) + self.sum_pad(x) + self.max_pad(x) - self.mean_pad0(x)
        return self.head(y)
model = Bags()
`,
  },
  {
    name: 'TransformerDecoderLayers (post-norm relu, pre-norm gelu batch-first) and cross-attention with kdim and vdim',
    variable: 'model',
    shape: [6, 2, 16],
    source: `import torch.nn as nn
import torch.nn.functional as F
class Dec(nn.Module):
    def __init__(self, d=16):
        super().__init__()
        self.mem = nn.Linear(32, d)
        self.mem_batch_first = nn.Linear(8, d)
        self.keys = nn.Linear(32, 12)
        self.values = nn.Linear(32, 8)
        self.post = nn.TransformerDecoderLayer(d, 4, dim_feedforward=32)
        self.pre = nn.TransformerDecoderLayer(d, 2, dim_feedforward=24, activation=F.gelu, norm_first=True, batch_first=True)
        self.cross = nn.MultiheadAttention(d, 4, kdim=12, vdim=8)
        self.cross_first = nn.MultiheadAttention(d, 2, bias=False, batch_first=True)
        self.head = nn.Linear(d, 3)
    def forward(self, x):
        m = x.reshape(3, 2, 32)
        memory = self.mem(m)
        # Batch-first layers read x as 6 sequences of 2; their memory is 6 sequences of 4.
        memory_bf = self.mem_batch_first(x.reshape(6, 4, 8))
        x = self.post(x, memory)
        x = self.pre(x, memory_bf)
        y, _ = self.cross(x, self.keys(m), self.values(m))
        z, _ = self.cross_first(y, memory_bf, memory_bf)
        return self.head(y + z)
model = Dec()
`,
  },
  {
    name: 'attention masks by keyword: float and bool attn_mask, 2-d and 3-d, with a bool key padding mask, self- and cross-attention, encoder layers on both code paths',
    variable: 'model',
    shape: [5, 2, 8],
    source: `import torch
import torch.nn as nn
class Masked(nn.Module):
    def __init__(self, d=8):
        super().__init__()
        self.attn = nn.MultiheadAttention(d, 2)
        self.cross = nn.MultiheadAttention(d, 2, kdim=6, vdim=6, batch_first=True)
        self.keys = nn.Linear(d, 6)
        # Self-attention, batch_first, an even number of heads: PyTorch's fast path in eval mode.
        self.self_bf = nn.MultiheadAttention(d, 2, batch_first=True)
        self.enc = nn.TransformerEncoderLayer(d, 2, dim_feedforward=16)
        # batch_first with an even number of heads: PyTorch's fast path in eval mode.
        self.enc_bf = nn.TransformerEncoderLayer(d, 2, dim_feedforward=16, batch_first=True, norm_first=True)
        self.head = nn.Linear(d, 3)
    def forward(self, x):
        L = x.size(0)
        causal = nn.Transformer.generate_square_subsequent_mask(L)
        upper = torch.triu(torch.ones(L, L, dtype=torch.bool), diagonal=1)
        soft = torch.triu(torch.ones(L, L), diagonal=1) * -2.0
        per_head = torch.tril(torch.ones(4, L, L), -1) * 0.5 - 1
        pad = torch.tensor([[False, False, False, True, True], [False, False, False, False, True]])
        # The mask of the PyTorch tutorial, built with ==, transpose, float and masked_fill.
        tut = (torch.triu(torch.ones(L, L)) == 1).transpose(0, 1)
        tut = tut.float().masked_fill(tut == 0, float('-inf')).masked_fill(tut == 1, float(0.0))
        a, _ = self.attn(x, x, x, attn_mask=causal)
        b, _ = self.attn(x, x, x, key_padding_mask=pad, attn_mask=upper, need_weights=False)
        c, _ = self.attn(query=x, key=x, value=x, attn_mask=soft, key_padding_mask=pad)
        e, _ = self.attn(x, x, x, pad, True, per_head)
        f, _ = self.attn(x, x, x, attn_mask=tut, average_attn_weights=False)
        y = a + b + c + e + f
        h = self.enc(y, src_mask=causal, src_key_padding_mask=pad)
        yb = h.transpose(0, 1)
        k, _ = self.cross(yb, self.keys(yb), self.keys(yb), key_padding_mask=~pad)
        s, _ = self.self_bf(yb, yb, yb, key_padding_mask=pad)
        z = self.enc_bf(yb + k + s, src_key_padding_mask=pad)
        return self.head(z)
model = Masked()
`,
  },
  {
    name: 'TransformerDecoderLayers with the memory and all four masks by keyword, and an unbatched decoder layer',
    variable: 'model',
    shape: [5, 2, 8],
    source: `import torch
import torch.nn as nn
class MaskedDec(nn.Module):
    def __init__(self, d=8):
        super().__init__()
        self.mem = nn.Linear(d, d)
        self.dec = nn.TransformerDecoderLayer(d, 2, dim_feedforward=16)
        self.dec_bf = nn.TransformerDecoderLayer(d, 4, dim_feedforward=12, batch_first=True, norm_first=True, activation="gelu")
        self.head = nn.Linear(d, 3)
    def forward(self, x):
        memory = self.mem(x)
        tgt_mask = nn.Transformer.generate_square_subsequent_mask(5)
        memory_mask = torch.tensor([[False, True, False, False, True]] * 5)
        tgt_pad = torch.tensor([[False, False, False, False, True], [False, False, False, False, False]])
        memory_pad = torch.tensor([[False, False, True, False, False], [True, False, False, False, False]])
        y = self.dec(x, memory=memory, tgt_mask=tgt_mask, memory_mask=memory_mask, tgt_key_padding_mask=tgt_pad, memory_key_padding_mask=memory_pad)
        z = self.dec_bf(y.transpose(0, 1), memory.transpose(0, 1), memory_key_padding_mask=memory_pad)
        # Without a batch dim: (10, 8) sequences, a 1-d key padding mask.
        flat = x.reshape(10, 8)
        u = self.dec(flat, self.mem(flat), tgt_mask=nn.Transformer.generate_square_subsequent_mask(10), memory_key_padding_mask=torch.tensor([False] * 9 + [True]))
        return self.head(z) + self.head(u).reshape(2, 5, 3)
model = MaskedDec()
`,
  },
  {
    name: 'a key padding mask computed from token ids (x == 0) and an attention over a batch-first encoder',
    variable: 'model',
    shape: [2, 5],
    tokens: [3, 1, 4, 0, 0, 2, 7, 1, 8, 0],
    source: `import torch.nn as nn
class Tokens(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 8, padding_idx=0)
        self.enc = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
        self.head = nn.Linear(8, 2)
    def forward(self, x):
        pad = x == 0
        h = self.enc(self.emb(x), src_key_padding_mask=pad)
        keep = (~pad).float().unsqueeze(-1)
        return self.head(h * keep)
model = Tokens()
`,
  },
  {
    name: 'unbatched inputs: InstanceNorm1d/2d (plain, affine, running statistics), Conv2d, ConvTranspose2d with output_size, pooling',
    variable: 'model',
    shape: [3, 8, 8],
    source: `import torch
import torch.nn as nn
import torch.nn.functional as F
class Unbatched(nn.Module):
    def __init__(self):
        super().__init__()
        self.inorm = nn.InstanceNorm2d(3)
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.affine = nn.InstanceNorm2d(4, affine=True)
        self.running = nn.InstanceNorm2d(4, affine=True, track_running_stats=True)
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
        self.seq = nn.InstanceNorm1d(2, eps=1e-3)
        self.seq_running = nn.InstanceNorm1d(2, track_running_stats=True)
        self.avg = nn.AdaptiveAvgPool1d(4)
        self.head = nn.Linear(8, 3)
    def forward(self, x):
        x = self.conv(self.inorm(x))
        x = self.running(F.relu(self.affine(x)))
        x = self.pool(x)
        x = self.up(x, output_size=[8, 8])
        x = self.seq_running(self.seq(x.reshape(2, 64)))
        return self.head(self.avg(x).reshape(8))
model = Unbatched()
`,
  },
  {
    name: 'initial states by keyword and position (LSTM bidirectional and projected, GRU of two layers without bias) and an unbatched RNN',
    variable: 'model',
    shape: [2, 3, 4],
    source: `import torch
import torch.nn as nn
class States(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 4, bidirectional=True)
        self.gru = nn.GRU(8, 4, num_layers=2, bias=False)
        self.proj = nn.LSTM(4, 5, num_layers=2, proj_size=4)
        self.proj_bf = nn.LSTM(4, 3, proj_size=2, bidirectional=True, batch_first=True)
        self.rnn = nn.RNN(4, 3, batch_first=True, nonlinearity='relu')
        self.head = nn.Linear(4, 2)
        self.tail = nn.Linear(3, 2)
    def forward(self, x):
        a, _ = self.lstm(x, hx=(torch.tanh(x), x * 0.5))
        b, h = self.gru(a, torch.sigmoid(x))
        c, _ = self.proj(b, (x * -0.3, torch.full((2, 3, 5), 0.25)))
        d, _ = self.proj_bf(x.transpose(0, 1), hx=(torch.full((2, 3, 2), -0.1), torch.full((2, 3, 3), 0.4)))
        # Unbatched: (L=6, 4) with batch_first, its state (1, 3) without a batch dim.
        e, _ = self.rnn(x.reshape(6, 4), torch.full((1, 3), 0.5))
        return self.head(c) + self.head(d.transpose(0, 1)) + self.tail(e).reshape(2, 3, 2)
model = States()
`,
  },
  {
    name: "arguments of functional calls and activations: approximate='tanh', softplus beta and threshold, elu alpha, softmax without dim, ceil_mode by position, negation, dropout in eval mode, Bilinear by keyword",
    variable: 'model',
    shape: [2, 3, 5, 5],
    source: `import torch
import torch.nn as nn
import torch.nn.functional as F
class Calls(nn.Module):
    def __init__(self):
        super().__init__()
        self.gelu = nn.GELU(approximate='tanh')
        self.soft = nn.Softplus(beta=2, threshold=1)
        self.softmax = nn.Softmax()
        self.bil = nn.Bilinear(9, 9, 4)
    def forward(self, x):
        x = x * 3
        a = self.gelu(x) + F.gelu(x, approximate='tanh') + F.gelu(x)
        b = self.soft(x) + F.softplus(x, 3, 2) + F.softplus(x)
        c = F.elu(x, alpha=0.5) + F.leaky_relu(x, 0.2) - x / 2
        d = self.softmax(a) + F.softmax(b.reshape(2, 3, 25)).reshape(2, 3, 5, 5)
        e = F.max_pool2d(-(a + b + c + d), 2, 2, 0, 1, True)
        e = F.dropout(e, 0.3, training=self.training)
        h = e.reshape(2, 3, 9)
        return self.bil(input2=torch.tanh(h), input1=h)
model = Calls()
`,
  },
  {
    name: 'parameter-free activations with their arguments, by position and keyword: Hardtanh, CELU, Softsign, Hardsigmoid, LogSigmoid, Mish, Tanhshrink, Softshrink, Hardshrink, Threshold, RReLU (eval), Softmin, Softmax2d, FeatureAlphaDropout',
    variable: 'model',
    shape: [2, 3, 5, 5],
    source: `import torch
import torch.nn as nn
class Activations(nn.Module):
    def __init__(self):
        super().__init__()
        self.hardtanh = nn.Hardtanh(-2, 3)
        self.celu = nn.CELU(0.5)
        self.softsign = nn.Softsign()
        self.hardsigmoid = nn.Hardsigmoid()
        self.logsigmoid = nn.LogSigmoid()
        self.mish = nn.Mish()
        self.tanhshrink = nn.Tanhshrink()
        self.softshrink = nn.Softshrink(0.7)
        self.hardshrink = nn.Hardshrink(lambd=1.5)
        self.threshold = nn.Threshold(0.2, -1)
        self.rrelu = nn.RReLU(0.1, 0.3)
        self.softmin = nn.Softmin(dim=1)
        self.softmax2d = nn.Softmax2d()
        self.drop = nn.FeatureAlphaDropout(0.4)
        self.norm = nn.BatchNorm2d(3)
    def forward(self, x):
        x = x * 4
        a = self.hardtanh(x) + self.celu(x) + self.softsign(x) + self.hardsigmoid(x) + self.logsigmoid(x * 10)
        b = self.mish(x) + self.tanhshrink(x) + self.softshrink(x) + self.hardshrink(x) + self.threshold(x)
        c = self.rrelu(x) + self.softmin(x) + self.softmax2d(x) + self.drop(x)
        return self.norm(a + b + c)
model = Activations()
`,
  },
  {
    name: 'GLU over the channels and over the last dim',
    variable: 'model',
    shape: [2, 4, 6, 6],
    source: `import torch
import torch.nn as nn
class Gates(nn.Module):
    def __init__(self):
        super().__init__()
        self.channels = nn.GLU(dim=1)
        self.last = nn.GLU(dim=-1)
    def forward(self, x):
        return self.channels(x * 3) + self.last(x.reshape(2, 2, 6, 12) * 3)
model = Gates()
`,
  },
  {
    name: '1-d constant, reflection and replication padding by asymmetric tuples and by ints',
    variable: 'model',
    shape: [2, 3, 5],
    source: `import torch
import torch.nn as nn
class Pads(nn.Module):
    def __init__(self):
        super().__init__()
        self.const = nn.ConstantPad1d(padding=(2, 2), value=0.5)
        self.refl = nn.ReflectionPad1d(padding=(3, 1))
        self.repl = nn.ReplicationPad1d(padding=(0, 4))
        self.refl_int = nn.ReflectionPad1d(padding=2)
        self.repl_int = nn.ReplicationPad1d(padding=2)
    def forward(self, x):
        return self.const(x) + self.refl(x) * 2 + self.repl(x) * 3 + self.refl_int(x) * 4 + self.repl_int(x) * 5
model = Pads()
`,
  },
  {
    name: '2-d zero, constant, reflection and replication padding with asymmetric tuples',
    variable: 'model',
    shape: [2, 3, 6, 6],
    source: `import torch
import torch.nn as nn
class Pads(nn.Module):
    def __init__(self):
        super().__init__()
        self.zero = nn.ZeroPad2d((1, 0, 2, 3))
        self.const = nn.ConstantPad2d((0, 1, 3, 2), -1.5)
        self.refl = nn.ReflectionPad2d(padding=(1, 0, 4, 1))
        self.repl = nn.ReplicationPad2d(padding=(0, 1, 0, 5))
    def forward(self, x):
        return self.zero(x) + self.const(x) * 2 + self.refl(x) * 3 + self.repl(x) * 4
model = Pads()
`,
  },
  {
    name: '3-d constant padding, by a tuple and by an int',
    variable: 'model',
    shape: [1, 2, 3, 4, 4],
    source: `import torch
import torch.nn as nn
class Pads(nn.Module):
    def __init__(self):
        super().__init__()
        self.tuple = nn.ConstantPad3d(padding=(0, 2, 1, 1, 2, 0), value=2.0)
        self.int = nn.ConstantPad3d(padding=1, value=-0.5)
    def forward(self, x):
        return self.tuple(x) + self.int(x) * 3
model = Pads()
`,
  },
  {
    name: 'PixelShuffle, PixelUnshuffle and ChannelShuffle',
    variable: 'model',
    shape: [2, 32, 3, 3],
    source: `import torch
import torch.nn as nn
class Shuffles(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = nn.PixelShuffle(2)
        self.down = nn.PixelUnshuffle(downscale_factor=2)
        self.channels = nn.ChannelShuffle(groups=4)
    def forward(self, x):
        return self.up(x) + self.down(x.reshape(2, 2, 12, 12)) * 2 + self.channels(x.reshape(2, 8, 6, 6)) * 3
model = Shuffles()
`,
  },
  {
    name: 'Upsample nearest by scale and by size, nearest-exact, and UpsamplingNearest2d',
    variable: 'model',
    shape: [1, 2, 3, 4],
    source: `import torch
import torch.nn as nn
class Up(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Upsample(scale_factor=2)
        self.size = nn.Upsample(size=(6, 8), mode='nearest')
        self.exact = nn.Upsample(size=(6, 8), mode='nearest-exact')
        self.old = nn.UpsamplingNearest2d(scale_factor=2)
    def forward(self, x):
        return self.scale(x) + self.size(x) * 2 + self.exact(x) * 3 + self.old(x) * 4
model = Up()
`,
  },
  {
    name: 'Upsample bilinear and bicubic with align_corners both ways, and UpsamplingBilinear2d',
    variable: 'model',
    shape: [1, 2, 3, 4],
    source: `import torch
import torch.nn as nn
class Up(nn.Module):
    def __init__(self):
        super().__init__()
        self.halfpixel = nn.Upsample(scale_factor=2, mode='bilinear')
        self.corners = nn.Upsample(size=(6, 8), mode='bilinear', align_corners=True)
        self.old = nn.UpsamplingBilinear2d(scale_factor=2)
        self.cubic = nn.Upsample(scale_factor=2, mode='bicubic', align_corners=False)
        self.cubic_corners = nn.Upsample(size=(6, 8), mode='bicubic', align_corners=True)
    def forward(self, x):
        return self.halfpixel(x) + self.corners(x) * 2 + self.old(x) * 3 + self.cubic(x) * 4 + self.cubic_corners(x) * 5
model = Up()
`,
  },
  {
    name: 'Upsample by a fractional scale and to an uneven size, nearest and bilinear',
    variable: 'model',
    shape: [1, 2, 4, 6],
    source: `import torch
import torch.nn as nn
class Up(nn.Module):
    def __init__(self):
        super().__init__()
        self.nearest = nn.Upsample(scale_factor=1.5)
        self.bilinear = nn.Upsample(size=(6, 9), mode='bilinear')
        self.corners = nn.Upsample(scale_factor=(1.5, 1.5), mode='bilinear', align_corners=True)
    def forward(self, x):
        return self.nearest(x) + self.bilinear(x) * 2 + self.corners(x) * 3
model = Up()
`,
  },
  {
    name: 'Upsample bilinear and bicubic to one row, where PyTorch samples the middle of the input, not its first row',
    variable: 'model',
    shape: [1, 2, 3, 4],
    source: `import torch
import torch.nn as nn
class Up(nn.Module):
    def __init__(self):
        super().__init__()
        self.bilinear = nn.Upsample(size=(1, 8), mode='bilinear')
        self.bicubic = nn.Upsample(size=(1, 8), mode='bicubic')
    def forward(self, x):
        return self.bilinear(x) + self.bicubic(x) * 2
model = Up()
`,
  },
  {
    name: 'Upsample linear and nearest on 1-d inputs, LPPool1d with p = 1.5 and p = 2 (ceil_mode)',
    variable: 'model',
    shape: [2, 3, 12],
    source: `import torch
import torch.nn as nn
class Up(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Upsample(scale_factor=0.5, mode='linear')
        self.corners = nn.Upsample(size=6, mode='linear', align_corners=True)
        self.nearest = nn.Upsample(size=6)
        self.lp = nn.LPPool1d(norm_type=1.5, kernel_size=2)
        self.lp_ceil = nn.LPPool1d(norm_type=2, kernel_size=3, stride=2, ceil_mode=True)
    def forward(self, x):
        a = self.linear(x) + self.corners(x) * 2 + self.nearest(x) * 3
        return a + self.lp_ceil(x) * 4 + self.lp(torch.sigmoid(x * 3)) * 5
model = Up()
`,
  },
  {
    name: 'Upsample trilinear with align_corners both ways, and nearest on 3-d inputs',
    variable: 'model',
    shape: [1, 2, 2, 3, 3],
    source: `import torch
import torch.nn as nn
class Up(nn.Module):
    def __init__(self):
        super().__init__()
        self.halfpixel = nn.Upsample(scale_factor=2, mode='trilinear')
        self.corners = nn.Upsample(size=(4, 6, 6), mode='trilinear', align_corners=True)
        self.nearest = nn.Upsample(scale_factor=(2, 2, 2))
    def forward(self, x):
        return self.halfpixel(x) + self.corners(x) * 2 + self.nearest(x) * 3
model = Up()
`,
  },
  {
    name: 'LPPool2d with p = 2 and p = 3 (ceil_mode)',
    variable: 'model',
    shape: [2, 3, 6, 6],
    source: `import torch
import torch.nn as nn
class Pools(nn.Module):
    def __init__(self):
        super().__init__()
        self.two = nn.LPPool2d(norm_type=2, kernel_size=2)
        self.three = nn.LPPool2d(norm_type=3, kernel_size=(3, 2), stride=(2, 2), ceil_mode=True)
    def forward(self, x):
        return self.two(x) + self.three(torch.sigmoid(x * 3)) * 2
model = Pools()
`,
  },
  {
    name: 'LocalResponseNorm with an odd and an even size',
    variable: 'model',
    shape: [2, 6, 4, 4],
    source: `import torch
import torch.nn as nn
class Norms(nn.Module):
    def __init__(self):
        super().__init__()
        self.odd = nn.LocalResponseNorm(3, 0.5, 0.75, 1.0)
        self.even = nn.LocalResponseNorm(4, alpha=0.3, beta=0.5, k=2.0)
    def forward(self, x):
        x = x * 3
        return self.odd(x) + self.even(x) * 2
model = Norms()
`,
  },
  {
    name: 'chunk (an uneven split: 7 channels in 3 chunks of 3, 3, 1), torch.transpose and swapaxes, as ShuffleNet shuffles channels',
    variable: 'model',
    shape: [2, 7, 4, 4],
    source: `import torch
import torch.nn as nn
def channel_shuffle(x, groups):
    batchsize, num_channels, height, width = x.size()
    x = x.view(batchsize, groups, num_channels // groups, height, width)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(batchsize, -1, height, width)
class Shuffle(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 5, 1)
    def forward(self, x):
        a, b, c = x.chunk(3, dim=1)
        y = torch.cat((self.conv(a), b, torch.swapaxes(c, 2, 3)), dim=1)
        p, q = torch.chunk(y, 2, -1)
        return channel_shuffle(torch.cat((q, p), dim=3), 3)
model = Shuffle()
`,
  },
];

/** Moves every initializer whose values are all the same off that value, keeping running variances positive. */
function perturbConstants(model: Model): void {
  model.graph.initializers = model.graph.initializers.map((t) => {
    const values = inlineValues(t);
    if (t.dtype !== 'float32' || !values || values.length < 2 || values.some((v) => v !== values[0])) return t;
    const moved = Float32Array.from(values, (v, k) => v + 0.1 * Math.sin(k + 1));
    return { ...t, data: { kind: 'inline', bytes: new Uint8Array(moved.buffer) } };
  });
}

describe('python/lower: outputs agree with PyTorch', function () {
  this.timeout(120_000);
  before(function () {
    try {
      execFileSync(PYTHON, ['-c', 'import torch, onnx'], { stdio: 'ignore', timeout: 60_000 });
    } catch {
      if (process.env.CI) throw new Error(`${PYTHON} with torch and onnx is required in CI`);
      console.warn(`      skipped: ${PYTHON} with torch and onnx is not installed`);
      this.skip();
    }
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerscope-lower-'));
      try {
        const src = path.join(dir, 'model.py');
        fs.writeFileSync(src, c.source);
        const a = await analyze(c.source);
        const inst = a.instances.find((i) => i.variable === c.variable)!;
        const model = lowerModuleToModel(inst, { inputShape: c.shape, interpreter: a.interpreter, seed: 5 });
        const totals = countParams(model.graph).totals;
        assert.equal(totals.trainableParams, inst.params!.params, 'lowered parameters');
        assert.equal(totals.nonTrainableParams, inst.params!.buffers, 'lowered buffers');
        perturbConstants(model);
        const onnxPath = path.join(dir, 'model.onnx');
        fs.writeFileSync(onnxPath, writeOnnx(model));
        const expected = JSON.parse(execFileSync(PYTHON, ['-c', SCRIPT, src, onnxPath, c.variable, JSON.stringify(c.shape), JSON.stringify(c.tokens ?? null)], { encoding: 'utf8', timeout: 120_000 })) as number[];
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
        const session = await ort.InferenceSession.create(onnxPath);
        const n = c.shape.reduce((x, y) => x * y, 1);
        const input = c.tokens ? new ort.Tensor('int64', BigInt64Array.from(c.tokens, BigInt), c.shape) : new ort.Tensor('float32', Float32Array.from({ length: n }, (_, k) => -1 + (2 * k) / (n - 1)), c.shape);
        const out = await session.run({ input });
        const got = Array.from(out[model.graph.outputs[0].name].data as Float32Array);
        assert.equal(got.length, expected.length);
        // Within 1e-4, relative to the value where it exceeds 1 (sums of embeddings are not small).
        const maxErr = Math.max(...got.map((v, k) => Math.abs(v - expected[k]) / Math.max(1, Math.abs(expected[k]))));
        assert.ok(maxErr < 1e-4, `max error ${maxErr}`);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('python/lower: token models', () => {
  it('an Embedding first takes int64 token ids, draws N(0, 1) and zeroes the padding row', async () => {
    const a = await analyze('import torch.nn as nn\n# layerscope: input 2x7\nclass Tok(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.emb = nn.Embedding(50, 16, padding_idx=0)\n        self.fc = nn.Linear(16, 4)\n    def forward(self, x):\n        return self.fc(self.emb(x))\n');
    const m = a.modules[0];
    assert.deepEqual(m.outputShape, [2, 7, 4]);
    const model = lowerModuleToModel(m, { inputShape: [2, 7], interpreter: a.interpreter, seed: 3 });
    const input = model.graph.inputs[0];
    assert.equal(input.type?.kind === 'tensor' ? input.type.tensor.dtype : null, 'int64');
    const w = model.graph.initializers.find((t) => t.name === 'emb.weight')!;
    assert.ok(w.data.kind === 'inline');
    const values = new Float32Array(w.data.bytes.buffer, w.data.bytes.byteOffset, 50 * 16);
    assert.ok(values.subarray(0, 16).every((v) => v === 0));
    const rest = values.subarray(16);
    const mean = rest.reduce((x, y) => x + y, 0) / rest.length;
    const std = Math.sqrt(rest.reduce((x, y) => x + (y - mean) ** 2, 0) / rest.length);
    assert.ok(Math.abs(std - 1) < 0.1, `std ${std}`);
  });
});
