"""A new user's first launch, in a real server and Chromium, against a local HTTP server on
127.0.0.1 that serves a CIFAR-10 archive in the official format (the server's address and the
archive's checksums are the test's own; see tests/cifar_archive.py).

- A fresh copy of the project, in a folder with no ../shared beside it, started with the README's
  ``streamlit run dashboard.py``: the no-data page, two sessions pressing the button at once (one
  download), the progress bar, then the dashboard in both, without a restart.
- A wrong checksum: one message, nothing left in the data folder.
- Paths and patterns with Markdown characters are shown as written.
- The server itself refuses an upload just over the app's 20 MB.

Screenshots (1280×720) go to artifacts/screenshots/first-launch-*.png; the README's copies are in docs/.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from bench import Server
from data.download import LOCK_NAME
from tests.browser.conftest import SCREENSHOTS, TIMEOUT_MS, wait_for_run
from tests.cifar_archive import ArchiveServer, build_archive, server_environment
from tests.conftest import PROJECT
from ui.first_launch import TITLE

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREEN = {"width": 1280, "height": 720}
BUTTON = '[data-testid="stButton"] button:visible:has-text("Download CIFAR-10")'  # Streamlit draws a hidden twin
PROGRESS = '[data-testid="stProgress"]'
DASHBOARD = "text=Current image: test #0"
OUR_VARIABLES = ("CIFAR10_ROOT", "CIFAR10_CACHE", "CIFAR10_CHECKPOINT",
                 "CIFAR10_DOWNLOAD", "PYTHONPATH")


def clean_environment(**extra: str) -> dict[str, str]:
    """The environment of a user who has set nothing of ours."""
    env = {k: v for k, v in os.environ.items() if k not in OUR_VARIABLES}
    return {**env, **extra}


def fresh_copy(folder: Path) -> Path:
    """The project's files (tracked and new, not ignored) as a clone would have them, in a folder
    with no ``shared/`` beside it; no data set, no caches."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=PROJECT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    copy = folder / "cifar10-explainer"
    for name in filter(None, files):
        if (PROJECT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT / name, copy / name)
    assert not (folder / "shared").exists() and not (copy / "data" / "cifar-10-batches-py").exists()
    return copy


def start(script: Path, env: dict, cwd: Path = PROJECT) -> Server:
    srv = Server(script, env, cwd=cwd)
    try:
        srv.wait_healthy(timeout=180)
    except RuntimeError as exc:
        srv.stop()
        srv.log.flush()
        pytest.fail(f"{exc}:\n{Path(srv.log.name).read_text()[-2000:]}")
    return srv


