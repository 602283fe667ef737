"""Feature maps: every channel of any layer for the current image, and one channel up close."""

from functools import partial

import streamlit as st

from explain.activations import format_shape, map_layers
from explain.feature_maps import SORTS, channel_order, grid_shape, layer_label, layer_note, strongest_channel
from render.common import OVERLAY_SCALE, heatmap_figure, image_figure, overlay, titled
from render.feature_maps import feature_grid_figure, feature_maps_slide
from render.slide import slide_file_name
from ui.lecture import lecture_bar
from ui.present import explain, export_button, fit, presentation_toggle, share_link, slide_footer
from ui.resources import load_or_stop
from ui.state import image_sidebar, parse_choice, parse_int_in, url_widget

st.set_page_config(page_title="Feature maps", page_icon="🧩", layout="wide")
ctx = load_or_stop()
presentation_toggle()
lecture_bar()
img = image_sidebar(ctx)
DEFAULT_LAYER = "block1.relu1"
SCALES = ("shared", "per channel")


acts = ctx.activations_of(img.key, img.pixels)
names = [info.name for info in map_layers(ctx.model)]

st.title("Feature maps")
explain("Every convolution, BatchNorm, ReLU and pooling layer turns the image into a stack of maps, "
        "one per channel. Bright = the channel responds strongly there.")

# --- Layer (URL: layer=) ----------------------------------------------------------------------
shapes = {n: (1, *acts[n].shape) for n in names}
layer = url_widget(st.selectbox, "Layer (block · layer — output N×C×H×W)", options=names, key="fm_layer",
                   default=DEFAULT_LAYER, valid=names.__contains__, param="layer", parse=parse_choice(names),
                   why="unknown layer; pick one from the list", format_func=lambda n: layer_label(n, shapes[n]))
maps = acts[layer]
shape = format_shape(shapes[layer])
count = maps.shape[0]
explain(layer_note(ctx.model, layer))

# --- Channel (URL: channel=) ------------------------------------------------------------------
c_sort, c_scale, c_channel = st.columns([2, 2, 1])
sort = url_widget(c_sort.radio, "Order channels by", options=list(SORTS), key="fm_sort", default=next(iter(SORTS)),
                  horizontal=True)
scale = url_widget(c_scale.radio, "Colour scale", options=SCALES, key="fm_scale", default=SCALES[0], horizontal=True,
                   help="Shared: one scale for all tiles, so strong and weak channels compare. "
                        "Per channel: every tile stretched to its own 0–1, so weak patterns show.")
channel = int(url_widget(c_channel.number_input, f"Channel to enlarge (0–{count - 1})", key="fm_channel",
                         default=strongest_channel(maps), valid=lambda c: isinstance(c, int) and 0 <= c < count,
                         param="channel", parse=parse_int_in(0, count - 1), why=f"{layer} has channels 0–{count - 1}",
                         min_value=0, max_value=count - 1, step=1))

# --- All channels -----------------------------------------------------------------------------
order = channel_order(maps, sort)
columns, height = grid_shape(count)
fig = feature_grid_figure(maps[order], order.tolist(),
                          f"{layer}: all {count} channels ({shape}), by {sort}, {scale} colour scale",
                          per_channel_scale=scale == "per channel", columns=columns, height=height)
st.plotly_chart(fit(fig), width="stretch", key="fm_grid")
explain("Each tile is one channel's map, labelled with its channel number (hover for values).", caption=True)

# --- One channel up close ---------------------------------------------------------------------
st.subheader(f"Channel {channel} of {layer}, beside the input")
one = maps[channel]
h, w = one.shape
signed = float(one.min()) < 0
peak = float(one.max())
c_in, c_map, c_over = st.columns(3)
c_in.plotly_chart(fit(titled(image_figure(img.pixels, ""), f"Input: {img.title}",
                             "1×3×32×32")), width="stretch", key="fm_input")
c_map.plotly_chart(fit(titled(heatmap_figure(one, "", "activation", diverging=signed),
                              f"{layer}, channel {channel}", f"one {h}×{w} map of {shape}")),
                   width="stretch", key="fm_channel_map")
c_over.plotly_chart(fit(titled(image_figure(overlay(img.pixels, one, 0.7, 256, vmax=peak, fade=True), ""),
                               f"Channel {channel} over the input", f"clear = 0, yellow = {peak:.2f}")),
                    width="stretch", key="fm_overlay")
rank = int((order == channel).nonzero()[0][0]) + 1
explain(f"Channel **{channel}**: mean **{float(one.mean()):.3f}**, max **{peak:.3f}**, "
        f"min **{float(one.min()):.3f}** — number {rank} of {count} by {sort}. "
        + ("In the middle map red = positive, blue = negative. " if signed else "")
        + f"On the right the map is laid over the image in {OVERLAY_SCALE} colours, strongest = yellow"
        + (" (negative values count as 0)." if signed else "."))

export_button(slide_file_name("feature-maps", img.name, layer, f"channel-{channel}"),
              partial(feature_maps_slide, img.pixels, img.title, layer, shape, maps, order.tolist(), channel,
                      sort, scale == "per channel", slide_footer(ctx, img)), key="export_fm")
share_link()
