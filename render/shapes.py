"""Slide of the Shapes and parameters page (its figures are the playground's number grids and
:func:`render.common.bar_figure`). No Streamlit here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from locales import known, translate
from render.common import FONT, TICK_FONT, TITLE_FONT
from render.slide import GridPanel, slide_png

LINEAR_UP_TO = 256  # the bars' value axis is linear up to here, logarithmic beyond
DIMENSIONS = {"C": known("C (channels)"), "H": known("H (height)"), "W": known("W (width)")}


def pooling_slide(panels: Sequence[tuple[str, np.ndarray]], limit: float, footer: str,
                  lang: str = "en") -> bytes:
    """The lecture's pooling example: each stage (title, C×H×W maps) as its channels side by side,
    values written in the cells, one colour scale 0..``limit`` for all."""
    return slide_png(
        translate("Pooling keeps the channels: max, average and global average pooling", lang),
        [GridPanel(title, np.asarray(maps, np.float32),
                   [translate("channel {number}", lang, number=c + 1) for c in range(len(maps))],
                   translate("value", lang), cmap="Blues", columns=1, vmin=0.0, vmax=float(limit), titled=True,
                   cell_text=True, weight=1.0) for title, maps in panels],
        footer)


def shape_flow_figure(stages: Sequence[tuple[str, tuple[int, int, int, int]]], lang: str = "en",
                      height: int = 460) -> go.Figure:
    """The N×C×H×W exercise drawn: for each tensor of the chain (input, then each layer's output)
    its channels C, height H and width W as three bars, the number written on each, on a log scale
    when one runs past ``LINEAR_UP_TO`` (C to thousands, H and W to tens). The x labels are the
    stages with their full shape."""
    labels = [f"{name}<br>{'×'.join(str(v) for v in shape)}" for name, shape in stages]
    traces = []
    for index, (dim, colour) in enumerate((("C", "#c0392b"), ("H", "#2471a3"), ("W", "#1e8449")), start=1):
        values = [shape[index] for _, shape in stages]
        traces.append(dict(type="bar", name=translate(DIMENSIONS[dim], lang), x=labels, y=values,
                           marker=dict(color=colour), text=[str(v) for v in values], textposition="outside",
                           textfont=FONT, cliponaxis=False, hovertemplate="%{x}: %{y}<extra></extra>"))
    title = translate("The tensor's shape, layer by layer (N×C×H×W)", lang)
    layout = dict(title=dict(text=title, font=TITLE_FONT), font=FONT, height=height, barmode="group",
                  margin=dict(l=10, r=10, t=100, b=10),
                  legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0, font=FONT),
                  xaxis=dict(tickfont=TICK_FONT),
                  yaxis=dict(tickfont=TICK_FONT, title=dict(text=translate("size", lang), font=FONT)))
    if max(max(shape[1:]) for _, shape in stages) > LINEAR_UP_TO:  # thousands of channels next to tens of pixels
        layout["yaxis"].update(type="log", dtick=1,
                               title=dict(text=translate("size (log scale)", lang), font=FONT))
    return go.Figure(dict(data=traces, layout=layout), _validate=False)
