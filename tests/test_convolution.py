"""explain/convolution.py: the lecture's toy example by hand, and the same sums by conv2d."""

from __future__ import annotations

import io

import numpy as np
import pytest

from explain import convolution as cv


def conv2d(image: np.ndarray, kernel: np.ndarray, padding: int = 0, stride: int = 1) -> np.ndarray:
    """torch's conv2d on a C×H×W image with one C-channel filter whose slices all equal ``kernel``."""
    import torch
    import torch.nn.functional as F

    x = torch.as_tensor(np.asarray(image, dtype=np.float64))[None]
    w = torch.as_tensor(np.asarray(kernel, dtype=np.float64)).expand(1, x.shape[1], *kernel.shape)
    return F.conv2d(x, w.contiguous(), padding=padding, stride=stride)[0, 0].numpy()


def test_toy_image_is_dark_left_bright_right():
    img = cv.toy_image()
    assert img.shape == (6, 6)
    assert img.tolist() == [[0, 0, 0, 1, 1, 1]] * 6
    assert cv.toy_image(transpose=True).tolist() == [[0] * 6] * 3 + [[1] * 6] * 3


def test_presets_are_the_lecture_kernels():
    assert cv.PRESETS["vertical edge"].tolist() == [[-1, 0, 1]] * 3
    assert cv.PRESETS["horizontal edge"].tolist() == [[-1, -1, -1], [0, 0, 0], [1, 1, 1]]
    assert np.allclose(cv.PRESETS["blur (box 1/9)"], 1 / 9)
    assert cv.PRESETS["sharpen"].sum() == 1
    assert cv.KERNEL_CHOICES[-1] == "custom"


def test_toy_vertical_edge_gives_0330_rows():
    out = cv.correlate(cv.toy_image(), cv.PRESETS["vertical edge"])
    assert out.tolist() == [[0, 3, 3, 0]] * 4


def test_toy_horizontal_edge_gives_zeros():
    out = cv.correlate(cv.toy_image(), cv.PRESETS["horizontal edge"])
    assert out.tolist() == [[0, 0, 0, 0]] * 4


def test_transposed_toy_swaps_the_two_results():
    img = cv.toy_image(transpose=True)
    assert cv.correlate(img, cv.PRESETS["vertical edge"]).tolist() == [[0, 0, 0, 0]] * 4
    assert cv.correlate(img, cv.PRESETS["horizontal edge"]).tolist() == [[0] * 4, [3] * 4, [3] * 4, [0] * 4]


def test_diagonal_on_toy_by_hand():
    # Column sums of the diagonal kernel are -2, 0, 2: a 0|1 edge under columns 1-2 gives 2.
    assert cv.correlate(cv.toy_image(), cv.PRESETS["diagonal edge"]).tolist() == [[0, 2, 2, 0]] * 4


@pytest.mark.parametrize("n,k,p,s,expected", [
    (6, 3, 0, 1, 4),     # the toy example
    (6, 3, 1, 1, 6),     # "same" padding
    (6, 3, 2, 1, 8),
    (6, 3, 0, 2, 2),     # floor(3/2) + 1
    (6, 3, 0, 3, 2),     # floor(3/3) + 1
    (7, 3, 0, 1, 5),     # the lecture's 3×7×7 exercise
    (5, 3, 0, 1, 3),
    (32, 3, 1, 1, 32),
    (32, 5, 2, 3, 11),   # floor(31/3) + 1
    (6, 5, 0, 1, 2),
    (6, 1, 0, 2, 3),
    (2, 5, 1, 1, 0),     # kernel larger than the padded 4×4 input
])
def test_output_size_by_hand_and_by_conv2d(n, k, p, s, expected):
    assert cv.output_size(n, k, p, s) == expected
    if expected:
        assert conv2d(np.ones((1, n, n)), np.ones((k, k)), p, s).shape == (expected, expected)
        assert cv.correlate(np.ones((n, n)), np.ones((k, k)), p, s).shape == (expected, expected)
        assert cv.geometry_problem((n, n), k, p, s) is None
    else:
        assert "larger than the padded input (4×4" in cv.geometry_problem((n, n), k, p, s)
        with pytest.raises(ValueError):
            cv.correlate(np.ones((n, n)), np.ones((k, k)), p, s)


