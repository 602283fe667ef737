"""The lecture's "semantic map": at every position, which channel is the strongest."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ArgmaxMap:
    channel: np.ndarray  # int64 H×W: index of the winning channel at each position
    value: np.ndarray  # float32 H×W: the winning activation
    shares: tuple[tuple[int, float], ...]  # (channel, share of positions won), largest first


def argmax_channel_map(activation: np.ndarray) -> ArgmaxMap:
    """``activation`` is C×H×W for one image. Ties go to the lowest channel index."""
    a = np.asarray(activation)
    if a.ndim != 3:
        raise ValueError(f"activation must be C×H×W, got shape {a.shape}")
    channel = a.argmax(axis=0).astype(np.int64)
    value = np.take_along_axis(a, channel[None], axis=0)[0].astype(np.float32)
    counts = np.bincount(channel.ravel(), minlength=a.shape[0])
    total = channel.size
    winners = np.flatnonzero(counts)
    order = winners[np.lexsort((winners, -counts[winners]))]
    shares = tuple((int(c), float(counts[c] / total)) for c in order)
    return ArgmaxMap(channel, value, shares)


def layer_names(names: dict[str, dict[str, str]], layer: str) -> dict[int, str]:
    """{channel: name} for ``layer`` from the names file's {layer: {"17": name}}."""
    return {int(ch): name for ch, name in names.get(layer, {}).items()}


@dataclass(frozen=True)
class SemanticView:
    """The Semantic map view of one image: the winning channel at each position of one layer, and
    that layer's channel names. Its figure, its legend and its slide take this one object."""

    layer: str
    shape: tuple[int, ...]  # the layer's N×C×H×W output shape (N = 1 image)
    argmax: ArgmaxMap
    names: dict[int, str]   # {channel: name} of this layer (names file)

    @property
    def top(self) -> tuple[int, float]:
        """The channel that wins the most positions, and its share."""
        return self.argmax.shares[0]


def semantic_view(maps: np.ndarray, layer: str, all_names: dict[str, dict[str, str]]) -> SemanticView:
    """The winning-channel map of ``maps`` (C×H×W of ``layer``) with the layer's names."""
    return SemanticView(layer, (1, *np.asarray(maps).shape), argmax_channel_map(maps), layer_names(all_names, layer))


def rank_of_score(scores: np.ndarray, channel: int, score: float) -> int:
    """1 + how many images score strictly higher than ``score`` on ``channel`` (N×C scores): where an
    image with that score would rank, e.g. an uploaded photo among the test images."""
    return int((np.asarray(scores)[:, channel] > score).sum()) + 1


def rank_in_column(scores: np.ndarray, channel: int, position: int) -> int:
    """1 + how many images score strictly higher than image ``position`` on ``channel`` (N×C scores)."""
    return rank_of_score(scores, channel, np.asarray(scores)[position, channel])
