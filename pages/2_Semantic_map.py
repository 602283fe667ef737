"""Semantic map: at each position of a layer, the strongest channel, with names you give the channels."""

from functools import partial

import pandas as pd
import streamlit as st

from explain.activations import map_layers
from explain.concepts import DEFAULT_K, FIT_IMAGES, K_RANGE, concept_map
from explain.feature_maps import image_activations, layer_label
from explain.semantic import DEFAULT_TOP_N, rank_in_column, rank_of_score, semantic_view
from explain.testset import top_k
from locales import translate
from model.names import MAX_NAME_LENGTH
from render.common import OVERLAY_SCALE, overlay, png_bytes, titled
from render.semantic import (
    DEFAULT_OPACITY,
    concept_legend,
    concept_map_figure,
    semantic_legend,
    semantic_map_figure,
    semantic_slide,
    strip,
)
from render.slide import slide_file_name
from ui import headings
from ui.channel_names import load_channel_names, load_concept_names, save_channel_name, save_concept_name
from ui.i18n import cls, lang, tr
from ui.lecture import lecture_bar
from ui.links import atlas_link, atlas_url
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
from ui.state import (
    compare_sidebar,
    comparison_label,
    image_sidebar,
    parse_choice,
    parse_int_in,
    set_current_image,
    url_widget,
)

st.set_page_config(page_title=tr("Semantic map"), page_icon="🗺️", layout="wide")
ctx = load_or_stop()
presentation_toggle()
lecture_bar()
img = image_sidebar(ctx)
other = compare_sidebar(ctx)
DEFAULT_LAYER = "block3.relu3"
EXAMPLES = 12  # top activating test images shown for the chosen channel
PER_ROW = 6
STRIP = 3  # top test images per legend row


@st.cache_data(max_entries=64, show_spinner=False)
def example_maps(sha: str, data_root: str, layer: str, channel: int, positions: tuple[int, ...], _ctx):
    """``channel``'s map at ``layer`` for the test images at ``positions``, in one batch."""
    images = _ctx.split.images[list(positions)]
    return image_activations(_ctx.model, images, _ctx.card.meta, only=(layer,))[layer][:, channel]


@st.cache_data(max_entries=64, show_spinner=False)
def example_thumbnails(sha: str, data_root: str, layer: str, channel: int, positions: tuple[int, ...], vmax: float,
                       _ctx) -> list[bytes]:
    """The dataset examples as PNGs, ``channel``'s map over each on one scale (0 → ``vmax``), 128 px
    as every thumbnail of the app. Cached: they stay the same while the image changes, and drawing
    and encoding twelve were ~8 ms of each new image's run."""
    heats = example_maps(sha, data_root, layer, channel, positions, _ctx)
    return [png_bytes(overlay(_ctx.split.images[p], heat, 0.7, 128, vmax=vmax, fade=True))
            for p, heat in zip(positions, heats)]


sha, root = ctx.card.sha256, str(ctx.settings.data_root)
acts = ctx.activations_of(img.key, img.pixels)
names_list = [info.name for info in map_layers(ctx.model)]
shapes = {n: (1, *acts[n].shape) for n in names_list}
image = img.pixels

headings.title(tr("Semantic map"))
explain(tr("At every position of a layer, the channel with the largest activation wins and colours that "
        "position. In block 3 (*what is where*) a winning channel usually stands for a part or an "
        "object — give channels names below and the map reads like a sentence."))

# --- Names file (beside the checkpoint) ----------------------------------------------------
all_names = load_channel_names(ctx)


def save_name(layer: str, channel: int) -> None:
    """Form callback: runs before the page, so the legend and the map already show the new name."""
    save_channel_name(ctx, layer, channel, st.session_state.get("sm_name", ""), "sm", tr(" (see the legend)"))


def save_concept_name_typed(layer: str, k: int, concept: int) -> None:
    """Form callback for a concept's name, like :func:`save_name` for a channel's."""
    save_concept_name(ctx, layer, k, concept, st.session_state.get("smc_name", ""), "smc", tr(" (see the table)"))


# --- Layer (URL: layer=), colours (URL: top=) and opacity -------------------------------------
controls = tuck_away(tr("Layer, colours, opacity"))
c_layer, c_top, c_opacity = st.columns([3, 2, 2])
layer = url_widget(c_layer.selectbox, tr("Layer (block · layer — output N×C×H×W)"), options=names_list, key="sm_layer",
                   default=DEFAULT_LAYER, valid=names_list.__contains__, param="layer",
                   parse=parse_choice(names_list), why=tr("unknown layer; pick one from the list"),
                   format_func=lambda n: layer_label(n, shapes[n]))
