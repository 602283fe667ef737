"""The interpretation maths, checked by numbers (hand-set weights where maths is worked by hand)."""

import json
import threading

import numpy as np
import pytest
import torch
from torch import nn

from explain.activations import all_activations, check_layer, layers, map_layers, output_shapes
from explain.heatmaps import channel_sum, class_activation_map, grad_cam, normalise, upsample
from explain.home import architecture_table
from explain.one_by_one import LECTURE_EXAMPLE, compare_with_3x3, decompose, weight_matrix
from explain.semantic import argmax_channel_map
from explain.testset import Predictions, channel_max_scores, top_k
from model.names import NamesFileError, clean_name, load_names, set_name
from render.home import markdown_table
from tests.conftest import random_eval_model


@pytest.fixture(scope="module")
def random_model():
    return random_eval_model(0)


def test_activations_cover_every_layer_with_lecture_shapes(random_model):
    shapes = output_shapes(random_model)
    assert shapes["block1.conv1"] == (1, 32, 32, 32)
    assert shapes["block1.pool"] == (1, 32, 16, 16)
    assert shapes["block2.conv3"] == (1, 64, 16, 16)
    assert shapes["block3.conv3"] == (1, 128, 8, 8)
    assert shapes["block3.pool"] == (1, 128, 4, 4)
    assert shapes["classifier"] == (1, 10)
    x = torch.randn(2, 3, 32, 32)
    acts = all_activations(random_model, x)
    with torch.no_grad():
        assert torch.allclose(acts["logits"], random_model(x), atol=1e-5)
        assert torch.allclose(acts["block3.pool"], random_model.features(x), atol=1e-5)
    assert len(map_layers(random_model)) == 8 * 3 + 3
    assert [i.name for i in layers(random_model)][-1] == "classifier"


def test_unknown_layer_lists_valid_names(random_model):
    with pytest.raises(ValueError, match=r"unknown layer 'block9.conv1'.*block1\.conv1"):
        check_layer(random_model, "block9.conv1")


def test_argmax_map_has_layer_size_and_indexes_channels(random_model):
    acts = all_activations(random_model, torch.randn(1, 3, 32, 32))
    a = acts["block3.conv3"][0].numpy()
    result = argmax_channel_map(a)
    assert result.channel.shape == (8, 8)
    assert result.channel.min() >= 0 and result.channel.max() < 128
    for y in range(8):
        for x in range(8):
            assert a[result.channel[y, x], y, x] == a[:, y, x].max()
            assert result.value[y, x] == a[:, y, x].max()
    assert abs(sum(s for _, s in result.shares) - 1.0) < 1e-9


def test_argmax_map_by_hand():
    a = np.zeros((3, 2, 2), np.float32)
    a[2, 0, 0] = 5
    a[1, 0, 1] = 1
    a[1, 1, 1] = 2
    a[0, 1, 0] = -1  # all negative at (1,0) except zeros: channel 1 and 2 are 0, tie → lowest (1)
    result = argmax_channel_map(a)
    assert result.channel.tolist() == [[2, 1], [1, 1]]
    assert result.shares == ((1, 0.75), (2, 0.25))
    with pytest.raises(ValueError):
        argmax_channel_map(np.zeros((3, 3)))


def test_one_by_one_by_hand():
    conv = nn.Conv2d(3, 2, 1)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[1.0, -2.0, 0.5], [0.0, 1.0, 0.0]]).view(2, 3, 1, 1))
        conv.bias.copy_(torch.tensor([0.25, 0.0]))
    x = np.arange(12, dtype=np.float32).reshape(3, 2, 2)
    with torch.no_grad():
        actual = conv(torch.from_numpy(x)[None])[0].numpy()
    d = decompose(conv, x, actual, 0)
    expected = 1 * x[0] - 2 * x[1] + 0.5 * x[2] + 0.25
    assert np.allclose(d.reconstructed, expected)
    assert d.max_abs_difference < 1e-5
    assert d.order.tolist() == [1, 2, 0]  # |-2·x1| > |0.5·x2| > |1·x0| in total
    assert weight_matrix(conv).shape == (2, 3)
    with pytest.raises(ValueError):
        weight_matrix(nn.Conv2d(3, 2, 3))


def test_one_by_one_reproduces_the_trained_layer(checkpoint, test_split):
    from model.inference import to_tensor

    model = checkpoint.model
    acts = all_activations(model, to_tensor(test_split.images[:1], checkpoint.meta["mean"],
                                            checkpoint.meta["std"]))
    for layer, previous in (("block2.conv3", "block2.relu2"), ("block3.conv3", "block3.relu2")):
        conv = check_layer(model, layer).module
        for out_channel in (0, 17, conv.out_channels - 1):
            d = decompose(conv, acts[previous][0].numpy(), acts[layer][0].numpy(), out_channel)
            assert d.max_abs_difference < 1e-4


