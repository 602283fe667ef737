"""Presentation mode, a link to the current view and the one-PNG export (Streamlit glue).

Every page calls :func:`presentation_toggle` once near the top (the sidebar switch, also in the
URL as ``present=1``), wraps its explanations in :func:`explain`, passes its figures through
:func:`fit`, and ends with :func:`share_link` and :func:`export_button`. The slide itself is
drawn by :mod:`render.slide`.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, urlencode, urlsplit

import streamlit as st

from locales import known
from render.common import FONT, OVERLAY_SCALE, TICK_FONT, TITLE_FONT, enlarge, legend_html, title_factor
from ui.i18n import lang, language_switch, tr
from ui.state import adopt_url_value, drop_url, write_url

PRESENT_KEY = "present"  # widget key and URL parameter
_ON = "_present_on"  # the session's presentation-mode flag
FIGURE_SCALE = 1.4  # fonts and heights of figures in presentation mode
EXPORT_LABEL = known("Download this view as PNG")
PLAYING_KEY = "_lecture_playing"  # (slide number, title) of the slide this run draws, or None
SLIDE_PICTURES_KEY = "_lecture_pictures"  # {(slide number, title): build the slide's PNG}
_TRUE, _FALSE = ("1", "true", "on", "yes"), ("0", "false", "off", "no")

# Our own constant: never user text. Streamlit sizes text in rem, so the root font size
# enlarges everything (22 px instead of 16 px); headings grow a little more.
CSS = """
<style>
html { font-size: 22px !important; }
[data-testid="stMainBlockContainer"] { max-width: 100% !important; padding: 0.6rem 1rem 2rem !important; }
[data-testid="stMainBlockContainer"] h1 { font-size: 1.5rem !important; padding: 0.2rem 12rem 0.4rem 0 !important; }
[data-testid="stMainBlockContainer"] h2 { font-size: 1.4rem !important; }
[data-testid="stMainBlockContainer"] h3 { font-size: 1.15rem !important; }
[class*="_cmp_row"] [data-testid="stColumn"] { height: calc(100vh - 1.5rem); min-height: 420px; }
[class*="_cmp_row"] [data-testid="stColumn"] > div,
[class*="_cmp_row"] [data-testid="stElementContainer"] { height: 100%; }
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stMainMenu"] { display: none !important; }
</style>
"""

# Our own constant CSS for :func:`fill_screen`: a figure in a container keyed "fill_r<ratio × 10>_…"
# gets that width / height ratio, at most the screen's height below the slide's heading.
FILL_CSS = """
<style>
[class*="st-key-fill_r"] [data-testid="stElementContainer"] {
  max-height: calc(100vh - 5rem); min-height: 320px; }
