"""AppTest of the "Shapes and parameters" page: presets give the lecture's shapes and counts,
bad sizes give an error, the architecture table has the published parameter counts."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from explain.shapes import PRESETS
from tests.conftest import PROJECT, plotly_array, shown

PAGE = str(PROJECT / "pages" / "6_Shapes_and_parameters.py")
EXERCISE, BATCH, CIFAR, ONE_BY_ONE = PRESETS


@pytest.fixture
def app(page_env):
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.run()
    assert not at.exception
    return at


def _markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _table(at, column: str):
    """The one table with a column called ``column``."""
    (frame,) = [t.value for t in at.table if column in t.value.columns]
    return frame


def test_default_is_the_lecture_exercise(app):
    assert not app.error
    chain = _table(app, "weight (F×C×k×k)")
    assert chain["output (N×C×H×W)"].tolist() == ["1×10×5×5", "1×20×3×3"]
    assert chain["weight (F×C×k×k)"].tolist() == ["10×3×3×3", "20×10×3×3"]
    assert chain["parameters"].tolist() == [280, 1820]
    assert chain["multiply-adds"].tolist() == [6750, 16200]
    m = _metrics(app)
    assert (m["Input"], m["Output"], m["Parameters (all layers)"]) == ("1×3×7×7", "1×20×3×3", "2,100")
    text = _markdown(app)
    assert "Weight **10×3×3×3** (F×C×k×k) = 270 weights, + 10 biases = **280 parameters**" in text
    assert "**1,820 parameters**" in text
    codes = text  # the formulas, as inline code in the page's Markdown
    assert "⌊(7 + 2·0 − 3) / 1⌋ + 1 = ⌊4 / 1⌋ + 1 = 5" in codes
    assert "⌊(5 + 2·0 − 3) / 1⌋ + 1 = ⌊2 / 1⌋ + 1 = 3" in codes


@pytest.mark.parametrize("preset,outputs,weights,parameters", [
    (BATCH, ["32×10×5×5", "32×20×3×3"], ["10×3×3×3", "20×10×3×3"], [280, 1820]),
    (CIFAR, ["32×32×32×32", "32×32×16×16"], ["32×3×3×3", "32×32×3×3"], [896, 9248]),
    (ONE_BY_ONE, ["1×32×28×28"], ["32×192×1×1"], [6176]),
])
def test_presets(app, preset, outputs, weights, parameters):
    app.selectbox(key="sh_preset").set_value(preset).run()
    assert not app.exception and not app.error
    chain = _table(app, "weight (F×C×k×k)")
    assert chain["output (N×C×H×W)"].tolist() == outputs
    assert chain["weight (F×C×k×k)"].tolist() == weights
    assert chain["parameters"].tolist() == parameters
    assert _metrics(app)["Output"] == outputs[-1]


def test_batch_multiplies_the_multiply_adds_only(app):
    app.selectbox(key="sh_preset").set_value(BATCH).run()
    chain = _table(app, "weight (F×C×k×k)")
    assert chain["multiply-adds"].tolist() == [32 * 6750, 32 * 16200]
    assert _metrics(app)["Input"] == "32×3×7×7"


def test_edit_a_layer_and_add_one(app):
    app.selectbox(key="sh_preset").set_value(CIFAR).run()
    app.number_input(key="sh_s0").set_value(2).run()  # stride 2: 32 → ⌊(32 + 2 − 3) / 2⌋ + 1 = 16
    app.number_input(key="sh_layers").set_value(3).run()  # default third layer: 8 filters 3×3, padding 1
    chain = _table(app, "weight (F×C×k×k)")
    assert chain["output (N×C×H×W)"].tolist() == ["32×32×16×16", "32×32×8×8", "32×8×8×8"]
    assert chain["weight (F×C×k×k)"].tolist()[-1] == "8×32×3×3"
    assert chain["parameters"].tolist()[-1] == 8 * 32 * 9 + 8
    assert chain["multiply-adds"].tolist()[0] == 32 * 3 * 9 * 16 * 16 * 32


@pytest.mark.parametrize("key,value,words", [
    ("sh_k1", 9, "Layer 2 (input 1×10×5×5): The 9×9 kernel is larger than the padded input"),
    ("sh_H", 0, "H (height) is 0"),
    ("sh_f0", 0, "the number of filters is 0"),
])
def test_bad_combination_shows_an_error(app, key, value, words):
    app.number_input(key=key).set_value(value).run()
    assert not app.exception
    assert len(app.error) == 1 and words in shown(app.error[0].value)
    assert not [t for t in app.table if "weight (F×C×k×k)" in t.value.columns]


def test_pooling_grids(app):
    charts = {el.key: json.loads(el.proto.spec) for el in app.get("plotly_chart")}
    z = {k: plotly_array(v["data"][0]["z"]).tolist() for k, v in charts.items() if k.startswith("sh_pool_")}
    assert len(z) == 8  # input, max, average, global average; 2 channels each
    assert z["sh_pool_0_0"] == [[1, 3, 2, 0], [5, 6, 1, 2], [7, 2, 9, 4], [0, 1, 3, 8]]
    assert z["sh_pool_1_0"] == [[6, 2], [7, 9]] and z["sh_pool_1_1"] == [[2, 6], [3, 8]]
    assert z["sh_pool_2_0"] == [[3.75, 1.25], [2.5, 6]] and z["sh_pool_2_1"] == [[1, 5], [2, 2]]
    assert z["sh_pool_3_0"] == [[3.375]] and z["sh_pool_3_1"] == [[2.5]]
    titles = {k: v["layout"]["title"]["text"] for k, v in charts.items() if k.startswith("sh_pool_")}
    assert titles["sh_pool_3_1"] == "channel 2 (1×1)"


def test_receptive_field_table(app):
    frame = _table(app, "jump (pixels)")
    rf = dict(zip(frame["layer"], frame["receptive field"]))
    assert rf["block1.conv1"] == "3×3" and rf["block1.conv2"] == "5×5" and rf["block1.pool"] == "6×6"
    assert rf["block2.conv1"] == "10×10" and rf["block3.pool"] == "36×36 (wider than the image)"
    assert rf["block3.conv2"] == "32×32 (as wide as the image)"
    assert rf["gap"] == "60×60 (whole image)" and rf["block3.conv1"] == "24×24"
    # Where each window lies: centred on its position, so part of it on the zero padding (issue 11).
    where = dict(zip(frame["layer"], frame["position i sees rows/columns"]))
    assert where["block1.conv1"] == "i − 1 … i + 1" and where["block1.pool"] == "2i − 2 … 2i + 3"
    assert where["block3.conv2"] == "4i − 14 … 4i + 17" and where["gap"] == "all"
    # The rule counts the pooling window too (5 → 6, 14 → 16, 32 → 36), and the caption under the
    # table says what a window as wide as the image sees.
    text = _markdown(app) + "\n".join(c.value for c in app.caption)
    assert "a 2×2 pooling adds 1·jump (5 → 6, 14 → 16, 32 → 36 here)" in text
    assert "At block3.conv2, one position sees a 32×32-pixel window, as wide as the image" in text
    assert "no single position sees the whole image" in text
    out = dict(zip(frame["layer"], frame["output (C×H×W)"]))
    assert out["block2.pool"] == "64×8×8" and out["gap"] == "128×1×1"


def test_architecture_table(app):
    frame = _table(app, "fully connected layers")
    counts = dict(zip(frame["network"], frame["parameters"]))
    assert counts == {"LeNet-5": 61_706, "AlexNet": 61_100_840, "VGG-16": 138_357_544,
                      "GoogLeNet": 6_624_904, "GoogLeNet + auxiliary classifiers": 13_004_888,
                      "This network": 310_250}
    convs = dict(zip(frame["network"], frame["conv layers"]))
    assert (convs["LeNet-5"], convs["AlexNet"], convs["VGG-16"], convs["This network"]) == (2, 5, 13, 8)
    # Which variant each count is, and the paper's network beside it where it differs (issue 11).
    original = dict(zip(frame["network"], frame["original network"]))
    assert original["LeNet-5"].startswith("60,000 (LeCun et al. 1998")
    assert original["AlexNet"].startswith("60,965,224 (Krizhevsky et al. 2012, two GPUs")
    assert original["GoogLeNet"].startswith("6,998,552 (Szegedy et al. 2014: real 5×5 convolutions, no BatchNorm")
    assert original["VGG-16"] == original["This network"] == "the same"
    variant = dict(zip(frame["network"], frame["variant counted"]))
    assert variant["AlexNet"] == "torchvision's one-GPU variant: 64, 192, 384, 256, 256 convolution channels"


def test_bottleneck_and_vgg(app):
    frame = _table(app, "way")
    assert frame["weights"].tolist() == [153_600, 15_872]
    assert frame["multiply-adds"].tolist() == [120_422_400, 12_443_648]
    app.number_input(key="sh_width").set_value(32).run()
    frame = _table(app, "way")
    assert frame["weights"].tolist() == [153_600, 192 * 32 + 25 * 32 * 32]
    stack = _table(app, "stacked 3×3")
    assert stack["stacked 3×3"].tolist() == ["2 × 3×3: 2·9·C² = 73,728",
                                             "3 × 3×3: 3·9·C² = 110,592"]
    app.number_input(key="sh_vgg_c").set_value(10).run()
    stack = _table(app, "stacked 3×3")
    assert stack["one large filter"].tolist() == ["one 5×5: 25·C² = 2,500", "one 7×7: 49·C² = 4,900"]


def test_values_survive_a_page_switch_and_hidden_layers(page_env):
    app = AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=180)
    app.switch_page("pages/6_Shapes_and_parameters.py").run()
    assert not app.exception
    app.selectbox(key="sh_preset").set_value(CIFAR).run()
    app.number_input(key="sh_layers").set_value(3).run()
    app.number_input(key="sh_f2").set_value(12).run()
    app.number_input(key="sh_layers").set_value(2).run()  # layer 3 hidden: its widgets are gone
    app.number_input(key="sh_width").set_value(24).run()
    app.switch_page("pages/3_1x1_weights.py").run()
    assert not app.exception
    app.switch_page("pages/6_Shapes_and_parameters.py").run()
    assert not app.exception
    assert app.selectbox(key="sh_preset").value == CIFAR
    assert _metrics(app)["Output"] == "32×32×16×16"
    assert app.number_input(key="sh_width").value == 24
    app.number_input(key="sh_layers").set_value(3).run()
    assert app.number_input(key="sh_f2").value == 12
    assert _table(app, "weight (F×C×k×k)")["weight (F×C×k×k)"].tolist()[-1] == "12×32×3×3"
    app.number_input(key="sh_layers").set_value(2).run()
    app.selectbox(key="sh_preset").set_value(BATCH).run()  # a preset resets the hidden layer too
    app.number_input(key="sh_layers").set_value(3).run()
    assert app.number_input(key="sh_f2").value == 8
    assert _table(app, "weight (F×C×k×k)")["output (N×C×H×W)"].tolist()[-1] == "32×8×3×3"


def test_presenting_draws_the_exercise_pooling_and_architectures_as_figures(page_env):
    """present=1: the N×C×H×W chain as bars (worked by hand: 3×7×7 → ten 3×3 filters → 10×5×5 →
    twenty → 20×3×3), the pooling example as one grid figure (pooled here with numpy), the
    architectures chart before their table."""
    import numpy as np

    from explain.shapes import POOL_EXAMPLE

    at = AppTest.from_file(PAGE, default_timeout=180)
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception
    charts = {el.key: json.loads(el.proto.spec) for el in at.get("plotly_chart")}
    bars = {t["name"]: t["y"] for t in charts["sh_flow"]["data"]}
    assert bars == {"C (channels)": [3, 10, 20], "H (height)": [7, 5, 3], "W (width)": [7, 5, 3]}
    assert charts["sh_flow"]["data"][0]["x"] == ["input<br>1×3×7×7", "layer 1<br>1×10×5×5", "layer 2<br>1×20×3×3"]
    blocks = POOL_EXAMPLE.reshape(2, 2, 2, 2, 2)  # channel, row block, row, column block, column
    expected = [POOL_EXAMPLE[0], blocks.max(axis=(2, 4))[0], blocks.mean(axis=(2, 4))[0], [[POOL_EXAMPLE[0].mean()]],
                POOL_EXAMPLE[1], blocks.max(axis=(2, 4))[1], blocks.mean(axis=(2, 4))[1], [[POOL_EXAMPLE[1].mean()]]]
    grids = [plotly_array(t["z"]) for t in charts["sh_pool_grid"]["data"]]
    assert len(grids) == 8
    for got, want in zip(grids, expected):
        np.testing.assert_allclose(got, want)
    assert not any(key.startswith("sh_pool_") and key != "sh_pool_grid" for key in charts)
    order = list(_walk(at.main))
    table = next(i for i, node in enumerate(order) if node.type == "table" and "variant counted" in node.value.columns)
    chart = next(i for i, node in enumerate(order) if getattr(node, "key", None) == "sh_architectures")
    assert chart < table


def _walk(node):
    """The elements under ``node`` in page order."""
    children = getattr(node, "children", None)
    if children is None:
        yield node
        return
    for index in sorted(children):
        yield from _walk(children[index])
