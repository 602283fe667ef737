"""Issue 13: the channel atlas (explain/atlas.py, render/atlas.py, pages/8_Channel.py) against the real
checkpoint and test set; names are written only beside a temporary copy of the checkpoint."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from data.cifar10 import CIFAR10_CLASSES as CLASSES
from explain.atlas import (
    POOL,
    class_means,
    fire_mask,
    selectivity_index,
    suggest_name,
    top_class_counts,
    where_it_fires,
)
from model.names import load_names, names_path
from render.atlas import OUTLINE_RGB, outlined
from tests.conftest import CHECKPOINT, bars_shown
from tests.test_page_feature_maps import make_app, markdown, warnings

PAGE = "pages/8_Channel.py"
XSS = "<script>alert(1)</script>"


@pytest.fixture
def app(page_env):
    return make_app(PAGE)


@pytest.fixture(autouse=True)
def real_names_file_untouched():
    real = names_path(CHECKPOINT)
    before = real.read_bytes() if real.exists() else None
    yield
    assert (real.read_bytes() if real.exists() else None) == before


def captions(at) -> list[str]:
    return [i.caption for el in at.main.get("image") for i in el.proto.imgs if i.caption.startswith("#")]


# --- maths, by hand ----------------------------------------------------------------------------------

def test_class_means_selectivity_and_counts_by_hand():
    scores = np.array([[1.0, 0.0], [3.0, 2.0], [5.0, 2.0], [0.0, 2.0]])
    labels = np.array([0, 0, 1, 2])
    np.testing.assert_allclose(class_means(scores, labels, 0, 3), [2.0, 5.0, 0.0])
    assert selectivity_index(np.array([2.0, 5.0, 0.0])) == pytest.approx((5 - 1) / (5 + 1))
    assert selectivity_index(np.array([1.0, 1.0, 1.0])) == 0.0
    assert selectivity_index(np.array([0.0, 4.0, 0.0])) == 1.0
    assert selectivity_index(np.zeros(3)) == 0.0
    assert top_class_counts(scores, labels, 0, 3, pool=2).tolist() == [1, 1, 0]


def test_where_it_fires_and_the_suggestion():
    maps = np.zeros((3, 8, 8), np.float32)
    maps[:, 3:5, 3:5] = 1.0
    assert where_it_fires(maps) == "centre"
    top = np.zeros((2, 8, 8), np.float32)
    top[:, 0, 0:2] = 1.0
    assert where_it_fires(top) == "top left"
    assert where_it_fires(np.ones((2, 8, 8))) == "everywhere"
    classes = ["cat", "dog", "car"]
    assert suggest_name(classes, np.array([10, 80, 10]), "centre") == "dog, centre"
    assert suggest_name(classes, np.array([35, 40, 25]), "top") == "dog/cat, top"
    spread = suggest_name([*classes, "ship"], np.array([25, 25, 25, 25]), "everywhere")
    assert spread == "mixed classes, everywhere"


def test_outline_marks_where_it_fires():
    image = np.full((32, 32, 3), 200, np.uint8)
    heat = np.zeros((8, 8), np.float32)
    heat[2:4, 2:4] = 1.0
    mask = fire_mask(heat)
    assert mask.sum() == 4
    out = outlined(image, heat, 128)
    assert tuple(out[32, 40]) == OUTLINE_RGB          # the region's top edge
    assert (out[40, 40] == 200).all()                 # inside: unchanged
    assert (out[100, 100] < 200).all()                # outside: dimmed


# --- the page ----------------------------------------------------------------------------------------

def test_atlas_top_k_equals_an_independent_top_k(app, reference_predictions, test_split):
    app.query_params["layer"] = "block3.relu3"
    app.query_params["channel"] = "17"
    at = app.run()
    assert not at.exception and not at.warning
    assert at.selectbox(key="ch_layer").value == "block3.relu3"
    assert at.number_input(key="ch_channel").value == 17
    column = reference_predictions.relu3_max[:, 17]  # plain torch, computed in conftest
    expected = sorted(range(len(column)), key=lambda p: (-column[p], p))[:12]
    shown = [int(re.match(r"#(\d+) ", c).group(1)) for c in captions(at)]
    assert shown == [int(test_split.indices[expected[n]]) for col in range(6) for n in (col, col + 6)]
    (means_title, means), (shares_title, shares) = bars_shown(at)  # as written on the page
    labels = test_split.labels
    assert "Mean activation per class" in means_title and "block3.relu3, channel 17" in means_title
    assert [name for name, _ in means] == list(CLASSES)
    np.testing.assert_allclose([float(v) for _, v in means], [column[labels == k].mean() for k in range(10)],
                               atol=5e-4)  # written to three decimals
    pool = sorted(range(len(column)), key=lambda p: (-column[p], p))[:POOL]
    counts = np.bincount(labels[pool], minlength=10)
    assert f"Classes of its top {POOL} test images" in shares_title and "selectivity" in shares_title
    assert [v for _, v in shares] == [f"{c / POOL:.0%}" for c in counts]
    assert "Suggested" in markdown(at)
    # Links to the semantic maps where it wins.
    links = [el.proto for el in at.main.get("page_link")]
    assert all("Semantic_map" in link.page for link in links)


@pytest.mark.parametrize("param, value, notice", [
    ("layer", "nope", "Ignored `layer=nope` in the link: unknown layer"),
    ("channel", "128", "Ignored `channel=128` in the link: block3.relu3 has channels 0–127"),
    ("channel", "-1", "Ignored `channel=-1`"),
    ("channel", "x", "Ignored `channel=x`"),
])
def test_bad_layer_or_channel_in_the_url_is_reported(app, param, value, notice):
    app.query_params[param] = value
    at = app.run()
    assert not at.exception
    assert notice in warnings(at)
    assert at.selectbox(key="ch_layer").value == "block3.relu3"
    assert at.number_input(key="ch_channel").value == 0


def test_a_channel_of_a_smaller_layer_from_the_url(app):
    app.query_params["layer"] = "block1.relu1"
    app.query_params["channel"] = "31"
    at = app.run()
    assert not at.exception and not at.warning
    assert at.number_input(key="ch_channel").value == 31
    assert "channel 31 of block1.relu1 fires most" in at.subheader[0].value


def test_a_script_name_renders_as_text_and_names_can_be_accepted_edited_cleared(app, page_env):
    names_path(page_env).write_text(json.dumps({"block3.relu3": {"0": XSS}}), encoding="utf-8")
    at = app.run()
    assert not at.exception
    name_line = next(m.value for m in at.markdown if m.value.startswith("**Name:**"))
    assert "<script>" not in name_line and r"\<script\>" in name_line  # shown literally, never as HTML
    assert at.text_input(key="ch_name").value == XSS
    # Accept the suggestion.
    at.button(key="ch_accept").click().run()
    assert not at.exception
    suggestion = load_names(names_path(page_env))["block3.relu3"]["0"]
    assert suggestion != XSS and "," in suggestion
    # Edit, then clear.
    at.text_input(key="ch_name").input("left ear")
    at.button(key="ch_save").click().run()
    assert load_names(names_path(page_env)) == {"block3.relu3": {"0": "left ear"}}
    at.text_input(key="ch_name").input("")
    at.button(key="ch_save").click().run()
    assert load_names(names_path(page_env)) == {}


def test_conflict_protection_holds_on_the_atlas(app, page_env):
    a = app.run()
    b = make_app(PAGE).run()
    a.text_input(key="ch_name").input("ear")
    a.button(key="ch_save").click().run()
    b.button(key="ch_accept").click().run()  # B never saw "ear"
    assert not b.exception
    assert load_names(names_path(page_env)) == {"block3.relu3": {"0": "ear"}}
    assert any("another browser" in e.value for e in b.error)


def test_every_legend_entry_and_the_enlarged_feature_map_link_to_the_atlas(page_env):
    at = make_app("pages/2_Semantic_map.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["label"].iloc[-1].startswith("other (")
    for ch, url in zip(table["channel"], table["atlas"]):
        if ch == "other":
            assert url == ""  # no atlas page for "other"
        else:
            assert url.startswith(f"Channel?layer=block3.relu3&channel={ch[1:]}&image=")
    channel = at.selectbox(key="sm_channel").value
    links = [el.proto for el in at.main.get("page_link")]
    assert any(link.page == "Channel" and link.query_string.startswith(f"layer=block3.relu3&channel={channel}&image=")
               for link in links), [(link.page, link.query_string) for link in links]
    fm = make_app("pages/1_Feature_maps.py").run()
    channel = fm.number_input(key="fm_channel").value
    links = [el.proto for el in fm.main.get("page_link")]
    assert any(link.page == "Channel" and link.query_string.startswith(f"layer=block1.relu1&channel={channel}&image=")
               for link in links), [(link.page, link.query_string) for link in links]


# --- Starter names shipped with the checkpoint ---------------------------------------------------

def test_the_shipped_starter_names_cover_the_24_most_frequent_block3_winners(frozen_checkpoint, test_split):
    from explain.concepts import layer_outputs
    from model.names import starter_path

    starter = load_names(starter_path(CHECKPOINT))["block3.relu3"]
    counts = np.zeros(128, np.int64)
    for start in range(0, len(test_split.images), 1000):
        maps = layer_outputs(frozen_checkpoint.model, test_split.images[start:start + 1000],
                             frozen_checkpoint.meta, "block3.relu3")
        counts += np.bincount(maps.argmax(axis=1).ravel(), minlength=128)
    top24 = np.argsort(-counts, kind="stable")[:24]
    assert {str(c) for c in top24} <= set(starter), sorted(set(map(str, top24)) - set(starter))
    assert all(name.strip() and not name.startswith("#") for name in starter.values())
    # Each name was reviewed with both kinds of evidence; the review records it beside the names.
    review = json.loads(starter_path(CHECKPOINT).with_suffix(".review.json").read_text(encoding="utf-8"))
    assert review["layer"] == "block3.relu3"
    assert {c: r["name"] for c, r in review["channels"].items()} == starter
    assert all(r["evidence"] == ["top test images", "maximising input"] and r["seen"]
               for r in review["channels"].values())
    total = counts.sum()
    for rank, c in enumerate(top24, 1):
        entry = review["channels"][str(c)]
        assert entry["rank_as_winner"] == rank
        assert entry["share_of_positions_won"] == pytest.approx(counts[c] / total, abs=1e-4)


def test_starter_names_seed_the_shared_file_once_and_can_be_cleared(app, page_env):
    from model.names import seed_names, starter_path

    starter_path(page_env).write_text(json.dumps({"block3.relu3": {"0": "cat face", "5": "sky"}}))
    at = app.run()
    assert not at.exception
    assert load_names(names_path(page_env)) == {"block3.relu3": {"0": "cat face", "5": "sky"}}
    assert at.text_input(key="ch_name").value == "cat face"
    assert "“cat face”" in next(m.value for m in at.markdown if m.value.startswith("**Name:**"))
    at.text_input(key="ch_name").input("")  # the lecturer clears a starter name: it stays cleared
    at.button(key="ch_save").click().run()
    at.run()
    assert load_names(names_path(page_env)) == {"block3.relu3": {"5": "sky"}}
    assert at.text_input(key="ch_name").value == ""
    assert not seed_names(names_path(page_env), starter_path(page_env))  # never seeded twice


# --- Activation maximisation --------------------------------------------------------------------

RATIO = 2.0  # the maximising input beats the channel's best test image by at least this factor


def test_the_maximising_input_far_exceeds_the_best_test_image_and_is_deterministic(frozen_checkpoint,
                                                                                   reference_predictions):
    from explain.maximise import maximise_layer

    channels = [1, 63, 68, 114]
    model, meta = frozen_checkpoint.model, frozen_checkpoint.meta
    first = maximise_layer(model, meta, "block3.relu3", channels=channels)
    top1 = reference_predictions.relu3_max[:, channels].max(axis=0)
    assert (first.activation / top1 >= RATIO).all(), first.activation / top1
    # The reported activation is the saved picture's (uint8), recomputed independently here.
    import torch

    x = torch.from_numpy(first.images).permute(0, 3, 1, 2).float() / 255.0
    mean = torch.tensor(meta["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(meta["std"]).view(1, 3, 1, 1)
    with torch.no_grad():
        out = model.block3(model.block2(model.block1((x - mean) / std)))  # ends with pool3
    assert first.images.shape == (4, 32, 32, 3) and first.images.dtype == np.uint8
    # Max pooling keeps each map's largest value, so the pooled maximum is relu3's maximum.
    recomputed = out[torch.arange(4), torch.tensor(channels)].amax(dim=(1, 2)).numpy()
    np.testing.assert_allclose(recomputed, first.activation, rtol=1e-4)
    assert (recomputed / top1 >= RATIO).all()
    again = maximise_layer(model, meta, "block3.relu3", channels=channels)
    np.testing.assert_array_equal(again.images, first.images)
    other = maximise_layer(model, meta, "block3.relu3", channels=channels, seed=1)
    assert not np.array_equal(other.images, first.images)


def test_the_atlas_computes_the_maximising_inputs_on_request_and_says_their_cost(page_env, monkeypatch,
                                                                                  tmp_path):
    monkeypatch.setenv("CIFAR10_CACHE", str(tmp_path))
    app = make_app(PAGE)
    app.query_params.update({"layer": "block1.relu1", "channel": "3"})
    at = app.run()
    assert not at.exception
    assert any("Not computed yet for block1.relu1" in c.value for c in at.caption)
    at.button(key="ch_maximise").click().run(timeout=600)
    assert not at.exception
    shown = [i.caption for el in at.main.get("image") for i in el.proto.imgs
             if i.caption.startswith("Channel 3:")]
    assert len(shown) == 1 and "× its best test image" in shown[0]
    assert any("took" in c.value and "once per checkpoint and layer" in c.value for c in at.caption)
    assert list(tmp_path.glob("maximise-*-block1_relu1-*.npz"))
