"""Plotly figures made for a projector. No Streamlit here: pages only place these.

Images are upscaled with nearest-neighbour in numpy before plotting, so every CIFAR pixel
stays a sharp square whatever the browser does; titles name the layer and its shape; colour
scales are labelled. User-provided text (channel names) is HTML-escaped, because Plotly
would otherwise render tags inside annotations.
"""

from __future__ import annotations

import html
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative as _q

FONT = dict(size=18)
TITLE_FONT = dict(size=22)
# Streamlit's chart theme sets 12 px tick labels unless a figure names its own: axis and
# colour-bar ticks are set explicitly everywhere, readable from the back row.
TICK_FONT = dict(size=16)
HEAT_SCALE = "Viridis"
DIVERGING_SCALE = "RdBu_r"
# 36 clearly different colours for winning channels (Plotly's Alphabet + Dark24 palettes).
CATEGORY_COLOURS = tuple(_q.Alphabet) + tuple(_q.Dark24)


def colorbar(title: str) -> dict:
    """A colour bar with projector-sized tick labels and title (Streamlit's theme would shrink them)."""
    return dict(tickfont=TICK_FONT, title=dict(text=title, font=FONT))


def text(value: str) -> str:
    """User text made safe for Plotly labels (shown literally, never as markup)."""
    return html.escape(str(value), quote=False)


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling of an H×W or H×W×C array."""
    return np.repeat(np.repeat(np.asarray(image), factor, axis=0), factor, axis=1)


def display_pixels(image: np.ndarray, size: int = 256) -> np.ndarray:
    """``image`` upscaled nearest-neighbour by the whole factor that brings its height closest to
    ``size`` from below (at least 1): how a 32×32 image is shown (pixels stay honest)."""
    img = np.asarray(image)
    return upscale(img, max(1, size // img.shape[0]))


def png_data_uri(image: np.ndarray) -> str:
    """A uint8 image as a PNG data URI: a few kB where a JSON pixel array is hundreds."""
    import base64
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buf, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _layout_dict(title: str, height: int, width: int | None = None,
                 annotations: list[dict] | None = None, top: int = 60) -> dict:
    """Title, size and bare square axes (image coordinates: y down) as one layout dict."""
    axis = dict(showticklabels=False, showgrid=False, zeroline=False, ticks="", tickfont=TICK_FONT,
                title_font=FONT)
    layout = dict(title=dict(text=title, font=TITLE_FONT), font=FONT, height=height,
                  margin=dict(l=10, r=10, t=top, b=10), xaxis=axis,
                  yaxis=dict(axis, autorange="reversed", scaleanchor="x"))
    if width is not None:
        layout["width"] = width
    if annotations:
        layout["annotations"] = annotations
    return layout


def _layout(fig: go.Figure, title: str, height: int, width: int | None = None,
            annotations: list[dict] | None = None) -> go.Figure:
    """:func:`_layout_dict` set in ONE layout update (each Plotly ``update_*`` or
    ``add_annotation`` call re-walks the figure: dozens of them cost tens of milliseconds)."""
    fig.update_layout(_layout_dict(title, height, width, annotations))
    return fig


def image_figure(image: np.ndarray, title: str, height: int = 360, top: int = 60) -> go.Figure:
    """A uint8 H×W×3 image, pixels kept square and sharp (one dict, validated in tests)."""
    trace = dict(type="image", source=png_data_uri(display_pixels(np.asarray(image, dtype=np.uint8))),
                 hoverinfo="skip")
    return go.Figure(dict(data=[trace], layout=_layout_dict(title, height, top=top)), _validate=False)


def heatmap_figure(values: np.ndarray, title: str, colorbar_title: str, height: int = 360,
                   diverging: bool = False, *, limit: float | None = None, hover: str | None = None,
                   axis_titles: tuple[str, str] | None = None, shapes: list[dict] | None = None,
                   top: int = 60) -> go.Figure:
    """A 2-D array as a heat map (rows down). ``diverging``: white at 0, blue/red either side,
    symmetric to ``limit`` if given; ``axis_titles`` (x, y) also shows the tick labels.
    Built as one dict without Plotly's validation (tests/test_figures.py validates it)."""
    v = np.asarray(values, dtype=np.float32)
    trace = dict(type="heatmap", z=v, colorscale=colorscale(DIVERGING_SCALE if diverging else HEAT_SCALE),
                 colorbar=colorbar(colorbar_title),
                 hovertemplate=hover or "row %{y}, col %{x}: %{z:.3f}<extra></extra>")
    if diverging:
        trace["zmid"] = 0.0
    if limit is not None:
        trace.update(zmin=-limit, zmax=limit)
    layout = _layout_dict(title, height, top=top)
    if axis_titles is not None:
        for axis, label in zip(("xaxis", "yaxis"), axis_titles):
            layout[axis] = dict(layout[axis], showticklabels=True, title=dict(text=label, font=FONT))
    if shapes:
        layout["shapes"] = shapes
    return go.Figure(dict(data=[trace], layout=layout), _validate=False)


