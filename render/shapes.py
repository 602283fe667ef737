"""Slide of the Shapes and parameters page (its figures are the playground's number grids and
:func:`render.common.bar_figure`). No Streamlit here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from render.slide import GridPanel, slide_png


def pooling_slide(panels: Sequence[tuple[str, np.ndarray]], limit: float, footer: str) -> bytes:
    """The lecture's pooling example: each stage (title, C×H×W maps) as its channels side by side,
    values written in the cells, one colour scale 0..``limit`` for all."""
    return slide_png(
        "Pooling keeps the channels: max, average and global average pooling",
        [GridPanel(title, np.asarray(maps, np.float32), [f"channel {c + 1}" for c in range(len(maps))],
                   "value", cmap="Blues", columns=1, vmin=0.0, vmax=float(limit), titled=True, cell_text=True,
                   weight=1.0) for title, maps in panels],
        footer)
