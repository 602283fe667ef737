"""Figures and slide of the Prediction heatmaps page. No Streamlit here.

Built on :mod:`render.common` (same fonts, colour scales and nearest-neighbour upscaling):
titles name the layer and its N×C×H×W shape, colour bars say what the colours mean.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from explain.activations import format_shape
from explain.heatmaps import HeatMap, ImageHeatMaps, upsample
from locales import class_name, known, translate
from render.common import (
    FONT,
    NEUTRAL,
    OVERLAY_CMAP,
    TITLE_FONT,
    TRUE_CLASS,
    Bar,
    bars_html,
    overlay_figure,
    text,
    upscale,
)
from render.slide import MapPanel, input_panel, slide_png


def top_classes_html(top: list[tuple[int, float]], classes: tuple[str, ...], true_class: int | None,
                     title: str, size: int = FONT["size"], title_size: int = TITLE_FONT["size"],
                     lang: str = "en") -> str:
    """The most probable classes as HTML bars (render.common.bars_html), most probable first: name,
    a bar as long as its probability, the probability written out (its two-decimal value on
    hover); the true class in green (``true_class`` None: an unlabelled photo). ``title`` may hold
    "<br>" line breaks; text ``size`` and ``title_size`` in px."""
    bars = []
    for i, p in top:
        name, share = class_name(classes[i], lang), float(p)
        colour = TRUE_CLASS if i == true_class else NEUTRAL
        bars.append(Bar(name, share, colour, f"{share:.1%}", f"{name}: {share:.2%}"))
    note = translate("no true label", lang) if true_class is None else translate("green = the true class", lang)
    return bars_html(bars, title, note, size, title_size)


HEATMAP_TITLES = {  # two short lines, so three figures fit side by side; then the colour-bar label
    "channel sum": ((known("Sum of all {c} maps"), "{layer} ({shape})"), known("sum of maps")),
    "CAM": ((known("CAM for “{cls}”"), "{layer} ({shape})"), known("CAM (logit units)")),
    "Grad-CAM": ((known("Grad-CAM for “{cls}”"), "{layer} ({shape})"), "Grad-CAM"),
}


def heatmap_title(m: HeatMap, cls: str, lang: str = "en") -> tuple[str, ...]:
    """The title lines of one heat map, the same on the page and on the slide (plain text)."""
    lines, _ = HEATMAP_TITLES[m.method]
    return tuple(translate(line, lang, c=m.shape[1], layer=m.layer, shape=format_shape(m.shape), cls=cls)
                 for line in lines)


def heatmap_overlay_figure(image: np.ndarray, m: HeatMap, cls: str, opacity: float,
                           height: int = 420, lang: str = "en", bar: bool = True) -> go.Figure:
    """A heat map (at its layer's resolution) upsampled to the image and laid over it; ``bar=False``
    leaves its colour bar to :func:`overlay_scale` (see render.common.legend_html)."""
    title = "<br>".join(text(line) for line in heatmap_title(m, cls, lang))
    size = np.asarray(image).shape[0]
    return overlay_figure(image, upsample(m.values, size), title, opacity, _scale_title(m, lang),
                          height=height, top=90, title_chars=20, bar=bar)  # a third of the page


def _scale_title(m: HeatMap, lang: str) -> str:
    """What a heat map's colours measure (its colour bar's or legend's title)."""
    return translate(HEATMAP_TITLES[m.method][1], lang)


def overlay_scale(image: np.ndarray, m: HeatMap, lang: str = "en") -> tuple[str, float, float]:
    """The colour bar that ``heatmap_overlay_figure(..., bar=False)`` leaves out: its title and the
    lowest and highest value it colours (of the upsampled map the figure draws)."""
    v = upsample(m.values, np.asarray(image).shape[0])
    return _scale_title(m, lang), float(v.min()), float(v.max())


def shared_range(maps: list[np.ndarray]) -> tuple[float, float]:
    """One colour range (low, high) that covers every map: images compared side by side are read on
    the same scale, so equal colours mean equal values."""
    low = min(float(np.min(m)) for m in maps)
    high = max(float(np.max(m)) for m in maps)
    return low, high if high > low else low + 1.0


def comparison_figures(items: list[tuple[np.ndarray, HeatMap, str]], opacity: float,
                       height: int = 520, lang: str = "en") -> list[go.Figure]:
    """Heat maps of several images by one method, side by side: one colour scale for all
    (:func:`shared_range`) and the same size. ``items`` holds (image, heat map, label) with the
    label naming the image, its true and its predicted class."""
    size = [np.asarray(image).shape[0] for image, _, _ in items]
    values = [upsample(m.values, s) for (_, m, _), s in zip(items, size)]
    zrange = shared_range(values)
    figures = []
    for (image, m, label), v in zip(items, values):
        method = translate(m.method, lang)
        title = "<br>".join(text(line) for line in (label, f"{method}, {m.layer} ({format_shape(m.shape)})"))
        bar = translate("{label}, shared scale", lang, label=_scale_title(m, lang))
        figures.append(overlay_figure(image, v, title, opacity, bar,
                                      height=height, top=60, title_chars=38, zrange=zrange))
    return figures


def heatmaps_slide(image: np.ndarray, name: str, guess: str, cls: str, result: ImageHeatMaps,
                   opacity: float, footer: str, lang: str = "en") -> bytes:
    """Input and one heat map per method, each laid over the image after bilinear upsampling
    (as on the page), titled as on the page."""
    size = np.asarray(image).shape[0]
    big = upscale(np.asarray(image, np.uint8), 8)
    panels = [input_panel(image, translate("{name}, predicted {guess}", lang, name=name, guess=guess))]
    panels += [MapPanel(" — ".join(heatmap_title(m, cls, lang)), upsample(m.values, size),
                        _scale_title(m, lang), cmap=OVERLAY_CMAP, background=big,
                        opacity=opacity)
               for m in result.maps]
    return slide_png(translate("Where did the network look? {name}, class “{cls}”", lang, name=name, cls=cls),
                     panels, footer)
