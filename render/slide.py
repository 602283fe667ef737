"""One PNG per view, ready for a lecture slide (1920×1080, text ≥ 28 px). No Streamlit here.

A slide is a title, a row (or two) of panels and a footer that says where the picture comes
from (model, checkpoint, image). Panels:

- :class:`ImagePanel`: an RGB image, pixels kept sharp;
- :class:`MapPanel`: a 2-D map with a colour map and a labelled colour bar, optionally laid
  over an image (heat maps) or with class names on the axes and values in the cells;
- :class:`GridPanel`: a stack of maps tiled into one mosaic, each tile labelled;
- :class:`CategoryPanel`: a map of categories (e.g. winning channels) in colours, optionally
  over an image, with a legend of names.

Drawn with matplotlib's object-oriented API on the Agg canvas (no pyplot, no global state),
so a download can be built on any thread. Every text is drawn literally: maths parsing is off,
so user text such as ``$x$`` or ``<script>`` appears exactly as typed.
"""

from __future__ import annotations

import io
import math
import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from locales import translate
from render.common import display_pixels

SLIDE_SIZE = (1920, 1080)  # pixels
DPI = 100
TITLE_PX, PANEL_TITLE_PX, TEXT_PX, MIN_TILE_LABEL_PX = 44, 30, 28, 12
OTHER_COLOUR = "#808080"  # categories without a colour of their own (semantic map: winners beyond the palette)
_TITLE_H, _FOOTER_H = 100, 60  # pixels kept for the slide's title and footer


@dataclass(frozen=True)
class ImagePanel:
    title: str
    image: np.ndarray  # H×W×3 uint8
    weight: float = 1.0  # relative width


@dataclass(frozen=True)
class MapPanel:
    title: str
    values: np.ndarray  # H×W
    colorbar: str  # what the colours mean
    cmap: str = "viridis"
    diverging: bool = False  # symmetric scale around 0 (cmap RdBu_r unless given)
    vmin: float | None = None
    vmax: float | None = None
    background: np.ndarray | None = None  # H'×W'×3 image under the map
    opacity: float = 1.0
    x_labels: Sequence[str] | None = None
    y_labels: Sequence[str] | None = None
    x_title: str = ""
    y_title: str = ""
    cell_text: bool = False  # write each cell's value in it (small matrices)
    weight: float = 1.3


@dataclass(frozen=True)
class GridPanel:
    title: str
    maps: np.ndarray  # C×H×W, in display order
    labels: Sequence[str]  # one per tile
    colorbar: str
    cmap: str = "viridis"
    columns: int | None = None
    vmin: float | None = None
    vmax: float | None = None
    diverging: bool = False  # symmetric scale around 0, red = positive, blue = negative
    titled: bool | None = None  # labels as titles above small maps (default: when a label is long)
    cell_text: bool = False  # each cell's value written in it (small titled maps only)
    weight: float = 2.0


@dataclass(frozen=True)
class CategoryPanel:
    title: str
    categories: np.ndarray  # H×W integer codes
    legend: Sequence[tuple[int, str, str]]  # (code, name, "#RRGGBB"), in legend order
    image: np.ndarray | None = None  # H'×W'×3 image under the colours
    opacity: float = 0.6
    weight: float = 2.2
    borders: bool = False  # white lines where the category changes between neighbouring cells


Panel = ImagePanel | MapPanel | GridPanel | CategoryPanel


def footer_text(model: str, sha256: str, *extra: str, lang: str = "en") -> str:
    """"Model … · checkpoint 1a2b3c4d · CIFAR-10 test image #3" (``extra`` parts as given)."""
    parts = [translate("Model {model}", lang, model=model), translate("checkpoint {sha}", lang, sha=str(sha256)[:8])]
    return " · ".join(parts + [str(e) for e in extra if e not in (None, "")])


def slide_file_name(*parts) -> str:
    """A safe, telling file name: ``slide_file_name("feature maps", 3, "block1.relu1")`` →
    "feature-maps_3_block1.relu1.png" (anything but letters, digits, "." and "-" becomes "-")."""
    import re

    cleaned = [re.sub(r"[^A-Za-z0-9.-]+", "-", str(p)).strip("-.") for p in parts]
    return "_".join(c for c in cleaned if c)[:120] + ".png"