def test_costs_of_one_by_one_against_three_by_three():
    one, three = compare_with_3x3(128, 128, 8, 8)
    assert one.parameters == 128 * 128 + 128
    assert three.parameters == 128 * 128 * 9 + 128
    assert three.multiply_adds == 9 * one.multiply_adds == 9 * 8 * 8 * 128 * 128
    # Lecture: 28×28×192 → 28×28×32 with 32 filters of 1×1×192.
    assert LECTURE_EXAMPLE.weights == 6144
    assert LECTURE_EXAMPLE.multiply_adds == 28 * 28 * 32 * 192 == 4_816_896


def test_cam_equals_its_definition_and_gives_the_logits(random_model):
    x = torch.randn(1, 3, 32, 32)
    acts = all_activations(random_model, x)
    features = acts["block3.pool"][0].numpy()
    w = random_model.classifier.weight.detach().numpy()
    b = random_model.classifier.bias.detach().numpy()
    for k in range(10):
        cam = class_activation_map(random_model.classifier, features, k)
        by_hand = sum(w[k, c] * features[c] for c in range(128))
        assert cam.shape == (4, 4)
        assert np.allclose(cam, by_hand, atol=1e-5)
        assert abs(cam.mean() + b[k] - float(acts["logits"][0, k])) < 1e-4


def test_channel_sum_and_gradcam_have_input_size_and_are_finite(random_model):
    x = torch.randn(1, 3, 32, 32)
    acts = all_activations(random_model, x)
    s = upsample(channel_sum(acts["block3.pool"][0].numpy()))
    assert s.shape == (32, 32) and np.isfinite(s).all()
    assert np.allclose(channel_sum(acts["block3.pool"][0].numpy()), acts["block3.pool"][0].sum(0).numpy(),
                       atol=1e-4)
    requires = [p.requires_grad for p in random_model.parameters()]
    g = grad_cam(random_model, x, 3)
    assert g.shape == (8, 8) and np.isfinite(g).all() and (g >= 0).all()
    assert upsample(g).shape == (32, 32)
    # The shared model is left as it was: mode, requires_grad, no gradients, no hooks.
    assert not random_model.training
    assert [p.requires_grad for p in random_model.parameters()] == requires
    assert all(p.grad is None for p in random_model.parameters())
    assert all(not m._forward_hooks and not m._backward_hooks for m in random_model.modules())


def test_gradcam_matches_its_definition(random_model):
    """ReLU(sum_c mean(dy/dA_c) * A_c) at block3.relu3, computed here by hand with autograd."""
    x = torch.randn(1, 3, 32, 32)
    h = x
    for info in layers(random_model):
        h = info.module(h)
        if info.name == "block3.relu3":
            a = h.detach().requires_grad_(True)
            h = a
    y = h[0, 5]
    (grad,) = torch.autograd.grad(y, a)
    expected = torch.relu((grad.mean(dim=(2, 3), keepdim=True) * a).sum(1))[0].detach().numpy()
    assert np.allclose(grad_cam(random_model, x, 5), expected, atol=1e-5)


def test_normalise():
    assert normalise(np.array([[1.0, 3.0]])).tolist() == [[0.0, 1.0]]
    assert normalise(np.ones((2, 2))).max() == 0


def test_top_k_really_are_the_k_largest():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(500, 4)).astype(np.float32)
    idx = top_k(scores, 2, 7)
    assert len(idx) == 7
    assert np.all(np.diff(scores[idx, 2]) <= 0)
    assert scores[idx, 2].min() >= np.sort(scores[:, 2])[-7]
    assert top_k(scores, 0, 10_000).shape == (500,)


@pytest.mark.parametrize("seed", range(6))
def test_top_k_is_a_stable_full_sort_cut_at_k(seed):
    """top_k sorts only the candidates: the answer is still the first k of a full stable sort, ties
    in position order, NaN never among the largest unless nothing else is left."""
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 4, size=(300, 3)).astype(np.float32)  # many ties
    if seed % 2:
        scores[rng.integers(0, 300, 20), 1] = np.nan
    column = scores[:, 1]
    order = sorted(range(300), key=lambda i: (np.isnan(column[i]), -np.nan_to_num(column[i]), i))
    for k in (0, 1, 5, 40, 299, 300, 400):
        assert top_k(scores, 1, k).tolist() == order[:k]


def test_channel_max_scores_match_activations(random_model):
    images = np.random.default_rng(1).integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    meta = {"mean": [0.5] * 3, "std": [0.25] * 3}
    scores = channel_max_scores(random_model, images, meta, "block2.relu2", batch_size=4)
    from model.inference import to_tensor
    acts = all_activations(random_model, to_tensor(images, meta["mean"], meta["std"]))
    assert scores.shape == (6, 64)
    assert np.allclose(scores, acts["block2.relu2"].amax(dim=(2, 3)).numpy(), atol=1e-5)


def test_confusion_matrix_counts():
    logits = np.eye(3, dtype=np.float32)[[0, 1, 2, 2, 0]]
    p = Predictions(logits, np.array([0, 1, 1, 2, 2]), np.arange(5))
    assert p.confusion_matrix(3).tolist() == [[1, 0, 0], [0, 1, 1], [1, 0, 1]]
    assert p.correct.tolist() == [True, True, False, True, False]


