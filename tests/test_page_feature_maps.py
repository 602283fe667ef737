"""AppTest of the Feature maps page against the real checkpoint and the real test images.

The checkpoint is a frozen copy in a temporary folder (the committed one may be rewritten by a
training run while the tests run), so every number the page shows can be checked here.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import PROJECT, plotly_array

PAGE = "pages/1_Feature_maps.py"
def make_app(page: str) -> AppTest:
    return AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=240).switch_page(page)


def charts(at) -> dict[str, dict]:
    """Plotly charts on the page by their key, as the JSON spec sent to the browser."""
    return {el.key: json.loads(el.proto.spec) for el in at.get("plotly_chart")}


def _labels(spec: dict) -> dict:
    """The grid's channel numbers: its one text trace (x, y of each tile's top-left corner, text)."""
    (labels,) = [t for t in spec["data"] if t.get("mode") == "text"]
    return labels


def title(spec: dict) -> str:
    return spec["layout"]["title"]["text"]


CLOSE_UP = ("input", "map", "overlay")  # the panels of the channel's close-up row, left to right


def close_up(figs: dict, panel: str) -> tuple[str, dict]:
    """(title, first trace) of one panel of the close-up row (``fm_channel_row``): "input", "map",
    "overlay"."""
    row = figs["fm_channel_row"]
    n = CLOSE_UP.index(panel)
    axis = "x" if n == 0 else f"x{n + 1}"
    return row["layout"]["annotations"][n]["text"], next(t for t in row["data"] if t.get("xaxis", "x") == axis)


def markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def warnings(at) -> str:
    return "\n".join(w.value for w in at.warning)


@pytest.fixture
def app(page_env):
    return make_app(PAGE)


def test_default_view_names_layer_shape_and_channel(app, acts_of):
    app.query_params["image"] = "3"
    at = app.run()
    assert not at.exception
    assert at.selectbox(key="fm_layer").value == "block1.relu1"
    figs = charts(at)
    assert set(figs) == {"fm_grid", "fm_channel_row"}
    assert title(figs["fm_grid"]).startswith("block1.relu1: all 32 channels (1×32×32×32)")
    assert "Input: test #3" in close_up(figs, "input")[0]
    assert "Block 1 — strokes" in markdown(at)
    assert "each position sees a 3×3-pixel window of the input (position i covers input rows and " \
           "columns i − 1 … i + 1)" in markdown(at)
    # The enlarged channel defaults to the one whose mean inside the map (central 24×24: a ring of 4
    # of 32 positions set apart) most exceeds its mean on that ring, and the page says why.
    maps = acts_of(3)["block1.relu1"].astype(np.float64)
    inside = maps[:, 4:28, 4:28].sum(axis=(1, 2))
    border = (maps.sum(axis=(1, 2)) - inside) / (32 * 32 - 24 * 24)
    strongest = int(np.argmax(inside / (24 * 24) - border))
    assert strongest != int(np.argmax(maps.max(axis=(1, 2))))  # not the old default, on this image
    assert at.number_input(key="fm_channel").value == strongest
    reason = [c.value for c in at.caption if c.value.startswith("Channel ")]
    expected = (f"Channel {strongest} was picked for you: its mean inside the map ({inside[strongest] / 576:.2f}) "
                f"is the most above its mean on the 4-position border ({border[strongest]:.2f}), where the "
                "zero padding shows.")
    assert reason == [expected]
    # Titles wrapped at 20 characters: a third of the page at 1280 px in presentation mode.
    assert close_up(figs, "map")[0] == f"Channel {strongest}<br>one 32×32 map of<br>1×32×32×32"
    assert close_up(figs, "overlay")[0] == f"Over the input<br>0 clear, {maps[strongest].max():.2f} yellow"
    one = maps[strongest]
    assert f"mean **{one.mean():.3f}**, max **{one.max():.3f}**" in markdown(at)
    assert at.query_params["layer"] in ("block1.relu1", ["block1.relu1"])
    assert at.query_params["channel"] in (str(strongest), [str(strongest)])
    # Layer labels show block, layer and shape.
    options = at.selectbox(key="fm_layer").options
    assert "block2 · relu3 — 1×64×16×16" in options and "block3 · pool — 1×128×4×4" in options
    assert len(options) == 27


def test_changing_the_layer_changes_the_grid(app):
    at = app.run()
    before = charts(at)["fm_grid"]
    at.selectbox(key="fm_layer").set_value("block3.conv3").run()
    assert not at.exception
    after = charts(at)["fm_grid"]
    assert after != before
    assert title(after).startswith("block3.conv3: all 128 channels (1×128×8×8)")
    assert "Block 3 — what is where" in markdown(at)
    # As wide as the image is not the image: the page says where each window lies (issue 11).
    assert "a 32×32-pixel window, as wide as the image but centred on the position (position i covers " \
           "input rows and columns 4i − 14 … 4i + 17)" in markdown(at)
    assert "no single position sees the whole image" in markdown(at)
    assert "sees the whole 32×32 image" not in markdown(at)
    assert at.number_input(key="fm_channel").max == 127
    assert at.query_params["layer"] in ("block3.conv3", ["block3.conv3"])


def test_sorting_puts_channels_in_the_order_of_their_numbers(app, acts_of):
    app.query_params["image"] = "12"
    at = app.run()
    at.selectbox(key="fm_layer").set_value("block2.relu2").run()

    def tile_labels(at) -> list[int]:
        return [int(t) for t in _labels(charts(at)["fm_grid"])["text"]]

    assert tile_labels(at) == list(range(64))
    maps = acts_of(12)["block2.relu2"]
    at.radio(key="fm_sort").set_value("max activation").run()
    assert not at.exception
    by_max = tile_labels(at)
    assert by_max == np.argsort(-maps.max(axis=(1, 2)), kind="stable").tolist()
    assert all(maps[a].max() >= maps[b].max() for a, b in zip(by_max, by_max[1:]))
    at.radio(key="fm_sort").set_value("mean activation").run()
    by_mean = tile_labels(at)
    means = maps.mean(axis=(1, 2))
    assert all(means[a] >= means[b] - 1e-6 for a, b in zip(by_mean, by_mean[1:]))
    assert by_mean != by_max
    assert "by mean activation" in title(charts(at)["fm_grid"])


def test_colour_scale_toggle_rescales_every_tile(app):
    at = app.run()
    shared = charts(at)["fm_grid"]
    assert shared["data"][0]["colorbar"]["title"]["text"] == "activation"
    at.radio(key="fm_scale").set_value("per channel").run()
    assert not at.exception
    per_channel = charts(at)["fm_grid"]
    assert per_channel["data"][0]["colorbar"]["title"]["text"] == "per-channel 0–1"
    assert per_channel["data"][0]["z"] != shared["data"][0]["z"]
    assert "per channel colour scale" in title(per_channel)


def test_choosing_a_channel_enlarges_it_and_goes_in_the_url(app):
    at = app.run()
    at.number_input(key="fm_channel").set_value(5).run()
    assert not at.exception
    assert close_up(charts(at), "map")[0].startswith("Channel 5<br>")
    assert "Channel 5 of block1.relu1, beside the input" in [s.value for s in at.subheader]
    assert at.query_params["channel"] in ("5", ["5"])


def test_url_opens_layer_and_channel(app):
    app.query_params["image"] = "7"
    app.query_params["layer"] = "block2.conv3"
    app.query_params["channel"] = "17"
    at = app.run()
    assert not at.exception and not at.warning
    assert at.selectbox(key="fm_layer").value == "block2.conv3"
    assert at.number_input(key="fm_channel").value == 17
    assert close_up(charts(at), "map")[0] == "Channel 17<br>one 16×16 map of<br>1×64×16×16"
    # A 1×1 convolution's output is signed: the enlarged map uses the diverging scale.
    assert close_up(charts(at), "map")[1]["zmid"] == 0


@pytest.mark.parametrize("param, value, notice", [
    ("layer", "nope", "Ignored `layer=nope` in the link: unknown layer"),
    ("layer", "classifier", "Ignored `layer=classifier`"),
    ("channel", "999", "Ignored `channel=999` in the link: block1.relu1 has channels 0–31"),
    ("channel", "abc", "Ignored `channel=abc`"),
    ("channel", "-1", "Ignored `channel=-1`"),
])
def test_bad_url_values_are_ignored_with_a_notice(app, param, value, notice):
    app.query_params[param] = value
    at = app.run()
    assert not at.exception
    assert notice in warnings(at)
    assert at.selectbox(key="fm_layer").value == "block1.relu1"
    assert 0 <= at.number_input(key="fm_channel").value < 32


def test_channel_beyond_a_smaller_layer_falls_back(app):
    app.query_params["layer"] = "block3.relu3"
    app.query_params["channel"] = "100"
    at = app.run()
    assert at.number_input(key="fm_channel").value == 100
    at.selectbox(key="fm_layer").set_value("block1.conv1").run()
    assert not at.exception
    channel = at.number_input(key="fm_channel").value
    assert 0 <= channel < 32
    assert close_up(charts(at), "map")[0] == f"Channel {channel}<br>one 32×32 map of<br>1×32×32×32"


def test_every_tile_links_to_its_channels_atlas_page(app):
    """Each mosaic tile's channel reaches /Channel?layer=…&channel=…, in the mosaic's order, and a
    link opens the atlas page of that channel of that layer."""
    import re
    from urllib.parse import parse_qs, urlsplit

    app.query_params["image"] = "12"
    app.query_params["layer"] = "block3.relu3"
    at = app.run()
    at.radio(key="fm_sort").set_value("max activation").run()
    assert not at.exception
    tiles = [int(t) for t in _labels(charts(at)["fm_grid"])["text"]]
    assert len(tiles) == 128 and tiles != list(range(128))
    line = next(m.value for m in at.markdown if m.value.startswith("Open a channel in the atlas"))
    links = re.findall(r"\[(\d+)\]\(([^)]+)\)", line)
    assert [int(text) for text, _ in links] == tiles
    for text, url in [links[0], links[1], links[57], links[-1]]:
        parts = urlsplit(url)
        assert parts.path == "Channel"
        # The current image travels along: the link opens a new tab, a session of its own.
        assert parse_qs(parts.query) == {"layer": ["block3.relu3"], "channel": [text], "image": ["12"]}
    # The target of one link, opened: the atlas page of that channel.
    atlas = make_app("pages/8_Channel.py")
    for key, values in parse_qs(urlsplit(links[57][1]).query).items():
        atlas.query_params[key] = values[0]
    atlas.run()
    assert not atlas.exception and not atlas.warning
    assert atlas.selectbox(key="ch_layer").value == "block3.relu3"
    assert atlas.number_input(key="ch_channel").value == int(links[57][0])
    assert atlas.session_state["current_image"] == 12


def test_presenting_sizes_the_grid_by_the_screen(page_env, acts_of):
    """present=1 on block 2 (64 channels): 12 tiles a row, one per channel, in channel order, the
    figure's height left to the browser (the CSS aspect ratio 12 / (6 + 1.3))."""
    at = make_app(PAGE)
    at.query_params.update(present="1", layer="block2.relu3")
    at.run()
    assert not at.exception
    grid = charts(at)["fm_grid"]
    labels = _labels(grid)
    assert [int(t) for t in labels["text"]] == list(range(64))
    corners = set(zip(plotly_array(labels["x"]).tolist(), plotly_array(labels["y"]).tolist()))
    assert len({x for x, _ in corners}) == 12 and len({y for _, y in corners}) == 6
    # 12 / (6 + 1.3) = 1.64: the container that sizes it asks for the nearest ratio the CSS knows, 1.6
    assert any(block_id.endswith("-fill_r16_fm_grid") for block_id in _block_ids(at.main))


