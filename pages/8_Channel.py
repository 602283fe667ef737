"""Channel atlas: one channel of one layer over the whole test set (URL /Channel?layer=…&channel=…)."""

import streamlit as st

from explain.activations import map_layers
from explain.atlas import POOL, channel_atlas
from explain.feature_maps import image_activations, layer_label
from explain.maximise import JITTER, STEPS
from explain.testset import top_k
from model.names import MAX_NAME_LENGTH
from render.atlas import class_means_figure, outlined, selectivity_figure
from render.common import display_pixels
from ui.channel_names import load_channel_names, save_channel_name
from ui.lecture import lecture_bar
from ui.present import explain, fit, presentation_toggle, share_link
from ui.resources import load_or_stop
from ui.state import image_sidebar, parse_choice, parse_int_in, set_current_image, url_widget
from ui.text import literal

st.set_page_config(page_title="Channel atlas", page_icon="🔎", layout="wide")
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
    return image_activations(_ctx.model, _ctx.split.images[list(positions)], _ctx.card.meta)[layer]


sha, root = ctx.card.sha256, str(ctx.settings.data_root)
acts = ctx.activations_of(img.key, img.pixels)
layers = [info.name for info in map_layers(ctx.model)]
shapes = {n: (1, *acts[n].shape) for n in layers}

st.title("Channel atlas")
explain("One channel of one layer over the 10,000 test images: where it fires most, which classes it "
        "prefers and where in the image. Give it a name that says what those images have in common.")

c_layer, c_channel = st.columns([3, 1])
layer = url_widget(c_layer.selectbox, "Layer (block · layer — output N×C×H×W)", options=layers,
                   key="ch_layer", default=DEFAULT_LAYER, valid=layers.__contains__, param="layer",
                   parse=parse_choice(layers), why="unknown layer; pick one from the list",
                   format_func=lambda n: layer_label(n, shapes[n]))
count = shapes[layer][1]
channel = int(url_widget(c_channel.number_input, f"Channel (0–{count - 1})", key="ch_channel", default=0,
                         valid=lambda c: isinstance(c, int) and 0 <= c < count, param="channel",
                         parse=parse_int_in(0, count - 1), why=f"{layer} has channels 0–{count - 1}",
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

st.header(f"Channel {channel} of {layer}")
c_name, c_suggest = st.columns([3, 2])
with c_name:
    st.markdown("**Name:** " + (f"“{literal(current)}”" if current else "none yet"))
    with st.form("ch_name_form"):
        st.text_input(f"Name for channel {channel} of {layer} (empty removes it)", key="ch_name",
                      max_chars=MAX_NAME_LENGTH, placeholder="e.g. ear, grass, wheel")
        st.form_submit_button("Save name", on_click=save, key="ch_save", type="primary")
    message = st.session_state.pop("_ch_message", None)
    if message:
        (st.success if message[0] == "success" else st.error)(message[1])
with c_suggest:
    st.markdown("**Suggested** (from the evidence below, not checked by a person): "
                f"“{literal(atlas.suggestion)}”")
    st.button("Use the suggestion", key="ch_accept", on_click=save, args=(atlas.suggestion,))
    explain(f"The suggestion names the class(es) of its top {POOL} test images if one class holds at least "
            "half of them (or two classes 60 %), and where in the image it fires on its top images.",
            caption=True)

# --- Top-k test images, with the region where it fires -----------------------------------------
st.subheader(f"The {len(top)} test images where channel {channel} of {layer} fires most")
explain("The yellow outline marks the positions where the channel reaches at least half of its "
        "maximum on that image; the rest is dimmed.", caption=True)
cols = st.columns(PER_ROW)
for n, (p, heat) in enumerate(zip(atlas.top, atlas.top_maps)):
    p = int(p)
    idx = int(ctx.split.indices[p])
    with cols[n % PER_ROW]:
        truth = ctx.classes[int(ctx.split.labels[p])]
        st.image(outlined(ctx.split.images[p], heat, 128), width="stretch", output_format="PNG",
                 caption=f"#{idx} {truth} · max {float(atlas.top_scores[n]):.2f}")
        if st.button(f"Show #{idx}", key=f"ch_pick_{idx}", width="stretch"):
            set_current_image(idx)
            st.rerun()

# --- The input that maximises it ------------------------------------------------------------------------
st.subheader("A synthetic input that maximises it")
c_max, c_note = st.columns([1, 3])
ready = ctx.maximised_ready(layer)
if ready or st.button(f"Compute the maximising inputs of all {count} channels of {layer}", key="ch_maximise",
                      help="Once per layer; kept on disk."):
    best = ctx.maximised(layer)
    top1 = float(atlas.top_scores[0]) if len(atlas.top_scores) else 0.0
    reached = float(best.activation[channel])
    c_max.image(display_pixels(best.images[channel], 256), width="stretch", output_format="PNG",
                caption=f"Channel {channel}: max {reached:.2f}"
                        + (f" = {reached / top1:.1f}× its best test image ({top1:.2f})" if top1 > 0 else ""))
    c_note.caption(f"Found by gradient ascent on the input ({STEPS} steps of Adam, jitter ±{JITTER} px, "
                   "fixed seed) in a Fourier parametrisation with 1/f scaling and decorrelated colours, for "
                   f"all {count} channels of {layer} at once; that took {best.seconds:.0f} s on this machine "
                   "and is done once per checkpoint and layer (then read from disk). It shows what the "
                   "channel responds to, exaggerated; it is not a photo.")
else:
    c_note.caption(f"Not computed yet for {layer}: about {STEPS} gradient steps for all {count} channels at "
                   "once (tens of seconds on 2 CPU cores), then kept on disk.")

# --- Classes ---------------------------------------------------------------------------------------
st.subheader("Which classes it prefers")
c_means, c_sel = st.columns(2)
c_means.plotly_chart(fit(class_means_figure(atlas, ctx.classes)), width="stretch", key="ch_means")
c_sel.plotly_chart(fit(selectivity_figure(atlas, ctx.classes)), width="stretch", key="ch_selectivity")
explain(f"Left: the channel's activation (its maximum over the image) averaged over each class's test "
        f"images. Right: the classes of its top {POOL} test images. Selectivity "
        f"{atlas.selectivity:.2f}: 0 = fires for every class alike, 1 = for one class only. It fires "
        f"mostly **{atlas.where}** in the image.", caption=True)

# --- Maps where it wins --------------------------------------------------------------------------------
st.subheader("Semantic maps where it wins")
wins = [(int(p), float(w)) for p, w in zip(atlas.top, atlas.top_wins) if w > 0]
if wins:
    link_cols = st.columns(min(4, len(wins)))
    for n, (p, w) in enumerate(wins[:8]):
        idx = int(ctx.split.indices[p])
        link_cols[n % len(link_cols)].page_link(
            "pages/2_Semantic_map.py", label=f"#{idx} {ctx.classes[int(ctx.split.labels[p])]}: wins {w:.0%}",
            query_params={"image": idx, "layer": layer, "channel": channel}, icon=":material/map:")
else:
    st.caption(f"Channel {channel} wins no position on the semantic maps of its top images.")

share_link()