# Latin, digits and the minus sign in DejaVu Sans (matplotlib's own); Hangul, which DejaVu lacks,
# falls back to NanumGothic (SIL Open Font License), shipped by the pinned pip package
# koreanize-matplotlib. Set on each text of a slide, never in matplotlib's global rcParams.
FONTS = ["DejaVu Sans", "NanumGothic"]


def nanum_fonts() -> Path:
    """The folder of NanumGothic's files in the pinned package koreanize-matplotlib, found without
    importing it: its import runs koreanize(), which sets matplotlib's global font and turns the
    minus sign of every later figure's ticks into a hyphen."""
    spec = find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("koreanize-matplotlib (NanumGothic for Hangul) is not installed: "
                                  "pip install -r requirements.txt")
    return Path(spec.submodule_search_locations[0]) / "fonts"


@cache
def register_fonts() -> None:
    """Add NanumGothic to matplotlib's font list (once per process; it only adds a font)."""
    from matplotlib import font_manager

    fonts = nanum_fonts()
    for name in ("NanumGothic.ttf", "NanumGothicBold.ttf"):
        font_manager.fontManager.addfont(str(fonts / name))


def _pt(px: float) -> float:
    """Font size in points for ``px`` pixels at the slide's DPI."""
    return px * 72.0 / DPI


def _wrap(text: str, width_px: float, font_px: float, lines: int = 2, em: float = 0.6) -> str:
    """``text`` wrapped to ``lines`` lines of ``width_px`` (DejaVu Sans: ~0.6 em per character,
    Hangul in NanumGothic ~0.95 em: Korean text gets fewer characters a line), cut with "…" if longer."""
    text = str(text)
    if any(unicodedata.east_asian_width(c) in "WF" for c in text):
        em = max(em, 0.85)
    chars = max(4, int(width_px / (em * font_px)))
    wrapped = textwrap.wrap(text, chars) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][:max(1, chars - 1)].rstrip() + "…"
    return "\n".join(wrapped)


def _tick(label) -> str:
    """An axis label of at most 12 characters (class names fit; long user text is cut)."""
    return _wrap(label, 7.2 * TEXT_PX, TEXT_PX, 1)


