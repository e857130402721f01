"""Exports torchvision architectures and records PyTorch autograd's loss and gradient norms for them, for the
wider (slower) acceptance run of the gradient probe: `torchvisionOracle.py OUT_DIR`, then `npx tsx torchvisionCheck.ts
OUT_DIR`. Parameters get a little noise so that the exporter keeps every one as its own initializer, and each input
is drawn clear of activation kinks (kinks.py), where float32 rounding alone can change a gradient.
(A script's own folder comes first on sys.path, so a file here named torchvision.py would shadow the package for
this script and for resnet18.py beside it.)"""
import json, os, sys
import numpy as np, torch, torchvision, torch.nn.functional as F
from kinks import draw_clear_input
out = sys.argv[1]; os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
res = []
MODELS = [('resnet18', 64), ('mobilenet_v2', 64), ('mobilenet_v3_small', 64), ('squeezenet1_0', 64), ('shufflenet_v2_x0_5', 64),
          ('efficientnet_b0', 64), ('densenet121', 64), ('regnet_y_400mf', 64), ('mnasnet0_5', 64), ('googlenet', 64),
          ('inception_v3', 96), ('convnext_tiny', 64), ('resnext50_32x4d', 64), ('alexnet', 224), ('vit_b_16', 224)]
for name, size in MODELS:
    try:
        kw = {'aux_logits': False, 'init_weights': True} if name in ('googlenet', 'inception_v3') else {}
        m = getattr(torchvision.models, name)(**kw).eval()
        with torch.no_grad():
            for p in m.parameters(): p.add_(torch.randn_like(p) * 0.01)
        x, rejected, _ = draw_clear_input(m, lambda: torch.randn(1, 3, size, size))
        path = os.path.join(out, name + '.onnx')
        torch.onnx.export(m, x, path, opset_version=14, training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False, input_names=['input'])
        xg = x.clone().requires_grad_(True)
        loss = F.cross_entropy(m(xg), torch.tensor([3]))
        m.zero_grad(); loss.backward()
        np.save(os.path.join(out, name + '.npy'), x.numpy())
        res.append({'name': name, 'onnx': path, 'input': os.path.join(out, name + '.npy'), 'loss': loss.item(), 'inputGradNorm': xg.grad.norm().item(), 'rejectedInputs': rejected,
                    'params': {n: p.grad.norm().item() for n, p in m.named_parameters() if p.grad is not None}})
    except Exception as e:
        print('FAILED', name, repr(e)[:200], file=sys.stderr)
json.dump(res, open(os.path.join(out, 'tv.json'), 'w'))
