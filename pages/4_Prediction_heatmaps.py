"""Prediction heatmaps: where did the network look? (lecture §6)

Channel sum (the lecture's heat map), CAM and Grad-CAM for the current image, then a gallery
of correct and incorrect predictions with their heat maps. Maths in explain.heatmaps and
explain.gallery, figures in explain.heatmap_figures.
"""

from functools import partial

import streamlit as st

st.set_page_config(page_title="Prediction heatmaps", layout="wide")

from explain.browse import RIGHT, SORTS, WRONG  # noqa: E402
from explain.gallery import GALLERY_METHODS, gallery_heatmaps, gallery_page, top_classes  # noqa: E402
from explain.activations import format_shape  # noqa: E402
from explain.figures import display_pixels  # noqa: E402
from explain.heatmap_figures import (HEATMAP_TITLES, heatmap_overlay_figure, overlay_pixels,  # noqa: E402
                                     top_classes_figure)
from explain.heatmaps import heatmap  # noqa: E402
from model.inference import to_tensor  # noqa: E402
from explain.slide import slide_file_name  # noqa: E402
from explain.view_slides import heatmaps_slide  # noqa: E402
from ui.present import (explain, export_button, fit, presentation_toggle, share_link,  # noqa: E402
                        slide_footer)
from ui.resources import load_or_stop  # noqa: E402
from ui.state import (adopt_url_value, image_sidebar, keep_widget_value,  # noqa: E402
                      parse_choice, set_current_image, write_url)
from ui.text import literal

ANY = "any"
PER_COLUMN = 6  # thumbnails in each gallery column
THUMBS_PER_ROW = 3
SORT_LABELS = dict(zip(SORTS, ("most confident first", "least confident first", "test index")))

ctx = load_or_stop()
presentation_toggle()
img = image_sidebar(ctx)
sha = ctx.card.sha256
meta = ctx.card.meta
classes = list(ctx.classes)
preds = ctx.predictions()
image = img.pixels
probabilities = ctx.probabilities_of(img.key, img.pixels, img.test_index)  # one image's, by class
truth, guess = img.truth, int(probabilities.argmax())  # truth is None for the user's photo


@st.cache_data(max_entries=256, show_spinner=False)
def image_heatmap(sha: str, key: str, method: str, class_index: int, _model, _image, _meta):
    """(H×W map, layer name, layer shape) of one image; Grad-CAM runs on a private copy of the model."""
    return heatmap(_model, to_tensor(_image[None], _meta["mean"], _meta["std"]), method, class_index)


@st.cache_data(max_entries=64, show_spinner="Heat maps for the gallery…")
def thumbnail_maps(sha: str, indices: tuple[int, ...], method: str, _model, _images, _meta):
    """0..1 heat maps of the gallery images, from one batched forward pass."""
    return gallery_heatmaps(_model, _images, _meta["mean"], _meta["std"], method)[0]



st.title("Where did the network look?")
explain(
    "Lecture §6: adding up all 128 maps of block 3 gives a heat map; laid over the input it shows "
    "where the model looked: a dog recognised by its head and legs, a cat in a box missed because "
    "the model looked at the box. CAM and Grad-CAM do the same **for one chosen class**.")

# --- Prediction --------------------------------------------------------------------------------
left, right = st.columns([2, 3])
with left:
    m1, m2 = st.columns(2)
    m1.metric("Predicted class", classes[guess], help=f"confidence {probabilities[guess]:.1%}")
    m2.metric("True class", "no label" if truth is None else classes[truth],
              help="Your photo: nobody has labelled it." if truth is None else None)
    if truth is None:
        st.info(f"Your photo has no true label: the network says **{classes[guess]}** with "
                f"{probabilities[guess]:.1%} probability. Is it right?")
    elif guess == truth:
        st.success(f"Correct: **{classes[guess]}** with {probabilities[guess]:.1%} probability.")
    else:
        st.error(f"Mistake: **{classes[truth]}** taken for **{classes[guess]}** "
                 f"({probabilities[guess]:.1%}; {classes[truth]} got {probabilities[truth]:.1%}).")
    st.image(display_pixels(image, 192), output_format="PNG",
             caption=f"{'Your photo' if img.is_upload else f'Test image #{img.test_index}'} "
                     "(32×32 pixels, enlarged)")
with right:
    top5 = top_classes_figure(top_classes(probabilities, 5), ctx.classes, truth,
                              f"Top-5 class probabilities, {img.long_name}<br>"
                              f"softmax of the classifier's 1×{len(classes)} logits", height=360)
    if truth is None:
        top5.update_xaxes(title_text="class (no true label)")
    st.plotly_chart(fit(top5), width="stretch", key="hm_top5")

# --- Controls (class and gallery method mirrored in the URL) ----------------------------------
if st.session_state.get("_hm_class_image") != img.key or "hm_class" not in st.session_state:
    # A new image starts with its predicted class (kept while the page is revisited).
    kept = st.session_state.get("_kept_hm_class")
    same_image = st.session_state.get("_hm_class_image") == img.key
    st.session_state["hm_class"] = kept if same_image and kept in classes else classes[guess]
    st.session_state["_hm_class_image"] = img.key
adopt_url_value("class", "hm_class", parse_choice(classes),
                f"unknown class; the classes are {', '.join(classes)}")
keep_widget_value("hm_method", next(iter(GALLERY_METHODS)))
adopt_url_value("method", "hm_method", parse_choice(list(GALLERY_METHODS)),
                f"unknown heat-map method; use {' or '.join(GALLERY_METHODS)}")