def test_architecture_table_totals(random_model):
    table = architecture_table(random_model)
    assert sum(r["parameters"] for r in table) == sum(p.numel() for p in random_model.parameters())
    row = next(r for r in table if r["layer"] == "block3.conv3")
    assert row["output (N×C×H×W)"] == "1×128×8×8" and row["parameters"] == 128 * 128 + 128
    md = markdown_table(table).splitlines()
    assert md[0] == "| layer | type | output (N×C×H×W) | parameters |"
    assert len(md) == 2 + len(table)
    assert "| block3.conv3 | Conv2d 1×1, 128→128 | 1×128×8×8 | 16,512 |" in md


def test_names_survive_concurrent_writers(tmp_path):
    path = tmp_path / "names.json"
    errors = []

    def writer(offset):
        try:
            for ch in range(offset, 40, 4):
                set_name(path, "block3.conv3", ch, f"name {ch}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    names = load_names(path)
    assert names["block3.conv3"] == {str(ch): f"name {ch}" for ch in range(40)}


def test_names_are_cleaned_and_corrupt_files_are_kept_aside(tmp_path):
    path = tmp_path / "names.json"
    assert clean_name("  <b>ear</b>\n\x00 ") == "<b>ear</b>"
    assert len(clean_name("x" * 500)) == 40
    set_name(path, "block1.conv1", 3, "edge")
    set_name(path, "block1.conv1", 3, "")
    assert load_names(path) == {}
    path.write_text("{not json")
    with pytest.raises(NamesFileError, match="corrupt"):
        load_names(path)
    set_name(path, "block1.conv1", 1, "stripes")
    assert json.loads(path.read_text()) == {"block1.conv1": {"1": "stripes"}}
    assert list(tmp_path.glob("names.json.corrupt-*"))


def test_gradcam_is_right_while_other_threads_use_the_same_model(random_model):
    """Streamlit serves every session from one model object: Grad-CAM for one session must not
    be disturbed by another session's forward passes (or another Grad-CAM) at the same time."""
    import threading

    import torch

    torch.manual_seed(1)
    xs = [torch.randn(1, 3, 32, 32) for _ in range(4)]
    expected = [grad_cam(random_model, x, i) for i, x in enumerate(xs)]
    errors, results = [], {}

    done = threading.Event()

    def explain(i):
        try:
            for _ in range(25):
                results[i] = grad_cam(random_model, xs[i], i)
                assert np.allclose(results[i], expected[i], atol=1e-5)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    def forward():
        with torch.no_grad():
            while not done.is_set():
                random_model(torch.randn(2, 3, 32, 32))

    explainers = [threading.Thread(target=explain, args=(i,)) for i in range(4)]
    forwards = [threading.Thread(target=forward) for _ in range(3)]
    for t in explainers + forwards:
        t.start()
    for t in explainers:
        t.join()
    done.set()
    for t in forwards:
        t.join()
    assert errors == []
    assert not random_model._forward_hooks and not random_model.block3.relu3._forward_hooks


def test_set_name_with_expected_refuses_a_stale_write(tmp_path):
    from model.names import NameConflict, load_names, set_name

    path = tmp_path / "names.json"
    set_name(path, "block3.relu3", 5, "ear", expected="")
    with pytest.raises(NameConflict) as caught:
        set_name(path, "block3.relu3", 5, "", expected="")  # saw no name, but "ear" is stored
    assert caught.value.current == "ear"
    assert load_names(path) == {"block3.relu3": {"5": "ear"}}
    set_name(path, "block3.relu3", 5, "paw", expected="ear")
    assert load_names(path) == {"block3.relu3": {"5": "paw"}}
    path.unlink()  # names gone (file deleted): a session that saw "ear" loses nobody's name by writing
    set_name(path, "block3.relu3", 5, "wheel", expected="ear")
    assert load_names(path) == {"block3.relu3": {"5": "wheel"}}


def test_one_by_one_view_is_the_weighted_sum_of_the_layers_input(frozen_checkpoint, test_split):
    # The 1×1 view's result object on the real network: the source is the layer before, the shapes
    # are the activations', and the weighted sum + bias reproduces the layer (checked here with numpy
    # on the raw weights, not with explain.one_by_one's own arithmetic).
    from explain.feature_maps import image_activations
    from explain.one_by_one import one_by_one_view

    model, meta = frozen_checkpoint.model, frozen_checkpoint.meta
    acts = {k: v[0] for k, v in image_activations(model, test_split.images[:1], meta).items()}
    view = one_by_one_view(model, acts, "block3.conv3", 5, k=6)
    assert view.source == "block3.relu2" and view.channel == 5
    assert view.in_shape == (1, *acts["block3.relu2"].shape) and view.out_shape == (1, *acts["block3.conv3"].shape)
    w = model.block3.conv3.weight.detach().numpy()[5, :, 0, 0]
    b = float(model.block3.conv3.bias.detach()[5])
    by_hand = np.tensordot(w, acts["block3.relu2"], axes=1) + b
    np.testing.assert_allclose(by_hand, acts["block3.conv3"][5], atol=1e-4)
    np.testing.assert_allclose(view.top.total, by_hand, atol=1e-4)
    assert len(view.top.channels) == 6
