"""Presentation mode, links to a view and the PNG export (ui/present.py).

First on a tiny page without model or data (tests/apps/present_page.py), then on the real pages.
"""

from __future__ import annotations

import io
import json
from urllib.parse import parse_qsl

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.conftest import PROJECT

TINY = str(PROJECT / "tests" / "apps" / "present_page.py")
EXPLANATION = "This sentence explains the page."


def tiny(**params) -> AppTest:
    at = AppTest.from_file(TINY, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def texts(at) -> list[str]:
    return [m.value for m in at.markdown]


def link(at) -> str:
    """The "Copy link to this view" address (the only code box, in the sidebar's popover)."""
    (code,) = at.sidebar.code
    return code.value


def decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


# --- The tiny page ------------------------------------------------------------------------

def test_off_by_default_explanations_shown_no_css():
    at = tiny()
    assert not at.exception
    assert at.toggle(key="present").value is False
    assert EXPLANATION in texts(at)
    assert not at.get("html")
    assert "present" not in at.query_params
    assert link(at) == "/?layer=a"
    assert json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["height"] == 300


def test_present_1_in_the_url_turns_it_on():
    at = tiny(present="1", layer="b")
    assert not at.exception
    assert at.toggle(key="present").value is True
    assert EXPLANATION not in texts(at)
    (css,) = at.get("html")
    assert "font-size: 22px" in css.proto.body and "stHeader" in css.proto.body
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["height"] == 420 and spec["layout"]["font"]["size"] == 25  # × 1.4
    assert link(at) == "/?present=1&layer=b"


def test_link_round_trip_restores_the_view():
    first = tiny(present="1", layer="b")
    query = link(first).split("?", 1)[1]
    params = dict(pair.split("=") for pair in query.split("&"))
    again = tiny(**params)
    assert again.toggle(key="present").value is True
    assert again.selectbox(key="layer").value == "b"
    assert link(again) == link(first)


def test_turning_it_off_removes_it_from_the_url_and_shows_explanations():
    at = tiny(present="1")
    at.toggle(key="present").set_value(False).run()
    assert not at.exception
    assert "present" not in at.query_params
    assert EXPLANATION in texts(at) and not at.get("html")
    assert link(at) == "/?layer=a"
    at.toggle(key="present").set_value(True).run()
    assert at.query_params["present"] == "1" and link(at) == "/?layer=a&present=1"


def test_bad_present_value_is_ignored_with_a_notice():
    at = tiny(present="<b>maybe</b>")
    assert not at.exception
    assert at.toggle(key="present").value is False
    assert "Ignored `present=<b>maybe</b>` in the link" in at.warning[0].value


def test_export_button_builds_only_on_demand():
    at = tiny(layer="b")
    (button,) = at.get("download_button")
    assert button.label == "Download this view as PNG"
    png = at.session_state["_export_test_export"]()
    pixels = decode(png)
    assert pixels.shape == (1080, 1920, 3)
    assert (np.all(pixels == (255, 0, 0), axis=-1)).sum() > 500_000  # the red image panel


def test_enlarge_scales_fonts_and_height_and_leaves_the_original():
    from render.common import enlarge
    from render.feature_maps import feature_grid_figure

    fig = feature_grid_figure(np.random.default_rng(0).random((8, 4, 4)), list(range(8)), "t", True)
    big = enlarge(fig, 1.5)
    assert big.layout.height == round(1.5 * fig.layout.height)
    assert big.layout.font.size == 27 and big.layout.title.font.size == 28  # 18 × 1.5, 22 × 1.25
    assert big.data[1].textfont.size == 21 and fig.data[1].textfont.size == 14  # the channel numbers
    assert enlarge(fig, 1) is fig


# --- The real pages ------------------------------------------------------------------------

PAGES = {  # page → (export button key, a sentence of its explanation, state its link must carry)
    "dashboard.py": ("export_home", "A convolutional network trained on the 60,000 CIFAR-10 images",
                     ["image=3"]),
    "pages/1_Feature_maps.py": ("export_fm", "Every convolution, BatchNorm, ReLU and pooling layer",
                                ["image=3", "layer=block1.relu1", "channel="]),
    "pages/2_Semantic_map.py": ("export_sm", "At every position of a layer, the channel with the largest",
                                ["image=3", "layer=block3.relu3", "channel="]),
    "pages/3_1x1_weights.py": ("export_ob", "A 1×1 filter over C input maps has C weights",
                               ["image=3", "layer=", "channel="]),
    "pages/4_Prediction_heatmaps.py": ("export_hm", "Lecture §6: adding up all 128 maps of block 3",
                                       ["image=3", "class=", "method="]),
    "pages/5_Convolution_playground.py": ("cv_export", "A convolution slides a small grid of weights",
                                          ["image=3", "kernel=", "pos="]),
    "pages/6_Shapes_and_parameters.py": ("export_shapes", "A filter always has as many channels as its input",
                                         []),  # (no image on this page; its calculator is not in links)
}


def page_app(page: str, **params) -> AppTest:
    at = AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=240)
    if page != "dashboard.py":
        at.switch_page(page)
    for key, value in params.items():
        at.query_params[key] = value
    return at


