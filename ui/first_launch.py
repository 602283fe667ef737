"""The page shown when there is no data set: one button downloads CIFAR-10, then the dashboard opens.

The download itself (:mod:`data.download`) runs in a background thread shared by every browser
session of this server, so two people pressing the button at once start one download, a session
that opens meanwhile follows the same progress bar, and a rerun or a closed tab does not stop it.
When it is done each waiting page reruns and shows the dashboard, without a restart.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import streamlit as st
from streamlit.errors import StreamlitAPIException

from data.download import OFFICIAL_BYTES, SPACE_FACTOR, DownloadJob, download_job, start_download
from locales import known
from ui import headings
from ui.i18n import lang, said, tr
from ui.text import code, literal

MB = 1024 * 1024
BUTTON_KEY = "download_cifar10"
BUTTON_LABEL = known("Download CIFAR-10 ({size:.0f} MB)")  # tr(BUTTON_LABEL, size=…)
TITLE = known("CIFAR-10 is not on this machine yet")  # tr(TITLE)
POLL = 0.25  # seconds between progress bar updates


def offer_download(root: Path, problem: Exception, *, auto: bool = False) -> NoReturn:
    """Say that the data set is missing, offer the download (start it at once if ``auto`` and no
    download was tried yet), follow it, and rerun into the dashboard when it is done."""
    job = download_job(root)
    if job is None and auto:  # --download / CIFAR10_DOWNLOAD=1: once per server, not after a failure
        job = start_download(root)

    headings.title(tr(TITLE))
    st.markdown(tr(
        "The dashboard follows the 10,000 CIFAR-10 test images through the trained network, and they are not in "
        "the data folder {folder}. One click downloads the official archive ({size:.0f} MB from "
        "www.cs.toronto.edu, checked against its MD5 checksum; {space:.0f} MB of free disk space is needed while "
        "it unpacks) into that folder; the dashboard then opens by itself, and later launches start at once.",
        folder=code(root), size=OFFICIAL_BYTES / MB, space=OFFICIAL_BYTES * SPACE_FACTOR / MB))
    running = job is not None and job.running
    clicked = st.button(tr(BUTTON_LABEL, size=OFFICIAL_BYTES / MB), key=BUTTON_KEY, type="primary",
                        icon=":material/download:",
                        disabled=running)
    slot = st.container()  # the progress bar or the failure, under the button

    # The rest of the page is drawn before the download is followed, so it does not look stale.
    st.markdown(tr("Meanwhile, these pages work without the data set:"))
    links = st.columns(3)
    _link(links[0], "pages/5_Convolution_playground.py", "→ " + tr("Convolution playground"))
    _link(links[1], "pages/6_Shapes_and_parameters.py", "→ " + tr("Shapes and parameters"))
    with st.expander(tr("Already have CIFAR-10, or no internet on this machine?")):
        st.markdown(tr(
            "Start the dashboard with `streamlit run dashboard.py -- --data DIR` (or set `CIFAR10_ROOT`) "
            "where DIR holds either the image folders `train/<class>/*.png` and `test/<class>/*.png` or "
            "the official archive's folder `cifar-10-batches-py/`. For an unattended set-up, "
            "`streamlit run dashboard.py -- --download` (or `CIFAR10_DOWNLOAD=1`) starts the download "
            "on the first page load, and `python -m data.download` downloads without a browser."))
        st.caption(tr("What was looked for: {problem}", problem=literal(said(problem))))

    if clicked:
        job = start_download(root)
    if job is not None and (job.running or clicked):
        _follow(job, slot)
    elif job is not None and job.error is not None:
        slot.error(literal(said(job.error)))
    st.stop()


def _link(place, page: str, label: str) -> None:
    try:
        place.page_link(page, label=label)
    except StreamlitAPIException:  # a page run on its own (not through dashboard.py) has no page list
        place.markdown(label)


def _follow(job: DownloadJob, slot) -> None:
    """A progress bar in ``slot`` until ``job`` ends; then the dashboard (rerun) or the failure."""
    language = lang()
    bar = slot.progress(job.progress.fraction, text=literal(job.progress.text(language)))
    while not job.finished.wait(POLL):
        bar.progress(job.progress.fraction, text=literal(job.progress.text(language)))
    if job.error is None:
        bar.progress(1.0, text=tr("Downloaded and unpacked; opening the dashboard…"))
        st.rerun()
    bar.empty()
    slot.error(literal(said(job.error)))
