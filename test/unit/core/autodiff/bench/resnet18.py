"""Exports torchvision's ResNet-18 (random weights, eval mode) for the gradient-probe benchmark and times PyTorch's
own forward and forward+backward on the same input. Usage: resnet18.py OUT_DIR [device]."""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

out = sys.argv[1]
device = sys.argv[2] if len(sys.argv) > 2 else 'cpu'
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
model = torchvision.models.resnet18().eval()
x = torch.randn(1, 3, 224, 224)
torch.onnx.export(model, x, os.path.join(out, 'resnet18.onnx'), opset_version=17, input_names=['input'], output_names=['logits'])
np.save(os.path.join(out, 'input.npy'), x.numpy())
model = model.to(device)
xd = x.to(device)
target = torch.tensor([0], device=device)


def timed(fn, n=20):
    for _ in range(3):
        fn()
    times = []
    for _ in range(n):
        if device == 'cuda':
            torch.cuda.synchronize()
        t = time.perf_counter()
        fn()
        if device == 'cuda':
            torch.cuda.synchronize()
        times.append((time.perf_counter() - t) * 1000)
    return float(np.median(times))


def fwd():
    with torch.no_grad():
        model(xd)


def fwd_bwd():
    model.zero_grad()
    xg = xd.clone().requires_grad_(True)
    F.cross_entropy(model(xg), target).backward()


print(json.dumps({'torch': torch.__version__, 'device': device, 'threads': torch.get_num_threads(),
                  'forwardMs': timed(fwd), 'forwardBackwardMs': timed(fwd_bwd)}))
