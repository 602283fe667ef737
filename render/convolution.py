"""Figures for the convolution playground: small grids with every number written in its cell
(readable on a projector), the sliding window drawn as a frame, and signed maps of a photo.
No Streamlit here."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from explain.convolution import PhotoView, ToyView, _fmt, partial_output
from locales import translate
from render.common import (
    DIVERGING_SCALE,
    FONT,
    TITLE_FONT,
    colorscale,
    heatmap_figure,
    image_figure,
    lut,
    upscale,
)

CELL_FONT = 20
WINDOW_COLOUR = "#ff7f0e"   # orange: the current patch / output cell
FRAME_COLOUR = "#17becf"    # cyan, dashed: the image inside its zero padding
BLANK = "#e3e3e3"           # output cells not computed yet
HEATMAP_LIMIT = 64          # larger maps are sent as a PNG, not as numbers


def _rect(top: float, left: float, height: float, width: float, colour: str, dash: str = "solid",
          line: int = 6) -> dict:
    return dict(type="rect", x0=left - 0.5, x1=left + width - 0.5, y0=top - 0.5, y1=top + height - 0.5,
                line=dict(color=colour, width=line, dash=dash), fillcolor="rgba(0,0,0,0)")


def grid_figure(values: np.ndarray, title: str, limit: float | None = None, signed: bool = True,
                window: tuple[int, int, int] | None = None, frame: tuple[int, int, int, int] | None = None,
                height: int = 420, blank_text: str = "") -> go.Figure:
    """A small matrix as coloured cells with its numbers written in them; NaN cells are light grey
    with ``blank_text`` in them (e.g. "0" for padding, "" for output not computed yet).

    ``window`` = (top, left, size) draws the orange square; ``frame`` = (top, left, h, w) a dashed
    cyan rectangle (the image inside its padding). Signed grids are red (+) / blue (−) around 0.
    """
    v = np.asarray(values, dtype=np.float64)
    text = [["" if np.isnan(x) else _fmt(x) for x in row] for row in v]
    finite = v[np.isfinite(v)]
    top = limit if limit is not None else (float(np.abs(finite).max()) if finite.size else 1.0)
    top = top or 1.0
    font = CELL_FONT if v.shape[1] <= 8 else CELL_FONT - 2
    scale = colorscale(DIVERGING_SCALE if signed else "Greys")
    cells = dict(type="heatmap", z=v, text=text, texttemplate="%{text}", textfont=dict(size=font),
                 showscale=False, xgap=2, ygap=2, hoverongaps=False,
                 hovertemplate="row %{y}, column %{x}: %{text}<extra></extra>", colorscale=scale,
                 zmin=-top if signed else 0.0, zmax=top, reversescale=not signed)
    traces = [cells]
    blank = np.isnan(v)
    if blank.any():  # light grey cells (not computed yet, or padding), drawn by a second trace
        traces.append(dict(type="heatmap", z=np.where(blank, 0.0, np.nan), colorscale=[[0, BLANK], [1, BLANK]],
                           text=np.where(blank, blank_text, "").tolist(), texttemplate="%{text}",
                           textfont=dict(size=font, color="#555555"), showscale=False, xgap=2, ygap=2,
                           hoverinfo="skip"))
    shapes = []
    if frame is not None:
        shapes.append(_rect(*frame, FRAME_COLOUR, dash="dash", line=3))
    if window is not None:
        r, c, k = window
        shapes.append(_rect(r, c, k, k, WINDOW_COLOUR))
    # Fixed ranges: blank (NaN) rows of a half-filled output must still take their place.
    rows, cols = v.shape
    bare = dict(showticklabels=False, showgrid=False, zeroline=False, autorange=False)
    layout = dict(title=dict(text=title, font=TITLE_FONT), font=FONT, height=height,
                  margin=dict(l=10, r=10, t=_top(title), b=10),
                  xaxis=dict(bare, range=[-0.6, cols - 0.4]),
                  yaxis=dict(bare, range=[rows - 0.4, -0.6], scaleanchor="x"),
                  shapes=shapes, plot_bgcolor="white")
    # One dict, no per-property validation: eight of these grids were a third of a rerun
    # (tests/test_figures.py validates the result with Plotly).
    return go.Figure(dict(data=traces, layout=layout), _validate=False)


def _top(title: str) -> int:
    """The top margin: room for a two-line title."""
    return 95 if "<br>" in title else 60


def _diverging_rgb(values: np.ndarray, limit: float) -> np.ndarray:
    """Signed values → uint8 RGB with the same red/blue scale as the heat maps (0 = white)."""
    colours = lut(DIVERGING_SCALE)
    t = np.clip(np.asarray(values, dtype=np.float64) / (2 * (limit or 1.0)) + 0.5, 0, 1)
    return colours[np.rint(t * (len(colours) - 1)).astype(np.int64)].round().astype(np.uint8)


def signed_map_figure(values: np.ndarray, title: str, limit: float, height: int = 420, lang: str = "en") -> go.Figure:
    """A signed feature map, red = positive, blue = negative, white = 0, on ±``limit``.

    Small maps (a CIFAR image's) are a heat map with values on hover; large ones (a photo's)
    are sent as one PNG, so a 512×512 map costs kilobytes, not megabytes."""
    v = np.asarray(values, dtype=np.float64)
    if max(v.shape) <= HEATMAP_LIMIT:
        return heatmap_figure(v, title, translate("value", lang), height, diverging=True, limit=limit, top=_top(title),
                              hover=translate("row %{y}, column %{x}: %{z:.3f}<extra></extra>", lang))
    return image_figure(_diverging_rgb(v, limit), title, height, top=_top(title))


def photo_figure(pixels: np.ndarray, title: str, height: int = 420) -> go.Figure:
    """The input image or photo, pixels sharp, with room for a two-line title."""
    return image_figure(pixels, title, height, top=_top(title))


def rgb_result_figure(maps: np.ndarray, title: str, height: int = 420) -> go.Figure:
    """Three channel maps (values for 0–1 pixels) put back together as a colour image, clipped to
    0–1: for blur and sharpen this is the transformed photo."""
    rgb = np.clip(np.moveaxis(np.asarray(maps, dtype=np.float64), 0, -1), 0, 1) * 255
    return image_figure(rgb.round().astype(np.uint8), title, height, top=_top(title))


def toy_figures(toy: ToyView, lang: str = "en") -> dict[str, go.Figure]:
    """The toy example at the view's position, by chart key: the (padded) input with the window, the
    kernel, kernel × patch, and the output filled up to this step."""
    k, padding, now, full = toy.kernel.shape[0], toy.padding, toy.step, toy.output
    side, padded = toy.image.shape[0], toy.image.shape[0] + 2 * padding
    weight_limit = float(np.abs(toy.kernel).max()) or 1.0
    return {
        "cv_input": grid_figure(np.pad(toy.image, padding, constant_values=np.nan),
                                translate("Input {size}×{size}", lang, size=padded)
                                + (translate("<br>({side}×{side} + padding {padding})", lang, side=side,
                                             padding=padding) if padding else ""),
                                signed=False, limit=1.0, window=(now.top, now.left, k), blank_text="0",
                                frame=(padding, padding, side, side) if padding else None),
        "cv_kernel_grid": grid_figure(toy.kernel, translate("Kernel {k}×{k}<br>({name})", lang, k=k,
                                                            name=translate(toy.kernel_name, lang)), limit=weight_limit),
        "cv_products": grid_figure(now.products, translate("Kernel × patch<br>(cell by cell)", lang),
                                   limit=weight_limit),
        "cv_output": grid_figure(partial_output(full, toy.position - 1),
                                 translate("Output {h}×{w}<br>(up to step {step})", lang, h=full.shape[0],
                                           w=full.shape[1], step=toy.position),
                                 limit=float(np.abs(full).max()) or 1.0, window=(now.row, now.col, 1)),
    }


def playground_slide(toy: ToyView, photo: PhotoView, lang: str = "en") -> bytes:
    """One 1920×1080 PNG: the toy input, the kernel and the whole output with their numbers; below,
    the photo, the kernel's summed map on it and its three channel maps as a colour image. The footer
    is the output-size formula.

    Every number grid uses the red/blue scale (0 = white): the slide writes numbers black on light
    and white on dark cells only for such scales, so a grey scale would hide them."""
    from render.slide import ImagePanel, MapPanel, slide_png

    def cells(values: np.ndarray) -> np.ndarray:
        return np.round(np.asarray(values, dtype=np.float64), 3) + 0.0  # "0.111", never "-0"

    def big(image: np.ndarray) -> np.ndarray:
        return upscale(image, max(1, 256 // max(image.shape[:2])))

    kernel, output, padding = toy.kernel, toy.output, toy.padding
    summed, maps = photo.summed, photo.maps
    rgb = (np.clip(np.moveaxis(np.asarray(maps, dtype=np.float64), 0, -1), 0, 1) * 255).round().astype(np.uint8)
    title = translate("Convolution: the {name} kernel slides over the 6×6 image (padding {padding}, stride {stride})",
                      lang, name=translate(toy.kernel_name, lang), padding=padding, stride=toy.stride)
    toy_title = (translate("Input 6×6", lang) + (translate(" + padding {padding}", lang, padding=padding) if padding
                                                 else "") + translate(" (1 = bright)", lang))
    return slide_png(title, [
        MapPanel(toy_title, cells(np.pad(toy.image, padding)), translate("pixel value", lang), diverging=True,
                 cell_text=True),
        MapPanel(translate("Kernel ({h}×{w})", lang, h=kernel.shape[0], w=kernel.shape[1]), cells(kernel),
                 translate("weight", lang), diverging=True, cell_text=True),
        MapPanel(translate("Output ({h}×{w})", lang, h=output.shape[0], w=output.shape[1]), cells(output),
                 translate("sum of products", lang), diverging=True, cell_text=True),
        ImagePanel(translate("Input: {source}", lang, source=photo.source), big(photo.pixels), weight=1.0),
        MapPanel(translate("Same kernel, R + G + B ({h}×{w})", lang, h=summed.shape[0], w=summed.shape[1]), summed,
                 translate("value", lang), diverging=True),
        ImagePanel(translate("R, G, B maps as colours", lang), big(rgb), weight=1.0),
    ], toy.formula)
