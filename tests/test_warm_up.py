"""The background warm-up (ui.resources.warm_up): it fills the very disk caches the pages read, in
one pass over the test set, says what it is doing in the sidebar, and survives missing data and
its own failures."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

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


def test_after_the_warm_up_the_collector_skips_what_was_alive(test_split, tmp_path):
    """Streamlit collects garbage after every run; the warm-up's end freezes what lives by then
    (torch, the model, the test set), so those collections walk only the sessions' new objects."""
    import gc

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    test_warm_up_for_freeze = [test_split]  # alive now: frozen with the rest
    try:
        test_a_failing_warm_up_is_reported_not_raised(test_split, tmp_path)
        assert gc.get_freeze_count() > 1000
        assert not any(o is test_warm_up_for_freeze for o in gc.get_objects(generation=2))
    finally:
        gc.unfreeze()


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


def test_the_home_page_reads_stored_predictions_while_the_warm_up_holds_the_lock(cifar_root, tmp_path,
                                                                                    monkeypatch):
    """A first launch: the warm-up holds the test-set lock through its pass over all layers (~12 s).
    The home page's predictions are on disk already (the shipped logits); it must not wait for the
    lock to read them (it did, when the warm-up took the lock first: 20 s to the first page, not 7)."""
    from ui.resources import _TESTSET_LOCK, _predictions

    _predictions.clear()  # kept per process: an earlier test's home page would answer from memory
    monkeypatch.setenv("CIFAR10_ROOT", str(cifar_root))
    monkeypatch.setenv("CIFAR10_CACHE", str(tmp_path / "cache"))  # empty: only the shipped file has them
    monkeypatch.setenv("CIFAR10_CHECKPOINT", str(CHECKPOINT))
    monkeypatch.setenv("CIFAR10_WARMUP", "0")
    held, release = threading.Event(), threading.Event()

    def warm_up_pass():  # holds the lock as the warm-up's channel-score pass does (at most 45 s)
        with _TESTSET_LOCK:
            held.set()
            release.wait(45)

    holder = threading.Thread(target=warm_up_pass, daemon=True)
    holder.start()
    held.wait()
    try:
        at = AppTest.from_file(HOME, default_timeout=30).run()  # waiting for the lock: a timeout error
    finally:
        release.set()
        holder.join()
    assert not at.exception
    assert list((tmp_path / "cache").glob("predictions-*.npz"))  # and kept in the cache


def test_no_data_set_no_warm_up_and_no_error(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR10_ROOT", str(tmp_path / "empty"))
    monkeypatch.setenv("CIFAR10_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CIFAR10_WARMUP", "1")
    at = AppTest.from_file(HOME, default_timeout=60).run()
    assert not at.exception
    assert "Preparing" not in _sidebar_captions(at)
    assert not list((tmp_path / "cache").glob("channelmax-*"))


# --- A deck's warm-up (ui.lecture.prepare → ui.resources.prepare_deck) ----------------------------

def test_the_shipped_decks_needs_are_its_images_and_the_architectures():
    import tomllib

    from data.deck import load_default_deck
    from ui.lecture import deck_needs

    with open(PROJECT / "decks" / "lecture.toml", "rb") as f:  # read here from the file itself
        slides = tomllib.load(f)["slide"]
    expected = sorted({int(s["state"][k]) for s in slides for k in ("image", "compare") if k in s.get("state", {})})
    images, architectures = deck_needs(load_default_deck())
    assert list(images) == expected and {3613, 8324} <= set(images)
    assert architectures is True


def test_a_decks_warm_up_fills_the_cache_its_slides_read(checkpoint, test_split, monkeypatch):
    """After the warm-up, the slides' image maps come from the cache: the network is not run again;
    the maps are the model's own."""
    import explain.feature_maps
    from ui.resources import Context, settings, warm_deck

    # A card of its own (a fresh cache key) for this test's checkpoint, loaded once by the fixture.
    card = SimpleNamespace(sha256=f"deck-warm-up-{time.time_ns()}", meta=checkpoint.meta, path=CHECKPOINT)
    ctx = Context(card, test_split, settings(), 0)
    ctx.__dict__["checkpoint"] = checkpoint  # what Context.checkpoint (a cached property) would load
    status = WarmUp(steps=("images", "architectures"))
    warm_deck(status, ctx, (3613, 8324), False)
    assert status.finished and not status.error and status.done == 2

    def computed(*args, **kwargs):
        raise AssertionError("the slide's maps were computed again: the warm-up's cache was not read")

    monkeypatch.setattr(explain.feature_maps, "image_activations", computed)
    pos = test_split.position_of(8324)
    maps = ctx.activations_of("test-8324", test_split.images[pos])
    monkeypatch.undo()
    expected = explain.feature_maps.image_activations(checkpoint.model, test_split.images[pos], checkpoint.meta)
    np.testing.assert_allclose(maps["block3.relu3"], expected["block3.relu3"][0], atol=1e-6)
