"""explain.shapes against hand-worked numbers: the lecture's exercises, pooling, receptive fields,
published parameter counts, GoogLeNet's 1×1 bottleneck and VGG's stacked 3×3 convolutions."""

import numpy as np
import pytest
import torch
from torch import nn

from explain.convolution import output_size
from explain.shapes import (
    PRESETS,
    LayerSpec,
    LeNet5,
    ShapeError,
    apply_chain,
    apply_layer,
    architecture_rows,
    bottleneck,
    bottleneck_rows,
    chain_rows,
    describe,
    model_receptive_fields,
    pool_example,
    receptive_field_rule,
    receptive_fields,
    reference_architectures,
    shape_problem,
    stacked_3x3,
    what_a_position_sees,
)
from tests.conftest import random_eval_model


def test_lecture_exercise_one_image():
    first, second = apply_chain((1, 3, 7, 7), [LayerSpec(10, 3), LayerSpec(20, 3)])
    assert first.output_shape == (1, 10, 5, 5)
    assert first.weight_shape == (10, 3, 3, 3)
    assert (first.weights, first.biases, first.parameters) == (270, 10, 280)
    assert first.multiply_adds == 10 * 3 * 3 * 3 * 5 * 5  # 6,750
    assert second.input_shape == (1, 10, 5, 5)
    assert second.output_shape == (1, 20, 3, 3)
    assert second.weight_shape == (20, 10, 3, 3)
    assert (second.weights, second.biases, second.parameters) == (1800, 20, 1820)
    assert second.multiply_adds == 20 * 10 * 9 * 3 * 3  # 16,200


def test_batch_of_32_keeps_the_weights():
    one = apply_chain((1, 3, 7, 7), [LayerSpec(10, 3), LayerSpec(20, 3)])
    batch = apply_chain((32, 3, 7, 7), [LayerSpec(10, 3), LayerSpec(20, 3)])
    assert [r.output_shape for r in batch] == [(32, 10, 5, 5), (32, 20, 3, 3)]
    assert [r.weight_shape for r in batch] == [r.weight_shape for r in one]
    assert [r.parameters for r in batch] == [280, 1820]
    assert [r.multiply_adds for r in batch] == [32 * 6750, 32 * 16200]


def test_presets_compute():
    results = {label: apply_chain(p.input_shape, list(p.layers)) for label, p in PRESETS.items()}
    exercise, batch, cifar, one = results.values()
    assert exercise[-1].output_shape == (1, 20, 3, 3)
    assert batch[-1].output_shape == (32, 20, 3, 3)
    assert [r.output_shape for r in cifar] == [(32, 32, 32, 32), (32, 32, 16, 16)]
    assert cifar[0].parameters == 32 * 3 * 9 + 32 == 896
    assert cifar[1].conv_shape == (32, 32, 32, 32)
    assert one[0].output_shape == (1, 32, 28, 28)
    assert one[0].weight_shape == (32, 192, 1, 1)
    assert one[0].multiply_adds == 28 * 28 * 192 * 32 == 4_816_896


@pytest.mark.parametrize("n,c,h,w,f,k,p,s", [
    (2, 3, 32, 32, 8, 5, 2, 2), (1, 4, 13, 9, 6, 3, 0, 3), (3, 1, 8, 8, 2, 4, 1, 1),
    (1, 2, 7, 11, 5, 7, 3, 2),
])
def test_shapes_match_the_formula_and_a_real_forward_pass(n, c, h, w, f, k, p, s):
    spec = LayerSpec(f, k, padding=p, stride=s, pool="max", pool_size=2, pool_stride=1)
    r = apply_layer((n, c, h, w), spec)
    ho, wo = output_size(h, k, p, s), output_size(w, k, p, s)
    assert r.conv_shape == (n, f, ho, wo)
    assert r.output_shape == (n, f, ho - 1, wo - 1)
    assert r.weight_shape == (f, c, k, k)
    assert r.parameters == f * c * k * k + f
    assert r.multiply_adds == f * c * k * k * ho * wo * n
    real = nn.Conv2d(c, f, k, stride=s, padding=p)(torch.zeros(n, c, h, w))
    assert tuple(real.shape) == r.conv_shape


