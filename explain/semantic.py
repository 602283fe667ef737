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


OTHER = -1  # code of the positions won by a channel outside the top N (drawn as one neutral "other")
DEFAULT_TOP_N = 8  # winners shown in their own colours by default


def split_top(shares: tuple[tuple[int, float], ...], n: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(the ``n`` most frequent winners, every other winner), each largest share first."""
    n = max(0, int(n))
    return tuple(ch for ch, _ in shares[:n]), tuple(ch for ch, _ in shares[n:])


def grouped_map(channel: np.ndarray, shown: tuple[int, ...]) -> np.ndarray:
    """The winner map with every channel outside ``shown`` replaced by :data:`OTHER`."""
    ch = np.asarray(channel, dtype=np.int64)
    return np.where(np.isin(ch, np.asarray(shown, dtype=np.int64)), ch, OTHER)


def regions(codes: np.ndarray) -> list[tuple[int, list[tuple[int, int]]]]:
    """Connected regions (4-neighbours) of equal codes: [(code, [(row, col), …]), …] in reading order."""
    codes = np.asarray(codes)
    seen = np.zeros(codes.shape, bool)
    out = []
    h, w = codes.shape
    for r0 in range(h):
        for c0 in range(w):
            if seen[r0, c0]:
                continue
            code, cells, stack = int(codes[r0, c0]), [], [(r0, c0)]
            seen[r0, c0] = True
            while stack:
                r, c = stack.pop()
                cells.append((r, c))
                for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
                    if 0 <= rr < h and 0 <= cc < w and not seen[rr, cc] and codes[rr, cc] == code:
                        seen[rr, cc] = True
                        stack.append((rr, cc))
            out.append((code, sorted(cells)))
    return out


def label_cell(cells: list[tuple[int, int]]) -> tuple[int, int]:
    """The cell of a region nearest its centroid (where its one label goes)."""
    centre = np.mean(np.asarray(cells, dtype=np.float64), axis=0)
    return min(cells, key=lambda rc: ((rc[0] - centre[0]) ** 2 + (rc[1] - centre[1]) ** 2, rc))


@dataclass(frozen=True)
class SemanticView:
    """The Semantic map view of one image: the winning channel at each position of one layer, and
    that layer's channel names. Its figure, its legend and its slide take this one object.

    The ``top_n`` most frequent winners on this image are drawn in their own colours (a channel's
    colour depends only on the layer and its number, see render.semantic); every other winner
    is drawn as one neutral "other" (:data:`OTHER` in :attr:`grouped`)."""

    layer: str
    shape: tuple[int, ...]  # the layer's N×C×H×W output shape (N = 1 image)
    argmax: ArgmaxMap
    names: dict[int, str]   # {channel: name} of this layer (names file)
    top_n: int = DEFAULT_TOP_N

    @property
    def top(self) -> tuple[int, float]:
        """The channel that wins the most positions, and its share."""
        return self.argmax.shares[0]

    @property
    def shown(self) -> tuple[int, ...]:
        """The ``top_n`` most frequent winners, largest share first."""
        return split_top(self.argmax.shares, self.top_n)[0]

    @property
    def others(self) -> tuple[int, ...]:
        """The winners outside the top ``top_n`` (drawn as "other")."""
        return split_top(self.argmax.shares, self.top_n)[1]

    @property
    def other_share(self) -> float:
        """Share of the positions won by the channels in :attr:`others`."""
        others = set(self.others)
        return float(sum(share for ch, share in self.argmax.shares if ch in others))

    @property
    def grouped(self) -> np.ndarray:
        """H×W: the winning channel where it is one of :attr:`shown`, else :data:`OTHER`."""
        return grouped_map(self.argmax.channel, self.shown)


def semantic_view(maps: np.ndarray, layer: str, all_names: dict[str, dict[str, str]],
                  top_n: int = DEFAULT_TOP_N) -> SemanticView:
    """The winning-channel map of ``maps`` (C×H×W of ``layer``) with the layer's names; its
    ``top_n`` most frequent winners get their own colours."""
    return SemanticView(layer, (1, *np.asarray(maps).shape), argmax_channel_map(maps),
                        layer_names(all_names, layer), int(top_n))


def rank_of_score(scores: np.ndarray, channel: int, score: float) -> int:
    """1 + how many images score strictly higher than ``score`` on ``channel`` (N×C scores): where an
    image with that score would rank, e.g. an uploaded photo among the test images."""
    return int((np.asarray(scores)[:, channel] > score).sum()) + 1


def rank_in_column(scores: np.ndarray, channel: int, position: int) -> int:
    """1 + how many images score strictly higher than image ``position`` on ``channel`` (N×C scores)."""
    return rank_of_score(scores, channel, np.asarray(scores)[position, channel])
