"""The home page's charts as Vega-Lite specifications (``st.vega_lite_chart``), not Plotly.

Why not Plotly, like the other pages: the browser has to fetch and parse Plotly.js (4.7 MB)
before Streamlit draws anything of a page that holds a Plotly chart. On this 2-core machine
that held the home page back by about 3 s after its script had finished; Vega-Lite's bundle is
a sixth of that size and does not block the rest of the page (``python -m bench``). The home
page is the first thing a lecture hall sees, so it gets the light library; the other pages
keep Plotly's richer figures.

Fonts follow ``render.common`` (16 px ticks, 18 px axis titles, 22 px titles) and grow with
``scale`` in presentation mode. Every spec carries its data inline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from explain.home import TestSetSummary
from locales import class_names, known, translate
from render.common import FONT, TICK_FONT, TITLE_FONT
from render.slide import MapPanel, input_panel, slide_png

AXES = {"loss": known("loss"), "acc": known("acc")}  # curve_spec's y axis, by metric
CELL_SELECTION = "cell"  # the confusion matrix's point selection (st.vega_lite_chart selection_mode)


def _config(scale: float) -> dict:
    tick, axis_title, title = (round(f["size"] * scale) for f in (TICK_FONT, FONT, TITLE_FONT))
    return {
        # Streamlit's theme cuts axis labels at 100 px ("automo…" in presentation mode): no limit.
        "axis": {"labelFontSize": tick, "titleFontSize": axis_title, "titleFontWeight": "normal", "labelLimit": 0},
        "legend": {"labelFontSize": tick, "titleFontSize": tick, "orient": "top"},
        "title": {"fontSize": title, "anchor": "start", "fontWeight": "normal", "subtitleFontSize": tick},
        "view": {"stroke": None},
    }


def per_class_spec(classes: Sequence[str], accuracy: Sequence[float], title: str, scale: float = 1.0,
                   subtitle: str | None = None, lang: str = "en") -> dict:
    """Horizontal bars of per-class test accuracy (0–1), each labelled with its percentage.
    Horizontal so that all ten class names fit, unrotated, in a narrow column. Vega cuts a title
    wider than the chart, so details go in ``subtitle`` (a second line)."""
    values = [{"class": c, "accuracy": float(a)} for c, a in zip(classes, accuracy)]
    y = {"field": "class", "type": "nominal", "sort": list(classes), "title": None}
    x = {"field": "accuracy", "type": "quantitative", "title": translate("accuracy", lang),
         "scale": {"domain": [0, 1]}, "axis": {"format": ".0%"}}
    return {
        "title": {"text": title, "subtitle": subtitle} if subtitle else title,
        "height": round(360 * scale), "data": {"values": values},
        "encoding": {"x": x, "y": y},
        "layer": [
            {"mark": {"type": "bar", "color": "#4c78a8", "tooltip": True}},
            {"mark": {"type": "text", "align": "right", "dx": -6, "color": "white",
                      "fontSize": round(15 * scale)},
             "encoding": {"text": {"field": "accuracy", "format": ".0%"}}},
        ],
        "config": _config(scale),
    }


def curve_spec(history: Mapping[str, Sequence[float]], metric: str, title: str, scale: float = 1.0,
               names: Mapping[str, str] | None = None, lang: str = "en") -> dict:
    """Training (solid) and held-out (dashed) ``metric`` per epoch from ``model.train``'s CSV columns
    ``epoch``, ``train_<metric>`` and ``val_<metric>`` (or ``test_<metric>`` in CSVs from before the
    validation split). ``names`` gives each series' legend text by prefix ("train", "val", "test")."""
    held_out = next(p for p in ("val", "test") if f"{p}_{metric}" in history)
    names = {"train": "train", "val": "validation", "test": "test", **(names or {})}
    order = [names["train"], names[held_out]]
    values = [{"epoch": int(e), "split": names[prefix], metric: float(v)}
              for prefix in ("train", held_out)
              for e, v in zip(history["epoch"], history[f"{prefix}_{metric}"])]
    y = {"field": metric, "type": "quantitative", "title": translate(AXES[metric], lang), "scale": {"zero": False},
         "axis": {"tickCount": 5}}
    if metric == "acc":
        y["axis"]["format"] = ".0%"
    return {
        # Taller than the other charts: Streamlit fits the legend (up to five lines) into the height.
        "title": title, "height": round(420 * scale), "data": {"values": values},
        "mark": {"type": "line", "strokeWidth": 3, "point": True, "tooltip": True},
        "encoding": {
            "x": {"field": "epoch", "type": "quantitative", "title": translate("epoch", lang),
                  "axis": {"tickMinStep": 1}},
            "y": y,
            # The legend sits under the chart, one entry a line, never cut, and a name may hold line
            # breaks ("\n"): the names say how each curve was measured (issue 11).
            "color": {"field": "split", "type": "nominal", "title": None, "sort": order,
                      "legend": {"labelExpr": "split(datum.label, '\\n')", "orient": "bottom",
                                 "direction": "vertical", "labelLimit": 0}},
            "strokeDash": {"field": "split", "type": "nominal", "title": None, "sort": order},
        },
        "config": _config(scale),
    }


