"""Checkpoint I/O: a plain dict that ``torch.load(path, weights_only=True)`` reads.

Layout: ``{"format": FORMAT, "meta": {...plain types...}, "state_dict": {...tensors...}}``.
Loading never runs code from the file (``weights_only=True``) and turns every way a file
can be wrong into :class:`CheckpointError` with a one-line message.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from data.files import atomic_write
from locales import Phrase
from model.card import DEFAULT_CHECKPOINT, CheckpointError, file_sha256
from model.network import ARCHITECTURE, CIFAR10_CLASSES, LectureCNN, build_model

FORMAT = "cifar10-explainer-checkpoint/1"
REQUIRED_META = ("architecture", "classes", "mean", "std")


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
    with atomic_write(path) as tmp:
        torch.save({"format": FORMAT, "meta": dict(meta), "state_dict": state}, tmp)


def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _misfit(expected: dict, state: dict) -> str:
    """What differs between the network's tensors and the file's, in a few words ("" if nothing)."""
    if not all(isinstance(v, torch.Tensor) for v in state.values()):
        return "some weights are not tensors"
    missing = [k for k in expected if k not in state]
    extra = [k for k in state if k not in expected]
    shapes = [k for k in expected if k in state and state[k].shape != expected[k].shape]
    parts = []
    if missing:
        parts.append(f"{len(missing)} of the network's {len(expected)} tensors are missing "
                     f"(e.g. {missing[0]})")
    if extra:
        parts.append(f"{len(extra)} tensors are not part of it (e.g. {extra[0]})")
    if shapes:
        k = shapes[0]
        parts.append(f"{len(shapes)} have another shape (e.g. {k}: "
                     f"{'×'.join(map(str, state[k].shape))} in the file, "
                     f"{'×'.join(map(str, expected[k].shape))} in the network)")
    return "; ".join(parts)


def _unreadable(path: Path, exc: Exception) -> Phrase:
    """One line saying why ``torch.load(weights_only=True)`` refused the file."""
    text = str(exc)
    if "GLOBAL" in text:  # the weights-only unpickler met a class or function it will not import
        return Phrase("{path} is not a readable PyTorch checkpoint: it holds Python objects other than tensors "
                      "and plain values (such objects can run code when loaded), so it was refused without "
                      "running anything", path=path)
    if "zip archive" in text or "central directory" in text:
        why = Phrase("the file is truncated or damaged (its zip archive is incomplete)")
    else:
        why = Phrase("the file is not a saved PyTorch checkpoint (damaged, or another kind of file)")
    return Phrase("{path} is not a readable PyTorch checkpoint: {why} [{kind}]", path=path, why=why,
                  kind=type(exc).__name__)


def load_checkpoint(path: str | os.PathLike = DEFAULT_CHECKPOINT) -> Checkpoint:
    """Load and validate; raise :class:`CheckpointError` with a one-line reason."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(Phrase("checkpoint not found: {path}", path=path))
    if not path.is_file():
        raise CheckpointError(Phrase("checkpoint is not a file: {path}", path=path))
    if path.stat().st_size == 0:
        raise CheckpointError(Phrase("checkpoint is empty (0 bytes): {path}", path=path))
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, text, random bytes, a pickle with code in it
        raise CheckpointError(_unreadable(path, exc)) from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise CheckpointError(Phrase("{path} is not a checkpoint of this project (expected format {format}); train "
                                     "one with: python -m model.train", path=path, format=repr(FORMAT)))
    meta, state = blob.get("meta"), blob.get("state_dict")
    if not isinstance(meta, dict) or not isinstance(state, dict):
        raise CheckpointError(Phrase("{path} lacks its metadata or weights", path=path))
    missing = [k for k in REQUIRED_META if k not in meta]
    if missing:
        raise CheckpointError(Phrase("{path} metadata lacks {keys}", path=path, keys=", ".join(missing)))
    if meta["architecture"] != ARCHITECTURE:
        raise CheckpointError(Phrase("{path} holds architecture {found}; this dashboard explains {expected}",
                                     path=path, found=repr(meta["architecture"]), expected=repr(ARCHITECTURE)))
    classes = meta["classes"]
    if (not isinstance(classes, (list, tuple)) or not all(isinstance(c, str) for c in classes)
            or len(classes) < 2):
        raise CheckpointError(Phrase("{path} metadata has no valid class list", path=path))
    if len(set(classes)) != len(classes):
        raise CheckpointError(Phrase("{path} metadata lists a class twice: {classes}", path=path,
                                     classes=", ".join(classes)))
    for key in ("mean", "std"):
        v = meta[key]
        if (not isinstance(v, (list, tuple)) or len(v) != 3
                or not all(isinstance(x, (int, float)) and math.isfinite(x) for x in v)):
            raise CheckpointError(Phrase("{path} metadata {key} must be three numbers (R, G, B), not {value}",
                                         path=path, key=repr(key), value=_short(v)))
    if any(x <= 0 for x in meta["std"]):
        raise CheckpointError(Phrase("{path} metadata 'std' must be positive, not {value}", path=path,
                                     value=repr(meta["std"])))

    outputs = state.get("classifier.weight")
    if isinstance(outputs, torch.Tensor) and outputs.dim() == 2 and outputs.shape[0] != len(classes):
        raise CheckpointError(Phrase("{path} weights do not fit its metadata: the metadata lists {n} classes but "
                                     "the classifier has {outputs} outputs", path=path, n=len(classes),
                                     outputs=outputs.shape[0]))
    model = build_model(num_classes=len(classes))
    misfit = _misfit(model.state_dict(), state)
    if misfit:
        raise CheckpointError(Phrase("{path} weights do not fit {architecture} with {n} classes: {misfit}; the file "
                                     "was saved from a different network", path=path, architecture=ARCHITECTURE,
                                     n=len(classes), misfit=misfit))
    try:
        model.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError, ValueError) as exc:  # pragma: no cover - _misfit catches these
        first = str(exc).strip().splitlines()
        detail = " ".join(line.strip() for line in first[:2])[:200]
        raise CheckpointError(
            f"{path} weights do not fit {ARCHITECTURE} with {len(classes)} classes ({detail})"
        ) from None
    if not all(torch.isfinite(t).all() for t in state.values() if t.is_floating_point()):
        raise CheckpointError(Phrase("{path} weights contain NaN or infinite values (training diverged?)",
                                     path=path))
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return Checkpoint(model=model, meta=dict(meta), path=path, sha256=file_sha256(path))


__all__ = ["CIFAR10_CLASSES", "Checkpoint", "CheckpointError", "DEFAULT_CHECKPOINT",
           "FORMAT", "file_sha256", "load_checkpoint", "save_checkpoint"]
