"""1×1 weights: a 1×1 convolution is a weighted sum of feature maps (lecture §4).

The maths lives in explain.one_by_one, the figures in render.heatmaps.
"""

from functools import partial

import pandas as pd
import streamlit as st

from explain.activations import format_shape
from explain.one_by_one import (
    LECTURE_EXAMPLE,
    compare_with_3x3,
    cost_rows,
    one_by_one_layers,
    one_by_one_view,
    weight_matrix,
    with_kernel,
)
from locales import known
from render.common import DIVERGING_SCALE, row_figure
from render.one_by_one import (
    contributions_figure,
    contributions_scale,
    input_weights_figure,
    one_by_one_slide,
    sum_check_figure,
    sum_check_scale,
    weight_matrix_figure,
    weight_scale,
)
from render.slide import slide_file_name
from ui import headings
from ui.i18n import lang, tr
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
    slide_footer,
    tuck_away,
)
from ui.resources import load_or_stop
from ui.state import image_sidebar, parse_choice, parse_int_in, url_widget
from ui.text import literal

st.set_page_config(page_title=tr("1×1 weights"), layout="wide")

TOP = 6  # strongest weighted maps shown one by one

ctx = load_or_stop()
presentation_toggle()
lecture_bar()
img = image_sidebar(ctx)
sha = ctx.card.sha256
convs = {info.name: info.module for info in one_by_one_layers(ctx.model)}
names = list(convs)



headings.title(tr("1×1 convolution: a weighted sum of feature maps"))
explain(tr(
    "A 1×1 filter over C input maps has C weights (plus a bias): "
    "**output = w₁·map₁ + w₂·map₂ + … + w_C·map_C + bias**, at every position. "
    "Learning the weights is learning which features matter more and which less (lecture §4). "
    "This network ends blocks 2 and 3 with one: **{layers}**.", layers=tr("** and **").join(names)))

# --- Controls (mirrored in the URL) ---------------------------------------------------------
controls = tuck_away(tr("1×1 layer and output channel"))  # presenting: the weights first
c_layer, c_channel, _ = st.columns([2, 2, 3])
layer = url_widget(c_layer.radio, tr("1×1 layer"), options=names, key="ob_layer", default=names[-1],
                   valid=names.__contains__, param="layer", parse=parse_choice(names),
                   why=tr("unknown 1×1 layer; the 1×1 layers are {layers}", layers=", ".join(names)), horizontal=True)
conv = convs[layer]
c_out = conv.out_channels
kept = st.session_state.get("ob_channel", 0)
channel = int(url_widget(c_channel.number_input, tr("Output channel of {layer} (0–{last})", layer=layer,
                                                    last=c_out - 1),
                         key="ob_channel",
                         # e.g. 100 after switching to a 64-channel layer: the nearest channel there is
                         default=min(max(0, int(kept)), c_out - 1), valid=lambda c: 0 <= int(c) < c_out,
                         param="channel", parse=parse_int_in(0, c_out - 1),
                         why=tr("{layer} has output channels 0–{last}", layer=layer, last=c_out - 1),
                         min_value=0, max_value=c_out - 1, step=1))

controls.close()

# --- Weight matrices ------------------------------------------------------------------------
headings.header(tr("The learned weights"))
explain(tr("Each **row** is one output map's filter: one weight per input map. Red adds the input "
           "map, blue subtracts it, white ignores it. The row of the output channel chosen above is drawn "
           "as bars further down."))
# The matrices do not change with the channel (no frame on its row: redrawing a 128×128 matrix for
# it was 40 ms of each channel click in Chromium), so the browser keeps them. Colour scales are HTML
# legends under the figures, here and below (render.common.legend_html: a Plotly colour bar is about
# half of a heat map's drawing time).
weights = {name: weight_matrix(convs[name]) for name in names}
matrices = [weight_matrix_figure(weights[name], name, lang=lang(), bar=False) for name in names]
if presenting():  # one figure across the screen: two square matrices as large as its width allows
    fill_screen(row_figure(matrices, gap=0.12), "ob_matrices", ratio=1.9)
for col, name, fig in zip(st.columns(len(names)), names, matrices):
    if not presenting():
        col.plotly_chart(fit(fig), width="stretch", key=f"ob_matrix_{name}")
    colour_legend(*weight_scale(weights[name], lang()), colours=DIVERGING_SCALE, container=col)

