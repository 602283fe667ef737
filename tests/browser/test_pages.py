"""Every page in a real browser: it finishes its run, shows no exception, shows its content,
answers its main widgets, and leaves a screenshot in artifacts/screenshots/.

The page tests are parametrized over the files in pages/: a new page is opened (and must run
cleanly) even before it has its own interactions below.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from streamlit.source_util import page_icon_and_name

from tests.browser.conftest import screenshot, settle, wait_for_run
from tests.conftest import PROJECT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The Lecture page has no figure of its own: tests/browser/test_lecture_browser.py covers it.
PAGES = [p for p in sorted((PROJECT / "pages").glob("*.py")) if p.stem != "7_Lecture"]
EXCEPTION = '[data-testid="stException"]'


def url_path(page_file: Path) -> str:
    return page_icon_and_name(page_file)[1]


def assert_clean(page) -> None:
    assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).first.inner_text()


def choose(page, selectbox, option: str | None = None) -> None:
    """Open a Streamlit select box and pick ``option`` (by typing it) or the next option."""
    selectbox.locator("input").click()
    if option is None:
        page.keyboard.press("ArrowDown")
    else:
        page.keyboard.type(option)
    page.keyboard.press("Enter")
    settle(page)


def widget(page, testid: str, label: str, where: str = '[data-testid="stMain"]'):
    return page.locator(f'{where} [data-testid="{testid}"]').filter(has_text=label).first


def select_box(page, label: str):
    return widget(page, "stSelectbox", label)


def selected(box) -> str:
    """The option a select box shows (the value of its search field)."""
    return box.locator("input").input_value()


def set_number(page, label: str, value: int, where: str = '[data-testid="stMain"]') -> None:
    box = widget(page, "stNumberInput", label, where).locator("input")
    box.fill(str(value))
    box.press("Enter")
    settle(page)


def pick_radio(page, label: str, option: str) -> None:
    widget(page, "stRadio", label).get_by_text(option, exact=True).click()
    settle(page)


def nudge_slider(page, label: str, key: str, times: int = 1) -> str:
    """Move a slider with the keyboard (as a user can); returns the value it shows afterwards."""
    slider = widget(page, "stSlider", label)
    thumb = slider.get_by_role("slider")
    thumb.focus()
    for _ in range(times):
        page.keyboard.press(key)
    settle(page)
    return slider.locator('[data-testid="stSliderThumbValue"]').inner_text()


def heading(page, level: str, text: str):
    """Wait for a heading (h1/h2/h3) containing ``text``."""
    loc = page.locator(level).filter(has_text=text).first
    loc.wait_for()
    return loc


def plot_title(page, text: str):
    """Wait for a Plotly figure whose title, or a panel's title in a row of panels (an annotation),
    contains ``text`` (SVG text, line breaks dropped)."""
    loc = page.locator(".js-plotly-plot .gtitle, .js-plotly-plot .annotation-text").filter(has_text=text).first
    loc.wait_for()
    return loc


def sidebar_image(page, expected: int) -> int:
    """The sidebar's "Test image #" once it shows ``expected`` (the field is drawn a moment after the
    run ends, briefly showing 0), or whatever it shows after 30 s."""
    from playwright.sync_api import expect

    box = widget(page, "stNumberInput", "Test image #", '[data-testid="stSidebar"]').locator("input")
    try:
        expect(box).to_have_value(str(expected), timeout=30_000)
    except AssertionError:
        pass
    return int(box.input_value())


def thumbs(page, count: int) -> list[str]:
    """The browser's thumbnail captions ("#idx truth → guess 97% ✓"), once ``count`` have loaded
    (images arrive after the script run has ended)."""
    page.wait_for_function("""n => [...document.querySelectorAll('[data-testid="stImageCaption"]')]
        .filter(e => e.innerText.includes('→')).length === n""", arg=count)
    return [c for c in page.locator('[data-testid="stImageCaption"]').all_inner_texts() if "→" in c]


def query(page) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlparse(page.url).query).items()}


# --- Home -------------------------------------------------------------------------------------

def test_home_in_a_browser(server, page):
    page.goto(f"{server}/?image=3")
    wait_for_run(page)
    heading(page, "h1", "What does a trained CNN see?")
    heading(page, "h3", "Current image: test #3")
    # One verdict line (ui.state.CurrentImage.verdict): true class, then the prediction.
    assert page.get_by_text("true airplane · ✓ predicted airplane").count() == 1
    accuracy = widget(page, "stMetric", "Test accuracy (top-1)")
    assert accuracy.locator('[data-testid="stMetricValue"]').inner_text() == "91.13%"
    # Vega-Lite, not Plotly, on the home page (render/home.py): per class, loss, accuracy, confusion.
    page.locator('[data-testid="stVegaLiteChart"] svg').nth(3).wait_for()
    assert page.locator(".js-plotly-plot").count() == 0
    assert page.locator('svg [aria-label*="class: cat"][aria-label*="accuracy: 83%"]').count() == 2  # bar, label
    assert sidebar_image(page, 3) == 3
    assert_clean(page)
    screenshot(page, "0_home")
    # The main widget: filter the browser to one class; every thumbnail caption follows.
    page.get_by_text("Current image: test #3").scroll_into_view_if_needed()
    choose(page, select_box(page, "True class"), "ship")
    page.get_by_text("1,000 images", exact=True).wait_for()  # 1,000 ships in the test set
    assert all(" ship → " in c for c in thumbs(page, 24))
    pick_radio(page, "Predictions", "incorrect")
    wrong = thumbs(page, 24)
    assert all(" ship → " in c and " ship → ship " not in c and c.endswith("✗") for c in wrong)
    assert_clean(page)


def confusion_cell(page, true: str, predicted: str):
    """One cell of the home page's confusion matrix: Vega draws each as an SVG path whose ARIA
    label names its fields, e.g. "predicted class: dog; true class: cat; images: 73"."""
    cell = page.locator(f'[data-testid="stVegaLiteChart"] svg path[aria-label^="predicted class: {predicted}; '
                        f'true class: {true}; images: "]')
    cell.wait_for()
    return cell


def test_confusion_matrix_cell_click_filters_the_browser(server, page):
    page.goto(f"{server}/?image=3")
    wait_for_run(page)
    page.get_by_text("10,000 images", exact=True).wait_for()
    before = thumbs(page, 24)
    assert any(" cat → dog " not in c for c in before)
    cell = confusion_cell(page, "cat", "dog")
    assert cell.get_attribute("aria-label").endswith("images: 73")  # cats taken for dogs by this checkpoint
    cell.scroll_into_view_if_needed()
    cell.click()
    page.get_by_text("73 images", exact=True).wait_for(timeout=60_000)
    settle(page)
    assert selected(select_box(page, "True class")) == "cat"
    assert selected(select_box(page, "Predicted class")) == "dog"
    after = thumbs(page, 24)
    assert after != before and all(" cat → dog " in c for c in after)
    assert_clean(page)
    screenshot(page, "0_home_cell_cat_dog")


def test_url_round_trip(server, page):
    page.goto(f"{server}/Feature_maps?image=123&layer=block2.relu1")
    wait_for_run(page)
    assert sidebar_image(page, 123) == 123
    page.locator('[data-testid="stSidebar"]').get_by_text("#123: true bird").wait_for()
    assert selected(select_box(page, "Layer")) == "block2 · relu1 — 1×64×16×16"
    plot_title(page, "block2.relu1: all 64 channels (1×64×16×16)")
    assert query(page)["image"] == "123" and query(page)["layer"] == "block2.relu1"
    # The link the page now shows reopens the same view in a fresh session.
    link = page.url
    fresh = page.context.browser.new_context().new_page()
    fresh.goto(link)
    wait_for_run(fresh)
    fresh.locator('[data-testid="stSidebar"]').get_by_text("#123: true bird").wait_for()
    assert sidebar_image(fresh, 123) == 123
    assert selected(select_box(fresh, "Layer")) == "block2 · relu1 — 1×64×16×16"
    assert query(fresh) == query(page)
    assert_clean(page)
    assert_clean(fresh)
    fresh.context.close()


# --- One interaction script per page ----------------------------------------------------------

def feature_maps(page, image: int) -> None:
    heading(page, "h1", "Feature maps")
    plot_title(page, "block1.relu1: all 32 channels (1×32×32×32)")
    plot_title(page, "by channel index, shared colour scale")
    choose(page, select_box(page, "Layer"), "block2 · relu1")
    plot_title(page, "block2.relu1: all 64 channels (1×64×16×16)")
    pick_radio(page, "Order channels by", "max activation")
    plot_title(page, "by max activation")
    set_number(page, "Channel to enlarge", 5)
    heading(page, "h3", "Channel 5 of block2.relu1, beside the input")
    plot_title(page, "Channel 5")
    assert query(page) == {"image": str(image), "layer": "block2.relu1", "channel": "5"}


def semantic_map(page, image: int) -> None:
    heading(page, "h1", "Semantic map")
    plot_title(page, "block3.relu3: 8×8 positions")
    assert nudge_slider(page, "Colour opacity over the image", "ArrowRight") == "0.45"
    choose(page, select_box(page, "Layer"), "block2 · relu3")
    plot_title(page, "block2.relu3: 16×16 positions")
    page.get_by_text("Legend — winning channels of block2.relu3").wait_for()
    assert page.locator('[data-testid="stDataFrame"]').count() >= 1
    heading(page, "h2", "Name a channel")
    assert query(page)["layer"] == "block2.relu3"


def one_by_one(page, image: int) -> None:
    heading(page, "h1", "1×1 convolution: a weighted sum of feature maps")
    heading(page, "h2", f"Output channel 0 of block3.conv3, for test image #{image}")
    pick_radio(page, "1×1 layer", "block2.conv3")
    heading(page, "h2", f"Output channel 0 of block2.conv3, for test image #{image}")
    set_number(page, "Output channel of block2.conv3", 7)
    heading(page, "h2", f"Output channel 7 of block2.conv3, for test image #{image}")
    heading(page, "h3", "The sum is the layer")
    assert query(page) == {"image": str(image), "layer": "block2.conv3", "channel": "7"}


def heatmaps(page, image: int) -> None:
    heading(page, "h1", "Where did the network look?")
    truth = widget(page, "stMetric", "True class").locator('[data-testid="stMetricValue"]')
    assert truth.inner_text() == "dog"  # test #12
    heading(page, "h2", f"Three heat maps for test image #{image}")
    choose(page, select_box(page, "Class for CAM and Grad-CAM"), "cat")
    plot_title(page, "CAM for “cat”")
    plot_title(page, "Grad-CAM for “cat”")
    assert nudge_slider(page, "Heat-map opacity", "ArrowLeft", 2) == "0.40"
    # Only the open tab is drawn: the gallery once its tab is clicked, the heat maps again after theirs
    # (AppTest cannot click a tab: this is where the tabs' own state is followed into the URL).
    assert page.get_by_text("Gallery: right and wrong side by side").count() == 0
    page.get_by_role("tab", name="Gallery: right and wrong").click()
    heading(page, "h2", "Gallery: right and wrong side by side")
    pick_radio(page, "Heat map in the thumbnails", "CAM of the predicted class")
    assert query(page)["class"] == "cat" and query(page)["method"] == "cam" and query(page)["view"] == "gallery"
    page.get_by_role("tab", name="Heat maps of this image").click()
    heading(page, "h2", f"Three heat maps for test image #{image}")
    settle(page)  # the run has ended: the gallery's elements are gone, not just stale
    assert query(page)["view"] == "maps" and page.get_by_text("Gallery: right and wrong side by side").count() == 0


def playground(page, image: int) -> None:
    heading(page, "h1", "Convolution playground")
    page.get_by_text("so the output is 4×4").wait_for()
    heading(page, "h3", "Step 1 of 16")
    page.get_by_role("button", name="Next →").click()
    heading(page, "h3", "Step 2 of 16: output row 0, column 1")
    assert nudge_slider(page, "Padding p", "ArrowRight") == "1"
    page.get_by_text("so the output is 6×6").wait_for()
    heading(page, "h3", " of 36: output row")
    pick_radio(page, "Kernel", "horizontal edge")
    plot_title(page, "(horizontal edge)")
    assert query(page)["kernel"] == "horizontal edge"
    heading(page, "h2", "The same kernel on a real image")


def shapes(page, image: int) -> None:
    heading(page, "h1", "Shapes and parameters")

    def metric(label: str) -> str:
        return widget(page, "stMetric", label).locator('[data-testid="stMetricValue"]').inner_text()

    # Lecture exercise: 1×3×7×7, ten then twenty 3×3 filters: 10·3·9+10 + 20·10·9+20 parameters.
    assert metric("Output") == "1×20×3×3"
    assert metric("Parameters (all layers)") == "2,100"
    choose(page, select_box(page, "Example from the lecture"), "CIFAR-10 batch")
    # 32 filters 3×3 on 3 channels, then on 32, padding 1, 2×2 max pooling: 896 + 9,248.
    page.locator('[data-testid="stMetricValue"]').filter(has_text="32×32×16×16").wait_for()
    assert metric("Parameters (all layers)") == "10,144"
    heading(page, "h2", "3. Receptive field of every layer of this network")


def channel(page, image: int) -> None:
    heading(page, "h1", "Channel atlas")
    page.get_by_text("Mean activation per class").first.wait_for()  # HTML bars, no Plotly on this page
    set_number(page, "Channel (0–127)", 5)
    heading(page, "h2", "Channel 5 of block3.relu3")
    page.get_by_text("block3.relu3, channel 5").first.wait_for()  # the class means follow the channel
    assert query(page)["channel"] == "5"


CHECKS = {"1_Feature_maps": feature_maps, "2_Semantic_map": semantic_map, "3_1x1_weights": one_by_one,
          "4_Prediction_heatmaps": heatmaps, "5_Convolution_playground": playground,
          "6_Shapes_and_parameters": shapes, "8_Channel": channel}
NO_IMAGE_SIDEBAR = {"6_Shapes_and_parameters"}
NO_PLOTLY = {"8_Channel"}  # its bars are HTML (render.common.bars_html)


@pytest.mark.parametrize("page_file", PAGES, ids=[p.stem for p in PAGES])
def test_page_in_a_browser(server, page, page_file):
    image = 12
    page.goto(f"{server}/{url_path(page_file)}?image={image}")
    wait_for_run(page)
    if page_file.stem not in NO_PLOTLY:
        page.wait_for_selector(".js-plotly-plot")
    assert_clean(page)
    if page_file.stem not in NO_IMAGE_SIDEBAR:  # the shared current image arrived from the URL
        assert sidebar_image(page, image) == image
        page.locator('[data-testid="stSidebar"]').get_by_text(f"#{image}: true dog").wait_for()
    screenshot(page, page_file.stem)
    check = CHECKS.get(page_file.stem)
    if check is None:  # a page without its own script yet: its first select box takes its next option
        boxes = page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]')
        if boxes.count():
            before = page.locator(".js-plotly-plot").first.inner_html()
            choose(page, boxes.first)
            assert page.locator(".js-plotly-plot").first.inner_html() != before
    else:
        check(page, image)
    assert_clean(page)
    if page_file.stem not in NO_IMAGE_SIDEBAR:  # the page's widgets never move the current image
        assert sidebar_image(page, image) == image
