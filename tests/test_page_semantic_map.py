"""AppTest of the Semantic map page against the real checkpoint and the real test images.

Names are written only beside a temporary copy of the checkpoint (CIFAR10_CHECKPOINT), never
beside model/checkpoint.pt.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from model.names import load_names, names_path
from render.semantic import channel_colour, swatch
from tests.conftest import CHECKPOINT
from tests.test_page_feature_maps import charts, make_app, markdown, title, warnings

PAGE = "pages/2_Semantic_map.py"
XSS = "<script>alert(1)</script>"


@pytest.fixture
def app(page_env):
    return make_app(PAGE)


@pytest.fixture
def relu3_scores(reference_predictions):
    """block3.relu3 channel maxima over the whole test set: the session's reference, computed in
    conftest with plain torch (this fixture used explain.testset.channel_max_scores, the very
    function the page uses, and recomputed all 10,000 images for this module alone)."""
    return reference_predictions.relu3_max


@pytest.fixture(autouse=True)
def real_names_file_untouched():
    real = names_path(CHECKPOINT)
    before = real.read_bytes() if real.exists() else None
    yield
    after = real.read_bytes() if real.exists() else None
    assert before == after, "a test wrote to the names file beside model/checkpoint.pt"


def legend(at):
    return at.dataframe[0].value


def thumbnails(at) -> list[str]:
    """Captions of the dataset-example thumbnails ("#1234 cat · max 3.21")."""
    captions = [img.caption for el in at.main.get("image") for img in el.proto.imgs]
    return [c for c in captions if c.startswith("#")]


def test_default_map_legend_and_examples(app, acts_of, relu3_scores, test_split):
    app.query_params["image"] = "3"
    at = app.run()
    assert not at.exception
    assert at.selectbox(key="sm_layer").value == "block3.relu3"
    fig = charts(at)["sm_map"]
    assert title(fig) == "Winning channel at each position<br>block3.relu3: 8×8 positions (1×128×8×8)"
    # The legend is the argmax map computed here: the 8 most frequent winners in their own (stable)
    # colours, largest share first, then one "other" row for the rest.
    maps = acts_of(3)["block3.relu3"]
    winner = maps.argmax(axis=0)
    counts = np.bincount(winner.ravel(), minlength=128)
    ranked = sorted(np.flatnonzero(counts), key=lambda c: (-counts[c], c))
    table = legend(at)
    assert table["channel"].tolist() == [f"#{c}" for c in ranked[:8]] + ["other"]
    np.testing.assert_allclose(table["share"][:8], counts[ranked[:8]] / 64)
    assert table["share"].iloc[8] == pytest.approx(counts[ranked[8:]].sum() / 64)
    assert f"the other {len(ranked) - 8} share grey" in " ".join(c.value for c in at.caption)
    assert table["colour"].tolist()[:8] == [swatch(channel_colour(c)) for c in ranked[:8]]
    assert not any(re.search(r"#[0-9A-Fa-f]{6}\b", str(v)) for v in table.to_numpy().ravel())  # no hex codes
    # Unnamed channels are labelled #number, one label per region of the 8×8 map ("other" unlabelled).
    cell_labels = {a["text"] for a in fig["layout"]["annotations"]}
    assert cell_labels == {f"#{c}" for c in ranked[:8]}
    top = int(ranked[0])
    assert at.selectbox(key="sm_channel").value == top
    assert at.query_params["channel"] in (str(top), [str(top)])
    # Dataset examples: the 12 test images where that channel's maximum is largest.
    expected = np.argsort(-relu3_scores[:, top], kind="stable")[:12]
    shown = [int(re.match(r"#(\d+) ", c).group(1)) for c in thumbnails(at)]
    # Six columns, filled row by row: the page lists column 0 (ranks 1 and 7) first, and so on.
    assert shown == [int(test_split.indices[expected[n]]) for col in range(6) for n in (col, col + 6)]
    first = expected[0]
    truth = test_split.classes[test_split.labels[first]]
    assert thumbnails(at)[0] == f"#{test_split.indices[first]} {truth} · max {relu3_scores[first, top]:.2f}"
    assert f"channel {top} of block3.relu3 fires most" in at.subheader[0].value


def test_changing_layer_and_opacity_changes_the_map(app):
    at = app.run()
    before = charts(at)["sm_map"]
    at.slider(key="sm_opacity").set_value(0.9).run()
    assert not at.exception
    opaque = charts(at)["sm_map"]
    assert opaque["data"] != before["data"] and title(opaque) == title(before)
    at.selectbox(key="sm_layer").set_value("block3.pool").run()
    assert not at.exception
    pooled = charts(at)["sm_map"]
    assert title(pooled) == "Winning channel at each position<br>block3.pool: 4×4 positions (1×128×4×4)"
    assert legend(at)["share"].sum() == pytest.approx(1.0)  # the top 8 and "other"
    assert "winning channels of block3.pool" in markdown(at)


def test_url_opens_layer_and_channel(app):
    app.query_params["image"] = "12"
    app.query_params["layer"] = "block3.conv3"
    app.query_params["channel"] = "5"
    at = app.run()
    assert not at.exception and not at.warning
    assert at.selectbox(key="sm_layer").value == "block3.conv3"
    assert at.selectbox(key="sm_channel").value == 5
    assert "channel 5 of block3.conv3" in at.subheader[0].value
    assert len(thumbnails(at)) == 12


@pytest.mark.parametrize("param, value, notice", [
    ("layer", "nope", "Ignored `layer=nope` in the link: unknown layer"),
    ("channel", "999", "Ignored `channel=999` in the link: block3.relu3 has channels 0–127"),
    ("channel", "abc", "Ignored `channel=abc`"),
])
def test_bad_url_values_are_ignored_with_a_notice(app, param, value, notice):
    app.query_params[param] = value
    at = app.run()
    assert not at.exception
    assert notice in warnings(at)
    assert at.selectbox(key="sm_layer").value == "block3.relu3"
    assert 0 <= at.selectbox(key="sm_channel").value < 128


def test_saving_a_name_writes_the_file_and_shows_it_as_text(app, page_env):
    at = app.run()
    top = int(legend(at)["channel"][0][1:])
    assert at.text_input(key="sm_name").value == ""
    at.text_input(key="sm_name").input(XSS)
    at.button(key="sm_save").click().run()
    assert not at.exception
    assert load_names(names_path(page_env)) == {"block3.relu3": {str(top): XSS}}
    assert any(f"Saved the name of channel {top} of block3.relu3" in s.value for s in at.success)
    assert not any("script" in s.value for s in at.success)  # messages never echo the name as markdown
    assert at.text_input(key="sm_name").value == XSS
    # The legend holds the name as plain text; the map cell shows it escaped (Plotly prints it literally).
    table = legend(at)
    assert table.loc[table["channel"] == f"#{top}", "name"].tolist() == [XSS]
    spec = json.dumps(charts(at)["sm_map"], ensure_ascii=False)
    assert "&lt;scrip<br>t&gt;ale…" in spec and "<script>" not in spec  # two short lines, shown literally
    assert f"{top} — “{XSS}”" in " ".join(at.selectbox(key="sm_channel").options)
    # Another channel: the field starts empty; saving an empty name removes a name.
    other = int(legend(at)["channel"][1][1:])
    at.selectbox(key="sm_channel").set_value(other).run()
    assert at.text_input(key="sm_name").value == ""
    at.text_input(key="sm_name").input("grass")
    at.button(key="sm_save").click().run()
    assert load_names(names_path(page_env))["block3.relu3"] == {str(top): XSS, str(other): "grass"}
    at.selectbox(key="sm_channel").set_value(top).run()
    assert at.text_input(key="sm_name").value == XSS
    at.text_input(key="sm_name").input("")
    at.button(key="sm_save").click().run()
    assert load_names(names_path(page_env)) == {"block3.relu3": {str(other): "grass"}}
    assert any("Removed the name" in s.value for s in at.success)


def test_a_stale_field_cannot_wipe_a_name_saved_in_another_browser(app, page_env):
    """Two sessions share the names file: B's field was filled before A saved; B's save of that
    (now stale) field must not remove or overwrite A's name, and B is told what happened."""
    a = app.run()
    b = make_app(PAGE).run()
    channel = a.selectbox(key="sm_channel").value
    assert b.selectbox(key="sm_channel").value == channel and b.text_input(key="sm_name").value == ""
    a.text_input(key="sm_name").input("ear")
    a.button(key="sm_save").click().run()
    b.button(key="sm_save").click().run()  # B never saw "ear": its empty field would remove it
    assert not b.exception
    assert load_names(names_path(page_env)) == {"block3.relu3": {str(channel): "ear"}}
    assert any("another browser" in e.value and "“ear”" in e.value for e in b.error)
    assert b.text_input(key="sm_name").value == "ear"
    b.text_input(key="sm_name").input("left ear")  # now B knows, and may change it
    b.button(key="sm_save").click().run()
    assert load_names(names_path(page_env)) == {"block3.relu3": {str(channel): "left ear"}}


