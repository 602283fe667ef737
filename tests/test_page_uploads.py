"""The user's own photo as the current image, on every page (AppTest, real checkpoint).

Uploads go through the sidebar's real ``st.file_uploader`` (AppTest can drive it) or, to start a
page with a photo already current, through the documented seam: an ``UploadedImage`` under
``ui.state.UPLOAD_KEY`` with ``SOURCE_KEY = PHOTO``, the state a real upload leaves. Every number
checked is computed here from the decoded pixels, not taken from the page.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from data.uploads import decode_upload
from tests.conftest import PROJECT, mosaic_panels, shown, top_classes_shown
from tests.conftest import plotly_array as array
from tests.conftest import plotly_charts as charts
from tests.test_page_feature_maps import close_up
from ui.state import PHOTO, SOURCE_KEY, TEST, UPLOAD_KEY

HOME = "dashboard.py"
PAGES = ("pages/1_Feature_maps.py", "pages/2_Semantic_map.py", "pages/3_1x1_weights.py",
         "pages/4_Prediction_heatmaps.py")


def photo_bytes() -> bytes:
    """A 96×64 RGB PNG: the centre 64×64 square is what the network sees."""
    rng = np.random.default_rng(7)
    px = rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(px).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def photo():
    return decode_upload(photo_bytes(), "my_cat.png")


@pytest.fixture(scope="module")
def photo_acts(frozen_checkpoint, photo):
    from explain.feature_maps import image_activations

    return {k: v[0] for k, v in image_activations(frozen_checkpoint.model, photo.pixels,
                                                  frozen_checkpoint.meta).items()}


@pytest.fixture(scope="module")
def photo_probs(frozen_checkpoint, photo):
    from model.inference import predict_logits, softmax

    meta = frozen_checkpoint.meta
    return softmax(predict_logits(frozen_checkpoint.model, photo.pixels[None], meta["mean"], meta["std"]))[0]


def make_app(page: str = HOME) -> AppTest:
    at = AppTest.from_file(str(PROJECT / HOME), default_timeout=240)
    return at if page == HOME else at.switch_page(page)


def with_photo(at: AppTest, photo) -> AppTest:
    """The test seam: the photo is current before the first run."""
    at.session_state[UPLOAD_KEY] = photo
    at.session_state[SOURCE_KEY] = PHOTO
    return at




def text(at) -> str:
    """All markdown, captions, headers and alerts of the page."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [h.value for h in at.header]
    parts += [e.value for e in at.error] + [i.value for i in at.info] + [s.value for s in at.success]
    return "\n".join(parts)


def sources(at) -> list:
    """The sidebar's "Test image / Your photo" radio, if shown."""
    return [r for r in at.radio if r.key == "image_source_picker"]


def url(at, key: str) -> str:
    value = at.query_params[key]
    return value[0] if isinstance(value, list) else value


# --- The sidebar: upload, refuse, switch, remove --------------------------------------------


def test_upload_in_the_sidebar_becomes_the_current_image(page_env, frozen_checkpoint, photo_probs):
    at = make_app().run()
    assert not at.exception
    assert "Current image: test #0" in [h.value for h in at.subheader]
    assert not sources(at)  # no choice to make before a photo is uploaded
    uploader = at.file_uploader(key="photo_uploader")
    assert uploader.label == "Your own photo"
    assert set(uploader.allowed_type) >= {".png", ".jpg", ".jpeg", ".webp", ".gif"}
    assert uploader.proto.max_upload_size_mb == 20  # the browser refuses bigger files before sending

    at = uploader.upload("my_cat.png", photo_bytes(), "image/png").run()
    assert not at.exception and not at.error
    assert at.radio(key="image_source_picker").value == PHOTO
    markdown = [m.value for m in at.markdown]
    assert "Current image: your photo" in [h.value for h in at.subheader]
    classes = frozen_checkpoint.classes
    guess = classes[int(photo_probs.argmax())]
    assert "File `my_cat.png`" in markdown
    # One verdict line, the same on the home page and in the sidebar: no true label for a photo.
    assert markdown.count(f"predicted **{guess}** ({float(photo_probs.max()):.0%}) · no true label") == 2
    captions = text(at)
    assert "Your photo stays in this browser session" in captions
    # The link keeps the last test image (uploads are not in links) and says so.
    assert url(at, "image") == "0" and "`image=0` opens test image #0" in captions

    # Back to the test image with the radio; the photo stays available.
    at = at.radio(key="image_source_picker").set_value(TEST).run()
    assert not at.exception
    assert "Current image: test #0" in [h.value for h in at.subheader]
    at = at.radio(key="image_source_picker").set_value(PHOTO).run()
    assert "Current image: your photo" in [h.value for h in at.subheader]

    # A new test number makes that test image current.
    at = at.number_input(key="image_picker").set_value(12).run()
    assert not at.exception
    assert "Current image: test #12" in [h.value for h in at.subheader]
    assert at.radio(key="image_source_picker").value == TEST and url(at, "image") == "12"


