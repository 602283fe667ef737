"""AppTests of lecture mode: the Lecture page (pages/7_Lecture.py) and the lecture bar every page
draws (ui/lecture.py), against the real checkpoint and test images.

AppTest keeps running the page it was switched to, while a browser follows ``st.switch_page`` to
the new URL; where a test goes on after the Lecture page has opened a slide, it switches AppTest
to the slide's page, as the browser would be.
"""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from data.deck import Deck, Slide, dump_deck, load_default_deck, parse_deck
from tests.conftest import PROJECT
from ui.lecture import DECK_KEY, HANDOUT_LABEL, page_files
from ui.present import SLIDE_PICTURES_KEY

LECTURE = "pages/7_Lecture.py"
DECK = load_default_deck()


def app(page: str, **params) -> AppTest:
    at = AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=240).switch_page(page)
    for key, value in params.items():
        at.query_params[key] = value
    return at


def texts(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def errors(at) -> str:
    return "\n".join(e.value for e in at.error)


def counter(at) -> str:
    """The lecture bar's "**N / K** · title" line."""
    (line,) = [m.value for m in at.markdown if re.match(r"\*\*(\d+|–) / \d+\*\* · ", m.value)]
    return line


def follow(at) -> AppTest:
    """Do what the browser does after st.switch_page: run the page the URL now names."""
    number = int(at.query_params["slide"])
    return at.switch_page(page_files()[DECK.slide(number).page]).run()


@pytest.fixture
def env(page_env):
    return page_env


def test_lecture_slide_1_opens_the_first_view_with_its_state(env):
    at = app(LECTURE, slide="1").run()
    assert not at.exception
    first = DECK.slide(1)
    assert {k: at.query_params[k] for k in first.state} == first.state
    assert at.query_params["slide"] == "1"
    assert counter(at) == f"**1 / {len(DECK)}** · {first.title}"
    assert at.title[0].value == "Convolution playground"


@pytest.mark.parametrize("raw, shown", [("99", "99"), ("0", "0"), ("abc", "`abc`"),
                                        ("`x`\n# y", "`'x' # y`")])
def test_a_slide_number_outside_the_deck_gets_a_clear_message(env, raw, shown):
    at = app(LECTURE, slide=raw).run()
    assert not at.exception
    assert f"There is no slide {shown}: this deck has slides 1–{len(DECK)}" in errors(at)
    assert counter(at).startswith(f"**– / {len(DECK)}**")
    at = at.button(key="lecture_next").click().run()  # ▶ from nowhere: the first slide
    assert not at.exception and at.query_params["slide"] == "1"


def test_next_and_back_step_through_the_deck_on_the_views(env):
    at = app(LECTURE, slide="3").run()
    at = follow(at)
    assert counter(at).startswith(f"**3 / {len(DECK)}**")
    at = follow(at.button(key="lecture_next").click().run())
    assert not at.exception and counter(at).startswith(f"**4 / {len(DECK)}**")
    assert {k: at.query_params[k] for k in DECK.slide(4).state} == DECK.slide(4).state
    at = follow(at.button(key="lecture_prev").click().run())
    assert not at.exception and counter(at).startswith(f"**3 / {len(DECK)}**")
    assert at.query_params["pos"] == "2"


def test_the_last_slide_has_no_next_and_the_first_no_back(env):
    at = follow(app(LECTURE, slide=str(len(DECK))).run())
    assert at.button(key="lecture_next").disabled and not at.button(key="lecture_prev").disabled
    at = follow(app(LECTURE, slide="1").run())
    assert at.button(key="lecture_prev").disabled and not at.button(key="lecture_next").disabled


def test_a_slide_naming_an_unknown_page_is_a_message_in_its_place(env):
    at = app(LECTURE, slide="1")
    at.session_state[DECK_KEY] = Deck((Slide("From a newer app", "Time_machine", {"image": "1"}, "notes"),
                                      Slide("Home", "Home", {"image": "5"})))
    at = at.run()
    assert not at.exception
    assert "Slide 1 (From a newer app) opens page 'Time_machine', which this app does not have" in errors(at)
    assert counter(at) == "**1 / 2** · From a newer app"
    at = at.button(key="lecture_next").click().run()
    assert not at.exception and at.query_params["slide"] == "2" and at.query_params["image"] == "5"


def test_an_unknown_layer_or_image_is_the_pages_own_notice(env):
    at = app(LECTURE, slide="1")
    bad = Slide("Bad values", "Feature_maps", {"image": "123456", "layer": "nope"})
    at.session_state[DECK_KEY] = Deck((bad,))
    at = at.run()  # AppTest runs the slide's page in this run, as the browser does
    assert not at.exception and at.title[0].value == "Feature maps"
    warnings = "\n".join(w.value for w in at.warning)
    assert "Ignored `image=123456`" in warnings and "Ignored `layer=nope`" in warnings
    assert counter(at) == "**1 / 1** · Bad values"


def test_leave_the_lecture_drops_the_bar(env):
    at = follow(app(LECTURE, slide="2").run())
    at = at.button(key="lecture_leave").click().run()
    assert not at.exception and "slide" not in at.query_params
    assert not at.get("stElementContainer") or not [m for m in at.markdown if " / 18" in m.value]


def test_add_this_view_captures_the_page_and_its_link_state(env):
    at = app("pages/1_Feature_maps.py", image="12", layer="block3.conv3", channel="17", present="1").run()
    assert not at.exception
    at = at.button(key="lecture_add").click().run()
    deck = at.session_state[DECK_KEY]
    assert len(deck) == len(DECK) + 1
    added = deck.slides[-1]
    assert added.page == "Feature_maps"
    assert added.state == {"image": "12", "layer": "block3.conv3", "channel": "17"}  # not present=
    assert f"Added as slide {len(DECK) + 1}" in "\n".join(s.value for s in at.sidebar.success)
    # The home page is "Home", so a deck file names it readably.
    at = app("dashboard.py", image="7").run().button(key="lecture_add").click().run()
    assert at.session_state[DECK_KEY].slides[-1].page == "Home"


def test_reorder_delete_download_and_reset(env):
    at = app(LECTURE).run()
    assert not at.exception
    assert "Start the lecture" in [b.label for b in at.button]
    at = at.button(key="lecture_down_0").click().run()
    deck = at.session_state[DECK_KEY]
    assert deck.slides[:2] == (DECK.slide(2), DECK.slide(1))
    at = at.button(key="lecture_delete_0").click().run()
    deck = at.session_state[DECK_KEY]
    assert len(deck) == len(DECK) - 1 and deck.slides[0] == DECK.slide(1)
    at = at.button(key="lecture_up_1").click().run()
    assert at.session_state[DECK_KEY].slides[:2] == (DECK.slide(3), DECK.slide(1))
    labels = [d.proto.label for d in at.get("download_button")]
    assert labels == ["Download the deck (.toml)", HANDOUT_LABEL]
    at = at.button(key="lecture_reset").click().run()
    assert at.session_state[DECK_KEY] == DECK
    at = at.button(key="lecture_empty").click().run()
    assert len(at.session_state[DECK_KEY]) == 0 and "The deck is empty" in "\n".join(i.value for i in at.info)


def test_download_is_the_deck_file_and_opening_it_restores_the_deck(env):
    mine = Deck((Slide("One", "Feature_maps", {"image": "3", "layer": "block2.relu2"}, "Say it."),), "Mine")
    at = app(LECTURE)
    at.session_state[DECK_KEY] = mine
    at = at.run()
    assert parse_deck(dump_deck(at.session_state[DECK_KEY]).encode()) == mine
    at = at.button(key="lecture_reset").click().run()
    at = at.file_uploader(key="lecture_upload").set_value(("mine.toml", dump_deck(mine).encode(),
                                                             "application/toml")).run()
    assert not at.exception
    assert at.session_state[DECK_KEY] == mine
    assert "Opened `mine.toml`: 1 slides." in "\n".join(s.value for s in at.success)


@pytest.mark.parametrize("content, reason", [
    (b"not = [toml", "is not valid TOML"),
    (b"x" * 300_000, "too big"),
    (b'[tool.poetry]\nname = "x"', "not a lecture deck"),
    (b'[[slide]]\ntitle = "no page"', "slide 1 has no page"),
])
def test_a_bad_deck_file_gets_one_line_and_the_current_deck_is_kept(env, content, reason):
    at = app(LECTURE).run()
    at = at.button(key="lecture_down_0").click().run()
    before = at.session_state[DECK_KEY]
    at = at.file_uploader(key="lecture_upload").set_value(("bad.toml", content, "application/toml")).run()
    assert not at.exception
    (error,) = at.error
    assert error.value.startswith("`bad.toml` cannot be opened: ") and reason in error.value
    assert error.value.endswith("The current deck is kept.") and "\n" not in error.value
    assert at.session_state[DECK_KEY] == before


def test_exit_presentation_is_on_the_page_not_only_in_the_sidebar(env):
    at = app("pages/1_Feature_maps.py", image="3", present="1").run()
    assert not at.exception
    exit_button = at.button(key="lecture_exit_button")
    assert exit_button not in list(at.sidebar.button)
    at = exit_button.click().run()
    assert not at.exception and "present" not in at.query_params
    assert at.toggle(key="present").value is False
    assert not [b for b in at.button if b.key == "lecture_exit_button"]


def test_the_confusion_cell_of_the_deck_opens_drilled_down(env):
    at = app("dashboard.py", image="8324", true="cat", pred="dog").run()
    assert not at.exception
    assert at.selectbox(key="home_true").value == "cat" and at.selectbox(key="home_pred").value == "dog"
    assert "**73 images** match" in texts(at)  # the cat → dog cell


@pytest.mark.parametrize("number", range(1, len(DECK) + 1))
def test_every_slide_of_the_shipped_deck_is_accepted_by_its_page(env, number):
    slide = DECK.slide(number)
    page = page_files()[slide.page]
    at = app(page, **slide.state, slide=str(number)).run()
    assert not at.exception, at.exception
    warnings = "\n".join(w.value for w in at.warning)
    assert "Ignored" not in warnings, warnings
    assert "slide" not in errors(at)  # (the heat-map page shows a mistake as an error: that is its content)
    assert {k: at.query_params[k] for k in slide.state} == slide.state  # the page took every value
    assert counter(at) == f"**{number} / {len(DECK)}** · {slide.title}"


def test_own_deck_slides_say_so_after_a_reload_ends_the_session(env):
    mine = Deck((Slide("Mine 1", "Feature_maps", {"image": "3"}), Slide("Mine 2", "Home", {"image": "4"})))
    at = app(LECTURE, slide="2")
    at.session_state[DECK_KEY] = mine
    at = at.run()
    assert not at.exception and at.query_params["deck"] == "own" and at.query_params["image"] == "4"
    # A reload: a new session (no deck of its own) opens the same URL.
    again = app("dashboard.py", **{k: at.query_params[k] for k in at.query_params}).run()
    assert not again.exception
    assert "Your own deck was in the browser session that a reload ended" in errors(again)
    assert counter(again).startswith("**– / 0**")
    lecture = app(LECTURE, slide="2", deck="own").run()
    assert not lecture.exception and lecture.title[0].value == "Lecture"  # not the shipped deck's slide 2
    assert "reload ended" in errors(lecture)


def test_speaker_notes_are_in_the_sidebar_except_when_presenting(env):
    at = follow(app(LECTURE, slide="11").run())
    (notes,) = [e for e in at.sidebar.expander if e.label == "Speaker notes, slide 11"]
    assert "3613" in "\n".join(m.value for m in notes.markdown)
    at = follow(app(LECTURE, slide="11", present="1").run())
    assert not [e for e in at.sidebar.expander if e.label.startswith("Speaker notes")]


def test_a_played_slide_leaves_its_picture_for_the_handout(env):
    """Playing slide 15 (the heat-map pair) keeps that page's slide builder for the PDF handout."""
    import io

    from PIL import Image

    slide = DECK.slide(15)
    at = app(page_files()[slide.page], **slide.state, slide="15").run()
    assert not at.exception
    pictures = at.session_state[SLIDE_PICTURES_KEY]
    assert list(pictures) == [(15, slide.title)]
    png = pictures[(15, slide.title)]()
    assert Image.open(io.BytesIO(png)).size == (1920, 1080)
