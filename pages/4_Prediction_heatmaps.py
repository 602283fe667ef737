"""Prediction heatmaps: where did the network look? (lecture §6)

Channel sum (the lecture's heat map), CAM and Grad-CAM for the current image, then a gallery
of correct and incorrect predictions with their heat maps. Maths in explain.heatmaps and
explain.gallery, figures in render.heatmaps.
"""

from functools import partial

import streamlit as st

from explain.browse import RIGHT, SORTS, WRONG
from explain.gallery import GALLERY_METHODS, gallery_heatmaps, gallery_page, top_classes
from explain.heatmaps import METHODS, image_heatmaps
from locales import known
from model.inference import to_tensor
from render.common import display_pixels, overlay
from render.heatmaps import (
    comparison_figures,
    heatmap_overlay_figure,
    heatmaps_slide,
    overlay_scale,
    top_classes_html,
)
from render.slide import slide_file_name
from ui import headings
from ui.i18n import cls, lang, tr
from ui.lecture import lecture_bar
from ui.present import (
    colour_legend,
    explain,
    export_button,
    fit,
    html_sizes,
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
    set_current_image,
    url_state,
    url_tabs,
    url_widget,
    write_url,
)
from ui.text import literal

st.set_page_config(page_title=tr("Prediction heatmaps"), layout="wide")

ANY = known("any")
PER_COLUMN = 6  # thumbnails in each gallery column
THUMBS_PER_ROW = 3
VIEWS = {"maps": known("Heat maps of this image"), "gallery": known("Gallery: right and wrong")}  # tabs, by URL view=
SORT_LABELS = dict(zip(SORTS, (known("most confident first"), known("least confident first"), known("test index"))))

ctx = load_or_stop()
presentation_toggle()
lecture_bar()
img = image_sidebar(ctx)
other = compare_sidebar(ctx)
sha = ctx.card.sha256
meta = ctx.card.meta
classes = list(ctx.classes)
preds = ctx.predictions()
image = img.pixels
probabilities = ctx.probabilities_of(img.key, img.pixels, img.test_index)  # one image's, by class
truth, guess = img.truth, int(probabilities.argmax())  # truth is None for the user's photo


@st.cache_data(max_entries=256, show_spinner=False)
def heatmaps_of(sha: str, key: str, class_index: int, _model, _image, _meta):
    """The three heat maps of one image for one class; Grad-CAM runs on a private copy of the model."""
    return image_heatmaps(_model, to_tensor(_image[None], _meta["mean"], _meta["std"]), class_index)


@st.cache_data(max_entries=64, show_spinner=False)  # the caller says "Heat maps for the gallery…"
def thumbnail_maps(sha: str, indices: tuple[int, ...], method: str, _model, _images, _meta):
    """0..1 heat maps of the gallery images, from one batched forward pass."""
    return gallery_heatmaps(_model, _images, _meta["mean"], _meta["std"], method)[0]



headings.title(tr("Where did the network look?"))
explain(tr(
    "Lecture §6: adding up all 128 maps of block 3 gives a heat map; laid over the input it shows "
    "where the model looked: a dog recognised by its head and legs, a cat in a box missed because "
    "the model looked at the box. CAM and Grad-CAM do the same **for one chosen class**."))

# --- Two images side by side (URL compare=N, heat=) ----------------------------------------------
HEAT_SLUGS = dict(zip(("sum", "cam", "gradcam"), METHODS))
HEAT_LABELS = {"sum": known("channel sum"), "cam": "CAM", "gradcam": "Grad-CAM"}  # METHODS' names
if other is not None:
    heat_labels = {slug: tr(label) for slug, label in HEAT_LABELS.items()}
    slug = url_widget((st.sidebar if presenting() else st).radio, tr("Heat map of the comparison"),
                      options=list(HEAT_SLUGS), key="hm_compare_method", default="sum", param="heat",
                      parse=parse_choice(list(HEAT_SLUGS)), why=tr("use heat=sum, cam or gradcam"),
                      format_func=heat_labels.get, horizontal=True)
    items = []
    for shown in (img, other):
        g = int(ctx.probabilities_of(shown.key, shown.pixels, shown.test_index).argmax())
        maps = heatmaps_of(sha, shown.key, g, ctx.model, shown.pixels, meta)
        items.append((shown.pixels, maps.of(HEAT_SLUGS[slug]), comparison_label(ctx, shown)))
    pair_row(comparison_figures(items, 0.5, height=520, lang=lang()), "hm")
    explain(tr("Both heat maps are drawn on one colour scale, each for its own predicted class, so equal "
               "colours mean equal values."), caption=True)

