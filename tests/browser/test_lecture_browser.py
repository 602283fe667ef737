"""Lecture mode in a real browser at the projector's 1280×720: keys step through the deck and the
URL follows; past the end is a message; presentation mode always has a way out, also with the
sidebar collapsed and after a reload."""

from __future__ import annotations

import re

import pytest

from data.deck import load_default_deck
from tests.browser.conftest import SCREENSHOTS, settle, wait_for_run

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DECK = load_default_deck()
BAR = ".st-key-lecture_bar"
EXIT = ".st-key-lecture_exit button"  # (Streamlit draws a button with a tooltip twice: use .first)
SIDEBAR = '[data-testid="stSidebar"]'


def counter(page) -> str:
    return re.search(r"(\d+|–) / \d+", page.locator(BAR).inner_text()).group(0)


def slide_in_url(page) -> str:
    return re.search(r"[?&]slide=(\d+)", page.url).group(1)


def press(page, key: str, expect: int) -> None:
    page.keyboard.press(key)
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('slide') === '{expect}'")
    settle(page)
    page.locator(BAR).get_by_text(f"{expect} / {len(DECK)}").wait_for()


def collapse_sidebar(page) -> None:
    page.locator(SIDEBAR).hover()
    page.locator('[data-testid="stSidebarCollapseButton"] button').click()
    page.wait_for_selector(f'{SIDEBAR}[data-collapsed="true"]', state="attached")
    # Presentation mode hides the header, and the sidebar's re-open arrow with it.
    assert not page.locator('[data-testid="stExpandSidebarButton"]').is_visible()


def test_keys_step_through_the_deck_and_the_url_follows(server, projector):
    page = projector
    page.goto(f"{server}/Lecture?slide=1")
    wait_for_run(page)
    assert "/Convolution_playground?" in page.url and slide_in_url(page) == "1"
    assert counter(page) == f"1 / {len(DECK)}"
    page.wait_for_timeout(1000)  # the key listener's frame loads after the run
    press(page, "PageDown", 2)
    press(page, "PageDown", 3)
    assert "pos=2" in page.url  # slide 3's own state
    press(page, "ArrowLeft", 2)
    press(page, "Space", 3)
    press(page, "ArrowRight", 4)
    press(page, "PageUp", 3)
    # Across pages: slide 7 is on Shapes and parameters, 6 and 8 on the playground.
    for number in (4, 5, 6, 7):
        press(page, "PageDown", number)
    assert "/Shapes_and_parameters?" in page.url
    press(page, "ArrowLeft", 6)
    press(page, "Space", 7)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.locator(BAR).get_by_role("button", name="▶").click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('slide') === '8'")
    settle(page)
    assert counter(page) == f"8 / {len(DECK)}" and "/Convolution_playground?" in page.url

    # Leaving the lecture also removes its keys: → and Space are the page's own again.
    page.locator(BAR).get_by_role("button", name="Leave the lecture").click()
    page.wait_for_function("() => !location.search.includes('slide=')")
    settle(page)
    assert page.locator(BAR).count() == 0
    swallowed = """(key) => { const e = new KeyboardEvent('keydown', {key, bubbles: true, cancelable: true});
        document.body.dispatchEvent(e); return e.defaultPrevented; }"""
    page.wait_for_timeout(1000)
    assert page.evaluate(swallowed, " ") is False and page.evaluate(swallowed, "ArrowRight") is False
    url = page.url
    page.keyboard.press("PageDown")
    page.wait_for_timeout(1500)
    assert page.url == url


def test_past_the_end_is_a_message_with_the_range(server, projector):
    page = projector
    page.goto(f"{server}/Lecture?slide=99")
    wait_for_run(page)
    page.get_by_text(f"There is no slide 99: this deck has slides 1–{len(DECK)}").wait_for()
    assert counter(page) == f"– / {len(DECK)}"
    assert page.locator('[data-testid="stException"]').count() == 0


def test_exit_presentation_with_the_sidebar_collapsed_and_after_a_reload(server, projector):
    page = projector
    page.goto(f"{server}/Lecture?slide=11&present=1")
    wait_for_run(page)
    assert "/Feature_maps?" in page.url and "present=1" in page.url
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "22px"
    collapse_sidebar(page)
    page.wait_for_timeout(1500)  # figures redraw for the wider page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "lecture_slide_11_collapsed.png"))
    assert page.locator(EXIT).first.is_visible()
    assert page.locator(BAR).is_visible() and counter(page) == f"11 / {len(DECK)}"

    page.reload()  # a reload keeps present=1 and slide=11 in the URL: the way out is still there
    wait_for_run(page)
    assert page.locator(EXIT).first.is_visible() and counter(page) == f"11 / {len(DECK)}"

    page.locator(EXIT).first.click()
    settle(page)
    page.wait_for_function("() => !location.search.includes('present')")
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") != "22px"
    assert page.locator(EXIT).count() == 0
    assert counter(page) == f"11 / {len(DECK)}"  # still in the lecture, no longer presenting


def test_esc_leaves_presentation_mode_with_the_sidebar_collapsed(server, projector):
    page = projector
    page.goto(f"{server}/Lecture?slide=15&present=1")
    wait_for_run(page)
    collapse_sidebar(page)
    assert page.locator(EXIT).first.is_visible()  # in the lecture bar, over the collapsed sidebar's place
    page.wait_for_timeout(1000)  # the shortcut listener attaches after the run
    page.keyboard.press("Escape")
    page.wait_for_function("() => !location.search.includes('present')")
    settle(page)
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") != "22px"
    assert page.locator(EXIT).count() == 0
    assert counter(page) == f"15 / {len(DECK)}"  # still in the lecture, no longer presenting
