"""data.download against a local HTTP server on 127.0.0.1 serving a small archive in the official
format: success, a cut-off transfer, a wrong checksum, a refused connection, a full disk, a folder
that cannot be written, and two downloads at once. Never the network: only the address and the
checksums are the test's own.
"""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from data import download
from data.cifar10 import ARCHIVE_DIR, load_split
from data.download import DownloadError, Progress, download_cifar10, start_download
from tests.cifar_archive import ArchiveServer, build_archive, closed_port, patch_torchvision_checksums


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return build_archive(tmp_path_factory.mktemp("served"))


@pytest.fixture
def served(archive):
    with ArchiveServer(archive.path).running() as server:
        yield server


@pytest.fixture(autouse=True)
def no_jobs_left(monkeypatch):
    monkeypatch.setattr(download, "_JOBS", {})


def leftovers(root: Path) -> list[str]:
    """Anything a failed download could leave: partial files, unpacking folders, the archive folder."""
    if not root.exists():
        return []
    return sorted(p.name for p in root.iterdir() if p.name != download.LOCK_NAME)


def test_download_unpacks_the_archive_where_the_loader_reads_it(tmp_path, archive, served, monkeypatch):
    patch_torchvision_checksums(monkeypatch, archive)
    root = tmp_path / "data"
    reports: list[Progress] = []
    target = download_cifar10(root, url=served.url, md5=archive.md5, progress=reports.append)
    assert target == root / ARCHIVE_DIR and target.is_dir()
    assert leftovers(root) == [ARCHIVE_DIR]  # no partial archive, no unpacking folder
    assert served.requests == 1
    stages = [r.stage for r in reports]
    assert stages[0] == "connect" and stages[-2:] == ["check", "unpack"]
    last = [r for r in reports if r.stage == "download"][-1]
    assert last.done == last.total == archive.size
    # The loader (torchvision's reader, with its per-file checks) reads what was unpacked.
    split = load_split(root, "test")
    np.testing.assert_array_equal(split.images, archive.test_pixels)
    assert split.labels.tolist() == archive.test_labels
    # A second call finds it and does not download again.
    assert download_cifar10(root, url=served.url, md5=archive.md5) == target
    assert served.requests == 1


def test_a_download_without_a_length_still_works(tmp_path, archive):
    with ArchiveServer(archive.path, mode="no-length").running() as server:
        reports: list[Progress] = []
        download_cifar10(tmp_path, url=server.url, md5=archive.md5, progress=reports.append)
    assert (tmp_path / ARCHIVE_DIR).is_dir()
    last = [r for r in reports if r.stage == "download"][-1]
    assert last.total is None and last.done == archive.size
    assert last.text().startswith(f"{archive.size / 2**20:.1f} MB · ")


def test_a_transfer_cut_off_half_way_leaves_nothing(tmp_path, archive):
    with ArchiveServer(archive.path, mode="cut").running() as server, pytest.raises(DownloadError) as caught:
        download_cifar10(tmp_path, url=server.url, md5=archive.md5)
    message = str(caught.value)
    assert "\n" not in message
    half, whole = archive.size // 2 / 2**20, archive.size / 2**20
    assert message == (f"The download from 127.0.0.1 was cut off after {half:.1f} of {whole:.1f} MB; "
                       "nothing was kept, so try again.")
    assert leftovers(tmp_path) == []


def test_a_wrong_checksum_leaves_nothing(tmp_path, archive, served):
    with pytest.raises(DownloadError, match=r"failed its MD5 check .*; nothing was kept, so try again\.$"):
        download_cifar10(tmp_path, url=served.url, md5="0" * 32)
    assert leftovers(tmp_path) == []


def test_a_refused_connection_says_the_machine_seems_offline(tmp_path):
    with pytest.raises(DownloadError) as caught:
        download_cifar10(tmp_path, url=f"http://127.0.0.1:{closed_port()}/cifar-10-python.tar.gz", md5="0" * 32)
    assert str(caught.value).startswith("Could not reach 127.0.0.1 (the connection was refused): this "
                                        "machine seems to be offline. Connect it to the internet and try again")
    assert leftovers(tmp_path) == []


