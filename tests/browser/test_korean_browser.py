"""Korean in a real browser at the projector's 1280×720 (issue 15): every page and every slide of
the shipped deck with ``lang=ko`` runs without an exception, shows Korean (Hangul drawn with the
app's own NanumGothic, as Debian's Chromium has no Korean font), and the navigation's page names are
Korean while their URLs stay the same. Screenshots go to artifacts/screenshots/ko-*.png.
"""

from __future__ import annotations

import re

import pytest
from streamlit.source_util import page_icon_and_name

from data.deck import load_default_deck
from tests.browser.conftest import screenshot, settle, wait_for_run
from tests.conftest import PROJECT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = ["", *(page_icon_and_name(p)[1] for p in sorted((PROJECT / "pages").glob("*.py")))]
EXCEPTION = '[data-testid="stException"]'
HANGUL_FONT_LOADED = """async () => {
    await document.fonts.ready;
    return [...document.fonts].some(f => f.status === 'loaded' && f.unicodeRange.includes('AC00'));
}"""


def open_korean(page, url: str) -> None:
    page.goto(url)
    wait_for_run(page)
    page.wait_for_timeout(500)
    settle(page)
    assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).first.inner_text()


@pytest.mark.parametrize("path", PAGES)
def test_every_page_in_korean(server, projector, path):
    open_korean(projector, f"{server}/{path}?lang=ko")
    assert re.search("[가-힣]", projector.locator('[data-testid="stApp"]').inner_text())
    assert projector.evaluate(HANGUL_FONT_LOADED)
    link = f'[data-testid="stSidebarNav"] a[href$="/{path}"] div'
    nav = projector.locator(link).first
    label = nav.evaluate("e => getComputedStyle(e, '::after').content")
    assert re.search("[가-힣]", label), label
    screenshot(projector, f"ko-page-{path or 'Home'}")


@pytest.mark.parametrize("number", range(1, len(load_default_deck()) + 1))
def test_every_slide_of_the_shipped_deck_in_korean(server, projector, number):
    slide = load_default_deck().slide(number)
    open_korean(projector, f"{server}/Lecture?slide={number}&lang=ko")
    bar = projector.locator(".st-key-lecture_bar").inner_text()
    assert slide.title_in("ko") in bar and f"{number} / " in bar
    assert "lang=ko" in projector.url
    screenshot(projector, f"ko-slide-{number:02d}")


# Pages translated in the second part of issue 15, presenting at 1280×720, in their default and in a
# second state: no exception, and no label, button or heading whose Korean text is cut off.
PRESENTED = [("Semantic_map", ""), ("Semantic_map", "&concepts=1&layer=block2.relu3"), ("1x1_weights", ""),
             ("1x1_weights", "&layer=block2.conv3&channel=5"), ("Channel", ""),
             ("Channel", "&layer=block1.relu1&channel=3")]
CUT_OFF = """() => [...document.querySelectorAll(
        '[data-testid="stWidgetLabel"] p, button p, [data-testid="stHeading"] h1, [data-testid="stHeading"] h2, '
        + '[data-testid="stHeading"] h3, [data-testid="stCaptionContainer"], [data-testid="stTab"] p')]
    .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
    .map(e => e.innerText.slice(0, 60))"""


@pytest.mark.parametrize(("path", "query"), PRESENTED)
def test_translated_pages_presenting_in_korean_cut_nothing_off(server, projector, path, query):
    open_korean(projector, f"{server}/{path}?lang=ko&present=1{query}")
    assert re.search("[가-힣]", projector.locator('[data-testid="stApp"]').inner_text())
    assert projector.evaluate(CUT_OFF) == []
    name = f"ko-present-{path}" + ("-2" if query else "")
    projector.screenshot(path=str(screenshot(projector, name).with_name(f"{name}-window.png")))
