import numpy as np
import pytest

from explain.browse import page_of, select_images
from explain.home import (
    curve_names,
    curves_note,
    held_out_prefix,
    label_smoothing,
    per_class_table,
    read_history,
    smoothed_loss_floor,
    training_note,
)
from explain.testset import Predictions

LABELS = np.array([0, 0, 1, 1, 2, 2])
PRED = np.array([0, 1, 1, 0, 2, 1])
CONF = np.array([0.9, 0.8, 0.3, 0.95, 0.5, 0.6])


def test_filters_and_sorts():
    assert select_images(LABELS, PRED, CONF).tolist() == [3, 0, 1, 5, 4, 2]
    assert select_images(LABELS, PRED, CONF, sort="confidence, low first").tolist() == [2, 4, 5, 1, 0, 3]
    assert select_images(LABELS, PRED, CONF, sort="test index").tolist() == [0, 1, 2, 3, 4, 5]
    assert select_images(LABELS, PRED, CONF, correctness="incorrect").tolist() == [3, 1, 5]
    assert select_images(LABELS, PRED, CONF, correctness="correct").tolist() == [0, 4, 2]
    # A confusion-matrix cell: true 1, predicted 0.
    assert select_images(LABELS, PRED, CONF, true_class=1, predicted_class=0).tolist() == [3]
    assert select_images(LABELS, PRED, CONF, true_class=2, predicted_class=0).tolist() == []
    with pytest.raises(ValueError, match="correctness"):
        select_images(LABELS, PRED, CONF, correctness="maybe")


def test_pages_clamp():
    pos = np.arange(50)
    shown, pages = page_of(pos, 3, 24)
    assert pages == 3 and shown.tolist() == [48, 49]
    assert page_of(pos, 99, 24)[0].tolist() == [48, 49]
    assert page_of(pos, 0, 24)[0].tolist() == list(range(24))
    assert page_of(np.arange(0), 1, 24)[1] == 1


def test_per_class_table_and_history(tmp_path):
    logits = np.eye(3, dtype=np.float32)[PRED]
    table = per_class_table(Predictions(logits, LABELS, np.arange(6)), ("a", "b", "c"))
    assert table == {"class": ["a", "b", "c"], "accuracy": [0.5, 0.5, 0.5]}
    assert read_history(tmp_path / "missing.csv") is None
    (tmp_path / "bad.csv").write_text("x,y\n1,2\n")
    assert read_history(tmp_path / "bad.csv") is None
    (tmp_path / "ok.csv").write_text("epoch,train_loss,train_acc,test_loss,test_acc\n1,2,0.1,2,0.1\n")
    assert read_history(tmp_path / "ok.csv") == {"epoch": [1.0], "train_loss": [2.0], "train_acc": [0.1],
                                                 "test_loss": [2.0], "test_acc": [0.1]}
    (tmp_path / "text.csv").write_text("epoch,train_loss,train_acc,test_loss,test_acc\n1,x,0.1,2,0.1\n")
    assert read_history(tmp_path / "text.csv") is None
    (tmp_path / "empty.csv").write_text("epoch,train_loss,train_acc,test_loss,test_acc\n")
    assert read_history(tmp_path / "empty.csv") is None
    # Since the validation split, model.train writes val_* columns; both kinds are read.
    (tmp_path / "val.csv").write_text("epoch,lr,train_loss,train_acc,val_loss,val_acc,seconds\n1,0.1,2,0.1,1.5,0.2,9\n")
    history = read_history(tmp_path / "val.csv")
    assert history == {"epoch": [1.0], "train_loss": [2.0], "train_acc": [0.1], "val_loss": [1.5], "val_acc": [0.2]}
    assert held_out_prefix(history) == "val" and held_out_prefix(read_history(tmp_path / "ok.csv")) == "test"


OLD_META = {"epochs": 3, "epochs_planned": 3, "test_top1": 0.5}
OLD_HISTORY = {"epoch": [1.0, 2.0, 3.0], "train_loss": [2.0, 1.5, 1.2], "train_acc": [0.2, 0.3, 0.4],
               "test_loss": [1.9, 1.4, 1.1], "test_acc": [0.3, 0.45, 0.5]}


