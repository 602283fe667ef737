"""ui.text: paths, patterns and exception messages shown as written in Streamlit's Markdown.

How Streamlit's frontend renders these strings is checked in a real browser
(tests/browser/test_first_launch_browser.py); here: the strings themselves, and a scan of the
app's sources for messages that interpolate an exception or a path without ui.text.
"""

from __future__ import annotations

import ast
import string

import pytest

from tests.conftest import PROJECT, shown
from ui.text import code, literal

NASTY = [
    "train/<class>/*.png and test/<class>/*.png",
    "/tmp/my *cifar* _data_ `x` [y](z) $1$ :smile: :red[r] :material/home: &amp; <b>",
    "# heading 1. list - item > quote | a | b ~~s~~",
    "C:\\Users\\me\\*",
]


@pytest.mark.parametrize("text", NASTY)
def test_literal_escapes_every_punctuation_character(text):
    out = literal(text)
    assert shown(out) == text
    plain = out.replace("\\\\", "")  # an escaped backslash
    for i, ch in enumerate(plain):
        if ch in string.punctuation and ch != "\\":
            assert i > 0 and plain[i - 1] == "\\", (ch, out)


def test_literal_keeps_messages_on_one_line():
    assert literal("a\n\n# b\tc") == r"a \# b c"


@pytest.mark.parametrize("text, expected", [
    ("/data/cifar-10", "`/data/cifar-10`"),
    ("my `x` dir", "``my `x` dir``"),
    ("``a``", "``` ``a`` ```"),  # a tick at either end: padded with spaces (removed when shown)
    ("a\nb", "`a b`"),
])
def test_code_spans_hold_any_backticks(text, expected):
    assert code(text) == expected


def test_code_falls_back_to_literal_for_what_streamlit_rewrites_even_in_code():
    assert code("x :material/home: y") == literal("x :material/home: y")
    assert code("") == ""


# --- every message of the app ---------------------------------------------------------------

MESSAGE_CALLS = {"error", "warning", "info", "success", "markdown", "caption", "header", "subheader",
                 "title", "toast", "exception"}
RISKY_ATTRIBUTES = ("path", "root", "name", "file", "folder")
SAFE = {"current.name"}  # ui.state.CurrentImage.name: "your photo" or "test #1234", made by the app


def _risky(node: ast.expr, exception_names: set[str]) -> bool:
    """An interpolated value that may hold Markdown: an exception, or a path or file name."""
    if isinstance(node, ast.Name):
        return node.id in exception_names or node.id.endswith(RISKY_ATTRIBUTES)
    if isinstance(node, ast.Attribute):
        return node.attr.endswith(RISKY_ATTRIBUTES) or _risky(node.value, exception_names)
    if isinstance(node, ast.Subscript):
        return _risky(node.value, exception_names)
    return False  # calls (literal(...), code(...), str.join of class names…), numbers, constants


def test_no_message_interpolates_an_exception_or_a_path_unescaped():
    problems = []
    for path in [PROJECT / "dashboard.py", *sorted((PROJECT / "pages").glob("*.py")),
                 *sorted((PROJECT / "ui").glob("*.py"))]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        exceptions = {h.name for h in ast.walk(tree) if isinstance(h, ast.ExceptHandler) and h.name}
        for call in ast.walk(tree):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                    and call.func.attr in MESSAGE_CALLS):
                continue
            for arg in [*call.args, *(k.value for k in call.keywords if k.arg in ("body", "text"))]:
                for part in ast.walk(arg):
                    if (isinstance(part, ast.FormattedValue) and _risky(part.value, exceptions)
                            and ast.unparse(part.value) not in SAFE):
                        problems.append(f"{path.relative_to(PROJECT)}:{part.lineno}: {ast.unparse(part.value)}")
    assert not problems, "wrap these in ui.text.literal() or code():\n" + "\n".join(problems)
