"""Page headings with their link names made here, on the server.

Streamlit gives every heading a link name (``#the-learned-weights``). Without one from Python,
the browser makes it on every rerun, for every heading on the page, by transliterating the text
through a table of about a thousand characters (one ``replaceAll`` each): 20–40 ms of a click on
the 1×1 page, measured in Chromium (main-thread time, with and without, same run). The pages
therefore call :func:`title`, :func:`header` and :func:`subheader` instead of ``st.title``,
``st.header`` and ``st.subheader`` (tests/test_headings.py checks that none is left).
"""

from __future__ import annotations

import re

import streamlit as st

_NOT_WORD = re.compile(r"[^\w]+")


def anchor(text: str) -> str:
    """The link name of a heading: its words in lower case joined by "-" (any script: Korean
    words stay Korean), without Markdown's punctuation; "section" if nothing is left."""
    return _NOT_WORD.sub("-", text.lower()).strip("-_") or "section"


def title(text: str, container=None) -> None:
    (container if container is not None else st).title(text, anchor=anchor(text))


def header(text: str, container=None) -> None:
    (container if container is not None else st).header(text, anchor=anchor(text))


def subheader(text: str, container=None) -> None:
    (container if container is not None else st).subheader(text, anchor=anchor(text))
