"""Every view's figures (render/*) built in one piece (or without Plotly's validation, for speed) must still be what
Plotly accepts: each builder's output is re-validated here by a full ``go.Figure(dict)``."""

import re

import numpy as np
import plotly.graph_objects as go
import pytest
from plotly.io.json import to_json_plotly

from explain.heatmaps import HeatMap
from explain.one_by_one import TopContributions
from render import common, convolution, feature_maps, heatmaps, one_by_one, semantic
from tests.conftest import mosaic_panels

RNG = np.random.default_rng(0)
IMAGE = RNG.integers(0, 256, (32, 32, 3), dtype=np.uint8)


def _contributions() -> TopContributions:
    maps = RNG.normal(size=(3, 8, 8)).astype(np.float32)
    return TopContributions(channels=[4, 1, 7], weights=[0.5, -0.25, 0.125], maps=maps,
                            rest=maps.sum(0), bias=0.1, share=0.75)


BUILDERS = {
    "image": lambda: common.image_figure(IMAGE, "t"),
    "heatmap": lambda: common.heatmap_figure(RNG.normal(size=(8, 8)), "t", "c", diverging=True),
    "overlay": lambda: common.overlay_figure(IMAGE, RNG.random((8, 8)), "t", 0.5, "c"),
    "feature_grid": lambda: feature_maps.feature_grid_figure(RNG.random((32, 16, 16)), list(range(32)), "t",
                                                        per_channel_scale=True),
    "semantic": lambda: semantic.semantic_figure(IMAGE, np.arange(16).reshape(4, 4) % 3 - 1,
                                                {0: "a", 1: "<b>b</b>"}, "t", 0.5),
    "weight_matrix": lambda: one_by_one.weight_matrix_figure(RNG.normal(size=(16, 8)), "l"),
    "contributions": lambda: one_by_one.contributions_figure(_contributions(), "l", "in", (1, 8, 8, 8), 2),
    "sum_check": lambda: one_by_one.sum_check_figure(RNG.normal(size=(8, 8)), RNG.normal(size=(8, 8)),
                                                          "l", (1, 16, 8, 8), 2),
    "bar": lambda: common.bar_figure(["a", "b"], [0.25, 0.5], "t", "x", "y", colours=["#ff0000", "#00ff00"],
                                      hover="%{x}: %{y}", labels="%{y:.1%}", y_range=[0, 1], y_format=".0%"),
    "bar_plain": lambda: common.bar_figure([1, 2, 3], [4, 5, 6], "t", "x", "y"),
    "input_weights": lambda: one_by_one.input_weights_figure(RNG.normal(size=16), "l", 2, np.array([1, 3])),
    "heatmap_overlay": lambda: heatmaps.heatmap_overlay_figure(
        IMAGE, HeatMap("CAM", RNG.random((8, 8)), "block3.relu3", (1, 128, 8, 8)), "cat", 0.5),
    "signed_small": lambda: convolution.signed_map_figure(RNG.normal(size=(8, 8)), "a<br>b", 2.0),
    "signed_large": lambda: convolution.signed_map_figure(RNG.normal(size=(300, 300)), "t", 2.0),
    "photo": lambda: convolution.photo_figure(IMAGE, "a<br>b"),
    "grid_signed": lambda: convolution.grid_figure(np.array([[1.0, np.nan], [-2.0, 0.5]]), "a<br>b",
                                                           window=(0, 0, 1), frame=(0, 0, 2, 2), blank_text="0"),
    "grid_unsigned": lambda: convolution.grid_figure(np.arange(9.0).reshape(3, 3), "t", signed=False),
    "row": lambda: common.row_figure([convolution.photo_figure(IMAGE, "a<br>b"),
                                      convolution.signed_map_figure(RNG.normal(size=(8, 8)), "s", 2.0),
                                      convolution.grid_figure(np.eye(3), "g", window=(0, 0, 1))], [1, 1, 2]),
    "panels": lambda: common.panel_figure([[convolution.grid_figure(np.eye(2), "a")] * 2,
                                           [convolution.grid_figure(np.eye(2), "b")] * 2], bars="last"),
}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_figure_is_valid_plotly(name):
    fig = BUILDERS[name]()
    go.Figure(fig.to_dict())  # raises ValueError on any invalid property


