import numpy as np
import pytest

from explain.browse import page_of, select_images
from explain.home import per_class_table, read_history
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
