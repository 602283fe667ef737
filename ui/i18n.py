"""The session's language (Streamlit glue): 한국어 / English in the sidebar and ``lang=`` in the URL.

Each browser session has its own language in ``st.session_state`` (never a process-wide one):
a new ``lang=ko|en`` in the URL wins (an unknown value is reported in one line and the language
kept), else the session's choice, else the browser's language (``st.context.locale``), else
English. Write page text as ``tr("English text", count=3)``; the Korean is in ``locales/ko.toml``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import cache, partial
from pathlib import Path

import streamlit as st

from locales import DEFAULT, LANGS, NAMES, class_name, known, message_in, parse_lang, translate

# ui.state (the URL helpers) is imported inside the functions that use it: ui.state imports this
# module, and two modules that import each other at the top can deadlock when two sessions' threads
# import them for the first time at once (tests/test_imports.py).

LANG_KEY = "_lang"          # the session's language
SWITCH_KEY = "lang_switch"  # the sidebar widget
WHY = "use lang=ko (한국어) or lang=en (English)"
STATIC = Path(__file__).resolve().parent.parent / "static"
# Page titles in the sidebar's navigation, by URL path (Streamlit names them from the file names;
# the URLs stay the same in both languages). Home is the entry point, at "/".
NAV = {"": known("Home"), "Feature_maps": known("Feature maps"), "Semantic_map": known("Semantic map"),
       "1x1_weights": known("1×1 weights"), "Prediction_heatmaps": known("Prediction heatmaps"),
       "Convolution_playground": known("Convolution playground"),
       "Shapes_and_parameters": known("Shapes and parameters"), "Lecture": known("Lecture"),
       "Channel": known("Channel")}


def browser_lang() -> str:
    """The browser's language if the app has it (``ko-KR`` → ko), else English."""
    try:
        return parse_lang(st.context.locale or "")
    except (ValueError, AttributeError):
        return DEFAULT


def lang() -> str:
    """This session's language ("en" or "ko"), adopting a new ``lang=`` from the URL."""
    serve_web_font()  # before any Hangul reaches the browser (the switch itself shows 한국어)
    from ui import state

    if LANG_KEY not in st.session_state:
        st.session_state[LANG_KEY] = browser_lang()
    state.adopt_url_value("lang", LANG_KEY, parse_lang, WHY)
    return st.session_state[LANG_KEY]


def tr(text: str, /, **fields) -> str:
    """``text`` (English, as written in the code) in this session's language."""
    return translate(text, lang(), **fields)


def said(exc: BaseException) -> str:
    """What an error says, in this session's language (see ``locales.Phrase``)."""
    return message_in(exc, lang())


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
    from ui import state

    current = lang()
    st.session_state[SWITCH_KEY] = current

    def switched() -> None:
        st.session_state[LANG_KEY] = st.session_state[SWITCH_KEY] or current

    st.sidebar.segmented_control("한국어 / English", LANGS[::-1], key=SWITCH_KEY, format_func=NAMES.get,
                                 on_change=switched, label_visibility="collapsed")
    if current == DEFAULT and browser_lang() == DEFAULT:
        state.drop_url("lang")
    else:
        state.write_url(lang=current)
    if current == "ko":
        st.html(NAV_CSS_KO)
    return current