def shoot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def new_page(browser):
    context = browser.new_context(viewport=SCREEN, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return context, page


def test_first_launch_on_a_new_machine_downloads_once_and_opens_the_dashboard(browser, tmp_path):
    archive = build_archive(tmp_path / "served", per_batch=500, test_images=500)  # ≈ 9 MB
    copy = fresh_copy(tmp_path / "home")
    with ArchiveServer(archive.path, rate=1.5e6).running() as http:  # ≈ 6 s: the progress bar is seen
        env = clean_environment(**server_environment(tmp_path / "site", archive, http.url))
        srv = start(copy / "dashboard.py", env, cwd=copy)  # the README's: streamlit run dashboard.py
        contexts = []
        try:
            (ca, a), (cb, b) = new_page(browser), new_page(browser)
            contexts += [ca, cb]
            for page in (a, b):
                page.goto(srv.url)
                page.wait_for_selector(f"text={TITLE}")
                wait_for_run(page)
            assert a.locator('[data-testid="stException"]').count() == 0
            assert a.locator('[data-testid="stMain"] code').first.inner_text() == str(copy / "data")
            shoot(a, "first-launch-no-data")
            # Meanwhile, a page that needs no data set works.
            (cc, c) = new_page(browser)
            contexts.append(cc)
            c.goto(f"{srv.url}/Convolution_playground")
            c.wait_for_selector("text=The same kernel on a real image")
            wait_for_run(c)
            assert c.locator('[data-testid="stException"]').count() == 0
            assert "No CIFAR-10 test images yet" in c.locator('[data-testid="stSidebar"]').inner_text()

            # Two people press the button at the same moment.
            a.locator(BUTTON).click()
            b.locator(BUTTON).click()
            a.wait_for_selector(PROGRESS)
            deadline = time.time() + 60
            while time.time() < deadline:
                text = a.locator(PROGRESS).inner_text() if a.locator(PROGRESS).count() else ""
                done = re.search(r"([\d.]+) / ([\d.]+) MB · about \d+ s left", text)
                if done and 0.25 < float(done[1]) / float(done[2]) < 0.7:
                    break
                time.sleep(0.1)
            else:
                pytest.fail(f"no progress seen mid-download; last: {text!r}")
            shoot(a, "first-launch-progress")
            assert b.locator(PROGRESS).count() == 1  # the other session follows the same download

            for page in (a, b):  # both continue to the dashboard, without a restart
                page.wait_for_selector(DASHBOARD, timeout=180_000)
                wait_for_run(page)
                assert page.locator('[data-testid="stException"]').count() == 0
                assert page.get_by_role("heading", name="Model card").count() == 1
            shoot(a, "first-launch-dashboard")
            assert http.requests == 1
            data = copy / "data"
            assert sorted(p.name for p in data.iterdir() if p.name.startswith((".cifar10", "cifar-10"))) == \
                [LOCK_NAME, "cifar-10-batches-py"]  # no partial archive, no unpacking folder
        finally:
            for context in contexts:
                context.close()
            srv.stop()


def test_a_failed_download_says_what_to_do_and_leaves_nothing(browser, tmp_path):
    archive = build_archive(tmp_path / "served")
    root = tmp_path / "data"
    with ArchiveServer(archive.path).running() as http:
        env = clean_environment(CIFAR10_ROOT=str(root),
                                **server_environment(tmp_path / "site", archive, http.url, md5="0" * 32))
        srv = start(PROJECT / "dashboard.py", env)
        context, page = new_page(browser)
        try:
            page.goto(srv.url)
            page.wait_for_selector(BUTTON)
            wait_for_run(page)
            page.get_by_text("Meanwhile, these pages work without the data set").wait_for()
            page.locator(BUTTON).click()
            alert = page.locator('[data-testid="stAlertContentError"]')
            alert.wait_for()
            wait_for_run(page)
            assert alert.inner_text() == ("The archive downloaded from 127.0.0.1 failed its MD5 check (damaged on "
                                          "the way or not the official file); nothing was kept, so try again.")
            assert page.locator(BUTTON).is_enabled()
            shoot(page, "first-launch-failure")
            assert sorted(p.name for p in root.iterdir()) == [LOCK_NAME]
        finally:
            context.close()
            srv.stop()


def test_paths_and_patterns_are_shown_as_written(browser, tmp_path):
    root = tmp_path / "my *cifar* _data_ `x` [y](z) $1$ :smile: <b>"
    srv = start(PROJECT / "dashboard.py", clean_environment(CIFAR10_ROOT=str(root)))
    context, page = new_page(browser)
    try:
        page.goto(srv.url)
        page.wait_for_selector(f"text={TITLE}")
        wait_for_run(page)
        assert page.locator('[data-testid="stMain"] code').first.inner_text() == str(root)
        page.get_by_text("Already have CIFAR-10").click()
        shown = page.locator('[data-testid="stExpander"]').inner_text()
        assert "train/<class>/*.png and test/<class>/*.png" in shown  # the eaten *
        assert f"{root} does not exist" in shown  # the loader's message, character for character
    finally:
        context.close()
        srv.stop()


LITERAL_APP = '''
import streamlit as st
from ui.text import code, literal
for text in {texts!r}:
    st.error(literal(text))
    st.markdown(literal(text))
    st.caption(literal(text))
    st.markdown("code: " + code(text))
    st.progress(0.5, text=literal(text))
'''
NASTY = ["train/<class>/*.png", "my *cifar* _data_ `x` [y](z) $1$ :smile: :red[r] :material/home: &amp; <b>",
         "# heading 1. list - item > quote | a | b ~~s~~ \\* C:\\Users", "``double`` and `single` ticks`"]


def test_the_text_helpers_render_literally_in_streamlit(browser, tmp_path):
    """ui.text against Streamlit's own renderer (its Markdown has colour, icon, emoji and LaTeX extras)."""
    script = tmp_path / "literal_app.py"
    script.write_text(LITERAL_APP.format(texts=NASTY))
    srv = start(script, clean_environment(PYTHONPATH=str(PROJECT)))
    context, page = new_page(browser)
    try:
        page.goto(srv.url)
        page.wait_for_selector(PROGRESS)
        wait_for_run(page)
        alerts = page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
        markdown = page.locator('[data-testid="stMarkdownContainer"]').all_inner_texts()
        for text in NASTY:
            assert text in alerts
            assert markdown.count(text) >= 3, (text, markdown)  # error body, markdown, caption
            assert f"code: {text}" in markdown
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()
        srv.stop()


def test_the_server_refuses_an_upload_just_over_the_limit(server, browser, tmp_path):
    """Streamlit's upload endpoint itself (not only the browser's check) refuses more than 20 MB."""
    from PIL import Image

    from data.uploads import MAX_BYTES

    context, page = new_page(browser)
    try:
        page.goto(server)
        wait_for_run(page)
        page.get_by_text("Your photo (upload)").click()
        seen = {}

        def remember(route):  # the browser's own upload: its address (session) and XSRF header
            seen["url"], seen["headers"] = route.request.url, route.request.headers
            route.continue_()

        page.route("**/_stcore/upload_file/**", remember)
        photo = tmp_path / "small.png"
        Image.new("RGB", (40, 30), (200, 30, 30)).save(photo)
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(photo))
        page.wait_for_selector("text=Current image: your photo")
        base = seen["url"].rsplit("/", 1)[0]
        xsrf = {"X-Xsrftoken": seen["headers"]["x-xsrftoken"]} if "x-xsrftoken" in seen["headers"] else {}

        def put(size: int, file_id: str) -> int:
            body = {"file": {"name": "big.png", "mimeType": "image/png", "buffer": b"\0" * size}}
            return page.request.put(f"{base}/{file_id}", multipart=body, headers=xsrf, timeout=120_000).status

        assert put(MAX_BYTES + 1, "over") == 413  # just over: refused by the server
        assert put(MAX_BYTES - 64 * 1024, "under") == 204  # under: taken (the app then decides)
    finally:
        context.close()
