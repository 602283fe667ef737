"""The app's words in the lecture's language: English (the source text) and Korean.

gettext-style: the English text written in the code *is* the key. ``ko.toml`` maps each English
text to its Korean translation (the lecture's own terms, see README *한국어*); a text missing from
it stays English (and ``tests/test_i18n.py`` fails, so nothing is forgotten). Placeholders are
``str.format`` fields (``{count}``, ``{value:.1%}``) and must be the same on both sides.

No Streamlit here: render/ (figures, slides) and ui/ both use :func:`translate` with an explicit
language; the session's language is chosen in ``ui/i18n.py``. There is never a process-wide
language: two students on one server each pass their own.
"""

from __future__ import annotations

import string
import tomllib
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
LANGS = ("en", "ko")
DEFAULT = "en"
NAMES = {"ko": "한국어", "en": "English"}
CLASSES_KO = {"airplane": "비행기", "automobile": "자동차", "bird": "새", "cat": "고양이", "deer": "사슴",
              "dog": "개", "frog": "개구리", "horse": "말", "ship": "배", "truck": "트럭"}


@cache
def catalog(lang: str) -> dict[str, str]:
    """{English text: translation} for ``lang`` (empty for English, the source language)."""
    if lang == DEFAULT:
        return {}
    with open(HERE / f"{lang}.toml", "rb") as f:
        return dict(tomllib.load(f)["text"])


def parse_lang(raw: str) -> str:
    """A language code from a URL, deck or locale ("ko", "ko-KR", "EN"); ValueError if unknown."""
    code = raw.strip().replace("_", "-").split("-")[0].lower()
    if code not in LANGS:
        raise ValueError(raw)
    return code


def translate(text: str, lang: str, /, **fields) -> str:
    """``text`` in ``lang`` with ``fields`` filled in (``str.format``)."""
    found = catalog(lang).get(text, text) if lang != DEFAULT else text
    return found.format(**fields) if fields else found


def class_name(name: str, lang: str) -> str:
    """A CIFAR-10 class name in ``lang`` ("cat" → "고양이")."""
    return CLASSES_KO.get(name, name) if lang == "ko" else name


def class_names(names, lang: str) -> tuple[str, ...]:
    return tuple(class_name(n, lang) for n in names)


def fields(text: str) -> set[str]:
    """The placeholder names of a format string ("{count:,} images" → {"count"})."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def known(text: str) -> str:
    """Mark ``text`` (a constant translated later, e.g. ``tr(ADD_LABEL)``) for the catalog; returns it."""
    return text


class Phrase:
    """A text to be translated where it is shown, with its fields: what an error of the data layer
    says (``raise DeckError(Phrase("slide {number} has no page", number=3))``). ``str()`` is the
    English; :meth:`in_lang` the translation, fields that are Phrases translated too."""

    __slots__ = ("text", "fields")

    def __init__(self, text: str, /, **fields):
        self.text, self.fields = text, fields

    def in_lang(self, lang: str) -> str:
        return translate(self.text, lang, **{k: v.in_lang(lang) if isinstance(v, Phrase) else v
                                            for k, v in self.fields.items()})

    def __str__(self) -> str:
        return self.in_lang(DEFAULT)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return repr(str(self))

    def __eq__(self, other) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __reduce__(self):
        return _phrase, (self.text, self.fields)


def _phrase(text: str, fields: dict) -> Phrase:
    return Phrase(text, **fields)


def message_in(exc: BaseException, lang: str) -> str:
    """What ``exc`` says, in ``lang`` (translated if it was raised with a :class:`Phrase`)."""
    if len(exc.args) == 1 and isinstance(exc.args[0], Phrase):
        return exc.args[0].in_lang(lang)
    return str(exc)
