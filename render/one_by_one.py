"""Figures and slide of the 1×1 weights page. No Streamlit here.

Built on :mod:`render.common` (same fonts, colour scales): titles name the layer and its
N×C×H×W shape, colour bars say what the colours mean.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from explain.activations import format_shape
from explain.one_by_one import OneByOneView, TopContributions
from locales import translate
from render.common import (
    DIVERGING_SCALE,
    FONT,
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    TITLE_FONT,
    bar_figure,
    colorbar,
    colorscale,
    heatmap_figure,
    text,
    tile,
    title_top,
    wrap,
)
from render.slide import GridPanel, MapPanel, slide_png

SUBPLOT_TITLE_SIZE = 18


def weight_matrix_figure(weights: np.ndarray, layer: str, height: int = 460, lang: str = "en",
                         bar: bool = True) -> go.Figure:
    """C_out×C_in weights as a diverging heat map (white = 0). ``bar=False`` leaves the colour bar
    to :func:`weight_scale` (see render.common.legend_html)."""
    w = np.asarray(weights, dtype=np.float32)
    c_out, c_in = w.shape
    return heatmap_figure(w, translate("{layer}: weights {c_out}×{c_in}×1×1 (C_out×C_in)", lang, layer=layer,
                                       c_out=c_out, c_in=c_in), translate("weight", lang),
                          height=height, diverging=True, limit=weight_scale(w, lang)[2],
                          hover=translate("output %{y} ← input %{x}: %{z:+.3f}<extra></extra>", lang),
                          axis_titles=(translate("input channel (0–{last})", lang, last=c_in - 1),
                                       translate("output channel (0–{last})", lang, last=c_out - 1)),
                          title_chars=32, bar=bar)  # half the page


def weight_scale(weights: np.ndarray, lang: str = "en") -> tuple[str, float, float]:
    """The colour bar :func:`weight_matrix_figure` leaves out with ``bar=False``: title and range."""
    limit = float(np.abs(np.asarray(weights, dtype=np.float32)).max()) or 1.0
    return translate("weight", lang), -limit, limit


def input_weights_figure(weights: np.ndarray, layer: str, out_channel: int,
                         highlight: np.ndarray | None = None, height: int = 360, lang: str = "en") -> go.Figure:
    """Bar chart of one output channel's weights (red positive, blue negative, grey = not highlighted)."""
    w = np.asarray(weights, dtype=np.float32)
    marked = set(np.asarray(highlight).tolist()) if highlight is not None else set(range(len(w)))
    colours = [(POSITIVE if v >= 0 else NEGATIVE) if i in marked else NEUTRAL for i, v in enumerate(w)]
    return bar_figure(list(range(len(w))), w.tolist(),
                      translate("{layer}, output channel {channel} (row {channel} above): its {count} input weights",
                                lang, layer=layer, channel=out_channel, count=len(w)),
                      translate("input channel", lang), translate("weight", lang), height=height, colours=colours,
                      hover=translate("input %{x}: %{y:+.3f}<extra></extra>", lang))


