"""Slides for export: exact size, the panels' own pixels, user text drawn literally."""

from __future__ import annotations

import io
import re
import zlib

import numpy as np
import pytest
from PIL import Image

from render.slide import (
    SLIDE_SIZE,
    CategoryPanel,
    GridPanel,
    HandoutPage,
    ImagePanel,
    MapPanel,
    footer_text,
    handout_pdf,
    slide_file_name,
    slide_png,
)

RED = np.zeros((32, 32, 3), np.uint8)
RED[..., 0] = 255


def decode(png: bytes) -> np.ndarray:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def is_colour(pixels: np.ndarray, rgb) -> np.ndarray:
    return np.all(np.abs(pixels.astype(int) - np.array(rgb)) <= 2, axis=-1)


def test_footer_names_model_checkpoint_and_image():
    assert footer_text("LectureCNN", "0123456789abcdef", "CIFAR-10 test image #42") == \
        "Model LectureCNN · checkpoint 01234567 · CIFAR-10 test image #42"
    assert footer_text("m", "ab", "", "block3.relu3") == "Model m · checkpoint ab · block3.relu3"


def test_file_name_is_safe():
    assert slide_file_name("feature maps", 3, "block1.relu1", "channel 5") == \
        "feature-maps_3_block1.relu1_channel-5.png"
    assert slide_file_name("../<script>", "a/b") == "script_a-b.png"


def test_slide_has_the_promised_size_and_the_image_panel_pixels():
    pixels = decode(slide_png("A red square", [ImagePanel("red", RED)], "footer"))
    assert pixels.shape == (SLIDE_SIZE[1], SLIDE_SIZE[0], 3)
    red = is_colour(pixels, (255, 0, 0))
    # One panel fills the slide's height between title and footer: a big red square in the middle.
    ys, xs = np.nonzero(red)
    height, width = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    assert red.sum() == height * width  # one solid block, nothing red elsewhere
    assert 700 <= height <= 1000 and abs(height - width) <= 2
    assert abs((xs.min() + xs.max()) / 2 - SLIDE_SIZE[0] / 2) < 40


def test_panels_sit_left_to_right_in_order():
    green = np.zeros_like(RED)
    green[..., 1] = 255
    pixels = decode(slide_png("Two", [ImagePanel("red", RED), ImagePanel("green", green)]))
    red_x = np.nonzero(is_colour(pixels, (255, 0, 0)))[1]
    green_x = np.nonzero(is_colour(pixels, (0, 255, 0)))[1]
    assert red_x.size > 100_000 and green_x.size > 100_000
    assert red_x.max() < SLIDE_SIZE[0] / 2 < green_x.min()


def test_other_size():
    pixels = decode(slide_png("Small", [ImagePanel("red", RED)], size=(1280, 720)))
    assert pixels.shape == (720, 1280, 3)


def test_map_panel_uses_the_colour_map_ends():
    values = np.zeros((4, 4), np.float32)
    values[:, 2:] = 1.0  # left half lowest, right half highest
    pixels = decode(slide_png("Map", [MapPanel("halves", values, "value", cmap="gray")]))
    black = np.nonzero(is_colour(pixels, (0, 0, 0)))
    white_cells = is_colour(pixels, (255, 255, 255))
    assert black[0].size > 50_000  # the low half is a big black block
    # Just right of the black block the map is white (the high half).
    y, x = int(np.median(black[0])), int(black[1].max()) + 5
    assert white_cells[y, x]


def test_diverging_map_is_red_for_positive_and_blue_for_negative():
    values = np.array([[-2.0, 2.0]], np.float32)
    pixels = decode(slide_png("Signed", [MapPanel("signed", values, "value", diverging=True)]))
    reddish = (pixels[..., 0] > 80) & (pixels[..., 0] > pixels[..., 2] + 60)
    bluish = (pixels[..., 2] > 80) & (pixels[..., 2] > pixels[..., 0] + 60)
    assert reddish.sum() > 20_000 and bluish.sum() > 20_000
    assert np.nonzero(bluish)[1].mean() < np.nonzero(reddish)[1].mean()  # negative left, positive right


def test_category_panel_colours_and_different_inputs_give_different_pngs():
    codes = np.array([[0, 1], [1, 1]])
    legend = [(0, "ear", "#ff0000"), (1, "grass", "#0000ff")]
    a = slide_png("Semantic", [CategoryPanel("winners", codes, legend)])
    pixels = decode(a)
    red, blue = is_colour(pixels, (255, 0, 0)), is_colour(pixels, (0, 0, 255))
    # Three blue cells, one red, plus a small swatch of each in the legend.
    assert 2.5 < blue.sum() / red.sum() < 3.2
    b = slide_png("Semantic", [CategoryPanel("winners", codes, [(0, "ear", "#00ff00"), legend[1]])])
    assert a != b and not is_colour(decode(b), (255, 0, 0)).any()