def test_average_pooling_with_stride():
    r = apply_layer((1, 3, 10, 10), LayerSpec(4, 3, pool="average", pool_size=3, pool_stride=2))
    assert r.conv_shape == (1, 4, 8, 8)
    assert r.output_shape == (1, 4, 3, 3)  # ⌊(8 − 3) / 2⌋ + 1
    assert any("pool" in line and "= 3" in line for line in r.formulas())


def test_formula_has_the_numbers():
    (r,) = apply_chain((1, 3, 7, 7), [LayerSpec(10, 3)])
    assert r.formulas() == ["H and W: conv out = ⌊(n + 2p − k) / s⌋ + 1 = ⌊(7 + 2·0 − 3) / 1⌋ + 1 = "
                            "⌊4 / 1⌋ + 1 = 5"]
    (r,) = apply_chain((1, 3, 7, 9), [LayerSpec(10, 3)])
    assert len(r.formulas()) == 2  # height and width differ


@pytest.mark.parametrize("shape,spec,words", [
    ((1, 3, 7, 7), LayerSpec(10, 9), "larger than the padded input"),
    ((1, 3, 7, 7), LayerSpec(10, 10, padding=1), "larger than the padded input"),
    ((0, 3, 7, 7), LayerSpec(10, 3), "N (batch size) is 0"),
    ((1, 3, 0, 7), LayerSpec(10, 3), "H (height) is 0"),
    ((1, 3, 7, 7), LayerSpec(0, 3), "number of filters is 0"),
    ((1, 3, 7, 7), LayerSpec(10, 3, stride=0), "stride is 0"),
    ((1, 3, 7, 7), LayerSpec(10, 3, pool="max", pool_size=6), "pooling window is larger"),
])
def test_bad_combinations(shape, spec, words):
    assert words in shape_problem(shape, spec)
    with pytest.raises(ShapeError, match=words.replace("(", r"\(").replace(")", r"\)")):
        apply_layer(shape, spec)


def test_kernel_equal_to_padded_input_fits():
    assert apply_layer((1, 3, 7, 7), LayerSpec(2, 9, padding=1)).output_shape == (1, 2, 1, 1)


def test_chain_error_names_the_layer():
    with pytest.raises(ShapeError, match=r"Layer 3 \(input 1×20×3×3\)"):
        apply_chain((1, 3, 7, 7), [LayerSpec(10, 3), LayerSpec(20, 3), LayerSpec(5, 5)])


def test_chain_rows():
    rows = chain_rows(apply_chain((32, 3, 7, 7), [LayerSpec(10, 3), LayerSpec(20, 3)]))
    assert [r["output (N×C×H×W)"] for r in rows] == ["32×10×5×5", "32×20×3×3"]
    assert [r["weight (F×C×k×k)"] for r in rows] == ["10×3×3×3", "20×10×3×3"]
    assert [r["parameters"] for r in rows] == [280, 1820]


def test_pooling_by_hand():
    p = pool_example()
    # Channel 0: windows [1 3;5 6] [2 0;1 2] [7 2;0 1] [9 4;3 8]
    np.testing.assert_array_equal(p.maximum[0], [[6, 2], [7, 9]])
    np.testing.assert_allclose(p.average[0], [[15 / 4, 5 / 4], [10 / 4, 24 / 4]])
    # Channel 1: windows [0 2;2 0] [4 6;6 4] [1 1;3 3] [0 0;0 8]
    np.testing.assert_array_equal(p.maximum[1], [[2, 6], [3, 8]])
    np.testing.assert_allclose(p.average[1], [[1, 5], [2, 2]])
    np.testing.assert_allclose(p.global_average, [54 / 16, 40 / 16])
    assert p.maximum.shape[0] == p.average.shape[0] == p.global_average.shape[0] == 2  # channels kept


def test_receptive_fields_of_the_lecture_network():
    fields = {f.layer: f for f in model_receptive_fields(random_eval_model())}
    # 3×3 convs add 2·jump, 1×1 adds nothing, 2×2 pools add 1·jump and double the jump.
    expected = {"block1.conv1": (3, 1, 32), "block1.conv2": (5, 1, 32), "block1.pool": (6, 2, 16),
                "block2.conv1": (10, 2, 16), "block2.conv2": (14, 2, 16), "block2.conv3": (14, 2, 16),
                "block2.pool": (16, 4, 8), "block3.conv1": (24, 4, 8), "block3.conv2": (32, 4, 8),
                "block3.conv3": (32, 4, 8), "block3.pool": (36, 8, 4), "gap": (60, 32, 1)}
    for name, (rf, jump, side) in expected.items():
        f = fields[name]
        assert (f.receptive_field, f.jump, f.output_side) == (rf, jump, side), name
    assert fields["block1.relu2"].receptive_field == 5  # BatchNorm and ReLU change nothing
    assert "classifier" not in fields


