"""The checkpoint card (model/card.py): the home page's metadata and layer table without torch."""

import json
import os
import subprocess
import sys

import pytest

from model.card import CARD_FORMAT, card_file, file_sha256, read_card, write_card
from tests.conftest import PROJECT

ROWS = [{"layer": "conv", "type": "Conv2d 3×3, 3→8", "output (N×C×H×W)": "1×8×32×32", "parameters": 224}]
META = {"architecture": "x", "classes": ["cat", "dog"], "mean": [0.5] * 3, "std": [0.25] * 3, "epochs": 3}


@pytest.fixture
def weights(tmp_path):
    path = tmp_path / "net.pt"
    path.write_bytes(b"pretend weights")
    return path


def test_a_card_round_trips_and_belongs_to_one_file(weights, tmp_path):
    cache = tmp_path / "cache"
    assert read_card(weights, cache) is None  # nothing written yet
    written = write_card(weights, file_sha256(weights), META, ROWS, cache)
    card = read_card(weights, cache)
    assert card == written
    assert card.meta == META and card.architecture == tuple(ROWS) and card.classes == ("cat", "dog")
    weights.write_bytes(b"other weights")  # changed file: another hash, no card
    assert read_card(weights, cache) is None


@pytest.mark.parametrize("damage", ["not json", "{}", "[1, 2]",
                                    json.dumps({"format": CARD_FORMAT + 1}),
                                    json.dumps({"format": CARD_FORMAT, "sha256": "0" * 64, "meta": META,
                                                "architecture": ROWS}),
                                    json.dumps({"format": CARD_FORMAT, "sha256": "@", "meta": "x",
                                                "architecture": ROWS})])
def test_a_damaged_or_foreign_card_is_ignored(weights, tmp_path, damage):
    sha = file_sha256(weights)
    path = card_file(tmp_path, sha)
    path.write_text(damage.replace("@", sha))
    assert read_card(weights, tmp_path) is None


def test_a_missing_checkpoint_has_no_card(tmp_path):
    assert read_card(tmp_path / "missing.pt", tmp_path) is None


def test_metadata_json_cannot_hold_gives_a_card_in_memory_only(weights, tmp_path):
    meta = {**META, "odd": {1, 2}}
    card = write_card(weights, file_sha256(weights), meta, ROWS, tmp_path)
    assert card.meta["odd"] == {1, 2}
    assert not card_file(tmp_path, file_sha256(weights)).exists()


def test_the_real_checkpoint_card_holds_its_layer_table(frozen_checkpoint, tmp_path):
    from explain.home import architecture_table

    table = architecture_table(frozen_checkpoint.model)
    write_card(frozen_checkpoint.path, frozen_checkpoint.sha256, frozen_checkpoint.meta, table, tmp_path)
    card = read_card(frozen_checkpoint.path, tmp_path)
    assert card.architecture == tuple(table) and sum(r["parameters"] for r in card.architecture) == 310_250
    assert card.meta["classes"] == list(frozen_checkpoint.classes)


HOME_WITHOUT_TORCH = """
import sys
from streamlit.testing.v1 import AppTest
import ui.resources
ui.resources.import_torch_in_background = lambda: None  # only the page's own imports count
at = AppTest.from_file(sys.argv[1], default_timeout=120).run()
assert not at.exception, at.exception
print(sorted(m.label for m in at.metric))
print("torch imported:", "torch" in sys.modules)
"""


def _seed_data_caches(cache, cifar_root, checkpoint) -> None:
    """Copy the decoded test images and the test-set predictions from this process's cache
    folder (made warm here first: a read when the app's cache already holds them) into
    ``cache``, and never a card: the launches then spend no time decoding 10,000 PNGs or
    classifying them (about 10 s, twice the rest of the cold launch), and the card stays the
    only thing the first launch lacks."""
    import shutil

    from data.cifar10 import load_split
    from data.files import cache_dir
    from explain.testset import predictions

    split = load_split(cifar_root, "test")
    predictions(checkpoint.model, split.images, split.labels, split.indices, checkpoint.meta,
                checkpoint.sha256, cache_dir())
    cache.mkdir()
    for pattern in ("cifar10-test-*.npz", "predictions-*.npz"):
        for path in cache_dir().glob(pattern):
            shutil.copy(path, cache)
    assert not list(cache.glob("card-*"))


def test_the_home_page_needs_no_torch_once_the_card_is_written(cifar_root, frozen_checkpoint, tmp_path):
    """The point of the card: with warm disk caches the home page draws without importing torch
    (about 2.5 s of its first render). The first launch, whose only missing cache is the card,
    loads the checkpoint to write it (and imports torch); the second reads it."""
    _seed_data_caches(tmp_path / "cache", cifar_root, frozen_checkpoint)
    env = {**os.environ, "CIFAR10_ROOT": str(cifar_root), "CIFAR10_CACHE": str(tmp_path / "cache"),
           "PYTHONPATH": str(PROJECT)}

    def launch() -> str:
        return subprocess.run([sys.executable, "-c", HOME_WITHOUT_TORCH, str(PROJECT / "dashboard.py")], env=env,
                              cwd=PROJECT, capture_output=True, text=True, timeout=600, check=True).stdout

    first = launch()
    assert "torch imported: True" in first  # cold: the checkpoint is loaded and validated
    assert list((tmp_path / "cache").glob("card-*.json"))
    second = launch()
    assert "torch imported: False" in second
    assert "['Epochs trained', 'Parameters', 'Test accuracy (top-1)', 'Trained']" in second