def _plain_axes(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _colorbar(fig, mappable, ax, label: str) -> None:
    bar = fig.colorbar(mappable, ax=ax, fraction=0.05, pad=0.03)
    bar.set_label(label, fontsize=_pt(TEXT_PX))
    bar.ax.tick_params(labelsize=_pt(TEXT_PX))


def _limits(values: np.ndarray, vmin, vmax, diverging: bool) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if diverging:
        lim = float(np.abs(finite).max()) if finite.size else 1.0
        lim = lim or 1.0
        return (-lim if vmin is None else vmin), (lim if vmax is None else vmax)
    lo = float(finite.min()) if finite.size else 0.0
    hi = float(finite.max()) if finite.size else 1.0
    lo, hi = (lo if vmin is None else vmin), (hi if vmax is None else vmax)
    return lo, (hi if hi > lo else lo + 1.0)


def _draw_image(fig, ax, panel: ImagePanel, width_px: float, height_px: float) -> None:
    ax.imshow(np.asarray(panel.image, dtype=np.uint8), interpolation="nearest")
    _plain_axes(ax)


def _draw_map(fig, ax, panel: MapPanel, width_px: float, height_px: float) -> None:
    import matplotlib

    values = np.asarray(panel.values, dtype=np.float32)
    h, w = values.shape
    extent = (-0.5, w - 0.5, h - 0.5, -0.5)
    if panel.background is not None:
        ax.imshow(np.asarray(panel.background, dtype=np.uint8), interpolation="nearest", extent=extent)
    cmap_name = "RdBu_r" if panel.diverging and panel.cmap == "viridis" else panel.cmap
    cmap = matplotlib.colormaps[cmap_name].with_extremes(bad="white")
    lo, hi = _limits(values, panel.vmin, panel.vmax, panel.diverging)
    im = ax.imshow(values, cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest", extent=extent,
                   alpha=float(np.clip(panel.opacity, 0.0, 1.0)))
    _plain_axes(ax)
    if panel.x_labels is not None:
        ax.set_xticks(range(w), [_tick(s) for s in panel.x_labels], rotation=45, ha="right",
                      rotation_mode="anchor", fontsize=_pt(TEXT_PX))
    if panel.y_labels is not None:
        ax.set_yticks(range(h), [_tick(s) for s in panel.y_labels], fontsize=_pt(TEXT_PX))
    ax.set_xlabel(panel.x_title, fontsize=_pt(TEXT_PX))
    ax.set_ylabel(panel.y_title, fontsize=_pt(TEXT_PX))
    if panel.cell_text:
        _cell_values(ax, values, cmap, lo, hi, min(width_px * 0.8 / w, height_px * 0.8 / h))
    _colorbar(fig, im, ax, panel.colorbar)


def _cell_values(ax, values: np.ndarray, cmap, lo: float, hi: float, cell_px: float) -> None:
    """Each cell's value written in it, black or white, whichever reads on the cell's colour."""
    cells = {(r, c): f"{v:.3g}" for (r, c), v in np.ndenumerate(values)}
    longest = max(len(t) for t in cells.values())
    size = max(MIN_TILE_LABEL_PX, min(TEXT_PX, cell_px * 0.9 / (0.6 * longest)))
    for (r, c), v in np.ndenumerate(values):
        red, green, blue, _ = cmap(float(np.clip((v - lo) / (hi - lo), 0, 1)))
        dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.55
        ax.text(c, r, cells[r, c], ha="center", va="center", fontsize=_pt(size),
                color="white" if dark else "black")


def _draw_grid(fig, ax, panel: GridPanel, width_px: float, height_px: float) -> None:
    import matplotlib

    from render.common import tile

    maps = np.asarray(panel.maps, dtype=np.float32)
    if maps.ndim != 3 or len(maps) == 0:
        raise ValueError(f"GridPanel needs C×H×W maps with C ≥ 1, got shape {maps.shape}")
    if len(panel.labels) != len(maps):
        raise ValueError(f"{len(maps)} maps but {len(panel.labels)} labels")
    c, h, w = maps.shape
    if panel.columns:
        columns = int(panel.columns)
    else:  # the most square tiles that fit the panel's shape
        columns = max(1, round(math.sqrt(c * width_px / max(height_px, 1.0) * h / w)))
    columns = min(columns, c)
    rows = math.ceil(c / columns)
    longest = max(len(str(label)) for label in panel.labels)
    if panel.titled or (panel.titled is None and longest > 5):
        _draw_titled_grid(fig, ax, panel, maps, columns, width_px, height_px)
        return
    gap = max(1, h // 8)
    mosaic, corners = tile(maps, columns, gap=gap)
    cmap_name = "RdBu_r" if panel.diverging and panel.cmap == "viridis" else panel.cmap
    # Gaps between tiles: white, or grey where white means 0.
    cmap = matplotlib.colormaps[cmap_name].with_extremes(bad="#b0b0b0" if panel.diverging else "white")
    lo, hi = _limits(maps, panel.vmin, panel.vmax, panel.diverging)
    im = ax.imshow(mosaic, cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
    _plain_axes(ax)
    tile_px = min(width_px * 0.85 / columns, height_px / rows)
    size = max(MIN_TILE_LABEL_PX, min(TEXT_PX, tile_px * 0.4, tile_px * 0.95 / (0.6 * longest)))
    for label, (y, x) in zip(panel.labels, corners):
        ax.text(x - 0.5, y - 0.5, _wrap(label, max(tile_px, 4 * size), size, 1), ha="left", va="top",
                fontsize=_pt(size), color="white",
                bbox=dict(facecolor="black", alpha=0.55, pad=1, linewidth=0))
    _colorbar(fig, im, ax, panel.colorbar)


def _draw_titled_grid(fig, ax, panel: GridPanel, maps: np.ndarray, columns: int, width_px: float,
                      height_px: float) -> None:
    """One small map per label, the label above it, one colour bar for all."""
    import matplotlib

    title = ax.get_title()
    ax.remove()
    fig.suptitle(title, fontsize=_pt(PANEL_TITLE_PX))
    rows = math.ceil(len(maps) / columns)
    axes = fig.subplots(rows, columns, squeeze=False)
    cmap_name = "RdBu_r" if panel.diverging and panel.cmap == "viridis" else panel.cmap
    lo, hi = _limits(maps, panel.vmin, panel.vmax, panel.diverging)
    tile_w = width_px * 0.85 / columns
    tile_h = height_px * 0.75 / rows
    cmap = matplotlib.colormaps[cmap_name]
    im = None
    for i, a in enumerate(axes.ravel()):
        _plain_axes(a)
        if i >= len(maps):
            a.axis("off")
            continue
        im = a.imshow(maps[i], cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
        a.set_title(_wrap(panel.labels[i], tile_w, TEXT_PX), fontsize=_pt(TEXT_PX))
        if panel.cell_text:
            h, w = maps[i].shape
            _cell_values(a, maps[i], cmap, lo, hi, min(tile_w / w, tile_h / h))
    _colorbar(fig, im, axes.ravel().tolist(), panel.colorbar)


def _draw_categories(fig, ax, panel: CategoryPanel, width_px: float, height_px: float) -> None:
    from matplotlib.colors import to_rgb
    from matplotlib.patches import Patch


    codes = np.asarray(panel.categories)
    h, w = codes.shape
    colour = np.empty((h, w, 3), np.float32)
    colour[:] = to_rgb(OTHER_COLOUR)
    for code, _, hexcol in panel.legend:
        colour[codes == code] = to_rgb(hexcol)
    extent = (-0.5, w - 0.5, h - 0.5, -0.5)
    alpha = 1.0
    if panel.image is not None:
        ax.imshow(np.asarray(panel.image, dtype=np.uint8), interpolation="nearest", extent=extent)
        alpha = float(np.clip(panel.opacity, 0.0, 1.0))
    ax.imshow(colour, interpolation="nearest", extent=extent, alpha=alpha)
    if panel.borders:
        _draw_borders(ax, codes)
    _plain_axes(ax)
    fits = max(1, int(height_px // (TEXT_PX * 1.45)) - 1)
    entries = list(panel.legend)
    handles = [Patch(facecolor=hexcol, edgecolor="black", label=_wrap(name, width_px * 0.35, TEXT_PX))
               for _, name, hexcol in entries[:fits]]
    if len(entries) > fits:
        handles.append(Patch(facecolor="white", edgecolor="white", label=f"+ {len(entries) - fits} more"))
    if handles:
        ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.03, 0.5), fontsize=_pt(TEXT_PX),
                  frameon=False, borderaxespad=0.0, handlelength=1.2)


def _draw_borders(ax, codes: np.ndarray) -> None:
    """White lines along the cell edges where the code changes (the regions read as shapes)."""
    from matplotlib.collections import LineCollection

    h, w = codes.shape
    segments = [((c + 0.5, r - 0.5), (c + 0.5, r + 0.5)) for r in range(h) for c in range(w - 1)
                if codes[r, c] != codes[r, c + 1]]
    segments += [((c - 0.5, r + 0.5), (c + 0.5, r + 0.5)) for r in range(h - 1) for c in range(w)
                 if codes[r, c] != codes[r + 1, c]]
    if segments:
        ax.add_collection(LineCollection(segments, colors="white", linewidths=3))


_DRAW = {ImagePanel: _draw_image, MapPanel: _draw_map, GridPanel: _draw_grid, CategoryPanel: _draw_categories}


def slide_png(title: str, panels: Sequence[Panel], footer: str = "",
              size: tuple[int, int] = SLIDE_SIZE) -> bytes:
    """The panels side by side (two rows from five panels on) under ``title``, as PNG bytes of
    exactly ``size`` pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    if not panels:
        raise ValueError("a slide needs at least one panel")
    width, height = size
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white", layout="constrained")
    fig.get_layout_engine().set(w_pad=0.15, h_pad=0.1, wspace=0.03, hspace=0.03)
    FigureCanvasAgg(fig)
    fig.suptitle(_wrap(title, width * 0.95, TITLE_PX, em=0.68), fontsize=_pt(TITLE_PX), fontweight="bold")
    if footer:
        fig.supxlabel(_wrap(footer, width * 0.95, TEXT_PX, 1), fontsize=_pt(TEXT_PX), color="#333333")
    n = len(panels)
    rows = 1 if n <= 4 else 2
    per_row = math.ceil(n / rows)
    usable_h = height - _TITLE_H - _FOOTER_H
    for r, row_fig in enumerate(fig.subfigures(rows, 1, squeeze=False)[:, 0]):
        row = panels[r * per_row:(r + 1) * per_row]
        weights = [p.weight for p in row]
        # One sub-figure per panel: its own layout, title and colour bar.
        for cell, panel in zip(row_fig.subfigures(1, len(row), width_ratios=weights, squeeze=False)[0], row):
            ax = cell.add_subplot()
            panel_w = width * 0.95 * panel.weight / sum(weights)
            panel_h = usable_h / rows - 2.5 * PANEL_TITLE_PX * 1.3
            ax.set_title(_wrap(panel.title, panel_w, PANEL_TITLE_PX), fontsize=_pt(PANEL_TITLE_PX), pad=12)
            _DRAW[type(panel)](cell, ax, panel, panel_w, panel_h)
    register_fonts()
    for t in fig.findobj(Text):  # every text literally: no $…$ maths from user names
        t.set_parse_math(False)
        t.set_fontfamily(FONTS)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    return buf.getvalue()


def input_panel(image: np.ndarray, title: str) -> ImagePanel:
    """The 32×32 input, enlarged with sharp pixels."""
    return ImagePanel(title, display_pixels(np.asarray(image, dtype=np.uint8)), weight=1.0)


@dataclass(frozen=True)
class HandoutPage:
    """One slide of a handout: its title, where it is in the app, its notes, and its picture (the
    view's slide PNG) when one was drawn."""

    title: str
    where: str                    # "Feature maps · image 3613 · layer block1.relu2"
    notes: str
    picture: bytes | None = None  # a PNG from :func:`slide_png`


def handout_pdf(title: str, pages: Sequence[HandoutPage], footer: str = "",
                size: tuple[int, int] = SLIDE_SIZE, lang: str = "en") -> bytes:
    """The deck as one PDF: a page per slide, "N / K" and its title at the top, the slide's picture
    (if any) and its notes as text below, the ``footer`` at the bottom (matplotlib's PdfPages)."""
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure
    from matplotlib.text import Text
    from PIL import Image

    if not pages:
        raise ValueError("a handout needs at least one slide")
    width, height = size
    buf = io.BytesIO()
    with PdfPages(buf, metadata={"Title": str(title), "Creator": "CIFAR-10 CNN explained"}) as pdf:
        for number, page in enumerate(pages, start=1):
            fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
            fig.text(0.03, 0.97, _wrap(f"{number} / {len(pages)} · {page.title}", width * 0.94, TITLE_PX, em=0.68),
                     fontsize=_pt(TITLE_PX), fontweight="bold", va="top")
            fig.text(0.03, 0.86, _wrap(page.where, width * 0.94, TEXT_PX * 0.8, 1), fontsize=_pt(TEXT_PX * 0.8),
                     color="#555555", va="top")
            left, text_w = 0.03, 0.94  # the notes beside the picture, or the full width without one
            if page.picture:
                ax = fig.add_axes((0.03, 0.08, 0.58, 0.74))
                ax.imshow(np.asarray(Image.open(io.BytesIO(page.picture)).convert("RGB")))
                ax.set_axis_off()
                left, text_w = 0.63, 0.34
            budget = int(0.74 * height / (TEXT_PX * 1.3))  # lines that fit between the title and the footer
            paragraphs = []
            for part in str(page.notes).split("\n\n"):
                if part.strip() and budget > 0:
                    paragraphs.append(_wrap(" ".join(part.split()), width * text_w, TEXT_PX, budget))
                    budget -= paragraphs[-1].count("\n") + 2
            fig.text(left, 0.80, "\n\n".join(paragraphs) or translate("(no notes)", lang), fontsize=_pt(TEXT_PX),
                     va="top", linespacing=1.3)
            if footer:
                fig.text(0.03, 0.02, _wrap(footer, width * 0.94, TEXT_PX * 0.7, 1), fontsize=_pt(TEXT_PX * 0.7),
                         color="#333333")
            register_fonts()
            for t in fig.findobj(Text):  # every text literally, in the slides' fonts (Hangul and "−")
                t.set_parse_math(False)
                t.set_fontfamily(FONTS)
            pdf.savefig(fig)
    return buf.getvalue()