def confusion_spec(cm: np.ndarray, classes: Sequence[str], scale: float = 1.0, lang: str = "en") -> dict:
    """The K×K confusion matrix (rows: true class, columns: predicted class) as coloured cells with
    their counts; clicking a cell selects its (true, predicted) pair (selection ``cell``)."""
    cm = np.asarray(cm)
    k = len(classes)
    values = [{"true": classes[i], "predicted": classes[j], "images": int(cm[i, j])}
              for i in range(k) for j in range(k)]
    half = float(cm.max()) / 2 if cm.size else 0.0
    order = list(classes)
    return {
        "height": round(560 * scale), "data": {"values": values},
        "encoding": {
            # Every class named: slanted labels 70 px apart do not touch, so Vega must not thin them out.
            "x": {"field": "predicted", "type": "nominal", "sort": order, "title": translate("predicted class", lang),
                  "axis": {"labelAngle": -40, "orient": "top", "labelOverlap": False}},
            "y": {"field": "true", "type": "nominal", "sort": order, "title": translate("true class", lang),
                  "axis": {"labelOverlap": False}},
        },
        "layer": [
            {"mark": {"type": "rect", "cursor": "pointer", "tooltip": True},
             "params": [{"name": CELL_SELECTION,
                         "select": {"type": "point", "fields": ["true", "predicted"], "clear": False}}],
             "encoding": {
                 "color": {"field": "images", "type": "quantitative", "title": translate("images", lang),
                           "scale": {"scheme": "blues"}},
                 "stroke": {"condition": {"param": CELL_SELECTION, "empty": False, "value": "#d62728"},
                            "value": None},
                 "strokeWidth": {"value": round(4 * scale)},
             }},
            {"mark": {"type": "text", "fontSize": round(15 * scale)},
             "encoding": {
                 "text": {"field": "images", "type": "quantitative", "format": ","},
                 "color": {"condition": {"test": f"datum.images > {half}", "value": "white"},
                           "value": "black"},
             }},
        ],
        "config": _config(scale),
        # SVG, not canvas: 100 crisp cells, and each is an element a browser test can click.
        "usermeta": {"embedOptions": {"renderer": "svg"}},
    }


def selected_cell(event, classes: Sequence[str]) -> tuple[int, int] | None:
    """(true, predicted) class indices of the clicked confusion-matrix cell, from the value
    ``st.vega_lite_chart(..., on_select="rerun")`` returns; None when nothing (valid) is selected."""
    try:
        points = event["selection"][CELL_SELECTION]
    except (KeyError, TypeError, AttributeError):
        return None
    if isinstance(points, Mapping):  # a point selection may come as one dict or a list of them
        points = [points]
    for point in points or ():
        try:
            true, predicted = point["true"], point["predicted"]
            true = true[0] if isinstance(true, list) else true
            predicted = predicted[0] if isinstance(predicted, list) else predicted
            return list(classes).index(true), list(classes).index(predicted)
        except (KeyError, TypeError, ValueError, IndexError):
            continue
    return None


def markdown_table(rows: list[dict]) -> str:
    """Rows with the same keys as a Markdown table (``|`` in values escaped)."""
    if not rows:
        return ""
    keys = list(rows[0])

    def cell(value) -> str:
        return (f"{value:,}" if isinstance(value, int) else str(value)).replace("|", "\\|")

    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(cell(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def confusion_slide(summary: TestSetSummary, image: np.ndarray, name: str, guess: str, confidence: float,
                    footer: str, lang: str = "en") -> bytes:
    """The current test image and the test set's confusion matrix (``guess`` already in ``lang``)."""
    classes = list(class_names(summary.classes, lang))
    return slide_png(
        translate("CIFAR-10 test set: {accuracy:.2%} top-1 accuracy", lang, accuracy=summary.accuracy),
        [input_panel(image, translate("{name}, predicted {guess} ({confidence:.0%})", lang, name=name, guess=guess,
                                      confidence=confidence)),
         MapPanel(translate("Confusion matrix (rows: true, columns: predicted)", lang), summary.confusion,
                  translate("images", lang), cmap="Blues", x_labels=classes, y_labels=classes,
                  x_title=translate("predicted class", lang), y_title=translate("true class", lang), cell_text=True,
                  weight=2.4)],
        footer)