def test_formula_text_fills_in_the_numbers():
    assert cv.formula_text(6, 3, 1, 1) == "out = ⌊(n + 2p − k) / s⌋ + 1 = ⌊(6 + 2·1 − 3) / 1⌋ + 1 = ⌊5 / 1⌋ + 1 = 6"
    assert cv.formula_text(6, 3, 0, 2).endswith("⌊3 / 2⌋ + 1 = 2")
    assert cv.uncovered(6, 3, 0, 2) == 1 and cv.uncovered(6, 3, 0, 1) == 0


@pytest.mark.parametrize("name", list(cv.PRESETS))
@pytest.mark.parametrize("p,s", [(0, 1), (1, 1), (2, 3), (1, 2)])
def test_correlate_equals_conv2d(name, p, s):
    rng = np.random.default_rng(0)
    img = rng.uniform(0, 1, (9, 7))
    assert np.allclose(cv.correlate(img, cv.PRESETS[name], p, s), conv2d(img[None], cv.PRESETS[name], p, s))


def test_correlate_is_not_flipped():
    # An asymmetric kernel tells cross-correlation from true convolution: conv2d does not flip.
    img = np.arange(9.0).reshape(3, 3)
    kernel = np.array([[1.0, 0], [0, 0]])
    assert cv.correlate(img, kernel).tolist() == [[0, 1], [3, 4]]
    assert np.allclose(conv2d(img[None], kernel), [[0, 1], [3, 4]])


def test_step_products_sum_to_the_output_cell():
    img, kernel = cv.toy_image(), cv.PRESETS["vertical edge"]
    first = cv.step(img, kernel, 0, 1, 0)
    assert (first.row, first.col, first.value) == (0, 0, 0.0)
    assert first.sum_text(kernel) == "(-1·0) + (0·0) + (1·0) + (-1·0) + (0·0) + (1·0) + (-1·0) + (0·0) + (1·0) = 0"
    second = cv.step(img, kernel, 0, 1, 1)
    assert second.patch.tolist() == [[0, 0, 1]] * 3
    assert second.products.tolist() == [[0, 0, 1]] * 3
    assert second.sum_text(kernel) == "(-1·0) + (0·0) + (1·1) + (-1·0) + (0·0) + (1·1) + (-1·0) + (0·0) + (1·1) = 3"
    assert second.value == cv.correlate(img, kernel)[0, 1] == 3
    rng = np.random.default_rng(1)
    img = rng.uniform(-1, 1, (6, 6))
    kernel = rng.uniform(-1, 1, (3, 3))
    for p, s in [(0, 1), (1, 2), (2, 3)]:
        full = cv.correlate(img, kernel, p, s)
        for position in range(full.size):
            st = cv.step(img, kernel, p, s, position)
            assert st.value == pytest.approx(full[st.row, st.col])
            assert st.value == pytest.approx(st.products.sum())
            assert (st.top, st.left) == (st.row * s, st.col * s)
    with pytest.raises(ValueError):
        cv.step(img, kernel, 0, 1, 16)


def test_step_with_padding_sees_zeros_at_the_border():
    st = cv.step(cv.toy_image(), cv.PRESETS["vertical edge"], 1, 1, 5)  # row 0, last column
    assert st.patch.tolist() == [[0, 0, 0], [1, 1, 0], [1, 1, 0]]
    assert st.value == -2  # the bright image ends at the padding: a bright-to-dark edge
    assert cv.correlate(cv.toy_image(), cv.PRESETS["vertical edge"], 1, 1)[:, 5].tolist() == [-2, -3, -3, -3, -3, -2]


def test_partial_output_blanks_later_cells():
    full = cv.correlate(cv.toy_image(), cv.PRESETS["vertical edge"])
    shown = cv.partial_output(full, 5)
    assert shown.ravel()[:6].tolist() == [0, 3, 3, 0, 0, 3]
    assert np.isnan(shown.ravel()[6:]).all()
    assert not np.isnan(cv.partial_output(full, 15)).any()


