"""Lecture mode (Streamlit glue): play a deck of views, add views to it, and always a way out.

Every page calls :func:`lecture_bar` once, right after ``presentation_toggle()``. It draws

- in the sidebar, **Add this view to the deck**: the page and its URL query parameters, captured
  exactly as "Copy link to this view" has them, appended to the session's deck;
- when the URL has ``slide=N`` (the page is being played as slide N of the deck), a small bar
  pinned to the bottom right: ◀ N / K ▶, the slide's title and "Leave the lecture"; → PageDown
  Space go forward, ← PageUp go back (presentation clickers send PageUp/PageDown), with
  Streamlit's own button shortcuts;
- in presentation mode, **Exit presentation** pinned to the top right of the page, so a
  collapsed sidebar (whose re-open arrow presentation mode hides with the header) never strands
  anyone, also after a reload, since ``present=1`` in the URL brings both back together.

Playing slide N means going to its page with its state plus ``slide=N`` (``st.switch_page``):
the view is drawn by its own page, exactly as a link to it would draw it. The deck lives in the
browser session (the shipped ``decks/lecture.toml`` until the user edits or opens another); the
Lecture page (pages/7_Lecture.py) lists, reorders, downloads and opens decks.
"""

from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

from data.deck import HOME_NAMES, PLAYER_PARAMS, Deck, DeckError, Slide, load_default_deck
from locales import known
from ui.i18n import lang, said, tr
from ui.present import PLAYING_KEY, SLIDE_PICTURES_KEY, presenting, stop_presenting
from ui.state import SLIDE_SCOPED, drop_url

PROJECT = Path(__file__).resolve().parent.parent
LECTURE_PAGE = "Lecture"
DECK_KEY = "_lecture_deck"          # the session's Deck
DECK_NAME_KEY = "_lecture_deck_name"  # where it came from, for the Lecture page
ADD_LABEL = known("Add this view to the deck")
EXIT_LABEL = known("Exit presentation")
LEAVE_LABEL = known("Leave the lecture")
LOST_DECK = known("Your own deck was in the browser session that a reload ended: open its file on the "
                  "Lecture page, or leave the lecture.")
OWN_DECK = "own"  # URL deck=own: the slide belongs to the user's deck, not the shipped one
NEXT_KEYS = ["PageDown", "Right", "Space"]  # the first is shown on the ▶ button
BACK_KEYS = ["PageUp", "Left"]
_FILE_NAME = re.compile(r"[0-9]*[_ -]*(.*)\.py")  # Streamlit's rule: 3_1x1_weights.py → /1x1_weights

# Our own constant, never user text: the bar and the exit control float over the page, so they
# cost the figures no height and stay on screen when the page scrolls.
CSS = """
<style>
.st-key-lecture_bar { position: fixed; bottom: 0.6rem; right: 1rem; z-index: 999990; width: auto !important;
  max-width: 70vw; flex-wrap: nowrap !important;
  background: #fff; border: 1px solid rgba(128,128,128,.45);
  border-radius: 0.6rem; padding: 0.25rem 0.6rem; box-shadow: 0 2px 8px rgba(0,0,0,.15); }
.st-key-lecture_bar [data-testid="stMarkdown"] p { margin: 0; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis;
  font-size: 0.7rem; }
.st-key-lecture_bar button { min-height: 0; padding: 0.05rem 0.4rem; font-size: 0.7rem; }
.st-key-lecture_bar button p, .st-key-lecture_bar button kbd, .st-key-lecture_bar button span {
  font-size: 0.7rem !important; }
.st-key-lecture_keys { display: none !important; }
[data-testid="stLayoutWrapper"]:has(> .st-key-lecture_bar, > .st-key-lecture_exit, > .st-key-lecture_keys) {
  display: contents; }
.st-key-lecture_exit { position: fixed; top: 0.5rem; right: 1rem; z-index: 999991; width: auto !important; }
[data-testid="stMainBlockContainer"] { padding-bottom: 4.5rem !important; }
</style>
"""

