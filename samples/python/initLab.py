"""The weight-initialisation lab: seven 4096-wide layers (dims = [4096] * 7) with tanh, as in the lecture's
"Xavier" slides (InitLabMLP(activation="relu") for the He slides). Run an activation probe on it with different initialisations (normal σ=0.01, Xavier, He) to see
the activations collapse, stay scaled, or saturate."""
import torch
from torch import nn

dims = [4096] * 7


# layerscope: input 16x4096
class InitLabMLP(nn.Module):
    def __init__(self, activation="tanh"):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(din, dout, bias=False) for din, dout in zip(dims[:-1], dims[1:])])
        self.activation = activation

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
            x = torch.relu(x) if self.activation == "relu" else torch.tanh(x)
        return x
