"""A real server and a real browser (Debian's Chromium driven by Playwright).

With CI=true a missing Chromium or Playwright is a failure, not a skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pytest

from bench import DONE, LAUNCH_ARGS, Server
from tests.conftest import PROJECT

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = PROJECT / "artifacts" / "screenshots"
# Generous by default (a shared, slow machine); BROWSER_TIMEOUT_MS=20000 makes a failing wait fail fast.
TIMEOUT_MS = int(os.environ.get("BROWSER_TIMEOUT_MS", 180_000))


def _need(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required for the browser tests in CI")
    pytest.skip(f"{what} is not available")


@contextlib.contextmanager
def running_server(cifar_root):
    """``streamlit run dashboard.py`` on a free loopback port (the benchmark's launcher); a start
    failure fails the test with the end of the server's log."""
    srv = Server(PROJECT / "dashboard.py", {**os.environ, "CIFAR10_ROOT": str(cifar_root)})
    try:
        try:
            srv.wait_healthy(timeout=120)
        except RuntimeError as exc:
            srv.log.flush()
            pytest.fail(f"{exc}:\n{Path(srv.log.name).read_text()[-2000:]}")
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def server(cifar_root):
    """One server for the page tests; yields its URL."""
    with running_server(cifar_root) as srv:
        yield srv.url


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _need(f"Chromium ({CHROMIUM}; apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("The playwright Python package")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@contextlib.contextmanager
def page_at(browser, width: int, height: int):
    """A fresh browser context's page with a ``width``×``height`` viewport, closed afterwards."""
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture
def page(browser):
    with page_at(browser, 1600, 2600) as pg:
        yield pg


@pytest.fixture
def projector(browser):
    """A page at the lecture hall's 1280×720 projector size."""
    with page_at(browser, 1280, 720) as pg:
        yield pg


# True once Streamlit's script state has been "notRunning" for 500 ms without a break: a run and
# any rerun it starts (a page switch, st.rerun, a URL value adopted) are then over. A single check
# of the state can fall in the gap between a first run and its rerun.
QUIET = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') {
        window.__idleSince = null;
        return false;
    }
    window.__idleSince = window.__idleSince || performance.now();
    return performance.now() - window.__idleSince > 500;
}"""


def wait_for_run(page) -> None:
    """Wait until Streamlit has finished the script run (and any rerun it started)."""
    page.wait_for_selector(DONE, state="attached")
    page.wait_for_function(QUIET, polling=50)


def settle(page) -> None:
    """After an interaction: forget the idle time measured before it, let the rerun start, then
    wait until it (and any rerun it starts) ends. Without the reset, the idle time of the run
    *before* the click satisfies :func:`wait_for_run` at once."""
    page.evaluate("() => { window.__idleSince = null; }")
    page.wait_for_timeout(300)
    wait_for_run(page)


def shared_link(page) -> str:
    """Open the sidebar's "Copy link to this view" popover and read the address in its code box."""
    page.locator('[data-testid="stSidebar"] [data-testid="stPopoverButton"]').click()
    code = page.locator('[data-testid="stPopoverBody"] [data-testid="stCode"]')
    code.wait_for()
    text = code.inner_text().strip()
    page.keyboard.press("Escape")
    return text


def screenshot(page, name: str) -> Path:
    """The whole page as artifacts/screenshots/<name>.png. Streamlit scrolls inside its own
    container, so a full-page screenshot stops at the window: the window is made as tall as the
    content for the picture (at most 16,000 px), then restored."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate("""() => { const m = document.querySelector('[data-testid="stMain"]');
        return m ? m.scrollHeight : document.body.scrollHeight }""")
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 16_000)})
    page.wait_for_timeout(800)  # Plotly and images redraw for the new size
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path
