"""Figures, colours and slide of the Semantic map page. No Streamlit here.

Colours are stable: a channel has one colour, chosen from a fixed palette by its channel number
alone (:func:`channel_colour`), on every image, page, slide and deck. Only the view's ``top_n``
most frequent winners are drawn in their colours; the other winners share one neutral grey
(:data:`OTHER_COLOUR`), and borders are drawn where the winner changes, so parts read as shapes.
"""

from __future__ import annotations

import colorsys
import textwrap
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go

from explain.activations import format_shape
from explain.concepts import Concepts
from explain.semantic import OTHER, SemanticView, label_cell, regions
from locales import translate
from render.common import layout_dict, png_data_uri, text, titled, upscale
from render.slide import OTHER_COLOUR, CategoryPanel, input_panel, slide_png

PALETTE_SIZE = 128  # one entry per channel of the widest layer (block 3)
DEFAULT_OPACITY = 0.4  # the colours over the image: at this opacity the animal stays visible
OTHER_OPACITY = 0.3  # "other" positions are tinted this fraction of the opacity: the image shows through
BORDER_RGB = (255, 255, 255)  # region borders on the page's map
_GOLDEN = 0.6180339887498949
# Title columns (render.common.wrap) of a map in half the page at 1280 px presenting: the Korean
# subtitles mix Latin, digits and Hangul, and 36+ columns of them ran off the map's column.
HALF_TITLE = {"en": 40, "ko": 34}
BLANK = png_data_uri(np.full((1, 1, 3), 255, np.uint8))  # an empty legend cell that is not "None"


@lru_cache(maxsize=1)
def palette() -> tuple[str, ...]:
    """PALETTE_SIZE saturated colours ("#RRGGBB"), built once. Hues step by the golden ratio, so
    neighbouring channel numbers get far-apart hues (≈ 222°), and three lightness levels take
    turns; none is grey, so no channel can be mistaken for "other"."""
    levels = ((0.45, 0.85), (0.62, 0.80), (0.33, 0.90))  # (lightness, saturation)
    colours = []
    for i in range(PALETTE_SIZE):
        light, sat = levels[i % 3]
        r, g, b = colorsys.hls_to_rgb((i * _GOLDEN) % 1.0, light, sat)
        colours.append("#{:02X}{:02X}{:02X}".format(*(round(255 * v) for v in (r, g, b))))
    return tuple(colours)


def channel_colour(channel: int) -> str:
    """The colour of ``channel`` ("#RRGGBB"): the same on every image, page and slide of a layer."""
    if int(channel) == OTHER:
        return OTHER_COLOUR
    return palette()[int(channel) % PALETTE_SIZE]


def rgb(hexcol: str) -> tuple[int, int, int]:
    return tuple(int(hexcol[i:i + 2], 16) for i in (1, 3, 5))


def map_label(channel: int, name: str | None, line: int = 6) -> str:
    """Text written in a map cell: "#17", or the channel's name on at most two lines of ``line``
    characters ("\n" between them), the second cut with "…" if the name is longer. Six characters
    fill a cell of an 8×8 map at 1280 px in presentation mode; "backgro…" on one line ran into the
    next cells (issue 11)."""
    if not name:
        return f"#{channel}"
    lines = textwrap.wrap(name, line, break_long_words=True, break_on_hyphens=False) or [name]
    if len(lines) > 2:
        rest = name[len(lines[0]):].strip()
        lines = [lines[0], rest[:line - 1].rstrip() + "…"]
    return "\n".join(lines)


@lru_cache(maxsize=256)
def swatch(hexcol: str, size: int = 24) -> str:
    """A small square of ``hexcol`` with a dark edge, as a PNG data URI (the legend's colour)."""
    tile = np.empty((size, size, 3), np.uint8)
    tile[:] = 40
    tile[2:-2, 2:-2] = rgb(hexcol)
    return png_data_uri(tile)


