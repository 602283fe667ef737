"""Load CIFAR-10 as uint8 arrays from either source the project supports.

(a) the official archive as ``torchvision.datasets.CIFAR10`` stores it
    (``<root>/cifar-10-batches-py``), downloaded into ``<root>`` by :mod:`data.download`
    when ``download=True`` (or from the dashboard's first-launch page);
(b) an image-folder tree ``<root>/{train,test}/<class>/*.png|jpg`` such as
    ``../shared/cifar10``. Numeric file names are kept as the image's official index,
    so test image 1234 is the same picture in both sources.

Decoding 60,000 PNGs takes a while, so each split is decoded once and cached as a
``.npz`` under ``data/.cache`` (or ``$CIFAR10_CACHE``), keyed by the root and the files'
names, sizes and modification times; the archive's splits are cached the same way. Nothing
here imports Streamlit or torch at module import time; torchvision is imported only to read
source (a) the first time.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from data.files import PROJECT_ROOT, atomic_write, cache_dir
from locales import Phrase

CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)
SPLITS = ("train", "test")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
IMAGE_SIZE = (32, 32)

ARCHIVE_DIR = "cifar-10-batches-py"
_CACHE_VERSION = "1"


class DatasetError(Exception):
    """The data set is missing or unusable; the message says what was looked for and the fix."""


class DatasetNotFound(DatasetError):
    """There is no data set at all where we looked (the dashboard then offers to download it),
    as opposed to one that is there but broken."""


@dataclass(frozen=True)
class CifarSplit:
    """One split as arrays. ``images[i]`` is official image ``indices[i]``."""

    images: np.ndarray  # uint8, N×32×32×3 (RGB)
    labels: np.ndarray  # int64, N
    indices: np.ndarray  # int64, N: official index (file name) of each image
    classes: tuple[str, ...] = CIFAR10_CLASSES
    source: str = ""
    # Files that could not be used, each "path: reason". Shown as a warning, never fatal
    # unless nothing usable is left.
    skipped: tuple[str, ...] = field(default_factory=tuple)

    def __len__(self) -> int:
        return len(self.labels)

    def position_of(self, index: int) -> int | None:
        """Array position of the image with official index ``index`` (None if absent)."""
        pos = int(np.searchsorted(self.indices, index))
        if pos < len(self.indices) and self.indices[pos] == index:
            return pos
        return None


def default_root() -> Path:
    """Where to look when neither ``--data`` nor ``$CIFAR10_ROOT`` says.

    The shared image folder beside the checkout if it is there, else the project's own
    ``data/`` folder, where the official archive is downloaded on first use.
    """
    shared = PROJECT_ROOT.parent / "shared" / "cifar10"
    if shared.is_dir():
        return shared
    return PROJECT_ROOT / "data"


def resolve_root(cli_value: str | os.PathLike | None = None) -> Path:
    """``--data`` beats ``$CIFAR10_ROOT`` beats :func:`default_root`."""
    if cli_value:
        return Path(cli_value).expanduser()
    env = os.environ.get("CIFAR10_ROOT")
    if env:
        return Path(env).expanduser()
    return default_root()


def _how_to_fix(root: Path) -> Phrase:
    return Phrase("Point --data or the CIFAR10_ROOT environment variable at a folder holding either "
                  "train/<class>/*.png and test/<class>/*.png (like ../shared/cifar10) or the official archive "
                  "folder {folder}/ (looked in {root}).", folder=ARCHIVE_DIR, root=root.resolve())


def load_split(
    root: str | os.PathLike,
    split: str,
    *,
    download: bool = False,
    use_cache: bool = True,
) -> CifarSplit:
    """Load ``split`` ("train" or "test") from ``root``; raise :class:`DatasetError` if unusable."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    root = Path(root)
    if (root / split).is_dir():
        return _load_image_folder(root, split, use_cache=use_cache)
    if download and not (root / ARCHIVE_DIR).is_dir():
        from data.download import download_cifar10, print_progress

        download_cifar10(root, progress=print_progress)  # its DownloadError is a DatasetError
    if (root / ARCHIVE_DIR).is_dir():
        return _load_archive(root, split, use_cache=use_cache)
    if not root.exists():
        raise DatasetNotFound(Phrase("CIFAR-10 data set not found: {root} does not exist. {fix}", root=root,
                                     fix=_how_to_fix(root)))
    raise DatasetNotFound(Phrase("CIFAR-10 data set not found in {root}: no {split}/ folder and no {folder}/. {fix}",
                                 root=root, split=split, folder=ARCHIVE_DIR, fix=_how_to_fix(root)))


