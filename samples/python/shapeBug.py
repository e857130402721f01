"""A deliberate shape bug: after three stride-2 convolutions and a pooling layer the feature map is 15×2×2 = 60
values, but the classifier's first Linear layer expects 61. Layerscope marks that line with a warning."""
import torch.nn as nn
import torch.nn.functional as F


# layerscope: input 1x3x32x32
class BuggyConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 15, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(15, 15, 3, stride=2, padding=1)
        self.conv3 = nn.Conv2d(15, 15, 3, stride=2, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(61, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = self.pool(F.relu(self.conv3(x)))
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)