top_n = int(url_widget(c_top.slider, tr("Channels in colour (most frequent winners)"), key="sm_top",
                       default=DEFAULT_TOP_N, min_value=1, max_value=16, step=1, param="top",
                       parse=parse_int_in(1, 16), why=tr("use a number of colours from 1 to 16"),
                       valid=lambda n: isinstance(n, int) and 1 <= n <= 16,
                       help=tr("The other winners share one grey: fewer colours read more easily.")))
opacity = url_widget(c_opacity.slider, tr("Colour opacity over the image"), key="sm_opacity",
                     default=DEFAULT_OPACITY, min_value=0.0, max_value=1.0, step=0.05)
controls.close()
maps = acts[layer]
count = maps.shape[0]
view = semantic_view(maps, layer, all_names, top_n)
result, named = view.argmax, view.names
scores = ctx.channel_scores(layer)


def comparison() -> None:
    """Two images' maps of this layer side by side (URL compare=N): every channel has one colour on
    every image, so the same colour is the same channel on both."""
    if not presenting():  # presenting: the figures' titles say it
        headings.subheader(tr("Winning channels of {layer} for two images", layer=layer))
    figures = []
    for shown in (img, other):
        v = view if shown is img else semantic_view(ctx.activations_of(shown.key, shown.pixels)[layer], layer,
                                                      all_names, top_n)
        h, w = v.argmax.channel.shape
        figures.append(titled(semantic_map_figure(shown.pixels, v, opacity, height=520), comparison_label(ctx, shown),
                              tr("{layer}: winning channel at each of {h}×{w} positions", layer=layer, h=h, w=w),
                              chars=38))
    pair_row(figures, "sm")


if other is not None and presenting():
    comparison()

# --- The map and its legend -----------------------------------------------------------------
# Presenting: the map takes 3/5 of the width (a third of a 1280×720 screen), its height set by the
# browser from the screen (fill_screen); the legend, with a narrower name column, the rest.
c_map, c_legend = st.columns([3, 2] if presenting() else [5, 4])
h, w = result.channel.shape
with c_map:
    if presenting():
        fill_screen(fit(semantic_map_figure(image, view, opacity, height=400, lang=lang())), "sm_map", ratio=0.9)
    else:
        st.plotly_chart(semantic_map_figure(image, view, opacity, height=580, lang=lang()), width="stretch",
                        key="sm_map")
top_channel, top_share = view.top
explain(tr("{name}: {winners} of the {count} channels win at least one position; channel {top} wins the most "
           "({share:.0%}). The {shown} most frequent winners have their own colours, the same on every image "
           "and slide; ", name=img.name.capitalize(), winners=len(result.shares), count=count, top=top_channel,
           share=top_share, shown=len(view.shown))
        + (tr("the other {others} share grey. ", others=len(view.others)) if view.others else "")
        + (tr("Each region is labelled with the channel's name or #number.") if h <= 16 else
           tr("The cells are too small to label: read the colours in the legend.")),
        caption=True, container=c_map)
with c_legend:
    st.markdown(tr("**Legend — winning channels of {layer}**", layer=layer))
    strips = {ch: strip(ctx.split.images[top_k(scores, ch, STRIP)]) for ch in view.shown}
    legend = pd.DataFrame(semantic_legend(view, strips, {ch: atlas_url(layer, ch) for ch in view.shown}, lang()))
    st.dataframe(legend, hide_index=True, width="stretch", height=60 + 42 * len(legend), row_height=42,
                 column_order=["colour", "atlas", "label", "share", "top test images"],
                 column_config={
                     "colour": st.column_config.ImageColumn("", width=30),
                     "atlas": st.column_config.LinkColumn(
                         tr("ch."), display_text=r"channel=(\d+)", width=48,
                         help=tr("Click a channel to open its page in the channel atlas")),
                     "label": st.column_config.TextColumn(tr("name"), width=72 if presenting() else None),
                     "share": st.column_config.NumberColumn(tr("won"), format="percent", width=76,
                                                            help=tr("Share of this map's positions")),
                     "top test images": st.column_config.ImageColumn(
                         tr("top test images"), width=105,
                         help=tr("The {count} test images where the channel fires most", count=STRIP)),
                 })
    export_button(slide_file_name("semantic-map", img.name, layer),
                  partial(semantic_slide, view, image, img.title, opacity, slide_footer(ctx, img), lang()),
                  key="export_sm")

# --- Concepts (URL: concepts=1, k=): the argmax over k NMF concepts beside the one over channels --
def _flag(raw: str) -> bool:
    if raw.strip().lower() not in ("0", "1"):
        raise ValueError(raw)
    return raw.strip() == "1"