def test_bad_file_shows_the_reason_and_keeps_the_current_image(page_env, photo):
    at = make_app().run()
    at = at.file_uploader(key="photo_uploader").upload("notes.png", b"just some text\n" * 5, "image/png").run()
    assert not at.exception
    assert [shown(e.value) for e in at.error] == [
        "This file cannot be used: This file is not an image that can be read; "
        "upload a PNG, JPEG, WebP or GIF photo."]
    assert "Current image: test #0" in [h.value for h in at.subheader]
    assert UPLOAD_KEY not in at.session_state

    # With a photo current, a bad file keeps the photo.
    at = at.file_uploader(key="photo_uploader").set_value(("my_cat.png", photo_bytes(), "image/png")).run()
    assert not at.error and "Current image: your photo" in [h.value for h in at.subheader]
    at = at.file_uploader(key="photo_uploader").set_value(("empty.jpg", b"", "image/jpeg")).run()
    assert [shown(e.value) for e in at.error] == [
        "This file cannot be used: The file is empty (0 bytes); upload a PNG, JPEG, WebP or GIF photo."]
    assert "Current image: your photo" in [h.value for h in at.subheader]
    assert at.session_state[UPLOAD_KEY].key == photo.key


def test_animated_gif_note_and_photo_sizes_in_the_sidebar(page_env):
    frames = [Image.new("RGB", (300, 200), (255, 0, 0)).convert("P"),
              Image.new("RGB", (300, 200), (0, 0, 255)).convert("P")]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    at = make_app().run()
    at = at.file_uploader(key="photo_uploader").upload("party.gif", buf.getvalue(), "image/gif").run()
    assert not at.exception and not at.error
    assert "Note: animated GIF: the first frame is used." in [c.value for c in at.sidebar.caption]
    captions = [img.caption for el in at.sidebar.get("image") for img in el.proto.imgs]
    assert captions == ["Your photo: party.gif (300×200)", "As the network sees it: centre square, 32×32 pixels"]
    assert at.session_state[UPLOAD_KEY].pixels[0, 0].tolist() == [255, 0, 0]  # the first (red) frame


def test_remove_my_photo(page_env, photo):
    at = with_photo(make_app(), photo).run()
    assert "Current image: your photo" in [h.value for h in at.subheader]
    at = at.button(key="photo_forget").click().run()
    assert not at.exception
    assert "Current image: test #0" in [h.value for h in at.subheader]
    assert UPLOAD_KEY not in at.session_state and not sources(at)


def test_show_button_and_new_link_switch_back_to_test_images(page_env, photo):
    at = with_photo(make_app(), photo).run()
    first = next(b.key for b in at.button if (b.key or "").startswith("home_pick_"))
    at = at.button(key=first).click().run()
    assert not at.exception
    assert at.session_state[SOURCE_KEY] == TEST
    assert f"Current image: test #{first.removeprefix('home_pick_')}" in [h.value for h in at.subheader]

    at = with_photo(make_app(), photo)
    at.query_params["image"] = "42"  # a link opened with a photo current: the link wins
    at = at.run()
    assert "Current image: test #42" in [h.value for h in at.subheader]


