import pickle
import zipfile

import pytest
import torch

from model.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from model.network import ARCHITECTURE, CIFAR10_CLASSES, build_model

META = {"architecture": ARCHITECTURE, "classes": list(CIFAR10_CLASSES),
        "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25], "epochs": 1}


def test_round_trip_with_weights_only(tmp_path):
    torch.manual_seed(0)
    model = build_model().eval()
    path = tmp_path / "c.pt"
    save_checkpoint(path, model, META)
    raw = torch.load(path, weights_only=True)  # readable without allowing code
    assert raw["meta"]["classes"] == list(CIFAR10_CLASSES)
    loaded = load_checkpoint(path)
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(loaded.model(x), model(x), atol=1e-6)
    assert loaded.classes == CIFAR10_CLASSES
    assert not loaded.model.training
    assert len(loaded.sha256) == 64


class _Boom:
    def __reduce__(self):
        import os
        return (os.system, ("touch PWNED_MARKER",))


@pytest.mark.parametrize("kind, expected", [
    ("missing", "not found"),
    ("empty", "empty"),
    ("text", "not a readable PyTorch checkpoint"),
    ("random", "not a readable PyTorch checkpoint"),
    ("truncated", "not a readable PyTorch checkpoint"),
    ("foreign", "not a checkpoint of this project"),
    ("other_arch", "weights do not fit"),
    ("meta_mismatch", "weights do not fit"),
    ("wrong_arch_name", "holds architecture"),
    ("bad_mean", "'mean' must be three numbers"),
])
def test_bad_checkpoints_raise_one_line_errors(tmp_path, kind, expected):
    path = tmp_path / "bad.pt"
    good = tmp_path / "good.pt"
    save_checkpoint(good, build_model(), META)
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("this is not a checkpoint\n")
    elif kind == "random":
        path.write_bytes(bytes(range(256)) * 40)
    elif kind == "truncated":
        path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif kind == "foreign":
        torch.save(build_model().state_dict(), path)  # a bare state_dict, no metadata
    elif kind == "other_arch":
        torch.save({"format": "cifar10-explainer-checkpoint/1", "meta": META,
                    "state_dict": torch.nn.Linear(3, 2).state_dict()}, path)
    elif kind == "meta_mismatch":
        save_checkpoint(path, build_model(), dict(META, classes=["a", "b", "c"]))
    elif kind == "wrong_arch_name":
        save_checkpoint(path, build_model(), dict(META, architecture="resnet18"))
    elif kind == "bad_mean":
        save_checkpoint(path, build_model(), dict(META, mean=[0.5]))
    with pytest.raises(CheckpointError, match=expected) as info:
        load_checkpoint(path)
    assert "\n" not in str(info.value)


def test_a_pickle_with_code_is_refused_and_never_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    # torch.save goes through pickle, so the payload would run under weights_only=False.
    torch.save({"format": "cifar10-explainer-checkpoint/1", "boom": _Boom()}, path)
    assert zipfile.is_zipfile(path)
    with pytest.raises(CheckpointError, match="not a readable PyTorch checkpoint"):
        load_checkpoint(path)
    assert not (tmp_path / "PWNED_MARKER").exists()
    with open(tmp_path / "plain.pkl", "wb") as f:
        pickle.dump(_Boom(), f)
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "plain.pkl")
    assert not (tmp_path / "PWNED_MARKER").exists()


def test_committed_checkpoint_is_complete(checkpoint):
    meta = checkpoint.meta
    assert meta["architecture"] == ARCHITECTURE
    assert tuple(meta["classes"]) == CIFAR10_CLASSES
    for key in ("mean", "std", "epochs", "test_top1", "date"):
        assert key in meta
    assert 0.0 < meta["test_top1"] <= 1.0
