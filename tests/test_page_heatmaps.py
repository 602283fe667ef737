"""AppTest of the "Prediction heatmaps" page against the real checkpoint and the real test images.

The checkpoint is copied first (a training run may rewrite model/checkpoint.pt meanwhile), and
the page's predictions are checked against the same copy.
"""

import json
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import PROJECT, plotly_array, shown, top_classes_shown

PAGE = str(PROJECT / "pages" / "4_Prediction_heatmaps.py")
CAPTION = re.compile(r"#(\d+): (\w+) → (\w+) \((\d+)%\)")


@pytest.fixture
def app(page_env):
    return AppTest.from_file(PAGE, default_timeout=180)


@pytest.fixture
def gallery(page_env):
    """The page opened on its gallery tab, as a link with view=gallery does."""
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.query_params["view"] = "gallery"
    return at


@pytest.fixture
def preds(reference_predictions):
    """Predictions of the frozen checkpoint: the session's reference, computed in conftest with
    plain torch, not read from the page's own cache through explain.testset.predictions (which
    made the page's numbers their own reference) nor recomputed here."""
    return reference_predictions


def _charts(at) -> dict[str, dict]:
    return {el.key: json.loads(el.proto.spec) for el in at.get("plotly_chart")}


def _title(spec: dict) -> str:
    """The title's text, its line breaks (wrapped to fit the column) read as spaces."""
    return spec["layout"]["title"]["text"].replace("<br>", " ")


def _thumbnails(at) -> list[tuple[int, str, str, str]]:
    """(test index, true class, predicted class, image URL) of every gallery thumbnail, in page order."""
    out = []
    for el in at.get("image"):
        for img in el.proto.imgs:
            match = CAPTION.fullmatch(img.caption)
            if match:
                out.append((int(match.group(1)), match.group(2), match.group(3), img.url))
    return out


def _columns(at) -> tuple[list, list]:
    thumbs = _thumbnails(at)
    return [t for t in thumbs if t[1] == t[2]], [t for t in thumbs if t[1] != t[2]]


def _url(at, key: str) -> str:
    value = at.query_params[key]
    return value[0] if isinstance(value, list) else value


def test_prediction_and_three_heat_maps(app, preds, frozen_checkpoint):
    at = app.run()
    assert not at.exception
    classes = frozen_checkpoint.classes
    guess, truth = classes[int(preds.predicted[0])], classes[int(preds.labels[0])]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Predicted class": guess, "True class": truth}
    assert at.selectbox(key="hm_class").value == guess  # CAM / Grad-CAM start at the predicted class
    assert _url(at, "class") == guess and _url(at, "method") == "sum"

    charts = _charts(at)
    title, top5 = top_classes_shown(at)
    order = np.argsort(-preds.probabilities[0])[:5]
    assert [name for name, _ in top5] == [classes[i] for i in order]
    assert [p for _, p in top5] == [pytest.approx(float(preds.probabilities[0, i]), abs=5e-4) for i in order]
    assert "test image #0" in title
    assert "Sum of all 128 maps" in _title(charts["hm_map_channel sum"])
    assert "block3.pool (1×128×4×4)" in _title(charts["hm_map_channel sum"])
    assert f"CAM for “{guess}”" in _title(charts["hm_map_CAM"])
    assert "block3.pool (1×128×4×4)" in _title(charts["hm_map_CAM"])
    assert f"Grad-CAM for “{guess}”" in _title(charts["hm_map_Grad-CAM"])
    assert "block3.relu3 (1×128×8×8)" in _title(charts["hm_map_Grad-CAM"])
    # Each map's colour scale is the HTML legend under it (no Plotly colour bar): its title, and as
    # its ends the lowest and highest value the figure colours (read from the figure's own z).
    legends = [h.proto.body for h in at.get("html") if "linear-gradient" in h.proto.body]
    assert len(legends) == 3
    for key, legend, title in zip(("hm_map_channel sum", "hm_map_CAM", "hm_map_Grad-CAM"), legends,
                                  ("sum of maps", "CAM (logit units)", "Grad-CAM")):
        heat = charts[key]["data"][1]
        assert heat["opacity"] == 0.5 and heat["showscale"] is False
        z = plotly_array(heat["z"])
        ends = [float(v) for v in re.findall(r"<span>([-0-9.e+]+)</span>", legend)]
        assert f">{title}<" in legend and len(ends) == 2
        low = 0.0 if abs(z.min()) <= 1e-3 * (z.max() - z.min()) else z.min()
        assert ends == [pytest.approx(low, rel=5e-3, abs=1e-9), pytest.approx(z.max(), rel=5e-3)]

    # CAM: mean of the map + bias = the logit of the class, printed under the map.
    k = int(preds.predicted[0])
    cam_note = next(m.value for m in at.markdown if "mean of the map + bias" in m.value)
    logit = float(re.search(r"= ([+-][0-9.]+)\)", cam_note).group(1))
    assert logit == pytest.approx(float(preds.logits[0, k]), abs=0.011)


