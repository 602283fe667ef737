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


# --- For the "1×1 weights" page -----------------------------------------------------------

def one_by_one_layers(model) -> list:
    """The network's 1×1 convolutions (``LayerInfo``), in forward order."""
    from explain.activations import map_layers

    return [info for info in map_layers(model) if info.is_one_by_one]


def input_layer_name(model, layer: str) -> str:
    """Name of the layer whose output is the input of ``layer`` (e.g. block3.conv3 → block3.relu2)."""
    from explain.activations import check_layer, layers

    check_layer(model, layer)
    names = [info.name for info in layers(model)]
    position = names.index(layer)
    return names[position - 1] if position > 0 else "input"


@dataclass(frozen=True)
class TopContributions:
    """The ``k`` strongest weighted input maps of one output channel, and everything else."""

    channels: np.ndarray  # k input channels, strongest total |contribution| first
    weights: np.ndarray  # k weights (one per channel above)
    maps: np.ndarray  # k×H×W: weight × input map
    rest: np.ndarray  # H×W: sum of the other C_in − k weighted maps
    bias: float
    share: float  # fraction of the total |contribution| carried by the k maps (0..1)

    @property
    def total(self) -> np.ndarray:
        """Sum of every weighted map plus the bias: the layer's output for this channel."""
        return self.maps.sum(axis=0) + self.rest + self.bias


def top_contributions(d: Decomposition, k: int = 6) -> TopContributions:
    """Split a decomposition into its ``k`` strongest weighted maps and the sum of the rest."""
    k = max(0, min(int(k), len(d.order)))
    top = d.order[:k]
    others = d.order[k:]
    magnitude = np.abs(d.contributions).sum(axis=(1, 2)).astype(np.float64)
    total = float(magnitude.sum())
    share = float(magnitude[top].sum() / total) if total > 0 else 0.0
    rest = d.contributions[others].astype(np.float64).sum(axis=0) if len(others) else \
        np.zeros(d.actual.shape)
    return TopContributions(top.copy(), d.weights[top].copy(), d.contributions[top].copy(),
                            rest.astype(np.float32), d.bias, share)


def with_kernel(cost: ConvCost, kernel: int) -> ConvCost:
    """The same layer (channels, size) with a ``kernel``×``kernel`` filter instead."""
    return ConvCost(kernel, cost.c_in, cost.c_out, cost.height, cost.width)


def cost_rows(costs: list[ConvCost]) -> list[dict]:
    """One table row per layer; the last column compares each with the first (the 1×1).

    Every layer maps H×W×C_in to H×W×C_out; say so next to the table.
    """
    base = costs[0]
    rows = []
    for c in costs:
        rows.append({
            "convolution": f"{c.kernel}×{c.kernel}",
            "filters": f"{c.c_out} × {c.kernel}×{c.kernel}×{c.c_in}",
            "parameters": c.parameters,
            "multiply-adds": c.multiply_adds,
            "× the 1×1": round(c.multiply_adds / base.multiply_adds, 2),
        })
    return rows


@dataclass(frozen=True)
class OneByOneView:
    """The 1×1 weights view of one image: one output channel of a 1×1 layer as a weighted sum of
    its input maps. Its figures and its slide take this one object."""

    layer: str
    source: str            # the layer whose output is this layer's input
    in_shape: tuple        # N×C×H×W of the input maps
    out_shape: tuple       # N×C×H×W of the layer's output
    decomposition: Decomposition
    top: TopContributions  # the strongest weighted maps, the rest summed, the bias

    @property
    def channel(self) -> int:
        return self.decomposition.out_channel


def one_by_one_view(model, activations: dict[str, np.ndarray], layer: str, channel: int,
                    k: int = 6) -> OneByOneView:
    """Decompose output ``channel`` of the 1×1 ``layer`` for one image, given every layer's C×H×W
    output for it (``activations``, as explain.feature_maps.image_activations gives for one image)."""
    conv = dict(model.named_modules())[layer]
    source = input_layer_name(model, layer)
    d = decompose(conv, activations[source], activations[layer], channel)
    return OneByOneView(layer, source, (1, *activations[source].shape), (1, *activations[layer].shape), d,
                        top_contributions(d, k))