def test_map_grid_is_one_mosaic_with_every_panel_named_above_it_on_one_scale():
    top = _contributions()
    fig = one_by_one.contributions_figure(top, "l", "in", (1, 8, 8, 8), 2, columns=4)
    heat, names = fig.data
    panels = mosaic_panels(heat.z)
    assert len(panels) == 5  # three maps, the rest, the bias, in order
    for shown, expected in zip(panels, [*top.maps, top.rest, np.full_like(top.rest, top.bias)]):
        np.testing.assert_allclose(shown, expected, rtol=1e-6)
    assert heat.coloraxis == "coloraxis" and fig.layout.coloraxis.cmid == 0
    # Names on two lines: a quarter of the page each (issue 11).
    assert names.text[0] == "+0.500 ×<br>map 4" and names.text[-2] == "other 5 maps,<br>summed"
    assert names.text[-1] == "bias<br>+0.100" and names.textposition == "top center"
    # Each name stands centred above its own panel, in the empty rows there.
    z = np.asarray(heat.z, dtype=np.float64)
    for x, y in zip(names.x, names.y):
        below = z[int(y + 0.5):, int(x)]
        assert np.isnan(z[int(y - 0.5), int(x)]) and not np.isnan(below[0])
    assert names.y[4] > names.y[3] and names.x[4] == names.x[0]  # the fifth starts the second row
    # Hovering names the cell of its panel, not of the mosaic.
    where = np.asarray(heat.customdata)
    first = np.argwhere(~np.isnan(z))[0]
    assert tuple(where[tuple(first)]) == (0, 0)


def test_row_figure_keeps_every_panel_its_values_shapes_scale_and_title():
    values = RNG.normal(size=(8, 8))
    panels = [convolution.photo_figure(IMAGE, "image"),
              convolution.signed_map_figure(values, "map", 2.0),
              convolution.grid_figure(np.eye(3), "grid", window=(1, 1, 1))]
    fig = common.row_figure(panels, [1, 1, 2])
    image, heat, cells = fig.data[0], fig.data[1], fig.data[2]
    assert [(t.xaxis, t.yaxis) for t in (image, heat, cells)] == [("x", "y"), ("x2", "y2"), ("x3", "y3")]
    np.testing.assert_allclose(np.asarray(heat.z), values)
    assert (heat.zmin, heat.zmax) == (-2.0, 2.0)
    np.testing.assert_allclose(np.asarray(cells.z), np.eye(3))
    (window,) = fig.layout.shapes
    assert (window.xref, window.yref, window.x0, window.y0) == ("x3", "y3", 0.5, 0.5)
    assert [a.text for a in fig.layout.annotations] == ["image", "map", "grid"]
    # Side by side, in order, inside [0, 1]; the third twice as wide as the first; the map's colour
    # bar between its panel and the next; square panels stay square (scaleanchor to their own x).
    d = [fig.layout[f"xaxis{i}" if i > 1 else "xaxis"].domain for i in (1, 2, 3)]
    assert 0 <= d[0][0] < d[0][1] < d[1][0] < d[1][1] < heat.colorbar.x < d[2][0] < d[2][1] <= 1
    assert (d[2][1] - d[2][0]) == pytest.approx(2 * (d[0][1] - d[0][0]))
    assert fig.layout.yaxis3.scaleanchor == "x3"


def test_panel_rows_stack_and_one_shared_bar_is_kept():
    maps = [convolution.signed_map_figure(RNG.normal(size=(4, 4)), f"m{i}", 1.0) for i in range(4)]
    fig = common.panel_figure([maps[:2], maps[2:]], bars="last")
    assert [t.showscale is not False for t in fig.data] == [False, True, False, True]  # None: shown
    assert fig.layout.yaxis3.domain[1] < fig.layout.yaxis.domain[0]  # the second row below the first
    assert [a.text for a in fig.layout.annotations] == ["m0", "m1", "m2", "m3"]


# Streamlit's Plotly theme rewrites the hex colours #000001…#000040 anywhere in a figure's JSON into
# its own palette (they are its placeholders): Inferno's "#000004" became a pink band (issue 11).
STREAMLIT_PLACEHOLDER = re.compile(r"#0000(0[1-9]|[1-3][0-9]|40)(?![0-9a-f])", re.IGNORECASE)


@pytest.mark.parametrize("name", list(BUILDERS))
def test_no_colour_that_streamlit_would_replace(name):
    # The figure's own data and layout: Streamlit's template (the default once streamlit is imported in
    # this process) carries the placeholders on purpose and is not ours.
    fig = BUILDERS[name]().to_dict()
    fig["layout"].pop("template", None)
    spec = to_json_plotly(fig)
    assert not STREAMLIT_PLACEHOLDER.search(spec), STREAMLIT_PLACEHOLDER.search(spec).group(0)