def test_changing_the_class_changes_cam_and_gradcam_only(app, preds, frozen_checkpoint):
    at = app.run()
    before = _charts(at)
    other = next(c for c in frozen_checkpoint.classes if c != at.selectbox(key="hm_class").value)
    at.selectbox(key="hm_class").set_value(other).run()
    assert not at.exception
    after = _charts(at)
    assert after["hm_map_CAM"] != before["hm_map_CAM"]
    assert after["hm_map_Grad-CAM"] != before["hm_map_Grad-CAM"]
    assert after["hm_map_channel sum"] == before["hm_map_channel sum"]  # the lecture's sum has no class
    assert f"CAM for “{other}”" in _title(after["hm_map_CAM"])
    assert _url(at, "class") == other


def test_opacity_slider(app):
    at = app.run()
    at.slider(key="hm_opacity").set_value(0.8).run()
    assert not at.exception
    charts = _charts(at)
    assert all(charts[k]["data"][1]["opacity"] == 0.8 for k in charts if k.startswith("hm_map_"))


def test_only_the_open_tab_is_drawn(app):
    at = app.run()
    assert not at.exception and not _thumbnails(at)  # the heat maps: no gallery
    assert {"hm_map_channel sum", "hm_map_CAM", "hm_map_Grad-CAM"} <= set(_charts(at))
    assert [t.label for t in at.tabs] == ["Heat maps of this image", "Gallery: right and wrong"]
    assert _url(at, "view") == "maps"
    at.session_state["hm_view"] = "gallery"  # what a click on the tab sets (tests/browser clicks it)
    at.run()
    assert not at.exception and len(_thumbnails(at)) == 12
    assert not any(k.startswith("hm_map_") for k in _charts(at)) and _url(at, "view") == "gallery"
    # Each tab shows only its own settings: the class is the heat maps' (and stays in the link), the
    # opacity both tabs'.
    assert "hm_class" not in [s.key for s in at.selectbox] and _url(at, "class") == at.session_state["hm_class"]
    before = [t[3] for t in _thumbnails(at)]
    at.slider(key="hm_opacity").set_value(0.9).run()
    assert not at.exception and [t[3] for t in _thumbnails(at)] != before


def test_a_bad_view_in_the_link_is_a_notice(app):
    app.query_params["view"] = "<b>all</b>"
    at = app.run()
    assert not at.exception
    assert any("Ignored `view=<b>all</b>`" in w.value and "use view=maps or view=gallery" in w.value
               for w in at.warning)
    assert _url(at, "view") == "maps" and not _thumbnails(at)


def test_gallery_shows_correct_and_incorrect_most_confident_first(gallery, preds, frozen_checkpoint):
    at = gallery.run()
    correct, incorrect = _columns(at)
    assert len(correct) == 6 and len(incorrect) == 6
    assert [t[0] for t in _thumbnails(at)] == [t[0] for t in correct + incorrect]  # two columns
    wrong = np.flatnonzero(~preds.correct)
    most_confident_mistakes = wrong[np.argsort(-preds.confidence[wrong], kind="stable")][:6]
    assert [t[0] for t in incorrect] == preds.indices[most_confident_mistakes].tolist()
    subheaders = [s.value for s in at.subheader]
    assert f"✓ Correct: {int(preds.correct.sum()):,} images" in subheaders
    assert f"✗ Incorrect: {len(wrong):,} images" in subheaders


