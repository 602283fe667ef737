"""AppTest of the Convolution playground page: the lecture's toy example, number by number.

Every expected grid here is worked by hand from the 6×6 image (dark left half 0, bright right
half 1) and the kernel, or computed with torch's conv2d; the page computes with numpy.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import PROJECT, shown
from tests.conftest import plotly_array as array
from tests.conftest import plotly_charts as charts

PAGE = str(PROJECT / "pages" / "5_Convolution_playground.py")
ZEROS = [[0, 0, 0, 0]] * 4
VERTICAL = [[0, 3, 3, 0]] * 4


@pytest.fixture
def app(page_env):
    return AppTest.from_file(PAGE, default_timeout=180)




def grid(at, key: str) -> np.ndarray:
    return array(charts(at)[key]["data"][0]["z"])


def cell_text(at, key: str) -> list[list[str]]:
    return charts(at)[key]["data"][0]["text"]


def markdown(at) -> str:
    return shown("\n".join(m.value for m in at.markdown))


def sum_line(at) -> str:
    """The window's sum, the subheading under the step's ("Step 1 of 16: …")."""
    lines = [h.value for h in at.subheader if not h.value.startswith("Step ")]
    assert len(lines) == 1
    return lines[0]


def window(spec: dict) -> dict:
    """The orange square (the current window) among the figure's shapes."""
    (shape,) = [s for s in spec["layout"]["shapes"] if s["line"]["color"] == "#ff7f0e"]
    return shape


def last_step(at):
    slider = at.slider(key="cv_pos")
    return slider.set_value(slider.max).run()


def url(at, key: str) -> str:
    value = at.query_params[key]
    return value[0] if isinstance(value, list) else value


def test_default_is_the_lecture_toy_example(app):
    at = app.run()
    assert not at.exception and not at.error
    assert at.radio(key="cv_kernel").value == "vertical edge"
    assert at.toggle(key="cv_transpose").value is False
    assert grid(at, "cv_input").tolist() == [[0, 0, 0, 1, 1, 1]] * 6
    assert grid(at, "cv_kernel_grid").tolist() == [[-1, 0, 1]] * 3
    assert cell_text(at, "cv_kernel_grid") == [["-1", "0", "1"]] * 3
    assert "⌊(6 + 2·0 − 3) / 1⌋ + 1 = ⌊3 / 1⌋ + 1 = 4, so the output is **4×4**" in markdown(at)
    assert "similarity score between the filter and each patch" in markdown(at)
    # Step 1: only the first output cell is filled in.
    assert at.slider(key="cv_pos").value == 1 and at.slider(key="cv_pos").max == 16
    out = grid(at, "cv_output")
    assert out[0, 0] == 0 and np.isnan(out.ravel()[1:]).all()
    assert sum_line(at) == "(-1·0) + (0·0) + (1·0) + (-1·0) + (0·0) + (1·0) + (-1·0) + (0·0) + (1·0) = 0"
    # The whole output once the window has slid to the end: "a vertical feature in the middle, strength 3".
    at = last_step(at)
    assert not at.exception
    assert grid(at, "cv_output").tolist() == VERTICAL
    assert cell_text(at, "cv_output") == [["0", "3", "3", "0"]] * 4
    assert url(at, "kernel") == "vertical edge" and url(at, "pos") == "16"


def test_transpose_swaps_the_two_edge_filters(app):
    at = last_step(app.run())
    assert grid(at, "cv_output").tolist() == VERTICAL
    at.toggle(key="cv_transpose").set_value(True).run()
    assert not at.exception
    assert grid(at, "cv_input").tolist() == [[0] * 6] * 3 + [[1] * 6] * 3
    assert at.slider(key="cv_pos").value == 16  # the position stays
    assert grid(at, "cv_output").tolist() == ZEROS
    at.radio(key="cv_kernel").set_value("horizontal edge").run()
    assert grid(at, "cv_output").tolist() == [[0] * 4, [3] * 4, [3] * 4, [0] * 4]