def test_training_note_says_how_the_epoch_was_chosen():
    old = training_note(OLD_META, OLD_HISTORY)
    assert old.startswith("This checkpoint was trained before the validation split: its curves show the "
                          "test set, which was monitored every epoch but not used to pick the epoch.")
    assert "simply the last of its 3 epochs (its test accuracy also peaked there)" in old
    earlier_peak = {**OLD_HISTORY, "test_acc": [0.3, 0.55, 0.5]}
    assert "(its test accuracy peaked at epoch 2)" in training_note(OLD_META, earlier_peak)
    assert "holds epoch 2" in training_note({**OLD_META, "epochs": 2}, OLD_HISTORY)
    new_meta = {"epochs": 3, "epoch_selected": 2, "validation": {"images": 5000, "seed": 0}, "test_top1": 0.9}
    new_history = {k.replace("test_", "val_"): v for k, v in OLD_HISTORY.items()}
    new = training_note(new_meta, new_history)
    assert "the validation split (5,000 images held out of the training set, seed 0), never the test set" in new
    assert "Epoch 2 of 3 was kept for its validation accuracy; the test set was evaluated once, at the end " \
           "(90.00%)." in new
    assert "not been evaluated yet" in training_note({k: v for k, v in new_meta.items() if k != "test_top1"},
                                                     new_history)
    assert training_note(OLD_META, None) is None


def test_the_committed_checkpoint_is_its_last_epoch_and_the_note_says_so():
    """The committed checkpoint predates the validation split; model.train then saved every epoch
    over the last, so the file is epoch 35: its metadata's test accuracy is the CSV's last row."""
    import torch

    from model.card import history_path
    from tests.conftest import CHECKPOINT

    meta = torch.load(CHECKPOINT, weights_only=True)["meta"]
    history = read_history(history_path(CHECKPOINT))
    assert "validation" not in meta and held_out_prefix(history) == "test"
    assert meta["epochs"] == meta["epochs_planned"] == int(history["epoch"][-1]) == len(history["epoch"]) == 35
    assert meta["test_top1"] == history["test_acc"][-1]
    assert training_note(meta, history).startswith("This checkpoint was trained before the validation split")


def test_label_smoothing_puts_a_floor_under_the_training_loss():
    """Cross-entropy with label smoothing ε is smallest when the prediction equals the smoothed
    target; measured here with torch's own loss, not the formula."""
    import torch
    from torch.nn import functional as F

    target = torch.full((1, 10), 0.1 / 10)
    target[0, 3] = 1 - 0.1 + 0.1 / 10
    y = torch.tensor([3])
    best = float(F.cross_entropy(target.log(), y, label_smoothing=0.1))
    assert smoothed_loss_floor(0.1, 10) == pytest.approx(best, abs=1e-6) == pytest.approx(0.5003, abs=1e-4)
    worse = target.log() + torch.randn(1, 10, generator=torch.Generator().manual_seed(0))
    assert float(F.cross_entropy(worse, y, label_smoothing=0.1)) > best
    assert smoothed_loss_floor(0.0) == 0.0


def test_the_loss_curves_are_labelled_for_what_they_are():
    import torch

    from model.card import history_path
    from tests.conftest import CHECKPOINT

    meta = torch.load(CHECKPOINT, weights_only=True)["meta"]
    history = read_history(history_path(CHECKPOINT))
    assert label_smoothing(meta) == 0.1  # from the recipe of a checkpoint trained before the key existed
    assert label_smoothing({"label_smoothing": 0.2, "recipe": "label smoothing 0.1"}) == 0.2
    assert label_smoothing({}) is None
    names = curve_names(meta, "test")
    assert names["loss"]["train"].replace("\n", " ") == ("training: label smoothing 0.1, augmented batches, "
                                                         "train mode, epoch mean")
    assert names["loss"]["test"].replace("\n", " ") == "test: plain cross-entropy, eval mode, after the epoch"
    assert "validation:" in curve_names(meta, "val")["loss"]["val"]
    # Why the test loss sits below the training loss: not the same loss, and the smoothed one has a floor.
    assert min(history["train_loss"]) >= smoothed_loss_floor(0.1) > history["test_loss"][-1]
    note = curves_note(meta, history)
    assert "the training loss cannot go below 0.50" in note
    assert (f"a test loss of {history['test_loss'][-1]:.2f} below a training loss of "
            f"{history['train_loss'][-1]:.2f}") in note and "0.32" in note and "0.65" in note


def test_test_set_summary_counts_by_hand():
    from explain.home import test_set_summary

    logits = np.eye(3, dtype=np.float32)[PRED]
    summary = test_set_summary(Predictions(logits, LABELS, np.arange(6)), ("a", "b", "c"))
    predicted = PRED
    assert summary.images == 6 and summary.accuracy == pytest.approx(float((predicted == LABELS).mean()))
    expected = np.zeros((3, 3), int)
    for t, p in zip(LABELS, predicted):
        expected[t, p] += 1
    np.testing.assert_array_equal(summary.confusion, expected)
    assert summary.per_class["class"] == ["a", "b", "c"]