# --- Every page uses the photo's pixels ---------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_with_the_photo_and_shows_no_true_class(page_env, photo, page):
    at = with_photo(make_app(page), photo).run()
    assert not at.exception
    assert not at.error
    # Outside the sidebar's note on links ("`image=0` opens test image #0"), nothing names the
    # test image or a true class.
    shown = "\n".join(line for line in text(at).splitlines() if "opens test image" not in line)
    assert "true class **" not in shown.lower()
    assert "test image #0" not in shown and "test #0" not in shown
    # Switching back to the test image works on every page.
    at = at.radio(key="image_source_picker").set_value(TEST).run()
    assert not at.exception
    assert at.session_state[SOURCE_KEY] == TEST


def test_feature_maps_page_shows_the_photo_and_its_activations(page_env, photo, photo_acts):
    at = with_photo(make_app(PAGES[0]), photo).run()
    figs = charts(at)
    # Wrapped to a third of the page (issue 11).
    assert close_up(figs, "input")[0].startswith("Input: your photo:<br>my_cat.png")
    maps = photo_acts["block1.relu1"]
    # The default channel: mean inside the map (central 24×24) most above the mean on its 4-wide ring.
    inside = maps[:, 4:28, 4:28].astype(np.float64).mean(axis=(1, 2))
    ring = (maps.astype(np.float64).sum(axis=(1, 2)) - inside * 576) / (1024 - 576)
    strongest = int(np.argmax(inside - ring))
    assert at.number_input(key="fm_channel").value == strongest
    one = maps[strongest]
    assert f"mean **{one.mean():.3f}**, max **{one.max():.3f}**" in text(at)
    z = array(close_up(figs, "map")[1]["z"])
    assert np.allclose(z, one, atol=1e-5)


def test_semantic_map_page_uses_the_photo(page_env, photo, photo_acts, reference_predictions):
    from explain.semantic import argmax_channel_map

    at = with_photo(make_app(PAGES[1]), photo).run()
    result = argmax_channel_map(photo_acts["block3.relu3"])
    legend = at.dataframe[0].value
    assert legend["channel"].tolist()[:8] == [f"#{c}" for c, _ in result.shares[:8]]  # top 8 in colour
    captions = text(at)
    top, share = result.shares[0]
    assert f"Your photo: {len(result.shares)} of the 128 channels win" in captions
    assert f"channel {top} wins the most ({share:.0%})" in captions
    channel = at.selectbox(key="sm_channel").value
    peak = float(photo_acts["block3.relu3"][channel].max())
    scores = reference_predictions.relu3_max  # computed in conftest, not read from the page's cache
    rank = int((scores[:, channel] > peak).sum()) + 1
    image_captions = [img.caption for el in at.main.get("image") for img in el.proto.imgs]
    assert (f"Channel {channel} on this image (your photo): max {peak:.2f}, would rank {rank:,} of "
            f"{len(scores):,} test images") in image_captions


def test_one_by_one_page_decomposes_the_photo(page_env, photo, photo_acts):
    at = with_photo(make_app(PAGES[2]), photo).run()
    assert "Output channel 0 of block3.conv3, for your photo (my_cat.png)" in [shown(h.value) for h in at.header]
    figs = charts(at)
    check = figs["ob_check"]
    actual = photo_acts["block3.conv3"][0]
    # The check figure's right-hand map is what the layer computed on the photo.
    by_hand, computed = mosaic_panels(check["data"][0]["z"])
    assert np.allclose(computed, actual, atol=1e-4) and np.allclose(by_hand, actual, atol=1e-4)
    assert any("Equal up to floating-point rounding" in s.value for s in at.success)


def test_heatmaps_page_predicts_the_photo_without_a_label(page_env, photo, photo_probs, frozen_checkpoint):
    at = with_photo(make_app(PAGES[3]), photo).run()
    classes = frozen_checkpoint.classes
    guess = classes[int(photo_probs.argmax())]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Predicted class": guess, "True class": "no label"}  # short: a metric truncates
    assert [i.value for i in at.info] == [
        f"Your photo has no true label: the network says **{guess}** with {photo_probs.max():.1%} "
        "probability. Is it right?"]
    assert not at.success  # no "Correct"/"Mistake" verdict without a label
    title, top5 = top_classes_shown(at)
    order = np.argsort(-photo_probs)[:5]
    assert [name for name, _ in top5] == [classes[i] for i in order]
    assert [p for _, p in top5] == [pytest.approx(float(photo_probs[i]), abs=5e-4) for i in order]
    assert "your photo (my_cat.png)" in title
    assert "Three heat maps for your photo (my_cat.png)" in [shown(h.value) for h in at.header]
    assert at.selectbox(key="hm_class").value == guess
    # CAM's mean + bias is the photo's logit for the class (exact for this architecture).
    from model.inference import predict_logits

    meta = frozen_checkpoint.meta
    logit = predict_logits(frozen_checkpoint.model, photo.pixels[None], meta["mean"], meta["std"])[0]
    k = classes.index(guess)
    assert f"= {logit[k]:+.2f})" in text(at)


