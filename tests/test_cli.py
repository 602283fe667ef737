import json
import os
import subprocess
import sys

import pytest

from tests.conftest import CHECKPOINT, PROJECT


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", *args], cwd=PROJECT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def test_evaluate_json_on_a_subset(cifar_root):
    r = run("model.evaluate", "--data", str(cifar_root), "--checkpoint", str(CHECKPOINT),
            "--json", "--limit", "500")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)  # exactly one JSON object and nothing else
    assert set(out) == {"top1", "n_images", "per_class", "seconds"}
    assert out["n_images"] == 500
    assert 0.7 < out["top1"] <= 1.0
    assert len(out["per_class"]) == 10


@pytest.mark.parametrize("content", [None, b"", b"hello", b"\x00\x01" * 100])
def test_evaluate_refuses_bad_checkpoints_with_one_line(tmp_path, cifar_root, content):
    path = tmp_path / "x.pt"
    if content is not None:
        path.write_bytes(content)
    r = run("model.evaluate", "--data", str(cifar_root), "--checkpoint", str(path), "--json")
    assert r.returncode != 0
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), r.stderr
    assert "Traceback" not in r.stderr


def test_missing_data_set_gives_a_message_not_a_traceback(tmp_path):
    r = run("model.evaluate", "--data", str(tmp_path / "nowhere"), "--checkpoint", str(CHECKPOINT))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "CIFAR-10 data set not found" in r.stderr and "CIFAR10_ROOT" in r.stderr


def test_train_holds_out_a_validation_split_and_tests_once_at_the_end(tmp_path, tiny_folder):
    """Two tiny epochs: the CSV monitors the validation split, not the test set; the kept epoch is
    the one with the best validation accuracy; the test set is evaluated once, at the end."""
    import csv
    import re

    from data.cifar10 import load_split
    from model.checkpoint import load_checkpoint
    from model.inference import predict_logits

    root, _ = tiny_folder
    out = tmp_path / "tiny.pt"
    r = run("model.train", "--data", str(root), "--epochs", "2", "--batch-size", "4", "--val-size", "6",
            "--val-seed", "3", "--out", str(out), env={"CIFAR10_CACHE": str(tmp_path / "cache")})
    assert r.returncode == 0, r.stderr
    ckpt = load_checkpoint(out)
    meta = ckpt.meta
    # 20 training images in the tiny folder: 6 held out with seed 3, 14 trained on.
    assert meta["validation"]["images"] == 6 and meta["validation"]["seed"] == 3
    assert meta["train_images"] == 14 and meta["epochs"] == 2 and meta["selected_on"] == "validation accuracy"
    rows = list(csv.DictReader((tmp_path / "tiny_history.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert {"val_loss", "val_acc"} <= set(rows[0]) and not any(c.startswith("test") for c in rows[0])
    accs = [float(r["val_acc"]) for r in rows]
    assert meta["epoch_selected"] == 1 + accs.index(max(accs))  # the first epoch with the best accuracy
    assert meta["val_top1"] == max(accs)
    # The test set: one line of output, and the metadata's figure is the kept weights' accuracy on it.
    lines = r.stdout.splitlines()
    test_lines = [line for line in lines[1:] if re.search(r"\btest\b", line)]  # line 0 counts the images
    assert len(test_lines) == 1 and test_lines[0].startswith(f"chose epoch {meta['epoch_selected']} ")
    test = load_split(root, "test")
    logits = predict_logits(ckpt.model, test.images, meta["mean"], meta["std"])
    assert meta["test_top1"] == pytest.approx(float((logits.argmax(1) == test.labels).mean()), abs=1e-6)
    # ... and the kept logits beside the checkpoint are those of the kept weights
    import numpy as np

    from model.inference import shipped_predictions_path

    with np.load(shipped_predictions_path(out)) as kept:
        assert str(kept["checkpoint_sha256"]) == ckpt.sha256
        np.testing.assert_allclose(kept["logits"], logits, atol=1e-5)


def test_validation_split_is_fixed_disjoint_and_of_the_asked_size():
    import numpy as np

    from model.train import VALIDATION_IMAGES, validation_split

    kept, held = validation_split(50_000, VALIDATION_IMAGES, seed=0)
    assert len(held) == 5_000 and len(kept) == 45_000
    assert not set(kept) & set(held) and set(kept) | set(held) == set(range(50_000))
    again, held_again = validation_split(50_000, 5_000, seed=0)
    assert (held_again == held).all() and (again == kept).all()
    assert not (validation_split(50_000, 5_000, seed=1)[1] == held).all()
    # Spread over the whole set (not the first 5,000): each tenth of the indices holds about 500.
    counts = np.bincount(held // 5_000, minlength=10)
    assert counts.min() > 400 and counts.max() < 600
    for bad in (0, 50_000, -1):
        with pytest.raises(ValueError, match="--val-size"):
            validation_split(50_000, bad)


def test_too_large_validation_split_is_a_one_line_error(tmp_path, tiny_folder):
    root, _ = tiny_folder
    r = run("model.train", "--data", str(root), "--epochs", "1", "--val-size", "20", "--out",
            str(tmp_path / "x.pt"), env={"CIFAR10_CACHE": str(tmp_path / "cache")})
    assert r.returncode == 2 and "Traceback" not in r.stderr
    expected = ("error: the validation split must hold 1 to 19 of the 20 training images, not 20; "
                "choose --val-size accordingly")
    assert r.stderr.strip().splitlines() == [expected]


def test_one_number_of_epochs_everywhere():
    """The default schedule, the docstring's and README's commands and the committed checkpoint
    agree (train.py said 30 where the README and the checkpoint say 35)."""
    import re

    from model import train
    from model.checkpoint import load_checkpoint

    default = train.parse_args([]).epochs
    assert default == load_checkpoint(CHECKPOINT).meta["epochs_planned"] == 35
    for where, text in (("model/train.py", train.__doc__), ("README.md", (PROJECT / "README.md").read_text())):
        said = {int(n) for n in re.findall(r"--epochs (\d+)", text)}
        assert said == {default}, f"{where} says --epochs {sorted(said)}"