# A slide being presented: the bar names it, so the page's own title gives its height to the figures;
# the bar (with the exit control in it) sits at the bottom left, over the sidebar, not over the figures.
SLIDE_CSS = """
<style>
[data-testid="stMainBlockContainer"] [data-testid="stElementContainer"]:has(h1) { display: none; }
[data-testid="stMainBlockContainer"] { padding-top: 0.3rem !important; }
.st-key-lecture_bar { left: 0.3rem; right: auto !important; max-width: 290px; display: grid !important;
  grid-template-columns: auto auto; gap: 0.2rem 0.3rem !important; }
.st-key-lecture_bar .st-key-lecture_exit, .st-key-lecture_bar .st-key-lecture_leave { grid-column: 1 / -1; }
.st-key-lecture_bar > * { min-width: 0; width: auto !important; }
.st-key-lecture_bar button p { white-space: nowrap; }
.st-key-lecture_bar [data-testid="stMarkdown"], .st-key-lecture_bar [data-testid="stMarkdownContainer"] {
  margin: 0 !important; }
.st-key-lecture_bar > [data-testid="stElementContainer"]:has([data-testid="stMarkdown"]) {
  grid-column: 1 / -1; order: -1; }
.st-key-lecture_bar .st-key-lecture_exit { position: static; }
[data-testid="stMain"] { position: relative; z-index: 999992; }  /* the bar above the sidebar it covers */
</style>
"""


# --- Pages and decks ----------------------------------------------------------------------------

def page_files() -> dict[str, str]:
    """{URL path: script path relative to the entry point} of every page a slide may open, read
    from the file names the way Streamlit names pages ("Home" is the entry point, dashboard.py)."""
    files = {"Home": "dashboard.py"}
    for path in sorted((PROJECT / "pages").glob("*.py")):
        match = _FILE_NAME.fullmatch(path.name)
        if match and match.group(1) and match.group(1) != LECTURE_PAGE:
            files[match.group(1)] = f"pages/{path.name}"
    return files


def page_of(slide: Slide) -> str | None:
    """The script a slide opens, or None if this app has no such page."""
    return page_files().get("Home" if slide.is_home else slide.page)


@st.cache_data(show_spinner=False, max_entries=4)
def _default_deck(mtime_ns: int) -> Deck | DeckError:
    try:
        return load_default_deck()
    except DeckError as exc:
        return exc  # shared by every session: translated where it is shown


def default_deck() -> Deck | str:
    """The shipped deck, or the one-line reason it cannot be read (re-read when the file changes)."""
    from data.deck import DEFAULT_DECK

    try:
        mtime = DEFAULT_DECK.stat().st_mtime_ns
    except OSError:
        mtime = 0
    shipped = _default_deck(mtime)
    return said(shipped) if isinstance(shipped, DeckError) else shipped


def current_deck() -> Deck | None:
    """The session's deck (the shipped one until the user changes it); None if there is none."""
    deck = st.session_state.get(DECK_KEY)
    if isinstance(deck, Deck):
        return deck
    shipped = default_deck()
    return shipped if isinstance(shipped, Deck) else None


def set_deck(deck: Deck, name: str) -> None:
    st.session_state[DECK_KEY] = deck
    st.session_state[DECK_NAME_KEY] = name


def deck_name() -> str:
    return st.session_state.get(DECK_NAME_KEY, known("the lecture deck shipped with the app"))


# --- Where we are -----------------------------------------------------------------------------

def current_page() -> tuple[str, str]:
    """(URL path, title) of the page this run draws, e.g. ("Feature_maps", "Feature maps"); the home
    page is ("Home", "Home"). Streamlit's page registry is internal API: without it, ("Home", "")."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        info = ctx.pages_manager.get_pages().get(ctx.pages_manager.current_page_script_hash, {})
        path, name = info.get("url_pathname", ""), info.get("page_name", "")
    except Exception:  # internal API; a slide of the home page is still a usable slide
        return "Home", ""
    if not path or path in HOME_NAMES:
        return "Home", "Home"
    return path, name.replace("_", " ")


def requested_slide() -> int | str | None:
    """The slide number asked for in the URL (``slide=N``), the raw text if it is not a number,
    or None when the page is not being played."""
    raw = st.query_params.get("slide")
    if raw is None:
        return None
    try:
        return int(raw.strip())
    except ValueError:  # shown in a Markdown code span: no backtick may end it, no line break
        return " ".join(raw.replace("`", "'").split())[:20]


def slide_problem(deck: Deck | None, number: int | str) -> str | None:
    """Why ``slide=number`` cannot be played (one line), or None if it can."""
    if deck is None or len(deck) == 0:
        return tr("The deck is empty: open the Lecture page to load one, or add views to it.")
    if isinstance(number, str) or not 1 <= number <= len(deck):
        shown = f"`{number}`" if isinstance(number, str) else number
        return tr("There is no slide {shown}: this deck has slides 1–{count}. Use ◀ ▶ or open the Lecture page.",
                  shown=shown, count=len(deck))
    slide = deck.slide(number)
    if page_of(slide) is None:
        names = ", ".join(page_files())
        return tr("Slide {number} ({title}) opens page {page}, which this app does not have (pages: {names}).",
                  number=number, title=slide.title_in(lang()), page=repr(slide.page), names=names)
    return None


def deck_needs(deck: Deck) -> tuple[tuple[int, ...], bool]:
    """What a deck's slides compute that is worth preparing: the test images they show (``image``
    and ``compare``), and whether one shows the Shapes page (its architectures table)."""
    images = {int(value) for slide in deck.slides for key, value in slide.state.items()
              if key in ("image", "compare") and str(value).strip().isdigit()}
    return tuple(sorted(images)), any(slide.page == "Shapes_and_parameters" for slide in deck.slides)


def prepare(deck: Deck) -> None:
    """Start computing the deck's needs in the background (ui.resources.prepare_deck), once per
    process and set of needs; the slides find the results in the pages' caches."""
    from ui.resources import prepare_deck

    prepare_deck(*deck_needs(deck))


