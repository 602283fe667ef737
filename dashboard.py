"""Home: the model card, the confusion matrix and the test-image browser.

Run with ``streamlit run dashboard.py`` (see README.md). Every other view is in ``pages/``.
"""

from functools import partial

import numpy as np
import streamlit as st

from explain.browse import CORRECTNESS, SORTS, mark, page_of, select_images
from explain.home import (
    curve_names,
    curves_note,
    held_out_prefix,
    read_history,
    test_set_summary,
    training_note,
)
from locales import known
from model.card import history_path
from render.common import upscale
from render.home import (
    confusion_slide,
    confusion_spec,
    curve_spec,
    markdown_table,
    per_class_spec,
    selected_cell,
)
from render.slide import slide_file_name
from ui import headings
from ui.i18n import classes_in, cls, lang, tr, translator
from ui.lecture import lecture_bar
from ui.present import explain, export_button, presentation_toggle, scale, share_link, slide_footer, tuck_away
from ui.resources import import_torch_in_background, load_or_stop
from ui.state import image_sidebar, parse_choice, set_current_image, url_widget
from ui.text import code

st.set_page_config(page_title=tr("CIFAR-10 CNN explained"), page_icon="🔎", layout="wide")

ANY = known("any")
PER_PAGE = 24


ctx = load_or_stop()
presentation_toggle()
lecture_bar()
preds = ctx.predictions()
current = image_sidebar(ctx)
classes = ctx.classes
meta = ctx.card.meta

headings.title(tr("What does a trained CNN see? — CIFAR-10"))
explain(tr(
    "A convolutional network trained on the 60,000 CIFAR-10 images, opened up layer by layer. "
    "Pick a test image below (or in the sidebar, where you can also upload your own photo), then "
    "follow it through the pages on the left: "
    "**Feature maps**, **Semantic map**, **1×1 weights** and **Prediction heatmaps**. "
    "The lecture's basics come first in **Convolution playground** (the 6×6 toy example, kernels, "
    "padding, stride) and **Shapes and parameters** (N×C×H×W, pooling, receptive fields, LeNet to "
    "GoogLeNet)."))

probabilities = ctx.probabilities_of(current.key, current.pixels, current.test_index)
guess = cls(classes[int(np.argmax(probabilities))])
# A slide about a confusion-matrix cell (URL true= and pred=) opens on the matrix when presenting.
card = tuck_away(tr("Current image and model card"), when="true" in st.query_params and "pred" in st.query_params,
                 icon=":material/description:")
with st.container(border=True):
    c_img, c_text = st.columns([1, 4])
    c_img.image(upscale(current.pixels, 5), width=160)
    headings.subheader(tr("Current image: {name}", name=current.name), container=c_text)
    if current.is_upload:
        c_img.caption(tr("as the network sees it (32×32)"))
        c_text.markdown(tr("File {name}", name=code(current.upload.name)))
    c_text.markdown(current.verdict(classes, probabilities))
    links = c_text.columns(2)  # three to a row cut "→ Convolution playground" at 1280 px
    link_params = {} if current.is_upload else {"image": str(current.test_index)}
    for n, (page, label) in enumerate([("pages/5_Convolution_playground.py", known("Convolution playground")),
                                       ("pages/6_Shapes_and_parameters.py", known("Shapes and parameters")),
                                       ("pages/1_Feature_maps.py", known("Feature maps")),
                                       ("pages/2_Semantic_map.py", known("Semantic map")),
                                       ("pages/3_1x1_weights.py", known("1×1 weights")),
                                       ("pages/4_Prediction_heatmaps.py", known("Prediction heatmaps"))]):
        links[n % 2].page_link(page, label=f"→ {tr(label)}", query_params=link_params)

# --- Model card ---------------------------------------------------------------------------
headings.header(tr("Model card"))
summary = test_set_summary(preds, classes)
top1 = summary.accuracy
table = ctx.card.architecture  # from the checkpoint's card: no torch on this page
m1, m2, m3, m4 = st.columns([1.1, 1.1, 0.8, 1.3])  # room for the date when presenting
m1.metric(tr("Test accuracy (top-1)"), f"{top1:.2%}", help=tr("on {count:,} test images", count=len(preds.labels)))
parameters = sum(r["parameters"] for r in table)
m2.metric(tr("Parameters"), f"{parameters:,}")
m3.metric(tr("Epochs trained"), str(meta.get("epochs", "?")))
m4.metric(tr("Trained"), str(meta.get("date", "?"))[:10])

arch_col, class_col = st.columns([3, 2])
with arch_col:
    headings.subheader(tr("Architecture: {name}", name=meta["architecture"]))
    total = {"layer": f"**{tr('total')}**", "type": "", "output (N×C×H×W)": "", "parameters": parameters}
    headers = {k: tr(k) for k in (known("layer"), known("type"), known("output (N×C×H×W)"), known("parameters"))}
    with st.container(height=460, key="home_architecture"):
        st.markdown(markdown_table([{headers.get(k, k): v for k, v in row.items()} for row in [*table, total]]))
