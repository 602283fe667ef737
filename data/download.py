"""Fetch the official CIFAR-10 archive into a data folder, once, leaving nothing half-done.

    python -m data.download [--data DIR]      # what the dashboard's first-launch button does

:func:`download_cifar10` takes the official URL, file name and MD5 checksum from
``torchvision.datasets.CIFAR10`` (all three can be passed instead, for a mirror or a test
server), transfers the archive with urllib in chunks so a progress callback gets the megabytes
done and the time left, checks the MD5 with torchvision's ``check_md5``, unpacks it with
torchvision's ``extract_archive`` into a temporary folder and renames the unpacked
``cifar-10-batches-py/`` into place in one step, which :mod:`data.cifar10` then reads.

Nothing half-done is left behind: the transfer goes to a hidden partial file in the same
folder and the archive is unpacked into a hidden temporary folder; both are deleted on every
failure, and leftovers of a killed process are deleted by the next download. Only one
download per folder runs at a time, across threads and processes (a lock on a file in the
folder: ``fcntl.flock``, or ``msvcrt.locking`` on Windows; whoever gets the lock second finds
the data set there and downloads nothing). Every failure is a :class:`DownloadError` whose
message is one line saying what to do.

:func:`start_download` runs the download in a background thread shared by every caller in the
process (every browser session of one dashboard), so a page can follow it without owning it.
No Streamlit here; torchvision is imported only when a download starts.
"""

from __future__ import annotations

import argparse
import errno
import gzip
import http.client
import os
import shutil
import socket
import sys
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from data.cifar10 import ARCHIVE_DIR, DatasetError, resolve_root
from locales import Phrase, translate

try:
    import fcntl
except ImportError:  # Windows: msvcrt's byte-range lock instead (not tested there)
    fcntl = None
    import msvcrt

MB = 1024 * 1024
OFFICIAL_BYTES = 170_498_071  # size of the official archive, for messages before the download starts
CHUNK = 256 * 1024
TIMEOUT = 30.0  # seconds without a byte (connecting or mid-transfer) before giving up
SPACE_FACTOR = 2.1  # the archive plus its unpacked batches (about 1.05 times the archive)
LOCK_NAME = ".cifar10-download.lock"
PARTIAL_PREFIX = ".cifar10-partial-"  # + the archive's file name (its .tar.gz tells how to unpack it)
EXTRACT_PREFIX = ".cifar10-unpacking-"
WAIT_POLL = 0.2  # seconds between looks at another process's download
REPORT_EVERY = 0.1  # seconds between progress reports


class DownloadError(DatasetError):
    """The download failed; the message is one line that says what happened and what to do."""


@dataclass(frozen=True)
class Progress:
    """How far a download is. ``stage``: connect, download, wait (another process downloads),
    check (the MD5) or unpack."""

    stage: str = "connect"
    done: int = 0
    total: int | None = None
    seconds_left: float | None = None
    host: str = ""

    @property
    def fraction(self) -> float:
        if self.stage in ("check", "unpack"):
            return 1.0
        return min(1.0, self.done / self.total) if self.total else 0.0

    def text(self, lang: str = "en") -> str:
        """e.g. "12.3 / 162.6 MB · about 40 s left" (in ``lang``)."""
        if self.stage == "connect":
            return translate("Connecting to {host}…", lang, host=self.host or translate("the server", lang))
        if self.stage == "check":
            return translate("Checking the archive's MD5 checksum…", lang)
        if self.stage == "unpack":
            return translate("Unpacking the archive…", lang)
        amount = (f"{self.done / MB:.1f} / {self.total / MB:.1f} MB" if self.total
                  else f"{self.done / MB:.1f} MB")
        text = f"{amount} · {time_left(self.seconds_left, lang)}"
        if self.stage == "wait":
            return translate("Another process is downloading CIFAR-10 into this folder: {text}", lang, text=text)
        return text


def time_left(seconds: float | None, lang: str = "en") -> str:
    if seconds is None:
        return translate("estimating the time left", lang)
    if seconds < 60:
        return translate("about {seconds} s left", lang, seconds=max(1, round(seconds)))
    return translate("about {minutes} min left", lang, minutes=round(seconds / 60))


