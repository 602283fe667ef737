"""Feature-map and semantic-map helpers, checked by numbers."""

import numpy as np
import pytest
import torch

from explain.activations import all_activations, map_layers
from explain.feature_maps import (
    SORTS,
    channel_order,
    grid_shape,
    image_activations,
    layer_label,
    layer_note,
    screen_grid,
    telling_channel,
)
from explain.semantic import layer_names, rank_in_column, rank_of_score
from model.inference import to_tensor
from render.common import contrast_text, heatmap_figure, lut, overlay, titled, upscale
from render.semantic import map_label
from tests.conftest import random_eval_model

META = {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}


@pytest.fixture(scope="module")
def model():
    return random_eval_model(0)


# Channel means: 1.0, 3.0, 2.0, 3.0; channel maxima: 4.0, 3.0, 5.0, 3.0.
MAPS = np.array([
    [[4.0, 0.0], [0.0, 0.0]],
    [[3.0, 3.0], [3.0, 3.0]],
    [[5.0, 1.0], [1.0, 1.0]],
    [[3.0, 3.0], [3.0, 3.0]],
], dtype=np.float32)


def test_channel_order_by_index_mean_and_max():
    assert channel_order(MAPS, "channel index").tolist() == [0, 1, 2, 3]
    # Means 1, 3, 2, 3: largest first, the tie between channels 1 and 3 keeps 1 first.
    assert channel_order(MAPS, "mean activation").tolist() == [1, 3, 2, 0]
    # Maxima 4, 3, 5, 3.
    assert channel_order(MAPS, "max activation").tolist() == [2, 0, 1, 3]
    assert set(SORTS) == {"channel index", "mean activation", "max activation"}


def _hand_made_maps() -> np.ndarray:
    """8×8 maps: 0 a bright stripe along the bottom edge (what zero padding does to some early
    channels), 1 a moderate blob in the middle, 2 the same value everywhere, 3 nothing."""
    maps = np.zeros((4, 8, 8), dtype=np.float32)
    maps[0, 7, :] = 9.0
    maps[1, 3:5, 3:5] = 3.0
    maps[2] = 2.0
    return maps


def test_default_channel_is_a_central_blob_not_a_border_stripe():
    maps = _hand_made_maps()
    assert int(np.argmax(maps.max(axis=(1, 2)))) == 0  # the old default: the strongest single value
    pick = telling_channel(maps)
    assert pick.channel == 1
    # Ring of 1 position on an 8×8 map: inside is the central 6×6 (36 positions), border the other 28.
    assert pick.ring == 1
    assert pick.inside == pytest.approx(4 * 3.0 / 36) and pick.border == pytest.approx(0.0)
    assert pick.reason.startswith("Channel 1 was picked for you")
    assert "zero padding" in pick.reason and "0.33" in pick.reason
    # Uniform and empty channels score 0; the stripe scores 0 − 9·8/28 < 0.
    without_blob = maps[[0, 2, 3]]
    assert telling_channel(without_blob).channel == 1  # the uniform one (index 1 here): first of the zeros


def test_default_channel_ties_go_to_the_lower_channel_and_tiny_maps_use_the_mean():
    blob = _hand_made_maps()[1]
    assert telling_channel(np.stack([np.zeros_like(blob), blob, blob])).channel == 1
    tiny = np.array([[[1.0, 1.0], [1.0, 1.0]], [[3.0, 0.0], [0.0, 0.0]], [[2.0, 2.0], [2.0, 1.0]]])
    pick = telling_channel(tiny)
    assert (pick.channel, pick.ring, pick.inside) == (2, 0, pytest.approx(7 / 4))
    with pytest.raises(ValueError, match="C×H×W"):
        telling_channel(np.zeros((2, 2)))


def test_channel_order_handles_negative_values():
    maps = -np.arange(3, dtype=np.float32)[:, None, None] * np.ones((3, 2, 2), np.float32)  # 0, -1, -2
    assert channel_order(maps, "mean activation").tolist() == [0, 1, 2]
    assert channel_order(maps[::-1].copy(), "max activation").tolist() == [2, 1, 0]


def test_channel_order_refuses_bad_input():
    with pytest.raises(ValueError, match="C×H×W"):
        channel_order(np.zeros((2, 2)), "mean activation")
    with pytest.raises(ValueError, match="unknown sort"):
        channel_order(MAPS, "median")


def test_layer_label():
    assert layer_label("block2.relu3", (1, 64, 16, 16)) == "block2 · relu3 — 1×64×16×16"
    assert layer_label("block3.pool", (1, 128, 4, 4)) == "block3 · pool — 1×128×4×4"


