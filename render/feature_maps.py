"""Figures and slide of the Feature maps page: every channel of a layer as one mosaic. No Streamlit here."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from explain.activations import format_shape
from explain.feature_maps import FeatureMapsView
from locales import known, translate
from render.common import (
    HEAT_SCALE,
    colorbar,
    heatmap_figure,
    image_figure,
    layout_dict,
    overlay,
    overlay_figure,
    stretch_each,
    text,
    tile,
    title_top,
    titled,
    wrap,
)
from render.slide import GridPanel, MapPanel, input_panel, slide_png


def feature_grid_figure(maps: np.ndarray, channels: list[int], title: str, per_channel_scale: bool,
                        columns: int = 16, height: int | None = None, title_chars: int = 64,
                        lang: str = "en") -> go.Figure:
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
        colorbar=colorbar(translate(known("per-channel 0–1") if per_channel_scale else known("activation"), lang)),
        hovertemplate=translate("channel %{customdata}: %{z:.3f}<extra></extra>", lang), hoverongaps=False))
    # Channel numbers in each tile's top-left corner, as one text trace: as 128 annotations (each
    # measured and boxed by Plotly) they took 49 of the figure's 62 ms to draw in Chromium, as text
    # points 9. A shadow keeps white digits readable on the scale's yellow.
    fig.add_trace(go.Scatter(x=[x - 0.5 for _, x in corners], y=[y - 0.5 for y, _ in corners], mode="text",
                             text=[str(ch) for ch in channels], textposition="bottom right",
                             textfont=dict(size=14, color="white", shadow="1px 1px 2px black"),
                             hoverinfo="skip", showlegend=False))
    rows = (len(m) + columns - 1) // columns
    # One layout update: each Plotly update_* or add_annotation call re-walks the figure.
    title = wrap(title, title_chars)
    fig.update_layout(layout_dict(title, height or max(260, 60 + rows * 90), top=max(60, title_top(title))))
    return fig


def layer_grid_figure(view: FeatureMapsView, columns: int, height: int, lang: str = "en") -> go.Figure:
    """The page's mosaic of every channel of the view's layer, in its order and colour scale."""
    count = len(view.maps)
    scale = translate(known("per channel") if view.per_channel_scale else known("shared"), lang)
    title = translate("{layer}: all {count} channels ({shape})<br>by {sort}, {scale} colour scale", lang,
                      layer=view.layer, count=count, shape=format_shape(view.shape), sort=translate(view.sort, lang),
                      scale=scale)
    return feature_grid_figure(view.maps[view.order], view.order.tolist(), title,
                               per_channel_scale=view.per_channel_scale, columns=columns, height=height, lang=lang)


def channel_figures(view: FeatureMapsView, image: np.ndarray, image_title: str,
                    lang: str = "en") -> tuple[go.Figure, ...]:
    """The enlarged channel beside the input: the input, the channel's map, the map over the input."""
    one, h, w = view.one, *view.one.shape
    peak = float(one.max())
    return (titled(image_figure(image, ""), translate("Input: {source}", lang, source=image_title), "1×3×32×32"),
            titled(heatmap_figure(one, "", translate("activation", lang), diverging=view.signed),
                   translate("Channel {channel}", lang, channel=view.channel),
                   translate("one {h}×{w} map of {shape}", lang, h=h, w=w, shape=format_shape(view.shape))),
            titled(image_figure(overlay(image, one, 0.7, 256, vmax=peak, fade=True), ""),
                   translate("Over the input", lang), translate("0 clear, {peak:.2f} yellow", lang, peak=peak)))


def feature_maps_slide(view: FeatureMapsView, image: np.ndarray, name: str, footer: str, lang: str = "en") -> bytes:
    """Input, every channel of the layer (in the page's order and colour scale), one channel enlarged."""
    m = np.asarray(view.maps, dtype=np.float32)
    order = [int(c) for c in view.order]
    tiles = stretch_each(m[order]) if view.per_channel_scale else m[order]
    return slide_png(
        translate("Feature maps of {layer} ({shape}) for {name}", lang, layer=view.layer,
                  shape=format_shape(view.shape), name=name),
        [input_panel(image, translate("Input: {source}", lang, source=name)),
         GridPanel(translate("All {count} channels, by {sort}", lang, count=len(m), sort=translate(view.sort, lang)),
                   tiles, [str(c) for c in order],
                   translate(known("per-channel 0–1") if view.per_channel_scale else known("activation"), lang),
                   weight=2.2),
         MapPanel(translate("Channel {channel}", lang, channel=view.channel), view.one, translate("activation", lang),
                  diverging=view.signed, weight=1.4)],
        footer)


def channel_comparison_figures(items: list[tuple[np.ndarray, np.ndarray, str]], layer: str, channel: int,
                               shape: tuple[int, ...], height: int = 520, lang: str = "en") -> list[go.Figure]:
    """One channel of one layer for several images, side by side: each map laid over its image, on
    one colour scale for all (:func:`render.heatmaps.shared_range`) and at the same size. ``items``
    holds (image, channel map, label) with the label naming the image, its true and its predicted
    class."""
    from render.heatmaps import shared_range

    values = [np.asarray(m, np.float32) for _, m, _ in items]  # drawn as sharp cells over the image
    zrange = shared_range(values)
    line = translate("Channel {channel} of {layer} ({shape})", lang, channel=channel, layer=layer,
                     shape=format_shape(shape))
    bar = translate("activation, shared scale", lang)
    return [overlay_figure(image, v, "<br>".join(text(t) for t in (label, line)), 0.6, bar, height=height,
                           top=60, title_chars=38, zrange=zrange)
            for (image, _, label), v in zip(items, values)]
