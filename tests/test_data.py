import numpy as np
import pytest

from data.cifar10 import CIFAR10_CLASSES, DatasetError, load_split, resolve_root


def test_image_folder_keeps_file_names_as_indices(tiny_folder):
    root, pixels = tiny_folder
    split = load_split(root, "test")
    assert split.images.shape == (20, 32, 32, 3) and split.images.dtype == np.uint8
    assert split.indices.tolist() == list(range(20))  # sorted by official index
    for pos, index in enumerate(split.indices):
        assert np.array_equal(split.images[pos], pixels[("test", int(index))])
    # Files were numbered in reverse, so index 0 is the last truck, 19 the first airplane.
    assert split.labels[0] == CIFAR10_CLASSES.index("truck")
    assert split.labels[19] == CIFAR10_CLASSES.index("airplane")
    assert split.position_of(7) == 7 and split.position_of(999) is None


def test_image_folder_is_cached_after_first_decode(tiny_folder, tmp_path):
    root, _ = tiny_folder
    first = load_split(root, "train")
    cached = list((tmp_path / "cache").glob("cifar10-train-*.npz"))
    assert len(cached) == 1
    again = load_split(root, "train")
    assert np.array_equal(first.images, again.images)
    # A changed file changes the key, so stale pixels are never served.
    victim = next((root / "train" / "cat").iterdir())
    from PIL import Image
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(victim)
    changed = load_split(root, "train")
    pos = changed.position_of(int(victim.stem))
    assert changed.images[pos].max() == 0


def test_broken_files_are_skipped_and_reported(tiny_folder):
    root, _ = tiny_folder
    (root / "test" / "dog" / "00100.png").write_bytes(b"not a png")
    from PIL import Image
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(root / "test" / "dog" / "00101.png")
    split = load_split(root, "test")
    assert len(split) == 20
    assert len(split.skipped) == 2
    assert any("cannot be read" in s for s in split.skipped)
    assert any("40×40" in s for s in split.skipped)


@pytest.mark.parametrize("case, message", [
    ("missing", "does not exist"),
    ("empty", "no test/ folder"),
    ("class_missing", "no folder for class"),
    ("no_images", "no .png or .jpg"),
    ("all_broken", "could be used"),
])
def test_clear_messages_for_unusable_data(tmp_path, monkeypatch, case, message):
    monkeypatch.setenv("CIFAR10_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "cifar"
    if case != "missing":
        root.mkdir()
    if case in ("class_missing", "no_images", "all_broken"):
        for name in CIFAR10_CLASSES:
            if case == "class_missing" and name == "frog":
                continue
            (root / "test" / name).mkdir(parents=True)
            if case == "all_broken":
                (root / "test" / name / "00001.png").write_text("garbage")
    with pytest.raises(DatasetError, match=message) as info:
        load_split(root, "test")
    assert "CIFAR10_ROOT" in str(info.value)  # says how to fix it


def test_root_resolution_order(monkeypatch, tmp_path):
    monkeypatch.setenv("CIFAR10_ROOT", str(tmp_path / "env"))
    assert resolve_root(str(tmp_path / "cli")) == tmp_path / "cli"
    assert resolve_root(None) == tmp_path / "env"
    monkeypatch.delenv("CIFAR10_ROOT")
    assert resolve_root(None).name in ("cifar10", "data")


def test_shared_test_split_is_the_official_one(test_split):
    assert len(test_split) == 10_000
    assert test_split.indices.tolist() == list(range(10_000))
    # Test image 0 is a cat, 1 and 2 ships, 3 an airplane (../shared/cifar10/README.md).
    assert [CIFAR10_CLASSES[k] for k in test_split.labels[:4]] == ["cat", "ship", "ship", "airplane"]
    assert np.bincount(test_split.labels).tolist() == [1000] * 10
    assert test_split.skipped == ()


def hand_made_archive(root, test_split, n: int, monkeypatch):
    """``root``/cifar-10-batches-py with a test batch of the first ``n`` test images in the official
    format, and a cache folder of its own. It has no official checksums: torchvision's integrity
    check (only that) is skipped."""
    import pickle

    import torchvision.datasets.cifar as tv_cifar

    monkeypatch.setenv("CIFAR10_CACHE", str(root / "cache"))
    archive = root / "cifar-10-batches-py"
    archive.mkdir()
    data = test_split.images[:n].transpose(0, 3, 1, 2).reshape(n, -1)
    with open(archive / "test_batch", "wb") as f:
        pickle.dump({"data": data, "labels": test_split.labels[:n].tolist()}, f)
    with open(archive / "batches.meta", "wb") as f:
        pickle.dump({"label_names": list(CIFAR10_CLASSES)}, f)
    monkeypatch.setattr(tv_cifar, "check_integrity", lambda *a, **k: True)
    monkeypatch.setattr(tv_cifar.CIFAR10, "_check_integrity", lambda self: True)
    return archive


def test_archive_source_matches_image_folder(tmp_path, test_split, monkeypatch):
    """Source (a): a CIFAR-10 archive in torchvision's layout gives the same pictures."""
    n = 50
    hand_made_archive(tmp_path, test_split, n, monkeypatch)
    split = load_split(tmp_path, "test")
    assert split.source.startswith("archive:")
    assert np.array_equal(split.images, test_split.images[:n])
    assert split.indices.tolist() == list(range(n))


def test_the_archive_is_read_by_torchvision_once_then_from_the_cache(tmp_path, test_split, monkeypatch):
    """The first-launch download leaves the official archive: after the first read, the server
    needs no torchvision for it (its import stays in the process, ~160 MB); a changed archive file
    is read again."""
    import os
    import sys

    n = 30
    archive = hand_made_archive(tmp_path, test_split, n, monkeypatch)
    first = load_split(tmp_path, "test")
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "torchvision.datasets", None)  # any import of it now fails
        again = load_split(tmp_path, "test")
        assert np.array_equal(again.images, first.images) and np.array_equal(again.labels, first.labels)
        assert again.classes == first.classes and again.source == first.source
        assert again.indices.tolist() == list(range(n))
        stamp = os.stat(archive / "test_batch").st_mtime_ns + 10**9
        os.utime(archive / "test_batch", ns=(stamp, stamp))
        with pytest.raises(DatasetError, match="torchvision is needed"):
            load_split(tmp_path, "test")  # changed: read again, which needs torchvision
