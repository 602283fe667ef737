"""Figures of the channel atlas page (one channel over the test set). No Streamlit here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from explain.atlas import POOL, ChannelAtlas, fire_mask
from locales import class_names, translate
from render.common import FONT, NEUTRAL, POSITIVE, TITLE_FONT, Bar, bars_html, upscale
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


def class_means_html(atlas: ChannelAtlas, classes: Sequence[str], size: int = FONT["size"],
                     title_size: int = TITLE_FONT["size"], lang: str = "en") -> str:
    """Mean activation of the channel per class over the test set, as HTML bars
    (render.common.bars_html); its best class in red."""
    means = [float(v) for v in atlas.class_means]
    longest = max((abs(v) for v in means), default=0.0) or 1.0
    names = class_names(classes, lang)
    bars = [Bar(name, v / longest, POSITIVE if k == atlas.best_class else NEUTRAL, f"{v:.3f}", f"{name}: {v:.3f}")
            for k, (name, v) in enumerate(zip(names, means))]
    title = (translate("Mean activation per class", lang) + "<br>"
             + translate("{layer}, channel {channel}", lang, layer=atlas.layer, channel=atlas.channel))
    return bars_html(bars, title, translate("mean of the image's max", lang), size, title_size)


def selectivity_html(atlas: ChannelAtlas, classes: Sequence[str], size: int = FONT["size"],
                     title_size: int = TITLE_FONT["size"], lang: str = "en") -> str:
    """Classes of the channel's POOL top test images (their shares, as HTML bars), with its
    class-selectivity index; the most frequent class in red."""
    total = max(int(atlas.pool_counts.sum()), 1)
    best = int(np.argmax(atlas.pool_counts))
    names = class_names(classes, lang)
    bars = [Bar(name, int(c) / total, POSITIVE if k == best else NEUTRAL, f"{int(c) / total:.0%}",
                f"{name}: {int(c)} / {total}") for k, (name, c) in enumerate(zip(names, atlas.pool_counts))]
    title = (translate("Classes of its top {count} test images", lang, count=POOL) + "<br>"
             + translate("class selectivity {value:.2f}", lang, value=atlas.selectivity))
    return bars_html(bars, title, translate("share of the top images", lang), size, title_size)