def go_to(deck: Deck, number: int) -> None:
    """Open slide ``number`` of ``deck``: its page with its state and ``slide=N`` (never returns).
    A slide that cannot be played opens the Lecture page, which says why in the slide's place."""
    number = max(1, min(number, len(deck)))
    slide = deck.slide(number)
    target = page_of(slide)
    params = {k: v for k, v in slide.state.items() if k not in PLAYER_PARAMS}
    # Forget what this session last wrote for these parameters, so the slide's values are adopted
    # even when equal to a value written on another page (ui.state adopts only new URL values).
    drop_url(*params)
    for param, key in SLIDE_SCOPED.items():  # e.g. a comparison belongs to the slide that asks for it
        if param not in params:
            st.session_state.pop(key, None)
    if presenting():
        params["present"] = "1"
    if deck.lang:
        params["lang"] = deck.lang  # a deck made for one language plays in it
    if not _is_shipped(deck):
        params["deck"] = OWN_DECK  # so that a reload, which ends the session and its deck, can say so
    params["slide"] = str(number)
    if target is None:
        params = {k: params[k] for k in PLAYER_PARAMS if k in params}
        target = _lecture_script()
    st.switch_page(target, query_params=params)


def _is_shipped(deck: Deck) -> bool:
    shipped = default_deck()
    return isinstance(shipped, Deck) and deck == shipped


def lost_own_deck() -> bool:
    """The URL plays the user's own deck, which this session does not have (a reload ended the
    session that held it)."""
    return st.query_params.get("deck") == OWN_DECK and not isinstance(st.session_state.get(DECK_KEY), Deck)


def _lecture_script() -> str:
    return next((f"pages/{p.name}" for p in sorted((PROJECT / "pages").glob("*.py"))
                 if (m := _FILE_NAME.fullmatch(p.name)) and m.group(1) == LECTURE_PAGE), "dashboard.py")


# --- Drawing ------------------------------------------------------------------------------------

def _capture_view() -> Slide:
    """This view as a slide: its page and its URL query parameters, as its share link has them."""
    path, name = current_page()
    state = {k: v for k, v in st.query_params.to_dict().items() if k not in PLAYER_PARAMS}
    details = " · ".join(f"{k} {v}" for k, v in state.items())
    title = f"{name or path}{' · ' + details if details else ''}"
    return Slide(title[:200], path, state, "")


def exit_button() -> None:
    """"Exit presentation" (also Esc), pinned on screen: top right, or in the lecture bar."""
    with st.container(key="lecture_exit"):
        st.button(tr(EXIT_LABEL), key="lecture_exit_button", on_click=stop_presenting,
                  icon=":material/close_fullscreen:", shortcut="Escape",
                  help=tr("Back to the normal page: sidebar, explanations, normal text size."))


def add_to_deck_button() -> None:
    if st.sidebar.button(tr(ADD_LABEL), key="lecture_add", icon=":material/playlist_add:",
                         help=tr("Append this page with its current settings (as in its link) to the "
                                 "session's lecture deck; edit, play or download the deck on the Lecture page.")):
        deck = current_deck() or Deck(())
        slide = _capture_view()
        set_deck(deck.with_slides((*deck.slides, slide)),
                 known("your deck") if DECK_KEY not in st.session_state else deck_name())
        st.sidebar.success(tr("Added as slide {number}: {title}", number=len(deck) + 1, title=slide.title),
                           icon=":material/check:")