# --- Prediction --------------------------------------------------------------------------------
left, right = st.columns([2, 3])
with left:
    m1, m2 = st.columns(2)
    m1.metric(tr("Predicted class"), cls(classes[guess]),
              help=tr("confidence {p:.1%}", p=probabilities[guess]))
    m2.metric(tr("True class"), tr("no label") if truth is None else cls(classes[truth]),
              help=tr("Your photo: nobody has labelled it.") if truth is None else None)
    if truth is None:
        st.info(tr("Your photo has no true label: the network says **{name}** with {p:.1%} probability. Is it right?",
                   name=cls(classes[guess]), p=probabilities[guess]))
    elif guess == truth:
        st.success(tr("Correct: **{name}** with {p:.1%} probability.", name=cls(classes[guess]),
                      p=probabilities[guess]))
    else:
        st.error(tr("Mistake: **{truth}** taken for **{guess}** ({p:.1%}; {truth} got {q:.1%}).",
                    truth=cls(classes[truth]), guess=cls(classes[guess]), p=probabilities[guess],
                    q=probabilities[truth]))
    st.image(display_pixels(image, 192), output_format="PNG",
             caption=tr("{name} (32×32 pixels, enlarged)", name=img.long_name))
with right:
    st.html(top_classes_html(top_classes(probabilities, 5), ctx.classes, truth,
                             tr("Top-5 class probabilities, {name}<br>softmax of the classifier's 1×{count} logits",
                                name=img.long_name, count=len(classes)), *html_sizes()[:2], lang=lang()))

# --- Controls (class and gallery method mirrored in the URL) ----------------------------------
if st.session_state.get("_hm_class_image") != img.key:
    # A new image starts with its predicted class (kept while the page is revisited).
    st.session_state.pop("hm_class", None)
    st.session_state["_hm_class_image"] = img.key
class_labels = {c: cls(c) for c in classes}  # plain values: format_func may run outside the script run
class_why = tr("unknown class; the classes are {names}", names=", ".join(classes))


def opacity_slider(container) -> float:
    """Both tabs' heat maps are drawn at one opacity; each tab shows the slider among its controls
    (one widget: only the open tab is drawn)."""
    return url_widget(container.slider, tr("Heat-map opacity"), key="hm_opacity", default=0.5, min_value=0.0,
                      max_value=1.0, step=0.05)


# Each tab's settings are in links and the lecture deck's views even while its tab is closed: the
# heat maps' class, the gallery's heat-map method.
write_url(**{"class": url_state("hm_class", classes[guess], param="class", parse=parse_choice(classes),
                                why=class_why, valid=classes.__contains__)})
methods = list(GALLERY_METHODS)
method_why = tr("unknown heat-map method; use {names}", names=" / ".join(GALLERY_METHODS))
write_url(method=url_state("hm_method", methods[0], param="method", parse=parse_choice(methods), why=method_why))

# Two tabs, and only the open one is drawn: a new image does not redraw the gallery (whose thumbnails
# do not depend on it), a gallery click not the three heat maps.
tabs = url_tabs({slug: tr(label) for slug, label in VIEWS.items()}, key="hm_view", param="view",
                why=tr("use view=maps or view=gallery"))


def show(index: int) -> None:
    """A thumbnail's "Show": it becomes the current image, and the heat-map tab opens on it."""
    set_current_image(index)
    st.session_state["hm_view"] = "maps"


# --- Three heat maps ---------------------------------------------------------------------------
if tabs["maps"].open:
    with tabs["maps"]:
        headings.header(tr("Three heat maps for {name}", name=literal(img.long_name)))
        controls = tuck_away(tr("Class and opacity"))  # presenting: the three heat maps on the first screen
        c_class, c_opacity = st.columns(2)
        chosen = url_widget(c_class.selectbox, tr("Class for CAM and Grad-CAM (starts at the predicted class)"),
                            options=classes, key="hm_class", default=classes[guess], valid=classes.__contains__,
                            param="class", parse=parse_choice(classes), why=class_why,
                            format_func=lambda c: f"{class_labels[c]} ({probabilities[classes.index(c)]:.1%})")
        opacity = opacity_slider(c_opacity)
        controls.close()
        k = classes.index(chosen)
        columns = st.columns(3)
        explanations = {
            "channel sum": known("The lecture's heat map: all 128 maps of block 3 added up. "
                                 "The same whatever the class: where block 3 is active at all."),
            "CAM": known("Each map of block 3 weighted by the classifier's weight for the class, then summed. "
                         "Global average pooling + one linear layer make it exact: mean of the map + bias = "
                         "the class's logit ({mean:+.2f} {bias:+.2f} = {logit:+.2f})."),
            "Grad-CAM": known("Each map of block3.relu3 weighted by how much the class score grows with it "
                              "(mean gradient), summed, negatives cut to 0. Twice CAM's resolution."),
        }
        result = heatmaps_of(sha, img.key, k, ctx.model, image, meta)
        for col, m in zip(columns, result.maps):
            col.plotly_chart(fit(heatmap_overlay_figure(image, m, cls(chosen), opacity, height=350,
                                                        lang=lang(), bar=False)),
                             width="stretch", key=f"hm_map_{m.method}")
            colour_legend(*overlay_scale(image, m, lang()), container=col)
            cam = result.of("CAM").values
            explain(tr(explanations[m.method], mean=float(cam.mean()), bias=result.cam_bias,
                       logit=result.cam_logit), container=col)
        export_button(slide_file_name("heatmaps", img.name, chosen),
                      partial(heatmaps_slide, image, img.title, cls(classes[guess]), cls(chosen), result, opacity,
                              slide_footer(ctx, img), lang()), key="export_hm")