def test_gallery_filters_and_sort(gallery, preds, frozen_checkpoint):
    at = gallery.run()
    at.selectbox(key="hm_true").set_value("dog").run()
    correct, incorrect = _columns(at)
    assert not at.exception and correct and incorrect
    assert all(t[1] == "dog" for t in correct + incorrect)
    at.selectbox(key="hm_pred").set_value("cat").run()
    correct, incorrect = _columns(at)
    assert not correct and all(t[1:3] == ("dog", "cat") for t in incorrect)
    dog_as_cat = int(np.sum((preds.labels == 5) & (preds.predicted == 3)))
    assert f"✗ Incorrect: {dog_as_cat:,} images" in [s.value for s in at.subheader]
    assert any("No image on this page matches" in i.value for i in at.info)
    before = [t[0] for t in incorrect]
    at.selectbox(key="hm_sort").set_value("confidence, low first").run()
    after = [t[0] for t in _columns(at)[1]]
    assert not at.exception and after != before
    positions = [int(np.searchsorted(preds.indices, i)) for i in after]
    assert list(preds.confidence[positions]) == sorted(preds.confidence[positions])


def test_gallery_method_changes_the_thumbnails(gallery):
    at = gallery.run()
    before = [t[3] for t in _thumbnails(at)]
    at.radio(key="hm_method").set_value("cam").run()
    assert not at.exception
    after = [t[3] for t in _thumbnails(at)]
    assert len(after) == len(before) and after != before
    assert _url(at, "method") == "cam"
    assert any("CAM of the predicted class" in c.value for c in at.caption)


def test_gallery_page_number(gallery):
    at = gallery.run()
    first = [t[0] for t in _thumbnails(at)]
    at.number_input(key="hm_gallery_page").set_value(2).run()
    assert not at.exception
    second = [t[0] for t in _thumbnails(at)]
    assert second and not set(first) & set(second)


def test_show_button_makes_a_thumbnail_the_current_image(gallery, preds, frozen_checkpoint):
    at = gallery.run()
    _, incorrect = _columns(at)
    index, _, guess, _ = incorrect[0]
    at.button(key=f"hm_pick_{index}").click().run()
    assert not at.exception
    # The heat-map tab opens on it.
    assert f"Three heat maps for test image #{index}" in [shown(h.value) for h in at.header]
    assert _url(at, "view") == "maps" and not _thumbnails(at)
    assert _url(at, "image") == str(index)
    assert at.number_input(key="image_picker").value == index
    assert at.selectbox(key="hm_class").value == guess  # the class follows the new image's prediction
    assert {m.label: m.value for m in at.metric}["Predicted class"] == guess


def test_url_state_is_adopted(app, frozen_checkpoint):
    app.query_params.update({"image": "3", "class": "dog", "method": "cam"})
    at = app.run()
    assert not at.exception and not at.warning
    assert at.selectbox(key="hm_class").value == "dog"
    assert at.session_state["hm_method"] == "cam" and _url(at, "method") == "cam"  # the gallery's, kept
    assert "CAM for “dog”" in _title(_charts(at)["hm_map_CAM"])
    assert "Three heat maps for test image #3" in [shown(h.value) for h in at.header]


@pytest.mark.parametrize("params, shown", [
    ({"class": "unicorn"}, "Ignored `class=unicorn`"),
    ({"method": "nope"}, "Ignored `method=nope`"),
    ({"class": "<b>x</b>" * 20}, "the value is too long"),
])
def test_bad_url_values_are_ignored_with_a_notice(app, preds, frozen_checkpoint, params, shown):
    app.query_params.update(params)
    at = app.run()
    assert not at.exception
    assert any(shown in w.value for w in at.warning)
    assert at.selectbox(key="hm_class").value == frozen_checkpoint.classes[int(preds.predicted[0])]
    assert at.session_state["hm_method"] == "sum" and _url(at, "method") == "sum"


