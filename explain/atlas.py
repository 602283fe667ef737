"""The channel atlas: one channel of one layer over the whole test set. Maths only.

For a channel it gathers the evidence a person needs to name it: its top-k test images (from
the cached per-image maxima, :func:`explain.testset.top_k`) with the region where it fires, its
mean activation per class, a class-selectivity index, where in the image it fires, the test
images on whose semantic map it wins, and a *suggested* name built from that evidence.

"Activation of an image" is the channel's maximum over the positions of the layer (the same
number the top-k ranks by).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from explain.testset import top_k
from locales import DEFAULT, class_name, known, translate

FIRE_LEVEL = 0.5  # a position is "where it fires" when its value is ≥ this fraction of the image's max
POOL = 100  # top test images whose classes measure what the channel prefers
DOMINANT = 0.5  # one class holds at least this share of the pool: "mostly <class>"
PAIR = 0.6  # two classes together hold this share: "<class>/<class>"


def class_means(scores: np.ndarray, labels: np.ndarray, channel: int, num_classes: int) -> np.ndarray:
    """K: the mean over each class's test images of ``channel``'s activation (N×C ``scores``)."""
    column = np.asarray(scores)[:, channel].astype(np.float64)  # one column, not all N×C in float64
    labels = np.asarray(labels)
    sums = np.bincount(labels, weights=column, minlength=num_classes)
    counts = np.bincount(labels, minlength=num_classes)
    return (sums / np.maximum(counts, 1)).astype(np.float32)


def selectivity_index(means: np.ndarray) -> float:
    """Class-selectivity index (Morcos et al., 2018): (μ_best − μ_rest) / (μ_best + μ_rest), where
    μ_best is the largest class mean and μ_rest the mean of the others. 0 = no preference, 1 = fires
    for one class only. Means below 0 count as 0."""
    m = np.clip(np.asarray(means, dtype=np.float64), 0.0, None)
    best = int(m.argmax())
    rest = float(np.delete(m, best).mean()) if len(m) > 1 else 0.0
    total = float(m[best]) + rest
    return float((m[best] - rest) / total) if total > 0 else 0.0


def top_class_counts(scores: np.ndarray, labels: np.ndarray, channel: int, num_classes: int,
                     pool: int = POOL) -> np.ndarray:
    """K: how many of the channel's ``pool`` top test images belong to each class."""
    return np.bincount(np.asarray(labels)[top_k(scores, channel, pool)], minlength=num_classes)


def fire_mask(heat: np.ndarray, level: float = FIRE_LEVEL) -> np.ndarray:
    """H×W bool: where the map is at least ``level`` × its maximum (nothing when the max is ≤ 0)."""
    h = np.asarray(heat, dtype=np.float32)
    top = float(h.max())
    return h >= level * top if top > 0 else np.zeros(h.shape, bool)


def where_it_fires(maps: np.ndarray) -> str:
    """Where in the image the channel fires, from its maps on its top images (K×H×W): each map is
    scaled to its own maximum, they are averaged, and the centre of mass of that mean map above half
    its maximum is read as "centre", "top", "bottom left", … or "everywhere" when it is flat."""
    m = np.clip(np.asarray(maps, dtype=np.float64), 0.0, None)
    peak = m.max(axis=(1, 2), keepdims=True)
    m = np.where(peak > 0, m / np.where(peak > 0, peak, 1), 0).mean(axis=0)
    if m.max() <= 0:
        return "nowhere"
    if (m >= 0.5 * m.max()).mean() > 0.6:
        return "everywhere"
    h, w = m.shape
    weight = np.where(m >= 0.5 * m.max(), m, 0)
    rows, cols = np.mgrid[0:h, 0:w]
    y = float((weight * rows).sum() / weight.sum()) / max(h - 1, 1)  # 0 = top, 1 = bottom
    x = float((weight * cols).sum() / weight.sum()) / max(w - 1, 1)
    vertical = "top" if y < 0.36 else "bottom" if y > 0.64 else ""
    horizontal = "left" if x < 0.36 else "right" if x > 0.64 else ""
    return " ".join(p for p in (vertical, horizontal) if p) or "centre"


