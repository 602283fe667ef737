"""What the home page needs to know about a checkpoint, without importing torch.

Importing torch takes about 2.5 s here, as long as everything else in the dashboard's first
render together. The home page shows the model card, the confusion matrix and the test-image
browser: all of it comes from the checkpoint's metadata, its layer table and the test-set
predictions, which are cached on disk. So the first load of a checkpoint (with torch) writes a
*card* beside the prediction cache: its metadata and layer table, keyed by the SHA-256 of the
checkpoint file. Later launches read the card and never import torch for the home page.

A card only exists for a file that :func:`model.checkpoint.load_checkpoint` accepted, and it is
keyed by the file's content: a changed, truncated or foreign checkpoint has another hash, so it
is loaded (and refused) with torch as before. An unreadable or out-of-date card is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from data.files import atomic_write

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent / "checkpoint.pt"
CARD_FORMAT = 1  # bump when the card's content or the layer table changes


class CheckpointError(Exception):
    """The file is not a usable checkpoint of this project's network."""


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def history_path(checkpoint: str | os.PathLike) -> Path:
    """The training CSV that belongs to a checkpoint file."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.stem + "_history.csv")


@dataclass(frozen=True)
class CheckpointCard:
    path: Path
    sha256: str
    meta: dict
    architecture: tuple[dict, ...]  # rows of explain.home.architecture_table

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.meta["classes"])


def card_file(cache_dir: str | os.PathLike, sha256: str) -> Path:
    return Path(cache_dir) / f"card-{sha256[:16]}.json"


def read_card(path: str | os.PathLike, cache_dir: str | os.PathLike) -> CheckpointCard | None:
    """The card of the checkpoint at ``path`` if one was written for exactly this file, else None
    (also for a missing checkpoint: the caller's full load explains that)."""
    path = Path(path)
    try:
        sha = file_sha256(path)
        data = json.loads(card_file(cache_dir, sha).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    try:
        if data["format"] != CARD_FORMAT or data["sha256"] != sha:
            return None
        meta, rows = data["meta"], data["architecture"]
        if not isinstance(meta, dict) or not isinstance(meta.get("classes"), list) or not isinstance(rows, list):
            return None
        return CheckpointCard(path=path, sha256=sha, meta=meta, architecture=tuple(dict(r) for r in rows))
    except (KeyError, TypeError, ValueError):
        return None


def write_card(path: str | os.PathLike, sha256: str, meta: dict, architecture: list[dict],
               cache_dir: str | os.PathLike) -> CheckpointCard:
    """Write the card of a checkpoint that has just been loaded and validated; return it.
    A read-only cache directory only costs the next launch its speed."""
    try:
        text = json.dumps({"format": CARD_FORMAT, "sha256": sha256, "meta": meta,
                           "architecture": list(architecture)})
    except (TypeError, ValueError):  # metadata JSON cannot hold: no card, torch every launch
        return CheckpointCard(Path(path), sha256, dict(meta), tuple(architecture))
    target = card_file(cache_dir, sha256)
    try:
        with atomic_write(target) as tmp:
            tmp.write_text(text, encoding="utf-8")
    except OSError:
        pass
    data = json.loads(text)  # the card in memory is exactly what the next launch will read
    return CheckpointCard(Path(path), sha256, data["meta"], tuple(data["architecture"]))
