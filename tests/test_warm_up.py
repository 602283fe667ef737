"""The background warm-up (ui.resources.warm_up): it fills the very disk caches the pages read, in
one pass over the test set, says what it is doing in the sidebar, and survives missing data and
its own failures."""

from __future__ import annotations

import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explain.testset import cached_channel_scores, channel_max_scores, warm_channel_scores
from tests.conftest import CHECKPOINT, PROJECT, write_image_folder
from ui.resources import WarmUp, warm_up

HOME = str(PROJECT / "dashboard.py")
LAYERS = ["block1.relu1", "block2.conv2", "block3.relu3"]


class Untouchable:
    """A "network" that fails if anything computes with it: the cache must answer."""

    def __getattr__(self, name):
        raise AssertionError(f"the network was used ({name}): the warm-up's cache was not read")


def test_one_pass_fills_the_cache_the_pages_read(checkpoint, test_split, tmp_path):
    images, labels = test_split.images[:600], test_split.labels[:600]
    done = warm_channel_scores(checkpoint.model, images, labels, checkpoint.meta, LAYERS, checkpoint.sha256,
                               tmp_path)
    assert done == LAYERS
    for layer in LAYERS:
        # the pages' reader finds every layer without computing ...
        read = cached_channel_scores(Untouchable(), images, labels, checkpoint.meta, layer, checkpoint.sha256,
                                     tmp_path)
        # ... and the numbers are those of the page's own one-layer pass
        np.testing.assert_array_equal(read, channel_max_scores(checkpoint.model, images, checkpoint.meta, layer))
    # a second warm-up finds everything on disk and needs no network
    assert warm_channel_scores(Untouchable(), images, labels, checkpoint.meta, LAYERS, checkpoint.sha256,
                               tmp_path) == []


def test_a_failing_warm_up_is_reported_not_raised(test_split, tmp_path):
    status = WarmUp()

    class Card:
        meta = {"mean": [0.5] * 3, "std": [0.25] * 3}

    warm_up(status, "0" * 64, Card(), test_split, str(tmp_path / "no-such-checkpoint.pt"), 0, tmp_path)
    assert status.finished and status.error
    assert status.done == 0


def _wait_for(predicate, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            pytest.fail("the warm-up did not finish")
        time.sleep(0.2)


def _sidebar_captions(at) -> str:
    return " ".join(c.value for c in at.sidebar.caption)


def test_status_shows_while_preparing_and_goes_when_ready(tmp_path, monkeypatch):
    root = tmp_path / "cifar"
    write_image_folder(root, splits=("test",))
    cache = tmp_path / "cache"
    monkeypatch.setenv("CIFAR10_ROOT", str(root))
    monkeypatch.setenv("CIFAR10_CACHE", str(cache))
    monkeypatch.setenv("CIFAR10_CHECKPOINT", str(CHECKPOINT))
    monkeypatch.setenv("CIFAR10_WARMUP", "1")
    at = AppTest.from_file(HOME, default_timeout=120).run()
    assert not at.exception
    text = _sidebar_captions(at)
    assert "Preparing the pages in the background" in text or "Ready" in text
    # the warm-up writes the predictions and one file per map layer (27) into the pages' cache
    _wait_for(lambda: len(list(cache.glob("channelmax-*.npz"))) == 27)
    _wait_for(lambda: not at.run().exception and "Preparing" not in _sidebar_captions(at))
    assert "Preparing" not in _sidebar_captions(at)


def test_no_data_set_no_warm_up_and_no_error(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR10_ROOT", str(tmp_path / "empty"))
    monkeypatch.setenv("CIFAR10_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CIFAR10_WARMUP", "1")
    at = AppTest.from_file(HOME, default_timeout=60).run()
    assert not at.exception
    assert "Preparing" not in _sidebar_captions(at)
    assert not list((tmp_path / "cache").glob("channelmax-*"))
