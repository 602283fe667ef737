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


def test_train_runs_one_tiny_epoch(tmp_path, tiny_folder):
    root, _ = tiny_folder
    out = tmp_path / "tiny.pt"
    r = run("model.train", "--data", str(root), "--epochs", "1", "--batch-size", "8", "--out", str(out),
            env={"CIFAR10_CACHE": str(tmp_path / "cache")})
    assert r.returncode == 0, r.stderr
    from model.checkpoint import load_checkpoint
    assert load_checkpoint(out).meta["epochs"] == 1
    rows = (tmp_path / "tiny_history.csv").read_text().strip().splitlines()
    assert rows[0].startswith("epoch,") and len(rows) == 2


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