c_toggle, c_k = st.columns([2, 3])
with_concepts = url_widget(c_toggle.toggle, tr("Compare with concepts (NMF)"), key="sm_concepts", default=False,
                           param="concepts", parse=_flag, why=tr("use concepts=1 (on) or concepts=0 (off)"),
                           to_url=lambda on: "1" if on else "0",
                           help=tr("Beside the argmax over channels, the argmax over k concepts: non-negative "
                                   "mixes of channels found by NMF over the layer's activations on test images."))
if with_concepts:
    k = int(url_widget(c_k.slider, tr("Concepts (k)"), key="sm_k", default=DEFAULT_K, min_value=K_RANGE[0],
                       max_value=K_RANGE[1], step=1, param="k", parse=parse_int_in(*K_RANGE),
                       why=tr("use k from {low} to {high}", low=K_RANGE[0], high=K_RANGE[1]),
                       valid=lambda n: isinstance(n, int) and K_RANGE[0] <= n <= K_RANGE[1]))
    concepts = ctx.concepts(layer, k)
    concept_names = load_concept_names(ctx, layer, k)
    cmap = concept_map(maps, concepts.components)
    c_channels, c_concepts = st.columns(2)
    c_channels.plotly_chart(fit(semantic_map_figure(image, view, opacity, height=520, lang=lang())), width="stretch",
                            key="sm_map_channels")
    c_concepts.plotly_chart(fit(concept_map_figure(image, cmap, concepts, opacity, height=520, names=concept_names,
                                                              lang=lang())),
                            width="stretch", key="sm_concept_map")
    explain(tr("Left: the strongest of {count} channels at each position (top {shown} in colour). Right: the "
               "strongest of {k} concepts. NMF writes the layer's activations at every position of {images:,} "
               "test images as non-negative mixes of {k} concepts (reconstruction error {error:.0%} of the "
               "activations' size); the suggested names come from each concept's top images — save your own "
               "below the table.", count=count, shown=len(view.shown), k=k, images=concepts.fit_images,
               error=concepts.rel_error), caption=True)
    rows = concept_legend(concepts, cmap, {j: strip(ctx.split.images[concepts.top[j][:STRIP]])
                                           for j in range(concepts.k)}, concept_names, lang())
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", height=60 + 42 * len(rows),
                 row_height=42,
                 column_config={
                     "colour": st.column_config.ImageColumn(tr("colour"), width=44),
                     "concept": st.column_config.TextColumn(tr("concept"), width=70),
                     "name": st.column_config.TextColumn(tr("name")),
                     "suggested name": st.column_config.TextColumn(tr("suggested name")),
                     "share": st.column_config.NumberColumn(tr("here"), format="percent", width=68),
                     "top channels": st.column_config.TextColumn(tr("top channels")),
                     "top test images": st.column_config.ImageColumn(tr("top test images"), width=105),
                 })
    # Name a concept: the field starts with its saved name, else the suggestion, to accept or edit.
    c_which, c_concept_name = st.columns([1, 3])
    concept = int(c_which.selectbox(tr("Concept to name"), options=list(range(concepts.k)), key="sm_concept",
                                    format_func=lambda j: f"C{j}" + (f" “{concept_names[j]}”"
                                                                     if j in concept_names else "")))
    if st.session_state.get("_smc_name_for") != (layer, k, concept):
        st.session_state["_smc_name_for"] = (layer, k, concept)
        st.session_state["_smc_name_seen"] = concept_names.get(concept, "")
        suggested = concepts.shown_names(lang())[concept]
        st.session_state["smc_name"] = concept_names.get(concept, suggested)[:MAX_NAME_LENGTH]
    with c_concept_name.form("smc_name_form"):
        st.text_input(tr("Name for concept C{concept} (suggested: {name}; empty removes it)", concept=concept,
                         name=concepts.shown_names(lang())[concept]),
                      key="smc_name", max_chars=MAX_NAME_LENGTH)
        st.form_submit_button(tr("Save concept name"), on_click=save_concept_name_typed, key="smc_save",
                              args=(layer, k, concept))
    message = st.session_state.pop("_smc_message", None)
    if message:
        (st.success if message[0] == "success" else st.error)(message[1])
else:
    c_k.caption(tr("Concepts are found once per layer and k over {count:,} test images (NMF).", count=FIT_IMAGES))

