"""Lecture decks (data/deck.py): reading, writing, and every way a file can be refused."""

from __future__ import annotations

import pytest

from data.deck import (
    DEFAULT_DECK,
    MAX_BYTES,
    MAX_SLIDES,
    Deck,
    DeckError,
    Slide,
    dump_deck,
    load_default_deck,
    parse_deck,
)

GOOD = b'''
title = "Test deck"

[[slide]]
title = "Block 1"
page = "Feature_maps"
notes = """Say this."""
[slide.state]
image = 12
layer = "block1.relu1"

[[slide]]
page = "Home"
'''


def test_a_hand_written_deck_reads_with_defaults():
    deck = parse_deck(GOOD)
    assert deck.title == "Test deck" and len(deck) == 2
    first, second = deck.slides
    assert first == Slide("Block 1", "Feature_maps", {"image": "12", "layer": "block1.relu1"}, "Say this.")
    assert second == Slide("Slide 2", "Home", {}, "") and second.is_home
    assert deck.slide(2) is second
    with pytest.raises(IndexError):
        deck.slide(3)
    with pytest.raises(IndexError):
        deck.slide(0)


def test_dump_then_parse_is_the_same_deck_even_with_awkward_text():
    awkward = Deck((
        Slide("Quotes \" and \\ and ''' and\ttab", "1x1_weights", {"kernel": "vertical edge", "n": "007",
                                                                    "pos": "12", "neg": "-3"},
              "Line one\nline 'two' ends with a quote'"),
        Slide("Notes with ''' inside", "", {}, "a\n'''\nb"),
        Slide("Control \x7f\x01 and ünïcödé ✓", "Semantic_map", {"x": "ü"}, "multi\nline\nnotes"),
    ), "Deck \"title\"")
    text = dump_deck(awkward)
    assert parse_deck(text.encode()) == awkward
    assert "notes = '''\nmulti\nline\nnotes'''" in text  # readable multi-line notes when possible
    assert "pos = 12" in text and 'n = "007"' in text  # numbers stay numbers; "007" stays text


def test_the_shipped_deck_round_trips_and_follows_the_lecture():
    deck = load_default_deck()
    assert DEFAULT_DECK.name == "lecture.toml"
    assert parse_deck(dump_deck(deck).encode()) == deck
    assert len(deck) >= 12
    titles = " ".join(s.title for s in deck.slides)
    for section in ("§1", "§2", "§3", "§4", "§5", "§6", "§7"):
        assert section in titles
    assert all(s.notes for s in deck.slides), "every slide has speaker notes"


@pytest.mark.parametrize("data, reason", [
    (b"x" * (MAX_BYTES + 1), "too big"),
    (b"\xff\xfe\x00binary", "not text"),
    (b"[[slide]\npage = 1", "not valid TOML"),
    (b'title = "only a title"', "no slides"),
    (b"slide = []", "no slides"),
    (b'slide = "x"', "list of tables"),
    (b'[tool.ruff]\nline-length = 110\n', "not a lecture deck: unknown key 'tool'"),
    (b'[[slide]]\ntitle = "x"', "slide 1 has no page"),
    (b'[[slide]]\npage = "Feature_maps"\ncolour = "red"', "unknown key 'colour'"),
    (b'[[slide]]\npage = 3', "page must be text"),
    (b'[[slide]]\npage = "../../etc/passwd"', "not a page name"),
    (b'[[slide]]\npage = "Home"\ntitle = """two\nlines"""', "title must be one line"),
    (b'[[slide]]\npage = "Home"\nstate = 5', "table of page settings"),
    (b'[[slide]]\npage = "Home"\n[slide.state]\nimage = 1.5', "image must be text or a whole number"),
    (b'[[slide]]\npage = "Home"\n[slide.state]\nimage = true', "image must be text or a whole number"),
    (b'[[slide]]\npage = "Home"\n[slide.state]\nimage = [1]', "image must be text or a whole number"),
    (b'[[slide]]\npage = "Home"\n[slide.state]\n"bad key" = 1', "setting named 'bad key'"),
    (b'[[slide]]\npage = "Home"\n[slide.state]\nlayer = "' + b"x" * 300 + b'"', "one short line"),
    (b'[[slide]]\npage = "Home"\nnotes = "' + b"x" * 5000 + b'"', "notes is too long"),
])
def test_a_bad_file_is_refused_with_a_one_line_reason(data, reason):
    with pytest.raises(DeckError, match=reason) as info:
        parse_deck(data)
    assert "\n" not in str(info.value)


def test_too_many_slides():
    data = b'[[slide]]\npage = "Home"\n' * (MAX_SLIDES + 1)
    with pytest.raises(DeckError, match=f"{MAX_SLIDES + 1} slides; at most {MAX_SLIDES}"):
        parse_deck(data)


def test_an_unknown_page_name_is_kept_for_the_player_to_report():
    # A deck from another version of the app may name a page this one lacks: the other slides
    # still play, and the player says what is wrong in that slide's place.
    deck = parse_deck(b'[[slide]]\npage = "No_such_page"\n[[slide]]\npage = "Home"')
    assert [s.page for s in deck.slides] == ["No_such_page", "Home"]


def test_a_missing_default_deck_is_a_deck_error(tmp_path):
    with pytest.raises(DeckError, match="cannot read nothing.toml"):
        load_default_deck(tmp_path / "nothing.toml")
