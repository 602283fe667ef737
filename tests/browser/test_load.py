"""Twenty browser sessions at once against one server (issue 5, "Load").

Each session opens a different page with its own test image in the link, changes a widget there,
picks a second image of its own in the sidebar, then moves through two more pages with the
sidebar's page links (no reload, so only the session's own state carries the image). At every
step: no exception element, and the sidebar shows this session's image with its true class: one
session's current image never appears in another's. Meanwhile the server's resident memory is
read every 0.2 s; the figures are printed (pytest -s) and written to artifacts/load.json.

Playwright's async API drives the twenty sessions from one browser (twenty contexts), in a
thread of its own so it never meets the sync API of the other browser tests.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import pytest
from streamlit.source_util import page_icon_and_name

from bench import DONE, LAUNCH_ARGS, _peak_rss_mb, tree_memory_mb
from data.cifar10 import CIFAR10_CLASSES
from tests.browser.conftest import CHROMIUM, QUIET, _need, running_server
from tests.conftest import PROJECT, run_in_own_loop

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SESSIONS = 20
MAX_PEAK_RSS_MB = 2500
TIMEOUT_MS = 600_000
ARTIFACT = PROJECT / "artifacts" / "load.json"
EXCEPTION = '[data-testid="stException"]'
MAIN = '[data-testid="stMain"]'

PAGE_FILES = sorted((PROJECT / "pages").glob("*.py"))
PATHS = {p.stem: page_icon_and_name(p)[1] for p in PAGE_FILES}
NO_IMAGE_SIDEBAR = {"6_Shapes_and_parameters", "7_Lecture"}  # the Lecture page shows no image
# Start pages (home and every page with the image sidebar) and the pages a session moves through.
STARTS = ["home"] + [p.stem for p in PAGE_FILES if p.stem not in NO_IMAGE_SIDEBAR]
HOPS = [p.stem for p in PAGE_FILES]


def _tree_rss_mb(pid: int) -> float:
    """Current resident memory of a process and its children (VmRSS), in MB."""
    return tree_memory_mb(pid, "VmRSS")


class RssPoller(threading.Thread):
    def __init__(self, pid: int, every: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.every, self.samples = pid, every, []
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.samples.append(_tree_rss_mb(self.pid))
            self.stopped.wait(self.every)

    def stop(self) -> None:
        self.stopped.set()
        self.join()


# --- One session ------------------------------------------------------------------------------

async def _settled(page) -> None:
    """The run (and any rerun it started) is over: see conftest.QUIET."""
    await page.evaluate("() => { window.__idleSince = null; }")
    await page.wait_for_timeout(300)
    await page.wait_for_selector(DONE, state="attached")
    await page.wait_for_function(QUIET, polling=100)


async def _clean(page, where: str) -> None:
    errors = page.locator(EXCEPTION)
    if await errors.count():
        raise AssertionError(f"{where}: {await errors.first.inner_text()}")


def _image_box(page):
    return page.locator('[data-testid="stSidebar"] [data-testid="stNumberInput"]').filter(
        has_text="Test image #").first.locator("input")  # not "Compare with test image #" below it


async def _own_image(page, image: int, label: str, where: str) -> None:
    """The sidebar shows this session's image: its caption (number and true class) and the number
    field. The field is drawn a moment after the run ends (briefly showing 0), hence the wait."""
    from playwright.async_api import expect

    caption = page.locator('[data-testid="stSidebar"] [data-testid="stImageCaption"]').first
    try:
        # Generous: with twenty sessions on two cores one rerun can take minutes; a session showing
        # another's image would never show its own, so waiting longer cannot hide cross-talk.
        await expect(caption).to_have_text(f"#{image}: true {label}", timeout=240_000)
        await expect(_image_box(page)).to_have_value(str(image), timeout=120_000)
    except AssertionError:
        raise AssertionError(f"{where}: the sidebar shows {await caption.inner_text()!r}, number "
                             f"{await _image_box(page).input_value()}; this session's image is "
                             f"#{image}: true {label}") from None


async def _widget(page, stem: str) -> None:
    """Change the page's main widget, as a user would."""
    def radio(label: str, option: str):
        return page.locator(f'{MAIN} [data-testid="stRadio"]').filter(has_text=label).get_by_text(
            option, exact=True).click()

    if stem == "home":
        await radio("Predictions", "incorrect")
    elif stem == "1_Feature_maps":
        await radio("Order channels by", "max activation")
    elif stem == "2_Semantic_map":
        thumb = page.locator(f'{MAIN} [data-testid="stSlider"]').filter(has_text="Colour opacity").get_by_role(
            "slider")
        await thumb.focus()
        await page.keyboard.press("ArrowRight")
    elif stem == "3_1x1_weights":
        await radio("1×1 layer", "block2.conv3")
    elif stem == "4_Prediction_heatmaps":  # the gallery's method, in its tab
        await page.get_by_role("tab", name="Gallery: right and wrong").click()
        await _settled(page)
        await radio("Heat map in the thumbnails", "CAM of the predicted class")
    elif stem == "5_Convolution_playground":
        await page.get_by_role("button", name="Next →").click()
    elif stem == "6_Shapes_and_parameters":
        box = page.locator(f'{MAIN} [data-testid="stSelectbox"]').filter(has_text="Example from the lecture")
        await box.locator("input").click()
        await page.keyboard.type("CIFAR-10 batch")
        await page.keyboard.press("Enter")
    else:  # a page added later: opened and checked, no widget of its own yet
        return
    await _settled(page)


