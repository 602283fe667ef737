"""Presentation mode in a real browser: the CSS applies, the link is the browser's address, the
PNG download (built only on click) arrives with the promised size.

Uses the tiny page tests/apps/present_page.py (no model, no data), so it starts in seconds.
"""

from __future__ import annotations

import io
import os
from urllib.parse import parse_qsl

import numpy as np
import pytest
from PIL import Image

from bench import Server
from tests.browser.conftest import SCREENSHOTS, screenshot, settle, shared_link, wait_for_run
from tests.conftest import PROJECT


@pytest.fixture(scope="module")
def tiny_server():
    srv = Server(PROJECT / "tests" / "apps" / "present_page.py", dict(os.environ))
    try:
        srv.wait_healthy(timeout=120)
        yield srv.url
    finally:
        srv.stop()


def test_presentation_css_link_and_download(tiny_server, page):
    page.goto(f"{tiny_server}/?present=1&layer=b")
    wait_for_run(page)
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "22px"
    assert page.locator('[data-testid="stHeader"]').count() == 0 or \
        not page.locator('[data-testid="stHeader"]').is_visible()
    assert page.get_by_text("This sentence explains the page.").count() == 0
    code = shared_link(page)
    assert code == f"{tiny_server}/?present=1&layer=b"
    screenshot(page, "present_tiny")

    with page.expect_download() as info:
        page.get_by_role("button", name="Download this view as PNG").click()
    download = info.value
    assert download.suggested_filename == "test.png"
    pixels = np.asarray(Image.open(io.BytesIO(open(download.path(), "rb").read())).convert("RGB"))
    assert pixels.shape == (1080, 1920, 3)
    assert np.all(pixels == (255, 0, 0), axis=-1).sum() > 500_000

    page.get_by_text("Presentation mode").click()
    settle(page)
    # The address bar is rewritten by the frontend after the rerun: wait for it, do not race it.
    page.wait_for_function("() => !location.search.includes('present')")
    assert "present" not in page.url
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") != "22px"
    assert page.get_by_text("This sentence explains the page.").count() == 1


def test_feature_maps_page_presents_and_downloads_its_slide(server, page):
    page.goto(f"{server}/Feature_maps?image=3&layer=block2.relu2&channel=5&present=1")
    wait_for_run(page)
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "22px"
    assert page.get_by_text("Every convolution, BatchNorm, ReLU and pooling layer").count() == 0
    code = shared_link(page)
    base, query = code.split("?")
    assert base == f"{server}/Feature_maps"
    assert dict(parse_qsl(query)) == {"image": "3", "present": "1", "layer": "block2.relu2", "channel": "5"}
    screenshot(page, "present_feature_maps")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download this view as PNG").click()
    download = info.value
    assert download.suggested_filename == "feature-maps_test-3_block2.relu2_channel-5.png"
    pixels = np.asarray(Image.open(download.path()).convert("RGB"))
    assert pixels.shape == (1080, 1920, 3)
    Image.fromarray(pixels).save(SCREENSHOTS / "slide_feature_maps.png")


def test_feature_maps_channel_click_keeps_link_slide_and_sidebar(server, page):
    """After a channel click the share link, the slide's file name and the URL follow it, and the
    sidebar (image, share link) stays."""
    page.goto(f"{server}/Feature_maps?image=3&layer=block2.relu2&channel=5")
    wait_for_run(page)
    page.locator('[data-testid="stMain"] [data-testid="stNumberInputStepUp"]').first.click()
    settle(page)
    page.get_by_role("heading", name="Channel 6 of block2.relu2, beside the input").wait_for()
    page.wait_for_function("() => location.search.includes('channel=6')")
    base, query = shared_link(page).split("?")
    assert dict(parse_qsl(query)) == {"image": "3", "layer": "block2.relu2", "channel": "6"}
    assert page.locator('[data-testid="stSidebar"] [data-testid="stPopoverButton"]').count() == 1
    assert page.locator('[data-testid="stSidebar"] [data-testid="stImage"]').count() >= 1
    with page.expect_download() as info:
        page.get_by_role("button", name="Download this view as PNG").click()
    assert info.value.suggested_filename == "feature-maps_test-3_block2.relu2_channel-6.png"
    screenshot(page, "present_feature_maps_channel_click")
