"""Numbers for the home page's model card, from the cached test-set predictions.

Plain Python, no pandas: the home page is the first render (see explain/model_card.py).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass

import numpy as np

from explain.testset import Predictions
from model.evaluate import accuracy_report

HISTORY_COLUMNS = ("epoch", "train_loss", "train_acc")
# The held-out split the CSV monitored, by column prefix: "val" since model.train holds out a
# validation split; "test" in the CSVs of checkpoints trained before (the committed one's).
HELD_OUT = {"val": "validation", "test": "test"}


@dataclass(frozen=True)
class TestSetSummary:
    """The home page's view of the test set: what its charts and its slide take."""

    classes: tuple[str, ...]
    images: int
    accuracy: float               # top-1, 0–1
    per_class: dict[str, list]    # {"class": [...], "accuracy": [...]} in class order
    confusion: np.ndarray         # K×K: rows true class, columns predicted class


def test_set_summary(preds: Predictions, classes: tuple[str, ...]) -> TestSetSummary:
    return TestSetSummary(tuple(classes), len(preds.labels), float(preds.correct.mean()),
                          per_class_table(preds, classes), preds.confusion_matrix(len(classes)))


def per_class_table(preds: Predictions, classes: tuple[str, ...]) -> dict[str, list]:
    """{"class": [...], "accuracy": [...]} in class order."""
    report = accuracy_report(preds.predicted, preds.labels, classes)
    return {"class": list(report["per_class"]), "accuracy": list(report["per_class"].values())}


def read_history(path) -> dict[str, list[float]] | None:
    """The training CSV written by ``model.train`` as {column: values}: ``epoch``, ``train_loss``,
    ``train_acc`` and the held-out split's ``<prefix>_loss``, ``<prefix>_acc`` (a prefix of
    HELD_OUT; validation first). None when missing, unreadable, empty or without those columns."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        if not rows:
            return None
        prefix = next(p for p in HELD_OUT if f"{p}_loss" in rows[0] and f"{p}_acc" in rows[0])
        columns = (*HISTORY_COLUMNS, f"{prefix}_loss", f"{prefix}_acc")
        return {c: [float(r[c]) for r in rows] for c in columns}
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError, csv.Error, StopIteration):
        return None


def held_out_prefix(history: dict[str, list[float]]) -> str:
    """"val" or "test": which held-out split ``history`` (from :func:`read_history`) monitored."""
    return next(p for p in HELD_OUT if f"{p}_loss" in history)


def label_smoothing(meta: dict) -> float | None:
    """The training loss's label smoothing: the metadata's ``label_smoothing`` (since the validation
    split) or the number in its ``recipe`` ("… label smoothing 0.1, …"); None if neither says."""
    value = meta.get("label_smoothing")
    if isinstance(value, (int, float)):
        return float(value)
    found = re.search(r"label smoothing ([0-9.]+)", str(meta.get("recipe", "")))
    return float(found.group(1)) if found else None


def smoothed_loss_floor(smoothing: float, classes: int = 10) -> float:
    """The lowest value cross-entropy with label smoothing can take: the entropy of the smoothed
    target (1 − ε + ε/K on the true class, ε/K on each other one), reached when the predicted
    probabilities equal it. 0.50 for ε = 0.1 and 10 classes: why training loss stays high."""
    if smoothing <= 0:
        return 0.0
    other = smoothing / classes
    true = 1 - smoothing + other
    return -(true * math.log(true) + (classes - 1) * other * math.log(other))


def curve_names(meta: dict, prefix: str) -> dict[str, dict[str, str]]:
    """Legend text of each curve, by metric ("loss", "acc") and series ("train", ``prefix``): the two
    curves of a chart are not the same quantity, and the legend says how each was measured."""
    split = HELD_OUT[prefix]
    eps = label_smoothing(meta)
    smoothed = f"label smoothing {eps:g}" if eps else "training loss"
    # Short lines ("\n" breaks them): the legend sits under a chart half the page wide.
    return {
        "loss": {"train": f"training: {smoothed},\naugmented batches,\ntrain mode, epoch mean",
                 prefix: f"{split}: plain cross-entropy,\neval mode, after the epoch"},
        "acc": {"train": "training: augmented\nbatches, train mode,\nepoch mean",
                prefix: f"{split}: unaltered images,\neval mode, after the epoch"},
    }


def curves_note(meta: dict, history: dict[str, list[float]]) -> str:
    """One or two sentences on why the training loss sits above the held-out loss."""
    prefix = held_out_prefix(history)
    split = HELD_OUT[prefix]
    eps = label_smoothing(meta)
    floor = (f" With label smoothing {eps:g} the training loss cannot go below "
             f"{smoothed_loss_floor(eps, len(meta.get('classes', ())) or 10):.2f}." if eps else "")
    return (f"The two curves of each chart are different measurements: the training curve averages the "
            f"epoch's augmented batches, in train mode, while the network is still learning; the {split} "
            f"curve is measured after the epoch on unaltered images, in eval mode, with plain "
            f"cross-entropy.{floor} So a {split} loss of {history[f'{prefix}_loss'][-1]:.2f} below a "
            f"training loss of {history['train_loss'][-1]:.2f} does not mean the {split} images are "
            "easier.")


def training_note(meta: dict, history: dict[str, list[float]] | None) -> str | None:
    """What the training curves show and how the checkpoint's epoch was chosen, from its metadata
    and its CSV: true for checkpoints trained with the validation split and for those before it."""
    validation = meta.get("validation")
    if isinstance(validation, dict):
        test = meta.get("test_top1")
        tested = (f"; the test set was evaluated once, at the end ({test:.2%})" if isinstance(test, float)
                  else "; the test set has not been evaluated yet (an interrupted run)")
        images, seed = validation.get("images", 0), validation.get("seed", "?")
        return (f"The curves show the training batches and the validation split ({images:,} images held "
                f"out of the training set, seed {seed}), never the test set. Epoch "
                f"{meta.get('epoch_selected', '?')} of {meta.get('epochs', '?')} was kept for its "
                f"validation accuracy{tested}.")
    if history is None or held_out_prefix(history) != "test":
        return None
    epochs = [int(e) for e in history["epoch"]]
    kept = meta.get("epochs")
    if kept != epochs[-1]:
        return (f"This checkpoint was trained before the validation split: its curves show the test set, "
                f"which was monitored every epoch; the checkpoint holds epoch {kept}.")
    accuracy = history["test_acc"]
    peak = epochs[accuracy.index(max(accuracy))]
    where = ("its test accuracy also peaked there" if peak == kept
             else f"its test accuracy peaked at epoch {peak}")
    return (f"This checkpoint was trained before the validation split: its curves show the test set, "
            f"which was monitored every epoch but not used to pick the epoch. The checkpoint is simply "
            f"the last of its {kept} epochs ({where}). Because the test set was watched during training, "
            "its test accuracy is not a fully untouched estimate.")


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