# --- Gallery -----------------------------------------------------------------------------------
if tabs["gallery"].open:
    with tabs["gallery"]:
        headings.header(tr("Gallery: right and wrong side by side"))
        explain(tr("Correct predictions on the left, mistakes on the right, each with its heat map. Sorted by "
                   "confidence, high first, the right column starts with the **most confident mistakes**."))
        shown_names = {ANY: tr(ANY), **{c: cls(c) for c in classes}}
        f_true, f_pred, f_sort, f_method = st.columns(4)
        true_name = url_widget(f_true.selectbox, tr("True class"), options=[ANY] + classes, key="hm_true",
                               default=ANY, format_func=shown_names.get)
        pred_name = url_widget(f_pred.selectbox, tr("Predicted class"), options=[ANY] + classes, key="hm_pred",
                               default=ANY, format_func=shown_names.get)
        sort_labels = {k: tr(v) for k, v in SORT_LABELS.items()}
        sort = url_widget(f_sort.selectbox, tr("Order"), options=SORTS, key="hm_sort", default=SORTS[0],
                          format_func=sort_labels.get)
        method_labels = {k: tr(v) for k, v in GALLERY_METHODS.items()}
        method = url_widget(f_method.radio, tr("Heat map in the thumbnails"), options=methods, key="hm_method",
                            default=methods[0], param="method", parse=parse_choice(methods), why=method_why,
                            format_func=method_labels.get)
        c_page, c_opacity = st.columns(4)[:2]
        opacity = opacity_slider(c_opacity)

        selection = gallery_page(preds.labels, preds.predicted, preds.confidence,
                                 None if true_name == ANY else classes.index(true_name),
                                 None if pred_name == ANY else classes.index(pred_name),
                                 sort, int(st.session_state.get("hm_gallery_page", 1)), PER_COLUMN)
        if selection.pages > 1:
            st.session_state["hm_gallery_page"] = selection.page
            c_page.number_input(tr("Gallery page (1–{pages:,})", pages=selection.pages), min_value=1,
                                max_value=selection.pages, step=1, key="hm_gallery_page")
        shown = [int(i) for i in preds.indices[selection.positions]]
        with st.spinner(tr("Heat maps for the gallery…")):
            maps = dict(zip(shown, thumbnail_maps(sha, tuple(shown), method, ctx.model,
                                                  ctx.split.images[selection.positions], meta)))
        explain(tr("Heat map: {method}, each thumbnail scaled to its own range "
                   "(Inferno colours: black = weakest, yellow = strongest). “Show” makes it the current image.",
                   method=method_labels[method]), caption=True)

        for col, positions, title, count in zip(st.columns(2, gap="large"),
                                                (selection.correct, selection.incorrect),
                                                (f"{RIGHT} {tr('Correct')}", f"{WRONG} {tr('Incorrect')}"),
                                                (selection.n_correct, selection.n_incorrect)):
            with col:
                headings.subheader(tr("{title}: {count:,} images", title=title, count=count) if count != 1
                                   else tr("{title}: 1 image", title=title))
                if not len(positions):
                    st.info(tr("No image on this page matches the filters."))
                for start in range(0, len(positions), THUMBS_PER_ROW):
                    for cell, p in zip(st.columns(THUMBS_PER_ROW), positions[start:start + THUMBS_PER_ROW]):
                        idx = int(preds.indices[p])
                        t, g = cls(classes[int(preds.labels[p])]), cls(classes[int(preds.predicted[p])])
                        caption = f"#{idx}: {t} → {g} ({float(preds.confidence[p]):.0%})"
                        cell.image(overlay(ctx.split.images[p], maps[idx], opacity), width="stretch",
                                   output_format="PNG", caption=caption)
                        cell.button(tr("Show"), key=f"hm_pick_{idx}", on_click=show, args=(idx,),
                                    help=tr("Make #{index} the current image", index=idx))

share_link()
