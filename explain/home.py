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


def architecture_table(model) -> list[dict]:
    """One row per layer of a LectureCNN (torch is imported here, not by markdown_table's users)."""
    from explain.activations import format_shape, layers, output_shapes

    shapes = output_shapes(model)
    rows = []
    for info in layers(model):
        if info.kind == "flatten":
            continue
        m = info.module
        if info.kind == "conv":
            kind = f"Conv2d {m.kernel_size[0]}×{m.kernel_size[1]}, {m.in_channels}→{m.out_channels}"
        elif info.kind == "pool":
            kind = f"MaxPool2d {m.kernel_size}×{m.kernel_size}"
        elif info.kind == "linear":
            kind = f"Linear {m.in_features}→{m.out_features}"
        else:
            kind = type(m).__name__
        rows.append({
            "layer": info.name,
            "type": kind,
            "output (N×C×H×W)": format_shape(shapes[info.name]),
            "parameters": sum(p.numel() for p in m.parameters(recurse=False)),
        })
    return rows
