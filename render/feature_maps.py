"""Figures and slide of the Feature maps page: every channel of a layer as one mosaic. No Streamlit here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from render.common import HEAT_SCALE, colorbar, layout_dict, stretch_each, tile
from render.slide import GridPanel, MapPanel, input_panel, slide_png


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
    # One layout update: each Plotly update_* or add_annotation call re-walks the figure.
    fig.update_layout(layout_dict(title, height or max(260, 60 + rows * 90), annotations=labels))
    return fig


def feature_maps_slide(image: np.ndarray, name: str, layer: str, shape: str,
                       maps: np.ndarray, order: Sequence[int], channel: int, sort: str,
                       per_channel_scale: bool, footer: str) -> bytes:
    """Input, every channel of ``layer`` (in the page's order and colour scale), one channel enlarged."""
    m = np.asarray(maps, dtype=np.float32)
    order = [int(c) for c in order]
    tiles = stretch_each(m[order]) if per_channel_scale else m[order]
    one = m[channel]
    return slide_png(
        f"Feature maps of {layer} ({shape}) for {name}",
        [input_panel(image, f"Input: {name}"),
         GridPanel(f"All {len(m)} channels, by {sort}", tiles, [str(c) for c in order],
                   "per-channel 0–1" if per_channel_scale else "activation", weight=2.2),
         MapPanel(f"Channel {channel}", one, "activation", diverging=float(one.min()) < 0, weight=1.4)],
        footer)