def lecture_bar(*, add_button: bool = True) -> int | None:
    """The lecture controls for this page (see the module docstring). Returns the slide number
    being played, or None."""
    number = requested_slide()
    st.session_state[PLAYING_KEY] = None
    if number is not None or presenting():
        st.html(CSS)
    if number is not None and presenting():
        st.html(SLIDE_CSS)
    if presenting() and number is None:
        exit_button()
    if add_button:
        add_to_deck_button()
    if number is None:
        return None
    lost = lost_own_deck()
    deck = None if lost else current_deck()
    problem = tr(LOST_DECK) if lost else slide_problem(deck, number)
    count = len(deck) if deck is not None else 0
    here = number if isinstance(number, int) and 1 <= number <= count else None
    no_back = here is None and count == 0 or here == 1
    no_next = count == 0 or here == count
    with st.container(key="lecture_bar", horizontal=True, vertical_alignment="center", gap="small"):
        # Streamlit's own button shortcuts (one key per button). No tooltips: a key press focuses
        # the button, and its tooltip would cover the slide.
        back = st.button("◀", key="lecture_prev", disabled=no_back, shortcut=BACK_KEYS[0])
        label = f"**{here} / {count}**" if here is not None else f"**– / {count}**"
        title = deck.slide(here).title_in(lang()) if here is not None else tr("no such slide")
        st.markdown(f"{label} · {title}", width="content")
        forward = st.button("▶", key="lecture_next", disabled=no_next, shortcut=NEXT_KEYS[0])
        leave = st.button(tr(LEAVE_LABEL), key="lecture_leave", type="tertiary",
                          help=tr("Stay on this view without the lecture bar."))
        if presenting():  # in the bar, which sits over the sidebar: the slide keeps the whole page
            exit_button()
    with st.container(key="lecture_keys"):  # hidden (CSS): the other keys, one button each
        for i, key in enumerate(NEXT_KEYS[1:]):
            forward |= st.button(f"Next ({key})", key=f"lecture_next_{i}", disabled=no_next, shortcut=key)
        for i, key in enumerate(BACK_KEYS[1:]):
            back |= st.button(f"Back ({key})", key=f"lecture_prev_{i}", disabled=no_back, shortcut=key)
    if here is not None and not problem:
        st.session_state[PLAYING_KEY] = (here, deck.slide(here).title)
    if problem and current_page()[0] != LECTURE_PAGE:  # the Lecture page says it in the slide's place
        st.error(problem, icon=":material/error:")
    elif here is not None and deck.slide(here).notes and not presenting():
        with st.sidebar.expander(tr("Speaker notes, slide {number}", number=here)):
            st.markdown(deck.slide(here).notes_in(lang()))
    if leave:
        drop_url("slide")
        st.rerun()
    if deck is not None and count:
        if forward:
            go_to(deck, (here or 0) + 1)
        if back:
            go_to(deck, (here or count + 1) - 1)
    return here


# --- Handouts -----------------------------------------------------------------------------------

HANDOUT_LABEL = known("Download handouts (PDF)")


def handout(deck: Deck, language: str = "en", footer: str = "") -> bytes:
    """The deck as a PDF (:func:`render.slide.handout_pdf`): a page per slide with its notes, and
    the slide's picture for every slide played in this session (its page's "Download this view as
    PNG" slide, drawn now; a slide whose picture fails or was not played gets its notes alone)."""
    from render.slide import HandoutPage, handout_pdf

    built = st.session_state.get(SLIDE_PICTURES_KEY, {})
    pages = []
    for number, slide in enumerate(deck.slides, start=1):
        picture = None
        build = built.get((number, slide.title))
        if build is not None:
            try:
                picture = build()
            except Exception:  # a stale view (e.g. a photo since forgotten): the notes still print
                picture = None
        settings = " · ".join(f"{k} {v}" for k, v in slide.state.items())
        pages.append(HandoutPage(slide.title_in(language), f"{slide.page}{' · ' + settings if settings else ''}",
                                 slide.notes_in(language), picture))
    return handout_pdf(deck.title_in(language) or tr("Lecture"), pages, footer, lang=language)