# --- (a) the official archive --------------------------------------------------------------

def _load_archive(root: Path, split: str, *, use_cache: bool = True) -> CifarSplit:
    """The split from the official archive, read by torchvision once and then from the cache
    folder: torchvision's import (its operators and Triton, ~160 MB) would otherwise stay in the
    dashboard's server for its whole life on every launch (the first-launch download gives this
    source). The cache key is each archive file's name, size and modification time."""
    folder = root / ARCHIVE_DIR
    key = hashlib.sha1(f"{_CACHE_VERSION}|{folder.resolve()}|{split}".encode())
    with os.scandir(folder) as entries:
        for e in sorted(entries, key=lambda e: e.name):
            st = e.stat()
            key.update(f"|{e.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    cache_path = cache_dir() / f"cifar10-archive-{split}-{key.hexdigest()[:16]}.npz"
    cached = _read_cache(cache_path, f"archive:{folder}") if use_cache else None
    if cached is not None:
        return cached
    split_data = _read_archive(root, split)
    if use_cache:
        _write_cache(cache_path, split_data)
    return split_data


def _read_archive(root: Path, split: str) -> CifarSplit:
    try:
        from torchvision.datasets import CIFAR10
    except ImportError as exc:  # pragma: no cover - torchvision is a requirement
        raise DatasetError(f"torchvision is needed to read the official archive: {exc}") from exc
    try:
        ds = CIFAR10(str(root), train=(split == "train"), download=False)
    except Exception as exc:  # corrupt archive folder, failed integrity check
        raise DatasetError(
            f"Could not read the official CIFAR-10 archive in {root} "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no detail'}). "
            f"Delete the folder {root / ARCHIVE_DIR} and start again to download it afresh, or "
            + str(_how_to_fix(root))[0].lower() + str(_how_to_fix(root))[1:]
        ) from exc
    images = np.ascontiguousarray(ds.data, dtype=np.uint8)
    labels = np.asarray(ds.targets, dtype=np.int64)
    return CifarSplit(images, labels, np.arange(len(labels), dtype=np.int64),
                      tuple(ds.classes), source=f"archive:{root / ARCHIVE_DIR}")


# --- (b) image folders ---------------------------------------------------------------------

def _list_files(split_dir: Path) -> tuple[list[tuple[int, Path]], str]:
    """(label, path) of every image file, sorted by name within each class, and a cache key
    made of each file's name, size and modification time.

    One ``os.scandir`` pass per class folder: with Path.iterdir and Path.stat, listing the
    10,000 test files took ~0.25 s of every dashboard start."""
    missing = [c for c in CIFAR10_CLASSES if not (split_dir / c).is_dir()]
    if missing:
        raise DatasetError(
            f"{split_dir} has no folder for class(es) {', '.join(missing)}; CIFAR-10 needs all ten "
            f"({', '.join(CIFAR10_CLASSES)}). " + str(_how_to_fix(split_dir.parent))
        )
    files = []
    key = hashlib.sha1(f"{_CACHE_VERSION}|{split_dir.resolve()}".encode())
    for label, name in enumerate(CIFAR10_CLASSES):
        class_dir = split_dir / name
        with os.scandir(class_dir) as entries:
            # Folders and broken links named like images are kept here so that _decode reports
            # them instead of leaving them out without a word.
            found = sorted((e for e in entries if os.path.splitext(e.name)[1].lower() in IMAGE_SUFFIXES),
                           key=lambda e: e.name)
        for entry in found:
            try:
                st = entry.stat()
                stamp = f"{st.st_size}|{st.st_mtime_ns}"
            except OSError:  # a broken link: reported by _decode, still part of the key
                stamp = "unreadable"
            key.update(f"{label}|{entry.name}|{stamp}\n".encode())
            files.append((label, class_dir / entry.name))
    if not files:
        raise DatasetError(Phrase("{folder} has class folders but no .png or .jpg images. {fix}", folder=split_dir,
                                  fix=_how_to_fix(split_dir.parent)))
    return files, key.hexdigest()[:16]


def _decode(path: Path) -> np.ndarray | str:
    """The image as a 32×32×3 uint8 array, or a reason it cannot be used (said plainly)."""
    from PIL import Image, UnidentifiedImageError

    try:
        if path.is_dir():
            return "cannot be read: it is a folder, not an image file"
        if not path.exists():
            return "cannot be read: it is a link to a file that does not exist"
        if path.stat().st_size == 0:
            return "cannot be read: the file is empty (0 bytes)"
        with Image.open(path) as im:
            if im.size != IMAGE_SIZE:
                return f"is {im.size[0]}×{im.size[1]} pixels, CIFAR-10 images are 32×32"
            return np.asarray(im.convert("RGB"), dtype=np.uint8)
    except UnidentifiedImageError:
        return "cannot be read as an image: it is not a PNG or JPEG file"
    except PermissionError:
        return "cannot be read: permission denied"
    except (OSError, ValueError) as exc:
        detail = str(exc).strip().splitlines()[0][:80] if str(exc).strip() else type(exc).__name__
        return f"cannot be read as an image: the file is damaged ({detail})"


def _load_image_folder(root: Path, split: str, *, use_cache: bool) -> CifarSplit:
    split_dir = root / split
    files, key = _list_files(split_dir)
    cache_path = cache_dir() / f"cifar10-{split}-{key}.npz"
    source = f"folder:{split_dir}"
    cached = _read_cache(cache_path, source) if use_cache else None
    if cached is not None:
        return cached

    stems = [p.stem for _, p in files]
    numeric = all(s.isdigit() for s in stems) and len(set(stems)) == len(stems)
    with ThreadPoolExecutor(max_workers=4) as pool:
        decoded = list(pool.map(_decode, (p for _, p in files), chunksize=256))

    images, labels, indices, skipped = [], [], [], []
    for i, ((label, path), result) in enumerate(zip(files, decoded)):
        if isinstance(result, str):
            skipped.append(f"{path}: {result}")
            continue
        images.append(result)
        labels.append(label)
        indices.append(int(path.stem) if numeric else i)
    if not images:
        raise DatasetError(Phrase("None of the {n} image files in {folder} could be used (first: {first}). {fix}",
                                  n=len(files), folder=split_dir, first=skipped[0], fix=_how_to_fix(root)))

    order = np.argsort(np.asarray(indices), kind="stable")
    split_data = CifarSplit(
        np.stack(images)[order],
        np.asarray(labels, dtype=np.int64)[order],
        np.asarray(indices, dtype=np.int64)[order],
        CIFAR10_CLASSES,
        source=source,
        skipped=tuple(skipped),
    )
    if use_cache:
        _write_cache(cache_path, split_data)
    return split_data


def _read_cache(path: Path, source: str) -> CifarSplit | None:
    """A split cached by :func:`_write_cache`, or None if there is none or it is broken (then it is
    rebuilt). Files from before the archive was cached have no class names: CIFAR-10's."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            classes = tuple(str(c) for c in z["classes"]) if "classes" in z.files else CIFAR10_CLASSES
            return CifarSplit(z["images"], z["labels"], z["indices"], classes, source=source,
                              skipped=tuple(str(s) for s in z["skipped"]))
    except (OSError, KeyError, ValueError):
        return None


def _write_cache(path: Path, split: CifarSplit) -> None:
    try:
        with atomic_write(path, suffix=".npz") as tmp:
            np.savez(tmp, images=split.images, labels=split.labels, indices=split.indices,
                     skipped=np.asarray(split.skipped, dtype=str), classes=np.asarray(split.classes, dtype=str))
    except OSError:
        pass  # a read-only checkout still works, just without the cache
