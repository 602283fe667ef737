"""Correct and incorrect predictions side by side, each with a heat map (lecture §6).

Which images to show comes from :mod:`explain.browse`; the heat maps of a whole gallery
page are computed in one batched forward pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from explain.browse import SORTS, page_of, select_images
from locales import known

# URL value → label shown in the page.
GALLERY_METHODS = {"sum": known("channel sum of block 3"), "cam": known("CAM of the predicted class")}


@dataclass(frozen=True)
class GalleryPage:
    correct: np.ndarray  # array positions shown in the "correct" column
    incorrect: np.ndarray  # array positions shown in the "incorrect" column
    n_correct: int  # how many images pass the filters and are correct
    n_incorrect: int
    page: int  # page shown (clamped)
    pages: int  # pages needed by the longer column

    @property
    def positions(self) -> np.ndarray:
        return np.concatenate([self.correct, self.incorrect])


def gallery_page(labels: np.ndarray, predicted: np.ndarray, confidence: np.ndarray,
                 true_class: int | None = None, predicted_class: int | None = None,
                 sort: str = SORTS[0], page: int = 1, per_column: int = 6) -> GalleryPage:
    """Filter by true and predicted class, sort, split into correct / incorrect, take one page.

    With the default sort (confidence, high first) the incorrect column starts with the
    most confident mistakes.
    """
    columns = {}
    for correctness in ("correct", "incorrect"):
        columns[correctness] = select_images(labels, predicted, confidence, true_class, predicted_class,
                                             correctness, sort)
    pages = max(page_of(p, 1, per_column)[1] for p in columns.values())
    page = min(max(1, int(page)), pages)
    shown = {}
    for correctness, positions in columns.items():
        start = (page - 1) * per_column
        shown[correctness] = positions[start:start + per_column]
    return GalleryPage(shown["correct"], shown["incorrect"], len(columns["correct"]),
                       len(columns["incorrect"]), page, pages)


def top_classes(probabilities: np.ndarray, k: int = 5) -> list[tuple[int, float]]:
    """The ``k`` most probable classes of one image as (class index, probability), best first."""
    p = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    order = np.argsort(-p, kind="stable")[:max(0, int(k))]
    return [(int(i), float(p[i])) for i in order]


def gallery_heatmaps(model, images: np.ndarray, mean: Sequence[float], std: Sequence[float],
                     method: str, size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Heat maps of several images from ONE forward pass: (N×size×size maps in 0..1, predicted class).

    ``method`` is a key of :data:`GALLERY_METHODS`: ``"sum"`` adds the 128 maps of block 3
    (the lecture's heat map), ``"cam"`` is the class activation map of each image's own
    predicted class (from the same forward pass). Each map is upsampled and scaled to 0..1
    on its own, as a thumbnail shows where, not how much.
    """
    from explain.activations import all_activations
    from explain.heatmaps import FEATURE_LAYER, channel_sums, class_activation_maps, normalise, upsample
    from model.inference import to_tensor

    if method not in GALLERY_METHODS:
        raise ValueError(f"method must be one of {tuple(GALLERY_METHODS)}, not {method!r}")
    images = np.asarray(images)
    if len(images) == 0:
        return np.zeros((0, size, size), np.float32), np.zeros(0, np.int64)
    acts = all_activations(model, to_tensor(images, mean, std))
    features = acts[FEATURE_LAYER].numpy()
    predicted = acts["logits"].argmax(dim=1).numpy().astype(np.int64)
    raw = channel_sums(features) if method == "sum" else \
        class_activation_maps(model.classifier, features, predicted)
    maps = np.stack([normalise(upsample(m, size)) for m in raw]).astype(np.float32)
    return maps, predicted
