"""Unit tests of the maths behind the "1×1 weights" and "Prediction heatmaps" pages.

Gallery selection, batched heat maps (each equal to the single-image one), the 1×1 helpers
and the figures' titles and colour scales.
"""

import json
import re

import numpy as np
import pytest

from explain.activations import all_activations
from explain.browse import SORTS
from explain.gallery import GALLERY_METHODS, gallery_heatmaps, gallery_page, top_classes
from explain.heatmaps import (
    FEATURE_LAYER,
    HeatMap,
    channel_sum,
    channel_sums,
    class_activation_map,
    class_activation_maps,
    grad_cam,
    heatmap,
    normalise,
    upsample,
)
from explain.one_by_one import (
    LECTURE_EXAMPLE,
    ConvCost,
    compare_with_3x3,
    cost_rows,
    decompose,
    input_layer_name,
    one_by_one_layers,
    top_contributions,
    weight_matrix,
    with_kernel,
)
from model.inference import to_tensor
from render.common import overlay
from render.heatmaps import heatmap_overlay_figure, top_classes_html
from render.one_by_one import (
    contributions_figure,
    input_weights_figure,
    sum_check_figure,
    weight_matrix_figure,
    weight_scale,
)
from tests.conftest import mosaic_panels, random_eval_model

MEAN, STD = (0.49, 0.48, 0.45), (0.25, 0.24, 0.26)


@pytest.fixture(scope="module")
def random_model():
    return random_eval_model(1)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(7).integers(0, 256, size=(12, 32, 32, 3), dtype=np.uint8)


# --- Gallery selection ----------------------------------------------------------------------

def _toy_predictions():
    labels = np.array([0, 0, 1, 1, 2, 2, 0, 1, 2, 0])
    predicted = np.array([0, 1, 1, 0, 2, 0, 0, 2, 2, 1])
    confidence = np.array([0.9, 0.8, 0.7, 0.99, 0.5, 0.6, 0.3, 0.95, 0.4, 0.2])
    return labels, predicted, confidence


def test_gallery_splits_correct_and_incorrect_sorted_by_confidence():
    labels, predicted, confidence = _toy_predictions()
    g = gallery_page(labels, predicted, confidence, per_column=3)
    assert g.correct.tolist() == [0, 2, 4]  # conf .9, .7, .5 (then .4, .3 on page 2)
    assert g.incorrect.tolist() == [3, 7, 1]  # the most confident mistakes first
    assert (g.n_correct, g.n_incorrect, g.page, g.pages) == (5, 5, 1, 2)
    assert (labels[g.correct] == predicted[g.correct]).all()
    assert (labels[g.incorrect] != predicted[g.incorrect]).all()
    assert g.positions.tolist() == [0, 2, 4, 3, 7, 1]


def test_gallery_filters_sorts_and_pages():
    labels, predicted, confidence = _toy_predictions()
    g = gallery_page(labels, predicted, confidence, true_class=0, per_column=6)
    assert set(labels[g.positions]) == {0}
    assert g.correct.tolist() == [0, 6] and g.incorrect.tolist() == [1, 9]
    g = gallery_page(labels, predicted, confidence, predicted_class=0, sort=SORTS[1], per_column=6)
    assert set(predicted[g.positions]) == {0}
    assert g.correct.tolist() == [6, 0] and g.incorrect.tolist() == [5, 3]  # low confidence first
    g = gallery_page(labels, predicted, confidence, sort=SORTS[2], page=2, per_column=3)
    assert g.correct.tolist() == [6, 8] and g.incorrect.tolist() == [7, 9]
    g = gallery_page(labels, predicted, confidence, page=99, per_column=3)  # clamped to the last page
    assert g.page == 2
    g = gallery_page(labels, predicted, confidence, true_class=2, predicted_class=1)
    assert len(g.positions) == 0 and g.pages == 1 and g.n_correct == g.n_incorrect == 0