def test_the_placeholder_pattern_catches_inferno_as_plotly_spells_it():
    from plotly.colors import sequential

    assert STREAMLIT_PLACEHOLDER.search(sequential.Inferno[0])  # "#000004": the colour that turned pink
    assert not STREAMLIT_PLACEHOLDER.search("#0000ff") and not STREAMLIT_PLACEHOLDER.search("#000041")


def test_heat_map_scale_runs_from_black_to_pale_yellow_on_page_and_slide():
    import matplotlib

    scale = common.colorscale(common.OVERLAY_SCALE)
    assert scale[0] == (0.0, "rgb(0, 0, 4)") and scale[-1] == (1.0, "rgb(252, 255, 164)")
    # The slide's matplotlib map is the page's Plotly map: the same colour at every stop.
    cmap = matplotlib.colormaps[common.OVERLAY_CMAP]
    for position, colour in scale:
        expected = [int(v) for v in colour[4:-1].split(",")]
        assert [round(255 * c) for c in cmap(position)[:3]] == pytest.approx(expected, abs=1), position
    overlay = common.overlay_figure(IMAGE, RNG.random((8, 8)), "t", 0.5, "c").to_dict()
    assert tuple(map(tuple, overlay["data"][1]["colorscale"])) == scale


@pytest.mark.parametrize("height,width,expected", [
    (3, 512, (1, 160)),     # a 4000×20 banner's display copy: 3·160/512 = 0.94 → 1 row, not 0
    (512, 3, (160, 1)),
    (1, 512, (1, 160)), (512, 1, (160, 1)),
    (1, 1, (1, 1)),         # never enlarged
    (200, 300, (107, 160)),  # 200·160/300 = 106.7
    (100, 120, (100, 120)),  # already small enough: the same array
])
def test_thumbnail_fits_160_pixels_keeps_the_shape_and_never_empties_a_side(height, width, expected):
    image = RNG.integers(0, 256, (height, width, 3), dtype=np.uint8)
    thumb = common.thumbnail(image, 160)
    assert thumb.shape == (*expected, 3) and thumb.dtype == np.uint8
    if expected == (height, width):
        assert (thumb == image).all()


def test_display_pixels_enlarges_by_the_longer_side():
    assert common.display_pixels(np.zeros((32, 32, 3), np.uint8)).shape == (256, 256, 3)  # × 8
    assert common.display_pixels(np.zeros((1, 512, 3), np.uint8)).shape == (1, 512, 3)  # not 256 × 131,072
    assert common.display_pixels(np.zeros((3, 40, 3), np.uint8)).shape == (18, 240, 3)  # × 6


# --- Presentation mode at 1280 px (issue 11): nothing cut ------------------------------------------


def test_wrap_keeps_every_line_within_its_budget_and_every_word():
    title = "block3.conv3, output channel 0 = Σ weight × map of block3.relu2 (1×128×8×8) + bias"
    wrapped = common.wrap(title, 32)
    lines = wrapped.split("<br>")
    assert all(len(line) <= 32 for line in lines) and len(lines) == 3
    assert " ".join(lines) == title
    assert common.wrap("a<br>b c", 1) == "a<br>b<br>c"  # existing breaks kept
    assert common.wrap(title, None) == title
    assert common.title_top("one") == 60 and common.title_top("one<br>two") == 90


def test_narrow_titles_are_wrapped_with_room_above_the_plot():
    fig = common.titled(common.image_figure(IMAGE, ""), "Input: your photo: my_house.jpg", "1×3×32×32")
    assert fig.layout.title.text == "Input: your photo:<br>my_house.jpg<br>1×3×32×32"
    assert fig.layout.margin.t == 35 + 30 * 3
    overlay = heatmaps.heatmap_overlay_figure(
        IMAGE, HeatMap("channel sum", RNG.random((4, 4)), "block3.pool", (1, 128, 4, 4)), "cat", 0.5)
    assert overlay.layout.title.text == "Sum of all 128 maps<br>block3.pool<br>(1×128×4×4)"
    assert overlay.layout.margin.t >= common.title_top(overlay.layout.title.text)


