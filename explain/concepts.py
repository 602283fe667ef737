"""Concept maps: an argmax over k concepts instead of over raw channels. Maths only.

A layer's activations over test images are a non-negative matrix X (one row per image position,
one column per channel; negative values of a layer before its ReLU count as 0). Non-negative
matrix factorisation (scikit-learn's NMF) writes X ≈ W·H with k rows in H: each *concept* is a
non-negative mix of channels, and each position gets k non-negative concept strengths (its row of
W). The concept map of an image is, at each position, the concept with the largest strength —
the semantic map's argmax over k concepts instead of over C channels.

The factorisation is fitted once per checkpoint, data set, layer and k on the positions of a
fixed sample of test images, and kept on disk like the other test-set results.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explain.atlas import suggest_name, suggestion_in, where_it_fires
from explain.testset import _atomic_savez, _try_load, data_digest

FIT_IMAGES = 2000  # test images whose positions the factorisation is fitted on
MAX_ROWS = 160_000  # at most this many positions (rows) go into the fit (fixed-seed sample)
K_RANGE = (4, 12)
DEFAULT_K = 6
TOP_IMAGES = 8  # top images kept per concept
SEED = 0

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Concepts:
    """k concepts of one layer: the channel mix of each, how well they reconstruct the layer, and
    each concept's top test images (positions in the test split, among the fitted ones)."""

    layer: str
    components: np.ndarray   # float32 k×C, non-negative: concept → channel weights
    rel_error: float         # ‖X − WH‖ / ‖X‖ on the fitted positions
    top: np.ndarray          # int k×TOP_IMAGES: positions of each concept's top test images
    names: tuple[str, ...]   # suggested name of each concept (classes of its top images, where)
    seconds: float           # time the fit took (0 when read from the cache)
    fit_images: int          # how many test images the fit used

    @property
    def k(self) -> int:
        return int(self.components.shape[0])

    def shown_names(self, lang: str) -> tuple[str, ...]:
        """The suggested names in ``lang``."""
        return tuple(suggestion_in(n, lang) for n in self.names)

    def top_channels(self, concept: int, n: int = 3) -> list[int]:
        """The channels with the largest weights in ``concept``."""
        return [int(c) for c in np.argsort(-self.components[concept], kind="stable")[:n]]


def layer_outputs(model, images: np.ndarray, meta: dict, layer: str, batch_size: int = 250) -> np.ndarray:
    """float32 N×C×H×W: ``layer``'s output for uint8 N×32×32×3 ``images`` (batched, no grad)."""
    import torch

    from explain.activations import modules_up_to
    from model.inference import to_tensor

    chain = modules_up_to(model, layer)
    out = []
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            h = to_tensor(images[start:start + batch_size], meta["mean"], meta["std"])
            for module in chain:
                h = module(h)
            out.append(h.float().numpy())
    return np.concatenate(out)


def as_rows(maps: np.ndarray) -> np.ndarray:
    """N×C×H×W (or C×H×W) → (N·H·W)×C, negatives clipped to 0."""
    m = np.asarray(maps, dtype=np.float32)
    if m.ndim == 3:
        m = m[None]
    return np.clip(m.transpose(0, 2, 3, 1).reshape(-1, m.shape[1]), 0.0, None)


def fit_nmf(rows: np.ndarray, k: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray, float]:
    """(W, H, relative error) of scikit-learn's NMF of the non-negative ``rows`` with ``k`` components."""
    from sklearn.decomposition import NMF

    model = NMF(n_components=int(k), init="nndsvda", solver="cd", max_iter=400, tol=1e-4, random_state=seed)
    w = model.fit_transform(rows)
    h = model.components_.astype(np.float32)
    error = float(np.linalg.norm(rows - w @ h) / max(np.linalg.norm(rows), 1e-12))
    return w.astype(np.float32), h, error