def test_gallery_page_where_one_column_has_run_out():
    labels = np.array([0, 0, 0, 0, 1])
    predicted = np.array([0, 0, 0, 0, 0])
    g = gallery_page(labels, predicted, np.linspace(1, 0.5, 5), page=2, per_column=2)
    assert g.correct.tolist() == [2, 3] and g.incorrect.tolist() == []


def test_top_classes():
    p = np.array([0.1, 0.5, 0.05, 0.3, 0.05])
    assert top_classes(p, 3) == [(1, 0.5), (3, 0.3), (0, 0.1)]
    assert [i for i, _ in top_classes(p, 5)] == [1, 3, 0, 2, 4]  # ties: lower index first
    assert len(top_classes(p, 10)) == 5


# --- Batched heat maps equal the single-image ones --------------------------------------------

def test_batched_channel_sums_and_cams_equal_single_image(random_model, images):
    features = all_activations(random_model, to_tensor(images, MEAN, STD))[FEATURE_LAYER].numpy()
    classes = np.arange(len(images)) % 10
    sums = channel_sums(features)
    cams = class_activation_maps(random_model.classifier, features, classes)
    for i in range(len(images)):
        assert np.allclose(sums[i], channel_sum(features[i]), atol=1e-4)
        assert np.allclose(cams[i], class_activation_map(random_model.classifier, features[i], classes[i]),
                           atol=1e-5)
    with pytest.raises(ValueError):
        class_activation_maps(random_model.classifier, features, classes[:3])
    with pytest.raises(ValueError):
        class_activation_maps(random_model.classifier, features, np.full(len(images), 10))
    with pytest.raises(ValueError):
        channel_sums(features[0])


@pytest.mark.parametrize("method", list(GALLERY_METHODS))
def test_gallery_heatmaps_equal_one_image_at_a_time(random_model, images, method):
    maps, predicted = gallery_heatmaps(random_model, images, MEAN, STD, method)
    assert maps.shape == (12, 32, 32) and predicted.shape == (12,)
    assert maps.min() >= 0 and maps.max() <= 1
    for i, img in enumerate(images):
        x = to_tensor(img[None], MEAN, STD)
        acts = all_activations(random_model, x)
        assert predicted[i] == int(acts["logits"][0].argmax())
        features = acts[FEATURE_LAYER][0].numpy()
        single = channel_sum(features) if method == "sum" else \
            class_activation_map(random_model.classifier, features, predicted[i])
        assert np.allclose(maps[i], normalise(upsample(single)), atol=1e-5)


def test_gallery_heatmaps_use_one_forward_pass(random_model, images, monkeypatch):
    import explain.activations as activations

    calls = []
    real = activations.all_activations
    monkeypatch.setattr(activations, "all_activations", lambda m, x: calls.append(len(x)) or real(m, x))
    gallery_heatmaps(random_model, images, MEAN, STD, "cam")
    assert calls == [12]


def test_gallery_heatmaps_edge_cases(random_model, images):
    maps, predicted = gallery_heatmaps(random_model, images[:0], MEAN, STD, "sum")
    assert maps.shape == (0, 32, 32) and predicted.shape == (0,)
    with pytest.raises(ValueError):
        gallery_heatmaps(random_model, images, MEAN, STD, "Grad-CAM")


def test_heatmap_entry_point_names_its_layer_and_leaves_the_model_alone(random_model, images):
    x = to_tensor(images[:1], MEAN, STD)
    features = all_activations(random_model, x)[FEATURE_LAYER][0].numpy()
    values, layer, shape = heatmap(random_model, x, "channel sum", 0)
    assert (layer, shape) == ("block3.pool", (1, 128, 4, 4))
    assert np.allclose(values, channel_sum(features))
    values, layer, shape = heatmap(random_model, x, "CAM", 4)
    assert np.allclose(values, class_activation_map(random_model.classifier, features, 4))
    values, layer, shape = heatmap(random_model, x, "Grad-CAM", 4)
    assert (layer, shape) == ("block3.relu3", (1, 128, 8, 8))
    assert np.allclose(values, grad_cam(random_model, x, 4))
    assert not random_model.training and all(p.grad is None for p in random_model.parameters())
    with pytest.raises(ValueError):
        heatmap(random_model, x, "saliency", 0)


