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
    telling_channel,
)
from render.common import OVERLAY_SCALE
from render.feature_maps import channel_figures, feature_maps_slide, layer_grid_figure
from render.slide import slide_file_name
from ui.lecture import lecture_bar
from ui.links import atlas_link
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


@st.fragment
def channel_views(link_slot) -> None:
    """Order, scale and the mosaic they change: a click here reruns only this part, not the layer
    and the image above (python -m bench: click_ms)."""
    # --- Channel (URL: channel=) --------------------------------------------------------------
    pick = telling_channel(maps)
    c_sort, c_scale, c_channel = st.columns([2, 2, 1])
    sort = url_widget(c_sort.radio, "Order channels by", options=list(SORTS), key="fm_sort", default=next(iter(SORTS)),
                      horizontal=True)
    scale = url_widget(c_scale.radio, "Colour scale", options=SCALES, key="fm_scale", default=SCALES[0],
                       horizontal=True,
                       help="Shared: one scale for all tiles, so strong and weak channels compare. "
                            "Per channel: every tile stretched to its own 0–1, so weak patterns show.")

    # --- All channels (the mosaic does not depend on the enlarged channel) ----------------------
    mosaic = feature_maps_view(maps, layer, sort, pick.channel, scale == "per channel")
    st.plotly_chart(fit(layer_grid_figure(mosaic, *grid_shape(count))), width="stretch", key="fm_grid")
    explain("Each tile is one channel's map, labelled with its channel number (hover for values).", caption=True)
    one_channel(c_channel, sort, scale, pick, link_slot)


@st.fragment
def one_channel(c_channel, sort: str, scale: str, pick, link_slot) -> None:
    """The channel number and its close-up: a channel click reruns only this part, so the
    mosaic above is not sent and drawn again."""
    channel = int(url_widget(c_channel.number_input, f"Channel to enlarge (0–{count - 1})", key="fm_channel",
                             default=pick.channel, valid=lambda c: isinstance(c, int) and 0 <= c < count,
                             param="channel", parse=parse_int_in(0, count - 1),
                             why=f"{layer} has channels 0–{count - 1}",
                             min_value=0, max_value=count - 1, step=1))
    view = feature_maps_view(maps, layer, sort, channel, scale == "per channel")

    # --- One channel up close -----------------------------------------------------------------
    st.subheader(f"Channel {channel} of {layer}, beside the input")
    if channel == pick.channel:
        st.caption(pick.reason)
    atlas_link(layer, channel)
    one = view.one
    for col, fig, key in zip(st.columns(3), channel_figures(view, img.pixels, img.title),
                             ("fm_input", "fm_channel_map", "fm_overlay")):
        col.plotly_chart(fit(fig), width="stretch", key=key)
    explain(f"Channel **{channel}**: mean **{float(one.mean()):.3f}**, max **{float(one.max()):.3f}**, "
            f"min **{float(one.min()):.3f}** — number {view.rank} of {count} by {sort}. "
            + ("In the middle map red = positive, blue = negative. " if view.signed else "")
            + f"On the right the map is laid over the image in {OVERLAY_SCALE} colours, strongest = yellow"
            + (" (negative values count as 0)." if view.signed else "."))

    export_button(slide_file_name("feature-maps", img.name, layer, f"channel-{channel}"),
                  partial(feature_maps_slide, view, img.pixels, img.title, slide_footer(ctx, img)), key="export_fm")
    share_link(link_slot)


channel_views(st.sidebar.container())
