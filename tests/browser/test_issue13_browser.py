"""Issue 13 in a real browser at the projector's 1280×720 in presentation mode: the semantic map
with its stable-colour legend (swatches, never hex codes) and the channel atlas page."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import SCREENSHOTS, wait_for_run

pytestmark = pytest.mark.browser
HEX = re.compile(r"#[0-9A-Fa-f]{6}\b")


def no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
        '[data-testid="stException"]').first.inner_text()


def test_semantic_map_at_1280x720_presenting_has_a_legend_without_hex_codes(server, projector):
    page = projector
    page.goto(f"{server}/Semantic_map?image=16&present=1&layer=block3.relu3")
    wait_for_run(page)
    no_exception(page)
    page.get_by_text("Legend — winning channels of block3.relu3").wait_for()
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for()
    grid.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    page.wait_for_function("""() => { const g = document.querySelector('[data-testid="stDataFrame"]');
        return g && g.textContent.includes('other') }""")
    # The grid is drawn on a canvas; its accessible copy (a table of the cells' text) is in the DOM.
    text = grid.evaluate("g => g.textContent")
    assert "other (" in text, text[:300]  # the grey "other" row
    assert not HEX.search(text), HEX.search(text)
    assert not HEX.search(page.locator('[data-testid="stMain"]').inner_text())
    # The whole legend (swatch, channel, name, share, image strip) fits its column: nothing is
    # scrolled out sideways at 1280×720 (the strip was, before the presenting layout).
    overflow = grid.evaluate("""g => { const s = g.querySelector('.dvn-scroller');
        return s ? s.scrollWidth - s.clientWidth : -1 }""")
    assert 0 <= overflow <= 2, overflow
    box = grid.bounding_box()
    assert box["x"] + box["width"] <= 1280
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "22px"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "issue13-semantic-map-1280x720.png"))


def test_channel_atlas_at_1280x720_presenting(server, projector):
    page = projector
    page.goto(f"{server}/Channel?layer=block3.relu3&channel=68&present=1")
    wait_for_run(page)
    no_exception(page)
    page.get_by_role("heading", name="Channel 68 of block3.relu3", exact=True).wait_for()
    page.get_by_text("The 12 test images where channel 68 of block3.relu3 fires most").wait_for()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "issue13-atlas-1280x720.png"))
    page.goto(f"{server}/Channel?layer=nope&channel=999&present=1")
    wait_for_run(page)
    no_exception(page)
    page.get_by_text("Ignored layer=nope in the link").wait_for()


def test_a_feature_map_tiles_link_opens_its_atlas_page(server, projector):
    page = projector
    page.goto(f"{server}/Feature_maps?image=16&present=1&layer=block3.relu3")
    wait_for_run(page)
    no_exception(page)
    expander = page.get_by_text("Every channel of block3.relu3 in the channel atlas")
    expander.scroll_into_view_if_needed()
    expander.click()
    link = page.get_by_role("link", name="57", exact=True).first
    assert link.get_attribute("href").startswith("Channel?layer=block3.relu3&channel=57")
    with page.context.expect_page() as opened:
        link.click()
    atlas = opened.value
    wait_for_run(atlas)
    no_exception(atlas)
    atlas.get_by_role("heading", name="Channel 57 of block3.relu3", exact=True).wait_for()