def test_grid_panel_tiles_every_map():
    maps = np.stack([np.full((4, 4), v, np.float32) for v in (0.0, 1.0, 0.0, 1.0)])
    pixels = decode(slide_png("Grid", [GridPanel("4 maps", maps, ["a", "b", "c", "d"], "activation",
                                                 cmap="gray", columns=4)]))
    black = is_colour(pixels, (0, 0, 0))
    # Two black tiles side by side with white tiles between: black columns form two separate runs.
    cols = np.nonzero(black.sum(axis=0) > 300)[0]  # tall black columns: tiles (not labels, colour bar)
    runs = [r for r in np.split(cols, np.nonzero(np.diff(cols) > 1)[0] + 1) if len(r) > 100]
    assert len(runs) == 2  # (the colour bar's black end is a few pixels wide)
    assert abs(len(runs[0]) - len(runs[1])) <= 2 and runs[1][0] - runs[0][-1] > len(runs[0])
    with pytest.raises(ValueError, match="4 maps but 3 labels"):
        slide_png("Grid", [GridPanel("x", maps, ["a", "b", "c"], "activation")])


@pytest.mark.filterwarnings("error")  # e.g. a 200-character name must not break the layout
def test_user_text_is_drawn_literally_and_does_not_crash():
    names = ["<script>alert(1)</script>", "$\\frac{", "50% & $5", "a" * 200]
    maps = np.random.default_rng(0).random((4, 8, 8)).astype(np.float32)
    legend = [(i, name, colour) for i, (name, colour) in
              enumerate(zip(names, ("#ff0000", "#00ff00", "#0000ff", "#ffff00")))]
    png = slide_png("$unbalanced <b>title</b>", [
        GridPanel("$\\alpha", maps, names, "<i>colour</i> $"),
        CategoryPanel("<script>", np.arange(4).reshape(2, 2), legend),
        MapPanel("$$", maps[0], "$", x_labels=[f"${i}" for i in range(8)], y_labels=names * 2),
    ], footer_text("<script>", "$$$$$$$$$$", 1))
    assert decode(png).shape == (SLIDE_SIZE[1], SLIDE_SIZE[0], 3)


def test_a_slide_needs_panels():
    with pytest.raises(ValueError):
        slide_png("Empty", [])


# --- Each view's slide (render/<view>.py) on hand-made data ---------------------------

def test_view_slides_have_the_slide_size_and_show_the_input():
    import torch

    from explain.feature_maps import FeatureMapsView
    from explain.heatmaps import HeatMap, ImageHeatMaps
    from explain.home import TestSetSummary
    from explain.one_by_one import OneByOneView, decompose, top_contributions
    from explain.semantic import semantic_view
    from render.feature_maps import feature_maps_slide
    from render.heatmaps import heatmaps_slide
    from render.home import confusion_slide
    from render.one_by_one import one_by_one_slide
    from render.semantic import semantic_slide

    rng = np.random.default_rng(0)
    maps = rng.random((8, 4, 4)).astype(np.float32)
    classes = ["airplane", "automobile", "bird"]
    conv = torch.nn.Conv2d(8, 4, 1)
    with torch.no_grad():
        out = conv(torch.from_numpy(maps)[None])[0].numpy()
    d = decompose(conv, maps, out, 0)
    pngs = {
        "feature maps": feature_maps_slide(FeatureMapsView("block1.relu1", maps, np.array([7, 0, 1, 2, 3, 4, 5, 6]),
                                                           "max", 7, True), RED, "test #3 (cat)", "f"),
        "semantic": semantic_slide(semantic_view(maps, "block3.relu3", {"block3.relu3": {"2": "<b>ear</b>"}}),
                                   RED, "test #3 (cat)", 0.0, "f"),
        "1x1": one_by_one_slide(OneByOneView("block3.conv3", "block3.relu2", (1, 8, 4, 4), (1, 4, 4, 4), d,
                                             top_contributions(d, 2)), "test #3", "f"),
        "heat maps": heatmaps_slide(RED, "test #3 (cat)", "dog", "dog",
                                    ImageHeatMaps(5, (HeatMap("CAM", maps[0], "block3.pool", (1, 8, 4, 4)),), 0.1),
                                    0.5, "f"),
        "home": confusion_slide(TestSetSummary(tuple(classes), 45, 0.9, {}, np.arange(9).reshape(3, 3)),
                                RED, "test #3 (cat)", "dog", 0.5, "f"),
    }
    for name, png in pngs.items():
        pixels = decode(png)
        assert pixels.shape == (1080, 1920, 3), name
        if name not in ("1x1", "heat maps"):  # (heat maps: the map covers the image)
            assert is_colour(pixels, (255, 0, 0)).sum() > 40_000, name  # the red input image
    assert len(set(pngs.values())) == len(pngs)


