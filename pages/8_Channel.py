"""Channel atlas: one channel of one layer over the whole test set (URL /Channel?layer=…&channel=…)."""

import streamlit as st

from explain.activations import map_layers
from explain.atlas import POOL, channel_atlas, suggestion_in
from explain.feature_maps import image_activations, layer_label
from explain.maximise import JITTER, STEPS
from explain.testset import top_k
from model.names import MAX_NAME_LENGTH
from render.atlas import class_means_html, outlined, selectivity_html
from render.common import display_pixels
from ui import headings
from ui.channel_names import load_channel_names, save_channel_name
from ui.i18n import cls, lang, tr
from ui.lecture import lecture_bar
from ui.present import explain, html_sizes, presentation_toggle, share_link
from ui.resources import load_or_stop
from ui.state import image_sidebar, parse_choice, parse_int_in, set_current_image, url_widget
from ui.text import literal

st.set_page_config(page_title=tr("Channel atlas"), page_icon="🔎", layout="wide")
ctx = load_or_stop()
presentation_toggle()
lecture_bar()
img = image_sidebar(ctx)
DEFAULT_LAYER = "block3.relu3"
TOP = 12  # top test images shown
PER_ROW = 6


@st.cache_data(max_entries=64, show_spinner=False)
def layer_maps(sha: str, data_root: str, layer: str, positions: tuple[int, ...], _ctx):
    """The whole ``layer`` (K×C×H×W) on the test images at ``positions``, in one batch."""
    return image_activations(_ctx.model, _ctx.split.images[list(positions)], _ctx.card.meta, only=(layer,))[layer]


sha, root = ctx.card.sha256, str(ctx.settings.data_root)
acts = ctx.activations_of(img.key, img.pixels)
layers = [info.name for info in map_layers(ctx.model)]
shapes = {n: (1, *acts[n].shape) for n in layers}

headings.title(tr("Channel atlas"))
explain(tr("One channel of one layer over the 10,000 test images: where it fires most, which classes it "
           "prefers and where in the image. Give it a name that says what those images have in common."))

c_layer, c_channel = st.columns([3, 1])
layer = url_widget(c_layer.selectbox, tr("Layer (block · layer — output N×C×H×W)"), options=layers,
                   key="ch_layer", default=DEFAULT_LAYER, valid=layers.__contains__, param="layer",
                   parse=parse_choice(layers), why=tr("unknown layer; pick one from the list"),
                   format_func=lambda n: layer_label(n, shapes[n]))
count = shapes[layer][1]
channel = int(url_widget(c_channel.number_input, tr("Channel (0–{last})", last=count - 1), key="ch_channel", default=0,
                         valid=lambda c: isinstance(c, int) and 0 <= c < count, param="channel",
                         parse=parse_int_in(0, count - 1),
                         why=tr("{layer} has channels 0–{last}", layer=layer, last=count - 1),
                         min_value=0, max_value=count - 1, step=1))

scores = ctx.channel_scores(layer)
top = top_k(scores, channel, TOP)
atlas = channel_atlas(layer, channel, scores, ctx.split.labels, ctx.classes,
                      layer_maps(sha, root, layer, tuple(int(p) for p in top), ctx), top)

# --- Name: current, suggested; accept, edit or clear ------------------------------------------
all_names = load_channel_names(ctx)
current = all_names.get(layer, {}).get(str(channel), "")


def save(value: str | None = None) -> None:
    """Form callback: save the typed name (or ``value``, e.g. the suggestion)."""
    typed = st.session_state.get("ch_name", "") if value is None else value
    save_channel_name(ctx, layer, channel, typed, "ch")


if st.session_state.get("_ch_name_for") != (layer, channel):
    st.session_state["_ch_name_for"] = (layer, channel)
    st.session_state["ch_name"] = st.session_state["_ch_name_seen"] = current

suggestion = suggestion_in(atlas.suggestion, lang())
headings.header(tr("Channel {channel} of {layer}", channel=channel, layer=layer))
c_name, c_suggest = st.columns([3, 2])
with c_name:
    st.markdown(tr("**Name:** {name}", name=f"“{literal(current)}”" if current else tr("none yet")))
    with st.form("ch_name_form"):
        st.text_input(tr("Name for channel {channel} of {layer} (empty removes it)", channel=channel, layer=layer),
                      key="ch_name", max_chars=MAX_NAME_LENGTH, placeholder=tr("e.g. ear, grass, wheel"))
        st.form_submit_button(tr("Save name"), on_click=save, key="ch_save", type="primary")
    message = st.session_state.pop("_ch_message", None)
    if message:
        (st.success if message[0] == "success" else st.error)(message[1])
