"""Numbers for the home page's model card, from the cached test-set predictions."""

from __future__ import annotations

import pandas as pd

from explain.testset import Predictions
from model.evaluate import accuracy_report


def per_class_table(preds: Predictions, classes: tuple[str, ...]) -> pd.DataFrame:
    report = accuracy_report(preds.predicted, preds.labels, classes)
    return pd.DataFrame({"class": list(report["per_class"]),
                         "accuracy": list(report["per_class"].values())})


def read_history(path) -> pd.DataFrame | None:
    """The training CSV written by ``model.train`` (None when missing or unreadable)."""
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError):
        return None
    needed = {"epoch", "train_loss", "train_acc", "test_loss", "test_acc"}
    return df if needed <= set(df.columns) and len(df) else None