[class*="st-key-fill_r8_"] [data-testid="stElementContainer"] { aspect-ratio: 0.8; }
[class*="st-key-fill_r9_"] [data-testid="stElementContainer"] { aspect-ratio: 0.9; }
[class*="st-key-fill_r10_"] [data-testid="stElementContainer"] { aspect-ratio: 1.0; }
[class*="st-key-fill_r11_"] [data-testid="stElementContainer"] { aspect-ratio: 1.1; }
[class*="st-key-fill_r12_"] [data-testid="stElementContainer"] { aspect-ratio: 1.2; }
[class*="st-key-fill_r13_"] [data-testid="stElementContainer"] { aspect-ratio: 1.3; }
[class*="st-key-fill_r14_"] [data-testid="stElementContainer"] { aspect-ratio: 1.4; }
[class*="st-key-fill_r15_"] [data-testid="stElementContainer"] { aspect-ratio: 1.5; }
[class*="st-key-fill_r16_"] [data-testid="stElementContainer"] { aspect-ratio: 1.6; }
[class*="st-key-fill_r17_"] [data-testid="stElementContainer"] { aspect-ratio: 1.7; }
[class*="st-key-fill_r18_"] [data-testid="stElementContainer"] { aspect-ratio: 1.8; }
[class*="st-key-fill_r19_"] [data-testid="stElementContainer"] { aspect-ratio: 1.9; }
[class*="st-key-fill_r20_"] [data-testid="stElementContainer"] { aspect-ratio: 2.0; }
[class*="st-key-fill_r22_"] [data-testid="stElementContainer"] { aspect-ratio: 2.2; }
[class*="st-key-fill_r24_"] [data-testid="stElementContainer"] { aspect-ratio: 2.4; }
[class*="st-key-fill_r26_"] [data-testid="stElementContainer"] { aspect-ratio: 2.6; }
[class*="st-key-fill_r28_"] [data-testid="stElementContainer"] { aspect-ratio: 2.8; }
[class*="st-key-fill_r30_"] [data-testid="stElementContainer"] { aspect-ratio: 3.0; }
[class*="st-key-fill_r34_"] [data-testid="stElementContainer"] { aspect-ratio: 3.4; }
[class*="st-key-fill_r40_"] [data-testid="stElementContainer"] { aspect-ratio: 4.0; }
</style>
"""
# The ratios FILL_CSS knows.
FILL_RATIOS = (0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0, 2.2, 2.4, 2.6, 2.8, 3.0, 3.4, 4.0)


def _parse_flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(raw)


def presentation_toggle() -> bool:
    """The sidebar switch "Presentation mode" (URL ``present=1``); call once per page, early.

    When on: bigger type, a full-width page, no Streamlit header or toolbar, explanations hidden.
    The switch keeps its value across pages; links made with it on carry ``present=1``.
    """
    language_switch()  # first in the sidebar, and before any text of the page's own
    # The session's own flag is the truth; the switch only shows and changes it (a widget's
    # value is not reliably carried to the first run of another page).
    adopt_url_value("present", _ON, _parse_flag, tr("use present=1 (on) or present=0 (off)"))
    on = bool(st.session_state.get(_ON, False))
    st.session_state[PRESENT_KEY] = on

    def switched() -> None:
        st.session_state[_ON] = bool(st.session_state[PRESENT_KEY])

    st.sidebar.toggle(tr("Presentation mode"), key=PRESENT_KEY, on_change=switched,
                      help=tr("For the projector: larger text and figures, explanations hidden. "
                              "Links include it."))
    if on:
        write_url(present=1)
        st.html(CSS + FILL_CSS)
    else:
        drop_url("present")
    return on


def presenting() -> bool:
    """Is presentation mode on (as set by :func:`presentation_toggle` in this run)?"""
    return bool(st.session_state.get(_ON, False))


def stop_presenting() -> None:
    """Turn presentation mode off for this session (a button callback: the next run draws the
    normal page, and the sidebar switch shows it off)."""
    st.session_state[_ON] = False


def explain(body: str, *, caption: bool = False, container=None) -> None:
    """Explanatory Markdown, shown only when not presenting (the lecturer says it instead)."""
    if presenting():
        return
    place = container if container is not None else st
    (place.caption if caption else place.markdown)(body)


def colour_legend(title: str, low: float, high: float, colours: str = OVERLAY_SCALE, container=None) -> None:
    """A figure's colour scale as HTML under it (render.common.legend_html), sized like the figures'
    tick labels (larger when presenting)."""
    (container if container is not None else st).html(legend_html(title, low, high, colours, size=html_sizes()[2]))


def html_sizes() -> tuple[int, int, int]:
    """Text, title and tick sizes (px) for HTML that stands in for a figure: the figures' own
    (render.common's FONT, TITLE_FONT, TICK_FONT), enlarged like them when presenting."""
    return (round(FONT["size"] * scale()), round(TITLE_FONT["size"] * title_factor(scale())),
            round(TICK_FONT["size"] * scale()))


def scale() -> float:
    """Multiply figure heights and fonts by this (1 normally, larger when presenting)."""
    return FIGURE_SCALE if presenting() else 1.0


def fit(fig):
    """``fig`` with fonts and height enlarged when presenting (unchanged otherwise)."""
    return enlarge(fig, scale())


def _page_path() -> str:
    """The current page's URL path (e.g. "/Feature_maps"), for a link when the browser's URL is
    unknown (tests); "" if Streamlit does not say."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        info = ctx.pages_manager.get_pages().get(ctx.pages_manager.current_page_script_hash, {})
        path = info.get("url_pathname", "")
    except Exception:  # internal API: a link without the page is still useful
        return ""
    return f"/{path}" if path else "/"


def view_url() -> str:
    """The full address of this view: the page's URL plus its state from the query string."""
    base = st.context.url or _page_path()
    if base and not urlsplit(base).path:
        base += "/"  # the home page: http://host:port/?…
    query = urlencode(st.query_params.to_dict(), quote_via=quote, safe=".,-_")
    return f"{base}?{query}" if query else base


SHARE_LABEL = known("Copy link to this view")


def share_link(container=None) -> str:
    """"Copy link to this view": a popover holding the address in a code box (it has a copy button).

    In a popover because a code box makes the browser load Streamlit's syntax highlighter
    (1.5 MB of JavaScript), about 0.6 s of every page's first render on this machine
    (``python -m bench``); the popover's content is only drawn when it is opened.
    Call at the end of the page, after every :func:`ui.state.write_url`. Returns the address.
    """
    place = container if container is not None else st.sidebar
    url = view_url()
    with place.popover(tr(SHARE_LABEL), icon=":material/link:"):
        st.code(url, language=None, wrap_lines=True)
        st.caption(tr("Opens this page with the same image and settings."))
    return url


def slide_footer(ctx, image) -> str:
    """The slide's footer: model, checkpoint and the current image (``ui.state.CurrentImage``)."""
    from render.slide import footer_text

    return footer_text(ctx.card.meta.get("architecture", "?"), ctx.card.sha256, image.long_name,
                       lang=lang())


def export_button(file_name: str, build: Callable[[], bytes], key: str, container=None) -> None:
    """"Download this view as PNG": ``build()`` (an :func:`render.slide.slide_png` call on this
    view's data) runs only when the button is clicked, not on every rerun.

    ``build`` is also kept in ``st.session_state["_export_<key>"]`` so tests can build the slide.
    """
    st.session_state[f"_export_{key}"] = build
    playing = st.session_state.get(PLAYING_KEY)  # set by ui.lecture.lecture_bar for a slide being played
    if playing is not None:  # its picture for the deck's handout (ui.lecture.handout)
        st.session_state.setdefault(SLIDE_PICTURES_KEY, {})[playing] = build
    place = container if container is not None else st
    place.download_button(tr(EXPORT_LABEL), data=build, file_name=file_name, mime="image/png", key=key,
                          on_click="ignore", icon=":material/download:",
                          help=tr("One 1920×1080 picture of this view (figures, labels, legend) for a slide."))


class _Tucked:
    """What :func:`tuck_away` returns: ``close()`` ends the tucked part."""

    def __init__(self, box=None):
        self._box = box

    def close(self) -> None:
        if self._box is not None:
            self._box.__exit__(None, None, None)
            self._box = None


def pair_row(figures, prefix: str) -> None:
    """Two figures of a comparison side by side, the same size, keys ``{prefix}_cmp_a`` and
    ``{prefix}_cmp_b``; presenting, the pair fills the screen's height (CSS above: ``*_cmp_row``).
    Not enlarged by :func:`fit`: two 38-character title lines must fit half the width at 1280 px."""
    tall = presenting()
    with st.container(key=f"{prefix}_cmp_row" if tall else None):
        for col, fig, key in zip(st.columns(2, gap="small"), figures, (f"{prefix}_cmp_a", f"{prefix}_cmp_b")):
            col.plotly_chart(fig, width="stretch", height="stretch" if tall else "content", key=key)


def fill_screen(fig, key: str, ratio: float) -> None:
    """``fig`` (e.g. a combined row, :func:`render.common.row_figure`) across the whole width, about
    ``ratio`` = width / height (the nearest of :data:`FILL_RATIOS`), at most as tall as the screen
    below the slide's heading: in presentation mode the slide's main figure, sized by the browser
    at any resolution (Plotly's own height is in pixels). Not enlarged by :func:`fit`: it already
    spans the screen, and its panel titles must fit their share of it at 1280 px."""
    nearest = min(FILL_RATIOS, key=lambda r: abs(r - ratio))
    with st.container(key=f"fill_r{round(nearest * 10)}_{key}"):  # FILL_CSS sizes it by this name
        st.plotly_chart(fig, width="stretch", height="stretch", key=key)


def tuck_away(label: str, *, when: bool = True, icon: str = ":material/tune:") -> _Tucked:
    """In presentation mode (and ``when``), everything the page draws from here until the returned
    object's ``close()`` goes into a collapsed expander titled ``label``, so the slide's figure is on
    the first screen; otherwise the page is drawn as usual. The expander is entered by hand (not in a
    ``with`` block) so that the page's own code keeps its shape; widgets inside it still run and keep
    their values."""
    if not (presenting() and when):
        return _Tucked()
    box = st.expander(label, icon=icon)
    box.__enter__()
    return _Tucked(box)
