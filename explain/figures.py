"""Plotly figures made for a projector. No Streamlit here: pages only place these.

Images are upscaled with nearest-neighbour in numpy before plotting, so every CIFAR pixel
stays a sharp square whatever the browser does; titles name the layer and its shape; colour
scales are labelled. User-provided text (channel names) is HTML-escaped, because Plotly
would otherwise render tags inside annotations.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative as _q

FONT = dict(size=18)
TITLE_FONT = dict(size=22)
HEAT_SCALE = "Viridis"
DIVERGING_SCALE = "RdBu_r"
# 36 clearly different colours for winning channels (Plotly's Alphabet + Dark24 palettes).
CATEGORY_COLOURS = tuple(_q.Alphabet) + tuple(_q.Dark24)


def text(value: str) -> str:
    """User text made safe for Plotly labels (shown literally, never as markup)."""
    return html.escape(str(value), quote=False)


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling of an H×W or H×W×C array."""
    return np.repeat(np.repeat(np.asarray(image), factor, axis=0), factor, axis=1)


def png_data_uri(image: np.ndarray) -> str:
    """A uint8 image as a PNG data URI: a few kB where a JSON pixel array is hundreds."""
    import base64
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buf, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _image_trace(image: np.ndarray) -> go.Image:
    return go.Image(source=png_data_uri(image), hoverinfo="skip")


def _layout(fig: go.Figure, title: str, height: int, width: int | None = None) -> go.Figure:
    fig.update_layout(title=dict(text=title, font=TITLE_FONT), font=FONT, height=height, width=width,
                      margin=dict(l=10, r=10, t=60, b=10))
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed",
                     scaleanchor="x")
    return fig


def image_figure(image: np.ndarray, title: str, height: int = 360) -> go.Figure:
    """A uint8 H×W×3 image, pixels kept square and sharp."""
    img = np.asarray(image, dtype=np.uint8)
    factor = max(1, 256 // img.shape[0])
    fig = go.Figure(_image_trace(upscale(img, factor)))
    return _layout(fig, title, height)


def heatmap_figure(values: np.ndarray, title: str, colorbar_title: str, height: int = 360,
                   diverging: bool = False) -> go.Figure:
    v = np.asarray(values, dtype=np.float32)
    kwargs = dict(colorscale=DIVERGING_SCALE, zmid=0.0) if diverging else dict(colorscale=HEAT_SCALE)
    fig = go.Figure(go.Heatmap(z=v, colorbar=dict(title=dict(text=colorbar_title)),
                               hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra></extra>", **kwargs))
    return _layout(fig, title, height)


def overlay_figure(image: np.ndarray, heat: np.ndarray, title: str, opacity: float,
                   colorbar_title: str, height: int = 380) -> go.Figure:
    """A heat map over the upscaled image. ``heat`` may have any H×W that divides the display
    size; it is sent at its own resolution and drawn as sharp cells over the image."""
    img = np.asarray(image, dtype=np.uint8)
    factor = max(1, 256 // img.shape[0])
    big = upscale(img, factor)
    h = np.asarray(heat, dtype=np.float32)
    cell_y, cell_x = big.shape[0] / h.shape[0], big.shape[1] / h.shape[1]
    fig = go.Figure(_image_trace(big))
    # go.Image puts pixel i at x = i, so a cell of width c is centred at j*c + c/2 - 0.5.
    fig.add_trace(go.Heatmap(
        z=h, x0=cell_x / 2 - 0.5, dx=cell_x, y0=cell_y / 2 - 0.5, dy=cell_y, opacity=opacity,
        colorscale="Inferno", colorbar=dict(title=dict(text=colorbar_title)),
        hovertemplate="%{z:.3f}<extra></extra>"))
    return _layout(fig, title, height)


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


def feature_grid_figure(maps: np.ndarray, channels: list[int], title: str, per_channel_scale: bool,
                        columns: int = 16, height: int | None = None) -> go.Figure:
    """All channels of a layer as one mosaic; each tile labelled with its channel number.

    ``maps`` is C'×H×W in display order and ``channels`` the channel index of each tile.
    With ``per_channel_scale`` each tile is stretched to 0..1 on its own.
    """
    m = np.asarray(maps, dtype=np.float32)
    if per_channel_scale:
        lo = m.min(axis=(1, 2), keepdims=True)
        hi = m.max(axis=(1, 2), keepdims=True)
        m = np.where(hi > lo, (m - lo) / np.where(hi > lo, hi - lo, 1), 0)
    columns = min(columns, len(m))
    gap = max(1, m.shape[1] // 8)
    mosaic, corners = tile(m, columns, gap=gap)
    channel_at = np.full(mosaic.shape, -1)
    for ch, (y, x) in zip(channels, corners):
        channel_at[y:y + m.shape[1], x:x + m.shape[2]] = ch
    fig = go.Figure(go.Heatmap(
        z=mosaic, colorscale=HEAT_SCALE, customdata=channel_at,
        colorbar=dict(title=dict(text="per-channel 0–1" if per_channel_scale else "activation")),
        hovertemplate="channel %{customdata}: %{z:.3f}<extra></extra>", hoverongaps=False))
    for ch, (y, x) in zip(channels, corners):
        fig.add_annotation(x=x - 0.5, y=y - 0.5, text=str(ch), showarrow=False, xanchor="left",
                           yanchor="top", font=dict(size=14, color="white"), bgcolor="rgba(0,0,0,0.55)")
    rows = (len(m) + columns - 1) // columns
    return _layout(fig, title, height or max(260, 60 + rows * 90))


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
    fig = go.Figure(_image_trace(blended.clip(0, 255).astype(np.uint8)))
    if cell >= 40:  # label each cell when cells are big enough to read
        for (r, c), ch in np.ndenumerate(channel_map):
            fig.add_annotation(x=c * cell + cell / 2, y=r * cell + cell / 2, text=text(labels[int(ch)]),
                               showarrow=False, font=dict(size=14 if cell >= 60 else 11, color="white"),
                               bgcolor="rgba(0,0,0,0.5)")
    return _layout(fig, title, height)


def bar_figure(x: list, y: list, title: str, x_title: str, y_title: str, height: int = 360,
               colours: list[str] | None = None) -> go.Figure:
    fig = go.Figure(go.Bar(x=x, y=y, marker_color=colours))
    fig.update_layout(title=dict(text=title, font=TITLE_FONT), font=FONT, height=height,
                      margin=dict(l=10, r=10, t=60, b=10), xaxis_title=x_title, yaxis_title=y_title)
    return fig
