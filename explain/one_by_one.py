"""A 1×1 convolution is a weighted sum of the input maps, at every position (lecture §4)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn


@dataclass(frozen=True)
class Decomposition:
    out_channel: int
    weights: np.ndarray  # C_in: the output channel's weight for each input map
    bias: float
    contributions: np.ndarray  # C_in×H×W: weight[c] * input_map[c]
    reconstructed: np.ndarray  # H×W: sum of contributions + bias
    actual: np.ndarray  # H×W: what the layer itself computed
    order: np.ndarray  # input channels by total |contribution|, largest first

    @property
    def max_abs_difference(self) -> float:
        return float(np.abs(self.reconstructed - self.actual).max())


def weight_matrix(conv: nn.Conv2d) -> np.ndarray:
    """C_out×C_in weights of a 1×1 convolution."""
    if conv.kernel_size != (1, 1) or conv.groups != 1:
        raise ValueError(f"expected an ungrouped 1×1 convolution, got kernel {conv.kernel_size}")
    return conv.weight.detach().cpu().numpy()[:, :, 0, 0].copy()


def decompose(conv: nn.Conv2d, input_maps: np.ndarray, actual_output: np.ndarray,
              out_channel: int) -> Decomposition:
    """Split output channel ``out_channel`` of ``conv`` into per-input-map contributions.

    ``input_maps`` is C_in×H×W (the layer's input for one image), ``actual_output`` is the
    layer's own C_out×H×W output, used to show the sum reproduces it.
    """
    w = weight_matrix(conv)
    if not 0 <= out_channel < w.shape[0]:
        raise ValueError(f"out_channel must be in 0..{w.shape[0] - 1}, got {out_channel}")
    x = np.asarray(input_maps, dtype=np.float64)
    if x.ndim != 3 or x.shape[0] != w.shape[1]:
        raise ValueError(f"input_maps must be {w.shape[1]}×H×W, got {x.shape}")
    weights = w[out_channel].astype(np.float64)
    bias = float(conv.bias.detach()[out_channel]) if conv.bias is not None else 0.0
    contributions = weights[:, None, None] * x
    reconstructed = contributions.sum(axis=0) + bias
    order = np.argsort(-np.abs(contributions).sum(axis=(1, 2)), kind="stable")
    return Decomposition(out_channel, weights.astype(np.float32), bias,
                         contributions.astype(np.float32), reconstructed.astype(np.float32),
                         np.asarray(actual_output[out_channel], dtype=np.float32), order)


@dataclass(frozen=True)
class ConvCost:
    kernel: int
    c_in: int
    c_out: int
    height: int
    width: int

    @property
    def parameters(self) -> int:
        """Weights plus one bias per filter."""
        return self.c_out * self.c_in * self.kernel * self.kernel + self.c_out

    @property
    def weights(self) -> int:
        return self.c_out * self.c_in * self.kernel * self.kernel

    @property
    def multiply_adds(self) -> int:
        """Multiplications of one forward pass for one image ('same' padding, stride 1)."""
        return self.height * self.width * self.weights


def compare_with_3x3(c_in: int, c_out: int, height: int, width: int) -> tuple[ConvCost, ConvCost]:
    return ConvCost(1, c_in, c_out, height, width), ConvCost(3, c_in, c_out, height, width)


# The lecture's example: 28×28×192 → 28×28×32 with thirty-two 1×1×192 filters.
LECTURE_EXAMPLE = ConvCost(kernel=1, c_in=192, c_out=32, height=28, width=28)
