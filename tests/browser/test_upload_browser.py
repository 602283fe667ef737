"""Uploading a photo in a real browser: the file goes through Streamlit's real upload path
(type filter, size limit, HTTP upload) that AppTest skips, then follows the user to other pages."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.browser.conftest import screenshot, wait_for_run

pytestmark = [pytest.mark.browser, pytest.mark.slow]

UPLOAD_INPUT = '[data-testid="stFileUploaderDropzoneInput"]'


def photo(tmp_path):
    px = np.zeros((240, 360, 3), np.uint8)
    px[:, :180], px[:, 180:] = (255, 0, 0), (0, 0, 255)
    path = tmp_path / "holiday.jpg"
    Image.fromarray(px).save(path, quality=92)
    return path


def test_upload_a_photo_and_keep_it_across_pages(server, page, tmp_path):
    page.goto(f"{server}/?image=3")
    wait_for_run(page)
    page.get_by_text("Your photo (upload)").click()

    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    page.locator(UPLOAD_INPUT).set_input_files(str(bad))
    page.wait_for_selector("text=This file cannot be used: This file is not an image")
    page.wait_for_selector("text=Current image: test #3")

    page.locator(UPLOAD_INPUT).set_input_files(str(photo(tmp_path)))
    page.wait_for_selector("text=Current image: your photo")
    wait_for_run(page)
    captions = page.locator('[data-testid="stSidebar"] [data-testid="stImageCaption"]').all_inner_texts()
    assert "Your photo: holiday.jpg (360×240)" in captions
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "image=3" in page.url  # the link keeps the test image; the sidebar says so
    screenshot(page, "upload_home")

    page.get_by_role("link", name="→ Prediction heatmaps").click()
    page.wait_for_selector("text=Three heat maps for your photo (holiday.jpg)")
    page.wait_for_selector("text=Your photo has no true label")
    wait_for_run(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, "upload_heatmaps")

    page.get_by_text("Test image", exact=True).click()
    page.wait_for_selector("text=Three heat maps for test image #3")