def _map_grid(panels: list[tuple[str, np.ndarray]], columns: int, title: str, colorbar_title: str,
              limit: float, panel_height: int = 230, title_chars: int = 64, bar: bool = True) -> go.Figure:
    """Small heat maps on one shared diverging colour scale (so sizes can be compared), each named
    above it. A panel's name may hold line breaks ("\n"); the title is wrapped at ``title_chars``;
    ``bar=False``: no colour bar (the page shows render.common.legend_html instead).

    One heat-map trace over a mosaic of the panels (NaN gaps) and their names as one text trace.
    As one subplot per panel, each with its own axes and a title annotation, the contributions'
    eight panels took 19 ms to draw in a blank Chromium page, as a mosaic 5; on the 1×1 page the
    two grids were ≈ 60 ms of a channel click. Hovering names the cell of its panel."""
    maps = np.stack([np.asarray(v, dtype=np.float32) for _, v in panels])
    _, h, w = maps.shape
    rows = (len(maps) + columns - 1) // columns
    lines = max(name.count("\n") + 1 for name, _ in panels)
    gap = max(1, w // 8)
    # Room for the names above each row, in cells: a cell is about panel_height / (h + gap) px high,
    # a line of text 1.4 × its size (also when presentation mode enlarges the text with the figure).
    above = int(np.ceil(lines * 1.4 * SUBPLOT_TITLE_SIZE * (h + gap) / panel_height))
    mosaic, corners = tile(maps, columns, gap=gap, above=above)
    where = np.full((*mosaic.shape, 2), -1)  # (row, col) of each mosaic cell in its panel
    for y, x in corners:
        where[y:y + h, x:x + w] = np.stack(np.mgrid[0:h, 0:w], axis=-1)
    limit = float(limit) or 1.0
    title = wrap(title, title_chars)
    top = title_top(title)
    heat = dict(type="heatmap", z=mosaic, customdata=where, coloraxis="coloraxis", hoverongaps=False,
                hovertemplate="row %{customdata[0]}, col %{customdata[1]}: %{z:+.3f}<extra></extra>")
    names = dict(type="scatter", mode="text", x=[x + (w - 1) / 2 for _, x in corners], y=[y - 0.5 for y, _ in corners],
                 text=["<br>".join(text(line) for line in name.split("\n")) for name, _ in panels],
                 textposition="top center", textfont=dict(size=SUBPLOT_TITLE_SIZE), cliponaxis=False,
                 hoverinfo="skip", showlegend=False)
    bare = dict(visible=False, showgrid=False, zeroline=False)
    layout = dict(title=dict(text=title, font=TITLE_FONT), font=FONT, height=top + 10 + rows * panel_height,
                  margin=dict(l=10, r=10, t=top, b=10),
                  xaxis=dict(bare, constrain="domain"),
                  yaxis=dict(bare, autorange="reversed", scaleanchor="x", constrain="domain"),
                  coloraxis=dict(colorscale=colorscale(DIVERGING_SCALE), cmin=-limit, cmax=limit, cmid=0.0,
                                 colorbar=colorbar(colorbar_title), showscale=bar))
    return go.Figure(dict(data=[heat, names], layout=layout), _validate=False)


def contribution_panels(top: TopContributions, c_in: int, lang: str = "en") -> list[tuple[str, np.ndarray]]:
    """(label, H×W map) of the strongest weighted maps, the other maps summed, and the bias:
    together they add up to the output channel."""
    panels = [(translate("{w:+.3f} × map {c}", lang, w=w, c=c), m)
              for c, w, m in zip(top.channels, top.weights, top.maps)]
    panels.append((translate("other {count} maps, summed", lang, count=c_in - len(top.channels)), top.rest))
    panels.append((translate("bias {bias:+.3f}", lang, bias=top.bias), np.full_like(top.rest, top.bias)))
    return panels


def contributions_figure(top: TopContributions, layer: str, input_layer: str, input_shape: tuple,
                         out_channel: int, columns: int = 4, lang: str = "en", bar: bool = True) -> go.Figure:
    """"weight × map" for the strongest input maps, the rest summed, and the bias: they add up
    to the output channel. ``bar=False`` leaves the colour bar to :func:`contributions_scale`."""
    panels = contribution_panels(top, input_shape[1])
    # Names on two lines: four panels side by side leave a quarter of the page to each.
    names = [translate("{w:+.3f} ×\nmap {c}", lang, w=w, c=c) for c, w in zip(top.channels, top.weights)]
    names += [translate("other {count} maps,\nsummed", lang, count=input_shape[1] - len(top.channels)),
              translate("bias\n{bias:+.3f}", lang, bias=top.bias)]
    title = translate("{layer}, output channel {channel} = Σ weight × map of {source} ({shape}) + bias", lang,
                      layer=layer, channel=out_channel, source=input_layer, shape=format_shape(input_shape))
    return _map_grid([(name, v) for name, (_, v) in zip(names, panels)], columns, title,
                     translate("contribution", lang), contributions_scale(top, lang)[2], bar=bar)


def contributions_scale(top: TopContributions, lang: str = "en") -> tuple[str, float, float]:
    """The colour bar of :func:`contributions_figure`: title and range, ± the largest |value| of
    its panels (the weighted maps, the rest and the bias)."""
    limit = max(float(np.abs(top.maps).max(initial=0.0)), float(np.abs(top.rest).max()), abs(float(top.bias))) or 1.0
    return translate("contribution", lang), -limit, limit


def sum_check_figure(reconstructed: np.ndarray, actual: np.ndarray, layer: str, output_shape: tuple,
                     out_channel: int, lang: str = "en", bar: bool = True) -> go.Figure:
    """The weighted sum next to what the layer computed (one colour scale for both); ``bar=False``
    leaves the colour bar to :func:`sum_check_scale`."""
    panels = [(translate("Σ weight × map\n+ bias", lang), reconstructed),
              (translate("{layer}\noutput", lang, layer=layer), actual)]
    title = translate("Channel {channel}: sum by hand = {layer} ({shape})", lang, channel=out_channel, layer=layer,
                      shape=format_shape(output_shape))
    return _map_grid(panels, 2, title, translate("output value", lang), sum_check_scale(reconstructed, actual, lang)[2],
                     panel_height=330, title_chars=36, bar=bar)


def sum_check_scale(reconstructed: np.ndarray, actual: np.ndarray, lang: str = "en") -> tuple[str, float, float]:
    """The colour bar of :func:`sum_check_figure`: title and range (± the larger |value|)."""
    limit = max(float(np.abs(reconstructed).max()), float(np.abs(actual).max())) or 1.0
    return translate("output value", lang), -limit, limit


# --- Prediction heat maps ------------------------------------------------------------------


def one_by_one_slide(view: OneByOneView, name: str, footer: str, lang: str = "en") -> bytes:
    """The weighted maps (and the rest, and the bias) on one diverging scale, their sum, and the
    layer's own output."""
    panels = contribution_panels(view.top, view.in_shape[1], lang)
    d = view.decomposition
    maps = np.stack([np.asarray(v, np.float32) for _, v in panels])
    limit = max(float(np.abs(maps).max()), float(np.abs(d.reconstructed).max()), float(np.abs(d.actual).max()))
    limit = limit or 1.0
    return slide_png(
        translate("{layer}, output channel {channel} = Σ weight × map of {source} ({shape}) + bias, {name}", lang,
                  layer=view.layer, channel=view.channel, source=view.source, shape=format_shape(view.in_shape),
                  name=name),
        [GridPanel(translate("weight × map", lang), maps, [t for t, _ in panels], translate("contribution", lang),
                   diverging=True, vmin=-limit, vmax=limit, columns=min(4, len(maps)), weight=2.4),
         MapPanel(translate("Σ weight × map + bias", lang), d.reconstructed, translate("output value", lang),
                  diverging=True, vmin=-limit, vmax=limit),
         MapPanel(translate("{layer} output", lang, layer=view.layer), d.actual, translate("output value", lang),
                  diverging=True, vmin=-limit, vmax=limit)],
        footer)