def test_page_state_survives_a_visit_to_another_page(cifar_root, frozen_checkpoint, monkeypatch):
    """Streamlit drops a page's widget values when another page is shown; these pages keep them."""
    monkeypatch.setenv("CIFAR10_ROOT", str(cifar_root))
    monkeypatch.setenv("CIFAR10_CHECKPOINT", str(frozen_checkpoint.path))
    at = AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=180).run()
    at.switch_page("pages/4_Prediction_heatmaps.py").run()
    at.selectbox(key="hm_class").set_value("truck").run()
    at.slider(key="hm_opacity").set_value(0.8).run()
    at.session_state["hm_view"] = "gallery"
    at.run()
    at.radio(key="hm_method").set_value("cam").run()
    at.selectbox(key="hm_true").set_value("ship").run()
    at.switch_page("pages/3_1x1_weights.py").run()
    at.radio(key="ob_layer").set_value("block2.conv3").run()
    at.number_input(key="ob_channel").set_value(9).run()
    at.switch_page("pages/4_Prediction_heatmaps.py").run()
    assert not at.exception
    assert at.slider(key="hm_opacity").value == 0.8
    assert at.radio(key="hm_method").value == "cam"  # the gallery tab stayed open
    assert at.selectbox(key="hm_true").value == "ship"
    assert _url(at, "class") == "truck"  # the heat maps' class, kept while their tab is closed
    at.session_state["hm_view"] = "maps"
    at.run()
    assert at.selectbox(key="hm_class").value == "truck" and at.slider(key="hm_opacity").value == 0.8
    at.switch_page("pages/3_1x1_weights.py").run()
    assert not at.exception
    assert at.radio(key="ob_layer").value == "block2.conv3"
    assert at.number_input(key="ob_channel").value == 9


def _upsampled_channel_sum(acts: dict, size: int = 32) -> np.ndarray:
    """The lecture's heat map computed here: block 3's 128 pooled maps added up, bilinear to 32×32."""
    import torch
    import torch.nn.functional as F

    summed = torch.as_tensor(acts["block3.pool"].sum(axis=0), dtype=torch.float32)[None, None]
    return F.interpolate(summed, size=(size, size), mode="bilinear", align_corners=False)[0, 0].numpy()


def test_two_images_side_by_side_on_one_colour_scale(app, preds, frozen_checkpoint, acts_of):
    """compare=8324 beside image=3613: two heat maps of the same size, labelled with true and
    predicted class, drawn on one colour range that spans both maps."""
    app.query_params["image"] = "3613"
    app.query_params["compare"] = "8324"
    app.query_params["heat"] = "sum"
    at = app.run()
    assert not at.exception
    classes = frozen_checkpoint.classes
    charts = _charts(at)
    a, b = charts["hm_cmp_a"], charts["hm_cmp_b"]
    for spec, index in ((a, 3613), (b, 8324)):
        pos = int(np.flatnonzero(preds.indices == index)[0])
        truth, guess = classes[int(preds.labels[pos])], classes[int(preds.predicted[pos])]
        conf = float(preds.confidence[pos])
        assert f"#{index}: true {truth}, predicted {guess} ({conf:.0%})" in _title(spec)
    assert "true dog, predicted dog" in _title(a) and "true cat, predicted dog" in _title(b)
    assert a["layout"]["height"] == b["layout"]["height"]
    maps = [_upsampled_channel_sum(acts_of(i)) for i in (3613, 8324)]
    low, high = min(m.min() for m in maps), max(m.max() for m in maps)
    for spec, expected in zip((a, b), maps):
        heat = spec["data"][1]
        assert heat["zmin"] == pytest.approx(low, rel=1e-4) and heat["zmax"] == pytest.approx(high, rel=1e-4)
        assert heat["zauto"] is False
        assert plotly_array(heat["z"]) == pytest.approx(expected, rel=1e-3, abs=1e-3)
    assert _url(at, "compare") == "8324" and _url(at, "heat") == "sum"

    at.radio(key="hm_compare_method").set_value("gradcam").run()
    assert not at.exception and "Grad-CAM" in _title(_charts(at)["hm_cmp_a"])
    at.number_input(key="compare_image").set_value(None).run()
    assert not at.exception and "hm_cmp_a" not in _charts(at) and "compare" not in at.query_params


def test_a_bad_compare_value_is_a_one_line_notice(app):
    app.query_params["compare"] = "123456"
    at = app.run()
    assert not at.exception and "hm_cmp_a" not in _charts(at)
    assert any("compare=123456" in w.value and "test images are numbered" in w.value for w in at.warning)