def test_pooling_slide_writes_values_on_readable_colours():
    from render.shapes import pooling_slide

    maps = np.array([[[0.0, 9.0], [9.0, 0.0]]], np.float32)  # 1×2×2
    pixels = decode(pooling_slide([("Input 1×2×2", maps)], 9.0, "f"))
    assert pixels.shape == (1080, 1920, 3)
    white, dark = is_colour(pixels, (255, 255, 255)), pixels.sum(axis=-1) < 200  # Blues: 0 white, 9 navy
    assert dark.sum() > 100_000  # the two dark cells
    # White digits are written on the dark cells: white pixels inside the dark cells' bounding box.
    ys, xs = np.nonzero(dark)
    box = white[ys.min():ys.max(), xs.min():xs.max()]
    assert box.sum() > 200


def pdf_pages_text(pdf: bytes) -> list[str]:
    """The text drawn on each page of a matplotlib PDF: every content stream inflated, the strings
    of its Tj/TJ operators joined (no PDF library in the pinned requirements)."""
    pages = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            data = zlib.decompress(stream)
        except zlib.error:
            continue
        if b"BT" not in data:
            continue  # a font or image, not a page's text
        strings = []
        for op in re.finditer(rb"\[(.*?)\]\s*TJ|\(((?:\\.|[^\\)])*)\)\s*Tj", data, re.S):
            parts = re.findall(rb"\(((?:\\.|[^\\)])*)\)", op.group(1)) if op.group(1) is not None else [op.group(2)]
            strings.append(b"".join(parts).decode("latin-1"))
        pages.append(" ".join(strings))
    return pages


def test_the_handout_is_a_pdf_page_per_slide_with_its_notes():
    from data.deck import load_default_deck

    deck = load_default_deck()
    picture = slide_png("A slide", [ImagePanel("red", RED)])
    pages = [HandoutPage(s.title, s.page, s.notes, picture if i == 14 else None) for i, s in enumerate(deck.slides)]
    pdf = handout_pdf(deck.title, pages, "footer")
    assert pdf[:5] == b"%PDF-"
    texts = pdf_pages_text(pdf)
    assert len(texts) == len(deck) >= 12
    count = len(re.findall(rb"/Type\s*/Page\b", pdf))
    assert count == len(deck)
    for number, (slide, text) in enumerate(zip(deck.slides, texts), start=1):
        flat = " ".join(text.split())
        assert f"{number} / {len(deck)}" in flat
        # Words of the notes: plain ASCII ones (ligatures such as "fi" are drawn as glyphs).
        words = [w for w in re.findall(r"[A-Za-z]{5,}", slide.notes) if not re.search("f[filt]", w)]
        missing = [w for w in words if w not in flat]
        assert not missing, (number, missing[:5])
    with pytest.raises(ValueError):
        handout_pdf("empty", [])


def test_a_korean_handout_has_every_glyph_and_the_minus_sign():
    """The handout in Korean: Hangul from NanumGothic, Latin text and "−" from DejaVu Sans, and not
    one missing-glyph warning (matplotlib warns "Glyph … missing from font(s)")."""
    import warnings

    from data.deck import load_default_deck

    deck = load_default_deck()
    pages = [HandoutPage(s.title_in("ko"), s.page, s.notes_in("ko") + " −3.5", None) for s in deck.slides[:3]]
    pages.append(HandoutPage("빈 노트", "Lecture", "", None))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pdf = handout_pdf(deck.title_in("ko"), pages, "모델 −1", lang="ko")
    assert pdf[:5] == b"%PDF-"
    assert not [w for w in caught if "missing from font" in str(w.message)], [str(w.message) for w in caught]
    assert any(any("\uac00" <= ch <= "\ud7a3" for ch in s.title_in("ko")) for s in deck.slides[:3])  # Hangul was drawn


def test_the_hangul_font_is_found_without_koreanize_matplotlibs_global_changes():
    """koreanize-matplotlib's import sets matplotlib's global font and makes tick minus signs
    hyphens: the slides and the web font find NanumGothic without importing it."""
    import subprocess
    import sys

    from tests.conftest import PROJECT

    script = ("import sys, matplotlib\n"
              "from render.slide import register_fonts\n"
              "register_fonts()\n"
              "print('koreanize_matplotlib' in sys.modules, matplotlib.rcParams['axes.unicode_minus'])\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "True"]
