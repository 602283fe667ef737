"""Figures of the channel atlas page (one channel over the test set). No Streamlit here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from explain.atlas import POOL, ChannelAtlas, fire_mask
from locales import class_names, translate
from render.common import NEUTRAL, POSITIVE, bar_figure, titled, upscale
from render.semantic import region_borders

OUTLINE_RGB = (255, 230, 0)  # the outline of where the channel fires (yellow reads on most photos)
OUTSIDE = 0.45  # brightness outside the region where it fires


def outlined(image: np.ndarray, heat: np.ndarray, size: int = 128) -> np.ndarray:
    """uint8 size×size×3: ``image`` with the region where ``heat`` (h×w) is at least half its
    maximum outlined in yellow, and the rest dimmed. Pixels and map cells stay sharp squares."""
    img = np.asarray(image, dtype=np.uint8)
    mask = fire_mask(heat)
    cell = size // mask.shape[0]
    big = upscale(img, size // img.shape[0]).astype(np.float32)
    inside = upscale(mask, cell)
    big[~inside] *= OUTSIDE
    # Edges of the region, also where it touches the image's border.
    padded = np.pad(mask.astype(np.int8), 1)
    edge = region_borders(padded, cell, width=max(2, cell // 8))[cell:-cell, cell:-cell]
    big[edge & inside] = OUTLINE_RGB
    return big.round().clip(0, 255).astype(np.uint8)


def class_means_figure(atlas: ChannelAtlas, classes: Sequence[str], height: int = 360, lang: str = "en") -> go.Figure:
    """Mean activation of the channel per class over the test set; its best class in red."""
    colours = [POSITIVE if k == atlas.best_class else NEUTRAL for k in range(len(classes))]
    fig = bar_figure(list(class_names(classes, lang)), [float(v) for v in atlas.class_means], "",
                     translate("class", lang), translate("mean of the image's max", lang), height, colours,
                     hover="%{x}: %{y:.3f}<extra></extra>")
    return titled(fig, translate("Mean activation per class", lang),
                  translate("{layer}, channel {channel}", lang, layer=atlas.layer, channel=atlas.channel))


def selectivity_figure(atlas: ChannelAtlas, classes: Sequence[str], height: int = 360, lang: str = "en") -> go.Figure:
    """Classes of the channel's POOL top test images, with its class-selectivity index."""
    total = max(int(atlas.pool_counts.sum()), 1)
    share = [float(c) / total for c in atlas.pool_counts]
    best = int(np.argmax(atlas.pool_counts))
    colours = [POSITIVE if k == best else NEUTRAL for k in range(len(classes))]
    fig = bar_figure(list(class_names(classes, lang)), share, "", translate("class", lang),
                     translate("share of the top images", lang), height, colours,
                     labels="%{y:.0%}", y_range=[0, 1.15], y_format=".0%",
                     hover="%{x}: %{y:.0%}<extra></extra>")
    return titled(fig, translate("Classes of its top {count} test images", lang, count=POOL),
                  translate("class selectivity {value:.2f}", lang, value=atlas.selectivity))
