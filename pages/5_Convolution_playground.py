"""Convolution playground: the lecture's 6×6 toy example stepped window by window, with an
editable kernel, padding and stride; then the same kernel on the current test image or a photo."""

from functools import partial

import numpy as np
import streamlit as st
from PIL import Image

from data.uploads import EXTENSIONS, MAX_BYTES, UploadError, network_view, safe_name
from explain.convolution import (
    CUSTOM,
    KERNEL_CHOICES,
    MAX_KERNEL,
    MAX_PADDING,
    MAX_STRIDE,
    PRESETS,
    TOY_SIZE,
    default_custom_kernel,
    formula_text,
    geometry_problem,
    house_drawing,
    output_size,
    photo_pixels,
    photo_view,
    shuffle_pixels,
    toy_view,
    uncovered,
)
from explain.shapes import dense_vs_conv
from locales import known, translate
from render.common import DIVERGING_SCALE, display_pixels, panel_figure, row_figure, text
from render.convolution import (
    photo_figure,
    playground_slide,
    rgb_result_figure,
    signed_map_figure,
    toy_figures,
)
from render.slide import slide_file_name
from ui import headings
from ui.i18n import lang, said, tr, translator
from ui.lecture import lecture_bar
from ui.present import (
    colour_legend,
    explain,
    export_button,
    fill_screen,
    fit,
    presentation_toggle,
    presenting,
    share_link,
    tuck_away,
)
from ui.resources import load_or_stop
from ui.state import image_sidebar, parse_choice, parse_int_in, url_part, url_state, url_widget, write_url
from ui.text import literal

st.set_page_config(page_title=tr("Convolution playground"), page_icon="🔍", layout="wide")
ctx = load_or_stop(need_data=False)  # without CIFAR-10 the drawn house stands in for a test image
presentation_toggle()  # first in the sidebar, as on every page
lecture_bar()
chosen = image_sidebar(ctx) if ctx.split is not None else None
part = url_part(("toy", "photo", "fc"))  # a slide's section: the ones before it are tucked away when presenting

headings.title(tr("Convolution playground"))
explain(tr("A convolution slides a small grid of weights — the **kernel** or **filter** — over the image. "
        "At each position it multiplies the kernel with the patch under it, cell by cell, and adds the "
        "products up. This sliding multiply-and-add is a **dot product: a similarity score between the "
        "filter and each patch**, so the filter lights up where the image looks like it."))

# --- Kernel (URL: kernel=), image, padding, stride ---------------------------------------------
controls = tuck_away(tr("Kernel, padding and stride"))
preset = url_widget(st.radio, tr("Kernel"), options=KERNEL_CHOICES, key="cv_kernel", default="vertical edge",
                    valid=KERNEL_CHOICES.__contains__, param="kernel", parse=parse_choice(KERNEL_CHOICES),
                    why=tr("unknown kernel; pick one of {names}", names=", ".join(KERNEL_CHOICES)), horizontal=True,
                    help=tr("Presets are the lecture's 3×3 kernels; choose custom to type your own weights."),
                    format_func=translator())

# URL: transpose=0|1, pad=, stride= (so a link reopens the same geometry)
c_img, c_pad, c_stride = st.columns([2, 1, 1])
transpose = url_widget(c_img.toggle, tr("Transpose the image"), key="cv_transpose", default=False, param="transpose",
                       parse=lambda raw: {"0": False, "1": True}[raw], why=tr("use 0 or 1"),
                       to_url=lambda on: str(int(on)), help=tr("The vertical edge becomes horizontal."))
padding = int(url_widget(c_pad.slider, tr("Padding p (zeros around the image)"), key="cv_padding", default=0,
                         param="pad", parse=parse_int_in(0, MAX_PADDING), why=tr("padding is 0–{max}", max=MAX_PADDING),
                         min_value=0, max_value=MAX_PADDING))