# --- 1×1 helpers ------------------------------------------------------------------------------

def test_one_by_one_layers_and_their_inputs(random_model):
    assert [i.name for i in one_by_one_layers(random_model)] == ["block2.conv3", "block3.conv3"]
    assert input_layer_name(random_model, "block3.conv3") == "block3.relu2"
    assert input_layer_name(random_model, "block2.conv3") == "block2.relu2"
    assert input_layer_name(random_model, "block2.conv1") == "block1.pool"
    assert input_layer_name(random_model, "block1.conv1") == "input"
    with pytest.raises(ValueError):
        input_layer_name(random_model, "nope")


def test_top_contributions_add_up_to_the_layer(random_model, images):
    acts = all_activations(random_model, to_tensor(images[:1], MEAN, STD))
    conv = one_by_one_layers(random_model)[-1].module
    d = decompose(conv, acts["block3.relu2"][0].numpy(), acts["block3.conv3"][0].numpy(), 17)
    top = top_contributions(d, 6)
    assert top.channels.tolist() == d.order[:6].tolist()
    assert np.allclose(top.weights, weight_matrix(conv)[17, top.channels])
    assert np.allclose(top.maps, d.contributions[top.channels])
    assert np.allclose(top.total, d.actual, atol=1e-4)
    magnitude = np.abs(d.contributions).sum(axis=(1, 2))
    assert top.share == pytest.approx(magnitude[top.channels].sum() / magnitude.sum(), rel=1e-5)
    everything = top_contributions(d, 1000)
    assert len(everything.channels) == 128 and np.allclose(everything.rest, 0)
    assert everything.share == pytest.approx(1.0)


def test_cost_rows_against_the_lecture_example():
    rows = cost_rows([LECTURE_EXAMPLE] + [with_kernel(LECTURE_EXAMPLE, k) for k in (3, 5)])
    assert [r["convolution"] for r in rows] == ["1×1", "3×3", "5×5"]
    assert rows[0]["filters"] == "32 × 1×1×192"
    assert [r["parameters"] for r in rows] == [32 * 192 + 32, 32 * 192 * 9 + 32, 32 * 192 * 25 + 32]
    assert [r["multiply-adds"] for r in rows] == [4_816_896, 9 * 4_816_896, 25 * 4_816_896]
    assert [r["× the 1×1"] for r in rows] == [1, 9, 25]
    rows = cost_rows(list(compare_with_3x3(128, 128, 8, 8)))
    assert rows[1]["parameters"] == 128 * 128 * 9 + 128
    assert with_kernel(ConvCost(1, 3, 4, 5, 6), 7) == ConvCost(7, 3, 4, 5, 6)


# --- Figures ------------------------------------------------------------------------------------

def _spec(fig) -> dict:
    return json.loads(fig.to_json())


def test_one_by_one_figures_are_titled_and_diverging(random_model, images):
    conv = one_by_one_layers(random_model)[-1].module
    w = weight_matrix(conv)
    spec = _spec(weight_matrix_figure(w, "block3.conv3"))
    assert "block3.conv3" in spec["layout"]["title"]["text"] and "128×128" in spec["layout"]["title"]["text"]
    trace = spec["data"][0]
    assert trace["zmid"] == 0 and trace["zmin"] == -trace["zmax"]
    assert trace["colorbar"]["title"]["text"] == "weight"
    limit = float(np.abs(w).max())
    assert weight_scale(w) == ("weight", pytest.approx(-limit), pytest.approx(limit))
    assert _spec(weight_matrix_figure(w, "block3.conv3", bar=False))["data"][0]["showscale"] is False

    spec = _spec(input_weights_figure(w[5], "block3.conv3", 5, highlight=np.array([0, 3])))
    assert spec["data"][0]["y"] == pytest.approx(w[5].tolist())
    colours = spec["data"][0]["marker"]["color"]
    assert colours[1] == colours[2] != colours[0]

    acts = all_activations(random_model, to_tensor(images[:1], MEAN, STD))
    d = decompose(conv, acts["block3.relu2"][0].numpy(), acts["block3.conv3"][0].numpy(), 5)
    spec = _spec(contributions_figure(top_contributions(d, 6), "block3.conv3", "block3.relu2",
                                      (1, 128, 8, 8), 5))
    assert "block3.relu2 (1×128×8×8)" in spec["layout"]["title"]["text"].replace("<br>", " ")
    assert len(mosaic_panels(spec["data"][0]["z"])) == 8  # six weighted maps, the rest, the bias
    titles = spec["data"][1]["text"]
    assert titles[-2] == "other 122 maps,<br>summed" and titles[-1].startswith("bias<br>")
    assert spec["layout"]["coloraxis"]["cmid"] == 0
    assert spec["layout"]["coloraxis"]["colorbar"]["title"]["text"] == "contribution"

    spec = _spec(sum_check_figure(d.reconstructed, d.actual, "block3.conv3", (1, 128, 8, 8), 5))
    assert "Channel 5: sum by hand =<br>block3.conv3 (1×128×8×8)" == spec["layout"]["title"]["text"]


