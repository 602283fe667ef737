"""Figures, colours and slide of the Semantic map page. No Streamlit here."""

from __future__ import annotations

import textwrap

import numpy as np
import plotly.graph_objects as go

from explain.activations import format_shape
from explain.semantic import SemanticView
from render.common import CATEGORY_COLOURS, layout_dict, png_data_uri, text, titled, upscale
from render.slide import OTHER_COLOUR, CategoryPanel, input_panel, slide_png


def winner_colours(shares: tuple[tuple[int, float], ...], palette: tuple[str, ...]) -> dict[int, str]:
    """One palette colour per winning channel, by rank (largest share first).

    With more winners than colours, the smallest winners all get OTHER_COLOUR rather than
    reusing a colour, so no two channels on the map can be confused.
    """
    return {int(ch): palette[rank] if rank < len(palette) else OTHER_COLOUR
            for rank, (ch, _) in enumerate(shares)}


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


def legend_rows(shares: tuple[tuple[int, float], ...], colours: dict[int, str],
                names: dict[int, str]) -> list[dict]:
    """One row per winning channel, largest share first: colour, channel, name, share (0–1)."""
    return [{"colour": colours[ch], "channel": int(ch), "name": names.get(int(ch), ""), "share": float(share)}
            for ch, share in shares]


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
    image_trace = dict(type="image", source=png_data_uri(blended.clip(0, 255).astype(np.uint8)), hoverinfo="skip")
    cell_labels = []
    if cell >= 40:  # label each cell when cells are big enough to read
        cell_labels = [dict(x=c * cell + cell / 2, y=r * cell + cell / 2,
                            text="<br>".join(text(part) for part in labels[int(ch)].split("\n")),
                            showarrow=False, font=dict(size=14 if cell >= 60 else 11, color="white"),
                            bgcolor="rgba(0,0,0,0.5)")
                       for (r, c), ch in np.ndenumerate(channel_map)]
    layout = layout_dict(title, height, annotations=cell_labels)
    return go.Figure(dict(data=[image_trace], layout=layout), _validate=False)  # validated in tests


def semantic_colours(view: SemanticView) -> dict[int, str]:
    """{winning channel: colour} of the view, largest share first."""
    return winner_colours(view.argmax.shares, CATEGORY_COLOURS)


def semantic_map_figure(image: np.ndarray, view: SemanticView, opacity: float, height: int = 660) -> go.Figure:
    """The page's map: each position's winner as a colour over the image, labelled with its name or #."""
    labels = {ch: map_label(ch, view.names.get(ch)) for ch, _ in view.argmax.shares}
    h, w = view.argmax.channel.shape
    return titled(semantic_figure(image, view.argmax.channel, semantic_colours(view), labels, "", opacity,
                                  height=height),
                  "Winning channel at each position", f"{view.layer}: {h}×{w} positions ({format_shape(view.shape)})",
                  chars=40)


def semantic_legend(view: SemanticView) -> list[dict]:
    """The legend's rows: colour, channel, name, share of positions won."""
    return legend_rows(view.argmax.shares, semantic_colours(view), view.names)


def semantic_slide(view: SemanticView, image: np.ndarray, name: str, opacity: float, footer: str) -> bytes:
    """Input and the winning-channel map over it, with a legend: name (or #channel) and share won."""
    colours = semantic_colours(view)
    legend = [(int(ch), " ".join([f"#{ch}", view.names.get(int(ch), ""), f"({share:.0%})"]).replace("  ", " "),
               colours.get(int(ch), OTHER_COLOUR)) for ch, share in view.argmax.shares]
    h, w = view.argmax.channel.shape
    return slide_png(
        f"Semantic map of {view.layer} ({format_shape(view.shape)}): strongest channel at each position, {name}",
        [input_panel(image, f"Input: {name}"),
         CategoryPanel(f"Winning channel at each of the {h}×{w} positions", view.argmax.channel, legend,
                       image=image, opacity=opacity, weight=2.4)],
        footer)
