"""The test-set logits kept beside the checkpoint (model/checkpoint.test_predictions.npz): a fresh
install's home page starts with them instead of classifying 10,000 images. They must be what the
shipped network really gives on the real test set, and are used only for that network and those
images."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explain.testset import predictions
from model.inference import keep_predictions, shipped_predictions_path
from tests.conftest import CHECKPOINT


class Untouchable:
    def __getattr__(self, name):
        raise AssertionError(f"the network was used ({name}) although the kept logits apply")


def test_the_kept_logits_are_the_shipped_networks_on_the_real_test_set(checkpoint, test_split):
    with np.load(shipped_predictions_path(CHECKPOINT)) as kept:
        logits, sha = kept["logits"], str(kept["checkpoint_sha256"])
    assert sha == checkpoint.sha256, "model/checkpoint.pt changed: run python -m model.evaluate --keep-predictions"
    # recomputed here directly with torch, not with model.inference
    mean = torch.tensor(checkpoint.meta["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(checkpoint.meta["std"]).view(1, 3, 1, 1)
    model = checkpoint.model.eval()
    with torch.no_grad():
        fresh = np.concatenate([model((torch.from_numpy(test_split.images[i:i + 1000]).permute(0, 3, 1, 2).float()
                                       / 255 - mean) / std).numpy() for i in range(0, len(test_split), 1000)])
    np.testing.assert_allclose(logits, fresh, atol=1e-3)
    assert (logits.argmax(1) == test_split.labels).mean() == pytest.approx(checkpoint.meta["test_top1"], abs=1e-6)


def test_a_fresh_cache_starts_from_the_kept_logits_and_keeps_them(checkpoint, test_split, tmp_path):
    meta = checkpoint.meta
    shipped = shipped_predictions_path(CHECKPOINT)
    first = predictions(Untouchable(), test_split.images, test_split.labels, test_split.indices, meta,
                        checkpoint.sha256, tmp_path, shipped=shipped)
    assert (first.predicted == np.load(shipped)["logits"].argmax(1)).all()
    # now in the cache: found there without the kept file
    again = predictions(Untouchable(), test_split.images, test_split.labels, test_split.indices, meta,
                        checkpoint.sha256, tmp_path)
    np.testing.assert_array_equal(again.logits, first.logits)


def test_kept_logits_of_another_network_or_other_images_are_not_used(test_split, tmp_path):
    images, labels = test_split.images[:50], test_split.labels[:50]
    logits = np.zeros((50, 10), np.float32)
    kept = keep_predictions(tmp_path / "net.pt", "a" * 64, images, labels, logits)
    computed = np.ones((50, 10), np.float32)

    class Net:
        calls = 0

        def forward(self, *a):
            raise AssertionError

    import explain.testset as testset

    def fake_predict(model, *a, **k):
        Net.calls += 1
        return computed

    original = testset.predict_logits
    testset.predict_logits = fake_predict
    try:
        meta = {"mean": [0.5] * 3, "std": [0.25] * 3}
        other_net = predictions(Net(), images, labels, np.arange(50), meta, "b" * 64, tmp_path / "c1", shipped=kept)
        other_images = predictions(Net(), images[::-1].copy(), labels, np.arange(50), meta, "a" * 64,
                                   tmp_path / "c2", shipped=kept)
        same = predictions(Net(), images, labels, np.arange(50), meta, "a" * 64, tmp_path / "c3", shipped=kept)
    finally:
        testset.predict_logits = original
    np.testing.assert_array_equal(other_net.logits, computed)
    np.testing.assert_array_equal(other_images.logits, computed)
    np.testing.assert_array_equal(same.logits, logits)
    assert Net.calls == 2