def all_markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


@pytest.mark.parametrize("page", list(PAGES))
def test_page_presents_links_and_exports(page_env, page):
    key, sentence, state = PAGES[page]
    at = page_app(page, image="3", present="1").run()
    assert not at.exception
    assert at.toggle(key="present").value is True
    assert sentence not in all_markdown(at)
    assert at.get("html"), "presentation CSS"
    url = link(at)
    assert "present=1" in url and all(s in url for s in state), url
    buttons = [b for b in at.get("download_button") if b.key == key]
    assert len(buttons) == 1 and buttons[0].label == "Download this view as PNG"
    assert decode(at.session_state[f"_export_{key}"]()).shape == (1080, 1920, 3)  # built on click

    at.toggle(key="present").set_value(False).run()
    assert not at.exception
    assert "present" not in at.query_params and "present" not in link(at)
    assert sentence in all_markdown(at)


@pytest.mark.parametrize("page", list(PAGES))
def test_the_switch_is_first_in_the_sidebar_on_every_page(page_env, page):
    """One place for the switch, so a lecturer finds it without looking (the playground drew it
    below the image controls): right under 한국어 / English, the first control of every sidebar."""
    at = page_app(page).run()
    assert not at.exception
    language, first = list(at.sidebar.children.values())[:2]
    assert language.key == "lang_switch"
    assert type(first).__name__ == "Toggle" and first.label == "Presentation mode" and first.key == "present"


def test_feature_maps_slide_is_built_from_the_pages_data(page_env, acts_of, test_split):
    at = page_app("pages/1_Feature_maps.py", image="3", layer="block2.relu2", channel="5").run()
    assert not at.exception
    build = at.session_state["_export_export_fm"]
    # The page hands the slide exactly what it shows: image #3's block2.relu2 maps, channel 5.
    view, image, name = build.args[:3]  # the view's one result object, as the page shows it
    assert (name, view.layer, view.shape, view.channel) == ("test #3 (airplane)", "block2.relu2", (1, 64, 16, 16), 5)
    np.testing.assert_array_equal(image, test_split.images[test_split.position_of(3)])
    np.testing.assert_allclose(view.maps, acts_of(3)["block2.relu2"], atol=1e-5)
    assert sorted(view.order.tolist()) == list(range(64))
    assert [b.key for b in at.get("download_button")] == ["export_fm"]
    pixels = decode(build())
    assert pixels.shape == (1080, 1920, 3)
    # Another channel gives another slide.
    at.number_input(key="fm_channel").set_value(6).run()
    assert at.session_state["_export_export_fm"]() != build()


