"""PyTorch autograd oracle for the gradient probe on torchvision's ResNet-18 (random weights plus noise, eval mode,
BatchNorm kept as its own node), at 64x64 as in the wider torchvision acceptance run. Usage: resnet18Oracle.py OUT_DIR.
Writes OUT_DIR/resnet18.onnx, OUT_DIR/input.npy and OUT_DIR/oracle.json.

The input is drawn clear of ReLU kinks (see kinks.py). The first input drawn, which the torchvision run used, has a
layer1.0 ReLU input of -1.3e-7 that onnxruntime computes as +2e-7; that one element moves the stem's bn1.bias
gradient by 1.2e-3 relative, so this script rejects it and uses the next.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

from kinks import draw_clear_input

OUT = sys.argv[1]
SIZE = 64
TARGET = 3
os.makedirs(OUT, exist_ok=True)

torch.manual_seed(0)
model = torchvision.models.resnet18().eval()
with torch.no_grad():
    # Noise keeps every parameter its own initializer (the exporter merges identical ones).
    for p in model.parameters():
        p.add_(torch.randn_like(p) * 0.01)
# Inputs come from the generator's stream after the weights, as in the torchvision run, so the first draw is the one
# that run used.
x, rejected, margin = draw_clear_input(model, lambda: torch.randn(1, 3, SIZE, SIZE))

path = os.path.join(OUT, 'resnet18.onnx')
torch.onnx.export(model, x, path, opset_version=14, training=torch.onnx.TrainingMode.PRESERVE,
                  do_constant_folding=False, input_names=['input'])
np.save(os.path.join(OUT, 'input.npy'), x.numpy())
xg = x.clone().requires_grad_(True)
loss = F.cross_entropy(model(xg), torch.tensor([TARGET]))
model.zero_grad()
loss.backward()
with open(os.path.join(OUT, 'oracle.json'), 'w') as f:
    json.dump({'onnx': path, 'input': os.path.join(OUT, 'input.npy'), 'target': TARGET, 'rejected': rejected, 'margin': margin,
               'loss': loss.item(), 'inputGradNorm': xg.grad.norm().item(),
               'params': {n: p.grad.norm().item() for n, p in model.named_parameters()}}, f, indent=1)