def overlay_figure(image: np.ndarray, heat: np.ndarray, title: str, opacity: float,
                   colorbar_title: str, height: int = 380, top: int = 60) -> go.Figure:
    """A heat map over the upscaled image. ``heat`` may have any H×W that divides the display
    size; it is sent at its own resolution and drawn as sharp cells over the image.
    Built as one dict without Plotly's validation (tests/test_figures.py validates it): the
    heat-map page draws three of these per rerun."""
    big = display_pixels(np.asarray(image, dtype=np.uint8))
    h = np.asarray(heat, dtype=np.float32)
    cell_y, cell_x = big.shape[0] / h.shape[0], big.shape[1] / h.shape[1]
    # An image trace puts pixel i at x = i, so a cell of width c is centred at j*c + c/2 - 0.5.
    traces = [dict(type="image", source=png_data_uri(big), hoverinfo="skip"),
              dict(type="heatmap", z=h, x0=cell_x / 2 - 0.5, dx=cell_x, y0=cell_y / 2 - 0.5, dy=cell_y,
                   opacity=opacity, colorscale=colorscale("Inferno"),
                   colorbar=colorbar(colorbar_title),
                   hovertemplate="%{z:.3f}<extra></extra>")]
    return go.Figure(dict(data=traces, layout=_layout_dict(title, height, top=top)), _validate=False)


@lru_cache(maxsize=None)
def colorscale(name: str) -> tuple:
    """A named Plotly colour scale as [[position, colour], ...] (Plotly.js knows only a few names)."""
    from plotly.colors import get_colorscale

    return tuple(tuple(pair) for pair in get_colorscale(name))


def tile(maps: np.ndarray, columns: int, gap: int = 1) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """C×H×W → one 2-D mosaic (NaN gaps) and the (row, col) of each tile's top-left corner."""
    c, h, w = maps.shape
    rows = (c + columns - 1) // columns
    mosaic = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), np.nan, dtype=np.float32)
    corners = []
    for i in range(c):
        r, col = divmod(i, columns)
        y, x = r * (h + gap), col * (w + gap)
        mosaic[y:y + h, x:x + w] = maps[i]
        corners.append((y, x))
    return mosaic, corners


def stretch_each(maps: np.ndarray) -> np.ndarray:
    """C×H×W maps, each stretched to 0..1 on its own (a constant map becomes 0)."""
    m = np.asarray(maps, dtype=np.float32)
    lo = m.min(axis=(1, 2), keepdims=True)
    hi = m.max(axis=(1, 2), keepdims=True)
    return np.where(hi > lo, (m - lo) / np.where(hi > lo, hi - lo, 1), 0).astype(np.float32)