def test_presenting_enlarges_the_pages_figures(page_env):
    heights = {}
    for present in ("0", "1"):
        at = page_app("pages/1_Feature_maps.py", image="3", present=present).run()
        specs = {el.key: json.loads(el.proto.spec) for el in at.get("plotly_chart")}
        # The channel up close (the grid above it is sized by the browser when presenting: fill_screen).
        heights[present] = specs["fm_channel_row"]["layout"]["height"]
        fonts = specs["fm_channel_row"]["layout"]["font"]["size"]
    assert heights["1"] == round(1.4 * heights["0"])
    assert fonts == round(1.4 * 18)


def test_presentation_mode_survives_switching_pages(page_env):
    at = page_app("pages/1_Feature_maps.py", image="3", present="1").run()
    assert at.toggle(key="present").value is True
    at.query_params.clear()  # a page switch in the browser drops the query string
    at.switch_page("pages/2_Semantic_map.py").run()
    assert not at.exception
    assert at.toggle(key="present").value is True
    assert at.query_params["present"] == "1" and "present=1" in link(at)
    at.toggle(key="present").set_value(False).run()
    at.switch_page("pages/1_Feature_maps.py").run()
    assert at.toggle(key="present").value is False and "present" not in at.query_params


ROUND_TRIP = {  # page → widgets set by hand (widget kind, key, value), as a lecturer would
    "pages/1_Feature_maps.py": [("selectbox", "fm_layer", "block3.relu3"),
                                ("number_input", "fm_channel", 17)],
    "pages/2_Semantic_map.py": [("selectbox", "sm_layer", "block2.relu2"), ("selectbox", "sm_channel", 5)],
    "pages/3_1x1_weights.py": [("radio", "ob_layer", "block2.conv3"), ("number_input", "ob_channel", 9)],
    # the gallery's method in its tab, then back to the heat maps ("tab": the state a click on a tab sets)
    "pages/4_Prediction_heatmaps.py": [("tab", "hm_view", "gallery"), ("radio", "hm_method", "cam"),
                                       ("tab", "hm_view", "maps"), ("selectbox", "hm_class", "truck")],
}


def set_value(at, kind: str, key: str, value):
    if kind == "tab":  # AppTest cannot click a tab (tests/browser does)
        at.session_state[key] = value
        return at.run()
    return getattr(at, kind)(key=key).set_value(value).run()


def value_of(at, kind: str, key: str):
    """A widget's value, or the kept state of a tab or of a widget in a closed tab."""
    drawn = [w for w in getattr(at, kind) if w.key == key] if kind != "tab" else []
    return drawn[0].value if drawn else at.session_state[key]


@pytest.mark.parametrize("page", list(ROUND_TRIP))
def test_the_link_reopens_the_same_view(page_env, page):
    at = page_app(page, image="7").run()
    at.toggle(key="present").set_value(True).run()
    for kind, key, value in ROUND_TRIP[page]:
        set_value(at, kind, key, value)
    assert not at.exception
    url = link(at)
    # A new session (another browser) opens the link: the same image, widgets and presentation mode.
    fresh = page_app(page, **dict(parse_qsl(url.split("?", 1)[1]))).run()
    assert not fresh.exception
    assert fresh.toggle(key="present").value is True
    assert fresh.number_input(key="image_picker").value == 7
    final = {key: (kind, value) for kind, key, value in ROUND_TRIP[page]}  # each key's last value
    for key, (kind, value) in final.items():
        assert value_of(fresh, kind, key) == value, key
    assert link(fresh) == url


def test_every_fill_ratio_has_its_css_rule():
    """ui.present.fill_screen names a container after the nearest of FILL_RATIOS; the constant CSS
    must size each of them (and nothing else)."""
    import re

    from ui.present import FILL_CSS, FILL_RATIOS

    rules = dict(re.findall(r'st-key-fill_r(\d+)_"\] \[data-testid="stElementContainer"\] \{ aspect-ratio: ([\d.]+);',
                            FILL_CSS))
    assert {int(k): float(v) for k, v in rules.items()} == {round(r * 10): r for r in FILL_RATIOS}