def test_horizontal_filter_on_the_vertical_edge_gives_zeros(app):
    at = app.run()
    at.radio(key="cv_kernel").set_value("horizontal edge").run()
    at = last_step(at)
    assert not at.exception
    assert grid(at, "cv_kernel_grid").tolist() == [[-1, -1, -1], [0, 0, 0], [1, 1, 1]]
    assert grid(at, "cv_output").tolist() == ZEROS
    assert url(at, "kernel") == "horizontal edge"


def test_stepping_moves_the_window_and_the_sum(app):
    at = app.run()
    at.button(key="cv_next").click().run()
    assert not at.exception
    assert at.slider(key="cv_pos").value == 2
    assert sum_line(at) == "(-1·0) + (0·0) + (1·1) + (-1·0) + (0·0) + (1·1) + (-1·0) + (0·0) + (1·1) = 3"
    assert "Step 2 of 16: output row 0, column 1" in at.subheader[0].value
    assert grid(at, "cv_products").tolist() == [[0, 0, 1]] * 3
    out = grid(at, "cv_output")
    assert out.ravel()[:2].tolist() == [0, 3] and np.isnan(out.ravel()[2:]).all()
    specs = charts(at)
    patch = window(specs["cv_input"])     # columns 1–3, rows 0–2 of the input
    assert (patch["x0"], patch["x1"], patch["y0"], patch["y1"]) == (0.5, 3.5, -0.5, 2.5)
    cell = window(specs["cv_output"])     # output row 0, column 1
    assert (cell["x0"], cell["x1"], cell["y0"], cell["y1"]) == (0.5, 1.5, -0.5, 0.5)
    at.slider(key="cv_pos").set_value(8).run()  # row 1, column 3: the window on the bright half
    assert "Step 8 of 16: output row 1, column 3" in at.subheader[0].value
    assert sum_line(at).endswith("(-1·1) + (0·1) + (1·1) = 0")
    at.button(key="cv_prev").click().run()
    assert at.slider(key="cv_pos").value == 7
    assert sum_line(at).endswith("= 3")
    assert url(at, "pos") == "7"


def test_padding_one_gives_a_6x6_output(app):
    at = app.run()
    at.slider(key="cv_padding").set_value(1).run()
    assert not at.exception
    assert "⌊(6 + 2·1 − 3) / 1⌋ + 1 = ⌊5 / 1⌋ + 1 = 6, so the output is **6×6**" in markdown(at)
    padded = grid(at, "cv_input")
    assert padded.shape == (8, 8)
    assert padded[1:7, 1:7].tolist() == [[0, 0, 0, 1, 1, 1]] * 6
    ring = np.ones((8, 8), bool)
    ring[1:7, 1:7] = False
    assert np.isnan(padded[ring]).all()  # the padding is drawn by the grey trace, with 0 written in
    grey = charts(at)["cv_input"]["data"][1]
    assert np.array(grey["text"])[ring].tolist() == ["0"] * 28
    assert np.array(grey["text"])[~ring].tolist() == [""] * 36
    assert at.slider(key="cv_pos").max == 36
    at = last_step(at)
    # By hand: the padding's zeros make a bright-to-dark edge at the right border (−3), and the
    # top and bottom rows see only two image rows (2 instead of 3).
    edge = [0, 0, 3, 3, 0, -3]
    assert grid(at, "cv_output").tolist() == [[0, 0, 2, 2, 0, -2]] + [edge] * 4 + [[0, 0, 2, 2, 0, -2]]
    assert sum_line(at) == "(-1·1) + (0·1) + (1·0) + (-1·1) + (0·1) + (1·0) + (-1·0) + (0·0) + (1·0) = -2"


def test_stride_two_and_the_floor(app):
    at = app.run()
    at.slider(key="cv_stride").set_value(2).run()
    assert "⌊3 / 2⌋ + 1 = 2, so the output is **2×2**" in markdown(at)
    assert any("the last 1 row(s) and column(s)" in c.value for c in at.caption)
    at = last_step(at)
    assert grid(at, "cv_output").tolist() == [[0, 3], [0, 3]]
    assert "patch at rows 2–4, columns 2–4" in at.subheader[0].value