def _gradient_extent(layer: str, row: int, col: int) -> tuple[int, int]:
    """Rows and columns of the input that change one output pixel of ``layer`` (how wide), from
    :func:`_gradient_support`."""
    (top, bottom), (left, right) = _gradient_support(layer, row, col, seed=3)
    return bottom - top + 1, right - left + 1


@pytest.mark.parametrize("layer,row,col", [("block1.conv2", 10, 12), ("block2.pool", 4, 3),
                                           ("block3.conv1", 4, 4)])
def test_receptive_field_measured_by_backpropagation(layer, row, col):
    fields = {f.layer: f.receptive_field for f in model_receptive_fields(random_eval_model())}
    assert _gradient_extent(layer, row, col) == (fields[layer], fields[layer])


# The lecture network along one axis, written out by hand: (layer, kernel, stride, padding) of every
# convolution and pooling (BatchNorm and ReLU move nothing).
LECTURE_AXIS = [("block1.conv1", 3, 1, 1), ("block1.conv2", 3, 1, 1), ("block1.pool", 2, 2, 0),
                ("block2.conv1", 3, 1, 1), ("block2.conv2", 3, 1, 1), ("block2.conv3", 1, 1, 0),
                ("block2.pool", 2, 2, 0), ("block3.conv1", 3, 1, 1), ("block3.conv2", 3, 1, 1),
                ("block3.conv3", 1, 1, 0), ("block3.pool", 2, 2, 0)]


def _window_by_composition(layer: str, i: int) -> tuple[int, int]:
    """First and last input row that output row ``i`` of ``layer`` reads, by composing index maps on
    an unbounded line: output j of a layer reads its input rows s·j − p … s·j − p + k − 1 (below 0
    or past the end: padding, kept with its coordinate). No field, jump or centre formula."""
    chain = LECTURE_AXIS[:[name for name, *_ in LECTURE_AXIS].index(layer) + 1]
    rows = {i}
    for _, k, s, p in reversed(chain):
        rows = {s * r - p + t for r in rows for t in range(k)}
    return min(rows), max(rows)


def test_the_hand_written_axis_is_the_network():
    from explain.activations import layers

    real = [(info.name, m.kernel_size, m.stride, m.padding) for info in layers(random_eval_model())
            if isinstance(m := info.module, (nn.Conv2d, nn.MaxPool2d))]
    def first(v):
        return v[0] if isinstance(v, tuple) else v

    assert [(name, first(k), first(s), first(p)) for name, k, s, p in real] == LECTURE_AXIS


def test_window_of_every_position_matches_composed_index_maps():
    fields = {f.layer: f for f in model_receptive_fields(random_eval_model())}
    for name, *_ in LECTURE_AXIS:
        f = fields[name]
        assert [f.covers(i) for i in range(f.output_side)] == \
            [_window_by_composition(name, i) for i in range(f.output_side)], name


def test_block3_conv2_position_i_covers_4i_minus_14_to_4i_plus_17_and_no_window_is_the_image():
    fields = {f.layer: f for f in model_receptive_fields(random_eval_model())}
    conv = fields["block3.conv2"]
    assert conv.receptive_field == 32  # as wide as the image …
    assert [conv.covers(i) for i in range(8)] == [(4 * i - 14, 4 * i + 17) for i in range(8)]  # … not the image
    assert conv.covers_text() == "4i − 14 … 4i + 17"
    pool = fields["block3.pool"]
    assert [pool.covers(i) for i in range(4)] == [(-14, 21), (-6, 29), (2, 37), (10, 45)]
    for f in (conv, pool):  # no window covers all of columns 0–31
        assert not any(lo <= 0 and hi >= 31 for lo, hi in map(f.covers, range(f.output_side)))


