"""Feature maps: every channel of any layer for the current image, and one channel up close."""

from functools import partial

import streamlit as st

from explain.activations import format_shape, map_layers
from explain.feature_maps import (
    SORTS,
    feature_maps_view,
    grid_shape,
    layer_label,
    layer_note,
    screen_grid,
    telling_channel,
)
from locales import known
from render.common import OVERLAY_SCALE, row_figure
from render.feature_maps import channel_comparison_figures, channel_figures, feature_maps_slide, layer_grid_figure
from render.slide import slide_file_name
from ui import headings
from ui.i18n import lang, tr, translator
from ui.lecture import lecture_bar
from ui.links import atlas_link, atlas_links
from ui.present import (
    explain,
    export_button,
    fill_screen,
    fit,
    pair_row,
    presentation_toggle,
    presenting,
    share_link,
    slide_footer,
    tuck_away,
)
from ui.resources import load_or_stop
from ui.state import compare_sidebar, comparison_label, image_sidebar, parse_choice, parse_int_in, url_widget

st.set_page_config(page_title=tr("Feature maps"), page_icon="🧩", layout="wide")
ctx = load_or_stop()
presentation_toggle()
lecture_bar()
img = image_sidebar(ctx)
other = compare_sidebar(ctx)
DEFAULT_LAYER = "block1.relu1"
SCALES = (known("shared"), known("per channel"))


acts = ctx.activations_of(img.key, img.pixels)
names = [info.name for info in map_layers(ctx.model)]

headings.title(tr("Feature maps"))
explain(tr("Every convolution, BatchNorm, ReLU and pooling layer turns the image into a stack of maps, "
           "one per channel. Bright = the channel responds strongly there."))

# --- Layer (URL: layer=) ----------------------------------------------------------------------
controls = tuck_away(tr("Layer, order, colour scale, channel"))  # presenting: the grid first
shapes = {n: (1, *acts[n].shape) for n in names}
layer = url_widget(st.selectbox, tr("Layer (block · layer — output N×C×H×W)"), options=names, key="fm_layer",
                   default=DEFAULT_LAYER, valid=names.__contains__, param="layer", parse=parse_choice(names),
                   why=known("unknown layer; pick one from the list"), format_func=lambda n: layer_label(n, shapes[n]))
maps = acts[layer]
shape = format_shape(shapes[layer])
count = maps.shape[0]
explain(layer_note(ctx.model, layer, lang=lang()))

# --- Channel (URL: channel=) ------------------------------------------------------------------
pick = telling_channel(maps)
c_sort, c_scale, c_channel = st.columns([2, 2, 1])
sort = url_widget(c_sort.radio, tr("Order channels by"), options=list(SORTS), key="fm_sort",
                  default=next(iter(SORTS)), horizontal=True, format_func=translator())
scale = url_widget(c_scale.radio, tr("Colour scale"), options=SCALES, key="fm_scale", default=SCALES[0],
                   horizontal=True, format_func=translator(),
                   help=tr("Shared: one scale for all tiles, so strong and weak channels compare. "
                           "Per channel: every tile stretched to its own 0–1, so weak patterns show."))
channel = int(url_widget(c_channel.number_input, tr("Channel to enlarge (0–{last})", last=count - 1), key="fm_channel",
                         default=pick.channel, valid=lambda c: isinstance(c, int) and 0 <= c < count,
                         param="channel", parse=parse_int_in(0, count - 1),
                         why=tr("{layer} has channels 0–{last}", layer=layer, last=count - 1),
                         min_value=0, max_value=count - 1, step=1))

controls.close()

# --- Two images, one layer (URL compare=N): presenting, the slide's figure, so first ----------------
def comparison() -> None:
    if not presenting():  # presenting: the figures' titles say it
        headings.subheader(tr("Channel {channel} of {layer} for two images", channel=channel, layer=layer))
    items = [(img.pixels, maps[channel], comparison_label(ctx, img)),
             (other.pixels, ctx.activations_of(other.key, other.pixels)[layer][channel], comparison_label(ctx, other))]
    pair_row(channel_comparison_figures(items, layer, channel, shapes[layer], lang=lang()), "fm")
    explain(tr("Both maps are drawn on one colour scale, so equal colours mean equal activations."), caption=True)


if other is not None and presenting():
    comparison()

# --- All channels -----------------------------------------------------------------------------
view = feature_maps_view(maps, layer, sort, channel, scale == "per channel")
if presenting():  # tiles as large as the screen allows: fewer columns, the figure's height set by the browser
    columns, ratio = screen_grid(count)
    fill_screen(layer_grid_figure(view, columns, 420, lang=lang()), "fm_grid", ratio=ratio)
else:
    st.plotly_chart(fit(layer_grid_figure(view, *grid_shape(count), lang=lang())), width="stretch", key="fm_grid")
explain(tr("Each tile is one channel's map, labelled with its channel number (hover for values)."), caption=True)
with st.expander(tr("Every channel of {layer} in the channel atlas", layer=layer), expanded=False):
    atlas_links(layer, view.order.tolist())

# --- One channel up close ---------------------------------------------------------------------
headings.subheader(tr("Channel {channel} of {layer}, beside the input", channel=channel, layer=layer))
if channel == pick.channel:
    st.caption(pick.reason_in(lang()))
atlas_link(layer, channel)
one = view.one
# The input, the channel's map and the map over the input as one figure: in the browser a changed Plotly
# figure is drawn from scratch in a new element (~20-30 ms here whatever it holds), and a new image
# redrew three (207 -> 190 ms a click in Chromium, same run).
st.plotly_chart(fit(row_figure(list(channel_figures(view, img.pixels, img.title, lang())), height=400)),
                width="stretch", key="fm_channel_row")
explain(tr("Channel **{channel}**: mean **{mean:.3f}**, max **{max:.3f}**, min **{min:.3f}** — number {rank} of "
           "{count} by {sort}. ", channel=channel, mean=float(one.mean()), max=float(one.max()), min=float(one.min()),
           rank=view.rank, count=count, sort=tr(sort))
        + (tr("In the middle map red = positive, blue = negative. ") if view.signed else "")
        + tr("On the right the map is laid over the image in {scale} colours, strongest = yellow", scale=OVERLAY_SCALE)
        + (tr(" (negative values count as 0).") if view.signed else "."))

if other is not None and not presenting():
    comparison()
export_button(slide_file_name("feature-maps", img.name, layer, f"channel-{channel}"),
              partial(feature_maps_slide, view, img.pixels, img.title, slide_footer(ctx, img), lang()),
              key="export_fm")
share_link()
