"""A whole class without browsers: ``python -m loadgen --url http://127.0.0.1:8080 --students 100
--within 10 --views 3 --gap 2 --page Feature_maps --json``.

Each student does what a browser does on Streamlit's protocol: GET the page (HAProxy's stickiness
cookie comes back here), open the websocket ``/_stcore/stream`` (subprotocol ``streamlit``, with
that cookie), send a ``BackMsg`` whose ``rerun_script`` names the page and carries the query
string, read ``ForwardMsg`` messages until the run's ``script_finished`` (a run that ends early for
a rerun is followed to the rerun's end), then GET every ``/media/…`` file that run referenced, with
the same cookie. A view's latency runs from its request to its last media byte. The next views
(other images, ``--gap`` seconds apart) are reruns with a new query string on the same websocket,
as when the student picks another image. Students arrive evenly spread over ``--within`` seconds.

Bounded: at most 200 students, 10 views each, an overall ``--timeout`` (default 300 s) after
which unfinished views count as errors; loopback addresses only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MAX_STUDENTS, MAX_VIEWS = 200, 10
MEDIA = re.compile(rb"/media/[0-9A-Za-z_.-]+")
VIEW_TIMEOUT_S = 120


@dataclass
class Student:
    n: int
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    media_files: int = 0
    media_bytes: int = 0
    replica: str = ""


async def http_get(host: str, port: int, path: str, cookie: str = "") -> tuple[int, dict, int]:
    """A bare HTTP/1.1 GET (Connection: close): status, headers (lower-case, Set-Cookie joined)
    and body length."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        head = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: loadgen\r\nConnection: close\r\n"
        if cookie:
            head += f"Cookie: {cookie}\r\n"
        writer.write((head + "\r\n").encode())
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
    header, _, body = raw.partition(b"\r\n\r\n")
    lines = header.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    headers: dict[str, str] = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        k = k.strip().lower()
        headers[k] = f"{headers[k]}; {v.strip()}" if k in headers else v.strip()
    return status, headers, len(body)


def _cookie_from(set_cookie: str) -> str:
    """``SERVERID=r1; path=/; HttpOnly`` → ``SERVERID=r1`` (HAProxy's cookie; Streamlit's XSRF
    cookie is not needed for GETs)."""
    m = re.search(r"SERVERID=([^;,\s]+)", set_cookie or "")
    return f"SERVERID={m.group(1)}" if m else ""


def rerun_msg(page: str, query: str) -> bytes:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    msg.rerun_script.query_string = query
    msg.rerun_script.page_name = page
    msg.rerun_script.page_script_hash = ""
    return msg.SerializeToString()


