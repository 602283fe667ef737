"""What a page shows, as text, read from AppTest's element tree (for tests/test_i18n.py).

Every string a user can read: bodies of text elements and messages, labels, help texts, options
of choice widgets, image captions, page-link labels, expander and tab labels, and the titles,
axis titles, legend titles and subtitles of Vega-Lite and Plotly charts.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from google.protobuf.message import Message

TEXT_FIELDS = {"body", "label", "help", "options", "caption", "placeholder", "text", "title", "subtitle"}
CHART_KEYS = {"title", "text", "subtitle"}
SKIP_FIELDS = {"id", "form_id", "key", "default", "value", "url", "page", "page_script_hash", "icon",
               "file_name", "mime", "data", "type"}
_SPEC_FIELDS = {"spec", "figure"}


def _chart_texts(obj, out: list[str], key: str = "") -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            _chart_texts(v, out, k)
    elif isinstance(obj, list):
        for v in obj:
            _chart_texts(v, out, key)
    elif isinstance(obj, str) and key in CHART_KEYS and obj:
        out.append(obj)


class _HtmlText(HTMLParser):
    """The text a reader sees in an HTML block (st.html): its text nodes and hover titles, not its
    tags, styles or CSS."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("style", "script")
        self.texts += [value for name, value in attrs if name == "title" and value]

    def handle_endtag(self, tag):
        self._skip -= tag in ("style", "script") and self._skip > 0

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(data.strip())


def _html_texts(body: str) -> list[str]:
    parser = _HtmlText()
    parser.feed(body)
    return parser.texts


def _proto_texts(msg: Message, out: list[str]) -> None:
    for field, value in msg.ListFields():
        name = field.name
        if name in _SPEC_FIELDS:
            spec = value.spec if isinstance(value, Message) and hasattr(value, "spec") else value
            if isinstance(spec, str):
                try:
                    _chart_texts(json.loads(spec), out)
                except ValueError:
                    pass
            continue
        if name in SKIP_FIELDS:
            continue
        repeated = isinstance(value, list | tuple) or type(value).__name__.startswith("Repeated")
        values = value if repeated else [value]
        for v in values:
            if isinstance(v, Message):
                _proto_texts(v, out)
            elif isinstance(v, str) and name == "body" and v.lstrip().startswith("<"):
                out += _html_texts(v)  # an st.html block
            elif isinstance(v, str) and name in TEXT_FIELDS and v.strip():
                out.append(v)


def visible_texts(at) -> list[str]:
    """Every readable string of the app's last run (main area and sidebar)."""
    out: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if isinstance(proto, Message):
            _proto_texts(proto, out)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return out


# Names written the same in Korean text (the lecture writes them so too).
ALLOWED_WORDS = {"CIFAR", "ReLU", "Grad", "CAM", "BatchNorm", "LeNet", "AlexNet", "VGG", "GoogLeNet", "PNG",
                 "JPEG", "WebP", "GIF", "PageUp", "PageDown", "Space", "NMF", "LectureCNN", "top", "train",
                 "eval", "MB", "kB", "toml", "Network", "in"}
_RUN = re.compile(r"[A-Za-z][A-Za-z'-]+(?:[ ,]+[A-Za-z][A-Za-z'-]+){2,}")  # words of two letters or more
_CODE = re.compile(r"`[^`]*`")


def english_runs(text: str) -> list[str]:
    """Runs of three or more English words (not names of the allow-list, not code spans)."""
    plain = _CODE.sub(" ", text)
    found = []
    for run in _RUN.findall(plain):
        words = [w for w in re.split(r"[ ,]+", run) if w and w not in ALLOWED_WORDS]
        if len(words) >= 3:
            found.append(run)
    return found
