"""AppTest of the "1×1 weights" page against the real checkpoint and the real test images.

The checkpoint is copied first: model/checkpoint.pt may be rewritten by a training run while
the tests run, and every number here must come from one and the same network.
"""

import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import PROJECT, mosaic_panels, shown
from tests.conftest import plotly_array as _array
from tests.conftest import plotly_charts as _charts

PAGE = str(PROJECT / "pages" / "3_1x1_weights.py")


@pytest.fixture
def app(page_env):
    return AppTest.from_file(PAGE, default_timeout=180)


def _markdown(at) -> str:
    """The page's Markdown and its subheadings (where the largest difference is printed)."""
    return "\n".join(m.value for m in [*at.markdown, *at.subheader])




def _title(spec: dict) -> str:
    """The title's text, its line breaks (wrapped to fit the column) read as spaces."""
    return spec["layout"]["title"]["text"].replace("<br>", " ")


def _max_difference(at) -> float:
    match = re.search(r"max \|difference\| = ([0-9.eE+-]+)", _markdown(at))
    assert match, "the page must print the largest difference"
    return float(match.group(1))


def _url(at, key: str) -> str:
    value = at.query_params[key]
    return value[0] if isinstance(value, list) else value


def _weights(checkpoint, layer: str) -> np.ndarray:
    from explain.activations import check_layer
    from explain.one_by_one import weight_matrix

    return weight_matrix(check_layer(checkpoint.model, layer).module)


def test_default_view_shows_block3_weighted_sum(app, frozen_checkpoint):
    at = app.run()
    assert not at.exception
    assert at.radio(key="ob_layer").value == "block3.conv3"
    assert at.number_input(key="ob_channel").value == 0
    text = _markdown(at)
    assert "Output channel 0 of block3.conv3, for test image #0" in [shown(h.value) for h in at.header]
    assert "**block3.relu2** (1×128×8×8)" in text
    assert 0 <= _max_difference(at) < 1e-4
    assert any("Equal up to floating-point rounding" in s.value for s in at.success)

    charts = _charts(at)
    assert "block2.conv3: weights 64×64×1×1" in _title(charts["ob_matrix_block2.conv3"])
    assert "block3.conv3: weights 128×128×1×1" in _title(charts["ob_matrix_block3.conv3"])
    matrix = charts["ob_matrix_block3.conv3"]["data"][0]
    assert matrix["zmid"] == 0 and matrix["showscale"] is False
    weights = _weights(frozen_checkpoint, "block3.conv3")
    assert np.allclose(_array(matrix["z"]), weights, atol=1e-6)
    # Colour scales as HTML legends (no Plotly colour bars): both matrices ± their largest |weight|,
    # the contributions ± their largest |value|, the check ± the layer's largest |output|.
    legends = [h.proto.body for h in at.get("html") if "linear-gradient" in h.proto.body]
    ends = [[float(v) for v in re.findall(r"<span>([-0-9.e+]+)</span>", legend)] for legend in legends]
    limits = [np.abs(_weights(frozen_checkpoint, "block2.conv3")).max(), np.abs(weights).max(),
              max(np.abs(p).max() for p in mosaic_panels(charts["ob_contributions"]["data"][0]["z"])),
              max(np.abs(p).max() for p in mosaic_panels(charts["ob_check"]["data"][0]["z"]))]
    assert ends == [[pytest.approx(-v, rel=5e-3), pytest.approx(v, rel=5e-3)] for v in limits]
    assert [">weight<" in legends[0], ">contribution<" in legends[2], ">output value<" in legends[3]] == [True] * 3
    bars = charts["ob_weights"]["data"][0]
    assert np.allclose(_array(bars["y"]), _weights(frozen_checkpoint, "block3.conv3")[0], atol=1e-6)
    assert "block3.relu2 (1×128×8×8)" in _title(charts["ob_contributions"])
    assert "sum by hand = block3.conv3 (1×128×8×8)" in _title(charts["ob_check"])
    assert _url(at, "layer") == "block3.conv3" and _url(at, "channel") == "0"


def test_cost_tables(app):
    at = app.run()
    ours, lecture = at.table[0].value, at.table[1].value
    assert ours["parameters"].tolist() == [128 * 128 + 128, 128 * 128 * 9 + 128]
    assert ours["multiply-adds"].tolist() == [8 * 8 * 128 * 128, 9 * 8 * 8 * 128 * 128]
    assert lecture["convolution"].tolist() == ["1×1", "3×3", "5×5"]
    assert lecture["filters"].tolist()[0] == "32 × 1×1×192"
    assert lecture["multiply-adds"].tolist() == [4_816_896, 43_352_064, 120_422_400]
    assert "28×28×192 → 28×28×32" in " ".join(s.value for s in at.subheader)