def test_a_missing_file_on_the_server_is_named(tmp_path, archive, served):
    with pytest.raises(DownloadError, match="127.0.0.1 answered “404 Not Found” instead of sending the archive"):
        download_cifar10(tmp_path, url=served.url + ".old", md5=archive.md5)
    assert leftovers(tmp_path) == []


def test_a_stalled_transfer_times_out_and_leaves_nothing(tmp_path, archive):
    stalled = pytest.raises(DownloadError, match=r"stalled for 1 s after 0\.0 MB; nothing was kept")
    with ArchiveServer(archive.path, rate=2_000).running() as server, stalled:  # 16 KB, then 8 s of silence
        download_cifar10(tmp_path, url=server.url, md5=archive.md5, timeout=1)
    assert leftovers(tmp_path) == []


def test_too_little_free_space_is_refused_before_downloading(tmp_path, archive, served, monkeypatch):
    class Usage:
        free = archive.size  # less than the archive plus its unpacked batches

    monkeypatch.setattr(download.shutil, "disk_usage", lambda path: Usage)
    with pytest.raises(DownloadError, match=r"^The disk holding .* has \d+ MB free but the data set needs about "
                                            r"\d+ MB; free some space"):
        download_cifar10(tmp_path, url=served.url, md5=archive.md5)
    assert leftovers(tmp_path) == []


def test_a_disk_that_fills_up_during_the_download_leaves_nothing(tmp_path, archive, served, monkeypatch):
    real_open = open

    class Full:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, chunk):
            self.f.write(chunk[:100])
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(download, "open", lambda *a, **k: Full(real_open(*a, **k)), raising=False)
    with pytest.raises(DownloadError) as caught:
        download_cifar10(tmp_path, url=served.url, md5=archive.md5)
    assert str(caught.value).startswith(f"The disk holding {tmp_path} is full; free about 341 MB")
    assert leftovers(tmp_path) == []