class _Rate:
    """Time left from the average rate since the first observation."""

    def __init__(self) -> None:
        self.start: tuple[float, int] | None = None

    def seconds_left(self, done: int, total: int | None) -> float | None:
        now = time.monotonic()
        if self.start is None:
            self.start = (now, done)
            return None
        elapsed, moved = now - self.start[0], done - self.start[1]
        if not total or elapsed < 0.5 or moved <= 0:
            return None
        return (total - done) / (moved / elapsed)


def official_archive() -> tuple[str, str, str]:
    """(URL, file name, MD5) of the official archive, as torchvision knows them."""
    from torchvision.datasets import CIFAR10

    return CIFAR10.url, CIFAR10.filename, CIFAR10.tgz_md5


def is_downloaded(root: str | os.PathLike) -> bool:
    return (Path(root) / ARCHIVE_DIR).is_dir()


def download_cifar10(root: str | os.PathLike, *, url: str | None = None, md5: str | None = None,
                     filename: str | None = None, progress: Callable[[Progress], None] | None = None,
                     timeout: float = TIMEOUT) -> Path:
    """Make sure ``root/cifar-10-batches-py`` exists, downloading the archive if needed; returns it.

    ``url``, ``md5`` and ``filename`` default to torchvision's official ones. ``progress`` is
    called with a :class:`Progress` about ten times a second. Raises :class:`DownloadError`.
    """
    root = Path(root)
    target = root / ARCHIVE_DIR
    if target.is_dir():
        return target
    official_url, official_name, official_md5 = official_archive()
    url, md5 = url or official_url, md5 or official_md5
    filename = filename or official_name
    host = urlsplit(url).hostname or url
    report = progress or (lambda p: None)
    partial = root / (PARTIAL_PREFIX + filename)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _disk_error(exc, root) from None
    with _exclusive(root, partial, host, report) as lock:
        if target.is_dir():  # another thread or process finished it while we waited
            return target
        _remove_leftovers(root)
        unpack_dir = None
        try:
            kept = root / filename  # e.g. left by torchvision's own download: used if it is intact
            from torchvision.datasets.utils import check_md5, extract_archive

            if kept.is_file() and check_md5(kept, md5):
                source = kept
            else:
                _fetch(url, partial, host, report, timeout, lock)
                report(Progress("check", host=host))
                if not check_md5(partial, md5):
                    raise DownloadError(Phrase(
                        "The archive downloaded from {host} failed its MD5 check (damaged on the way or not the "
                        "official file); nothing was kept, so try again.", host=host))
                source = partial
            report(Progress("unpack", host=host))
            unpack_dir = Path(tempfile.mkdtemp(prefix=EXTRACT_PREFIX, dir=root))
            extract_archive(source, unpack_dir)
            unpacked = unpack_dir / ARCHIVE_DIR
            if not unpacked.is_dir():
                raise DownloadError(Phrase("The archive from {host} holds no {folder}/ folder, so it is not CIFAR-10; "
                                           "nothing was kept. Check the download address.", host=host,
                                           folder=ARCHIVE_DIR))
            os.rename(unpacked, target)  # one step: the folder is there complete, or not at all
        except DownloadError:
            raise
        except (tarfile.TarError, gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise DownloadError(Phrase("The archive from {host} could not be unpacked ({why}); nothing was kept, so "
                                       "try again.", host=host, why=_reason(exc))) from None
        except OSError as exc:
            raise _disk_error(exc, root) from None
        finally:
            _remove(partial)
            if unpack_dir is not None:
                shutil.rmtree(unpack_dir, ignore_errors=True)
    return target


@contextmanager
def _exclusive(root: Path, partial: Path, host: str, report: Callable[[Progress], None]) -> Iterator[int]:
    """Hold the folder's download lock (its file descriptor is yielded). While another process
    holds it, report that process's progress: its partial file's size, and the total it wrote
    into the lock file."""
    try:
        fd = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise _disk_error(exc, root) from None
    try:
        rate = _Rate()
        while True:
            try:
                _try_lock(fd)
                break
            except (BlockingIOError, PermissionError):
                total = _read_total(fd)
                try:
                    done = partial.stat().st_size
                except OSError:
                    done = 0
                report(Progress("wait", done, total, rate.seconds_left(done, total), host))
                time.sleep(WAIT_POLL)
        yield fd
    finally:
        os.close(fd)  # releases the lock


def _try_lock(fd: int) -> None:
    """Take the folder's lock or raise BlockingIOError (PermissionError on Windows) at once."""
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    else:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # released when the file is closed


def _read_total(fd: int) -> int | None:
    """The total size the lock's holder wrote into the lock file (for a waiting process)."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return int(os.read(fd, 32).decode().strip() or 0) or None
    except (OSError, ValueError):
        return None


def _write_total(fd: int, total: int | None) -> None:
    try:
        os.ftruncate(fd, 0)
        if total:
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, f"{total}\n".encode())
    except OSError:
        pass  # only for the progress shown to a waiting process


def _remove_leftovers(root: Path) -> None:
    """Partial files and unpacking folders of a download that was killed (we hold the lock)."""
    for path in root.glob(".cifar10-*"):
        if path.name.startswith(PARTIAL_PREFIX):
            _remove(path)
        elif path.name.startswith(EXTRACT_PREFIX):
            shutil.rmtree(path, ignore_errors=True)


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def _fetch(url: str, dest: Path, host: str, report: Callable[[Progress], None], timeout: float,
           lock: int) -> None:
    """Transfer ``url`` into ``dest``, reporting progress; network failures become DownloadError."""
    report(Progress("connect", host=host))
    request = urllib.request.Request(url, headers={"User-Agent": "cifar10-explainer"})
    done, total = 0, None
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            total = _content_length(response)
            if total:
                _check_space(dest.parent, total)
            _write_total(lock, total)
            rate, last = _Rate(), 0.0
            rate.seconds_left(0, total)
            with open(dest, "wb") as out:
                while chunk := response.read1(CHUNK):  # what has arrived, so progress is live
                    out.write(chunk)
                    done += len(chunk)
                    now = time.monotonic()
                    if now - last >= REPORT_EVERY:
                        report(Progress("download", done, total, rate.seconds_left(done, total), host))
                        last = now
            report(Progress("download", done, total, 0.0, host))
    except urllib.error.HTTPError as exc:
        raise DownloadError(Phrase("{host} answered “{code} {reason}” instead of sending the archive; try again "
                                   "later.", host=host, code=exc.code, reason=exc.reason)) from None
    except urllib.error.URLError as exc:
        raise _offline(host, exc.reason, timeout) from None
    except http.client.IncompleteRead:
        raise _cut_off(host, done, total) from None
    except TimeoutError:
        if not done:
            raise _offline(host, TimeoutError(), timeout) from None
        raise DownloadError(Phrase("The download from {host} stalled for {timeout:.0f} s after {mb:.1f} MB; nothing "
                                   "was kept, so check the connection and try again.", host=host, timeout=timeout,
                                   mb=done / MB)) from None
    except (ConnectionError, http.client.HTTPException):
        if not done and total is None:
            raise DownloadError(Phrase("{host} closed the connection without sending the archive; try again later.",
                                       host=host)) from None
        raise _cut_off(host, done, total) from None
    if total and done < total:
        raise _cut_off(host, done, total)


def _content_length(response) -> int | None:
    try:
        value = int(response.headers.get("Content-Length") or 0)
    except ValueError:
        return None
    return value if value > 0 else None


def _check_space(folder: Path, total: int) -> None:
    need = total * SPACE_FACTOR
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if free < need:
        raise DownloadError(Phrase("The disk holding {folder} has {free:.0f} MB free but the data set needs about "
                                   "{need:.0f} MB; free some space (or start the dashboard with --data DIR on "
                                   "another disk) and try again.", folder=folder, free=free / MB, need=need / MB))


def _offline(host: str, reason: object, timeout: float) -> DownloadError:
    if isinstance(reason, ConnectionRefusedError):
        why = Phrase("the connection was refused")
    elif isinstance(reason, socket.gaierror):
        why = Phrase("its name could not be looked up")
    elif isinstance(reason, TimeoutError):
        why = Phrase("no answer within {timeout:.0f} s", timeout=timeout)
    else:
        why = _reason(reason)
    return DownloadError(Phrase("Could not reach {host} ({why}): this machine seems to be offline. Connect it to the "
                                "internet and try again, or copy a cifar-10-batches-py folder into the data folder "
                                "yourself.", host=host, why=why))


def _cut_off(host: str, done: int, total: int | None) -> DownloadError:
    amount = (Phrase("{done:.1f} of {total:.1f} MB", done=done / MB, total=total / MB) if total
              else f"{done / MB:.1f} MB")
    return DownloadError(Phrase("The download from {host} was cut off after {amount}; nothing was kept, so try again.",
                                host=host, amount=amount))


def _disk_error(exc: OSError, root: Path) -> DownloadError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        need = OFFICIAL_BYTES * SPACE_FACTOR / MB
        return DownloadError(Phrase("The disk holding {root} is full; free about {need:.0f} MB (or start the "
                                    "dashboard with --data DIR on another disk) and try again.", root=root, need=need))
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = exc.strerror or Phrase("permission denied")
        return DownloadError(Phrase("The data folder {root} cannot be written ({why}); make it writable, or start the "
                                    "dashboard with --data DIR pointing at a folder you can write to.", root=root,
                                    why=why))
    return DownloadError(Phrase("Could not write the data set into {root} ({why}); nothing was kept. Check the folder "
                                "and try again.", root=root, why=_reason(exc)))


def _reason(exc: object) -> str:
    text = (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)).strip()
    text = " ".join(text.split()) or type(exc).__name__
    return text if len(text) <= 80 else text[:79] + "…"


# --- one background download per folder, shared by the dashboard's sessions ------------------

class DownloadJob:
    """:func:`download_cifar10` in a daemon thread. ``progress`` is the latest report, ``error``
    the :class:`DownloadError` if it failed; ``finished`` is set either way."""

    def __init__(self, root: Path, **options) -> None:
        self.root = root
        self.progress = Progress()
        self.error: DownloadError | None = None
        self.finished = threading.Event()
        self._options = options
        self._thread = threading.Thread(target=self._run, name="cifar10-download", daemon=True)

    def _update(self, progress: Progress) -> None:
        self.progress = progress

    def _run(self) -> None:
        try:
            download_cifar10(self.root, progress=self._update, **self._options)
        except DownloadError as exc:
            self.error = exc
        except Exception as exc:  # noqa: BLE001 - shown to the user instead of lost in a thread
            self.error = DownloadError(Phrase("The download failed unexpectedly ({kind}: {why}); try again.",
                                              kind=type(exc).__name__, why=_reason(exc)))
        finally:
            self.finished.set()

    @property
    def running(self) -> bool:
        return not self.finished.is_set()


_JOBS: dict[str, DownloadJob] = {}
_JOBS_LOCK = threading.Lock()


def _key(root: str | os.PathLike) -> str:
    return os.path.abspath(os.fspath(root))


def start_download(root: str | os.PathLike, **options) -> DownloadJob:
    """The running download into ``root``, or a new one if none is running (``options`` go to
    :func:`download_cifar10`). Every caller in this process gets the same job while it runs."""
    with _JOBS_LOCK:
        job = _JOBS.get(_key(root))
        if job is None or not job.running:
            job = _JOBS[_key(root)] = DownloadJob(Path(root), **options)
            job._thread.start()
        return job


def download_job(root: str | os.PathLike) -> DownloadJob | None:
    """The latest download into ``root`` started in this process (running or finished), if any."""
    with _JOBS_LOCK:
        return _JOBS.get(_key(root))


# --- command line -------------------------------------------------------------------------------

_last_print = [0.0]


def print_progress(progress: Progress) -> None:
    """A progress line on stderr, rewritten in place (at most twice a second)."""
    now = time.monotonic()
    if progress.stage == "download" and now - _last_print[0] < 0.5:
        return
    _last_print[0] = now
    print(f"\r{progress.text():<70}", end="\n" if progress.stage == "unpack" else "", file=sys.stderr,
          flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m data.download", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", help="data folder (default: $CIFAR10_ROOT, else ../shared/cifar10 if it is "
                                  "there, else the project's data/)")
    args = p.parse_args(argv)
    root = resolve_root(args.data)
    if (root / "train").is_dir() and (root / "test").is_dir():
        print(f"{root} already holds CIFAR-10 as image folders; nothing to download.", file=sys.stderr)
        return 0
    try:
        target = download_cifar10(root, progress=print_progress)
    except DownloadError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 2
    print(f"CIFAR-10 is in {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