def feature_grid_figure(maps: np.ndarray, channels: list[int], title: str, per_channel_scale: bool,
                        columns: int = 16, height: int | None = None) -> go.Figure:
    """All channels of a layer as one mosaic; each tile labelled with its channel number.

    ``maps`` is C'×H×W in display order and ``channels`` the channel index of each tile.
    With ``per_channel_scale`` each tile is stretched to 0..1 on its own.
    """
    m = stretch_each(maps) if per_channel_scale else np.asarray(maps, dtype=np.float32)
    columns = min(columns, len(m))
    gap = max(1, m.shape[1] // 8)
    mosaic, corners = tile(m, columns, gap=gap)
    channel_at = np.full(mosaic.shape, -1)
    for ch, (y, x) in zip(channels, corners):
        channel_at[y:y + m.shape[1], x:x + m.shape[2]] = ch
    fig = go.Figure(go.Heatmap(
        z=mosaic, colorscale=HEAT_SCALE, customdata=channel_at,
        colorbar=colorbar("per-channel 0–1" if per_channel_scale else "activation"),
        hovertemplate="channel %{customdata}: %{z:.3f}<extra></extra>", hoverongaps=False))
    labels = [dict(x=x - 0.5, y=y - 0.5, text=str(ch), showarrow=False, xanchor="left", yanchor="top",
                   font=dict(size=14, color="white"), bgcolor="rgba(0,0,0,0.55)")
              for ch, (y, x) in zip(channels, corners)]
    rows = (len(m) + columns - 1) // columns
    return _layout(fig, title, height or max(260, 60 + rows * 90), annotations=labels)


def semantic_figure(image: np.ndarray, channel_map: np.ndarray, colours: dict[int, str],
                    labels: dict[int, str], title: str, opacity: float, height: int = 520) -> go.Figure:
    """Winning channel at each position as a colour over the image, labelled in each cell."""
    img = np.asarray(image, dtype=np.uint8)
    size = 512
    cell = size // channel_map.shape[0]
    big = upscale(img, size // img.shape[0]).astype(np.float32)
    colour_img = np.zeros((channel_map.shape[0], channel_map.shape[1], 3), np.float32)
    for ch, hexcol in colours.items():
        rgb = np.array([int(hexcol[i:i + 2], 16) for i in (1, 3, 5)], np.float32)
        colour_img[channel_map == ch] = rgb
    blended = (1 - opacity) * big + opacity * upscale(colour_img, cell)
    image_trace = dict(type="image", source=png_data_uri(blended.clip(0, 255).astype(np.uint8)), hoverinfo="skip")
    cell_labels = []
    if cell >= 40:  # label each cell when cells are big enough to read
        cell_labels = [dict(x=c * cell + cell / 2, y=r * cell + cell / 2, text=text(labels[int(ch)]),
                            showarrow=False, font=dict(size=14 if cell >= 60 else 11, color="white"),
                            bgcolor="rgba(0,0,0,0.5)")
                       for (r, c), ch in np.ndenumerate(channel_map)]
    layout = _layout_dict(title, height, annotations=cell_labels)
    return go.Figure(dict(data=[image_trace], layout=layout), _validate=False)  # validated in tests


def bar_figure(x: list, y: list, title: str, x_title: str, y_title: str, height: int = 360,
               colours: list[str] | None = None, *, hover: str | None = None, labels: str | None = None,
               y_range: list[float] | None = None, y_format: str | None = None, top: int = 60) -> go.Figure:
    """Bars with projector-sized fonts, built as one dict without Plotly's validation
    (tests/test_figures.py validates it). ``labels``: a text template written above each bar
    (e.g. "%{y:.1%}"); ``hover``: the hover template; ``y_range``/``y_format``: the value axis."""
    bar = dict(type="bar", x=list(x), y=list(y))
    if colours is not None:
        bar["marker"] = dict(color=list(colours))
    if hover is not None:
        bar["hovertemplate"] = hover
    if labels is not None:
        bar.update(texttemplate=labels, textposition="outside", textfont=FONT)
    yaxis = dict(title=dict(text=y_title, font=FONT), tickfont=TICK_FONT)
    if y_range is not None:
        yaxis["range"] = list(y_range)
    if y_format is not None:
        yaxis["tickformat"] = y_format
    layout = dict(title=dict(text=title, font=TITLE_FONT), font=FONT, height=height,
                  margin=dict(l=10, r=10, t=top, b=10),
                  xaxis=dict(title=dict(text=x_title, font=FONT), tickfont=TICK_FONT), yaxis=yaxis)
    return go.Figure(dict(data=[bar], layout=layout), _validate=False)


def enlarge(fig: go.Figure, factor: float) -> go.Figure:
    """A copy of ``fig`` with every font, the height and the top margin × ``factor`` (e.g. for a
    projector in presentation mode); ``factor`` 1 returns ``fig`` itself. Titles, already large and
    often in narrow columns, grow half as much (× 1.2 for × 1.4), so they still fit."""
    if factor == 1:
        return fig
    fig = go.Figure(fig)

    def times(size, default=None, by=factor):
        size = size if size is not None else default
        return None if size is None else round(size * by)

    layout = fig.layout
    base = layout.font.size or 12
    title_size = times(layout.title.font.size, base, by=1 + (factor - 1) / 2)
    fig.update_layout(font_size=times(base), title_font_size=title_size,
                      height=times(layout.height, 450), margin_t=times(layout.margin.t, 100))
    for ann in layout.annotations:
        ann.font.size = times(ann.font.size, base)
    for axis in (*fig.select_xaxes(), *fig.select_yaxes()):
        axis.update(tickfont_size=times(axis.tickfont.size, base), title_font_size=times(axis.title.font.size, base))
    for trace in fig.data:
        bar = getattr(trace, "colorbar", None)
        if bar is not None:
            bar.update(tickfont_size=times(bar.tickfont.size, base), title_font_size=times(bar.title.font.size, base))
        if getattr(trace, "textfont", None) is not None and trace.textfont.size is not None:
            trace.textfont.size = times(trace.textfont.size)
    if layout.coloraxis.colorbar is not None:
        fig.update_layout(coloraxis_colorbar_tickfont_size=times(layout.coloraxis.colorbar.tickfont.size, base))
    return fig