def _block_ids(node):
    """The ids of the containers under ``node`` (a keyed container's id ends with its key)."""
    children = getattr(node, "children", None)
    if children is None:
        return
    block_id = getattr(getattr(node, "proto", None), "id", "")
    if block_id:
        yield block_id
    for index in sorted(children):
        yield from _block_ids(children[index])


def test_two_images_one_channel_on_one_colour_scale(page_env, acts_of):
    """compare=8324 beside image=3613 (the deck's dog and the cat it calls a dog): the chosen
    channel of block3.relu3 for both, labelled with true and predicted class, the same size, on
    one colour range spanning both maps (computed here from the model, not by the page)."""
    from tests.conftest import plotly_array

    at = make_app(PAGE)
    at.query_params.update(image="3613", compare="8324", layer="block3.relu3", channel="23")
    at.run()
    assert not at.exception
    a, b = charts(at)["fm_cmp_a"], charts(at)["fm_cmp_b"]
    maps = [acts_of(i)["block3.relu3"][23] for i in (3613, 8324)]
    low, high = min(float(m.min()) for m in maps), max(float(m.max()) for m in maps)
    for spec, expected, index in zip((a, b), maps, (3613, 8324)):
        heat = spec["data"][1]
        assert heat["zmin"] == pytest.approx(low, rel=1e-4) and heat["zmax"] == pytest.approx(high, rel=1e-4)
        assert np.allclose(plotly_array(heat["z"]), expected, atol=1e-4)
        assert title(spec).startswith(f"#{index}: true ")
        assert "Channel 23 of block3.relu3 (1×128×8×8)" in title(spec)
    assert "true dog, predicted dog" in title(a) and "true cat, predicted dog" in title(b)
    assert a["layout"]["height"] == b["layout"]["height"]