# --- One output channel, for the current image ------------------------------------------------
view = one_by_one_view(ctx.model, ctx.activations_of(img.key, img.pixels), layer, channel, TOP)
source, in_shape, out_shape, d, top = view.source, view.in_shape, view.out_shape, view.decomposition, view.top

headings.header(tr("Output channel {channel} of {layer}, for {image}", channel=channel, layer=layer,
                   image=literal(img.long_name)))
explain(tr(
    "The input of {layer} is the output of **{source}** ({in_shape}); its output is {out_shape}: same height "
    "and width, the channels are recombined. Below, the {count} input maps with the largest total "
    "contribution for this image (coloured bars) carry **{share:.0%}** of it.", layer=layer, source=source,
    in_shape=format_shape(in_shape), out_shape=format_shape(out_shape), count=len(top.channels), share=top.share))
st.plotly_chart(fit(input_weights_figure(d.weights, layer, channel, highlight=top.channels, lang=lang())),
                width="stretch", key="ob_weights")
st.plotly_chart(fit(contributions_figure(top, layer, source, in_shape, channel, lang=lang(), bar=False)),
                width="stretch", key="ob_contributions")
colour_legend(*contributions_scale(top, lang()), colours=DIVERGING_SCALE, container=st.columns(3)[1])

check_col, text_col = st.columns([3, 2])
check_col.plotly_chart(fit(sum_check_figure(d.reconstructed, d.actual, layer, out_shape, channel, lang(), bar=False)),
                       width="stretch", key="ob_check")
colour_legend(*sum_check_scale(d.reconstructed, d.actual, lang()), colours=DIVERGING_SCALE,
              container=check_col.columns([1, 2, 1])[1])
with text_col:
    headings.subheader(tr("The sum is the layer"))
    explain(tr("Adding up all {count} weighted maps and the bias reproduces what {layer} computed, position by "
               "position:", count=d.weights.size, layer=layer))
    headings.subheader(tr("max |difference| = {value:.1e}", value=d.max_abs_difference))
    if d.max_abs_difference < 1e-4:
        st.success(tr("Equal up to floating-point rounding: a 1×1 convolution is exactly this weighted sum."))
    else:
        st.error(tr("The sum does not reproduce the layer: the checkpoint or the code is inconsistent."))
    explain(tr("BatchNorm and ReLU come next and add the non-linearity (\"network in network\")."))
    export_button(slide_file_name("1x1", img.name, layer, f"channel-{channel}"),
                  partial(one_by_one_slide, view, img.title, slide_footer(ctx, img), lang()), key="export_ob")

# --- Costs ----------------------------------------------------------------------------------
headings.header(tr("Why 1×1? Parameters and multiply-adds"))
# explain.one_by_one.cost_rows' columns, shown in the session's language
COST_COLUMNS = (known("convolution"), known("filters"), known("parameters"), known("multiply-adds"), known("× the 1×1"))
number_formats = {tr("parameters"): "{:,}", tr("multiply-adds"): "{:,}", tr("× the 1×1"): "{:g}×"}


def cost_table(costs) -> pd.DataFrame:
    table = pd.DataFrame(cost_rows(costs))
    return table.rename(columns={c: tr(c) for c in COST_COLUMNS})


h, w = out_shape[2], out_shape[3]
# Side by side the two tables do not fit at 1280 px in presentation mode: one under the other.
ours, lecture = (st.container(), st.container()) if presenting() else st.columns(2)
with ours:
    headings.subheader(tr("{layer} ({h}×{w}×{c_in} → {h}×{w}×{c_out}) against a 3×3 layer", layer=layer, h=h, w=w,
                          c_in=conv.in_channels, c_out=c_out))
    st.table(cost_table(list(compare_with_3x3(conv.in_channels, c_out, h, w))).style.format(number_formats),
             hide_index=True)
    explain(tr("Same channels and size (H×W×C, as in the lecture); multiply-adds for one image with "
               "'same' padding; parameters include one bias per filter."), caption=True)
with lecture:
    ex = LECTURE_EXAMPLE
    headings.subheader(tr("The lecture's example: {h}×{w}×{c_in} → {h}×{w}×{c_out}", h=ex.height, w=ex.width,
                          c_in=ex.c_in, c_out=ex.c_out))
    st.table(cost_table([ex] + [with_kernel(ex, k) for k in (3, 5)]).style.format(number_formats), hide_index=True)
    explain(tr("Thirty-two 1×1×192 filters change the channel count and keep height and width. "
               "GoogLeNet puts such 1×1 layers before its 3×3 and 5×5 convolutions to cut this cost."),
            caption=True)

share_link()