with class_col:
    per_class = summary.per_class
    st.vega_lite_chart(spec=per_class_spec([cls(c) for c in per_class["class"]], per_class["accuracy"],
                                           tr("Accuracy per class"), scale(),
                                           subtitle=tr("test set, overall {accuracy:.1%}", accuracy=top1), lang=lang()),
                       width="stretch", key="home_per_class")

history = read_history(history_path(ctx.card.path))
if history is None:
    st.info(tr("No training curves: the training CSV beside the checkpoint is missing."))
else:
    loss_col, acc_col = st.columns(2)
    names = curve_names(meta, held_out_prefix(history), lang())
    for col, metric, title in ((loss_col, "loss", tr("Loss per epoch")), (acc_col, "acc", tr("Accuracy per epoch"))):
        col.vega_lite_chart(spec=curve_spec(history, metric, title, scale(), names[metric], lang=lang()),
                            width="stretch", key=f"home_curve_{metric}")
    explain(curves_note(meta, history, lang()), caption=True)
note = training_note(meta, history, lang())
if note:
    st.caption(note)  # also when presenting: it says what the numbers on the screen are

card.close()

# --- Confusion matrix -------------------------------------------------------------------
headings.header(tr("Confusion matrix"))
explain(tr("Rows: true class; columns: predicted class. Click a cell to list exactly those test images "
           "in the browser below (or choose the pair there)."), caption=True)
shown_classes = [cls(c) for c in classes]  # the chart's names; a click maps back by position
event = st.vega_lite_chart(spec=confusion_spec(summary.confusion, shown_classes, scale(), lang()), width="stretch",
                           key="home_confusion", on_select="rerun", selection_mode="cell")
export_button(slide_file_name("confusion-matrix", current.name),
              partial(confusion_slide, summary, current.pixels, current.title, guess, float(probabilities.max()),
                      slide_footer(ctx, current), lang()), key="export_home")
cell = selected_cell(event, shown_classes)
if cell and st.session_state.get("home_last_cell") != cell:
    st.session_state["home_last_cell"] = cell
    st.session_state["home_true"] = classes[cell[0]]
    st.session_state["home_pred"] = classes[cell[1]]
    st.session_state["home_correct"] = "all"
    st.session_state["home_page"] = 1

# --- Image browser ---------------------------------------------------------------------
headings.header(tr("Test-image browser"))
f1, f2, f3, f4 = st.columns(4)
# URL: true=, pred= (a link, or a lecture slide, can open a confusion-matrix cell drilled down)
shown = {ANY: tr(ANY), **classes_in(classes)}
true_name = url_widget(f1.selectbox, tr("True class"), options=(ANY, *classes), key="home_true", default=ANY,
                       param="true", parse=parse_choice((ANY, *classes)), why=known("unknown class"),
                       format_func=shown.get)
pred_name = url_widget(f2.selectbox, tr("Predicted class"), options=(ANY, *classes), key="home_pred", default=ANY,
                       param="pred", parse=parse_choice((ANY, *classes)), why=known("unknown class"),
                       format_func=shown.get)
correctness = f3.radio(tr("Predictions"), CORRECTNESS, key="home_correct", horizontal=True, format_func=translator())
sort = f4.selectbox(tr("Sort by"), SORTS, key="home_sort", format_func=translator())
positions = select_images(preds.labels, preds.predicted, preds.confidence,
                          None if true_name == ANY else classes.index(true_name),
                          None if pred_name == ANY else classes.index(pred_name), correctness, sort)
if len(positions) == 0:
    st.info(tr("No test image matches these filters."))
else:
    pages = max(1, (len(positions) + PER_PAGE - 1) // PER_PAGE)
    if st.session_state.get("home_page", 1) > pages:
        st.session_state["home_page"] = 1
    page = st.number_input(tr("Page (of {pages})", pages=pages), min_value=1, max_value=pages, step=1, key="home_page")
    shown, pages = page_of(positions, int(page), PER_PAGE)
    st.markdown(tr("**{count:,} images** match — showing {shown} on page {page} of {pages}.",
                   count=len(positions), shown=len(shown), page=int(page), pages=pages))
    cols = st.columns(8)
    for n, p in enumerate(shown):
        idx = int(ctx.split.indices[p])
        truth, guess = cls(classes[int(preds.labels[p])]), cls(classes[int(preds.predicted[p])])
        with cols[n % 8]:
            st.image(upscale(ctx.split.images[p], 4),
                     caption=f"#{idx} {truth} → {guess} {float(preds.confidence[p]):.0%} {mark(truth == guess)}",
                     width="stretch")
            if st.button(tr("Show"), key=f"home_pick_{idx}", width="stretch",
                         type="primary" if idx == current.test_index else "secondary"):
                set_current_image(idx)
                st.rerun()

share_link()
import_torch_in_background()  # for the next page; this one never needed it