async def _one_run(ws, started: float, deadline: float) -> tuple[set[bytes], list[str]]:
    """Read ForwardMsgs until the run (and any rerun it started) has finished; the media paths it
    referenced and any exception elements or page-not-found messages."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    media: set[bytes] = set()
    problems: list[str] = []
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            raise TimeoutError("no script_finished in time")
        raw = await asyncio.wait_for(ws.recv(), timeout=left)
        if isinstance(raw, str):
            continue
        media.update(MEDIA.findall(raw))
        fm = ForwardMsg()
        fm.ParseFromString(raw)
        kind = fm.WhichOneof("type")
        if kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
            if fm.delta.new_element.WhichOneof("type") == "exception":
                problems.append(f"exception: {fm.delta.new_element.exception.message[:200]}")
        elif kind == "page_not_found":
            problems.append(f"page not found: {fm.page_not_found.page_name}")
        elif kind == "script_finished":
            if fm.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                continue
            if fm.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                problems.append("script compile error")
            return media, problems


async def student(st: Student, url: str, page: str, images: list[int], extra_query: str, gap: float,
                  stop_at: float) -> None:
    import websockets
    from websockets.asyncio.client import connect

    u = urlsplit(url)
    host, port = u.hostname, u.port or 80
    base = u.path.rstrip("/")

    def query(image: int) -> str:
        return "&".join(q for q in (f"image={image}", extra_query) if q)

    try:
        t0 = time.perf_counter()
        status, headers, _ = await asyncio.wait_for(
            http_get(host, port, f"{base}/{page}?{query(images[0])}"), timeout=VIEW_TIMEOUT_S)
        if status != 200:
            raise RuntimeError(f"GET page: HTTP {status}")
        cookie = _cookie_from(headers.get("set-cookie", ""))
        st.replica = cookie.partition("=")[2]
        extra = {"Cookie": cookie} if cookie else {}
        async with connect(f"ws://{host}:{port}{base}/_stcore/stream", subprotocols=["streamlit"],
                           additional_headers=extra, max_size=None, open_timeout=VIEW_TIMEOUT_S,
                           ping_interval=None) as ws:
            for i, image in enumerate(images):
                if i:
                    await asyncio.sleep(gap)
                    t0 = time.perf_counter()
                deadline = min(stop_at, t0 + VIEW_TIMEOUT_S)
                await ws.send(rerun_msg(page, query(image)))
                media, problems = await _one_run(ws, t0, deadline)
                for path in sorted(media):
                    left = deadline - time.perf_counter()
                    s, _, size = await asyncio.wait_for(http_get(host, port, base + path.decode(), cookie),
                                                        timeout=max(left, 0.01))
                    if s != 200:
                        problems.append(f"GET {path.decode()}: HTTP {s}")
                    st.media_files += 1
                    st.media_bytes += size
                if problems:
                    st.errors.extend(f"view {i + 1} (image {image}): {p}" for p in problems)
                else:
                    st.latencies.append(time.perf_counter() - t0)
    except (OSError, TimeoutError, RuntimeError, websockets.WebSocketException) as exc:
        st.errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")


def _percentile(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, round(q * (len(xs) - 1))))
    return xs[k]


async def run_class(url: str, students: int, within: float, views: int, gap: float, page: str,
                    extra_query: str = "", timeout: float = 300, first_image: int = 100) -> dict:
    host = urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("loadgen drives loopback addresses only")
    if not (1 <= students <= MAX_STUDENTS and 1 <= views <= MAX_VIEWS):
        raise ValueError(f"students 1–{MAX_STUDENTS}, views 1–{MAX_VIEWS}")
    began = time.perf_counter()
    stop_at = began + timeout
    crowd = [Student(n) for n in range(students)]

    async def arrive(s: Student) -> None:
        await asyncio.sleep(within * s.n / max(students - 1, 1) if students > 1 else 0)
        # Different images per student and per view (test indices 0–9999).
        images = [(first_image + 97 * s.n + 3001 * v) % 10_000 for v in range(views)]
        await student(s, url, page, images, extra_query, gap, stop_at)

    tasks = [asyncio.ensure_future(arrive(s)) for s in crowd]
    done, pending = await asyncio.wait(tasks, timeout=timeout + 5)
    for t in pending:
        t.cancel()
    for s, t in zip(crowd, tasks):
        if t in pending:
            s.errors.append("overall timeout")
    lat = [x for s in crowd for x in s.latencies]
    errors = [e for s in crowd for e in s.errors]
    per_replica: dict[str, int] = {}
    for s in crowd:
        per_replica[s.replica or "-"] = per_replica.get(s.replica or "-", 0) + 1
    return {
        "students": students, "within_s": within, "views_each": views, "gap_s": gap, "page": page,
        "views_ok": len(lat),
        "p50_s": round(statistics.median(lat), 3) if lat else None,
        "p95_s": round(_percentile(lat, 0.95), 3) if lat else None,
        "max_s": round(max(lat), 3) if lat else None,
        "errors": len(errors),
        "error_samples": errors[:5],
        "media_files": sum(s.media_files for s in crowd),
        "students_per_replica": per_replica,
        "wall_s": round(time.perf_counter() - began, 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m loadgen", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8080")
    p.add_argument("--students", type=int, default=20)
    p.add_argument("--within", type=float, default=10, help="students arrive evenly over this many seconds")
    p.add_argument("--views", type=int, default=3, help="images each student views")
    p.add_argument("--gap", type=float, default=2, help="seconds between a student's views")
    p.add_argument("--page", default="Feature_maps", help="URL path of the page (empty: home)")
    p.add_argument("--query", default="layer=block3.relu3", help="query string besides image=")
    p.add_argument("--timeout", type=float, default=300, help="hard limit for the whole run, seconds")
    p.add_argument("--json", action="store_true", help="print one JSON object (always on)")
    args = p.parse_args(argv)
    result = asyncio.run(run_class(args.url, args.students, args.within, args.views, args.gap, args.page,
                                   args.query, args.timeout))
    print(json.dumps(result))
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