stride = int(url_widget(c_stride.slider, tr("Stride s (jump between windows)"), key="cv_stride", default=1,
                        param="stride", parse=parse_int_in(1, MAX_STRIDE), why=tr("stride is 1–{max}", max=MAX_STRIDE),
                        min_value=1, max_value=MAX_STRIDE))


def custom_kernel() -> np.ndarray:
    """Number inputs for a k×k kernel, starting from the kernel shown before (or a default)."""
    size = int(url_widget(st.number_input, tr("Kernel size k (1–{max})", max=MAX_KERNEL), key="cv_size", default=3,
                          min_value=1, max_value=MAX_KERNEL))
    keys = [[f"cv_w_{r}_{c}" for c in range(size)] for r in range(size)]
    missing = any(key not in st.session_state for row in keys for key in row)
    if st.session_state.get("_cv_custom_size") != size or missing:
        last = np.asarray(st.session_state.get("_cv_last_kernel", []), dtype=np.float64)
        start = last if last.shape == (size, size) else default_custom_kernel(size)
        for r, row in enumerate(keys):
            for c, key in enumerate(row):
                st.session_state[key] = float(start[r, c])
        st.session_state["_cv_custom_size"] = size
    st.caption(tr("Weights, row by row (top row first):"))
    weights = np.zeros((size, size))
    for r, row in enumerate(keys):
        cols = st.columns(size)
        for c, key in enumerate(row):
            weights[r, c] = cols[c].number_input(tr("weight row {r}, column {c}", r=r, c=c), step=0.5, key=key,
                                                 format="%g", label_visibility="collapsed")
    return weights


if preset == CUSTOM:
    c_edit, _ = st.columns([1, 2])
    with c_edit:
        kernel = custom_kernel()
else:
    kernel = PRESETS[preset]
    st.session_state["_cv_custom_size"] = None
st.session_state["_cv_last_kernel"] = kernel.tolist()
k = kernel.shape[0]
controls.close()

# --- The toy example, one window at a time ----------------------------------------------------
toy_part = tuck_away(tr("The 6×6 toy example"), when=part != "toy", icon=":material/grid_on:")
if not presenting():  # presenting: the step's heading and the figure come first, the rest below it
    headings.header(tr("The lecture's toy example: a 6×6 image with an edge"))
explain(tr("Dark (0) {dark} half, bright (1) {bright} half. The {k}×{k} kernel slides over it with padding "
           "{padding} and stride {stride}.", dark=tr("top") if transpose else tr("left"),
           bright=tr("bottom") if transpose else tr("right"), k=k, padding=padding, stride=stride))
out = output_size(TOY_SIZE, k, padding, stride)
first, second = st.container(), st.container()  # presenting: figure (first), then the stepping controls
upper, lower = (second, first) if presenting() else (first, second)
upper.markdown(tr("**Output size** (n = {n}, k = {k}, p = {p}, s = {s}): {formula}, so the output is "
                  "**{out}×{out}**.", n=TOY_SIZE, k=k, p=padding, s=stride,
                  formula=formula_text(TOY_SIZE, k, padding, stride), out=out))
# Every kernel (k ≤ 5) fits the 6×6 toy image; only a tiny photo below can be too small for it.
left_out = uncovered(TOY_SIZE, k, padding, stride)
if left_out:
    explain(tr("The floor ⌊…⌋: with stride {stride} the last {left} row(s) and column(s) of the padded "
               "input are never under the window.", stride=stride, left=left_out), caption=True, container=upper)

total = out * out
url_state("cv_pos", 1, param="pos", parse=parse_int_in(1, total),
          why=tr("this output has positions 1–{total}", total=total),
          valid=lambda pos: isinstance(pos, int) and 1 <= pos <= total)  # the buttons below need it first


def move(by: int) -> None:
    st.session_state["cv_pos"] = min(total, max(1, int(st.session_state.get("cv_pos", 1)) + by))