@pytest.mark.parametrize("count, columns, rows", [(32, 8, 4), (64, 12, 6), (128, 16, 8), (5, 5, 1)])
def test_screen_grid_uses_fewer_columns_and_leaves_room_for_the_title(count, columns, rows):
    got_columns, ratio = screen_grid(count)
    assert got_columns == columns and columns * rows >= count > columns * (rows - 1)
    assert ratio == pytest.approx(columns / (rows + 1.3))


def test_grid_shape_gives_few_channels_big_tiles():
    assert grid_shape(32) == (8, 80 + 4 * 112)
    assert grid_shape(64) == (16, 80 + 4 * 56)
    assert grid_shape(128) == (16, 80 + 8 * 56)
    assert grid_shape(3) == (3, 80 + 160)  # tiles never larger than 160 px
    assert grid_shape(33, width=1600) == (16, 80 + 3 * 100)
    with pytest.raises(ValueError):
        grid_shape(0)


def test_titled_writes_lines_literally_with_room_for_them():
    fig = titled(heatmap_figure(np.zeros((2, 2)), "old", "activation"),
                 "block3.conv3, channel 5", "a <b>c</b>")
    assert fig.layout.title.text == "block3.conv3,<br>channel 5<br>a &lt;b&gt;c&lt;/b&gt;"  # 20 a line
    assert fig.layout.margin.t == 35 + 3 * 30
    assert titled(heatmap_figure(np.zeros((2, 2)), "old", "activation"), "block3.conv3, channel 5",
                  chars=None).layout.title.text == "block3.conv3, channel 5"
    assert fig.layout.title.font.size == 22  # the projector font is kept


def test_contrast_text():
    assert contrast_text("#FFFFFF") == "#000000"
    assert contrast_text("#F7E1A0") == "#000000"  # pale yellow
    assert contrast_text("#000000") == "#FFFFFF"
    assert contrast_text("#325A9B") == "#FFFFFF"  # dark blue


def test_layer_note_follows_the_lecture(model):
    assert "strokes" in layer_note(model, "block1.conv1")
    assert "5×5-pixel window" in layer_note(model, "block1.relu2")
    assert "parts" in layer_note(model, "block2.bn1")
    assert "what is where" in layer_note(model, "block3.relu3")
    # A field as wide as the image is not the image (issue 11): the one wording of explain.shapes.
    from explain.shapes import model_receptive_fields, what_a_position_sees

    fields = {f.layer: f for f in model_receptive_fields(model)}
    for name in ("block1.relu2", "block3.conv2", "block3.relu3", "block3.pool"):
        assert layer_note(model, name).endswith(f"each position sees {what_a_position_sees(fields[name])}.")
    assert "4i − 14 … 4i + 17" in layer_note(model, "block3.relu3")
    assert "whole 32×32 image" not in layer_note(model, "block3.relu3")
    assert "no single position sees the whole image" in layer_note(model, "block3.pool")
    assert "ReLU" in layer_note(model, "block3.relu3")
    with pytest.raises(ValueError):
        layer_note(model, "classifier")


def test_image_activations_match_the_network_and_leave_it_alone(model):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    acts = image_activations(model, images, META)
    assert list(acts) == [i.name for i in map_layers(model)]
    assert acts["block1.conv1"].shape == (3, 32, 32, 32)
    assert acts["block3.pool"].shape == (3, 128, 4, 4)
    reference = all_activations(model, to_tensor(images, META["mean"], META["std"]))
    np.testing.assert_allclose(acts["block2.relu3"], reference["block2.relu3"].numpy(), rtol=1e-6)
    # One image on its own gives the same maps as inside the batch (eval mode, no batch statistics).
    single = image_activations(model, images[1], META)
    np.testing.assert_allclose(single["block3.conv3"][0], acts["block3.conv3"][1], rtol=1e-4, atol=1e-5)
    assert not model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_overlay_keeps_the_image_where_the_map_is_zero():
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    heat = np.zeros((8, 8), np.float32)
    heat[0, 0] = -3.0  # negative counts as zero
    out = overlay(image, heat, 0.7, 128, vmax=2.0, fade=True)
    assert out.shape == (128, 128, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, upscale(image, 4))


def test_overlay_blends_the_top_colour_at_vmax():
    image = np.full((32, 32, 3), 100, np.uint8)
    heat = np.zeros((4, 4), np.float32)
    heat[1, 2] = 5.0  # above vmax: clipped to full strength
    out = overlay(image, heat, 0.5, 64, vmax=2.0, fade=True)
    expected = np.round(0.5 * 100 + 0.5 * lut()[-1]).astype(np.uint8)
    # Map cell (1, 2) covers rows 16..31, columns 32..47 of the 64×64 result.
    np.testing.assert_array_equal(out[16:32, 32:48], np.broadcast_to(expected, (16, 16, 3)))
    np.testing.assert_array_equal(out[:16], 100)
    # Half of vmax: alpha 0.25 and the middle colour of the scale.
    heat[1, 2] = 1.0
    half = overlay(image, heat, 0.5, 64, vmax=2.0, fade=True)[20, 40]
    mid = lut()[int(round(0.5 * (len(lut()) - 1)))]
    np.testing.assert_array_equal(half, np.round(0.75 * 100 + 0.25 * mid).astype(np.uint8))


