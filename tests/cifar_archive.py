"""A small CIFAR-10 archive in the official format, and a local HTTP server on 127.0.0.1 that
serves it (at a chosen speed, cut off half-way, or without a length), for the download tests.

Only the address and the checksums are the test's own: the download code, torchvision's MD5 check
and unpacking, and the archive reader all run as they do against www.cs.toronto.edu.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import pickle
import tarfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

from data.cifar10 import ARCHIVE_DIR, CIFAR10_CLASSES

ARCHIVE_NAME = "cifar-10-python.tar.gz"
BATCHES = [f"data_batch_{i}" for i in range(1, 6)]


@dataclass(frozen=True)
class Archive:
    path: Path
    md5: str  # of the .tar.gz
    file_md5: dict[str, str]  # of each batch file and batches.meta, as torchvision checks them
    test_pixels: np.ndarray  # N×32×32×3, the test batch's images in order
    test_labels: list[int]

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def _batch(rng, n: int, label: str) -> tuple[bytes, np.ndarray, list[int]]:
    pixels = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    labels = [i % len(CIFAR10_CLASSES) for i in range(n)]
    entry = {"batch_label": label, "labels": labels,
             "data": pixels.transpose(0, 3, 1, 2).reshape(n, 3072),  # 1024 red, 1024 green, 1024 blue
             "filenames": [f"image_{i:05d}.png" for i in range(n)]}
    return pickle.dumps(entry, protocol=2), pixels, labels


def build_archive(folder: Path, *, per_batch: int = 10, test_images: int = 20, seed: int = 0) -> Archive:
    """``folder/cifar-10-python.tar.gz``: cifar-10-batches-py/ with data_batch_1..5, test_batch and
    batches.meta, pickled as torchvision reads them (random pixels, labels cycling through the classes)."""
    rng = np.random.default_rng(seed)
    files: dict[str, bytes] = {}
    for i, name in enumerate(BATCHES, start=1):
        files[name], _, _ = _batch(rng, per_batch, f"training batch {i} of 5")
    files["test_batch"], test_pixels, test_labels = _batch(rng, test_images, "testing batch 1 of 1")
    files["batches.meta"] = pickle.dumps({"label_names": list(CIFAR10_CLASSES), "num_cases_per_batch": per_batch,
                                          "num_vis": 3072}, protocol=2)
    files["readme.html"] = b"<p>A test archive in the CIFAR-10 format.</p>\n"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ARCHIVE_NAME
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(ARCHIVE_DIR)
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(info)
        for name, data in files.items():
            info = tarfile.TarInfo(f"{ARCHIVE_DIR}/{name}")
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return Archive(path, hashlib.md5(path.read_bytes()).hexdigest(),
                   {name: hashlib.md5(data).hexdigest() for name, data in files.items()},
                   test_pixels, test_labels)


def patch_torchvision_checksums(monkeypatch, archive: Archive) -> None:
    """torchvision checks every batch file against the official MD5s: use the test archive's."""
    from torchvision.datasets import CIFAR10

    monkeypatch.setattr(CIFAR10, "train_list", [[n, archive.file_md5[n]] for n in BATCHES])
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", archive.file_md5["test_batch"]]])
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": archive.file_md5["batches.meta"]})


SITECUSTOMIZE = '''\
# Written by tests/cifar_archive.py for a dashboard started by a test: the official CIFAR-10
# address and checksums are replaced by the local test server's and the test archive's.
import json, os
BATCHES = %r
_cfg = json.loads(os.environ["CIFAR10_TEST_ARCHIVE"])
from torchvision.datasets import CIFAR10
CIFAR10.url = _cfg["url"]
CIFAR10.tgz_md5 = _cfg["md5"]
CIFAR10.train_list = [[n, _cfg["files"][n]] for n in BATCHES]
CIFAR10.test_list = [["test_batch", _cfg["files"]["test_batch"]]]
CIFAR10.meta = {**CIFAR10.meta, "md5": _cfg["files"]["batches.meta"]}
''' % (BATCHES,)  # noqa: UP031  (the file's own braces stay as they are)


def server_environment(folder: Path, archive: Archive, url: str, md5: str | None = None) -> dict[str, str]:
    """Environment variables that make a dashboard started in a subprocess download ``archive``
    from ``url`` (with ``md5`` as the expected checksum, by default the right one)."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return {"PYTHONPATH": str(folder),
            "CIFAR10_TEST_ARCHIVE": json.dumps({"url": url, "md5": md5 or archive.md5, "files": archive.file_md5})}


@dataclass
class ArchiveServer:
    """Serves one file at ``/<name>``. ``mode``: "ok", "cut" (announces the whole length, sends half,
    closes) or "no-length" (no Content-Length, closes at the end). ``rate``: bytes per second (0: as
    fast as possible). ``requests`` counts the GETs of the file."""

    path: Path
    mode: str = "ok"
    rate: float = 0
    requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.path.name}"

    def _handler(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                if self.path != f"/{owner.path.name}":
                    self.send_error(404, "Not Found")
                    return
                with owner._lock:
                    owner.requests += 1
                data = owner.path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-gzip")
                if owner.mode != "no-length":
                    self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                body = data[:len(data) // 2] if owner.mode == "cut" else data
                step = 16 * 1024
                try:
                    for start in range(0, len(body), step):
                        self.wfile.write(body[start:start + step])
                        self.wfile.flush()
                        if owner.rate:
                            time.sleep(step / owner.rate)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

        return Handler

    @contextlib.contextmanager
    def running(self):
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        httpd.daemon_threads = True
        self.port = httpd.server_address[1]
        thread = threading.Thread(target=httpd.serve_forever, name="archive-server", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            httpd.shutdown()
            httpd.server_close()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