def test_a_folder_that_cannot_be_written_is_named(tmp_path, monkeypatch):
    import torchvision.datasets  # noqa: F401  (imported before mkdir is made to fail)

    root = tmp_path / "data"

    def refuse(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(DownloadError) as caught:
        download_cifar10(root, url="http://127.0.0.1:9/x.tar.gz", md5="0" * 32)
    assert str(caught.value) == (f"The data folder {root} cannot be written (Permission denied); make it "
                                 "writable, or start the dashboard with --data DIR pointing at a folder you "
                                 "can write to.")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_folder_is_named(tmp_path):
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(DownloadError, match="cannot be written"):
            download_cifar10(tmp_path, url="http://127.0.0.1:9/x.tar.gz", md5="0" * 32)
    finally:
        tmp_path.chmod(0o755)


def test_leftovers_of_a_killed_download_are_cleaned_up(tmp_path, archive, served):
    (tmp_path / f"{download.PARTIAL_PREFIX}cifar-10-python.tar.gz").write_bytes(b"half an archive")
    (tmp_path / f"{download.EXTRACT_PREFIX}x1y2" / ARCHIVE_DIR).mkdir(parents=True)
    download_cifar10(tmp_path, url=served.url, md5=archive.md5)
    assert leftovers(tmp_path) == [ARCHIVE_DIR]


def test_two_downloads_at_once_fetch_the_archive_once(tmp_path, archive):
    """Two threads (as two browser sessions or two server processes would): the second waits on
    the folder's lock, reports the first one's progress, then finds the data set there."""
    with ArchiveServer(archive.path, rate=archive.size / 1.5).running() as server:
        results, reports = {}, {0: [], 1: []}
        start = threading.Barrier(2)

        def run(n):
            start.wait()
            try:
                results[n] = download_cifar10(tmp_path, url=server.url, md5=archive.md5, progress=reports[n].append)
            except Exception as exc:  # noqa: BLE001
                results[n] = exc

        threads = [threading.Thread(target=run, args=(n,)) for n in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert results == {0: tmp_path / ARCHIVE_DIR, 1: tmp_path / ARCHIVE_DIR}
    assert server.requests == 1
    waited = [r for rs in reports.values() for r in rs if r.stage == "wait"]
    assert waited and max(r.done for r in waited) > 0 and waited[-1].total == archive.size
    assert leftovers(tmp_path) == [ARCHIVE_DIR]


def test_sessions_of_one_server_share_one_background_job(tmp_path, archive):
    with ArchiveServer(archive.path, rate=archive.size / 1.0).running() as server:
        first = start_download(tmp_path, url=server.url, md5=archive.md5)
        second = start_download(tmp_path, url=server.url, md5=archive.md5)
        assert second is first and download.download_job(tmp_path) is first
        assert first.finished.wait(60)
    assert first.error is None and (tmp_path / ARCHIVE_DIR).is_dir()
    assert server.requests == 1


def test_a_failed_job_keeps_its_message_and_a_new_start_retries(tmp_path, archive):
    with ArchiveServer(archive.path, mode="cut").running() as server:
        job = start_download(tmp_path, url=server.url, md5=archive.md5)
        assert job.finished.wait(60)
        assert "was cut off" in str(job.error)
        server.mode = "ok"
        retry = start_download(tmp_path, url=server.url, md5=archive.md5)
        assert retry is not job and retry.finished.wait(60) and retry.error is None
    assert server.requests == 2


def test_load_split_with_download_uses_the_same_path(tmp_path, archive, served, monkeypatch):
    """python -m model.train --download: the same download, checks and clean-up."""
    from torchvision.datasets import CIFAR10

    patch_torchvision_checksums(monkeypatch, archive)
    monkeypatch.setattr(CIFAR10, "url", served.url)
    monkeypatch.setattr(CIFAR10, "tgz_md5", archive.md5)
    split = load_split(tmp_path, "test", download=True)
    assert len(split) == len(archive.test_labels)
    monkeypatch.setattr(CIFAR10, "tgz_md5", "0" * 32)
    with pytest.raises(DownloadError):  # a DatasetError, which the CLIs already report
        load_split(tmp_path / "other", "test", download=True)


@pytest.mark.parametrize("progress, text", [
    (Progress("download", int(12.3 * 2**20), 170_498_071, 40.2), "12.3 / 162.6 MB · about 40 s left"),
    (Progress("download", 0, 170_498_071, None), "0.0 / 162.6 MB · estimating the time left"),
    (Progress("download", 2**20, 170_498_071, 150), "1.0 / 162.6 MB · about 2 min left"),
    (Progress("connect", host="www.cs.toronto.edu"), "Connecting to www.cs.toronto.edu…"),
    (Progress("check"), "Checking the archive's MD5 checksum…"),
])
def test_progress_text(progress, text):
    assert progress.text() == text


def test_the_command_line_downloads_and_reports_failures(tmp_path, archive, served, monkeypatch, capsys):
    """python -m data.download [--data DIR]: a progress line, then where the data set is; exit 2 and
    the one-line message on failure."""
    from torchvision.datasets import CIFAR10

    monkeypatch.setattr(CIFAR10, "url", served.url)
    monkeypatch.setattr(CIFAR10, "tgz_md5", "0" * 32)
    assert download.main(["--data", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert err.rstrip().endswith("error: The archive downloaded from 127.0.0.1 failed its MD5 check (damaged on the "
                                 "way or not the official file); nothing was kept, so try again.")
    monkeypatch.setattr(CIFAR10, "tgz_md5", archive.md5)
    assert download.main(["--data", str(tmp_path / "good")]) == 0
    err = capsys.readouterr().err
    assert "Unpacking the archive…" in err and f"CIFAR-10 is in {tmp_path / 'good' / ARCHIVE_DIR}" in err
