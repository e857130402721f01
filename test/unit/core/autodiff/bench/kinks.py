"""Keeps autograd comparisons away from the kinks of piecewise-linear activations.

A float32 forward pass can put an activation input whose exact value is within rounding of a kink (0 for ReLU, 0 and 6
for ReLU6, -3 and 3 for Hardswish) on either side of it. onnxruntime and PyTorch sum convolutions in different orders,
so at such an input they can take different branches, and their gradients then differ by whole elements however
exact both backward passes are. kink_margin measures how far an input keeps clear of that: the smallest distance of
any activation input from a kink, in units of float32's error on that tensor (PyTorch's float32 forward against a
float64 one). A margin of at least 1 means both libraries take the same branches everywhere.
"""
import copy

import torch
import torch.nn.functional as F


# The functional forms, which the activation modules call too, and their kinks (hardtanh's from its arguments).
_KINKS = {
    'relu': lambda args, kwargs: (0.0,),
    'hardtanh': lambda args, kwargs: (kwargs.get('min_val', args[1] if len(args) > 1 else -1.0),
                                      kwargs.get('max_val', args[2] if len(args) > 2 else 1.0)),
    'hardswish': lambda args, kwargs: (-3.0, 3.0),
    'hardsigmoid': lambda args, kwargs: (-3.0, 3.0),
}


def _inputs(model, x):
    """Every piecewise-linear activation's input with its kinks, in call order (copied: many work in place). Models
    call these as modules or as torch.nn.functional functions, so the functions themselves are wrapped."""
    seen = []
    originals = {name: getattr(F, name) for name in _KINKS}

    def wrap(name):
        def recorded(*args, **kwargs):
            seen.append((args[0].detach().double().clone(), _KINKS[name](args, kwargs)))
            return originals[name](*args, **kwargs)
        return recorded

    for name in _KINKS:
        setattr(F, name, wrap(name))
    try:
        with torch.no_grad():
            model(x)
    finally:
        for name, fn in originals.items():
            setattr(F, name, fn)
    return seen


def kink_margin(model, x, model64=None):
    """The margin of input x for model (in eval mode); pass model64, a float64 copy, to reuse it across calls."""
    model64 = model64 if model64 is not None else copy.deepcopy(model).double()
    margin = float('inf')
    for (exact, kinks), (single, _) in zip(_inputs(model64, x.double()), _inputs(model, x)):
        noise = max((exact - single).abs().max().item(), 1e-30)
        for k in kinks:
            margin = min(margin, (exact - k).abs().min().item() / noise)
    return margin


def draw_clear_input(model, draw, tries=20):
    """Calls draw() until its input has a margin of at least 1, and returns (input, earlier draws passed over,
    margin). Deep models have so many activations that no draw may manage it; then the widest margin wins."""
    model64 = copy.deepcopy(model).double()
    best = None
    for rejected in range(tries):
        x = draw()
        margin = kink_margin(model, x, model64)
        if margin >= 1:
            return x, rejected, margin
        if best is None or margin > best[2]:
            best = (x, rejected, margin)
    return best