c_prev, c_slider, c_next = upper.columns([1.5, 5, 1.5], vertical_alignment="bottom")
c_prev.button(tr("← Previous"), key="cv_prev", on_click=move, args=(-1,), disabled=st.session_state["cv_pos"] <= 1,
              width="stretch")
c_next.button(tr("Next →"), key="cv_next", on_click=move, args=(1,), disabled=st.session_state["cv_pos"] >= total,
              width="stretch")
if total > 1:
    pos = int(url_widget(c_slider.slider, tr("Window position (1–{total}, row by row)", total=total), key="cv_pos",
                         default=1, min_value=1, max_value=total))
else:
    pos = 1
    c_slider.markdown(tr("The kernel fits in exactly one position."))
write_url(pos=pos)


@st.cache_resource(max_entries=64, show_spinner=False)
def _toy_figures(preset: str, kernel: np.ndarray, padding: int, stride: int, pos: int, transpose: bool,
                 language: str) -> dict:
    """The toy example's figures, built once per state: a new image leaves them as they are. Shared,
    never changed: the page draws them as they are or copies them (fit, row_figure)."""
    return toy_figures(toy_view(preset, kernel, padding, stride, pos, transpose), language)


toy = toy_view(preset, kernel, padding, stride, pos, transpose)
now, full = toy.step, toy.output
headings.subheader(tr("Step {pos} of {total}: output row {row}, column {col} ← the {k}×{k} patch at rows "
                      "{top}–{bottom}, columns {left}–{right} of the {input}", pos=pos, total=total, row=now.row,
                      col=now.col, k=k,
                      top=now.top, bottom=now.top + k - 1, left=now.left, right=now.left + k - 1,
                      input=tr("padded input") if padding else tr("input")), container=lower)
figures = _toy_figures(preset, kernel, padding, stride, pos, transpose, lang())
widths = [1.3, 1, 1, 1.2]
with lower:
    if presenting():
        fill_screen(row_figure(list(figures.values()), widths, height=420), "cv_toy_row", ratio=2.3)
    else:
        for col, (key, fig) in zip(st.columns(widths), figures.items()):
            col.plotly_chart(fit(fig), width="stretch", key=key)
    headings.subheader(now.sum_text(kernel))
explain(tr("Orange square: the current window and the output cell it writes. Sum of kernel weight · input value "
           "over the window") + (tr("; grey zeros around the dashed frame are the padding.") if padding else "."),
        caption=True, container=lower)

toy_part.close()

# --- The same kernel on a real image ----------------------------------------------------------
photo_part = tuck_away(tr("The same kernel on a real image"), when=part == "fc", icon=":material/image:")
headings.header(tr("The same kernel on a real image"))


@st.cache_data(max_entries=4, show_spinner="Reading the photo…")
def _photo(file_id: str, name: str, _upload) -> np.ndarray:
    """Keyed on the upload's id: hashing its bytes (up to 20 MB) would cost every rerun."""
    return photo_pixels(_upload.getvalue(), name)


