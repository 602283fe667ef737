"""Small pictures for thumbnails (no Plotly, no Streamlit): an activation map over an image.

A dozen Plotly charts in a row are heavy in the browser, so thumbnails are plain RGB arrays.
Both the image and the map are upscaled nearest-neighbour, so every CIFAR pixel and every
map position stays a sharp square.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale, unlabel_rgb

from explain.figures import text, upscale

OVERLAY_SCALE = "Inferno"


@lru_cache(maxsize=8)
def _lut(scale: str = OVERLAY_SCALE, n: int = 256) -> np.ndarray:
    """n×3 float32 colours of a Plotly colour scale, from its bottom to its top (read-only)."""
    colours = sample_colorscale(scale, list(np.linspace(0.0, 1.0, n)))
    lut = np.array([unlabel_rgb(c) for c in colours], dtype=np.float32)
    lut.setflags(write=False)  # cached and shared
    return lut


_LUT = _lut()


def overlay_rgb(image: np.ndarray, heat: np.ndarray, vmax: float, opacity: float = 0.7,
                size: int = 128) -> np.ndarray:
    """uint8 size×size×3: ``image`` (H×W×3) with ``heat`` (h×w) on top in the Inferno colours.

    ``heat`` is scaled 0 → ``vmax`` (values below 0 count as 0, above ``vmax`` as ``vmax``);
    where it is 0 the image shows unchanged, at ``vmax`` it is covered with ``opacity``.
    ``size`` must be a multiple of both grids' sides.
    """
    img = np.asarray(image, dtype=np.uint8)
    h = np.asarray(heat, dtype=np.float32)
    if img.ndim != 3 or img.shape[2] != 3 or h.ndim != 2:
        raise ValueError(f"need an H×W×3 image and an h×w map, got {img.shape} and {h.shape}")
    if size % img.shape[0] or size % h.shape[0]:
        raise ValueError(f"size {size} is not a multiple of {img.shape[0]} and {h.shape[0]}")
    big = upscale(img, size // img.shape[0]).astype(np.float32)
    level = np.clip(h / vmax, 0.0, 1.0) if vmax > 0 else np.zeros_like(h)
    level = upscale(level, size // h.shape[0])
    colour = _LUT[np.round(level * (len(_LUT) - 1)).astype(int)]
    alpha = (opacity * level)[..., None]
    return ((1 - alpha) * big + alpha * colour).round().clip(0, 255).astype(np.uint8)


def contrast_text(hexcode: str) -> str:
    """Black or white, whichever reads better on the colour ``hexcode`` ("#RRGGBB")."""
    r, g, b = (int(hexcode[i:i + 2], 16) for i in (1, 3, 5))
    return "#000000" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#FFFFFF"


def titled(fig: go.Figure, *lines: str) -> go.Figure:
    """Give ``fig`` a title of several lines (for narrow columns), with room above the plot.

    Each line is shown literally (escaped), never as markup.
    """
    fig.update_layout(title=dict(text="<br>".join(text(line) for line in lines)),
                      margin=dict(t=35 + 30 * len(lines)))
    return fig
