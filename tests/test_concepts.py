"""Issue 13: concept maps by NMF (explain/concepts.py) and their place on the Semantic map page."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explain.concepts import (
    as_rows,
    cached_concepts,
    compute_concepts,
    concept_map,
    fit_nmf,
    layer_outputs,
    strengths,
)
from tests.test_page_feature_maps import charts, make_app, warnings

ERROR_BOUND = 0.75  # relative Frobenius error ‖X − WH‖/‖X‖ of 6 concepts of block3.relu3 (measured: 0.64)


def test_nmf_recovers_a_planted_factorisation():
    rng = np.random.default_rng(0)
    w, h = rng.random((400, 3)), rng.random((3, 10))
    _, comp, error = fit_nmf(w @ h, 3)
    assert comp.shape == (3, 10) and (comp >= 0).all()
    assert error < 0.02


def test_rows_clip_negatives_and_keep_channel_columns():
    maps = np.arange(2 * 3 * 2 * 2, dtype=np.float32).reshape(2, 3, 2, 2) - 5
    rows = as_rows(maps)
    assert rows.shape == (8, 3) and (rows >= 0).all()
    assert rows[0].tolist() == [0.0, 0.0, 3.0]  # image 0, position (0, 0): channels 0, 1, 2 = -5, -1, 3


@pytest.fixture(scope="module")
def relu3_concepts(frozen_checkpoint, test_split):
    sample = np.arange(0, 10_000, 10)[:600]
    model, meta = frozen_checkpoint.model, frozen_checkpoint.meta
    maps = layer_outputs(model, test_split.images[sample], meta, "block3.relu3")
    return compute_concepts("block3.relu3", maps, test_split.labels, test_split.classes, 6, sample), maps


def test_concepts_reconstruct_the_layer_and_the_map_has_its_shape(relu3_concepts, acts_of):
    concepts, maps = relu3_concepts
    assert concepts.k == 6 and concepts.components.shape == (6, 128) and (concepts.components >= 0).all()
    assert concepts.rel_error < ERROR_BOUND
    # The stated error is the real one: recompute it from the strengths of every fitted position.
    x = as_rows(maps)
    w = np.concatenate([strengths(m, concepts.components).reshape(6, -1).T for m in maps])
    assert np.linalg.norm(x - w @ concepts.components) / np.linalg.norm(x) < ERROR_BOUND
    one = acts_of(16)["block3.relu3"]
    cmap = concept_map(one, concepts.components)
    assert cmap.shape == one.shape[1:] == (8, 8)
    assert cmap.min() >= 0 and cmap.max() < 6
    assert concepts.top.shape == (6, 8) and len(concepts.names) == 6


def test_concepts_are_cached_per_checkpoint_and_layer(frozen_checkpoint, test_split, tmp_path):
    args = (frozen_checkpoint.model, test_split.images, test_split.labels, test_split.classes,
            frozen_checkpoint.meta, "block3.pool")
    first = cached_concepts(*args, 4, frozen_checkpoint.sha256, tmp_path)
    files = list(tmp_path.glob("nmf-*-block3_pool-k4.npz"))
    assert len(files) == 1 and frozen_checkpoint.sha256[:16] in files[0].name
    never = lambda: pytest.fail("recomputed")  # noqa: E731
    again = cached_concepts(never, *args[1:], 4, frozen_checkpoint.sha256, tmp_path)
    np.testing.assert_array_equal(again.components, first.components)
    assert again.names == first.names and again.rel_error == first.rel_error and again.seconds == 0.0
    with pytest.raises(ValueError, match="k must be 4–12"):
        cached_concepts(*args, 3, frozen_checkpoint.sha256, tmp_path)


def test_semantic_page_shows_the_concept_map_beside_the_channel_map(page_env, monkeypatch, tmp_path):
    monkeypatch.setenv("CIFAR10_CACHE", str(tmp_path))
    app = make_app("pages/2_Semantic_map.py")
    app.query_params.update({"image": "16", "concepts": "1", "k": "5", "layer": "block3.pool"})
    at = app.run(timeout=300)
    assert not at.exception and not at.warning
    figs = charts(at)
    assert {"sm_map_channels", "sm_concept_map"} <= set(figs)
    assert figs["sm_concept_map"]["layout"]["title"]["text"].replace("<br>", " ").startswith(
        "Strongest of 5 concepts at each position block3.pool: 4×4 positions")
    table = at.dataframe[1].value
    assert table["concept"].tolist() == [f"C{j}" for j in range(5)]
    assert table["share"].sum() == pytest.approx(1.0)
    bad = make_app("pages/2_Semantic_map.py")
    bad.query_params.update({"concepts": "1", "k": "40", "layer": "block3.pool"})
    at = bad.run(timeout=300)
    assert "Ignored `k=40` in the link: use k from 4 to 12" in warnings(at)


def test_concept_names_are_saved_per_checkpoint_layer_and_k_and_shown_as_text(page_env, frozen_checkpoint,
                                                                              monkeypatch, tmp_path):
    """A concept's field starts with its suggested name; saving writes it beside the checkpoint under
    (checkpoint, layer, k); the table and the map show it as text; another browser's name is not
    overwritten; a fresh session reads it back; another k does not see it."""
    from model.names import concept_key, concept_names_path, load_names, set_name

    xss = "<script>alert(1)</script>"
    monkeypatch.setenv("CIFAR10_CACHE", str(tmp_path))
    app = make_app("pages/2_Semantic_map.py")
    app.query_params.update({"image": "16", "concepts": "1", "k": "5", "layer": "block3.pool"})
    at = app.run(timeout=300)
    assert not at.exception
    table = at.dataframe[1].value
    assert table["name"].tolist() == [""] * 5
    at.selectbox(key="sm_concept").set_value(2).run()
    assert at.text_input(key="smc_name").value == table["suggested name"][2]  # suggested, editable
    at.text_input(key="smc_name").input(xss)
    at.button(key="smc_save").click().run()
    assert not at.exception
    key = concept_key(frozen_checkpoint.sha256, "block3.pool", 5)
    assert key.startswith(frozen_checkpoint.sha256[:12])
    path = concept_names_path(page_env)
    assert load_names(path) == {key: {"2": xss}}
    assert any("Saved the name of concept C2 of block3.pool (k=5)" in s.value for s in at.success)
    assert not any("script" in s.value for s in at.success)
    assert at.dataframe[1].value["name"].tolist() == ["", "", xss, "", ""]
    spec = json.dumps(charts(at)["sm_concept_map"], ensure_ascii=False)
    assert "<script>" not in spec
    texts = [a["text"] for a in charts(at)["sm_concept_map"]["layout"]["annotations"]]
    assert "C2" not in texts and any(t.startswith("&lt;scrip") for t in texts)  # its name, literally
    # Another browser renames C2 meanwhile: this session's save is refused and shows theirs.
    set_name(path, key, 2, "dog face")
    at.text_input(key="smc_name").input("mine")
    at.button(key="smc_save").click().run()
    assert load_names(path) == {key: {"2": "dog face"}}
    assert any("Not saved: concept C2 of block3.pool (k=5) was given “dog face”" in e.value for e in at.error)
    assert at.text_input(key="smc_name").value == "dog face"
    # A fresh session reads it back; another k is another factorisation, without the name.
    again = make_app("pages/2_Semantic_map.py")
    again.query_params.update({"image": "16", "concepts": "1", "k": "5", "layer": "block3.pool"})
    again.run(timeout=300)
    assert again.dataframe[1].value["name"].tolist() == ["", "", "dog face", "", ""]
    again.slider(key="sm_k").set_value(4).run(timeout=300)
    assert not again.exception
    assert again.dataframe[1].value["name"].tolist() == [""] * 4
