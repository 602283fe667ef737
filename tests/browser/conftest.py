"""A real server and a real browser (Debian's Chromium driven by Playwright).

With CI=true a missing Chromium or Playwright is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bench import DONE, LAUNCH_ARGS, Server
from tests.conftest import PROJECT

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = PROJECT / "artifacts" / "screenshots"


def _need(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required for the browser tests in CI")
    pytest.skip(f"{what} is not available")


@pytest.fixture(scope="session")
def server(cifar_root):
    """``streamlit run dashboard.py`` on a free loopback port (the benchmark's launcher); yields its URL."""
    srv = Server(PROJECT / "dashboard.py", {**os.environ, "CIFAR10_ROOT": str(cifar_root)})
    try:
        try:
            srv.wait_healthy(timeout=120)
        except RuntimeError as exc:
            srv.log.flush()
            pytest.fail(f"{exc}:\n{Path(srv.log.name).read_text()[-2000:]}")
        yield srv.url
    finally:
        srv.stop()


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


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1600, "height": 2600}, device_scale_factor=1)
    pg = context.new_page()
    pg.set_default_timeout(180_000)
    try:
        yield pg
    finally:
        context.close()


def wait_for_run(page) -> None:
    """Wait until Streamlit has finished the script run (and any rerun it started)."""
    page.wait_for_selector(DONE, state="attached")
    page.wait_for_timeout(300)
    page.wait_for_selector(DONE, state="attached")


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
