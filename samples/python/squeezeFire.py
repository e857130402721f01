"""A small SqueezeNet-style network: the Fire block is the user's own Module class, and calls such as
Fire(64, 16, 64, 64) inside nn.Sequential are followed into it."""
import torch
from torch import nn
from collections import OrderedDict


class Fire(nn.Module):
    def __init__(self, inplanes, squeeze_planes, expand1x1_planes, expand3x3_planes):
        super().__init__()
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat([self.act(self.expand1x1(x)), self.act(self.expand3x3(x))], 1)


# layerscope: input 1x3x64x64
class TinySqueezeNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(OrderedDict([
            ("conv", nn.Conv2d(3, 64, kernel_size=3, stride=2)),
            ("relu", nn.ReLU(inplace=True)),
            ("pool", nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)),
            ("fire1", Fire(64, 16, 64, 64)),
            ("fire2", Fire(128, 16, 64, 64)),
        ]))
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.5),
            nn.Conv2d(128, num_classes, kernel_size=1),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d((1, 1)),
        )

    def forward(self, x):
        x = self.features(x)
        x = self.classifier(x)
        return torch.flatten(x, 1)


model = TinySqueezeNet(num_classes=10)