# Our own constant, never user text (tests/test_security.py): what _nav_css("ko") writes from the
# catalog, checked equal by tests/test_i18n.py.
NAV_CSS_KO = """<style>
[data-testid="stSidebarNav"] a[href$="/"] p { display: none; }
[data-testid="stSidebarNav"] a[href$="/"] div::after { content: "홈"; }
[data-testid="stSidebarNav"] a[href$="/Feature_maps"] p { display: none; }
[data-testid="stSidebarNav"] a[href$="/Feature_maps"] div::after { content: "특징 맵"; }
[data-testid="stSidebarNav"] a[href$="/Semantic_map"] p { display: none; }
[data-testid="stSidebarNav"] a[href$="/Semantic_map"] div::after { content: "의미 지도"; }
[data-testid="stSidebarNav"] a[href$="/1x1_weights"] p { display: none; }
[data-testid="stSidebarNav"] a[href$="/1x1_weights"] div::after { content: "1×1 가중치"; }
[data-testid="stSidebarNav"] a[href$="/Prediction_heatmaps"] p { display: none; }
[data-testid="stSidebarNav"] a[href$="/Prediction_heatmaps"] div::after { content: "예측 히트맵"; }
[data-testid="stSidebarNav"] a[href$="/Convolution_playground"] p { display: none; }
[data-testid="stSidebarNav"] a[href$="/Convolution_playground"] div::after { content: "합성곱 놀이터"; }
[data-testid="stSidebarNav"] a[href$="/Shapes_and_parameters"] p { display: none; }
[data-testid="stSidebarNav"] a[href$="/Shapes_and_parameters"] div::after { content: "모양과 파라미터"; }
[data-testid="stSidebarNav"] a[href$="/Lecture"] p { display: none; }
[data-testid="stSidebarNav"] a[href$="/Lecture"] div::after { content: "강의"; }
[data-testid="stSidebarNav"] a[href$="/Channel"] p { display: none; }
[data-testid="stSidebarNav"] a[href$="/Channel"] div::after { content: "채널 도감"; }
</style>
"""


def _nav_css(language: str) -> str:
    """CSS that shows the sidebar navigation's page names in ``language`` (Streamlit draws them
    from the file names; the links and their URLs are left as they are)."""
    rules = []
    for path, title in NAV.items():
        shown = json.dumps(translate(title, language), ensure_ascii=False)
        link = f'[data-testid="stSidebarNav"] a[href$="/{path}"]'
        rules += [f"{link} p {{ display: none; }}", f"{link} div::after {{ content: {shown}; }}"]
    return "<style>\n" + "\n".join(rules) + "\n</style>\n"


WEB_FONTS = {"HangulWeb.ttf": "NanumGothic.ttf", "HangulWebBold.ttf": "NanumGothicBold.ttf"}
WEB_FONT_NAME = "Lecture Hangul"  # a derived font may not keep NanumGothic's Reserved Font Names (OFL)
_VTT_TABLES = ("TSI0", "TSI1", "TSI2", "TSI3", "TSI5")  # hinting sources: Chromium's font sanitizer refuses them


@cache
def serve_web_font() -> bool:
    """Put web copies of NanumGothic and NanumGothic Bold (from the pinned pip package
    koreanize-matplotlib) in static/, where the theme's ``[[theme.fontFaces]]`` loads them for
    Hangul; once per process. The copies have the same glyphs, without the hinting-source tables
    (TSI*) that Chromium refuses ("Failed to decode downloaded font"), and, being derived, their own
    name (SIL OFL 1.1). False if they cannot be written (the browser's own fonts are used then)."""
    try:
        for name, original in WEB_FONTS.items():
            target = STATIC / name
            if target.is_file():
                continue
            from fontTools.ttLib import TTFont  # a matplotlib dependency

            from render.slide import nanum_fonts

            font = TTFont(str(nanum_fonts() / original))
            for table in _VTT_TABLES:
                if table in font:
                    del font[table]
            for record in font["name"].names:
                if record.nameID in (1, 4, 16):
                    record.string = WEB_FONT_NAME
                elif record.nameID in (3, 6):
                    record.string = WEB_FONT_NAME.replace(" ", "") + ("-Bold" if "Bold" in name else "")
            STATIC.mkdir(exist_ok=True)
            partial_file = target.with_suffix(".part")
            font.save(str(partial_file))
            partial_file.replace(target)
    except (OSError, ModuleNotFoundError, KeyError):
        return False
    return True


def translator() -> Callable[[str], str]:
    """:func:`tr` bound to this run's language, for a widget's ``format_func`` (which Streamlit, and
    AppTest, may call outside the script run, where the session is not at hand)."""
    return partial(_translate_in, lang())


def _translate_in(language: str, text: str) -> str:
    return translate(text, language)