def suggest_name(classes: Sequence[str], counts: np.ndarray, where: str) -> str:
    """A plain suggestion from the evidence: the class(es) of the top images and where it fires,
    e.g. "dog, centre", "cat/dog, top", "mixed classes, everywhere"."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total <= 0:
        return f"silent ({where})"
    order = np.argsort(-counts, kind="stable")
    first, second = int(order[0]), int(order[1]) if len(order) > 1 else int(order[0])
    if counts[first] / total >= DOMINANT:
        what = classes[first]
    elif (counts[first] + counts[second]) / total >= PAIR:
        what = f"{classes[first]}/{classes[second]}"
    else:
        what = "mixed classes"
    return f"{what}, {where}"


# Every place :func:`where_it_fires` can say, for the catalog (translated where shown).
PLACES = (known("nowhere"), known("everywhere"), known("centre"), known("top"), known("bottom"), known("left"),
          known("right"), known("top left"), known("top right"), known("bottom left"), known("bottom right"))
MIXED = known("mixed classes")


def suggestion_in(suggestion: str, lang: str) -> str:
    """A suggestion of :func:`suggest_name` (English, as cached) in ``lang``: "cat/dog, top left" →
    "고양이/개, 왼쪽 위"."""
    if lang == DEFAULT:
        return suggestion
    if suggestion.startswith("silent (") and suggestion.endswith(")"):
        return translate("silent ({where})", lang, where=translate(suggestion[len("silent ("):-1], lang))
    what, _, where = suggestion.rpartition(", ")
    what = translate(what, lang) if what == MIXED else "/".join(class_name(c, lang) for c in what.split("/"))
    return f"{what}, {translate(where, lang)}"


@dataclass(frozen=True)
class ChannelAtlas:
    """One channel of one layer over the test set: its atlas page and its figures take this."""

    layer: str
    channel: int
    channels: int                # channels of the layer
    top: np.ndarray              # int K: positions (in the test split) of the top-k images, largest first
    top_scores: np.ndarray       # float K: the channel's activation on them
    top_maps: np.ndarray         # float K×H×W: its map on each of them
    top_wins: np.ndarray         # float K: share of positions it wins on each one's semantic map
    class_means: np.ndarray      # float classes: mean activation per class
    pool_counts: np.ndarray      # int classes: classes of its POOL top images
    selectivity: float           # class-selectivity index of class_means
    where: str                   # where in the image it fires
    suggestion: str              # suggested name (evidence, not a person's judgement)

    @property
    def best_class(self) -> int:
        return int(np.argmax(self.class_means))


def channel_atlas(layer: str, channel: int, scores: np.ndarray, labels: np.ndarray, classes: Sequence[str],
                  top_layer_maps: np.ndarray, top: np.ndarray) -> ChannelAtlas:
    """The atlas of ``channel``: ``scores`` N×C are the layer's per-image maxima over the test set,
    ``top`` the positions of its top-k images (:func:`top_k`) and ``top_layer_maps`` K×C×H×W the
    whole layer on them (for the channel's maps and where it wins)."""
    scores = np.asarray(scores)
    channels = scores.shape[1]
    if not 0 <= int(channel) < channels:
        raise ValueError(f"{layer} has channels 0–{channels - 1}")
    layer_maps = np.asarray(top_layer_maps, dtype=np.float32)
    maps = layer_maps[:, channel]
    wins = (layer_maps.argmax(axis=1) == channel).mean(axis=(1, 2)) if len(layer_maps) else np.zeros(0)
    means = class_means(scores, labels, channel, len(classes))
    counts = top_class_counts(scores, labels, channel, len(classes))
    where = where_it_fires(maps) if len(maps) else "nowhere"
    top = np.asarray(top, dtype=np.int64)
    return ChannelAtlas(layer, int(channel), channels, top, scores[top, channel], maps,
                        wins.astype(np.float32), means, counts, selectivity_index(means), where,
                        suggest_name(classes, counts, where))