def test_custom_kernel_starts_from_the_preset_and_is_editable(app):
    at = app.run()
    at.radio(key="cv_kernel").set_value("custom").run()
    assert not at.exception
    assert [at.number_input(key=f"cv_w_{r}_{c}").value for r in range(3) for c in range(3)] == [-1, 0, 1] * 3
    at.number_input(key="cv_w_1_2").set_value(2.0).run()
    at = last_step(at)
    # Right column weights 1, 2, 1 (sum 4); all weights sum to 1.
    assert grid(at, "cv_kernel_grid").tolist() == [[-1, 0, 1], [-1, 0, 2], [-1, 0, 1]]
    assert grid(at, "cv_output").tolist() == [[0, 4, 4, 1]] * 4
    at.number_input(key="cv_size").set_value(5).run()
    assert not at.exception
    assert grid(at, "cv_kernel_grid").tolist() == [[1 if (r, c) == (2, 2) else 0 for c in range(5)] for r in range(5)]
    assert "⌊(6 + 2·0 − 5) / 1⌋ + 1 = ⌊1 / 1⌋ + 1 = 2, so the output is **2×2**" in markdown(at)
    at = last_step(at)
    assert grid(at, "cv_output").tolist() == [[0, 1], [0, 1]]  # identity: the image's centre 2×2


def test_kernel_and_position_from_the_url(app):
    app.query_params["kernel"] = "horizontal edge"
    app.query_params["pos"] = "3"
    at = app.run()
    assert not at.exception
    assert at.radio(key="cv_kernel").value == "horizontal edge"
    assert at.slider(key="cv_pos").value == 3
    app2 = AppTest.from_file(PAGE, default_timeout=180)
    app2.query_params["kernel"] = "<b>nonsense"
    at2 = app2.run()
    assert not at2.exception
    assert at2.radio(key="cv_kernel").value == "vertical edge"
    assert any("unknown kernel" in w.value for w in at2.warning)


def test_geometry_round_trips_through_the_link(app):
    """transpose, pad and stride are in the link; a fresh session opened with it shows the same view."""
    at = app.run()
    at.toggle(key="cv_transpose").set_value(True).run()
    at.slider(key="cv_padding").set_value(1).run()
    at.slider(key="cv_stride").set_value(2).run()
    assert not at.exception
    link = {k: at.query_params[k] for k in ("transpose", "pad", "stride")}
    assert link == {"transpose": ["1"], "pad": ["1"], "stride": ["2"]} or \
        link == {"transpose": "1", "pad": "1", "stride": "2"}
    fresh = AppTest.from_file(PAGE, default_timeout=180)
    for k, v in link.items():
        fresh.query_params[k] = v if isinstance(v, str) else v[0]
    at2 = fresh.run()
    assert not at2.exception
    assert at2.toggle(key="cv_transpose").value is True
    assert at2.slider(key="cv_padding").value == 1 and at2.slider(key="cv_stride").value == 2
    assert "⌊(6 + 2·1 − 3) / 2⌋ + 1 = ⌊5 / 2⌋ + 1 = 3, so the output is **3×3**" in markdown(at2)
    bad = AppTest.from_file(PAGE, default_timeout=180)
    bad.query_params["pad"], bad.query_params["stride"], bad.query_params["transpose"] = "9", "-1", "yes"
    at3 = bad.run()
    assert not at3.exception
    assert at3.slider(key="cv_padding").value == 0 and at3.slider(key="cv_stride").value == 1
    assert len([w for w in at3.warning if "Ignored" in w.value]) == 3


def test_real_image_maps_equal_conv2d(app, test_split):
    import torch
    import torch.nn.functional as F

    app.query_params["image"] = "3"
    at = app.run()
    assert not at.exception
    pixels = test_split.images[test_split.position_of(3)] / 255.0
    x = torch.as_tensor(np.moveaxis(pixels, -1, 0))[None]
    k = torch.tensor([[-1.0, 0, 1]] * 3, dtype=torch.float64)
    per_channel = F.conv2d(x.reshape(3, 1, 32, 32), k[None, None])[:, 0].numpy()
    one_filter = F.conv2d(x, k.expand(1, 3, 3, 3).contiguous())[0, 0].numpy()
    for c, axis in enumerate(("x", "x2", "x3")):  # red, green, blue
        assert np.allclose(array(photo_panel(at, 1, axis)["z"]), per_channel[c])
    assert np.allclose(array(photo_panel(at, 0, "x2")["z"]), one_filter)
    assert photo_panel(at, 0, "x2")["zmax"] == pytest.approx(np.abs(one_filter).max())
    assert "test image #3" in photo_titles(at, 0)
    assert "Each colour channel gives a 30×30 map" in markdown(at)