with c_suggest:
    st.markdown(tr("**Suggested** (from the evidence below, not checked by a person): “{name}”",
                   name=literal(suggestion)))
    st.button(tr("Use the suggestion"), key="ch_accept", on_click=save, args=(suggestion,))
    explain(tr("The suggestion names the class(es) of its top {count} test images if one class holds at least "
               "half of them (or two classes 60 %), and where in the image it fires on its top images.",
               count=POOL), caption=True)

# --- Top-k test images, with the region where it fires -----------------------------------------
headings.subheader(tr("The {count} test images where channel {channel} of {layer} fires most", count=len(top),
                      channel=channel, layer=layer))
explain(tr("The yellow outline marks the positions where the channel reaches at least half of its "
           "maximum on that image; the rest is dimmed."), caption=True)
cols = st.columns(PER_ROW)
for n, (p, heat) in enumerate(zip(atlas.top, atlas.top_maps)):
    p = int(p)
    idx = int(ctx.split.indices[p])
    with cols[n % PER_ROW]:
        truth = ctx.classes[int(ctx.split.labels[p])]
        st.image(outlined(ctx.split.images[p], heat, 128), width="stretch", output_format="PNG",
                 caption=tr("#{index} {cls} · max {score:.2f}", index=idx, cls=cls(truth),
                            score=float(atlas.top_scores[n])))
        if st.button(tr("Show #{index}", index=idx), key=f"ch_pick_{idx}", width="stretch"):
            set_current_image(idx)
            st.rerun()

# --- The input that maximises it ------------------------------------------------------------------------
headings.subheader(tr("A synthetic input that maximises it"))
c_max, c_note = st.columns([1, 3])
ready = ctx.maximised_ready(layer)
if ready or st.button(tr("Compute the maximising inputs of all {count} channels of {layer}", count=count, layer=layer),
                      key="ch_maximise", help=tr("Once per layer; kept on disk.")):
    best = ctx.maximised(layer)
    top1 = float(atlas.top_scores[0]) if len(atlas.top_scores) else 0.0
    reached = float(best.activation[channel])
    c_max.image(display_pixels(best.images[channel], 256), width="stretch", output_format="PNG",
                caption=tr("Channel {channel}: max {value:.2f}", channel=channel, value=reached)
                        + (tr(" = {ratio:.1f}× its best test image ({best:.2f})", ratio=reached / top1, best=top1)
                           if top1 > 0 else ""))
    c_note.caption(tr("Found by gradient ascent on the input ({steps} steps of Adam, jitter ±{jitter} px, fixed "
                      "seed) in a Fourier parametrisation with 1/f scaling and decorrelated colours, for all "
                      "{count} channels of {layer} at once; that took {seconds:.0f} s on this machine and is done "
                      "once per checkpoint and layer (then read from disk). It shows what the channel responds "
                      "to, exaggerated; it is not a photo.", steps=STEPS, jitter=JITTER, count=count, layer=layer,
                      seconds=best.seconds))
else:
    c_note.caption(tr("Not computed yet for {layer}: about {steps} gradient steps for all {count} channels at "
                      "once (tens of seconds on 2 CPU cores), then kept on disk.", layer=layer, steps=STEPS,
                      count=count))

# --- Classes ---------------------------------------------------------------------------------------
headings.subheader(tr("Which classes it prefers"))
c_means, c_sel = st.columns(2)
# HTML bars, not Plotly: the two bar charts were ~60 ms of every channel click in Chromium.
c_means.html(class_means_html(atlas, ctx.classes, *html_sizes()[:2], lang=lang()))
c_sel.html(selectivity_html(atlas, ctx.classes, *html_sizes()[:2], lang=lang()))
explain(tr("Left: the channel's activation (its maximum over the image) averaged over each class's test "
           "images. Right: the classes of its top {count} test images. Selectivity {selectivity:.2f}: 0 = fires "
           "for every class alike, 1 = for one class only. It fires mostly **{where}** in the image.",
           count=POOL, selectivity=atlas.selectivity, where=tr(atlas.where)), caption=True)

# --- Maps where it wins --------------------------------------------------------------------------------
headings.subheader(tr("Semantic maps where it wins"))
wins = [(int(p), float(w)) for p, w in zip(atlas.top, atlas.top_wins) if w > 0]
if wins:
    link_cols = st.columns(min(4, len(wins)))
    for n, (p, w) in enumerate(wins[:8]):
        idx = int(ctx.split.indices[p])
        link_cols[n % len(link_cols)].page_link(
            "pages/2_Semantic_map.py", label=tr("#{index} {cls}: wins {share:.0%}", index=idx,
                                                     cls=cls(ctx.classes[int(ctx.split.labels[p])]), share=w),
            query_params={"image": idx, "layer": layer, "channel": channel}, icon=":material/map:")
else:
    st.caption(tr("Channel {channel} wins no position on the semantic maps of its top images.", channel=channel))

share_link()
