"""Whole-test-set results, computed once per checkpoint and kept on disk.

* predictions: logits for all test images (the confusion matrix, the browser, the gallery);
* channel scores: each image's maximum activation per channel of one layer (top-k
  "dataset examples" that help to name a channel).

Files are keyed by the checkpoint's SHA-256 and a digest of the images, so a new
checkpoint or another data set never reads stale numbers, and a second launch reads them
in well under a second.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from data.files import atomic_write
from model.inference import predict_logits, softmax, to_tensor

Progress = Callable[[int, int], None]


def data_digest(images: np.ndarray, labels: np.ndarray) -> str:
    h = hashlib.sha1(np.ascontiguousarray(images).data)
    h.update(np.ascontiguousarray(labels).data)
    return h.hexdigest()[:12]


def _atomic_savez(path: Path, **arrays) -> None:
    with atomic_write(path, suffix=".npz") as tmp:
        np.savez(tmp, **arrays)


def _try_load(path: Path, keys: tuple[str, ...]) -> dict | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in keys}
    except (OSError, KeyError, ValueError):
        return None  # broken cache file: recompute


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)  # shared by every session: nobody may change it in place
    return array


@dataclass(frozen=True)
class Predictions:
    logits: np.ndarray  # float32 N×K
    labels: np.ndarray  # int64 N (true class)
    indices: np.ndarray  # int64 N (official test index)

    # Computed once per object (pages read them dozens of times per rerun; the object is
    # shared through st.cache_resource, and cached_property writes past the frozen dataclass).
    @cached_property
    def probabilities(self) -> np.ndarray:
        return _read_only(softmax(self.logits))

    @cached_property
    def predicted(self) -> np.ndarray:
        return _read_only(self.logits.argmax(axis=1))

    @cached_property
    def confidence(self) -> np.ndarray:
        return _read_only(self.probabilities.max(axis=1))

    @cached_property
    def correct(self) -> np.ndarray:
        return _read_only(self.predicted == self.labels)

    def confusion_matrix(self, num_classes: int) -> np.ndarray:
        """K×K counts, rows = true class, columns = predicted class."""
        flat = self.labels * num_classes + self.predicted
        return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def predictions(model, images: np.ndarray, labels: np.ndarray, indices: np.ndarray, meta: dict,
                checkpoint_sha: str, cache_dir: Path, progress: Progress | None = None) -> Predictions:
    """The test-set predictions from the disk cache, or computed (and cached) with ``model``: a
    network or a function that returns one, called only on a cache miss (so a warm cache needs
    neither the network nor torch)."""
    path = Path(cache_dir) / f"predictions-{checkpoint_sha[:16]}-{data_digest(images, labels)}.npz"
    cached = _try_load(path, ("logits",))
    if cached is not None and len(cached["logits"]) == len(labels):
        return Predictions(cached["logits"], labels, indices)
    if not hasattr(model, "forward"):
        model = model()
    logits = predict_logits(model, images, meta["mean"], meta["std"], batch_size=250, progress=progress)
    try:
        _atomic_savez(path, logits=logits)
    except OSError:
        pass  # read-only location: still correct, just recomputed next launch
    return Predictions(logits, labels, indices)


def channel_max_scores(model, images: np.ndarray, meta: dict, layer: str, batch_size: int = 500,
                       progress: Progress | None = None) -> np.ndarray:
    """N×C: for each image, the maximum over positions of each channel at ``layer``."""
    import torch

    from explain.activations import modules_up_to

    chain = modules_up_to(model, layer)
    out = []
    n = len(images)
    with torch.inference_mode():
        for start in range(0, n, batch_size):
            h = to_tensor(images[start:start + batch_size], meta["mean"], meta["std"])
            for module in chain:
                h = module(h)
            out.append(h.amax(dim=(2, 3)).float().numpy())
            if progress is not None:
                progress(min(start + batch_size, n), n)
    return np.concatenate(out)


def cached_channel_scores(model, images: np.ndarray, labels: np.ndarray, meta: dict, layer: str,
                          checkpoint_sha: str, cache_dir: Path,
                          progress: Progress | None = None) -> np.ndarray:
    safe = layer.replace(".", "_")
    path = Path(cache_dir) / f"channelmax-{checkpoint_sha[:16]}-{data_digest(images, labels)}-{safe}.npz"
    cached = _try_load(path, ("scores",))
    if cached is not None and len(cached["scores"]) == len(images):
        return cached["scores"]
    scores = channel_max_scores(model, images, meta, layer, progress=progress)
    try:
        _atomic_savez(path, scores=scores)
    except OSError:
        pass
    return scores


def top_k(scores: np.ndarray, channel: int, k: int) -> np.ndarray:
    """Positions of the ``k`` largest ``scores[:, channel]``, largest first (ties: lower position)."""
    column = np.asarray(scores)[:, channel]
    k = max(0, min(int(k), len(column)))
    return np.argsort(-column, kind="stable")[:k]