def test_top_classes_html_bars_are_as_long_as_their_probability():
    block = heatmaps.top_classes_html([(3, 0.996), (5, 0.002)], tuple("abcdefghij"), 5, "Top<br><b>x</b>", size=20)
    assert "font-size:20px" in block and "Top<br>&lt;b&gt;x&lt;/b&gt;" in block  # titles shown literally
    widths = re.findall(r"width:([0-9.]+)%;min-width:2px;background:([^\"]+)", block)
    assert widths == [("99.60", common.NEUTRAL), ("0.20", common.TRUE_CLASS)]  # the true class in green
    assert re.findall(r">([0-9.]+%)</span>", block) == ["99.6%", "0.2%"] and 'title="d: 99.60%"' in block
    assert "green = the true class" in block
    assert "no true label" in heatmaps.top_classes_html([(3, 0.5)], tuple("abcdefghij"), None, "t")


def hand_made_atlas(layer: str = "block3.relu3"):
    """A channel atlas over three classes, its numbers chosen by hand."""
    from explain.atlas import ChannelAtlas

    empty = np.zeros(0)
    return ChannelAtlas(layer, 5, 128, empty.astype(int), empty, np.zeros((0, 8, 8)), empty,
                        class_means=np.array([0.5, 2.0, -1.0]), pool_counts=np.array([25, 50, 25]),
                        selectivity=0.6, where="centre", suggestion="b, centre")


def bar_rows(block: str) -> list[tuple[str, str, str, str]]:
    """(label, margin-left, width, written value) of each row of a render.common.bars_html block."""
    return re.findall(r"<span>([^<]*)</span><span[^>]*><span title=[^>]*margin-left:([0-9.]+)%;width:([0-9.]+)%"
                      r"[^>]*></span></span><span[^>]*>([^<]*)</span>", block)


def test_bars_start_at_zero_and_negative_ones_grow_left_of_a_middle_line():
    from render.atlas import class_means_html, selectivity_html

    means = class_means_html(hand_made_atlas(), ("a", "b", "c"), size=20)
    # One bar is negative: zero is the middle; 2.0, the longest, fills the right half.
    assert bar_rows(means) == [("a", "50.00", "12.50", "0.500"), ("b", "50.00", "50.00", "2.000"),
                               ("c", "25.00", "25.00", "-1.000")]
    assert "font-size:20px" in means and "calc(50% - 1px)" in means  # the zero line
    assert f"background:{common.POSITIVE}" in means.split("<span>b</span>")[1].split("<span>c</span>")[0]
    assert "Mean activation per class<br>block3.relu3, channel 5" in means
    shares = selectivity_html(hand_made_atlas(), ("a", "b", "c"))
    assert bar_rows(shares) == [("a", "0.00", "25.00", "25%"), ("b", "0.00", "50.00", "50%"),
                                ("c", "0.00", "25.00", "25%")]
    assert "calc(50%" not in shares and 'title="b: 50 / 100"' in shares
    assert "class selectivity 0.60" in shares


def test_vega_axis_labels_are_never_shortened():
    from render.home import confusion_spec, per_class_spec

    classes = ("airplane", "automobile", "bird")
    spec = per_class_spec(classes, [0.9, 0.96, 0.87], "t")
    assert spec["config"]["axis"]["labelLimit"] == 0  # Streamlit's theme would cut at 100 px: "automo…"
    cm = confusion_spec(np.eye(3, dtype=int), classes)
    assert cm["config"]["axis"]["labelLimit"] == 0
    assert cm["encoding"]["x"]["axis"]["labelOverlap"] is False and cm["encoding"]["y"]["axis"]["labelOverlap"] is False


def test_legend_html_shows_the_scale_its_ends_and_an_escaped_title():
    legend = common.legend_html("<b>CAM</b>", 2.47e-06, 0.2094, "Inferno", size=25)
    assert "font-size:25px" in legend and "&lt;b&gt;CAM&lt;/b&gt;" in legend
    # a lowest value within a thousandth of the span reads 0; three significant digits otherwise
    assert re.findall(r"<span>([^<]*)</span>", legend) == ["0", "0.209"]
    assert re.findall(r"<span>([^<]*)</span>", common.legend_html("t", -1.5, 1.5)) == ["-1.5", "1.5"]
    # the gradient runs through the scale's own colours, bottom (left) to top (right)
    stops = re.findall(r"(rgb\([^)]*\)) ([0-9.]+)%", legend)
    assert [c for c, _ in stops] == [c for _, c in common.colorscale("Inferno")]
    assert float(stops[0][1]) == 0.0 and float(stops[-1][1]) == 100.0
