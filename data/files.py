"""Where the app keeps what it computes, and how it writes a file so no reader sees half of it."""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CACHE_ENV = "CIFAR10_CACHE"  # the one setting for every cache (decoded images, predictions, cards)


def cache_dir() -> Path:
    """The cache folder: ``$CIFAR10_CACHE`` if set, else ``data/.cache`` in the project.
    Read at every call, so a test or a launcher can point it elsewhere at any time."""
    return Path(os.environ.get(CACHE_ENV) or PROJECT_ROOT / "data" / ".cache")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write to; when the block ends without an error
    it replaces ``path`` in one step (``os.replace``), so a reader sees the old file or the new
    one, never half of one. On an error the temporary file is removed and the error propagates.

    ``suffix`` ends the temporary name, for writers that add their own (``np.savez``: ".npz").
    The name holds the process and thread, so two writers never share a temporary file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp{suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def data_digest(images, labels) -> str:
    """12 hex digits that identify a data set's images and labels (numpy arrays, in their order):
    the key of every file computed from them."""
    import numpy as np

    h = hashlib.sha1(np.ascontiguousarray(images).data)
    h.update(np.ascontiguousarray(labels).data)
    return h.hexdigest()[:12]
