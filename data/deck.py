"""A lecture deck: an ordered list of views of the app, each with a title and speaker notes.

A deck is a TOML file, meant to be edited by hand::

    title = "Convolutional networks, with a real CIFAR-10 model"
    title_ko = "합성곱 신경망, 실제 CIFAR-10 모델로"   # optional: shown when the session is in Korean
    lang = "ko"                    # optional: play every slide in Korean ("ko") or English ("en")

    [[slide]]
    title = "Block 1: strokes"
    title_ko = "블록 1: 획"          # optional, like notes_ko
    page = "Feature_maps"          # the page's URL path; "Home" (or "") is the home page
    notes = '''What to say.'''
    [slide.state]                  # the page's URL query parameters, as its share link has them
    image = 3613
    layer = "block1.relu1"

:func:`parse_deck` reads one (from the shipped file or an upload) and refuses a file that is not a
deck with a :class:`DeckError` whose message is one line saying what is wrong; :func:`dump_deck`
writes one that :func:`parse_deck` reads back to the same :class:`Deck`. Page names and state
values are not checked against the app here (a deck may come from another version of it): the
player says, in the slide's place, when a page is unknown, and each page already says when a value
in its URL is not valid.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from locales import LANGS, Phrase

MAX_BYTES = 256 * 1024       # a 200-slide deck with long notes is about 100 kB
MAX_SLIDES = 200
MAX_TITLE = 200
MAX_NOTES = 4000
MAX_STATE = 32               # query parameters per slide
MAX_VALUE = 200              # characters of one parameter value (pages refuse more than 64 themselves)
HOME_NAMES = ("", "Home", "dashboard")
DEFAULT_DECK = Path(__file__).resolve().parent.parent / "decks" / "lecture.toml"

_DECK_KEYS = {"title", "title_ko", "lang", "slide"}
_SLIDE_KEYS = {"title", "title_ko", "page", "notes", "notes_ko", "state"}
_PAGE = re.compile(r"[A-Za-z0-9_]{0,64}")
_PARAM = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
# Parameters the player sets itself: a slide's own value for them is dropped when it is played.
PLAYER_PARAMS = ("slide", "present", "deck")


class DeckError(ValueError):
    """A file that cannot be used as a deck; the message is one line for the user."""


@dataclass(frozen=True)
class Slide:
    title: str
    page: str                    # the page's URL path ("Feature_maps"); "Home" for the home page
    state: dict[str, str] = field(default_factory=dict)  # the page's query parameters
    notes: str = ""
    title_ko: str = ""           # the Korean title and notes, shown when the session is in Korean
    notes_ko: str = ""

    @property
    def is_home(self) -> bool:
        return self.page in HOME_NAMES

    def title_in(self, lang: str) -> str:
        return self.title_ko if lang == "ko" and self.title_ko else self.title

    def notes_in(self, lang: str) -> str:
        return self.notes_ko if lang == "ko" and self.notes_ko else self.notes


@dataclass(frozen=True)
class Deck:
    slides: tuple[Slide, ...]
    title: str = ""
    title_ko: str = ""
    lang: str = ""               # "ko" or "en": play every slide in that language; "" = the session's

    def title_in(self, lang: str) -> str:
        return self.title_ko if lang == "ko" and self.title_ko else self.title

    def __len__(self) -> int:
        return len(self.slides)

    def slide(self, number: int) -> Slide:
        """Slide ``number``, counted from 1 (IndexError outside 1…len)."""
        if not 1 <= number <= len(self.slides):
            raise IndexError(number)
        return self.slides[number - 1]

    def with_slides(self, slides) -> Deck:
        return Deck(tuple(slides), self.title, self.title_ko, self.lang)


def _text(value, where: Phrase, limit: int, *, one_line: bool = False) -> str:
    if not isinstance(value, str):
        raise DeckError(Phrase("{where} must be text in quotes, not {kind}", where=where, kind=type(value).__name__))
    if len(value) > limit:
        raise DeckError(Phrase("{where} is too long ({count:,} characters; at most {limit:,})", where=where,
                               count=len(value), limit=limit))
    if one_line and ("\n" in value or "\r" in value):
        raise DeckError(Phrase("{where} must be one line", where=where))
    return value


def _state(value, where: Phrase) -> dict[str, str]:
    if not isinstance(value, dict):
        raise DeckError(Phrase("{where} must be a table of page settings ([slide.state])", where=where))
    if len(value) > MAX_STATE:
        raise DeckError(Phrase("{where} has {count} settings; at most {limit}", where=where, count=len(value),
                               limit=MAX_STATE))
    state = {}
    for key, raw in value.items():
        if not _PARAM.fullmatch(key):
            raise DeckError(Phrase("{where} has a setting named {key}; names are letters, digits and _", where=where,
                                   key=repr(key[:40])))
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            raise DeckError(Phrase("{where}: {key} must be text or a whole number, not {kind}", where=where, key=key,
                                   kind=type(raw).__name__))
        text = str(raw)
        if len(text) > MAX_VALUE or "\n" in text or "\r" in text:
            raise DeckError(Phrase("{where}: {key} must be one short line", where=where, key=key))
        state[key] = text
    return state


def _slide(raw, number: int) -> Slide:
    where = Phrase("slide {number}", number=number)
    if not isinstance(raw, dict):
        raise DeckError(Phrase("{where} is not a table; write each slide as [[slide]]", where=where))
    unknown = sorted(set(raw) - _SLIDE_KEYS)
    if unknown:
        raise DeckError(Phrase("{where} has unknown key {key}; a slide has title, title_ko, page, notes, notes_ko "
                               "and state", where=where, key=repr(unknown[0])))
    if "page" not in raw:
        raise DeckError(Phrase("{where} has no page (e.g. page = \"Feature_maps\")", where=where))
    page = _text(raw["page"], Phrase("{where}'s page", where=where), 64)
    if not _PAGE.fullmatch(page):
        raise DeckError(Phrase("{where}'s page {page} is not a page name (letters, digits and _)", where=where,
                               page=repr(page[:40])))
    title = _text(raw.get("title", ""), Phrase("{where}'s title", where=where), MAX_TITLE, one_line=True)
    notes = _text(raw.get("notes", ""), Phrase("{where}'s notes", where=where), MAX_NOTES)
    title_ko = _text(raw.get("title_ko", ""), Phrase("{where}'s title_ko", where=where), MAX_TITLE, one_line=True)
    notes_ko = _text(raw.get("notes_ko", ""), Phrase("{where}'s notes_ko", where=where), MAX_NOTES)
    state = _state(raw.get("state", {}), Phrase("{where}'s state", where=where))
    return Slide(title.strip() or f"Slide {number}", page, state,
                 notes.strip(), title_ko.strip(), notes_ko.strip())


def parse_deck(data: bytes) -> Deck:
    """The deck in ``data`` (the bytes of a TOML file); DeckError with a one-line reason otherwise."""
    if len(data) > MAX_BYTES:
        raise DeckError(Phrase("the file is too big ({size:,} bytes; a deck is at most {limit} kB)", size=len(data),
                               limit=MAX_BYTES // 1024))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DeckError(Phrase("the file is not text (UTF-8); a deck is a .toml text file")) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DeckError(Phrase("the file is not valid TOML ({why})", why=" ".join(str(exc).split()))) from None
    unknown = sorted(set(doc) - _DECK_KEYS)
    if unknown:
        raise DeckError(Phrase("this is not a lecture deck: unknown key {key} (a deck has a title and [[slide]] "
                               "tables)", key=repr(unknown[0][:40])))
    slides = doc.get("slide")
    if slides is None or slides == []:
        raise DeckError(Phrase("the deck has no slides; add at least one [[slide]] table"))
    if not isinstance(slides, list):
        raise DeckError(Phrase("slide must be a list of tables; write each slide as [[slide]]"))
    if len(slides) > MAX_SLIDES:
        raise DeckError(Phrase("the deck has {count} slides; at most {limit}", count=len(slides), limit=MAX_SLIDES))
    title = _text(doc.get("title", ""), Phrase("the deck's title"), MAX_TITLE, one_line=True)
    title_ko = _text(doc.get("title_ko", ""), Phrase("the deck's title_ko"), MAX_TITLE, one_line=True)
    lang = _text(doc.get("lang", ""), Phrase("the deck's lang"), 16, one_line=True).strip()
    if lang and lang not in LANGS:
        raise DeckError(Phrase("the deck's lang {lang} is not a language of the app (use \"ko\" or \"en\")",
                               lang=repr(lang[:16])))
    return Deck(tuple(_slide(raw, n) for n, raw in enumerate(slides, 1)), title.strip(), title_ko.strip(), lang)


def load_default_deck(path: Path = DEFAULT_DECK) -> Deck:
    """The deck shipped with the app (DeckError if it is missing or broken)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DeckError(Phrase("cannot read {name}: {why}", name=path.name, why=str(exc.strerror or exc))) from None
    return parse_deck(data)