def test_per_channel_maps_sum_to_the_three_channel_conv2d():
    rng = np.random.default_rng(2)
    img = rng.integers(0, 256, (32, 32, 3)).astype(np.uint8)
    for name in ("vertical edge", "sharpen"):
        for p, s in [(0, 1), (2, 3)]:
            maps, total = cv.correlate_channels(img / 255.0, cv.PRESETS[name], p, s)
            n = cv.output_size(32, 3, p, s)
            assert maps.shape == (3, n, n)
            for c in range(3):
                assert np.allclose(maps[c], conv2d(img[None, ..., c] / 255.0, cv.PRESETS[name], p, s))
            assert np.allclose(total, maps.sum(axis=0))
            assert np.allclose(total, conv2d(np.moveaxis(img / 255.0, -1, 0), cv.PRESETS[name], p, s))


def test_default_custom_kernel():
    assert cv.default_custom_kernel(3).tolist() == [[-1, 0, 1]] * 3
    assert cv.default_custom_kernel(5)[2, 2] == 1 and cv.default_custom_kernel(5).sum() == 1
    assert cv.default_custom_kernel(1).tolist() == [[1]]


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 10, 10)).save(buf, format="PNG")
    return buf.getvalue()


def test_photo_pixels_downscales_to_512():
    px = cv.photo_pixels(_png(1000, 600), "house.png")
    assert px.shape == (307, 512, 3) and px.dtype == np.uint8
    assert px[0, 0].tolist() == [200, 10, 10]
    assert cv.photo_pixels(_png(40, 30), "small.png").shape == (30, 40, 3)


def test_photo_pixels_refuses_broken_and_oversized_files():
    from data.uploads import UploadError

    rng = np.random.default_rng(3)
    with pytest.raises(UploadError, match="not an image"):
        cv.photo_pixels(rng.integers(0, 256, 5000, dtype=np.uint8).tobytes(), "random.png")
    with pytest.raises(UploadError, match="4,097×10 pixels, more than 4096×4096"):
        cv.photo_pixels(_png(4097, 10), "wide.png")
    with pytest.raises(UploadError, match="20 MB"):
        cv.photo_pixels(b"\0" * (20 * 1024 * 1024 + 1), "huge.png")


def test_grid_figure_writes_every_number_and_frames_the_window():
    from render.convolution import CELL_FONT, WINDOW_COLOUR, grid_figure

    out = cv.partial_output(cv.correlate(cv.toy_image(), cv.PRESETS["blur (box 1/9)"]), 1)
    fig = grid_figure(out, "Output", window=(0, 1, 1))
    main, grey = fig.data
    assert list(main.text[0][:2]) == ["0", "0.333"] and main.text[1][0] == ""  # 1/3 written as 0.333
    assert main.textfont.size == CELL_FONT >= 18
    assert np.isnan(np.asarray(grey.z, dtype=float)[0, :2]).all() and np.asarray(grey.z)[1, 0] == 0
    (shape,) = fig.layout.shapes
    assert shape.line.color == WINDOW_COLOUR and (shape.x0, shape.x1, shape.y0, shape.y1) == (0.5, 1.5, -0.5, 0.5)
    assert tuple(fig.layout.yaxis.range) == (3.6, -0.6)  # all four rows, the blank ones too


def test_signed_maps_heatmap_when_small_png_when_large():
    from render.convolution import _diverging_rgb, signed_map_figure

    small = signed_map_figure(np.zeros((30, 30)), "s", 1.0)
    assert small.data[0].type == "heatmap" and (small.data[0].zmin, small.data[0].zmax) == (-1.0, 1.0)
    large = signed_map_figure(np.zeros((100, 200)), "l", 1.0)
    assert large.data[0].type == "image" and large.data[0].source.startswith("data:image/png;base64,")
    rgb = _diverging_rgb(np.array([[-2.0, 0.0, 2.0, 5.0]]), 2.0)
    assert rgb[0, 0].tolist() == [5, 48, 97] and rgb[0, 2].tolist() == [103, 0, 31]  # RdBu_r's ends
    assert (rgb[0, 1] > 240).all() and rgb[0, 3].tolist() == rgb[0, 2].tolist()     # 0 white; clipped


