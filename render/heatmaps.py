"""Figures and slide of the Prediction heatmaps page. No Streamlit here.

Built on :mod:`render.common` (same fonts, colour scales and nearest-neighbour upscaling):
titles name the layer and its N×C×H×W shape, colour bars say what the colours mean.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from explain.activations import format_shape
from explain.heatmaps import upsample
from render.common import NEUTRAL, OVERLAY_CMAP, TRUE_CLASS, bar_figure, overlay_figure, text, upscale
from render.slide import MapPanel, input_panel, slide_png


def top_classes_figure(top: list[tuple[int, float]], classes: tuple[str, ...], true_class: int,
                       title: str, height: int = 380) -> go.Figure:
    """Bar chart of the most probable classes; the true class in green."""
    names = [classes[i] for i, _ in top]
    colours = [TRUE_CLASS if i == true_class else NEUTRAL for i, _ in top]
    return bar_figure(names, [float(p) for _, p in top], title, "class (green = true class)", "probability",
                      height=height, colours=colours, hover="%{x}: %{y:.2%}<extra></extra>",
                      labels="%{y:.1%}", y_range=[0, 1.1], y_format=".0%", top=90)


HEATMAP_TITLES = {  # two short lines, so three figures fit side by side
    "channel sum": ("Sum of all {c} maps<br>{layer} ({shape})", "sum of maps"),
    "CAM": ("CAM for “{cls}”<br>{layer} ({shape})", "CAM (logit units)"),
    "Grad-CAM": ("Grad-CAM for “{cls}”<br>{layer} ({shape})", "Grad-CAM"),
}


def heatmap_overlay_figure(image: np.ndarray, raw_map: np.ndarray, method: str, class_name: str,
                           layer: str, shape: tuple, opacity: float, height: int = 420) -> go.Figure:
    """A heat map (at its layer's resolution) upsampled to the image and laid over it."""
    title, colorbar = HEATMAP_TITLES[method]
    title = title.format(c=shape[1], layer=layer, shape=format_shape(shape), cls=text(class_name))
    size = np.asarray(image).shape[0]
    return overlay_figure(image, upsample(raw_map, size), title, opacity, colorbar, height=height, top=90)


def heatmaps_slide(image: np.ndarray, name: str, guess: str, chosen: str,
                   maps: Sequence[tuple[str, np.ndarray, str]], opacity: float, footer: str) -> bytes:
    """Input and one heat map per method (title, H×W map, colour-bar label), each laid over the
    image after bilinear upsampling (as on the page)."""
    size = np.asarray(image).shape[0]
    big = upscale(np.asarray(image, np.uint8), 8)
    panels = [input_panel(image, f"{name}, predicted {guess}")]
    panels += [MapPanel(title, upsample(values, size), colorbar, cmap=OVERLAY_CMAP, background=big,
                        opacity=opacity) for title, values, colorbar in maps]
    return slide_png(f"Where did the network look? {name}, class “{chosen}”", panels, footer)
