"""Whole-test-set results, computed once per checkpoint and kept on disk.

* predictions: logits for all test images (the confusion matrix, the browser, the gallery);
* channel scores: each image's maximum activation per channel of one layer (top-k
  "dataset examples" that help to name a channel).

Files are keyed by the checkpoint's SHA-256 and a digest of the images, so a new
checkpoint or another data set never reads stale numbers, and a second launch reads them
in well under a second.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from data.files import atomic_write, data_digest
from model.inference import predict_logits, softmax, to_tensor

Progress = Callable[[int, int], None]


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


def stored_predictions(images: np.ndarray, labels: np.ndarray, indices: np.ndarray, checkpoint_sha: str,
                       cache_dir: Path, shipped: Path | None = None) -> Predictions | None:
    """The test-set predictions from the disk cache, else from the ``shipped`` file kept beside the
    checkpoint if it is of this checkpoint and these images (:func:`keep_predictions`; the cache has
    them afterwards), else None. Reads finished files only, so it never waits for a computation."""
    path, digest = _predictions_file(cache_dir, checkpoint_sha, images, labels)
    cached = _try_load(path, ("logits",))
    if cached is not None and len(cached["logits"]) == len(labels):
        return Predictions(cached["logits"], labels, indices)
    kept = _try_load(shipped, ("logits", "checkpoint_sha256", "data_digest")) if shipped else None
    if not (kept is not None and str(kept["checkpoint_sha256"]) == checkpoint_sha
            and str(kept["data_digest"]) == digest and kept["logits"].ndim == 2 and len(kept["logits"]) == len(labels)):
        return None
    _keep_in_cache(path, kept["logits"])
    return Predictions(kept["logits"], labels, indices)


def _predictions_file(cache_dir: Path, checkpoint_sha: str, images: np.ndarray, labels: np.ndarray) -> tuple[Path, str]:
    """Where the cache keeps the predictions of this checkpoint on these images, and the images' digest."""
    digest = data_digest(images, labels)
    return Path(cache_dir) / f"predictions-{checkpoint_sha[:16]}-{digest}.npz", digest


def _keep_in_cache(path: Path, logits: np.ndarray) -> None:
    try:
        _atomic_savez(path, logits=logits)
    except OSError:
        pass  # read-only location: still correct, just recomputed next launch


def predictions(model, images: np.ndarray, labels: np.ndarray, indices: np.ndarray, meta: dict,
                checkpoint_sha: str, cache_dir: Path, progress: Progress | None = None,
                shipped: Path | None = None) -> Predictions:
    """The test-set predictions: :func:`stored_predictions`, else computed with ``model``: a network or
    a function that returns one, called only then (so a warm cache needs neither the network nor
    torch). Either way the cache has them afterwards."""
    stored = stored_predictions(images, labels, indices, checkpoint_sha, cache_dir, shipped)
    if stored is not None:
        return stored
    if not hasattr(model, "forward"):
        model = model()
    logits = predict_logits(model, images, meta["mean"], meta["std"], batch_size=250, progress=progress)
    _keep_in_cache(_predictions_file(cache_dir, checkpoint_sha, images, labels)[0], logits)
    return Predictions(logits, labels, indices)


# Images per batch of a channel-score pass. A batch's activations are the server's largest arrays:
# the warm-up's pass over all layers peaked at 820 MB with 500 images, 722 MB with 100, and took
# 13.6 and 12.7 s (a fresh process each, the shipped checkpoint, one torch thread).
SCORE_BATCH = 100


def channel_max_scores(model, images: np.ndarray, meta: dict, layer: str, batch_size: int = SCORE_BATCH,
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


def _scores_path(cache_dir: Path, checkpoint_sha: str, digest: str, layer: str) -> Path:
    return Path(cache_dir) / f"channelmax-{checkpoint_sha[:16]}-{digest}-{layer.replace('.', '_')}.npz"


def cached_channel_scores(model, images: np.ndarray, labels: np.ndarray, meta: dict, layer: str,
                          checkpoint_sha: str, cache_dir: Path,
                          progress: Progress | None = None) -> np.ndarray:
    path = _scores_path(cache_dir, checkpoint_sha, data_digest(images, labels), layer)
    cached = _try_load(path, ("scores",))
    if cached is not None and len(cached["scores"]) == len(images):
        return cached["scores"]
    scores = channel_max_scores(model, images, meta, layer, progress=progress)
    try:
        _atomic_savez(path, scores=scores)
    except OSError:
        pass
    return scores


def warm_channel_scores(model, images: np.ndarray, labels: np.ndarray, meta: dict, layers: list[str],
                        checkpoint_sha: str, cache_dir: Path, batch_size: int = SCORE_BATCH,
                        progress: Progress | None = None) -> list[str]:
    """Fill :func:`cached_channel_scores`'s disk cache for every layer of ``layers`` that is not
    there yet, in ONE pass over ``images`` (each batch runs the network once, up to the deepest
    missing layer, and keeps every missing layer's per-channel maximum), instead of one pass per
    layer. The same modules and batches as :func:`channel_max_scores`, so the same numbers.
    ``model`` may be a function returning the network (called only if something is missing).
    Returns the layers it computed."""
    import torch

    from explain.activations import layers as all_layers

    digest = data_digest(images, labels)
    missing = [name for name in layers
               if _try_load(_scores_path(cache_dir, checkpoint_sha, digest, name), ("scores",)) is None]
    if not missing:
        return []
    if not hasattr(model, "forward"):
        model = model()
    chain, wanted, wanted_names = [], set(missing), set(missing)
    for info in all_layers(model):
        chain.append((info.name, info.module))
        wanted.discard(info.name)
        if not wanted:
            break
    if wanted:
        raise ValueError(f"unknown layer(s): {', '.join(sorted(wanted))}")
    # One N×C array per layer, filled in place: many small arrays kept between the big
    # short-lived activations fragment the heap (RSS grew ~190 MB per 500 images that way).
    out: dict[str, np.ndarray] = {}
    n = len(images)
    with torch.inference_mode():
        for start in range(0, n, batch_size):
            h = to_tensor(images[start:start + batch_size], meta["mean"], meta["std"])
            for name, module in chain:
                h = module(h)
                if name in wanted_names:
                    if name not in out:
                        out[name] = np.empty((n, h.shape[1]), dtype=np.float32)
                    out[name][start:start + len(h)] = h.amax(dim=(2, 3)).float().numpy()
            if progress is not None:
                progress(min(start + batch_size, n), n)
    for name, scores in out.items():
        try:
            _atomic_savez(_scores_path(cache_dir, checkpoint_sha, digest, name), scores=scores)
        except OSError:
            pass  # read-only location: the page computes its layer when it needs it
    return missing


def top_k(scores: np.ndarray, channel: int, k: int) -> np.ndarray:
    """Positions of the ``k`` largest ``scores[:, channel]``, largest first (ties: lower position)."""
    negated = -np.asarray(scores)[:, channel]
    k = max(0, min(int(k), len(negated)))
    if k == 0:
        return np.arange(0)
    # Only the values at or above the k-th largest are sorted (a partial sort: 0.5 → 0.02 ms over the
    # 10,000 test images; the Semantic map asks for nine columns a click); NaN never counts as large.
    kth = np.partition(negated, k - 1)[k - 1]
    if np.isnan(kth):
        return np.argsort(negated, kind="stable")[:k]
    candidates = np.flatnonzero(negated <= kth)
    return candidates[np.argsort(negated[candidates], kind="stable")][:k]