def _upload_cases():
    """Issue 5's list of uploads, each built in memory: (file name, bytes, MIME, expected error or None)."""
    from tests.test_uploads import encode, png_header_only, solid

    rng = np.random.default_rng(3)
    rgb = Image.fromarray(rng.integers(0, 256, (40, 60, 3), dtype=np.uint8))
    valid_png = encode(rgb, "PNG")
    frames = [solid((200, 30, 40), (40, 40)), solid((20, 40, 220), (40, 40))]
    gif = io.BytesIO()
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    palette = rgb.convert("P", palette=Image.Palette.ADAPTIVE)
    palette.info["transparency"] = 0
    sixteen = Image.fromarray((rng.integers(0, 65536, (40, 60))).astype(np.uint16))
    rgba = rgb.convert("RGBA")
    rgba.putalpha(128)
    return [
        ("corrupt.png", valid_png[: len(valid_png) // 2], "image/png", "damaged"),
        ("random.jpg", rng.integers(0, 256, 4000, dtype=np.uint8).tobytes(), "image/jpeg", "not an image"),
        ("notes.png", b"<html>not a picture</html>", "image/png", "not an image"),
        ("bomb.png", png_header_only(20_000, 20_000), "image/png", "megapixel"),
        ("zero.png", b"", "image/png", "empty (0 bytes)"),
        ("sixteen_bit.png", encode(sixteen, "PNG"), "image/png", None),
        ("grey.png", encode(rgb.convert("L"), "PNG"), "image/png", None),
        ("palette.png", encode(palette, "PNG", transparency=0), "image/png", None),
        ("cmyk.jpg", encode(rgb.convert("CMYK"), "JPEG"), "image/jpeg", None),
        ("rgba.png", encode(rgba, "PNG"), "image/png", None),
        ("animated.gif", gif.getvalue(), "image/gif", None),
        ("photo.webp", encode(rgb, "WEBP", lossless=True), "image/webp", None),
    ]


@pytest.mark.parametrize("name,data,mime,error", _upload_cases(), ids=[c[0] for c in _upload_cases()])
def test_every_kind_of_upload_in_the_page(page_env, name, data, mime, error):
    """Through the real sidebar uploader: a bad file gets its message in the page and leaves the
    test image current; an unusual but valid one becomes the current image, as decode_upload sees it."""
    at = make_app().run()
    at = at.file_uploader(key="photo_uploader").upload(name, data, mime).run()
    assert not at.exception
    if error:
        assert len(at.error) == 1 and error in shown(at.error[0].value), [e.value for e in at.error]
        assert "Current image: test #0" in [h.value for h in at.subheader]
        assert UPLOAD_KEY not in at.session_state
    else:
        assert not at.error, [e.value for e in at.error]
        assert "Current image: your photo" in [h.value for h in at.subheader]
        assert np.array_equal(at.session_state[UPLOAD_KEY].pixels, decode_upload(data, name).pixels)


# --- Any size and aspect ratio that decodes (issue 11) --------------------------------------------


def png_of_size(width: int, height: int) -> bytes:
    rng = np.random.default_rng(width * 7919 + height)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


# (width, height): a 4000×20 banner crashed the sidebar ("height and width must be > 0"), its
# tall twin, one-pixel-thin lines both ways and a single pixel.
EXTREMES = [(4000, 20), (20, 4000), (3000, 1), (1, 3000), (1, 1)]


@pytest.mark.parametrize("width,height", EXTREMES)
def test_any_aspect_ratio_is_shown_in_the_sidebar(page_env, width, height):
    at = make_app().run()
    at = at.file_uploader(key="photo_uploader").upload("banner.png", png_of_size(width, height), "image/png").run()
    assert not at.exception and not at.error
    assert "Current image: your photo" in [h.value for h in at.subheader]
    (thumb, network) = [img for el in at.sidebar.get("image") for img in el.proto.imgs]
    assert thumb.caption == f"Your photo: banner.png ({width:,}×{height:,})"
    assert network.caption == "As the network sees it: centre square, 32×32 pixels"


@pytest.mark.parametrize("width,height", [(3000, 1), (1, 3000), (1, 1)])
def test_any_aspect_ratio_works_on_the_playground(page_env, width, height):
    """The playground convolves the photo itself (not its 32×32 view): a 1-pixel line gets a
    one-line message for the 3×3 kernel, and with padding 1 it is convolved."""
    photo = decode_upload(png_of_size(width, height), "line.png")
    at = with_photo(make_app("pages/5_Convolution_playground.py"), photo).run()
    assert not at.exception
    shown_h, shown_w = photo.original.shape[:2]
    errors = [shown(e.value) for e in at.error]
    expected = (f"The 3×3 kernel is larger than the padded input ({shown_h}×{shown_w} = {shown_h}×{shown_w} "
                "plus padding 0 on each side), so it fits nowhere: make the kernel smaller or the "
                f"padding larger. (your photo line.png is {shown_h}×{shown_w} pixels.)")
    assert errors == [expected]
    at = at.slider(key="cv_padding").set_value(1).run()
    assert not at.exception and not at.error
    assert f"Each colour channel gives a {shown_h}×{shown_w} map" in "\n".join(m.value for m in at.markdown)


@pytest.mark.parametrize("width,height", EXTREMES)
def test_any_aspect_ratio_in_the_playgrounds_own_uploader(page_env, width, height):
    at = make_app("pages/5_Convolution_playground.py").run()
    at = at.file_uploader(key="cv_upload").upload("strip.png", png_of_size(width, height), "image/png").run()
    assert not at.exception
    for e in at.error:  # what does not fit gets one line, never a traceback
        assert "\n" not in e.value and "strip.png is" in shown(e.value)


# --- After a page change (issue 11) -----------------------------------------------------------------


@pytest.mark.parametrize("page", (HOME, *PAGES, "pages/5_Convolution_playground.py"))
def test_uploader_names_the_photo_it_no_longer_shows(page_env, photo, page):
    """On another page the uploader is a new, empty widget; the photo is still the current image,
    and the box says so and still offers to remove it."""
    at = with_photo(make_app(page), photo).run()
    assert not at.exception
    assert at.file_uploader(key="photo_uploader").value is None  # the widget has no file …
    captions = [c.value for c in at.sidebar.caption]
    assert "Current photo: `my_cat.png`. Upload another file to replace it." in captions  # … the page says
    assert at.button(key="photo_forget").label == "Remove my photo"
    # With the test image current, the photo is kept but not shown, and the caption says so.
    at = at.radio(key="image_source_picker").set_value(TEST).run()
    assert ("Current photo: `my_cat.png` (not shown now: choose “Your photo” below). Upload another file "
            "to replace it.") in [c.value for c in at.sidebar.caption]


def test_no_photo_no_caption(page_env):
    at = make_app().run()
    assert not [c.value for c in at.sidebar.caption if c.value.startswith("Current photo")]
    assert not [b for b in at.button if b.key == "photo_forget"]


def test_one_verdict_line_for_every_image():
    from ui.state import CurrentImage

    classes = ("cat", "dog")
    pixels = np.zeros((32, 32, 3), np.uint8)
    right = CurrentImage("test-1", pixels, "test #1 (cat)", 0, 1)
    wrong = CurrentImage("test-2", pixels, "test #2 (cat)", 0, 2)
    photo = CurrentImage("upload-x", pixels, "your photo: x.png", None, None)
    p = np.array([0.39, 0.61])
    assert right.verdict(classes, p[::-1]) == "true **cat** · :green[✓ predicted **cat** (61%)]"
    assert wrong.verdict(classes, p) == "true **cat** · :red[✗ predicted **dog** (61%)]"
    assert wrong.verdict(classes, p, say_truth=False) == ":red[✗ predicted **dog** (61%)]"
    assert photo.verdict(classes, p) == "predicted **dog** (61%) · no true label"
