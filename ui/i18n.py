"""The session's language (Streamlit glue): 한국어 / English in the sidebar and ``lang=`` in the URL.

Each browser session has its own language in ``st.session_state`` (never a process-wide one):
a new ``lang=ko|en`` in the URL wins (an unknown value is reported in one line and the language
kept), else the session's choice, else the browser's language (``st.context.locale``), else
English. Write page text as ``tr("English text", count=3)``; the Korean is in ``locales/ko.toml``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import streamlit as st

from locales import DEFAULT, LANGS, NAMES, class_name, parse_lang, translate
from ui.state import adopt_url_value, drop_url, write_url

LANG_KEY = "_lang"          # the session's language
SWITCH_KEY = "lang_switch"  # the sidebar widget
WHY = "use lang=ko (한국어) or lang=en (English)"


def browser_lang() -> str:
    """The browser's language if the app has it (``ko-KR`` → ko), else English."""
    try:
        return parse_lang(st.context.locale or "")
    except (ValueError, AttributeError):
        return DEFAULT


def lang() -> str:
    """This session's language ("en" or "ko"), adopting a new ``lang=`` from the URL."""
    if LANG_KEY not in st.session_state:
        st.session_state[LANG_KEY] = browser_lang()
    adopt_url_value("lang", LANG_KEY, parse_lang, WHY)
    return st.session_state[LANG_KEY]


def tr(text: str, /, **fields) -> str:
    """``text`` (English, as written in the code) in this session's language."""
    return translate(text, lang(), **fields)


def cls(name: str) -> str:
    """A CIFAR-10 class name in this session's language."""
    return class_name(name, lang())


def classes_in(names: Sequence[str]) -> dict[str, str]:
    """{class: shown name}, e.g. for a selectbox's ``format_func``."""
    return {n: cls(n) for n in names}


def language_switch() -> str:
    """Draw 한국어 / English at the top of the sidebar and keep ``lang=`` in the URL; the language.

    The URL carries ``lang`` unless both the choice and the browser's default are English, so a
    link made in Korean (or in English by a Korean browser) opens in the same language."""
    current = lang()
    st.session_state[SWITCH_KEY] = current

    def switched() -> None:
        st.session_state[LANG_KEY] = st.session_state[SWITCH_KEY] or current

    st.sidebar.segmented_control("한국어 / English", LANGS[::-1], key=SWITCH_KEY, format_func=NAMES.get,
                                 on_change=switched, label_visibility="collapsed")
    if current == DEFAULT and browser_lang() == DEFAULT:
        drop_url("lang")
    else:
        write_url(lang=current)
    return current


def translator() -> Callable[[str], str]:
    """:func:`tr` bound to this run's language, for a widget's ``format_func`` (which Streamlit, and
    AppTest, may call outside the script run, where the session is not at hand)."""
    return partial(_translate_in, lang())


def _translate_in(language: str, text: str) -> str:
    return translate(text, language)
