"""Numbers for the home page's model card, from the cached test-set predictions.

Plain Python, no pandas: the home page is the first render (see explain/model_card.py).
"""

from __future__ import annotations

import csv

from explain.testset import Predictions
from model.evaluate import accuracy_report

HISTORY_COLUMNS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc")


def per_class_table(preds: Predictions, classes: tuple[str, ...]) -> dict[str, list]:
    """{"class": [...], "accuracy": [...]} in class order."""
    report = accuracy_report(preds.predicted, preds.labels, classes)
    return {"class": list(report["per_class"]), "accuracy": list(report["per_class"].values())}


def read_history(path) -> dict[str, list[float]] | None:
    """The training CSV written by ``model.train`` as {column: values}; None when missing,
    unreadable, empty or without the expected columns."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        history = {c: [float(r[c]) for r in rows] for c in HISTORY_COLUMNS}
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError, csv.Error):
        return None
    return history if rows else None
