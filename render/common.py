"""What every view's figures share: projector-sized fonts, colour scales and bars, pixel
enlarging, the one heat-map overlay, and the basic Plotly figures. No Streamlit here.

Images are upscaled with nearest-neighbour in numpy before plotting, so every CIFAR pixel
stays a sharp square whatever the browser does; titles name the layer and its shape; colour
scales are labelled. User-provided text (channel names) is HTML-escaped, because Plotly
would otherwise render tags inside annotations.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative as _q
from plotly.colors import sample_colorscale, unlabel_rgb

FONT = dict(size=18)
TITLE_FONT = dict(size=22)
# Streamlit's chart theme sets 12 px tick labels unless a figure names its own: axis and
# colour-bar ticks are set explicitly everywhere, readable from the back row.
TICK_FONT = dict(size=16)
HEAT_SCALE = "Viridis"
DIVERGING_SCALE = "RdBu_r"
OVERLAY_SCALE = "Inferno"  # black = weakest, pale yellow = strongest
OVERLAY_CMAP = "inferno"  # the same map in matplotlib (slides); tests compare the two
# 36 clearly different colours for winning channels (Plotly's Alphabet + Dark24 palettes).
CATEGORY_COLOURS = tuple(_q.Alphabet) + tuple(_q.Dark24)
# Bars: red = positive, blue = negative, grey = not highlighted, green = the true class.
POSITIVE, NEGATIVE, NEUTRAL, TRUE_CLASS = "#c0392b", "#2471a3", "#7f8c8d", "#1e8449"


def colorbar(title: str) -> dict:
    """A colour bar with projector-sized tick labels and title (Streamlit's theme would shrink them)."""
    return dict(tickfont=TICK_FONT, title=dict(text=title, font=FONT))


def text(value: str) -> str:
    """User text made safe for Plotly labels (shown literally, never as markup)."""
    return html.escape(str(value), quote=False)


def wrap(title: str, chars: int | None) -> str:
    """``title`` broken at spaces into lines of at most ``chars`` characters (its own "<br>" kept),
    joined by "<br>"; unchanged for ``chars`` None. Plotly never wraps or shortens a title: at
    1280 px in presentation mode, long ones ran off their figure (issue 11). About 12.5 px a
    character at the projector's title size: a third of the page holds 20, half 32, all of it 64."""
    if not chars:
        return title
    return "<br>".join(line for part in title.split("<br>") for line in _lines(part, chars))


def _lines(line: str, chars: int) -> list[str]:
    """``line`` broken at spaces into lines of at most ``chars`` columns, a Hangul (or other wide)
    character counting two: at the same size it takes about twice a Latin letter's width."""
    lines: list[str] = []
    current = ""
    for word in line.split():
        longer = f"{current} {word}" if current else word
        if current and _columns(longer) > chars:
            lines.append(current)
            current = word
        else:
            current = longer
    return [*lines, current] if current else lines or [""]


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def title_top(title: str) -> int:
    """Top margin (px) that holds ``title``'s lines above the plot."""
    return 30 + 30 * (title.count("<br>") + 1)


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling of an H×W or H×W×C array."""
    return np.repeat(np.repeat(np.asarray(image), factor, axis=0), factor, axis=1)


def display_pixels(image: np.ndarray, size: int = 256) -> np.ndarray:
    """``image`` upscaled nearest-neighbour by the whole factor that brings its longer side closest
    to ``size`` from below (at least 1): how a 32×32 image is shown (pixels stay honest). The longer
    side, so that a photo one pixel tall is not blown up to a picture 256 times its width."""
    img = np.asarray(image)
    return upscale(img, max(1, size // max(img.shape[0], img.shape[1])))


def thumbnail(image: np.ndarray, width: int = 160) -> np.ndarray:
    """``image`` (H×W×3 uint8) shrunk to at most ``width`` pixels wide and tall, keeping its aspect
    ratio, each side at least 1 pixel; never enlarged.

    For ``st.image(..., width=thumb.shape[1])``: given a wider image, Streamlit shrinks it itself
    and rounds the height down, to 0 for a 4000×20 banner, and Pillow refuses ("height and width
    must be > 0")."""
    from PIL import Image

    img = np.asarray(image, dtype=np.uint8)
    h, w = img.shape[:2]
    factor = min(1.0, width / max(h, w))
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    if size == (w, h):
        return img
    return np.asarray(Image.fromarray(img).resize(size, Image.Resampling.LANCZOS), dtype=np.uint8)


def png_bytes(image: np.ndarray) -> bytes:
    """A uint8 image as PNG file bytes."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def png_data_uri(image: np.ndarray) -> str:
    """A uint8 image as a PNG data URI: a few kB where a JSON pixel array is hundreds."""
    import base64

    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")


def layout_dict(title: str, height: int, width: int | None = None,
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




def image_figure(image: np.ndarray, title: str, height: int = 360, top: int = 60) -> go.Figure:
    """A uint8 H×W×3 image, pixels kept square and sharp (one dict, validated in tests)."""
    trace = dict(type="image", source=png_data_uri(display_pixels(np.asarray(image, dtype=np.uint8))),
                 hoverinfo="skip")
    return go.Figure(dict(data=[trace], layout=layout_dict(title, height, top=top)), _validate=False)


def heatmap_figure(values: np.ndarray, title: str, colorbar_title: str, height: int = 360,
                   diverging: bool = False, *, limit: float | None = None, hover: str | None = None,
                   axis_titles: tuple[str, str] | None = None, shapes: list[dict] | None = None,
                   top: int = 60, title_chars: int | None = None, bar: bool = True) -> go.Figure:
    """A 2-D array as a heat map (rows down). ``diverging``: white at 0, blue/red either side,
    symmetric to ``limit`` if given; ``axis_titles`` (x, y) also shows the tick labels;
    ``title_chars`` wraps the title (:func:`wrap`); ``bar=False``: no colour bar (the page shows
    :func:`legend_html` instead).
    Built as one dict without Plotly's validation (tests/test_figures.py validates it)."""
    if title_chars:
        title = wrap(title, title_chars)
        top = max(top, title_top(title))
    v = np.asarray(values, dtype=np.float32)
    trace = dict(type="heatmap", z=v, colorscale=colorscale(DIVERGING_SCALE if diverging else HEAT_SCALE),
                 colorbar=colorbar(colorbar_title), showscale=bar,
                 hovertemplate=hover or "row %{y}, col %{x}: %{z:.3f}<extra></extra>")
    if diverging:
        trace["zmid"] = 0.0
    if limit is not None:
        trace.update(zmin=-limit, zmax=limit)
    layout = layout_dict(title, height, top=top)
    if axis_titles is not None:
        for axis, label in zip(("xaxis", "yaxis"), axis_titles):
            layout[axis] = dict(layout[axis], showticklabels=True, title=dict(text=label, font=FONT))
    if shapes:
        layout["shapes"] = shapes
    return go.Figure(dict(data=[trace], layout=layout), _validate=False)


def overlay_figure(image: np.ndarray, heat: np.ndarray, title: str, opacity: float,
                   colorbar_title: str, height: int = 380, top: int = 60, title_chars: int | None = None,
                   zrange: tuple[float, float] | None = None, bar: bool = True) -> go.Figure:
    """A heat map over the upscaled image. ``heat`` may have any H×W that divides the display
    size; it is sent at its own resolution and drawn as sharp cells over the image.
    Built as one dict without Plotly's validation (tests/test_figures.py validates it): the
    heat-map page draws three of these per rerun. ``zrange`` (low, high) fixes the colour scale, so
    figures compared side by side share it; by default it spans this ``heat``. ``bar=False`` leaves
    out the colour bar, for a page that shows the scale as :func:`legend_html` instead."""
    if title_chars:
        title = wrap(title, title_chars)
        top = max(top, title_top(title) + 15)
    big = display_pixels(np.asarray(image, dtype=np.uint8))
    h = np.asarray(heat, dtype=np.float32)
    cell_y, cell_x = big.shape[0] / h.shape[0], big.shape[1] / h.shape[1]
    # An image trace puts pixel i at x = i, so a cell of width c is centred at j*c + c/2 - 0.5.
    traces = [dict(type="image", source=png_data_uri(big), hoverinfo="skip"),
              dict(type="heatmap", z=h, x0=cell_x / 2 - 0.5, dx=cell_x, y0=cell_y / 2 - 0.5, dy=cell_y,
                   opacity=opacity, colorscale=colorscale(OVERLAY_SCALE),
                   **({} if zrange is None else {"zmin": float(zrange[0]), "zmax": float(zrange[1]), "zauto": False}),
                   # Under the image, not beside it: three overlays side by side left the image a
                   # third of its column at 1280 px in presentation mode.
                   colorbar={**colorbar(colorbar_title), "orientation": "h", "y": -0.04, "yanchor": "top",
                             "thickness": 16, "title": {"text": colorbar_title, "font": FONT, "side": "top"}},
                   hovertemplate="%{z:.3f}<extra></extra>", showscale=bar)]
    layout = layout_dict(title, height, top=top)
    if bar:
        layout["margin"] = {**layout["margin"], "b": 90}
    else:  # the image right under its title; spare height (a narrow column) goes below it
        layout["yaxis"].update(constrain="domain", constraintoward="top")
    return go.Figure(dict(data=traces, layout=layout), _validate=False)


def legend_html(title: str, low: float, high: float, scale: str = OVERLAY_SCALE, size: int = TICK_FONT["size"]) -> str:
    """A colour scale drawn by the browser: ``title`` above a gradient in ``scale``'s colours from
    ``low`` (left) to ``high`` (right), text ``size`` px. It stands in for Plotly's colour bar under
    figures that are redrawn on every click: in Chromium a colour bar was half of a heat map's
    drawing time (3.5 of 7.5 ms alone, ~10 ms on a full page), and the three on the heat-map page
    were 32 ms of a 238 ms click (same run, with and without)."""
    stops = ", ".join(f"{colour} {100 * position:.1f}%" for position, colour in colorscale(scale))
    return (f'<div style="font-size:{size}px;line-height:1.3;margin:-0.2em 0 0.4em">'
            f'<div style="text-align:center">{text(title)}</div>'
            '<div style="display:flex;align-items:center;gap:0.5em">'
            f'<span>{_end(low, high - low)}</span>'
            f'<span style="flex:1;height:0.8em;border:1px solid #999;background:linear-gradient(to right, {stops})">'
            f'</span><span>{_end(high, high - low)}</span></div></div>')


@dataclass(frozen=True)
class Bar:
    """One row of :func:`bars_html`: its label, the bar's length (-1…1 of the longest; negative
    bars grow to the left of a zero line in the middle), its colour, the value written beside it
    and the text shown when the pointer rests on the bar."""

    label: str
    length: float
    colour: str
    value: str
    hover: str


def bars_html(bars: Sequence[Bar], title: str, note: str = "", size: int = FONT["size"],
              title_size: int = TITLE_FONT["size"]) -> str:
    """Horizontal bars drawn by the browser: ``title`` (its "<br>" kept as line breaks) above one row
    per bar (label, bar, value written out) and ``note`` below; text ``size`` and ``title_size`` px.
    Bars start at the left, or at a zero line in the middle when one of them is negative. Every
    text is escaped.

    For the small bar charts that change on every click, where zooming adds nothing: in Chromium
    a Plotly bar chart was ~24 ms of a heat-map click (the top-5) and the channel atlas's two were
    ~60 ms of a channel click (same runs, with and without)."""
    signed = any(b.length < 0 for b in bars)
    track = ("linear-gradient(to right, #eef0f2 calc(50% - 1px), #888 calc(50% - 1px), #888 calc(50% + 1px), "
             "#eef0f2 calc(50% + 1px))" if signed else "#eef0f2")
    rows = []
    for b in bars:
        length = min(max(float(b.length), -1.0), 1.0)
        start, width = (50 + 50 * min(length, 0.0), 50 * abs(length)) if signed else (0.0, 100 * length)
        rows.append(f'<span>{text(b.label)}</span><span style="display:block;background:{track}">'
                    f'<span title="{html.escape(b.hover, quote=True)}" style="display:block;height:1.1em;'
                    f'margin-left:{start:.2f}%;width:{width:.2f}%;min-width:2px;background:{b.colour}"></span></span>'
                    f'<span style="text-align:right">{text(b.value)}</span>')
    heading = "<br>".join(text(line) for line in title.split("<br>"))
    footer = f'<div style="opacity:0.7;font-size:0.85em;margin-top:0.5em">{text(note)}</div>' if note else ""
    return (f'<div style="font-size:{size}px;line-height:1.3">'
            f'<div style="font-weight:600;font-size:{title_size}px;margin-bottom:0.5em">{heading}</div>'
            '<div style="display:grid;grid-template-columns:max-content 1fr max-content;gap:0.4em 0.7em;'
            f'align-items:center">{"".join(rows)}</div>{footer}</div>')


def _end(value: float, span: float) -> str:
    """An end of a colour scale, to three significant digits; a value within a thousandth of the
    span from 0 reads 0 (Grad-CAM's lowest is 2.5e-06, not worth the digits)."""
    return "0" if abs(value) <= 1e-3 * abs(span) else f"{value:.3g}"


@cache
def colorscale(name: str) -> tuple:
    """A named Plotly colour scale as [[position, "rgb(r, g, b)"], ...] (Plotly.js knows only a few
    names).

    Colours are written as ``rgb(...)``, never as hex: Streamlit's Plotly theme replaces the hex
    strings ``#000001``…``#000040`` in a figure with its own palette, and Inferno starts at
    ``#000004``, which became a pink band at the bottom of every heat map (issue 11)."""
    from plotly.colors import get_colorscale, hex_to_rgb

    def rgb(colour: str) -> str:
        if colour.startswith("#"):
            return "rgb({}, {}, {})".format(*hex_to_rgb(colour))
        return colour

    return tuple((float(position), rgb(colour)) for position, colour in get_colorscale(name))


def tile(maps: np.ndarray, columns: int, gap: int = 1, above: int = 0) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """C×H×W → one 2-D mosaic (NaN gaps) and the (row, col) of each tile's top-left corner;
    ``above`` more empty rows above each row of tiles (room for their names)."""
    c, h, w = maps.shape
    rows = (c + columns - 1) // columns
    mosaic = np.full((rows * (h + gap + above) - gap, columns * (w + gap) - gap), np.nan, dtype=np.float32)
    corners = []
    for i in range(c):
        r, col = divmod(i, columns)
        y, x = r * (h + gap + above) + above, col * (w + gap)
        mosaic[y:y + h, x:x + w] = maps[i]
        corners.append((y, x))
    return mosaic, corners


def stretch_each(maps: np.ndarray) -> np.ndarray:
    """C×H×W maps, each stretched to 0..1 on its own (a constant map becomes 0)."""
    m = np.asarray(maps, dtype=np.float32)
    lo = m.min(axis=(1, 2), keepdims=True)
    hi = m.max(axis=(1, 2), keepdims=True)
    return np.where(hi > lo, (m - lo) / np.where(hi > lo, hi - lo, 1), 0).astype(np.float32)


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
    if labels is not None:  # drawn above the bars, also above the plot area (not cut at its top)
        bar.update(texttemplate=labels, textposition="outside", textfont=FONT, cliponaxis=False)
    yaxis = dict(title=dict(text=y_title, font=FONT), tickfont=TICK_FONT)
    if y_range is not None:
        yaxis["range"] = list(y_range)
    if y_format is not None:
        yaxis["tickformat"] = y_format
    layout = dict(title=dict(text=title, font=TITLE_FONT), font=FONT, height=height,
                  margin=dict(l=10, r=10, t=top, b=10),
                  xaxis=dict(title=dict(text=x_title, font=FONT), tickfont=TICK_FONT), yaxis=yaxis)
    return go.Figure(dict(data=[bar], layout=layout), _validate=False)


def title_factor(factor: float) -> float:
    """How much titles grow when everything else grows by ``factor``: half as much (already large,
    often in narrow columns, they still fit)."""
    return 1 + (factor - 1) / 2


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
    title_size = times(layout.title.font.size, base, by=title_factor(factor))
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



@lru_cache(maxsize=8)
def lut(scale: str = OVERLAY_SCALE, n: int = 256) -> np.ndarray:
    """n×3 float32 colours of a Plotly colour scale, from its bottom to its top (read-only)."""
    colours = sample_colorscale(scale, list(np.linspace(0.0, 1.0, n)))
    table = np.array([unlabel_rgb(c) for c in colours], dtype=np.float32)
    table.setflags(write=False)  # cached and shared
    return table


def overlay(image: np.ndarray, heat: np.ndarray, opacity: float, size: int = 128, *, vmax: float = 1.0,
            fade: bool = False, scale: str = OVERLAY_SCALE) -> np.ndarray:
    """uint8 size×size×3: ``image`` (H×W×3) with ``heat`` (h×w) on top in ``scale``'s colours.

    The one overlay of the app (thumbnails, feature-map close-ups, the semantic map's top images).
    ``heat`` is scaled 0 → ``vmax`` (below 0 counts as 0, above ``vmax`` as ``vmax``; ``vmax`` ≤ 0
    means all 0). The colour layer is blended with ``opacity`` everywhere, as the heat-map figures
    draw it; with ``fade`` its opacity grows with the value instead (``opacity`` × level), so the
    image shows unchanged where the map is 0. Both grids are upscaled nearest-neighbour, so every
    pixel and every map position stays a sharp square: ``size`` must be a multiple of both sides.
    """
    img = np.asarray(image, dtype=np.uint8)
    h = np.asarray(heat, dtype=np.float32)
    if img.ndim != 3 or img.shape[2] != 3 or h.ndim != 2:
        raise ValueError(f"need an H×W×3 image and an h×w map, got {img.shape} and {h.shape}")
    if size % img.shape[0] or size % h.shape[0] or size % img.shape[1] or size % h.shape[1]:
        raise ValueError(f"size {size} is not a multiple of the image's {img.shape[:2]} and the map's {h.shape}")
    big = upscale(img, size // img.shape[0]).astype(np.float32)
    level = np.clip(h / vmax, 0.0, 1.0) if vmax > 0 else np.zeros_like(h)
    level = upscale(level, size // h.shape[0])
    table = lut(scale)
    colour = table[np.round(level * (len(table) - 1)).astype(int)]
    alpha = (float(np.clip(opacity, 0.0, 1.0)) * (level if fade else np.ones_like(level)))[..., None]
    return ((1 - alpha) * big + alpha * colour).round().clip(0, 255).astype(np.uint8)


def contrast_text(hexcode: str) -> str:
    """Black or white, whichever reads better on the colour ``hexcode`` ("#RRGGBB")."""
    r, g, b = (int(hexcode[i:i + 2], 16) for i in (1, 3, 5))
    return "#000000" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#FFFFFF"


def titled(fig: go.Figure, *lines: str, chars: int | None = 20) -> go.Figure:
    """Give ``fig`` a title of several lines (for narrow columns), with room above the plot.

    Each line is shown literally (escaped), never as markup, and wrapped at ``chars`` characters
    (20: a third of the page at 1280 px in presentation mode; None: not wrapped).
    """
    # Wrapped as the reader sees it, then escaped ("<b>" counts 3 characters, not "&lt;b&gt;"'s 9).
    title = "<br>".join(text(part) for line in lines for part in (_lines(line, chars) if chars else [line]))
    fig.update_layout(title=dict(text=title), margin=dict(t=35 + 30 * (title.count("<br>") + 1)))
    return fig


BAR_ROOM = 0.07  # share of a combined row's width kept for a panel's colour bar


def row_figure(figures: list[go.Figure], widths: list[float] | None = None, height: int = 420,
               gap: float = 0.02, bars: str = "all") -> go.Figure:
    """The panels ``figures`` (each one plot: heat maps, images, grids with their shapes) side by side
    in one figure, ``widths`` their relative widths: in presentation mode one figure that fills the
    width, instead of three or four small ones in columns. Each panel keeps its axes, shapes and
    colour scale; its title becomes a centred annotation above it; a shown colour bar sits right of
    its own panel (``bars="last"``: only the last panel's, for panels on one shared scale; ``"none"``:
    none, for a page that shows the scales as :func:`legend_html`). Square
    panels are kept square and pushed to the top of the row, under their titles, so a row taller
    than needed leaves its spare room below, not between title and plot."""
    return panel_figure([figures], widths, height, gap, bars)


def panel_figure(rows: list[list[go.Figure]], widths: list[float] | None = None, height: int = 420,
                 gap: float = 0.02, bars: str = "all", row_gap: float = 0.16) -> go.Figure:
    """Rows of panels as one figure (see :func:`row_figure`, its one-row case): every row has the same
    number of panels and ``widths``; ``row_gap`` (share of the height) holds the titles of the rows
    below the first."""
    n = len(rows[0])
    widths = list(widths or [1.0] * n)
    bars_of = [any(getattr(t, "showscale", None) is not False and getattr(t, "colorbar", None) is not None
                   and t.type == "heatmap" for t in fig.data) for fig in rows[0]]
    if bars == "last":
        bars_of = [False] * (n - 1) + bars_of[-1:]
    elif bars == "none":
        bars_of = [False] * n
    unit = (1.0 - gap * (n - 1) - BAR_ROOM * sum(bars_of)) / sum(widths)
    band = (1.0 - row_gap * (len(rows) - 1)) / len(rows)
    data, shapes, annotations = [], [], []
    layout: dict = {"font": rows[0][0].layout.font.to_plotly_json(), "height": height, "plot_bgcolor": "white",
                    "showlegend": False}
    i, top = 0, 0
    for r, figures in enumerate(rows):
        upper = 1.0 - r * (band + row_gap)
        left = 0.0
        for fig, share, bar in zip(figures, widths, bars_of):
            i += 1
            right = left + share * unit
            x, y = ("x", "y") if i == 1 else (f"x{i}", f"y{i}")
            xaxis = fig.layout.xaxis.to_plotly_json()
            yaxis = fig.layout.yaxis.to_plotly_json()
            xaxis.update(domain=[left, right], anchor=y, constrain="domain", constraintoward="center")
            yaxis.update(domain=[max(0.0, upper - band), upper], anchor=x, constrain="domain",
                         constraintoward="top")
            if yaxis.get("scaleanchor"):
                yaxis["scaleanchor"] = x
            layout["xaxis" if i == 1 else f"xaxis{i}"] = xaxis
            layout["yaxis" if i == 1 else f"yaxis{i}"] = yaxis
            for trace in fig.data:
                t = trace.to_plotly_json()
                t.update(xaxis=x, yaxis=y)
                if t.get("type") == "heatmap" and not bar:
                    t["showscale"] = False
                elif t.get("type") == "heatmap" and t.get("showscale") is not False and "colorbar" in t:
                    t["colorbar"] = dict(t["colorbar"], x=right + 0.005, xanchor="left", thickness=14,
                                         len=0.8 * band, y=upper - band / 2)
                data.append(t)
            for shape in fig.layout.shapes:
                shapes.append(dict(shape.to_plotly_json(), xref=x, yref=y))
            title = fig.layout.title
            if title.text:
                font = title.font.to_plotly_json() or TITLE_FONT
                annotations.append(dict(text=title.text, x=(left + right) / 2, y=upper, xref="paper",
                                        yref="paper", xanchor="center", yanchor="bottom", showarrow=False,
                                        font=font, yshift=8))
            top = max(top, fig.layout.margin.t or 0, title_top(title.text or "") if r == 0 else 0)
            left = right + gap + (BAR_ROOM if bar else 0.0)
    layout.update(shapes=shapes, annotations=annotations, margin=dict(l=10, r=10, t=top, b=10))
    return go.Figure(dict(data=data, layout=layout), _validate=False)
