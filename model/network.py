"""The lecture's CIFAR-10 network (lecture.md §6), built so every layer has a readable name.

Three blocks of 2, 3 and 3 convolutions with 32, 64 and 128 channels; BatchNorm and ReLU
after every convolution; each block ends in 2×2 max pooling. The last convolution of
blocks 2 and 3 is 1×1, so the dashboard has learned 1×1 channel weights to show (§4).
Global average pooling and a single linear layer follow, which makes the class
activation map (CAM) exact: the logit of class k is the spatial mean of
sum_c w[k, c] * A[c] + b[k], where A is the output of block 3.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from data.cifar10 import CIFAR10_CLASSES

ARCHITECTURE = "lecture-cnn-v1"

# (block name, output channels, kernel size of each convolution)
BLOCKS = (
    ("block1", 32, (3, 3)),
    ("block2", 64, (3, 3, 1)),
    ("block3", 128, (3, 3, 1)),
)


def _block(in_channels: int, out_channels: int, kernels: tuple[int, ...]) -> nn.Sequential:
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    channels = in_channels
    for i, k in enumerate(kernels, start=1):
        # Convolutions keep their bias so the 1×1 view can show "weighted sum + bias"
        # exactly as the lecture writes it, even though BatchNorm follows.
        layers[f"conv{i}"] = nn.Conv2d(channels, out_channels, kernel_size=k, padding=k // 2)
        layers[f"bn{i}"] = nn.BatchNorm2d(out_channels)
        layers[f"relu{i}"] = nn.ReLU(inplace=False)
        channels = out_channels
    layers["pool"] = nn.MaxPool2d(2)
    return nn.Sequential(layers)


class LectureCNN(nn.Module):
    """N×3×32×32 images → N×10 logits. See the module docstring for the layout."""

    def __init__(self, num_classes: int = len(CIFAR10_CLASSES)) -> None:
        super().__init__()
        channels = 3
        for name, out_channels, kernels in BLOCKS:
            self.add_module(name, _block(channels, out_channels, kernels))
            channels = out_channels
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.classifier = nn.Linear(channels, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Output of block 3 (N×128×4×4 for 32×32 input): the maps CAM is built on."""
        return self.block3(self.block2(self.block1(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.flatten(self.gap(self.features(x))))


def build_model(num_classes: int = len(CIFAR10_CLASSES)) -> LectureCNN:
    return LectureCNN(num_classes)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