def upload(at, data: bytes, name: str, mime: str = "image/png"):
    """The page's own uploader (AppTest drives the real widget)."""
    return at.file_uploader(key="cv_upload").upload(name, data, mime).run()


def png(px: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(px).save(buf, format="PNG")
    return buf.getvalue()


def edge_photo(height: int = 300, width: int = 600) -> np.ndarray:
    px = np.zeros((height, width, 3), np.uint8)
    px[:, 200:] = 255  # dark left of column 200, bright from it on: a vertical edge
    return px


def photo_panel(at, row: int, axis: str) -> dict:
    """The trace of one panel of the photo's two rows (one figure, ``cv_photo_rows``; row 0: input,
    R + G + B, colours; row 1: red, green, blue), by its x axis in its row: "x", "x2", "x3"."""
    number = 3 * row + int(axis[1:] or 1)
    wanted = "x" if number == 1 else f"x{number}"
    return next(t for t in charts(at)["cv_photo_rows"]["data"] if t.get("xaxis", "x") == wanted)


def photo_titles(at, row: int) -> str:
    return " | ".join(a["text"] for a in charts(at)["cv_photo_rows"]["layout"]["annotations"][3 * row:3 * row + 3])


def png_pixels(spec: dict) -> np.ndarray:
    """The pixels of a figure (or a figure's trace) sent as one PNG image (go.Image with a data URI)."""
    import base64

    from PIL import Image

    uri = (spec["data"][0] if "data" in spec else spec)["source"]
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def test_broken_upload_is_an_error_message_not_an_exception(app):
    rng = np.random.default_rng(0)
    at = app.run()
    uploader = at.file_uploader(key="cv_upload")
    assert set(uploader.allowed_type) >= {".png", ".jpg", ".jpeg", ".webp", ".gif"}
    assert uploader.proto.max_upload_size_mb == 20
    at = upload(at, rng.integers(0, 256, 4000, dtype=np.uint8).tobytes(), "broken.png")
    assert not at.exception
    assert any("not an image that can be read" in e.value for e in at.error)
    assert "test image #0" in photo_titles(at, 0)  # falls back


def test_photo_upload_is_convolved_at_its_own_resolution(app):
    at = upload(app.run(), png(edge_photo()), "house_photo.png")
    assert not at.exception and not at.error
    assert "**your photo house_photo.png** — 256×512 pixels" in markdown(at)  # longest side 600 → 512
    assert "Each colour channel gives a 254×510 map" in markdown(at)
    # Large maps are sent as one PNG image, not 130,000 numbers.
    assert photo_panel(at, 0, "x2")["type"] == "image"
    assert "R + G + B (254×510)<br>one 3-channel filter" in photo_titles(at, 0)
    # The toy example above is untouched by the photo.
    assert grid(at, "cv_kernel_grid").tolist() == [[-1, 0, 1]] * 3


def test_too_large_photo_is_refused_with_a_message(app):
    at = upload(app.run(), png(np.zeros((8, 4097, 3), np.uint8)), "panorama.png")
    assert not at.exception
    assert any("4,097×8 pixels, more than 4096×4096" in shown(e.value) for e in at.error)


def test_sidebar_photo_is_used_at_its_display_resolution(app):
    from data.uploads import decode_upload
    from ui.state import PHOTO, SOURCE_KEY, UPLOAD_KEY

    photo = decode_upload(png(edge_photo(256, 512)), "house.png")  # 512 wide: used as it is
    app.session_state[UPLOAD_KEY] = photo  # what a sidebar upload leaves (see test_page_uploads.py)
    app.session_state[SOURCE_KEY] = PHOTO
    at = app.run()
    assert not at.exception and not at.error
    assert "**your photo house.png** — 256×512 pixels" in markdown(at)
    assert "Each colour channel gives a 254×510 map" in markdown(at)
    # By hand: the vertical-edge kernel gives 3 per channel (9 summed) where the window's right
    # column is bright and its left column dark: output columns 198 and 199; 0 everywhere else.
    # In the picture: strongest red there, the colour of 0 elsewhere.
    px = png_pixels(photo_panel(at, 0, "x2"))
    assert px.shape == (254, 510, 3)
    red, zero = px[0, 198], px[0, 0]
    assert red[0] > 100 and red[1] < 20 and red[2] < 40  # RdBu_r at +max: dark red
    assert (zero > 240).all()                            # RdBu_r at 0: near white
    strong = (px == red).all(axis=-1)
    assert np.flatnonzero(strong.all(axis=0)).tolist() == [198, 199]
    assert (px[:, [c for c in range(510) if c not in (198, 199)]] == zero).all()


def test_photo_smaller_than_the_kernel_is_explained(app):
    at = upload(app.run(), png(np.full((2, 2, 3), 255, np.uint8)), "tiny.png")
    assert not at.exception
    assert any("The 3×3 kernel is larger than the padded input (2×2" in shown(e.value)
               and "tiny.png is 2×2" in shown(e.value) for e in at.error)
    assert "cv_photo_rows" not in charts(at)
    at.slider(key="cv_padding").set_value(1).run()  # padded to 4×4 the kernel fits: a 2×2 output
    assert not at.exception and not at.error
    assert "Each colour channel gives a 2×2 map" in markdown(at)
    # By hand: a white 2×2 image in zero padding; the vertical edge kernel sees bright on its right
    # in the left column (+2 per channel) and on its left in the right column (−2): summed ±6.
    assert array(photo_panel(at, 0, "x2")["z"]).tolist() == [[6, -6], [6, -6]]


def panel(spec: dict, axis: str) -> np.ndarray:
    """The values of a combined figure's panel on x axis ``axis`` (its first trace)."""
    return array(next(t for t in spec["data"] if t.get("xaxis", "x") == axis)["z"])


def test_presentation_mode_hides_explanations_and_draws_one_figure_per_row(app, test_split):
    import torch
    import torch.nn.functional as F

    app.query_params["present"] = "1"
    app.query_params["image"] = "3"
    at = last_step(app.run())
    assert not at.exception
    assert "similarity score" not in markdown(at)  # said by the lecturer instead
    assert any("⌊3 / 1⌋ + 1 = 4" in m.value for m in at.markdown)  # the numbers stay
    specs = charts(at)
    assert "cv_output" not in specs and "cv_map_red" not in specs  # no small figures in columns
    toy = specs["cv_toy_row"]
    assert panel(toy, "x").tolist() == [[0, 0, 0, 1, 1, 1]] * 6
    assert panel(toy, "x2").tolist() == [[-1, 0, 1]] * 3
    assert panel(toy, "x4").tolist() == VERTICAL
    assert [a["text"] for a in toy["layout"]["annotations"]][:2] == ["Input 6×6", "Kernel 3×3<br>(vertical edge)"]
    # The photo's rows: the same numbers as conv2d, the three channel maps on one scale with one bar.
    pixels = test_split.images[test_split.position_of(3)] / 255.0
    x = torch.as_tensor(np.moveaxis(pixels, -1, 0))[None]
    k = torch.tensor([[-1.0, 0, 1]] * 3, dtype=torch.float64)
    per_channel = F.conv2d(x.reshape(3, 1, 32, 32), k[None, None])[:, 0].numpy()
    channels = specs["cv_photo_row_1"]
    for c, axis in enumerate(("x", "x2", "x3")):
        assert np.allclose(panel(channels, axis), per_channel[c])
    assert [t["zmax"] for t in channels["data"]] == [pytest.approx(np.abs(per_channel).max())] * 3
    assert np.allclose(panel(specs["cv_photo_row_0"], "x2"), per_channel.sum(0))
    # No Plotly colour bar: each row's scale is the HTML legend under it, ± the row's largest |value|
    # (the sum's; the three channel maps' shared one), as conv2d computes them here.
    assert all(t.get("showscale") is False for row in (0, 1) for t in specs[f"cv_photo_row_{row}"]["data"]
               if t["type"] == "heatmap")
    legends = [h.proto.body for h in at.get("html") if "linear-gradient" in h.proto.body]
    ends = [[float(v) for v in re.findall(r"<span>([-0-9.e+]+)</span>", legend)] for legend in legends]
    assert ends == [[pytest.approx(-v, rel=5e-3), pytest.approx(v, rel=5e-3)]
                    for v in (np.abs(per_channel.sum(0)).max(), np.abs(per_channel).max())]


def test_slide_export_is_one_1920x1080_png(app):
    from PIL import Image

    at = app.run()
    at.radio(key="cv_kernel").set_value("horizontal edge").run()
    assert not at.exception
    button = at.get("download_button")[0]
    assert button.proto.label == "Download this view as PNG"
    build = at.session_state["_export_cv_export"]
    png_bytes = build()
    image = Image.open(io.BytesIO(png_bytes))
    assert image.size == (1920, 1080) and image.format == "PNG"


def test_a_kernel_that_fits_once_has_no_slider(app):
    at = app.run()
    at.radio(key="cv_kernel").set_value("custom").run()
    at.number_input(key="cv_size").set_value(5).run()
    at.slider(key="cv_stride").set_value(3).run()
    assert not at.exception
    assert "⌊(6 + 2·0 − 5) / 3⌋ + 1 = ⌊1 / 3⌋ + 1 = 1, so the output is **1×1**" in markdown(at)
    assert "The kernel fits in exactly one position." in markdown(at)
    assert not [s for s in at.slider if s.key == "cv_pos"]
    assert at.button(key="cv_prev").disabled and at.button(key="cv_next").disabled
    assert grid(at, "cv_output").tolist() == [[0]]  # the identity kernel's centre: image cell (2, 2), dark
    assert "Step 1 of 1: output row 0, column 0" in at.subheader[0].value


def test_drawn_house_is_convolved_at_its_own_resolution(app):
    """The lecture's house example: the switch puts the drawing (192×192) through the kernel."""
    from explain.convolution import HOUSE_PARTS, correlate, house_drawing

    at = app.run()
    at.toggle(key="cv_house").set_value(True).run()
    assert not at.exception
    assert "the drawn house" in markdown(at)
    expected = correlate(house_drawing().sum(axis=-1) / 255.0, np.array([[-1.0, 0, 1]] * 3))
    # A 190×190 map is sent as one PNG (upscaled by image_figure): red where positive, blue where negative.
    summed = png_pixels(photo_panel(at, 0, "x2"))
    factor = summed.shape[0] // expected.shape[0]
    r, c = 40, HOUSE_PARTS["chimney"][2] - 2  # the chimney's left side
    red, _, blue = summed[r * factor, c * factor].astype(int)
    assert (red > blue) == (expected[r, c] > 0)
    left = HOUSE_PARTS["chimney"][2]
    assert np.abs(expected[40, left - 2]) == np.abs(expected).max()  # the chimney's side is an edge


def test_why_convolution_section_compares_with_a_dense_layer(app, test_split, media_files):
    """Lecture §1 on screen: parameter counts of a dense layer against a convolution with the same
    shapes, and the current image beside its pixel-shuffled version."""
    from explain.convolution import shuffle_pixels

    app.query_params["image"] = "3"
    at = app.run()
    assert not at.exception
    rows = [t.value for t in at.table if "same weights at every position" in t.value.columns]
    assert rows, "the comparison table must be on the page"
    table = rows[0]
    assert table["parameters"].tolist() == ["100,696,064", "896"]
    assert "112,384 times" in markdown(at)  # 100,696,064 / 896
    image = test_split.images[test_split.position_of(3)]
    # The two pictures, read back from the PNGs the page sends, with their captions.
    from PIL import Image

    shown_images = {img.caption: np.asarray(Image.open(io.BytesIO(media_files[img.url])))
                    for el in at.main.get("image") for img in el.proto.imgs}
    assert (shown_images["The image (32×32)"][::8, ::8] == image).all()
    assert (shown_images["Its pixels shuffled (one fixed order for every image)"][::8, ::8]
            == shuffle_pixels(image)).all()