photo_controls = tuck_away(tr("Photo"), when=part != "fc", icon=":material/upload:")  # never nested
upload = st.file_uploader(tr("Or a photo for this section only (PNG, JPEG, WebP or GIF; at most 20 MB and "
                             "4096×4096 pixels)"),
                          help=tr("Used at up to 512 pixels on its longest side. Without it, the sidebar's current "
                                  "image is used (a photo uploaded there also at up to 512 pixels)."),
                          type=list(EXTENSIONS), max_upload_size=MAX_BYTES // (1024 * 1024), key="cv_upload")


@st.cache_resource(max_entries=4, show_spinner=False)
def _image_section(pixels: np.ndarray, kernel: np.ndarray, padding: int, stride: int, source: str, language: str):
    """The per-channel maps and the section's two rows of figures (a photo's PNGs take a few hundred
    milliseconds to encode: cached, so stepping the toy example above stays fast). Shared, never
    changed (the page copies the figures into one); st.cache_data pickled them, ~6 ms a new image."""
    photo = photo_view(pixels, source, kernel, padding, stride)
    maps, summed = photo.maps, photo.summed
    oh, ow = summed.shape
    channel_limit = float(np.abs(maps).max()) or 1.0
    top_row = {
        "cv_image": photo_figure(pixels, translate("Input:<br>", language) + text(source)),
        "cv_sum": signed_map_figure(summed, translate("R + G + B ({h}×{w})<br>one 3-channel filter", language,
                                                      h=oh, w=ow), float(np.abs(summed).max()) or 1.0, lang=language),
        "cv_rgb": rgb_result_figure(maps, translate("R, G, B maps as colours<br>(clipped to 0–1)", language)),
    }
    channel_row = {f"cv_map_{name}": signed_map_figure(maps[c], translate(title, language), channel_limit,
                                                         lang=language)
                   for c, (name, title) in enumerate((("red", known("Red channel ⋆ kernel")),
                                                      ("green", known("Green channel ⋆ kernel")),
                                                      ("blue", known("Blue channel ⋆ kernel"))))}
    # each row's colour scale (the sum's; the channels' shared one), shown under the row
    return photo, (top_row, channel_row), (float(np.abs(summed).max()) or 1.0, channel_limit)


def sidebar_image(current) -> tuple[np.ndarray, str]:
    """Pixels and name of the sidebar's current image; a sidebar photo at its display resolution
    (up to 512 px on its longest side), not the network's 32×32."""
    if current.is_upload:
        return np.asarray(current.upload.original, dtype=np.uint8)[..., :3], tr("your photo {name}",
                                                                                 name=current.upload.name)
    return current.pixels, current.long_name


house = url_widget(st.toggle, tr("Use the drawn house (the lecture's example: vertical edges on the chimney and "
                                 "walls, horizontal ones along the roof)"), key="cv_house", default=False,
                   help=tr("The lecture's house photo is not shipped with the app; this drawing has the same "
                           "straight edges. An uploaded photo takes precedence."))
photo_controls.close()
pixels = None
if upload is not None:
    try:
        pixels = _photo(upload.file_id, upload.name, upload)
        source = tr("your photo {name}", name=safe_name(upload.name))
    except UploadError as exc:
        instead = tr("the drawn house") if house or chosen is None else tr("the sidebar's image")
        st.error(tr("{problem} Showing {instead} meanwhile.", problem=literal(said(exc)), instead=instead))
if pixels is None and (house or chosen is None):
    pixels, source = house_drawing(), tr("the drawn house")
if pixels is None:
    pixels, source = sidebar_image(chosen)

h, w = pixels.shape[:2]
problem = geometry_problem((h, w), k, padding, stride, lang())
if problem:
    st.error(tr("{problem} ({source} is {h}×{w} pixels.)", problem=problem, source=literal(source), h=h, w=w))
else:
    photo, rows, limits = _image_section(pixels, kernel, padding, stride, source, lang())
    oh, ow = photo.summed.shape
    explain(tr("The {k}×{k} kernel on **{source}** — {h}×{w} pixels with values 0–1, padding {padding}, "
                   "stride {stride}. Each colour channel gives a {oh}×{ow} map. Their sum is what **one** 3-channel "
                   "filter (its three slices all equal to this kernel) outputs. Red = positive, blue = negative.",
                   k=k, source=literal(source), h=h, w=w, padding=padding, stride=stride, oh=oh, ow=ow))
    # In the browser a changed Plotly figure is drawn from scratch in a new element, ~25–30 ms here
    # whatever it holds, its panels far less: a new image redraws one figure with both rows (a click
    # 197 → 164 ms in Chromium, same run), not two or six. Presenting, each row fills the screen on its
    # own. The colour scales are HTML legends (render.common.legend_html).
    legends = (tr("R + G + B: value"), tr("The three channel maps: value, one scale"))
    if presenting():
        for number, (row, legend, limit) in enumerate(zip(rows, legends, limits)):
            fill_screen(row_figure(list(row.values()), height=400, bars="none"), f"cv_photo_row_{number}", ratio=2.6)
            colour_legend(legend, -limit, limit, DIVERGING_SCALE, container=st.columns(3)[1])
    else:
        st.plotly_chart(fit(panel_figure([list(row.values()) for row in rows], height=800, bars="none", row_gap=0.1)),
                        width="stretch", key="cv_photo_rows")
        for col, legend, limit in zip(st.columns(2), legends, limits):
            colour_legend(legend, -limit, limit, DIVERGING_SCALE, container=col)
    export_button(
        slide_file_name("convolution", preset, f"k{k}-p{padding}-s{stride}"),
        partial(playground_slide, toy, photo, lang()),
        key="cv_export")
    explain(tr("The three channel maps share one colour scale. Edge kernels light up edges of their direction "
               "(vertical: the sides of a chimney; horizontal: a roof line); blur and sharpen transform the "
               "image, as the colour version shows."), caption=True)

photo_part.close()

# --- Why convolution (lecture §1) ---------------------------------------------------------------
headings.header(tr("Why convolution, not a fully connected layer?"))
explain(tr("A fully connected layer connects every output to every pixel: far more weights than it needs, and "
        "no notion of position. A convolution connects each output only to a small neighbourhood "
        "(**locality**) and slides the same few weights over the whole image (**weight sharing**), so each "
        "output position stays responsible for one place of the input."))
# Presenting: the two images first, the table below them.
if presenting():
    fc_figure, fc_table = st.container(), st.container()
else:
    fc_table, fc_figure = st.container(), st.container()
cmp = dense_vs_conv(channels=3, size=32, filters=32, kernel=3)
c, hh, ww = cmp.input_shape
f_out = cmp.output_shape[0]
columns = [tr("layer"), tr("parameters"), tr("each output sees"), tr("same weights at every position")]
fc_table.table([
    dict(zip(columns, (tr("fully connected {c}·{h}·{w} → {f}·{h}·{w}", c=c, h=hh, w=ww, f=f_out),
                       f"{cmp.dense_parameters:,}",
                       tr("all {count:,} input values", count=cmp.dense_inputs_per_output), tr("no")))),
    dict(zip(columns, (tr("convolution: {f} filters of {c}×3×3, padding 1", f=f_out, c=c),
                       f"{cmp.conv_parameters:,}",
                       tr("a 3×3 neighbourhood × {c} channels = {count} values", c=c,
                          count=cmp.conv_inputs_per_output),
                       tr("yes, at all {count:,} positions", count=cmp.conv_positions)))),
], hide_index=True)
fc_table.markdown(tr("Same input ({c}×{h}×{w}) and same output ({f}×{h}×{w}): the fully connected layer needs "
               "**{times:,.0f} times** as many parameters.", c=c, h=hh, w=ww, f=f_out,
               times=cmp.dense_parameters / cmp.conv_parameters))
network_image = chosen.pixels if chosen is not None else network_view(Image.fromarray(house_drawing()))
shuffled = shuffle_pixels(network_image)
pair = ((network_image, tr("The image (32×32)")),
        (shuffled, tr("Its pixels shuffled<br>(one fixed order for every image)")))
with fc_figure:
    if presenting():
        fill_screen(row_figure([photo_figure(*shown) for shown in pair], gap=0.06), "cv_fc_row", ratio=2.0)
    else:  # two pictures, nothing to zoom or hover: as images, a new image's click is ~10 ms shorter
        for col, (pixels_shown, title) in zip(st.columns([1, 2, 2, 1])[1:3], pair):
            col.image(display_pixels(pixels_shown), width="stretch", output_format="PNG",
                      caption=title.replace("<br>", " "))
explain(tr("Shuffle the pixels of every image in the same way and a fully connected layer learns just as well: "
           "to it the shuffle is only a reordering of its weights. A convolution cannot, because the "
           "neighbours it looks at are no longer neighbours."), caption=True)
share_link()
