"""The lecture's CIFAR-10 models written as PyTorch source (see the "Baseline Linear" and "ResNet with BatchNorm"
slides). Layerscope shows each layer's parameter count above its line: 1,645,950 for Linear and 17,020 for
DeeperBNConvNet, with 420, 2,040 ×6, 30 ×3, 3,660 and 610 on the layer lines."""
import torch
import torch.nn as nn


# layerscope: input 1x3x32x32
class Linear(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(3 * 32 * 32, 512),
            nn.ReLU(),
            nn.Linear(512, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.Linear(84, 10),
        )
        self.decision = nn.Softmax(dim=1)

    def forward(self, x):
        return self.decision(self.net(x))


# layerscope: input 1x3x32x32
class DeeperBNConvNet(nn.Module):
    def __init__(self, channels=15, num_classes=10):
        super().__init__()
        c = channels
        self.net = nn.Sequential(
            nn.Conv2d(3, c, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(c, c, kernel_size=3, stride=2, padding=1),
            nn.BatchNorm2d(c),
            nn.ReLU(),
            nn.Conv2d(c, c, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(c, c, kernel_size=3, stride=2, padding=1),
            nn.BatchNorm2d(c),
            nn.ReLU(),
            nn.Conv2d(c, c, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(c, c, kernel_size=3, stride=2, padding=1),
            nn.BatchNorm2d(c),
            nn.ReLU(),
            nn.Conv2d(c, c, kernel_size=3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(c * 2 * 2, 60),
            nn.Linear(60, num_classes),
        )
        self.decision = nn.Softmax(dim=1)

    def forward(self, x):
        return self.decision(self.net(x))


model = DeeperBNConvNet(num_classes=10)
