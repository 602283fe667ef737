"""AppTest of the first launch on a machine without CIFAR-10: the home page offers the download,
one click (or --download / CIFAR10_DOWNLOAD=1) fetches it from a local HTTP server on 127.0.0.1
and the dashboard follows in the same session; a failure is one message and leaves nothing; the
pages that need no data set work meanwhile.

The official address and checksums are replaced by the local server's and the test archive's
(torchvision's class attributes, which data.download reads); nothing else is patched.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from data import download
from data.cifar10 import ARCHIVE_DIR
from tests.cifar_archive import ArchiveServer, build_archive, patch_torchvision_checksums
from tests.conftest import PROJECT, shown
from ui.first_launch import BUTTON_KEY, TITLE
from ui.text import code

HOME = str(PROJECT / "dashboard.py")
PLAYGROUND = str(PROJECT / "pages" / "5_Convolution_playground.py")
SHAPES = str(PROJECT / "pages" / "6_Shapes_and_parameters.py")


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return build_archive(tmp_path_factory.mktemp("served"))


@pytest.fixture
def empty_env(tmp_path, monkeypatch, frozen_checkpoint):
    """No data set: CIFAR10_ROOT is an empty folder; every cache lives in tmp_path."""

    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("CIFAR10_ROOT", str(root))
    monkeypatch.setenv("CIFAR10_CHECKPOINT", str(frozen_checkpoint.path))
    monkeypatch.setenv("CIFAR10_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CIFAR10_DOWNLOAD", raising=False)
    monkeypatch.setattr(download, "_JOBS", {})  # no download from an earlier test
    return root


@pytest.fixture
def served(archive, monkeypatch):
    """The test archive on a local server, and torchvision pointed at it."""
    from torchvision.datasets import CIFAR10

    with ArchiveServer(archive.path).running() as server:
        patch_torchvision_checksums(monkeypatch, archive)
        monkeypatch.setattr(CIFAR10, "url", server.url)
        monkeypatch.setattr(CIFAR10, "tgz_md5", archive.md5)
        yield server


def texts(elements) -> str:
    return shown("\n".join(e.value for e in elements))


def dashboard_shown(at: AppTest) -> bool:
    return (not at.exception and not at.error
            and any(h.value.startswith("Current image: test #") for h in at.subheader))


def test_without_data_the_home_page_offers_the_download(empty_env):
    at = AppTest.from_file(HOME, default_timeout=120).run()
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == [TITLE]
    button = at.button(key=BUTTON_KEY)
    assert button.label == "Download CIFAR-10 (163 MB)" and not button.disabled
    intro = at.markdown[0].value
    assert code(empty_env) in intro  # where it will go, shown literally
    assert "checked against its MD5 checksum" in intro
    # What to do instead, with the patterns in code spans (no * eaten by Markdown).
    assert "`train/<class>/*.png`" in texts(at.markdown) and "CIFAR10_ROOT" in texts(at.markdown)
    assert "`streamlit run dashboard.py -- --download`" in texts(at.markdown)
    assert "no test/ folder and no cifar-10-batches-py/" in texts(at.caption)
    assert not at.metric
    assert not any(empty_env.iterdir())  # nothing downloaded without a click


def test_one_click_downloads_and_continues_to_the_dashboard(empty_env, served, archive):
    at = AppTest.from_file(HOME, default_timeout=120).run()
    at = at.button(key=BUTTON_KEY).click().run()
    assert dashboard_shown(at), [e.value for e in at.error]
    assert served.requests == 1
    assert sorted(p.name for p in empty_env.iterdir()) == [download.LOCK_NAME, ARCHIVE_DIR]
    picker = at.number_input(key="image_picker")
    assert (picker.min, picker.max) == (0, len(archive.test_labels) - 1)  # the downloaded test images
    # A new session (another browser) on the same server goes straight to the dashboard.
    again = AppTest.from_file(HOME, default_timeout=120).run()
    assert dashboard_shown(again) and served.requests == 1


def test_a_failed_download_is_one_message_and_the_button_stays(empty_env, served, archive, monkeypatch):
    from torchvision.datasets import CIFAR10

    monkeypatch.setattr(CIFAR10, "tgz_md5", "0" * 32)
    at = AppTest.from_file(HOME, default_timeout=120).run()
    at = at.button(key=BUTTON_KEY).click().run()
    assert not at.exception
    assert [shown(e.value) for e in at.error] == [
        ("The archive downloaded from 127.0.0.1 failed its MD5 check (damaged on the way or not the official "
         "file); nothing was kept, so try again.")]
    assert sorted(p.name for p in empty_env.iterdir()) == [download.LOCK_NAME]  # no partial archive
    assert not at.button(key=BUTTON_KEY).disabled
    # The next page load still says what happened; a second click (checksum right now) succeeds.
    monkeypatch.setattr(CIFAR10, "tgz_md5", archive.md5)
    at.run()
    assert "failed its MD5 check" in texts(at.error)
    at = at.button(key=BUTTON_KEY).click().run()
    assert dashboard_shown(at)
    assert served.requests == 2


def test_download_flag_starts_it_without_a_click(empty_env, served, monkeypatch):
    monkeypatch.setenv("CIFAR10_DOWNLOAD", "1")  # or: streamlit run dashboard.py -- --download
    at = AppTest.from_file(HOME, default_timeout=120).run()
    assert dashboard_shown(at)
    assert served.requests == 1


def test_download_flag_on_the_command_line(monkeypatch, tmp_path):
    import sys

    from ui.resources import settings

    monkeypatch.delenv("CIFAR10_DOWNLOAD", raising=False)
    monkeypatch.setattr(sys, "argv", ["dashboard.py"])
    assert settings().download is False
    monkeypatch.setattr(sys, "argv", ["dashboard.py", "--download"])
    assert settings().download is True
    monkeypatch.setattr(sys, "argv", ["dashboard.py"])
    monkeypatch.setenv("CIFAR10_DOWNLOAD", "0")
    assert settings().download is False


def test_a_page_that_needs_data_offers_the_download_too(empty_env):
    at = AppTest.from_file(HOME, default_timeout=120).switch_page("pages/1_Feature_maps.py").run()
    assert not at.exception and [t.value for t in at.title] == [TITLE]
    assert at.button(key=BUTTON_KEY)


def test_the_playground_works_without_a_data_set(empty_env):
    at = AppTest.from_file(PLAYGROUND, default_timeout=120).run()
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["Convolution playground"]
    assert "No CIFAR-10 test images yet" in texts(at.sidebar.info)
    assert "The 3×3 kernel on **the drawn house** — 192×192 pixels" in texts(at.markdown)
    charts = {el.key for el in at.get("plotly_chart")}
    assert {"cv_input", "cv_output", "cv_photo_rows"} <= charts
    assert {"The image (32×32)", "Its pixels shuffled (one fixed order for every image)"} <= {
        img.caption for el in at.get("image") for img in el.proto.imgs}
    assert not at.number_input  # no test-image picker without test images
    at = at.slider(key="cv_pos").set_value(5).run()  # and it still steps
    assert not at.exception and at.slider(key="cv_pos").value == 5


def test_shapes_and_parameters_work_without_a_data_set(empty_env):
    at = AppTest.from_file(SHAPES, default_timeout=120).run()
    assert not at.exception and not at.error
    assert "No CIFAR-10 test images yet" in texts(at.sidebar.info)
    headers = [h.value for h in at.header]
    assert headers[0] == "1. The N×C×H×W calculator" and "3. Receptive field of every layer of this network" in headers
    assert len(at.header) == 6


def test_a_path_with_markdown_characters_is_shown_as_written(empty_env, tmp_path, monkeypatch):
    root = tmp_path / "my *cifar* _data_ `x` [y](z) $1$"
    monkeypatch.setenv("CIFAR10_ROOT", str(root))
    at = AppTest.from_file(HOME, default_timeout=120).run()
    assert not at.exception
    intro = at.markdown[0].value
    assert f"data folder {code(root)}." in intro and code(root).startswith("``")  # the backtick needs ``
    # The loader's message (in the caption) is escaped, character by character.
    assert f"{root} does not exist" in shown(at.caption[0].value)
    assert "*cifar*" not in at.caption[0].value and r"\*cifar\*" in at.caption[0].value


def test_the_first_launch_page_in_korean(empty_env):
    """lang=ko: the download page, its button and its help in Korean, no English sentence left."""
    from locales import catalog
    from tests.i18n_walk import english_runs, visible_texts

    at = AppTest.from_file(HOME, default_timeout=120)
    at.query_params["lang"] = "ko"
    at.run()
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["이 컴퓨터에 아직 CIFAR-10이 없습니다"]
    assert at.button(key=BUTTON_KEY).label == "CIFAR-10 내려받기 (163 MB)"
    shown_texts = visible_texts(at)
    english = {t for t, k in catalog("ko").items() if k != t and len(t) > 1}
    assert sorted({t for t in shown_texts if t.strip() in english}) == []
    assert [t for t in shown_texts if english_runs(t)] == []