def _gradient_support(layer: str, row: int, col: int, seed: int = 5) -> tuple[tuple[int, int], tuple[int, int]]:
    """(first, last) input row and column that change one output pixel of ``layer``, measured by
    backpropagation through a random-weight copy of the network (ReLU → identity and max → average
    pooling, so no gradient is cut off by a negative activation or a losing pixel)."""
    from explain.activations import layers

    model = random_eval_model(seed=seed)
    x = torch.randn(1, 3, 32, 32, requires_grad=True)
    h = x
    for info in layers(model):
        m = info.module
        if isinstance(m, nn.ReLU):
            m = nn.Identity()
        elif isinstance(m, nn.MaxPool2d):
            m = nn.AvgPool2d(m.kernel_size, m.stride)
        h = m(h)
        if info.name == layer:
            break
    h[0, :, row, col].sum().backward()
    rows, cols = np.nonzero((x.grad[0].abs().sum(0) > 0).numpy())
    return (int(rows.min()), int(rows.max())), (int(cols.min()), int(cols.max()))


@pytest.mark.parametrize("i", range(8))
def test_block3_conv2_window_measured_by_backpropagation(i):
    """Inside the image, the pixels a position depends on are its window cut to 0–31."""
    lo, hi = 4 * i - 14, 4 * i + 17
    assert _gradient_support("block3.conv2", i, 7 - i) == ((max(lo, 0), min(hi, 31)),
                                                          (max(4 * (7 - i) - 14, 0), min(4 * (7 - i) + 17, 31)))


def test_what_a_position_sees_is_true_for_wide_fields():
    fields = {f.layer: f for f in model_receptive_fields(random_eval_model())}
    conv = what_a_position_sees(fields["block3.conv2"])
    assert "32×32-pixel window, as wide as the image but centred on the position" in conv
    assert "4i − 14 … 4i + 17" in conv and "no single position sees the whole image" in conv
    assert "8i − 14 … 8i + 21" in what_a_position_sees(fields["block3.pool"])
    assert "wider than the 32×32 image" in what_a_position_sees(fields["block3.pool"])
    assert what_a_position_sees(fields["block2.conv2"]).startswith("a 14×14-pixel window of the input")
    assert what_a_position_sees(fields["gap"]).startswith("the whole 32×32 image")
    # Only global pooling is said to see the whole image.
    whole = [name for name, f in fields.items() if "the whole 32×32 image" in what_a_position_sees(f)
             and "no single position" not in what_a_position_sees(f)]
    assert whole == ["gap"]


def test_receptive_field_rule_counts_the_pooling_window():
    fields = [f for f in model_receptive_fields(random_eval_model())
              if f.kind in ("Conv2d", "MaxPool2d", "AdaptiveAvgPool2d")]
    rule = receptive_field_rule(fields)
    assert "a 2×2 pooling adds 1·jump" in rule and "doubles the jump" in rule
    # The three pooling steps of this network, from the composed windows: width before → after.
    width = {name: _window_by_composition(name, 0)[1] - _window_by_composition(name, 0)[0] + 1
             for name, *_ in LECTURE_AXIS}
    steps = [f"{width[a]} → {width[b]}" for a, b in (("block1.conv2", "block1.pool"),
                                                      ("block2.conv3", "block2.pool"),
                                                      ("block3.conv3", "block3.pool"))]
    assert steps == ["5 → 6", "14 → 16", "32 → 36"]
    assert f"({', '.join(steps)} here)" in rule


def test_receptive_fields_with_stride_and_dilation():
    chain = [("a", nn.Conv2d(1, 1, 7, stride=2, padding=3)), ("b", nn.MaxPool2d(3, 2, padding=1)),
             ("c", nn.Conv2d(1, 1, 3, dilation=2, padding=2))]
    rows = receptive_fields(chain, 224)
    assert [(r.receptive_field, r.jump, r.output_side) for r in rows] == \
        [(7, 2, 112), (11, 4, 56), (27, 4, 56)]


def test_lenet5():
    model = LeNet5()
    assert tuple(model(torch.zeros(2, 1, 32, 32)).shape) == (2, 10)
    info = describe("LeNet-5", model, "1×32×32")
    assert info.parameters == 156 + 2416 + 48120 + 10164 + 850 == 61_706
    assert (info.conv_layers, info.linear_layers) == (2, 3)