c_class, c_opacity = st.columns(2)
chosen = c_class.selectbox("Class for CAM and Grad-CAM (starts at the predicted class)", classes,
                           key="hm_class",
                           format_func=lambda c: f"{c} ({probabilities[classes.index(c)]:.1%})")
keep_widget_value("hm_opacity", 0.5)
opacity = c_opacity.slider("Heat-map opacity", 0.0, 1.0, step=0.05, key="hm_opacity")
k = classes.index(chosen)

# --- Three heat maps ---------------------------------------------------------------------------
st.header(f"Three heat maps for {literal(img.long_name)}")
columns = st.columns(3)
explanations = {
    "channel sum": "The lecture's heat map: all 128 maps of block 3 added up. "
                   "The same whatever the class: where block 3 is active at all.",
    "CAM": "Each map of block 3 weighted by the classifier's weight for the class, then summed. "
           "Global average pooling + one linear layer make it exact: mean of the map + bias = the "
           "class's logit ({mean:+.2f} {bias:+.2f} = {logit:+.2f}).",
    "Grad-CAM": "Each map of block3.relu3 weighted by how much the class score grows with it "
                "(mean gradient), summed, negatives cut to 0. Twice CAM's resolution.",
}
slide_maps = []  # (title, map, colour-bar label) of each heat map, for the slide
for col, method in zip(columns, ("channel sum", "CAM", "Grad-CAM")):
    values, layer, shape = image_heatmap(sha, img.key, method, 0 if method == "channel sum" else k,
                                         ctx.model, image, meta)
    fig = heatmap_overlay_figure(image, values, method, chosen, layer, shape, opacity)
    col.plotly_chart(fit(fig), width="stretch", key=f"hm_map_{method}")
    title, colorbar = HEATMAP_TITLES[method]
    slide_maps.append((title.format(c=shape[1], layer=layer, shape=format_shape(shape), cls=chosen)
                       .replace("<br>", " — "), values, colorbar))
    note = explanations[method]
    if method == "CAM":
        bias = float(ctx.model.classifier.bias.detach()[k])
        note = note.format(mean=float(values.mean()), bias=bias, logit=float(values.mean()) + bias)
    explain(note, container=col)
export_button(slide_file_name("heatmaps", img.name, chosen),
              partial(heatmaps_slide, image, img.title, classes[guess], chosen, slide_maps, opacity,
                      slide_footer(ctx, img)), key="export_hm")

# --- Gallery -----------------------------------------------------------------------------------
st.header("Gallery: right and wrong side by side")
explain("Correct predictions on the left, mistakes on the right, each with its heat map. Sorted by "
        "confidence, high first, the right column starts with the **most confident mistakes**.")
for key, default in (("hm_true", ANY), ("hm_pred", ANY), ("hm_sort", SORTS[0])):
    keep_widget_value(key, default)
f_true, f_pred, f_sort, f_method = st.columns(4)
true_name = f_true.selectbox("True class", [ANY] + classes, key="hm_true")
pred_name = f_pred.selectbox("Predicted class", [ANY] + classes, key="hm_pred")
sort = f_sort.selectbox("Order", SORTS, key="hm_sort", format_func=SORT_LABELS.get)
method = f_method.radio("Heat map in the thumbnails", list(GALLERY_METHODS), key="hm_method",
                        format_func=GALLERY_METHODS.get)
for key, value in (("hm_class", chosen), ("hm_opacity", opacity), ("hm_method", method),
                   ("hm_true", true_name), ("hm_pred", pred_name), ("hm_sort", sort)):
    st.session_state[f"_kept_{key}"] = value
write_url(**{"class": chosen, "method": method})

selection = gallery_page(preds.labels, preds.predicted, preds.confidence,
                         None if true_name == ANY else classes.index(true_name),
                         None if pred_name == ANY else classes.index(pred_name),
                         sort, int(st.session_state.get("hm_gallery_page", 1)), PER_COLUMN)
if selection.pages > 1:
    st.session_state["hm_gallery_page"] = selection.page
    st.columns(4)[0].number_input(f"Gallery page (1–{selection.pages:,})", min_value=1,
                                  max_value=selection.pages, step=1, key="hm_gallery_page")
shown = [int(i) for i in preds.indices[selection.positions]]
maps = dict(zip(shown, thumbnail_maps(sha, tuple(shown), method, ctx.model,
                                      ctx.split.images[selection.positions], meta)))
explain(f"Heat map: {GALLERY_METHODS[method]}, each thumbnail scaled to its own range "
        "(Inferno colours: black = weakest, yellow = strongest). “Show” makes it the current image.",
        caption=True)

for col, positions, title, count in zip(st.columns(2, gap="large"), (selection.correct, selection.incorrect),
                                        (f"{RIGHT} Correct", f"{WRONG} Incorrect"),
                                        (selection.n_correct, selection.n_incorrect)):
    with col:
        st.subheader(f"{title}: {count:,} image{'s' if count != 1 else ''}")
        if not len(positions):
            st.info("No image on this page matches the filters.")
        for start in range(0, len(positions), THUMBS_PER_ROW):
            for cell, p in zip(st.columns(THUMBS_PER_ROW), positions[start:start + THUMBS_PER_ROW]):
                idx = int(preds.indices[p])
                t, g = classes[int(preds.labels[p])], classes[int(preds.predicted[p])]
                caption = f"#{idx}: {t} → {g} ({float(preds.confidence[p]):.0%})"
                cell.image(overlay_pixels(ctx.split.images[p], maps[idx], opacity), width="stretch",
                           output_format="PNG", caption=caption)
                if cell.button("Show", key=f"hm_pick_{idx}", help=f"Make #{idx} the current image"):
                    set_current_image(idx)
                    st.rerun()

share_link()
