"""Every page in a real browser: it finishes its run, shows no exception, shows its content,
answers its main widget, and leaves a screenshot in artifacts/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.source_util import page_icon_and_name

from tests.browser.conftest import screenshot, wait_for_run
from tests.conftest import PROJECT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = sorted((PROJECT / "pages").glob("*.py"))


def url_path(page_file: Path) -> str:
    return page_icon_and_name(page_file)[1]


def assert_clean(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
        '[data-testid="stException"]').first.inner_text()


def choose(page, selectbox, option: str | None = None) -> None:
    """Open a Streamlit select box and pick ``option`` (by typing it) or the next option."""
    selectbox.locator("input").click()
    if option is None:
        page.keyboard.press("ArrowDown")
    else:
        page.keyboard.type(option)
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    wait_for_run(page)


def test_home_in_a_browser(server, page):
    page.goto(f"{server}/?image=3")
    wait_for_run(page)
    page.wait_for_selector("text=Current image: test #3")
    page.wait_for_selector('[data-testid="stMetric"]')
    page.wait_for_selector(".js-plotly-plot")
    assert_clean(page)
    screenshot(page, "0_home")
    # The main widget: filter the browser to one class; every thumbnail caption follows.
    page.get_by_text("Current image: test #3").scroll_into_view_if_needed()
    choose(page, page.locator('[data-testid="stSelectbox"]').filter(has_text="True class"), "ship")
    captions = page.locator('[data-testid="stImageCaption"]').all_inner_texts()
    thumbs = [c for c in captions if "→" in c]
    assert thumbs and all(" ship → " in c for c in thumbs)
    assert_clean(page)


@pytest.mark.parametrize("page_file", PAGES, ids=[p.stem for p in PAGES])
def test_page_in_a_browser(server, page, page_file):
    page.goto(f"{server}/{url_path(page_file)}?image=12")
    wait_for_run(page)
    page.wait_for_selector(".js-plotly-plot")
    assert_clean(page)
    # The shared current image arrived from the URL.
    page.wait_for_selector('[data-testid="stSidebar"] >> text=#12')
    screenshot(page, page_file.stem)
    # Main widget: the first select box on the page (layer or class) takes its next option.
    boxes = page.locator('section[data-testid="stMain"] [data-testid="stSelectbox"]')
    if boxes.count():
        before = page.locator(".js-plotly-plot").first.inner_html()
        choose(page, boxes.first)
        assert_clean(page)
        assert page.locator(".js-plotly-plot").first.inner_html() != before
