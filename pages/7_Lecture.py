"""Lecture: play a deck of views (?slide=N opens slide N), and make, reorder, download or open one.

Playing slide N sends the browser to the slide's page with its settings and ``slide=N``; that
page's lecture bar (ui/lecture.py) steps on. This page is where a slide that cannot be played is
explained, and where the deck is edited.
"""

from functools import partial

import streamlit as st

from data.deck import MAX_BYTES, Deck, DeckError, dump_deck, parse_deck
from ui import headings
from ui.i18n import lang, said, tr
from ui.lecture import (
    ADD_LABEL,
    HANDOUT_LABEL,
    LOST_DECK,
    current_deck,
    deck_name,
    default_deck,
    go_to,
    handout,
    lecture_bar,
    lost_own_deck,
    prepare,
    requested_slide,
    set_deck,
    slide_problem,
)
from ui.present import explain, presentation_toggle, presenting
from ui.text import code, literal

st.set_page_config(page_title="Lecture", page_icon="🎓", layout="wide")
presentation_toggle()
number = requested_slide()
deck = current_deck()
lost = lost_own_deck()  # deck=own in the URL, but a reload ended the session that held that deck
if deck is not None and not lost:
    prepare(deck)  # in the background: stepping through the slides finds their images' maps computed
if number is not None and deck is not None and not lost and slide_problem(deck, number) is None:
    go_to(deck, number)  # the view itself, drawn by its own page
lecture_bar(add_button=False)

headings.title(tr("Lecture"))
shipped = default_deck()
if isinstance(shipped, str):
    st.error(tr("The lecture deck shipped with the app cannot be read: {why}. Open a deck file below.", why=shipped))

# --- A slide that cannot be played: say why, in its place --------------------------------------
if number is not None:
    st.error(tr(LOST_DECK) if lost else slide_problem(deck, number), icon=":material/error:")
    if not lost and deck is not None and isinstance(number, int) and 1 <= number <= len(deck):
        slide = deck.slide(number)
        headings.subheader(slide.title_in(lang()))
        if slide.notes and not presenting():
            with st.expander(tr("Speaker notes")):
                st.markdown(slide.notes_in(lang()))

# --- The deck -----------------------------------------------------------------------------------
if deck is None or len(deck) == 0:
    st.info(tr("The deck is empty. On any page, **{add}** in the sidebar adds that view.", add=tr(ADD_LABEL)))
else:
    c_start, c_text = st.columns([1, 4], vertical_alignment="center")
    if c_start.button(tr("Start the lecture"), key="lecture_start", type="primary", icon=":material/slideshow:"):
        go_to(deck, 1)
    c_text.markdown(tr("**{title}** — {count} slides ({source}). "
                       "Keys: **→**, **PageDown** or **Space** next; **←** or **PageUp** back.",
                       title=deck.title_in(lang()) or tr("Untitled deck"), count=len(deck), source=tr(deck_name())))
explain(tr("Each slide is a page of the app with its settings, exactly as its **Copy link to this view** "
           "address has them. Playing a slide opens that page; the bar at the bottom right steps through "
           "the deck. A presentation clicker's buttons send PageUp and PageDown."))

if not presenting():
    headings.header(tr("Edit the deck"))

    def move(index: int, by: int) -> None:
        slides = list(current_deck().slides)
        slides[index], slides[index + by] = slides[index + by], slides[index]
        set_deck(current_deck().with_slides(slides), "your deck")

    def delete(index: int) -> None:
        slides = list(current_deck().slides)
        del slides[index]
        set_deck(current_deck().with_slides(slides), "your deck")

    if deck is not None:
        for i, slide in enumerate(deck.slides):
            c_no, c_title, c_play, c_up, c_down, c_del = st.columns([0.4, 8, 0.8, 0.8, 0.8, 0.8],
                                                                    vertical_alignment="center")
            c_no.markdown(f"**{i + 1}**")
            state = " ".join(f"`{k}={v}`" for k, v in slide.state.items())
            c_title.markdown(f"**{slide.title_in(lang())}** — {slide.page} {state}")
            # Icon-only buttons: four of them fit beside the title at 1280 pixels.
            if c_play.button(":material/play_arrow:", key=f"lecture_play_{i}",
                             help=tr("Play slide {number}", number=i + 1)):
                go_to(deck, i + 1)
            c_up.button(":material/arrow_upward:", key=f"lecture_up_{i}", disabled=i == 0, on_click=move,
                        args=(i, -1), help=tr("Move up"))
            c_down.button(":material/arrow_downward:", key=f"lecture_down_{i}", disabled=i == len(deck) - 1,
                          on_click=move, args=(i, 1), help=tr("Move down"))
            c_del.button(":material/delete:", key=f"lecture_delete_{i}", on_click=delete, args=(i,),
                         help=tr("Delete this slide"))

    c_dl, c_pdf, c_reset, c_empty = st.columns(4)
    c_dl.download_button(tr("Download the deck (.toml)"), data=dump_deck(deck) if deck else "",
                         file_name="lecture-deck.toml", mime="application/toml", key="lecture_download",
                         on_click="ignore", disabled=not deck, icon=":material/download:",
                         help=tr("A text file: edit titles and notes in any editor, then open it below."))
    c_pdf.download_button(tr(HANDOUT_LABEL), data=partial(handout, deck, lang()) if deck else b"",
                          file_name="lecture-handout.pdf", mime="application/pdf", key="lecture_handout",
                          on_click="ignore", disabled=not deck, icon=":material/picture_as_pdf:",
                          help=tr("A page per slide with its notes, and the slide's figures for every slide "
                                  "played in this session. Built when clicked."))
    if isinstance(shipped, Deck):
        c_reset.button(tr("Back to the shipped deck"), key="lecture_reset",
                       on_click=lambda: set_deck(shipped, "the lecture deck shipped with the app"))
    c_empty.button(tr("Start an empty deck"), key="lecture_empty",
                   on_click=lambda: set_deck(Deck(()), "your deck"),
                   help=tr("Then use **{add}** on each page you want to show.", add=tr(ADD_LABEL)))

    file = st.file_uploader(tr("Open a deck file (.toml)"), type=["toml"], key="lecture_upload", max_upload_size=1,
                            help=tr("A deck downloaded here, up to {size} kB.", size=MAX_BYTES // 1024))
    deck_label = code(file.name[:60]) if file else ""  # shown literally, whatever it holds
    if file is not None and st.session_state.get("_lecture_seen_file") != file.file_id:
        st.session_state["_lecture_seen_file"] = file.file_id
        try:
            opened = parse_deck(file.getvalue())
        except DeckError as exc:
            st.session_state["_lecture_upload_message"] = (
                file.file_id, tr("{file} cannot be opened: {why}. The current deck is kept.",
                                 file=deck_label, why=literal(said(exc))))
        else:
            set_deck(opened, deck_label)
            st.session_state["_lecture_upload_message"] = (file.file_id, None)
            st.rerun()
    message = st.session_state.get("_lecture_upload_message")
    if message and file is not None and message[0] == file.file_id:
        if message[1]:
            st.error(message[1], icon=":material/error:")
        else:
            st.success(tr("Opened {file}: {count} slides.", file=deck_label, count=len(current_deck())),
                       icon=":material/check:")