def test_reference_architectures_published_counts():
    infos = {i.name: i for i in reference_architectures()}
    assert infos["LeNet-5"].parameters == 61_706
    assert infos["AlexNet"].parameters == 61_100_840
    assert infos["VGG-16"].parameters == 138_357_544
    assert infos["GoogLeNet"].parameters == 6_624_904
    assert infos["GoogLeNet + auxiliary classifiers"].parameters == 13_004_888
    assert (infos["AlexNet"].conv_layers, infos["VGG-16"].conv_layers) == (5, 13)
    assert infos["VGG-16"].conv_layers + infos["VGG-16"].linear_layers == 16
    assert all(i.note for i in infos.values())


def test_original_networks_counted_by_hand():
    """The papers' networks, counted here from their published layouts (independently of the
    modules explain.shapes builds)."""
    from explain.shapes import alexnet_2012, googlenet_2014, lenet5_1998_parameters, parameter_count

    # LeCun 1998: C1 6·(25+1); S2 6·2; C3: Table I connects 6 maps to 3 inputs, 9 to 4, 1 to 6,
    # 5×5 weights per connection + 16 biases; S4 16·2; C5 120·(400+1); F6 84·(120+1).
    c3 = 25 * (6 * 3 + 9 * 4 + 1 * 6) + 16
    assert c3 == 1_516
    assert sum(lenet5_1998_parameters().values()) == 156 + 12 + c3 + 32 + 48_120 + 10_164 == 60_000
    # Krizhevsky 2012, two GPUs: conv2, conv4, conv5 see half of the maps before them.
    alexnet = (96 * 3 * 11 * 11 + 96) + (256 * 48 * 5 * 5 + 256) + (384 * 256 * 3 * 3 + 384) \
        + (384 * 192 * 3 * 3 + 384) + (256 * 192 * 3 * 3 + 256) \
        + (9216 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 1000 + 1000)
    with torch.device("meta"):
        assert parameter_count(alexnet_2012()) == alexnet == 60_965_224
        # Szegedy 2014, Table 1 (in, #1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj), biases.
        table = [(192, 64, 96, 128, 16, 32, 32), (256, 128, 128, 192, 32, 96, 64), (480, 192, 96, 208, 16, 48, 64),
                 (512, 160, 112, 224, 24, 64, 64), (512, 128, 128, 256, 24, 64, 64),
                 (512, 112, 144, 288, 32, 64, 64), (528, 256, 160, 320, 32, 128, 128),
                 (832, 256, 160, 320, 32, 128, 128), (832, 384, 192, 384, 48, 128, 128)]
        inceptions = sum(i * a + a + i * br + br + br * 9 * b + b + i * cr + cr + cr * 25 * c + c + i * d + d
                         for i, a, br, b, cr, c, d in table)
        stem = (3 * 49 * 64 + 64) + (64 * 64 + 64) + (64 * 9 * 192 + 192)
        googlenet = stem + inceptions + 1024 * 1000 + 1000
        assert parameter_count(googlenet_2014()) == googlenet == 6_998_552
        aux = [i * 128 + 128 + 2048 * 1024 + 1024 + 1024 * 1000 + 1000 for i in (512, 528)]
        assert parameter_count(googlenet_2014(aux_logits=True)) == googlenet + sum(aux)


def test_each_count_says_which_variant_it_is_and_where_the_original_differs():
    infos = {i.name: i for i in reference_architectures()}
    assert infos["LeNet-5"].original == 60_000 and "rebuild" in infos["LeNet-5"].variant
    assert infos["AlexNet"].original == 60_965_224 and "one-GPU" in infos["AlexNet"].variant
    assert "64, 192, 384, 256, 256" in infos["AlexNet"].variant and "two GPUs" in infos["AlexNet"].original_variant
    assert "BatchNorm" in infos["GoogLeNet"].variant and "3×3" in infos["GoogLeNet"].variant
    assert infos["GoogLeNet"].original == 6_998_552 and "real 5×5" in infos["GoogLeNet"].original_variant
    assert infos["VGG-16"].original is None  # torchvision's VGG-16 is the paper's configuration D
    rows = {r["network"]: r for r in architecture_rows(list(infos.values()))}
    assert rows["AlexNet"]["original network"].startswith("60,965,224 (Krizhevsky et al. 2012, two GPUs")
    assert rows["VGG-16"]["original network"] == "the same"