def test_overlay_refuses_bad_shapes():
    with pytest.raises(ValueError):
        overlay(np.zeros((32, 32), np.uint8), np.zeros((8, 8)), 0.7, vmax=1.0, fade=True)
    with pytest.raises(ValueError, match="multiple"):
        overlay(np.zeros((32, 32, 3), np.uint8), np.zeros((8, 8)), 0.7, 100, vmax=1.0, fade=True)
    # A map that is zero everywhere (vmax 0) leaves the image as it is.
    img = np.full((32, 32, 3), 7, np.uint8)
    assert (overlay(img, np.zeros((8, 8)), 0.7, 32, vmax=0.0, fade=True) == 7).all()


def test_names_labels_and_legend_rows():
    names = {"block3.relu3": {"4": "ear", "17": "grass"}, "block2.relu1": {"0": "x"}}
    assert layer_names(names, "block3.relu3") == {4: "ear", 17: "grass"}
    assert layer_names(names, "block1.conv1") == {}
    assert map_label(7, None) == "#7"
    assert map_label(7, "") == "#7"
    assert map_label(7, "ear") == "ear"
    # Two lines of six characters at most: an 8×8 map's cell at 1280 px in presentation mode.
    assert map_label(7, "dog face") == "dog\nface"
    assert map_label(7, "background") == "backgr\nound"
    assert map_label(7, "front paw left") == "front\npaw l…"
    assert map_label(7, "<script>alert(1)</script>") == "<scrip\nt>ale…"


def test_rank_in_column():
    scores = np.array([[1.0, 9.0], [3.0, 0.0], [2.0, 5.0], [3.0, 1.0]])
    assert [rank_in_column(scores, 0, p) for p in range(4)] == [4, 1, 3, 1]
    assert [rank_in_column(scores, 1, p) for p in range(4)] == [1, 4, 2, 3]
    assert [rank_of_score(scores, 0, float(scores[p, 0])) for p in range(4)] == [4, 1, 3, 1]
    assert rank_of_score(scores, 0, 1e9) == 1 and rank_of_score(scores, 0, -1e9) == len(scores) + 1


def test_feature_maps_view_orders_ranks_and_refuses_a_missing_channel():
    from explain.feature_maps import feature_maps_view

    maps = np.zeros((4, 2, 2), np.float32)
    maps[2] = 3.0   # largest mean
    maps[0] = 1.0
    maps[3, 0, 0] = -5.0  # signed
    view = feature_maps_view(maps, "l", "mean activation", 3, per_channel_scale=False)
    assert view.order.tolist() == [2, 0, 1, 3]  # by mean, largest first (ties by index)
    assert view.rank == 4 and view.shape == (1, 4, 2, 2) and view.signed
    np.testing.assert_array_equal(view.one, maps[3])
    with pytest.raises(ValueError, match="channels 0–3"):
        feature_maps_view(maps, "l", "channel index", 4, per_channel_scale=False)


def test_semantic_view_holds_the_winners_and_this_layers_names():
    from explain.semantic import semantic_view

    maps = np.zeros((3, 2, 2), np.float32)
    maps[1] = 1.0
    maps[2, 0, 0] = 5.0  # channel 2 wins one position, channel 1 the other three
    view = semantic_view(maps, "block3.relu3", {"block3.relu3": {"1": "ear"}, "block2.relu3": {"2": "x"}})
    assert view.shape == (1, 3, 2, 2) and view.top == (1, 0.75)
    assert view.argmax.channel.tolist() == [[2, 1], [1, 1]]
    assert view.names == {1: "ear"}  # only this layer's names


def test_activations_of_some_layers_are_those_of_the_full_pass(checkpoint, test_split):
    """image_activations(only=...) stops the forward pass early and keeps fewer copies: the same numbers."""
    from explain.feature_maps import image_activations

    images = test_split.images[:5]
    full = image_activations(checkpoint.model, images, checkpoint.meta)
    some = image_activations(checkpoint.model, images, checkpoint.meta, only=("block2.relu3", "block1.pool"))
    assert set(some) == {"block2.relu3", "block1.pool"}
    for name, maps in some.items():
        np.testing.assert_array_equal(maps, full[name])
    with pytest.raises(ValueError):
        image_activations(checkpoint.model, images, checkpoint.meta, only=("no.such.layer",))