async def _go(page, stem: str) -> None:
    """Switch page with the sidebar's link: the same session, no reload."""
    await page.locator(f'[data-testid="stSidebarNav"] a[href$="/{PATHS[stem]}"]').click()
    await page.wait_for_url(f"**/{PATHS[stem]}*")
    await _settled(page)


async def _session(browser, url: str, n: int, first: tuple[int, str], second: tuple[int, str]) -> dict:
    start = STARTS[n % len(STARTS)]
    hops = [s for s in HOPS if s != start]
    hop1 = hops[n % len(hops)]
    hop2 = next(s for s in hops[(n + 1) % len(hops):] + hops if s not in (hop1, *NO_IMAGE_SIDEBAR))
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    began = time.perf_counter()
    try:
        path = "" if start == "home" else PATHS[start]
        await page.goto(f"{url}/{path}?image={first[0]}")
        await _settled(page)
        await _clean(page, f"session {n} on {start}")
        await _own_image(page, *first, f"session {n} on {start}")
        await _widget(page, start)
        await _clean(page, f"session {n} on {start}, after its widget")
        await _own_image(page, *first, f"session {n} on {start}, after its widget")

        # A second image of its own, picked in the sidebar.
        box = _image_box(page)
        await box.fill(str(second[0]))
        await box.press("Enter")
        await _settled(page)
        await _own_image(page, *second, f"session {n} on {start}, after picking #{second[0]}")

        for stem in (hop1, hop2):
            await _go(page, stem)
            await _clean(page, f"session {n} on {stem}")
            if stem not in NO_IMAGE_SIDEBAR:
                await _own_image(page, *second, f"session {n} on {stem}")
            await _widget(page, stem)
            await _clean(page, f"session {n} on {stem}, after its widget")
            if stem not in NO_IMAGE_SIDEBAR:
                await _own_image(page, *second, f"session {n} on {stem}, after its widget")
        return {"session": n, "pages": [start, hop1, hop2], "images": [first[0], second[0]],
                "seconds": round(time.perf_counter() - began, 1)}
    finally:
        await context.close()


async def _all_sessions(url: str, plan: list) -> list:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        try:
            return await asyncio.gather(*(_session(browser, url, n, *images) for n, images in enumerate(plan)),
                                        return_exceptions=True)
        finally:
            await browser.close()


@pytest.fixture(scope="module")
def load_server(cifar_root):
    """A server of its own, so its memory figures belong to this test alone."""
    with running_server(cifar_root) as srv:
        yield srv


def test_twenty_sessions_at_once(load_server, test_split):
    if not Path(CHROMIUM).exists():
        _need(f"Chromium ({CHROMIUM}; apt-get install chromium)")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        _need("The playwright Python package")

    def image(index: int) -> tuple[int, str]:
        return index, CIFAR10_CLASSES[int(test_split.labels[test_split.position_of(index)])]

    # Distinct images: session n starts on 1000 + 37n and moves to 5000 + 41n.
    plan = [(image(1000 + 37 * n), image(5000 + 41 * n)) for n in range(SESSIONS)]
    pid = load_server.proc.pid
    rss_idle = _tree_rss_mb(pid)
    poller = RssPoller(pid)
    poller.start()
    began = time.perf_counter()
    try:
        results = run_in_own_loop(_all_sessions(load_server.url, plan))
    finally:
        wall = time.perf_counter() - began
        poller.stop()
    failures = [r for r in results if isinstance(r, BaseException)]
    peak_hwm = _peak_rss_mb(pid)
    figures = {
        "sessions": SESSIONS,
        "wall_s": round(wall, 1),
        "peak_rss_mb": round(peak_hwm, 1),
        "max_sampled_rss_mb": round(max(poller.samples), 1),
        "rss_before_mb": round(rss_idle, 1),
        "rss_after_mb": round(_tree_rss_mb(pid), 1),
        "rss_samples": len(poller.samples),
        "session_seconds": sorted(r["seconds"] for r in results if isinstance(r, dict)),
        "failures": [f"{type(f).__name__}: {str(f)[:300]}" for f in failures],
        "sessions_detail": [r for r in results if isinstance(r, dict)],
    }
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(figures, indent=1))
    print(f"\nLoad: {SESSIONS} sessions in {figures['wall_s']} s; server peak RSS (VmHWM) "
          f"{figures['peak_rss_mb']} MB, largest 0.2 s sample {figures['max_sampled_rss_mb']} MB, "
          f"{figures['rss_before_mb']} MB before, {figures['rss_after_mb']} MB after -> {ARTIFACT}")
    assert not failures, "\n".join(figures["failures"])
    assert figures["peak_rss_mb"] < MAX_PEAK_RSS_MB
