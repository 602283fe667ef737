"""The slide of each page's main view, from the same data the page shows. No Streamlit here.

Each function returns PNG bytes (:func:`explain.slide.slide_png`); pages hand them to
``ui.present.export_button`` as a callable, so they run only when the download is clicked.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from explain.figures import display_pixels, stretch_each, upscale
from explain.slide import CategoryPanel, GridPanel, ImagePanel, MapPanel, slide_png


def input_panel(image: np.ndarray, title: str) -> ImagePanel:
    """The 32×32 input, enlarged with sharp pixels."""
    return ImagePanel(title, display_pixels(np.asarray(image, dtype=np.uint8)), weight=1.0)


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


def semantic_slide(image: np.ndarray, name: str, layer: str, shape: str,
                   channel_map: np.ndarray, shares: Sequence[tuple[int, float]], colours: dict[int, str],
                   names: dict[int, str], opacity: float, footer: str) -> bytes:
    """Input and the winning-channel map over it, with a legend: name (or #channel) and share won."""
    legend = [(int(ch), " ".join([f"#{ch}", names.get(int(ch), ""), f"({share:.0%})"]).replace("  ", " "),
               colours.get(int(ch), "#808080")) for ch, share in shares]
    h, w = np.asarray(channel_map).shape
    return slide_png(
        f"Semantic map of {layer} ({shape}): strongest channel at each position, {name}",
        [input_panel(image, f"Input: {name}"),
         CategoryPanel(f"Winning channel at each of the {h}×{w} positions", channel_map, legend,
                       image=image, opacity=opacity, weight=2.4)],
        footer)


def one_by_one_slide(layer: str, source: str, in_shape: str, channel: int, name: str,
                     panels: Sequence[tuple[str, np.ndarray]], reconstructed: np.ndarray,
                     actual: np.ndarray, footer: str) -> bytes:
    """The weighted maps (and the rest, and the bias) on one diverging scale, their sum, and the
    layer's own output."""
    maps = np.stack([np.asarray(v, np.float32) for _, v in panels])
    limit = max(float(np.abs(maps).max()), float(np.abs(reconstructed).max()), float(np.abs(actual).max()))
    limit = limit or 1.0
    return slide_png(
        f"{layer}, output channel {channel} = Σ weight × map of {source} ({in_shape}) + bias, {name}",
        [GridPanel("weight × map", maps, [t for t, _ in panels], "contribution", diverging=True,
                   vmin=-limit, vmax=limit, columns=min(4, len(maps)), weight=2.4),
         MapPanel("Σ weight × map + bias", reconstructed, "output value", diverging=True, vmin=-limit,
                  vmax=limit),
         MapPanel(f"{layer} output", actual, "output value", diverging=True, vmin=-limit, vmax=limit)],
        footer)


def heatmaps_slide(image: np.ndarray, name: str, guess: str, chosen: str,
                   maps: Sequence[tuple[str, np.ndarray, str]], opacity: float, footer: str) -> bytes:
    """Input and one heat map per method (title, H×W map, colour-bar label), each laid over the
    image after bilinear upsampling (as on the page)."""
    from explain.heatmaps import upsample

    size = np.asarray(image).shape[0]
    big = upscale(np.asarray(image, np.uint8), 8)
    panels = [input_panel(image, f"{name}, predicted {guess}")]
    panels += [MapPanel(title, upsample(values, size), colorbar, cmap="inferno", background=big,
                        opacity=opacity) for title, values, colorbar in maps]
    return slide_png(f"Where did the network look? {name}, class “{chosen}”", panels, footer)


def confusion_slide(image: np.ndarray, name: str, guess: str, confidence: float,
                    matrix: np.ndarray, classes: Sequence[str], accuracy: float, footer: str) -> bytes:
    """The current test image and the test set's confusion matrix."""
    return slide_png(
        f"CIFAR-10 test set: {accuracy:.2%} top-1 accuracy",
        [input_panel(image, f"{name}, predicted {guess} ({confidence:.0%})"),
         MapPanel("Confusion matrix (rows: true, columns: predicted)", np.asarray(matrix), "images",
                  cmap="Blues", x_labels=list(classes), y_labels=list(classes), x_title="predicted class",
                  y_title="true class", cell_text=True, weight=2.4)],
        footer)


def pooling_slide(panels: Sequence[tuple[str, np.ndarray]], limit: float, footer: str) -> bytes:
    """The lecture's pooling example: each stage (title, C×H×W maps) as its channels side by side,
    values written in the cells, one colour scale 0..``limit`` for all."""
    return slide_png(
        "Pooling keeps the channels: max, average and global average pooling",
        [GridPanel(title, np.asarray(maps, np.float32), [f"channel {c + 1}" for c in range(len(maps))],
                   "value", cmap="Blues", columns=1, vmin=0.0, vmax=float(limit), titled=True, cell_text=True,
                   weight=1.0) for title, maps in panels],
        footer)
