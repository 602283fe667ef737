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
from locales import known, translate
from model.evaluate import accuracy_report

HISTORY_COLUMNS = ("epoch", "train_loss", "train_acc")
# The held-out split the CSV monitored, by column prefix: "val" since model.train holds out a
# validation split; "test" in the CSVs of checkpoints trained before (the committed one's).
HELD_OUT = {"val": known("validation"), "test": known("test")}


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


def curve_names(meta: dict, prefix: str, lang: str = "en") -> dict[str, dict[str, str]]:
    """Legend text of each curve, by metric ("loss", "acc") and series ("train", ``prefix``): the two
    curves of a chart are not the same quantity, and the legend says how each was measured."""
    split = translate(HELD_OUT[prefix], lang)
    eps = label_smoothing(meta)
    smoothed = translate("label smoothing {eps:g}", lang, eps=eps) if eps else translate("training loss", lang)
    # Short lines ("\n" breaks them): the legend sits under a chart half the page wide.
    return {
        "loss": {"train": translate("training: {smoothed},\naugmented batches,\ntrain mode, epoch mean", lang,
                                    smoothed=smoothed),
                 prefix: translate("{split}: plain cross-entropy,\neval mode, after the epoch", lang, split=split)},
        "acc": {"train": translate("training: augmented\nbatches, train mode,\nepoch mean", lang),
                prefix: translate("{split}: unaltered images,\neval mode, after the epoch", lang, split=split)},
    }


def curves_note(meta: dict, history: dict[str, list[float]], lang: str = "en") -> str:
    """One or two sentences on why the training loss sits above the held-out loss."""
    prefix = held_out_prefix(history)
    split = translate(HELD_OUT[prefix], lang)
    eps = label_smoothing(meta)
    floor = (translate(" With label smoothing {eps:g} the training loss cannot go below {floor:.2f}.", lang,
                       eps=eps, floor=smoothed_loss_floor(eps, len(meta.get("classes", ())) or 10)) if eps else "")
    return translate("The two curves of each chart are different measurements: the training curve averages the "
                     "epoch's augmented batches, in train mode, while the network is still learning; the {split} "
                     "curve is measured after the epoch on unaltered images, in eval mode, with plain "
                     "cross-entropy.{floor} So a {split} loss of {held_out:.2f} below a training loss of "
                     "{train:.2f} does not mean the {split} images are easier.", lang,
                     split=split, floor=floor, held_out=history[f"{prefix}_loss"][-1], train=history["train_loss"][-1])


def training_note(meta: dict, history: dict[str, list[float]] | None, lang: str = "en") -> str | None:
    """What the training curves show and how the checkpoint's epoch was chosen, from its metadata
    and its CSV: true for checkpoints trained with the validation split and for those before it."""
    validation = meta.get("validation")
    if isinstance(validation, dict):
        test = meta.get("test_top1")
        tested = (translate("; the test set was evaluated once, at the end ({test:.2%})", lang, test=test)
                  if isinstance(test, float)
                  else translate("; the test set has not been evaluated yet (an interrupted run)", lang))
        images, seed = validation.get("images", 0), validation.get("seed", "?")
        return translate("The curves show the training batches and the validation split ({images:,} images held "
                         "out of the training set, seed {seed}), never the test set. Epoch {kept} of {epochs} was "
                         "kept for its validation accuracy{tested}.", lang, images=images, seed=seed,
                         kept=meta.get("epoch_selected", "?"), epochs=meta.get("epochs", "?"), tested=tested)
    if history is None or held_out_prefix(history) != "test":
        return None
    epochs = [int(e) for e in history["epoch"]]
    kept = meta.get("epochs")
    if kept != epochs[-1]:
        return translate("This checkpoint was trained before the validation split: its curves show the test set, "
                         "which was monitored every epoch; the checkpoint holds epoch {kept}.", lang, kept=kept)
    accuracy = history["test_acc"]
    peak = epochs[accuracy.index(max(accuracy))]
    where = (translate("its test accuracy also peaked there", lang) if peak == kept
             else translate("its test accuracy peaked at epoch {peak}", lang, peak=peak))
    return translate("This checkpoint was trained before the validation split: its curves show the test set, "
                     "which was monitored every epoch but not used to pick the epoch. The checkpoint is simply "
                     "the last of its {kept} epochs ({where}). Because the test set was watched during training, "
                     "its test accuracy is not a fully untouched estimate.", lang, kept=kept, where=where)


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
