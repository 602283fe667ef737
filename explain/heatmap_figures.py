"""Figures of the "1×1 weights" and "Prediction heatmaps" pages. No Streamlit here.

Built on :mod:`explain.figures` (same fonts, colour scales and nearest-neighbour upscaling):
titles name the layer and its N×C×H×W shape, colour bars say what the colours mean.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from explain.figures import (DIVERGING_SCALE, FONT, TITLE_FONT, bar_figure, heatmap_figure,
                             overlay_figure, text, upscale)
from explain.heatmaps import upsample
from explain.one_by_one import TopContributions

OVERLAY_SCALE = "Inferno"  # the colour scale of explain.figures.overlay_figure
POSITIVE, NEGATIVE, NEUTRAL, TRUE_CLASS = "#c0392b", "#2471a3", "#7f8c8d", "#1e8449"
SUBPLOT_TITLE_SIZE = 18
TICK_FONT = dict(size=16)


def _readable(fig: go.Figure) -> go.Figure:
    """Projector-sized tick labels, axis titles and colour-bar labels (Streamlit's theme would
    otherwise shrink them)."""
    fig.update_xaxes(tickfont=TICK_FONT, title_font=FONT)
    fig.update_yaxes(tickfont=TICK_FONT, title_font=FONT)
    bar = dict(tickfont=TICK_FONT, title=dict(font=FONT))
    fig.update_traces(colorbar=bar, selector=dict(type="heatmap"))
    if fig.layout.coloraxis.colorscale is not None:
        fig.update_layout(coloraxis_colorbar=bar)
    return fig


# --- 1×1 weights ---------------------------------------------------------------------------

def weight_matrix_figure(weights: np.ndarray, layer: str, selected: int | None = None,
                         height: int = 460) -> go.Figure:
    """C_out×C_in weights as a diverging heat map (white = 0); the row ``selected`` is framed."""
    w = np.asarray(weights, dtype=np.float32)
    c_out, c_in = w.shape
    fig = heatmap_figure(w, f"{layer}: weights {c_out}×{c_in}×1×1 (C_out×C_in)", "weight",
                         height=height, diverging=True)
    lim = float(np.abs(w).max()) or 1.0
    fig.update_traces(zmin=-lim, zmax=lim,
                      hovertemplate="output %{y} ← input %{x}: %{z:+.3f}<extra></extra>")
    fig.update_xaxes(title=f"input channel (0–{c_in - 1})", showticklabels=True)
    fig.update_yaxes(title=f"output channel (0–{c_out - 1})", showticklabels=True)
    if selected is not None:
        fig.add_shape(type="rect", x0=-0.5, x1=c_in - 0.5, y0=selected - 0.5, y1=selected + 0.5,
                      line=dict(color="black", width=3))
    return _readable(fig)


def input_weights_figure(weights: np.ndarray, layer: str, out_channel: int,
                         highlight: np.ndarray | None = None, height: int = 360) -> go.Figure:
    """Bar chart of one output channel's weights (red positive, blue negative, grey = not highlighted)."""
    w = np.asarray(weights, dtype=np.float32)
    marked = set(np.asarray(highlight).tolist()) if highlight is not None else set(range(len(w)))
    colours = [(POSITIVE if v >= 0 else NEGATIVE) if i in marked else NEUTRAL for i, v in enumerate(w)]
    fig = bar_figure(list(range(len(w))), w.tolist(),
                     f"{layer}, output channel {out_channel}: its {len(w)} input weights",
                     "input channel", "weight", height=height, colours=colours)
    fig.update_traces(hovertemplate="input %{x}: %{y:+.3f}<extra></extra>")
    return _readable(fig)


def _map_grid(panels: list[tuple[str, np.ndarray]], columns: int, title: str, colorbar_title: str,
              limit: float, panel_height: int = 230) -> go.Figure:
    """Small heat maps on one shared diverging colour scale (so sizes can be compared)."""
    rows = (len(panels) + columns - 1) // columns
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=[text(t) for t, _ in panels],
                        horizontal_spacing=0.03, vertical_spacing=0.12 if rows > 1 else 0.0)
    for i, (_, values) in enumerate(panels):
        r, c = divmod(i, columns)
        fig.add_trace(go.Heatmap(z=np.asarray(values, np.float32), coloraxis="coloraxis",
                                 hovertemplate="row %{y}, col %{x}: %{z:+.3f}<extra></extra>"),
                      row=r + 1, col=c + 1)
    limit = float(limit) or 1.0
    fig.update_layout(
        title=dict(text=title, font=TITLE_FONT), font=FONT, height=80 + rows * panel_height,
        margin=dict(l=10, r=10, t=100, b=10),
        coloraxis=dict(colorscale=DIVERGING_SCALE, cmin=-limit, cmax=limit, cmid=0.0,
                       colorbar=dict(title=dict(text=colorbar_title))))
    fig.update_annotations(font=dict(size=SUBPLOT_TITLE_SIZE))
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="", autorange="reversed")
    for i in range(len(panels)):
        suffix = "" if i == 0 else str(i + 1)
        fig.update_layout({f"yaxis{suffix}": dict(scaleanchor=f"x{suffix}")})
    return _readable(fig)