def test_this_network_count():
    info = describe("This network", random_eval_model(), "3×32×32")
    assert info.parameters == 310_250
    assert (info.conv_layers, info.linear_layers) == (8, 1)


def test_bottleneck_lecture_example():
    b = bottleneck()
    assert b.direct.weights == 5 * 5 * 192 * 32 == 153_600
    assert b.direct.multiply_adds == 28 * 28 * 153_600 == 120_422_400
    assert b.reduce.weights == 192 * 16 == 3_072
    assert b.after.weights == 5 * 5 * 16 * 32 == 12_800
    assert b.weights == 15_872
    assert b.multiply_adds == 28 * 28 * 15_872 == 12_443_648
    assert b.parameters == 15_872 + 16 + 32
    rows = bottleneck_rows(b)
    assert [r["weights"] for r in rows] == [153_600, 15_872]
    assert [r["multiply-adds"] for r in rows] == [120_422_400, 12_443_648]


@pytest.mark.parametrize("layers,channels,rf,stacked,single", [
    (2, 64, 5, 2 * 9 * 64 ** 2, 25 * 64 ** 2), (3, 64, 7, 27 * 64 ** 2, 49 * 64 ** 2), (3, 10, 7, 2700, 4900),
])
def test_stacked_3x3(layers, channels, rf, stacked, single):
    s = stacked_3x3(layers, channels)
    assert (s.receptive_field, s.single_kernel) == (rf, rf)
    assert (s.stacked_weights, s.single_weights) == (stacked, single)


def test_dense_versus_conv_counts_by_hand():
    from explain.shapes import dense_vs_conv

    cmp = dense_vs_conv(channels=3, size=32, filters=32, kernel=3)
    assert cmp.output_shape == (32, 32, 32)
    assert cmp.dense_parameters == 3 * 32 * 32 * 32 * 32 * 32 + 32 * 32 * 32 == 100_696_064
    assert cmp.conv_parameters == 32 * 3 * 3 * 3 + 32 == 896
    assert (cmp.dense_inputs_per_output, cmp.conv_inputs_per_output, cmp.conv_positions) == (3072, 27, 1024)


def test_counted_apart_equals_counted_here_and_is_kept(tmp_path, monkeypatch):
    """The server counts the reference networks in a child process (torchvision stays out of its
    memory): the same counts as in this process, kept in the cache, recounted if the file breaks."""
    import subprocess

    from explain.shapes import reference_architectures_apart

    apart = reference_architectures_apart(tmp_path)
    assert apart == reference_architectures()
    [kept] = tmp_path.glob("architectures-torch*-torchvision*.json")

    def no_child(*args, **kwargs):
        raise AssertionError("counted again although the counts were kept")

    monkeypatch.setattr(subprocess, "run", no_child)
    assert reference_architectures_apart(tmp_path) == apart
    monkeypatch.undo()
    kept.write_text('[{"name": "half a file"')
    assert reference_architectures_apart(tmp_path) == apart


def test_a_failing_count_says_why(tmp_path, monkeypatch):
    import subprocess

    from explain.shapes import reference_architectures_apart

    monkeypatch.setattr(subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 1, "", "No module named "
                                                                                       "'torchvision'"))
    with pytest.raises(RuntimeError, match="No module named 'torchvision'"):
        reference_architectures_apart(tmp_path)


def test_the_server_never_imports_torchvision_or_sympy(tmp_path):
    """The Shapes page shows the reference networks without torchvision in the server's process,
    and it and the playground read shapes without sympy (torch's meta-device forward loads it)."""
    import subprocess
    import sys

    from tests.conftest import PROJECT

    script = (f"import sys; from streamlit.testing.v1 import AppTest\n"
              f"at = AppTest.from_file({str(PROJECT / 'dashboard.py')!r}, default_timeout=120)\n"
              f"at.switch_page('pages/6_Shapes_and_parameters.py'); at.run()\n"
              f"assert not at.exception, at.exception\n"
              f"assert any('VGG-16' in str(t.value) for t in [*at.table, *at.dataframe]), 'no VGG-16'\n"
              f"at.switch_page('pages/5_Convolution_playground.py'); at.run()\n"
              f"assert not at.exception, at.exception\n"
              f"print([m for m in ('torchvision', 'sympy') if m in sys.modules])\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "CIFAR10_CACHE": str(tmp_path), "CIFAR10_WARMUP": "0"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