def strengths(maps: np.ndarray, components: np.ndarray) -> np.ndarray:
    """k×H×W: the non-negative concept strengths at each position of one image's C×H×W ``maps``
    (the concepts' H fixed, W solved by scikit-learn's coordinate descent)."""
    from sklearn.decomposition import non_negative_factorization

    m = np.asarray(maps, dtype=np.float32)
    c, h, w = m.shape
    rows = as_rows(m).astype(np.float64)
    comp = np.asarray(components, dtype=np.float64)
    if not rows.any():
        return np.zeros((comp.shape[0], h, w), np.float32)
    coef, _, _ = non_negative_factorization(rows, H=comp, n_components=comp.shape[0], update_H=False,
                                            solver="cd", max_iter=400, tol=1e-5)
    return coef.T.reshape(comp.shape[0], h, w).astype(np.float32)


def concept_map(maps: np.ndarray, components: np.ndarray) -> np.ndarray:
    """int64 H×W: at each position of one image, the concept with the largest strength."""
    return strengths(maps, components).argmax(axis=0).astype(np.int64)


def fit_sample(n_images: int, seed: int = SEED) -> np.ndarray:
    """Positions of the test images the factorisation is fitted on (fixed, sorted)."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.permutation(n_images)[:min(FIT_IMAGES, n_images)])


def compute_concepts(layer: str, maps: np.ndarray, labels: np.ndarray, classes: Sequence[str], k: int,
                     sample: np.ndarray) -> Concepts:
    """The ``k`` concepts of ``layer`` from its outputs ``maps`` (S×C×H×W) on the test images at
    ``sample`` (positions in the test split, with ``labels`` of the whole split)."""
    started = time.perf_counter()
    maps = np.asarray(maps, dtype=np.float32)
    s, c, h, w = maps.shape
    rows = as_rows(maps)
    fit_rows = np.arange(len(rows))
    if len(rows) > MAX_ROWS:
        fit_rows = np.sort(np.random.default_rng(SEED).permutation(len(rows))[:MAX_ROWS])
    _, comp, error = fit_nmf(rows[fit_rows], k)
    # Strength of every concept at every position of the sample (for top images and "where").
    from sklearn.decomposition import non_negative_factorization

    coef, _, _ = non_negative_factorization(rows.astype(np.float64), H=comp.astype(np.float64),
                                            n_components=k, update_H=False, solver="cd", max_iter=200,
                                            tol=1e-4)
    per_image = coef.reshape(s, h, w, k).transpose(0, 3, 1, 2)  # S×k×H×W
    score = per_image.max(axis=(2, 3))  # S×k
    top, names = [], []
    labels = np.asarray(labels)
    for j in range(k):
        order = np.argsort(-score[:, j], kind="stable")
        top.append(sample[order[:TOP_IMAGES]])
        pool = order[:100]
        counts = np.bincount(labels[sample[pool]], minlength=len(classes))
        names.append(suggest_name(classes, counts, where_it_fires(per_image[order[:TOP_IMAGES], j])))
    return Concepts(layer, comp, error, np.asarray(top, dtype=np.int64), tuple(names),
                    time.perf_counter() - started, int(s))


def cached_concepts(model, images: np.ndarray, labels: np.ndarray, classes: Sequence[str], meta: dict,
                    layer: str, k: int, checkpoint_sha: str, cache_dir: Path) -> Concepts:
    """:func:`compute_concepts` once per checkpoint, data set, layer and k; later read from disk."""
    if not K_RANGE[0] <= int(k) <= K_RANGE[1]:
        raise ValueError(f"k must be {K_RANGE[0]}–{K_RANGE[1]}, got {k}")
    safe = layer.replace(".", "_")
    path = Path(cache_dir) / f"nmf-{checkpoint_sha[:16]}-{data_digest(images, labels)}-{safe}-k{int(k)}.npz"
    cached = _try_load(path, ("components", "rel_error", "top", "names", "fit_images"))
    if cached is not None:
        return Concepts(layer, cached["components"], float(cached["rel_error"]), cached["top"],
                        tuple(str(n) for n in cached["names"]), 0.0, int(cached["fit_images"]))
    sample = fit_sample(len(images))
    maps = layer_outputs(model, images[sample], meta, layer)
    concepts = compute_concepts(layer, maps, labels, classes, int(k), sample)
    try:
        _atomic_savez(path, components=concepts.components, rel_error=np.float64(concepts.rel_error),
                      top=concepts.top, names=np.array(concepts.names),
                      fit_images=np.int64(concepts.fit_images))
    except OSError:
        pass
    return concepts
