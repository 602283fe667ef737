"""Batched inference on uint8 image arrays, shared by evaluation, training and the dashboard.

torch is imported inside the functions: the home page uses :func:`softmax` on cached logits
and must not pay torch's 2.5 s import for it (see model/card.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from data.files import atomic_write, data_digest

if TYPE_CHECKING:
    import torch


def to_tensor(images: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """uint8 N×H×W×3 (or one H×W×3 image) → normalised float N×3×H×W."""
    import torch

    arr = np.asarray(images)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(f"images must be N×H×W×3 uint8, got shape {arr.shape}")
    x = torch.from_numpy(np.ascontiguousarray(arr)).permute(0, 3, 1, 2).float().div_(255.0)
    m = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    return (x - m) / s


def predict_logits(
    model: torch.nn.Module,
    images: np.ndarray,
    mean: Sequence[float],
    std: Sequence[float],
    batch_size: int = 250,  # fastest on 2 cores (python -m bench: 250 beat 500 and 1000)
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Logits (float32 N×classes) for uint8 images, in batches, model left as it was."""
    import torch

    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            out = []
            n = len(images)
            for start in range(0, n, batch_size):
                x = to_tensor(images[start:start + batch_size], mean, std)
                out.append(model(x.contiguous(memory_format=torch.channels_last)).float().numpy())
                if progress is not None:
                    progress(min(start + batch_size, n), n)
        if not out:
            return np.zeros((0, 0), dtype=np.float32)
        return np.concatenate(out)
    finally:
        model.train(was_training)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def shipped_predictions_path(checkpoint: str | Path) -> Path:
    """Where a checkpoint's test-set logits are kept beside it: ``model/checkpoint.pt`` →
    ``model/checkpoint.test_predictions.npz`` (:func:`keep_predictions` writes it)."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(f"{checkpoint.stem}.test_predictions.npz")


def keep_predictions(checkpoint: str | Path, checkpoint_sha: str, images: np.ndarray, labels: np.ndarray,
                     logits: np.ndarray) -> Path:
    """Keep ``logits`` (of these test images, by this checkpoint) beside the checkpoint, so a fresh
    install with the same test set starts with them instead of classifying 10,000 images (~4 s
    here) before its home page can draw. Stamped with the checkpoint's SHA-256 and the images'
    digest: :func:`explain.testset.predictions` uses the file only when both match."""
    path = shipped_predictions_path(checkpoint)
    with atomic_write(path, suffix=".npz") as tmp:
        np.savez(tmp, logits=np.asarray(logits, dtype=np.float32), checkpoint_sha256=np.array(checkpoint_sha),
                 data_digest=np.array(data_digest(images, labels)))
    return path
