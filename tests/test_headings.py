"""Headings carry link names made on the server (ui.headings), so the browser does not make them
again on every rerun (see that module for the measurement)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from ui.headings import anchor

PROJECT = Path(__file__).resolve().parent.parent
SOURCES = sorted([PROJECT / "dashboard.py", *(PROJECT / "pages").glob("*.py"), *(PROJECT / "ui").glob("*.py")])
HEADING_CALLS = {"title", "header", "subheader"}
MARKDOWN_HEADING = re.compile(r"^#{1,3} ")  # h4 and smaller: only the Shapes page's per-layer lines


@pytest.mark.parametrize("text, expected", [
    ("The learned weights", "the-learned-weights"),
    ("1. The N×C×H×W calculator", "1-the-n-c-h-w-calculator"),
    ("Output channel 5 of block3.conv3, for \\#7 cat", "output-channel-5-of-block3-conv3-for-7-cat"),
    ("학습된 가중치", "학습된-가중치"),  # Korean words stay Korean
    ("max |difference| = 3.1e-07", "max-difference-3-1e-07"),
    ("**", "section"),
])
def test_anchor(text, expected):
    assert anchor(text) == expected


def _heading_calls(path: Path) -> list[str]:
    """Every ``<something>.title/header/subheader(…)`` call in ``path`` whose receiver is Streamlit
    or a container (``st``, ``st.sidebar``, a column…), i.e. not ``headings.…`` itself."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in HEADING_CALLS:
            receiver = node.func.value
            if not (isinstance(receiver, ast.Name) and receiver.id == "headings") and node.args:
                found.append(f"{path.name}:{node.lineno} {ast.unparse(node.func)}")
    return found


def _markdown_headings(path: Path) -> list[str]:
    return [f"{path.name}:{node.lineno}" for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and MARKDOWN_HEADING.match(node.value)]


def test_pages_make_headings_through_ui_headings():
    others = [p for p in SOURCES if p.name != "headings.py"]
    calls = [c for p in others for c in _heading_calls(p)]
    assert calls == [], calls
    assert [h for p in others for h in _markdown_headings(p)] == []


def test_the_checks_see_a_direct_heading(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('import streamlit as st\ncol = st.columns(2)[0]\nst.header("a")\ncol.subheader("b")\n'
                      'headings.title("c")\nst.markdown("### d")\n"x".title()\n', encoding="utf-8")
    assert [c.split(" ")[1] for c in _heading_calls(sample)] == ["st.header", "col.subheader"]
    assert len(_markdown_headings(sample)) == 1