# --- Channel (URL: channel=): name it, and see its dataset examples -------------------------
headings.header(tr("Name a channel"))
if isinstance(st.session_state.get("sm_channel"), int) and st.session_state.get("_sm_channel_for") != (layer, img.key):
    # The browser keeps showing an option's old text while its value stays valid: set the value
    # again so the box shows this layer's and this image's "wins …% here" (issue 11 item 9).
    st.session_state["sm_channel"] = int(st.session_state["sm_channel"])
st.session_state["_sm_channel_for"] = (layer, img.key)
won = dict(result.shares)
here = lang()  # format_func may run outside the script run (ui.i18n.translator)


def channel_text(c: int) -> str:
    parts = [f"{c}"]
    if c in named:
        parts.append(f"“{named[c]}”")
    if c in won:
        parts.append(translate("wins {share:.0%} here", here, share=won[c]))
    return " — ".join(parts)


c_pick, c_here = st.columns([3, 1])
with c_pick:
    channel = int(url_widget(st.selectbox, tr("Channel of {layer} (winners on this image first)", layer=layer),
                             options=sorted(range(count), key=lambda c: (-won.get(c, 0.0), c)), key="sm_channel",
                             default=int(top_channel), valid=lambda c: isinstance(c, int) and 0 <= c < count,
                             param="channel", parse=parse_int_in(0, count - 1),
                             why=tr("{layer} has channels 0–{last}", layer=layer, last=count - 1),
                             format_func=channel_text))
    if st.session_state.get("_sm_name_for") != (layer, channel):
        st.session_state["_sm_name_for"] = (layer, channel)
        st.session_state["sm_name"] = st.session_state["_sm_name_seen"] = named.get(channel, "")
    with st.form("sm_name_form"):
        st.text_input(tr("Name for channel {channel} of {layer} (empty removes it)", channel=channel, layer=layer),
                      key="sm_name", max_chars=MAX_NAME_LENGTH, placeholder=tr("e.g. ear, grass, wheel"))
        st.form_submit_button(tr("Save name"), on_click=save_name, args=(layer, channel), key="sm_save",
                              type="primary")
    message = st.session_state.pop("_sm_message", None)
    if message:
        (st.success if message[0] == "success" else st.error)(message[1])
    atlas_link(layer, channel)

top = tuple(int(p) for p in top_k(scores, channel, EXAMPLES))
examples = example_maps(sha, root, layer, channel, top, ctx)
vmax = max(float(examples.max()), float(maps[channel].max()), 1e-6)
with c_here:
    if img.test_index is None:  # where the photo would rank among the test images
        score = float(maps[channel].max())
        rank_text = tr("would rank {rank:,} of {count:,} test images", rank=rank_of_score(scores, channel, score),
                       count=len(scores))
    else:
        pos = ctx.split.position_of(img.test_index)
        score = float(scores[pos, channel])
        rank_text = tr("rank {rank:,} of {count:,}", rank=rank_in_column(scores, channel, pos), count=len(scores))
    st.image(overlay(image, maps[channel], 0.7, 256, vmax=vmax, fade=True), width="stretch", output_format="PNG",
             caption=tr("Channel {channel} on this image ({which}): max {score:.2f}, {rank}", channel=channel,
                        which=tr("your photo") if img.is_upload else f"#{img.test_index}", score=score,
                        rank=rank_text))

headings.subheader(tr("Dataset examples: the {count} test images where channel {channel} of {layer} fires most",
                      count=len(top), channel=channel, layer=layer))
explain(tr("Each thumbnail shows channel {channel}'s map over the image in {scale} colours, on one scale for all "
           "of them: transparent at 0 (or below), bright yellow at {vmax:.2f}. What do they have in common? "
           "That is a good name.", channel=channel, scale=OVERLAY_SCALE, vmax=vmax), caption=True)
cols = st.columns(PER_ROW)
# 128 px, as every thumbnail of the app: shown ~120–200 px wide, and twelve 256-px PNGs to encode and
# decode were ~45 ms of each click that changes them (Chromium, same run)
thumbs = example_thumbnails(sha, root, layer, channel, top, vmax, ctx)
for n, (p, thumb) in enumerate(zip(top, thumbs)):
    idx = int(ctx.split.indices[p])
    with cols[n % PER_ROW]:
        truth = ctx.classes[int(ctx.split.labels[p])]
        st.image(thumb, width="stretch", output_format="PNG",
                 caption=tr("#{index} {cls} · max {score:.2f}", index=idx, cls=cls(truth),
                            score=float(scores[p, channel])))
        if st.button(tr("Show"), key=f"sm_pick_{idx}", width="stretch",
                     help=tr("Make #{index} the current image", index=idx),
                     type="primary" if idx == img.test_index else "secondary"):
            set_current_image(idx)
            st.rerun()

if other is not None and not presenting():
    comparison()
share_link()