def test_prediction_figures(random_model, images):
    classes = tuple("abcdefghij")
    block = top_classes_html([(3, 0.5), (1, 0.3)], classes, 1, "Top-5")
    assert re.findall(r"<span>([a-j])</span>", block) == ["d", "b"]
    values = np.arange(16, dtype=np.float32).reshape(4, 4)
    spec = _spec(heatmap_overlay_figure(images[0], HeatMap("CAM", values, "block3.pool", (1, 128, 4, 4)),
                                        "<b>cat</b>", 0.4))
    assert "block3.pool (1×128×4×4)" in spec["layout"]["title"]["text"].replace("<br>", " ")
    assert "&lt;b&gt;cat" in spec["layout"]["title"]["text"]  # class names are shown literally
    heat = spec["data"][1]
    assert heat["opacity"] == 0.4 and heat["colorbar"]["title"]["text"] == "CAM (logit units)"


def test_overlay_with_constant_opacity():
    image = np.zeros((32, 32, 3), np.uint8)
    heat = np.zeros((32, 32), np.float32)
    heat[0, 0] = 1.0
    out = overlay(image, heat, 1.0, size=128)
    assert out.shape == (128, 128, 3) and out.dtype == np.uint8
    assert (out[:4, :4] == out[0, 0]).all()  # nearest-neighbour: one source pixel = 4×4 block
    assert out[0, 0].tolist() == [252, 255, 164]  # top of Inferno: pale yellow
    assert out[4, 4].tolist() == [0, 0, 4]  # bottom of Inferno: black
    assert (overlay(image + 100, heat, 0.0) == 100).all()  # opacity 0: just the image
    # A constant opacity: where the map is 0 the image is still tinted with the scale's bottom colour.
    grey = np.full((32, 32, 3), 100, np.uint8)
    assert overlay(grey, heat, 0.5)[4, 4].tolist() == [50, 50, 52]  # 0.5 × 100 + 0.5 × (0, 0, 4)
    with pytest.raises(ValueError, match="multiple"):
        overlay(image, heat[:7, :7], 0.5)


def test_image_heatmaps_is_one_result_for_the_page_and_its_slide(frozen_checkpoint, test_split):
    # The view's result object: three maps in METHODS order, and the CAM identity computed from it
    # equals the logit that a plain forward pass gives (independently of explain.heatmaps).
    import torch

    from explain.heatmaps import METHODS, image_heatmaps
    from model.inference import to_tensor

    model, meta = frozen_checkpoint.model, frozen_checkpoint.meta
    x = to_tensor(test_split.images[:1], meta["mean"], meta["std"])
    result = image_heatmaps(model, x, 3)
    assert [m.method for m in result.maps] == list(METHODS)
    assert result.of("Grad-CAM").layer == "block3.relu3" and result.of("CAM").shape == (1, 128, 4, 4)
    with torch.no_grad():
        logit = float(model(x)[0, 3])
    assert result.cam_logit == pytest.approx(logit, abs=1e-4)