def contributions_figure(top: TopContributions, layer: str, input_layer: str, input_shape: tuple,
                         out_channel: int, columns: int = 4) -> go.Figure:
    """"weight × map" for the strongest input maps, the rest summed, and the bias: they add up
    to the output channel."""
    from explain.activations import format_shape

    c_in = input_shape[1]
    panels = [(f"{w:+.3f} × map {c}", m) for c, w, m in zip(top.channels, top.weights, top.maps)]
    panels.append((f"other {c_in - len(top.channels)} maps, summed", top.rest))
    panels.append((f"bias {top.bias:+.3f}", np.full_like(top.rest, top.bias)))
    limit = max(float(np.abs(v).max()) for _, v in panels)
    title = (f"{layer}, output channel {out_channel} = Σ weight × map of {input_layer} "
             f"({format_shape(input_shape)}) + bias")
    return _map_grid(panels, columns, title, "contribution", limit)


def sum_check_figure(reconstructed: np.ndarray, actual: np.ndarray, layer: str, output_shape: tuple,
                     out_channel: int) -> go.Figure:
    """The weighted sum next to what the layer computed (one colour scale for both)."""
    from explain.activations import format_shape

    panels = [("Σ weight × map + bias", reconstructed), (f"{layer} output", actual)]
    limit = max(float(np.abs(reconstructed).max()), float(np.abs(actual).max()))
    title = f"Channel {out_channel}: sum by hand = {layer} ({format_shape(output_shape)})"
    return _map_grid(panels, 2, title, "output value", limit, panel_height=330)


# --- Prediction heat maps ------------------------------------------------------------------

def top_classes_figure(top: list[tuple[int, float]], classes: tuple[str, ...], true_class: int,
                       title: str, height: int = 380) -> go.Figure:
    """Bar chart of the most probable classes; the true class in green."""
    names = [classes[i] for i, _ in top]
    colours = [TRUE_CLASS if i == true_class else NEUTRAL for i, _ in top]
    fig = bar_figure(names, [p for _, p in top], title, "class (green = true class)", "probability",
                     height=height, colours=colours)
    fig.update_yaxes(range=[0, 1.1], tickformat=".0%")
    fig.update_layout(margin=dict(t=90))
    fig.update_traces(texttemplate="%{y:.1%}", textposition="outside", textfont=FONT,
                      hovertemplate="%{x}: %{y:.2%}<extra></extra>")
    return _readable(fig)


HEATMAP_TITLES = {  # two short lines, so three figures fit side by side
    "channel sum": ("Sum of all {c} maps<br>{layer} ({shape})", "sum of maps"),
    "CAM": ("CAM for “{cls}”<br>{layer} ({shape})", "CAM (logit units)"),
    "Grad-CAM": ("Grad-CAM for “{cls}”<br>{layer} ({shape})", "Grad-CAM"),
}


def heatmap_overlay_figure(image: np.ndarray, raw_map: np.ndarray, method: str, class_name: str,
                           layer: str, shape: tuple, opacity: float, height: int = 420) -> go.Figure:
    """A heat map (at its layer's resolution) upsampled to the image and laid over it."""
    from explain.activations import format_shape

    title, colorbar = HEATMAP_TITLES[method]
    title = title.format(c=shape[1], layer=layer, shape=format_shape(shape), cls=text(class_name))
    size = np.asarray(image).shape[0]
    fig = overlay_figure(image, upsample(raw_map, size), title, opacity, colorbar, height=height)
    fig.update_layout(margin=dict(t=90))
    return _readable(fig)


@lru_cache(maxsize=4)
def _lut(scale: str) -> np.ndarray:
    """256×3 uint8 colours of a Plotly colour scale."""
    colours = sample_colorscale(scale, list(np.linspace(0.0, 1.0, 256)))
    return np.array([[int(float(v)) for v in c[c.index("(") + 1:-1].split(",")] for c in colours],
                    dtype=np.uint8)


def overlay_pixels(image: np.ndarray, heat01: np.ndarray, opacity: float, size: int = 128,
                   scale: str = OVERLAY_SCALE) -> np.ndarray:
    """A thumbnail: the heat map (0..1, same H×W as the image) coloured and blended over the image,
    then upscaled nearest-neighbour to ``size``×``size``. uint8 RGB."""
    img = np.asarray(image, dtype=np.float32)
    h = np.asarray(heat01, dtype=np.float32)
    if h.shape != img.shape[:2]:
        raise ValueError(f"heat map {h.shape} must match the image {img.shape[:2]}")
    colours = _lut(scale)[np.rint(np.clip(h, 0, 1) * 255).astype(np.int64)].astype(np.float32)
    a = float(np.clip(opacity, 0.0, 1.0))
    blended = ((1 - a) * img + a * colours).clip(0, 255).round().astype(np.uint8)
    return upscale(blended, max(1, size // img.shape[0]))

