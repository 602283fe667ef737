"""Checkpoint I/O: a plain dict that ``torch.load(path, weights_only=True)`` reads.

Layout: ``{"format": FORMAT, "meta": {...plain types...}, "state_dict": {...tensors...}}``.
Loading never runs code from the file (``weights_only=True``) and turns every way a file
can be wrong into :class:`CheckpointError` with a one-line message.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from model.network import ARCHITECTURE, CIFAR10_CLASSES, LectureCNN, build_model

FORMAT = "cifar10-explainer-checkpoint/1"
DEFAULT_CHECKPOINT = Path(__file__).resolve().parent / "checkpoint.pt"
REQUIRED_META = ("architecture", "classes", "mean", "std")


class CheckpointError(Exception):
    """The file is not a usable checkpoint of this project's network."""


@dataclass(frozen=True)
class Checkpoint:
    model: LectureCNN  # in eval mode
    meta: dict
    path: Path
    sha256: str

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.meta["classes"])


def save_checkpoint(path: str | os.PathLike, model: torch.nn.Module, meta: dict) -> None:
    """Write atomically, so a reader never sees half a file."""
    missing = [k for k in REQUIRED_META if k not in meta]
    if missing:
        raise ValueError(f"meta lacks {missing}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": FORMAT, "meta": dict(meta), "state_dict": state}, tmp)
    os.replace(tmp, path)


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_checkpoint(path: str | os.PathLike = DEFAULT_CHECKPOINT) -> Checkpoint:
    """Load and validate; raise :class:`CheckpointError` with a one-line reason."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint not found: {path}")
    if not path.is_file():
        raise CheckpointError(f"checkpoint is not a file: {path}")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint is empty (0 bytes): {path}")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, text, random bytes, a pickle with code in it
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"{path} is not a readable PyTorch checkpoint (weights-only load refused it: {reason})"
        ) from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise CheckpointError(
            f"{path} is not a checkpoint of this project (expected format {FORMAT!r}); "
            f"train one with: python -m model.train"
        )
    meta, state = blob.get("meta"), blob.get("state_dict")
    if not isinstance(meta, dict) or not isinstance(state, dict):
        raise CheckpointError(f"{path} lacks its metadata or weights")
    missing = [k for k in REQUIRED_META if k not in meta]
    if missing:
        raise CheckpointError(f"{path} metadata lacks {', '.join(missing)}")
    if meta["architecture"] != ARCHITECTURE:
        raise CheckpointError(
            f"{path} holds architecture {meta['architecture']!r}; this dashboard explains {ARCHITECTURE!r}"
        )
    classes = meta["classes"]
    if (not isinstance(classes, (list, tuple)) or not all(isinstance(c, str) for c in classes)
            or len(classes) < 2):
        raise CheckpointError(f"{path} metadata has no valid class list")
    for key in ("mean", "std"):
        v = meta[key]
        if (not isinstance(v, (list, tuple)) or len(v) != 3
                or not all(isinstance(x, (int, float)) for x in v)):
            raise CheckpointError(f"{path} metadata {key!r} must be three numbers, not {v!r}")
    if any(x <= 0 for x in meta["std"]):
        raise CheckpointError(f"{path} metadata 'std' must be positive, not {meta['std']!r}")

    model = build_model(num_classes=len(classes))
    try:
        model.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError, ValueError) as exc:
        first = str(exc).strip().splitlines()
        detail = " ".join(line.strip() for line in first[:2])[:200]
        raise CheckpointError(
            f"{path} weights do not fit {ARCHITECTURE} with {len(classes)} classes ({detail})"
        ) from None
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return Checkpoint(model=model, meta=dict(meta), path=path, sha256=file_sha256(path))


__all__ = ["CIFAR10_CLASSES", "Checkpoint", "CheckpointError", "DEFAULT_CHECKPOINT",
           "FORMAT", "file_sha256", "load_checkpoint", "save_checkpoint"]