# --- Writing ----------------------------------------------------------------------------------

def _basic(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, except that TOML also escapes DEL."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _string(text: str) -> str:
    # Notes read best as a multi-line literal string, when nothing in them needs escaping.
    printable = all(ch in "\n\t" or (ch.isprintable() and ch != "\x7f") for ch in text)
    if "\n" in text and printable and "'''" not in text and not text.endswith("'"):
        return "'''\n" + text + "'''"
    return _basic(text)


def _value(text: str) -> str:
    # Whole numbers stay numbers (image = 3613), as a person would write them.
    if re.fullmatch(r"0|[1-9][0-9]{0,8}", text):
        return text
    return _basic(text)


def dump_deck(deck: Deck) -> str:
    """``deck`` as TOML text that :func:`parse_deck` reads back to an equal deck."""
    lines = ["# A lecture deck for the CIFAR-10 dashboard: open it on the Lecture page.",
             "# Each [[slide]] is a page of the app (page = its URL path) with the settings in its link.",
             ""]
    if deck.lang:
        lines.append(f"lang = {_basic(deck.lang)}")
    if deck.title:
        lines.append(f"title = {_basic(deck.title)}")
    if deck.title_ko:
        lines.append(f"title_ko = {_basic(deck.title_ko)}")
    if deck.lang or deck.title or deck.title_ko:
        lines.append("")
    for slide in deck.slides:
        lines += ["[[slide]]", f"title = {_basic(slide.title)}"]
        if slide.title_ko:
            lines.append(f"title_ko = {_basic(slide.title_ko)}")
        lines.append(f"page = {_basic(slide.page)}")
        if slide.notes:
            lines.append(f"notes = {_string(slide.notes)}")
        if slide.notes_ko:
            lines.append(f"notes_ko = {_string(slide.notes_ko)}")
        if slide.state:
            lines.append("[slide.state]")
            lines += [f"{key} = {_value(value)}" for key, value in slide.state.items()]
        lines.append("")
    return "\n".join(lines)
