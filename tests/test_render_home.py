"""The home page's Vega-Lite charts (render/home.py): their data, order, selection and
fonts, checked against hand-made inputs."""

import numpy as np
import pytest

from render.home import CELL_SELECTION, confusion_spec, curve_spec, per_class_spec, selected_cell

CLASSES = ("cat", "dog", "ship")


def test_per_class_bars_keep_the_class_order_and_values():
    spec = per_class_spec(CLASSES, [0.5, 0.25, 1.0], "Accuracy")
    assert spec["data"]["values"] == [{"class": "cat", "accuracy": 0.5}, {"class": "dog", "accuracy": 0.25},
                                      {"class": "ship", "accuracy": 1.0}]
    assert spec["encoding"]["y"]["sort"] == list(CLASSES)  # one bar per class, in class order
    assert spec["encoding"]["x"]["scale"]["domain"] == [0, 1]
    assert spec["layer"][1]["encoding"]["text"]["format"] == ".0%"  # every bar says its percentage
    assert spec["title"] == "Accuracy"
    two_lines = per_class_spec(CLASSES, [0.5, 0.25, 1.0], "Accuracy", subtitle="overall 58%")
    assert two_lines["title"] == {"text": "Accuracy", "subtitle": "overall 58%"}


def test_curves_hold_train_and_test_for_every_epoch():
    history = {"epoch": [1.0, 2.0, 3.0], "train_loss": [2.0, 1.0, 0.5], "test_loss": [2.1, 1.2, 0.9]}
    spec = curve_spec(history, "loss", "Loss")
    rows = spec["data"]["values"]
    assert [(r["epoch"], r["split"], r["loss"]) for r in rows] == [
        (1, "train", 2.0), (2, "train", 1.0), (3, "train", 0.5), (1, "test", 2.1), (2, "test", 1.2), (3, "test", 0.9)]
    assert "format" not in spec["encoding"]["y"]["axis"]  # loss is not a percentage
    acc = curve_spec({"epoch": [1], "train_acc": [0.5], "test_acc": [0.4]}, "acc", "Acc")
    assert acc["encoding"]["y"]["axis"]["format"] == ".0%"


def test_curves_of_a_validation_split_and_their_legend_names():
    history = {"epoch": [1.0, 2.0], "train_loss": [2.0, 1.0], "val_loss": [1.8, 1.1]}
    spec = curve_spec(history, "loss", "Loss", names={"train": "training batches", "val": "validation split"})
    assert [(r["epoch"], r["split"], r["loss"]) for r in spec["data"]["values"]] == [
        (1, "training batches", 2.0), (2, "training batches", 1.0),
        (1, "validation split", 1.8), (2, "validation split", 1.1)]
    assert spec["encoding"]["color"]["sort"] == ["training batches", "validation split"]
    assert {r["split"] for r in curve_spec(history, "loss", "Loss")["data"]["values"]} == {"train", "validation"}


def test_confusion_cells_carry_every_count_in_row_major_order():
    cm = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 9]])
    spec = confusion_spec(cm, CLASSES)
    rows = spec["data"]["values"]
    assert len(rows) == 9 and sum(r["images"] for r in rows) == cm.sum()
    for r in rows:
        assert r["images"] == cm[CLASSES.index(r["true"]), CLASSES.index(r["predicted"])]
    assert spec["encoding"]["y"]["sort"] == list(CLASSES) and spec["encoding"]["x"]["sort"] == list(CLASSES)
    rect, text = spec["layer"]
    assert rect["params"][0]["name"] == CELL_SELECTION
    assert rect["params"][0]["select"] == {"type": "point", "fields": ["true", "predicted"], "clear": False}
    # Counts above half the maximum are written in white on the dark cells, the rest in black.
    assert text["encoding"]["color"]["condition"]["test"] == "datum.images > 4.5"


@pytest.mark.parametrize("event, expected", [
    ({"selection": {"cell": [{"true": "dog", "predicted": "cat"}]}}, (1, 0)),
    ({"selection": {"cell": {"true": "ship", "predicted": "ship"}}}, (2, 2)),
    ({"selection": {"cell": [{"true": ["cat"], "predicted": ["ship"]}]}}, (0, 2)),
    ({"selection": {"cell": [{"true": "horse", "predicted": "cat"}, {"true": "cat", "predicted": "dog"}]}}, (0, 1)),
    ({"selection": {"cell": []}}, None),
    ({"selection": {}}, None),
    ({"selection": {"cell": [{"true": "dog"}]}}, None),
    ({"selection": {"cell": [{"true": "horse", "predicted": "cat"}]}}, None),
    (None, None),
    ("garbage", None),
])
def test_selected_cell_reads_the_click_or_nothing(event, expected):
    assert selected_cell(event, CLASSES) == expected


def test_presentation_scale_enlarges_fonts_and_heights():
    small, big = confusion_spec(np.eye(3), CLASSES, 1.0), confusion_spec(np.eye(3), CLASSES, 1.4)
    assert big["height"] == round(small["height"] * 1.4)
    assert big["config"]["axis"]["labelFontSize"] == round(16 * 1.4)
    assert small["config"]["axis"]["labelFontSize"] == 16 and small["config"]["title"]["fontSize"] == 22


def test_curve_legend_writes_each_name_on_its_lines():
    spec = curve_spec({"epoch": [1], "train_loss": [1.0], "test_loss": [0.5]}, "loss", "Loss",
                      names={"train": "training:\nbatches", "test": "test:\nplain"})
    legend = spec["encoding"]["color"]["legend"]
    assert legend["labelExpr"] == "split(datum.label, '\\n')"
    assert legend["labelLimit"] == 0 and legend["orient"] == "bottom"  # under the chart, never cut
