"""Benchmark: ``python -m bench --json`` prints one JSON object of measured figures.

Each figure is measured side by side with its baseline in the same run:

* first_render_s: ``streamlit run dashboard.py`` (disk caches warm) until the home page has
  finished its script run in headless Chromium and drawn its last chart (the confusion
  matrix's cells); baseline: a one-line page that only does ``import torch``, until its script
  run has finished. Median of ``--repeats`` launches, alternating with the baseline.
* interaction_ms: per page, the median script rerun after changing its main widget (AppTest,
  warm caches).
* testset_images_per_s: the test-set prediction pass as the dashboard runs it; baseline: a
  bare ``torch.no_grad()`` loop of the same model over tensors already in memory, best batch
  size and memory format.
* cache_reload_s: all test-set predictions on a second launch (from the disk cache).
* peak_rss_mb: the server's peak resident memory after visiting every page.
* classroom, classroom_one_replica (only with ``--classroom N``): N students (``loadgen.py``,
  Streamlit's websocket protocol) arriving within ``--within`` s, each viewing 3 images on the
  Feature maps page 2 s apart, through HAProxy in front of ``--replicas`` replicas and in front
  of one replica (``deploy``); per-view p50/p95, errors, the replicas' summed peak RSS and the
  memory per session. Each replica first serves one view, so the figures are warm. The class
  runs last, so its replicas' load is not measured by the rest.

Each browser section and each class starts on a quiet machine (:func:`settle`: 1-minute load
average under 1.2, at most 60 s of waiting); ``loadavg_1m_at_start`` says where each began.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parent
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
# The home page has rendered when its last chart, the confusion matrix, has drawn its cells (an
# SVG path per cell, labelled by Vega) - stricter than its first metric, which comes earlier.
HOME_DRAWN = '[data-testid="stVegaLiteChart"] svg path[aria-label^="predicted class"]'


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def settle(below: float = 1.2, longest: float = 60.0) -> float:
    """Wait (at most ``longest`` s) until the 1-minute load average is under ``below``: a timed
    section right after a busy one (the class, the test-set pass) measured the other's tail, e.g. a
    cold start of 21 s that took 7.8 s alone. Returns the load average the section starts at."""
    deadline = time.time() + longest
    while os.getloadavg()[0] >= below and time.time() < deadline:
        time.sleep(2)
    return round(os.getloadavg()[0], 2)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_memory_mb(pid: int, field: str) -> float:
    """A /proc status memory field (e.g. VmHWM = peak, VmRSS = now) of a process and its
    children that are still alive, summed, in MB."""
    total = 0.0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(f"{field}:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


def _peak_rss_mb(pid: int) -> float:
    """Peak RSS (VmHWM) of a process and its children that are still alive."""
    return tree_memory_mb(pid, "VmHWM")


class Server:
    """``streamlit run SCRIPT`` on a free loopback port, output to a temporary log file.
    Shared by the benchmark and the browser tests."""

    def __init__(self, script: Path, env: dict, cwd: Path = PROJECT):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
        cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(self.port),
               "--server.address", "127.0.0.1", "--server.headless", "true",
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"streamlit exited early (code {self.proc.returncode})") from None
                time.sleep(0.05)
        raise RuntimeError(f"server on {self.url} did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _render_time(browser, script: Path, env: dict, wait_for: str | None) -> tuple[float, Server]:
    server = Server(script, env)
    server.wait_healthy()
    page = browser.new_page()
    page.set_default_timeout(300_000)
    page.goto(server.url)
    page.wait_for_selector(DONE, state="attached")
    if wait_for:
        page.wait_for_selector(wait_for)
    elapsed = time.perf_counter() - server.started
    page.close()
    return elapsed, server


def bench_first_render(browser, env: dict, repeats: int) -> dict:
    baseline_script = Path(tempfile.mkdtemp()) / "bare_torch.py"
    baseline_script.write_text("import torch\n")
    app, base = [], []
    for _ in range(repeats):
        t, s = _render_time(browser, baseline_script, env, None)
        s.stop()
        base.append(t)
        t, s = _render_time(browser, PROJECT / "dashboard.py", env, HOME_DRAWN)
        s.stop()
        app.append(t)
    a, b = statistics.median(app), statistics.median(base)
    return {"first_render_s": round(a, 3), "baseline_first_render_s": round(b, 3),
            "first_render_ratio": round(a / b, 3)}


def bench_peak_rss(browser, env: dict) -> dict:
    server = Server(PROJECT / "dashboard.py", env)
    server.wait_healthy()
    page = browser.new_page()
    page.set_default_timeout(300_000)
    paths = ["", *_page_paths()]
    for path in paths:
        page.goto(f"{server.url}/{path}?image=7")
        page.wait_for_selector(DONE, state="attached")
        page.wait_for_timeout(500)
        page.wait_for_selector(DONE, state="attached")
    rss = _peak_rss_mb(server.proc.pid)
    page.close()
    server.stop()
    return {"peak_rss_mb": round(rss, 1), "pages_visited": len(paths)}


# Click to drawn: from the click event's own time stamp in the page (when the mouse button came up
# on the widget; Playwright's checks and round trip before it are not what a person waits for); a
# MutationObserver notes when the script state turns "running" after the click;
# the click is drawn once the state is "notRunning" again, no element is stale and every Plotly
# chart has its SVG (checked on every animation frame, so the figure is within ~16 ms).
WATCH = """() => {
    window.__ranAt = null;
    window.__idleAt = null;
    window.__clickAt = null;
    if (window.__watch) return;
    document.addEventListener('click', (e) => { window.__clickAt = e.timeStamp; }, true);
    const app = document.querySelector('[data-testid="stApp"]');
    window.__watch = new MutationObserver(() => {
        if (app.getAttribute('data-test-script-state') === 'running' && window.__ranAt === null)
            window.__ranAt = performance.now();
        if (app.getAttribute('data-test-script-state') === 'notRunning' && window.__ranAt !== null)
            window.__idleAt = performance.now();
    });
    window.__watch.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
DRAWN_AFTER_CLICK = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (window.__ranAt === null || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (document.querySelector('[data-stale="true"]')) return false;
    for (const c of document.querySelectorAll('[data-testid="stPlotlyChart"]'))
        if (!c.querySelector('.main-svg')) return false;
    return performance.now();
}"""
# Per page: the widgets a student clicks most, as step-up buttons of number inputs (sidebar =
# "Test image #", main = the page's own number: channel, page of the gallery). Each click is one
# step; at the end of a range the benchmark steps down instead.
CLICKS = {
    "home": ("", ["sidebar"]),
    "feature_maps": ("Feature_maps", ["main", "sidebar"]),
    "semantic_map": ("Semantic_map", ["sidebar"]),
    "1x1_weights": ("1x1_weights", ["main", "sidebar"]),
    "prediction_heatmaps": ("Prediction_heatmaps", ["sidebar"]),
    "convolution_playground": ("Convolution_playground", ["sidebar"]),
    "channel": ("Channel", ["main", "sidebar"]),
}


def _step_button(page, where: str):
    scope = '[data-testid="stSidebar"]' if where == "sidebar" else '[data-testid="stMain"]'
    up = page.locator(f'{scope} [data-testid="stNumberInputStepUp"]').first
    return page.locator(f'{scope} [data-testid="stNumberInputStepDown"]').first if up.is_disabled() else up


def click_times(page, url: str, where: list[str], clicks: int) -> list[tuple[str, float, float, float, float]]:
    """Milliseconds from each click to drawn (see DRAWN_AFTER_CLICK), ``clicks`` clicks spread
    over the ``where`` widgets in turn; the first visit and one click per widget warm up first.
    Each click gives (widget, total, click to run start, run start to run end, run end to drawn)."""
    page.goto(url)
    page.wait_for_selector(DONE, state="attached")
    page.wait_for_function(DRAWN_AFTER_CLICK.replace("window.__ranAt === null || ", ""), polling="raf")
    times = []
    for i in range(clicks + len(where)):
        button = _step_button(page, where[i % len(where)])
        page.evaluate(WATCH)
        button.click()
        done = page.wait_for_function(DRAWN_AFTER_CLICK, polling="raf", timeout=120_000).json_value()
        t0, ran, idle = page.evaluate("() => [window.__clickAt, window.__ranAt, window.__idleAt]")
        page.wait_for_timeout(150)  # a person's next click is never within the same frame
        if i >= len(where):
            idle = idle or done
            times.append((where[i % len(where)], done - t0, ran - t0, idle - ran, done - idle))
    return times


def _summary(times: list[tuple]) -> dict:
    total, to_run, run, draw = (list(x) for x in zip(*(t[1:] for t in times)))
    by_widget = {w: round(statistics.median([t[1] for t in times if t[0] == w]), 1) for w in dict.fromkeys(
        t[0] for t in times)}
    return {"p50": round(_percentile(total, 50), 1), "p95": round(_percentile(total, 95), 1), "n": len(total),
            # the median click: until the server starts the run, the run (script and deltas), and
            # drawing after the run has ended; and the median per widget (main area, sidebar)
            "median_parts_ms": [round(statistics.median(x), 1) for x in (to_run, run, draw)],
            "p50_by_widget": by_widget}


def _percentile(xs: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(xs, q))


def bench_clicks(browser, env: dict, clicks: int, pages: dict | None = None,
                 compare: Path | None = None) -> dict:
    """click_ms: per page, p50 and p95 from click to drawn in headless Chromium (1280×720).
    With ``compare`` (another checkout's folder), the same clicks against its dashboard too, page
    by page alternating with this one, as ``click_ms_compare`` and the p50 ratios (this / that)."""
    apps = {"this": PROJECT} | ({"compare": Path(compare).resolve()} if compare else {})
    servers = {k: Server(d / "dashboard.py", env, cwd=d) for k, d in apps.items()}
    out: dict = {k: {} for k in apps}
    try:
        for s in servers.values():
            s.wait_healthy()
        context = browser.new_context(viewport={"width": 1280, "height": 720}, device_scale_factor=1)
        page = context.new_page()
        page.set_default_timeout(300_000)
        for name, (path, where) in (pages or CLICKS).items():
            if path and not any(PROJECT.glob(f"pages/*_{path}.py")):
                continue
            for k, server in servers.items():
                out[k][name] = _summary(click_times(page, f"{server.url}/{path}?image=7", where, clicks))
                log(f"  {k} {name}: {out[k][name]}")
        context.close()
    finally:
        for s in servers.values():
            s.stop()
    result = {"click_ms": out["this"]}
    if compare:
        result["click_ms_compare"] = {"folder": str(apps["compare"]), **out["compare"]}
        result["click_p50_ratio"] = {n: round(v["p50"] / out["compare"][n]["p50"], 2) for n, v in out["this"].items()
                                     if n in out["compare"]}
    return result


# A first visit is drawn when the page has a heading, the script is idle, nothing is stale and
# every Plotly chart has its SVG, and that has held for 500 ms (a page may rerun once to adopt its
# URL values); the time is when that calm began.
FIRST_DRAWN = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    let ok = app && app.getAttribute('data-test-script-state') === 'notRunning'
        && document.querySelector('[data-testid="stMain"] h1')
        && !document.querySelector('[data-stale="true"]');
    if (ok) for (const c of document.querySelectorAll('[data-testid="stPlotlyChart"]'))
        if (!c.querySelector('.main-svg')) { ok = false; break; }
    if (!ok) { window.__calmSince = null; return false; }
    window.__calmSince = window.__calmSince || performance.now();
    return performance.now() - window.__calmSince > 500 ? window.__calmSince : false;
}"""


def _page_paths() -> list[str]:
    from streamlit.source_util import page_icon_and_name

    return [page_icon_and_name(p)[1] for p in sorted((PROJECT / "pages").glob("*.py"))]


def _warm_up_seconds(server: Server, timeout: float = 900) -> float:
    """The background warm-up's own time, from the line it prints in the server's log."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for line in Path(server.log.name).read_text(errors="replace").splitlines():
            if line.startswith("warm-up: finished in "):
                return float(line.split()[3])
        time.sleep(0.5)
    raise RuntimeError("the warm-up did not finish")


def bench_cold_start(browser, env: dict) -> dict:
    """cold_start_s: an empty cache folder, ``streamlit run`` until the home page has drawn its
    confusion matrix; warmup_s: the background warm-up's time (it starts with the first page);
    first_visit_s: then every page's first visit (navigation to drawn, see FIRST_DRAWN);
    peak_rss_mb_after_warm_up: the server's peak after all that."""
    with tempfile.TemporaryDirectory() as cache:
        server = Server(PROJECT / "dashboard.py", {**env, "CIFAR10_CACHE": cache, "CIFAR10_WARMUP": "1"})
        try:
            server.wait_healthy()
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.set_default_timeout(600_000)
            page.goto(server.url)
            page.wait_for_selector(HOME_DRAWN)
            cold = time.perf_counter() - server.started
            warm = _warm_up_seconds(server)
            visits = {}
            for path in _page_paths():
                page.goto("about:blank")
                t0 = time.perf_counter()
                page.goto(f"{server.url}/{path}?image=7")
                calm = page.wait_for_function(FIRST_DRAWN, polling="raf").json_value()
                # the calm began before now by (now - calm) in the page's own clock
                visits[path] = round(time.perf_counter() - t0 - (page.evaluate("performance.now()") - calm) / 1000, 2)
                log(f"  first visit {path}: {visits[path]} s")
            rss = _peak_rss_mb(server.proc.pid)
            page.close()
        finally:
            server.stop()
    return {"cold_start_s": round(cold, 2), "warmup_s": round(warm, 1), "first_visit_s": visits,
            "peak_rss_mb_after_warm_up": round(rss, 1)}


def bench_throughput(root: str) -> dict:
    import numpy as np
    import torch

    from data.cifar10 import load_split
    from explain.testset import predictions
    from model.checkpoint import load_checkpoint
    from model.inference import to_tensor

    ckpt = load_checkpoint()
    split = load_split(root, "test")
    model = ckpt.model
    x_all = to_tensor(split.images, ckpt.meta["mean"], ckpt.meta["std"])
    with torch.no_grad():
        model(x_all[:250])  # both sides start warm: the first forward pass of a process is slow

    def app_pass() -> tuple[float, float]:
        """The dashboard's pass into an empty cache, then the reload from that cache (seconds)."""
        with tempfile.TemporaryDirectory() as cache:
            t = time.perf_counter()
            first = predictions(model, split.images, split.labels, split.indices, ckpt.meta, ckpt.sha256,
                                Path(cache))
            app = time.perf_counter() - t
            t = time.perf_counter()
            again = predictions(model, split.images, split.labels, split.indices, ckpt.meta, ckpt.sha256,
                                Path(cache))
            reload = time.perf_counter() - t
            assert np.array_equal(first.logits, again.logits)
        return app, reload

    def bare_loop(xs: torch.Tensor, bs: int) -> float:
        with torch.no_grad():
            t = time.perf_counter()
            for s in range(0, len(xs), bs):
                model(xs[s:s + bs])
            return len(xs) / (time.perf_counter() - t)

    layouts = {"contiguous": x_all.contiguous(), "channels_last": x_all.contiguous(memory_format=torch.channels_last)}
    rates = {(name, bs): bare_loop(xs, bs) for name, xs in layouts.items() for bs in (250, 500, 1000)}
    (fmt_name, bs), _ = max(rates.items(), key=lambda kv: kv[1])
    # The machine is noisy: the app's pass and the best bare setting each three times, interleaved.
    app_runs, reload_runs, bare_runs = [], [], []
    for _ in range(3):
        app, reload = app_pass()
        app_runs.append(app)
        reload_runs.append(reload)
        bare_runs.append(bare_loop(layouts[fmt_name], bs))
    app_s, reload_s = statistics.median(app_runs), statistics.median(reload_runs)
    best = (statistics.median(bare_runs), f"{fmt_name}, batch {bs}")
    n = len(split.labels)
    return {"testset_images_per_s": round(n / app_s, 1), "baseline_images_per_s": round(best[0], 1),
            "testset_ratio": round(n / app_s / best[0], 3), "baseline_setting": best[1],
            "cache_reload_s": round(reload_s, 4)}


def bench_interaction(root: str, repeats: int) -> dict:
    """Median rerun time after changing each page's main widget (AppTest, warm caches)."""
    from streamlit.testing.v1 import AppTest

    os.environ["CIFAR10_ROOT"] = root
    # No background warm-up in this process: AppTest runs the app here, and a warm-up thread left
    # running would go on taking a core from every later section.
    os.environ["CIFAR10_WARMUP"] = "0"
    scenarios = {
        "home": ("dashboard.py", "selectbox", "home_true", ["dog", "cat"]),
        "feature_maps": ("pages/1_Feature_maps.py", "selectbox", "fm_layer", None),
        "semantic_map": ("pages/2_Semantic_map.py", "selectbox", "sm_layer", None),
        "1x1_weights": ("pages/3_1x1_weights.py", "radio", "ob_layer", None),
        "prediction_heatmaps": ("pages/4_Prediction_heatmaps.py", "selectbox", "hm_class", None),
        "convolution_playground": ("pages/5_Convolution_playground.py", "radio", "cv_kernel", None),
        "shapes_and_parameters": ("pages/6_Shapes_and_parameters.py", "selectbox", "sh_preset", None),
    }
    out = {}
    for name, (script, kind, key, values) in scenarios.items():
        if not (PROJECT / script).exists():
            continue
        # Through the home script, as the app runs: a page's links to other pages (st.page_link)
        # resolve only among the pages the multipage app knows.
        at = AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=300)
        if script != "dashboard.py":
            at.switch_page(script)
        at.run()
        widget = getattr(at, kind)(key=key)
        options = values or list(widget.options)[:2]
        times = []
        for i in range(repeats + 1):
            widget = getattr(at, kind)(key=key)
            widget.set_value(options[i % len(options)])
            t = time.perf_counter()
            at.run()
            if i:  # the first change may fill caches
                times.append((time.perf_counter() - t) * 1000)
        if at.exception:
            raise RuntimeError(f"{name}: {at.exception[0].message}")
        out[name] = round(statistics.median(times), 1)
    return {"interaction_ms": out}


def bench_classroom(env: dict, students: int, within: float, replicas: int, timeout: float = 600) -> dict:
    """The class of ``loadgen`` through ``deploy``'s HAProxy in front of ``replicas`` replicas."""
    import asyncio

    from deploy import Deployment, free_port_block
    from loadgen import run_class

    with Deployment(replicas, free_port_block(replicas + 1), env=env) as dep:
        # One view per replica first (round-robin sends consecutive students to each replica).
        warm = asyncio.run(run_class(dep.url, replicas, 0, 1, 0, "Feature_maps", "layer=block3.relu3", timeout))
        pids = [r.proc.pid for r in dep.replicas]
        idle = sum(tree_memory_mb(p, "VmRSS") for p in pids)
        load_before = os.getloadavg()
        out = asyncio.run(run_class(dep.url, students, within, 3, 2, "Feature_maps", "layer=block3.relu3",
                                    timeout))
        peak = sum(tree_memory_mb(p, "VmHWM") for p in pids)
        load_after = os.getloadavg()
    return {"students": students, "within_s": within, "views_each": 3, "replicas": replicas,
            "p50_s": out["p50_s"], "p95_s": out["p95_s"], "max_s": out["max_s"], "errors": out["errors"],
            "error_samples": out["error_samples"], "peak_rss_mb": round(peak, 1),
            "rss_warm_idle_mb": round(idle, 1),
            "rss_per_session_mb": round(max(peak - idle, 0) / students, 1),
            "students_per_replica": out["students_per_replica"], "warm_up_errors": warm["errors"],
            "wall_s": out["wall_s"], "loadavg_1m_before_after": [round(load_before[0], 1), round(load_after[0], 1)]}


def bench_maximise(layers: list[str]) -> dict:
    """Seconds to compute the maximising inputs of every channel of each layer (explain.maximise,
    uncached: what the atlas's first request for a layer costs), with the channel count."""
    from explain.maximise import STEPS, maximise_layer
    from model.checkpoint import load_checkpoint

    ck = load_checkpoint(PROJECT / "model" / "checkpoint.pt")
    out = {}
    for layer in layers:
        started = time.perf_counter()
        result = maximise_layer(ck.model, ck.meta, layer)
        out[layer] = {"seconds": round(time.perf_counter() - started, 1), "channels": len(result.images),
                      "steps": STEPS}
        log(f"maximise {layer}: {out[layer]}")
    return {"maximise": out}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--json", action="store_true", help="print one JSON object (always on)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--data", help="CIFAR-10 root (default: $CIFAR10_ROOT or ../shared/cifar10)")
    p.add_argument("--classroom", type=int, default=0, metavar="N",
                   help="also run the class of N students (loadgen) through HAProxy; 0 (default) skips it")
    p.add_argument("--within", type=float, default=10, help="the class arrives within this many seconds")
    p.add_argument("--replicas", type=int, default=2, help="replicas behind HAProxy for the classroom figure")
    p.add_argument("--clicks", type=int, default=20, help="clicks per page for click_ms")
    p.add_argument("--only-clicks", action="store_true", help="measure click_ms only (a quick check)")
    p.add_argument("--only-cold", action="store_true", help="measure cold_start_s, warmup_s, first visits only")
    p.add_argument("--compare", metavar="DIR", help="with --only-clicks: also click another checkout's "
                   "dashboard (e.g. /work/main), alternating page by page, and give the p50 ratios")
    p.add_argument("--pages", help="with --only-clicks: comma-separated click_ms page names (default: all)")
    p.add_argument("--only-classroom", action="store_true", help="skip every other figure")
    p.add_argument("--maximise", nargs="+", metavar="LAYER",
                   help="only time the maximising inputs of every channel of these layers (channel atlas)")
    args = p.parse_args(argv)
    if args.maximise:
        print(json.dumps(bench_maximise(args.maximise)))
        return 0

    from data.cifar10 import resolve_root

    root = str(resolve_root(args.data))
    env = {**os.environ, "CIFAR10_ROOT": root}
    started = time.perf_counter()
    result: dict = {}

    def classroom() -> None:
        for key, n in (("classroom", args.replicas), ("classroom_one_replica", 1)):
            log(f"classroom: {args.classroom} students within {args.within} s, {n} replica(s) behind HAProxy…")
            result.setdefault("loadavg_1m_at_start", {})[key] = settle()
            result[key] = bench_classroom(env, args.classroom, args.within, n)

    if args.classroom and args.only_classroom:
        classroom()
        result["bench_seconds"] = round(time.perf_counter() - started, 1)
        print(json.dumps(result))
        return 0
    if args.only_clicks or args.only_cold:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
                                         args=LAUNCH_ARGS, headless=True)
            try:
                if args.only_cold:
                    result.update(bench_cold_start(browser, env))
                else:
                    chosen = {k: v for k, v in CLICKS.items() if not args.pages or k in args.pages.split(",")}
                    result.update(bench_clicks(browser, env, args.clicks, chosen, args.compare))
            finally:
                browser.close()
        result["loadavg_1m"] = round(os.getloadavg()[0], 2)
        result["bench_seconds"] = round(time.perf_counter() - started, 1)
        print(json.dumps(result))
        return 0
    log("test-set throughput and cache reload…")
    result.update(bench_throughput(root))
    log("interaction medians (AppTest)…")
    result.update(bench_interaction(root, args.repeats))
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    # Each browser section waits for a quiet machine first; the load it started at is reported.
    quiet = result["loadavg_1m_at_start"] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS, headless=True)
        try:
            # First, as a fresh clone's first launch would be. (It measured 20–22 s in full runs and
            # 7 s alone: the home page waited for the warm-up's lock whenever the warm-up took it
            # first; ui.resources._predictions now reads stored predictions without it.)
            log("cold start, warm-up and first visits (empty cache folder)…")
            quiet["cold_start"] = settle()
            result.update(bench_cold_start(browser, env))
            log("first render against bare torch…")
            # One launch first so every disk cache (decoded images, predictions) is warm.
            _, warm = _render_time(browser, PROJECT / "dashboard.py", env, HOME_DRAWN)
            warm.stop()
            quiet["first_render"] = settle()
            result.update(bench_first_render(browser, env, args.repeats))
            log(f"click to drawn, {args.clicks} clicks per page…")
            quiet["click_ms"] = settle()
            result.update(bench_clicks(browser, env, args.clicks))
            log("peak memory over every page…")
            result.update(bench_peak_rss(browser, env))
        finally:
            browser.close()
    if args.classroom:  # last: its replicas and their load would otherwise be measured by the rest
        classroom()
    result["bench_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