def test_a_corrupt_names_file_is_a_warning_not_a_crash(app, page_env):
    names_path(page_env).write_text("{not json", encoding="utf-8")
    at = app.run()
    assert not at.exception
    assert "Channel names are not shown" in warnings(at)
    assert (legend(at)["name"] == "").all()


def test_show_button_makes_an_example_the_current_image(app):
    at = app.run()
    first = int(re.match(r"#(\d+) ", thumbnails(at)[0]).group(1))
    at.button(key=f"sm_pick_{first}").click().run()
    assert not at.exception
    assert at.number_input(key="image_picker").value == first
    assert at.query_params["image"] in (str(first), [str(first)])
    assert f"(#{first})" in " ".join(i.caption for el in at.main.get("image") for i in el.proto.imgs)


def _shares(maps: np.ndarray) -> dict[int, float]:
    """Share of the positions each channel wins (argmax over channels), computed here."""
    winners = maps.argmax(axis=0).ravel()
    return {int(c): float(np.mean(winners == c)) for c in np.unique(winners)}


def test_channel_picker_shows_the_new_layers_share_after_a_layer_change(app, acts_of):
    """The browser shows a select box's option text as last sent; unless the page sends the value
    again, channel 19 kept "wins 11% here" from block3.relu3 after switching to block2.relu3."""
    app.query_params["image"] = "0"
    at = app.run()
    box = at.selectbox(key="sm_channel")
    channel = box.value
    share3 = _shares(acts_of(0)["block3.relu3"])[channel]
    assert box.format_func(channel) == f"{channel} — wins {share3:.0%} here"

    at = at.selectbox(key="sm_layer").set_value("block2.relu3").run()
    assert not at.exception
    box = at.selectbox(key="sm_channel")
    assert box.value == channel  # the chosen channel is kept …
    share2 = _shares(acts_of(0)["block2.relu3"]).get(channel)
    expected = f"{channel} — wins {share2:.0%} here" if share2 else f"{channel}"
    assert expected != f"{channel} — wins {share3:.0%} here"  # the two layers disagree on this image
    # … and sent again with this layer's text, so the browser replaces what it showed.
    assert box.proto.set_value and box.proto.raw_value == expected

    at = at.number_input(key="image_picker").set_value(3).run()  # a new image: new shares too
    box = at.selectbox(key="sm_channel")
    share_new = _shares(acts_of(3)["block2.relu3"]).get(channel)
    assert box.proto.set_value
    assert box.proto.raw_value == (f"{channel} — wins {share_new:.0%} here" if share_new else f"{channel}")