def test_drawn_house_shows_the_lecture_edges():
    """Vertical filter: strongest along the chimney's and walls' sides; horizontal filter: along
    the eaves (the roof's lower edge) — what the lecture shows on its house photo."""
    from explain.convolution import HOUSE_PARTS, PRESETS, correlate_channels, house_drawing

    img = house_drawing() / 255.0
    assert img.shape == (192, 192, 3)
    _, vertical = correlate_channels(img, PRESETS["vertical edge"])
    _, horizontal = correlate_channels(img, PRESETS["horizontal edge"])
    # Output (i, j) covers input rows i..i+2, columns j..j+2: an edge at input column c shows at
    # output columns c-2 .. c-1.
    top, bottom, left, right = HOUSE_PARTS["chimney"]
    chimney_rows = slice(top + 2, 58)  # above the roof
    column_strength = np.abs(vertical[chimney_rows]).max(axis=0)
    strongest = set(np.argsort(column_strength)[-4:].tolist())
    assert strongest == {left - 2, left - 1, right - 2, right - 1}
    eaves = HOUSE_PARTS["roof"][1]
    row_strength = np.abs(horizontal[:, 60:130]).mean(axis=1)
    assert int(np.argmax(row_strength)) in (eaves - 2, eaves - 1)
    # And the other way round: no horizontal response inside the chimney's straight sides.
    assert np.abs(horizontal[chimney_rows, left - 2:left]).max() < 1e-9


def test_shuffled_pixels_are_only_a_reordering_of_a_dense_layers_weights():
    """Lecture §1: one fixed shuffle of the pixels changes nothing for a fully connected layer
    (permute its weight columns the same way and every output is identical), but it destroys
    the neighbourhoods a convolution looks at."""
    from explain.convolution import PRESETS, correlate, shuffle_pixels

    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    sa, sb = shuffle_pixels(a), shuffle_pixels(b)
    assert sorted(map(tuple, sa.reshape(-1, 3))) == sorted(map(tuple, a.reshape(-1, 3)))  # same pixels
    order = np.array([np.flatnonzero((a.reshape(-1, 3) == px).all(1))[0] for px in sa.reshape(-1, 3)])
    assert (b.reshape(-1, 3)[order] == sb.reshape(-1, 3)).all()  # the same order for every image
    weights = rng.normal(size=(5, 8 * 8))
    x = a[..., 0].reshape(-1).astype(float)
    assert np.allclose(weights @ x, weights[:, order] @ x[order])
    edge = np.zeros((8, 8))
    edge[:, 4:] = 1
    assert np.abs(correlate(edge, PRESETS["vertical edge"])).max() == 3
    shuffled_edge = shuffle_pixels(edge[..., None])[..., 0]
    vertical = PRESETS["vertical edge"]
    assert not np.allclose(correlate(shuffled_edge, vertical), correlate(edge, vertical))


def test_toy_view_is_the_lecture_example_at_one_window():
    # Lecture §2: the vertical-edge kernel over the 6×6 edge image gives 0 3 3 0 in every row.
    toy = cv.toy_view("vertical edge", cv.PRESETS["vertical edge"], padding=0, stride=1, position=2)
    np.testing.assert_array_equal(toy.output, np.tile([0.0, 3.0, 3.0, 0.0], (4, 1)))
    assert (toy.step.row, toy.step.col, toy.step.value) == (0, 1, 3.0)  # window 2 = row 0, column 1
    assert toy.formula == cv.formula_text(6, 3, 0, 1)
    photo = cv.photo_view(np.full((4, 4, 3), 255, np.uint8), "white", np.ones((3, 3)), padding=0, stride=1)
    np.testing.assert_allclose(photo.maps, 9.0)  # nine ones on pixels of value 1
    np.testing.assert_allclose(photo.summed, 27.0)  # one 3-channel filter: the three maps summed