def strip(images: np.ndarray, size: int = 32) -> str:
    """Test images side by side (K×32×32×3 → one 32·K×32 strip, 1 px gaps), as a PNG data URI."""
    imgs = np.asarray(images, dtype=np.uint8)
    k = len(imgs)
    out = np.full((size, max(1, k * (size + 1) - 1), 3), 255, np.uint8)
    for i, im in enumerate(imgs):
        out[:, i * (size + 1):i * (size + 1) + size] = upscale(im, max(1, size // im.shape[0]))[:size, :size]
    return png_data_uri(out)


def colour_image(codes: np.ndarray, colour_of: Callable[[int], str] = channel_colour) -> np.ndarray:
    """H×W×3 float32: each code's colour (by default a channel's; :data:`OTHER`: grey)."""
    codes = np.asarray(codes)
    out = np.empty((*codes.shape, 3), np.float32)
    for code in np.unique(codes):
        out[codes == code] = rgb(colour_of(int(code)))
    return out


def region_borders(codes: np.ndarray, cell: int, width: int = 2) -> np.ndarray:
    """Boolean (H·cell)×(W·cell): True on a line about ``width`` pixels wide (at least 2) wherever
    the code changes between neighbouring cells."""
    big = upscale(np.asarray(codes), cell)
    edge = np.zeros(big.shape, bool)
    vertical = big[:, 1:] != big[:, :-1]
    horizontal = big[1:, :] != big[:-1, :]
    edge[:, 1:] |= vertical
    edge[:, :-1] |= vertical
    edge[1:, :] |= horizontal
    edge[:-1, :] |= horizontal
    for _ in range(max(0, width // 2 - 1)):  # grow by one pixel on each side
        grown = edge.copy()
        grown[1:, :] |= edge[:-1, :]
        grown[:-1, :] |= edge[1:, :]
        grown[:, 1:] |= edge[:, :-1]
        grown[:, :-1] |= edge[:, 1:]
        edge = grown
    return edge


def semantic_pixels(image: np.ndarray, codes: np.ndarray, opacity: float, size: int = 512,
                    borders: bool = True, colour_of: Callable[[int], str] = channel_colour) -> np.ndarray:
    """uint8 size×size×3: ``codes``' colours over the upscaled image, with region borders."""
    img = np.asarray(image, dtype=np.uint8)
    codes = np.asarray(codes)
    cell = size // codes.shape[0]
    # Blended at the coarsest grid both the image and the codes fit (32×32 for a test image), then
    # upscaled: the same pixels as blending at ``size`` (nearest-neighbour commutes with a per-pixel
    # blend), in a sixteenth of the work (11 → 1.5 ms for a 512-px map).
    n = int(np.lcm(img.shape[0], codes.shape[0]))
    alpha = np.where(codes == OTHER, opacity * OTHER_OPACITY, opacity).astype(np.float32)
    alpha = upscale(alpha, n // codes.shape[0])[..., None]
    small = (1 - alpha) * upscale(img, n // img.shape[0]).astype(np.float32) \
        + alpha * upscale(colour_image(codes, colour_of), n // codes.shape[0])
    out = upscale(small.round().clip(0, 255).astype(np.uint8), size // n)
    if borders:
        out[region_borders(codes, cell, width=max(2, cell // 16))] = BORDER_RGB
    return out


def semantic_figure(image: np.ndarray, codes: np.ndarray, labels: dict[int, str], title: str, opacity: float,
                    height: int = 520, colour_of: Callable[[int], str] = channel_colour,
                    short: dict[int, str] | None = None) -> go.Figure:
    """Each position's code as its colour over the image, borders between regions, and one label
    per region (not on "other") when the cells are big enough to read; a one-cell region gets the
    ``short`` label (e.g. "#17") if given, so long names do not run into the next cell."""
    size = 512
    codes = np.asarray(codes)
    cell = size // codes.shape[0]
    image_trace = dict(type="image", hoverinfo="skip",
                       source=png_data_uri(semantic_pixels(image, codes, opacity, size, colour_of=colour_of)))
    region_labels = []
    if cell >= 32:
        for code, cells in regions(codes):
            if code == OTHER or code not in labels:
                continue
            r, c = label_cell(cells)
            shown = (short or {}).get(code, labels[code]) if len(cells) == 1 else labels[code]
            lines = "<br>".join(text(part) for part in shown.split("\n"))  # map_label's two lines
            region_labels.append(dict(x=c * cell + cell / 2, y=r * cell + cell / 2, text=lines,
                                      showarrow=False, bgcolor="rgba(0,0,0,0.55)",
                                      font=dict(size=14 if cell >= 60 else 11, color="white")))
    layout = layout_dict(title, height, annotations=region_labels)
    return go.Figure(dict(data=[image_trace], layout=layout), _validate=False)  # validated in tests


def semantic_colours(view: SemanticView) -> dict[int, str]:
    """{shown channel: its colour}, largest share first ("other" is :data:`OTHER_COLOUR`)."""
    return {ch: channel_colour(ch) for ch in view.shown}


def semantic_map_figure(image: np.ndarray, view: SemanticView, opacity: float = DEFAULT_OPACITY,
                        height: int = 660, lang: str = "en") -> go.Figure:
    """The page's map: the top-N winners in their colours, the rest grey, one label per region."""
    labels = {ch: map_label(ch, view.names.get(ch)) for ch in view.shown}
    h, w = view.argmax.channel.shape
    short = {ch: f"#{ch}" for ch in view.shown}
    return titled(semantic_figure(image, view.grouped, labels, "", opacity, height=height, short=short),
                  translate("Winning channel at each position", lang),
                  translate("{layer}: {h}×{w} positions ({shape})", lang, layer=view.layer, h=h, w=w,
                            shape=format_shape(view.shape)),
                  chars=HALF_TITLE[lang])


def other_label(view: SemanticView, lang: str = "en") -> str:
    n = len(view.others)
    if n == 1:
        return translate("other (1 channel)", lang)
    return translate("other ({count} channels)", lang, count=n)


def semantic_legend(view: SemanticView, strips: dict[int, str] | None = None,
                    links: dict[int, str] | None = None, lang: str = "en") -> list[dict]:
    """The legend's rows, largest share first, then one "other" row (if any channel is outside the
    top N; its channel is "other"): colour swatch (an image, never a hex code), channel ("#17"),
    its atlas link, name, the text shown for it ("label": the name, or "other (24 channels)"),
    share of positions won, and a strip of the channel's top test images."""
    strips, links = strips or {}, links or {}
    shares = dict(view.argmax.shares)
    rows = [{"colour": swatch(channel_colour(ch)), "channel": f"#{ch}", "atlas": links.get(ch),
             "name": view.names.get(ch, ""), "label": view.names.get(ch, ""), "share": float(shares[ch]),
             "top test images": strips.get(ch, BLANK)}
            for ch in view.shown]
    if view.others:
        rows.append({"colour": swatch(OTHER_COLOUR), "channel": "other", "atlas": "", "name": "",
                     "label": other_label(view, lang), "share": view.other_share, "top test images": BLANK})
    return rows


def semantic_panel(view: SemanticView, image: np.ndarray, opacity: float, lang: str = "en") -> CategoryPanel:
    """The slide's map: the same codes and colours as the page's map, with its legend."""
    shares = dict(view.argmax.shares)
    legend = [(int(ch), " ".join(p for p in (f"#{ch}", view.names.get(ch, ""), f"({shares[ch]:.0%})") if p),
               channel_colour(ch)) for ch in view.shown]
    if view.others:
        legend.append((OTHER, f"{other_label(view, lang)} ({view.other_share:.0%})", OTHER_COLOUR))
    h, w = view.argmax.channel.shape
    return CategoryPanel(translate("Winning channel at each of the {h}×{w} positions, top {shown} in colour", lang,
                                   h=h, w=w, shown=len(view.shown)),
                         view.grouped, legend, image=image, opacity=opacity, weight=2.4, borders=True)


def semantic_slide(view: SemanticView, image: np.ndarray, name: str, opacity: float, footer: str,
                   lang: str = "en") -> bytes:
    """Input and the winning-channel map over it, with a legend: name (or #channel) and share won."""
    return slide_png(
        translate("Semantic map of {layer} ({shape}): strongest channel at each position, {name}", lang,
                  layer=view.layer, shape=format_shape(view.shape), name=name),
        [input_panel(image, translate("Input: {name}", lang, name=name)), semantic_panel(view, image, opacity, lang)],
        footer)


# --- Concept maps (NMF): the argmax over k concepts, beside the argmax over channels ---------------
# Concepts are not channels: they get their own 12 colours (Plotly's Bold + Prism, distinct).
CONCEPT_COLOURS = ("#7F3C8D", "#11A579", "#3969AC", "#F2B701", "#E73F74", "#80BA5A", "#E68310", "#008695",
                   "#CF1C90", "#F97B72", "#4B4B8F", "#5F4690")


def concept_colour(concept: int) -> str:
    return CONCEPT_COLOURS[int(concept) % len(CONCEPT_COLOURS)]


def concept_map_figure(image: np.ndarray, cmap: np.ndarray, concepts: Concepts,
                       opacity: float = DEFAULT_OPACITY, height: int = 580,
                       names: dict[int, str] | None = None, lang: str = "en") -> go.Figure:
    """Each position's strongest concept as a colour over the image, one label per region (its
    saved name, else "C3")."""
    names = names or {}
    labels = {j: map_label(j, names[j]) if names.get(j) else f"C{j}" for j in range(concepts.k)}
    h, w = cmap.shape
    return titled(semantic_figure(image, cmap, labels, "", opacity, height=height, colour_of=concept_colour),
                  translate("Strongest of {k} concepts at each position", lang, k=concepts.k),
                  translate("{layer}: {h}×{w} positions, NMF of its channels", lang, layer=concepts.layer, h=h, w=w),
                  chars=HALF_TITLE[lang])


def concept_legend(concepts: Concepts, cmap: np.ndarray, strips: dict[int, str] | None = None,
                   names: dict[int, str] | None = None, lang: str = "en") -> list[dict]:
    """One row per concept: swatch, "C3", saved name, suggested name, share of this map, top
    channels, top images."""
    strips, names = strips or {}, names or {}
    cmap = np.asarray(cmap)
    return [{"colour": swatch(concept_colour(j)), "concept": f"C{j}", "name": names.get(j, ""),
             "suggested name": concepts.shown_names(lang)[j],
             "share": float((cmap == j).mean()),
             "top channels": ", ".join(f"#{c}" for c in concepts.top_channels(j)),
             "top test images": strips.get(j, BLANK)} for j in range(concepts.k)]