def _png_pixels(spec: dict) -> np.ndarray:
    import base64
    import io

    from PIL import Image

    source = spec["data"][0]["source"]
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))).convert("RGB"))


def test_two_images_side_by_side_share_the_channel_colours(app, acts_of):
    """compare=8324 beside image=3613, fully opaque: a channel that wins the most positions in both
    images (counted here with numpy from the model's maps) has one colour on both maps; both maps
    have the same size and say each image's true and predicted class."""
    app.query_params.update(image="3613", compare="8324", layer="block3.relu3")
    at = app.run()
    at.slider(key="sm_opacity").set_value(1.0).run()
    assert not at.exception
    a, b = charts(at)["sm_cmp_a"], charts(at)["sm_cmp_b"]
    assert title(a).startswith("#3613: true dog, predicted dog") and title(b).startswith("#8324: true cat")
    assert a["layout"]["height"] == b["layout"]["height"]
    winners = [acts_of(i)["block3.relu3"].argmax(0) for i in (3613, 8324)]
    counts = [np.bincount(w.ravel(), minlength=128) for w in winners]
    top = [set(np.argsort(-c, kind="stable")[:3].tolist()) for c in counts]
    common = sorted(top[0] & top[1])
    assert common, "the two images share one of their three most frequent winners"
    colours = []
    for spec, w in zip((a, b), winners):
        pixels = _png_pixels(spec)
        cell = pixels.shape[0] // w.shape[0]
        r, c = np.argwhere(w == common[0])[0]
        colours.append(tuple(pixels[r * cell + cell // 2, c * cell + cell // 2]))
    assert colours[0] == colours[1]
    assert len(set(colours[0])) > 1  # a colour, not the grey of "other"