def test_changing_the_channel_changes_the_sum(app, frozen_checkpoint):
    at = app.run()
    before = _charts(at)
    at.number_input(key="ob_channel").set_value(17).run()
    assert not at.exception
    after = _charts(at)
    bars = _array(after["ob_weights"]["data"][0]["y"])
    assert np.allclose(bars, _weights(frozen_checkpoint, "block3.conv3")[17], atol=1e-6)
    for key in ("ob_weights", "ob_contributions", "ob_check"):
        assert after[key] != before[key], key
    # the matrices do not depend on the channel: the browser keeps them instead of redrawing
    for key in ("ob_matrix_block2.conv3", "ob_matrix_block3.conv3"):
        assert after[key] == before[key], key
    assert "output channel 17" in _title(after["ob_contributions"])
    assert _max_difference(at) < 1e-4
    assert _url(at, "channel") == "17"


def test_changing_the_layer_to_block2(app, frozen_checkpoint):
    at = app.run()
    at.number_input(key="ob_channel").set_value(100).run()  # beyond block 2's 64 channels
    at.radio(key="ob_layer").set_value("block2.conv3").run()
    assert not at.exception
    assert at.number_input(key="ob_channel").value == 63  # clamped, not an error
    assert "**block2.relu2** (1×64×16×16)" in _markdown(at)
    charts = _charts(at)
    assert "block2.relu2 (1×64×16×16)" in _title(charts["ob_contributions"])
    assert "sum by hand = block2.conv3 (1×64×16×16)" in _title(charts["ob_check"])
    bars = _array(charts["ob_weights"]["data"][0]["y"])
    assert np.allclose(bars, _weights(frozen_checkpoint, "block2.conv3")[63], atol=1e-6)
    assert at.table[0].value["parameters"].tolist() == [64 * 64 + 64, 64 * 64 * 9 + 64]
    assert _max_difference(at) < 1e-4
    assert _url(at, "layer") == "block2.conv3" and _url(at, "channel") == "63"


def test_changing_the_image_changes_the_maps_not_the_weights(app):
    at = app.run()
    before = _charts(at)
    at.number_input(key="image_picker").set_value(3).run()
    assert not at.exception
    after = _charts(at)
    assert after["ob_contributions"] != before["ob_contributions"]
    assert after["ob_matrix_block3.conv3"] == before["ob_matrix_block3.conv3"]
    assert "Output channel 0 of block3.conv3, for test image #3" in [shown(h.value) for h in at.header]


def test_url_state_is_adopted(app):
    app.query_params.update({"image": "3", "layer": "block2.conv3", "channel": "5"})
    at = app.run()
    assert not at.exception and not at.warning
    assert at.radio(key="ob_layer").value == "block2.conv3"
    assert at.number_input(key="ob_channel").value == 5
    assert "Output channel 5 of block2.conv3, for test image #3" in [shown(h.value) for h in at.header]
    assert _max_difference(at) < 1e-4


@pytest.mark.parametrize("params, shown", [
    ({"layer": "nope"}, "Ignored `layer=nope`"),
    ({"channel": "999"}, "Ignored `channel=999`"),
    ({"channel": "abc"}, "Ignored `channel=abc`"),
    ({"layer": "block2.conv3", "channel": "100"}, "Ignored `channel=100`"),  # block 2 has 64
])
def test_bad_url_values_are_ignored_with_a_notice(app, params, shown):
    app.query_params.update(params)
    at = app.run()
    assert not at.exception
    assert any(shown in w.value for w in at.warning)
    assert at.number_input(key="ob_channel").value == 0
    assert _max_difference(at) < 1e-4


def test_presenting_draws_both_weight_matrices_as_one_figure(app, frozen_checkpoint):
    """present=1: one screen-wide figure holds both 1×1 weight matrices (read here from the
    layers' own weight tensors); it does not change with the output channel, so the browser keeps it."""
    modules = dict(frozen_checkpoint.model.named_modules())
    app.query_params["present"] = "1"
    at = app.run()
    assert not at.exception
    charts = _charts(at)
    assert not any(key.startswith("ob_matrix_") for key in charts)
    row = charts["ob_matrices"]
    for trace, name in zip(row["data"], ("block2.conv3", "block3.conv3")):
        weights = modules[name].weight.detach().numpy()[:, :, 0, 0]
        assert np.allclose(_array(trace["z"]), weights, atol=1e-6)
    assert [shown(a["text"]).replace("<br>", " ") for a in row["layout"]["annotations"]] == [
        "block2.conv3: weights 64×64×1×1 (C_out×C_in)", "block3.conv3: weights 128×128×1×1 (C_out×C_in)"]
    at.number_input(key="ob_channel").set_value(5).run()
    assert not at.exception and _charts(at)["ob_matrices"] == row
