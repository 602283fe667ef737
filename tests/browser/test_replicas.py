"""Two replicas behind HAProxy (``python -m deploy``'s Deployment), driven through the proxy by a
real browser: a session and an upload work through it, the stickiness cookie keeps the session on
one replica, and when that replica's process is killed the browser reconnects through the proxy
to the other replica, where the page runs again and a second upload works (one cookieSecret on
every replica: the browser's XSRF cookie from the dead replica is accepted by the live one)."""

from __future__ import annotations

import os
import shutil

import pytest

from deploy import HAPROXY, Deployment, free_port_block
from tests.browser.conftest import CHROMIUM, TIMEOUT_MS, _need, screenshot, wait_for_run
from tests.browser.test_upload_browser import UPLOAD_INPUT, photo

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def deployment(cifar_root):
    if not (shutil.which("haproxy") or os.path.exists(HAPROXY)):
        _need("HAProxy (apt-get install haproxy)")
    dep = Deployment(2, free_port_block(3), env={**os.environ, "CIFAR10_ROOT": str(cifar_root)})
    try:
        dep.start(timeout=180)
    except (RuntimeError, OSError) as exc:
        dep.stop()
        pytest.fail(f"deployment did not start: {exc}")
    try:
        yield dep
    finally:
        dep.stop()


def _replica_of(context) -> str:
    ids = [c["value"] for c in context.cookies() if c["name"] == "SERVERID"]
    assert ids, "HAProxy set no SERVERID cookie"
    return ids[0]


def _upload(page, tmp_path, name: str) -> None:
    page.get_by_text("Your photo (upload)").click()
    path = photo(tmp_path)
    page.locator(UPLOAD_INPUT).set_input_files(str(path.rename(path.with_name(name))))
    page.locator('[data-testid="stSidebar"] [data-testid="stImageCaption"]').filter(
        has_text=f"Your photo: {name}").wait_for()
    wait_for_run(page)
    assert page.locator('[data-testid="stException"]').count() == 0


def test_two_replicas_sticky_upload_and_failover(deployment, browser, tmp_path):
    if not os.path.exists(CHROMIUM):
        _need(f"Chromium ({CHROMIUM})")
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    sockets = []  # every websocket the page opens: [frames received]

    def opened(ws):
        frames = [0]
        sockets.append(frames)
        ws.on("framereceived", lambda _: frames.__setitem__(0, frames[0] + 1))

    page.on("websocket", opened)
    try:
        page.goto(f"{deployment.url}/?image=3")
        wait_for_run(page)
        first = _replica_of(context)
        assert first in ("r1", "r2")
        _upload(page, tmp_path, "before.jpg")
        assert _replica_of(context) == first, "the session moved replica without a failure"

        # Kill the session's replica outright (no clean shutdown), as a crash would.
        victim = deployment.replicas[int(first[1:]) - 1]
        victim.proc.kill()
        victim.proc.wait()

        # Streamlit's client reconnects on its own; HAProxy's health check marks the dead replica
        # down and sends the websocket to the live one, which sets a new SERVERID cookie.
        for _ in range(120):
            page.wait_for_timeout(500)
            if _replica_of(context) != first:
                break
        second = _replica_of(context)
        assert second != first, f"still on {first} 60 s after it was killed"
        # Streamlit 1.67's client reopens the websocket (now on the live replica) but does not rerun
        # the script: the old page stays drawn. The next interaction runs in a fresh session there.
        page.wait_for_timeout(3000)
        print("\nwebsockets opened (frames received each):", [f[0] for f in sockets])
        # A click (the image-number "+"), then what the student sees: the fresh session shows the
        # link's test image #3 (the URL wins), the photo is gone although the uploader widget still
        # lists its file name (browser-side state), and a message says why.
        page.locator('[data-testid="stSidebar"] [data-testid="stNumberInputStepUp"]').first.click()
        page.evaluate("() => { window.__idleSince = null; }")
        page.wait_for_timeout(1000)
        wait_for_run(page)
        screenshot(page, "replica_failover")
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
        print("After the failover and one click the sidebar shows:", sidebar[:900])
        assert page.locator('[data-testid="stException"]').count() == 0
        assert "Your photo: before.jpg" not in sidebar, "the photo survived in another replica?"
        notice = page.locator('[data-testid="stAlert"]').filter(has_text="You are on another server now")
        notice.wait_for()
        assert "uploaded photo" in notice.inner_text()
        page.locator('[data-testid="stSidebar"] [data-testid="stImageCaption"]').filter(has_text="#3:").wait_for()
        assert _replica_of(context) == second

        # A second upload, now served by the other replica (same cookieSecret: the XSRF check passes).
        _upload(page, tmp_path, "after.jpg")
        assert _replica_of(context) == second
        # said once: the next runs of that session do not repeat it
        assert page.get_by_text("You are on another server now").count() == 0
    finally:
        context.close()
