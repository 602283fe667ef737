"""한국어 / English (issue 15): the catalog, the per-session language, links, decks and slides.

The walk runs each translated page with ``lang=ko`` on the real checkpoint and test set and fails
on any readable text that is an English source text of the catalog (verbatim) or holds a run of
three or more English words (so a newly merged, untranslated string is caught too).
"""

from __future__ import annotations

import io
import re
import warnings

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from data.deck import Deck, Slide, dump_deck, parse_deck
from locales import CLASSES_KO, catalog, class_name, fields, parse_lang, translate
from locales.extract import source_texts
from tests.conftest import PROJECT
from tests.i18n_walk import english_runs, visible_texts
from tests.test_present import page_app

HANGUL = re.compile("[가-힣]")
# Pages whose every text goes through the catalog. The others are still English (README, 한국어).
TRANSLATED = ["dashboard.py", "pages/7_Lecture.py", "pages/5_Convolution_playground.py", "pages/1_Feature_maps.py",
              "pages/4_Prediction_heatmaps.py", "pages/2_Semantic_map.py", "pages/3_1x1_weights.py",
              "pages/8_Channel.py", "pages/6_Shapes_and_parameters.py"]
# A second state of some pages, with texts the default state does not show.
OTHER_STATES = [("pages/2_Semantic_map.py", {"concepts": "1", "layer": "block2.relu3"}),
                ("pages/3_1x1_weights.py", {"layer": "block2.conv3", "channel": "5"}),
                ("pages/8_Channel.py", {"layer": "block1.relu1", "channel": "3"})]
# Catalog entries whose Korean is the English (names).
SAME_IN_KOREAN: set[str] = set()


def run(page: str, **params) -> AppTest:
    """``page`` run from the entry point (as the app runs it), with ``params`` in its URL."""
    at = page_app(page, **params).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# --- The catalog ----------------------------------------------------------------------------------

def test_every_text_of_the_code_has_a_korean_translation_with_the_same_placeholders():
    texts, ko = source_texts(), catalog("ko")
    assert len(texts) > 100
    assert sorted(set(texts) - set(ko)) == [], "run python -m locales.extract"
    assert sorted(set(ko) - set(texts)) == [], "entries no code uses any more"
    assert {t: (fields(t), fields(ko[t])) for t in texts if fields(t) != fields(ko[t])} == {}
    untranslated = [t for t in texts if not HANGUL.search(ko[t]) and t not in SAME_IN_KOREAN]
    assert untranslated == []


def test_lookup_fills_placeholders_and_formats_numbers_the_same_way():
    assert translate("on {count:,} test images", "en", count=10000) == "on 10,000 test images"
    assert translate("on {count:,} test images", "ko", count=10000) == "테스트 이미지 10,000장 기준"
    en = translate("CIFAR-10 test set: {accuracy:.2%} top-1 accuracy", "en", accuracy=0.9113)
    ko = translate("CIFAR-10 test set: {accuracy:.2%} top-1 accuracy", "ko", accuracy=0.9113)
    assert "91.13%" in en and "91.13%" in ko
    assert translate("not in the catalog", "ko") == "not in the catalog"


def test_class_names_and_language_codes():
    assert [class_name(c, "ko") for c in CLASSES_KO] == ["비행기", "자동차", "새", "고양이", "사슴", "개", "개구리",
                                                          "말", "배", "트럭"]
    assert class_name("cat", "en") == "cat"
    assert parse_lang("ko-KR") == "ko" and parse_lang("EN_us") == "en"
    for bad in ("xx", "", "fr-FR"):
        with pytest.raises(ValueError):
            parse_lang(bad)


def test_the_english_run_detector_finds_untranslated_text():
    # A detector that cannot fail proves nothing.
    assert english_runs("No test image matches these filters.")
    assert english_runs("테스트 이미지 `a b c d` CIFAR-10, ReLU, Grad-CAM") == []


# --- Pages in Korean ------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize(("page", "params"), [(p, {}) for p in TRANSLATED] + OTHER_STATES)
def test_a_page_in_korean_shows_no_english_text(page, params):
    at = run(page, lang="ko", **params)
    shown = visible_texts(at)
    english = {t for t, k in catalog("ko").items() if k != t and t not in SAME_IN_KOREAN and len(t) > 1}
    assert any(HANGUL.search(t) for t in shown)
    assert sorted({t for t in shown if t.strip() in english}) == []
    assert [(t[:80], english_runs(t)) for t in shown if english_runs(t)] == []


@pytest.mark.slow
def test_the_same_page_in_english_is_caught_by_the_walk():
    shown = visible_texts(run("dashboard.py"))
    english = set(catalog("ko"))
    assert "Model card" in shown and {t for t in shown if t in english}


@pytest.mark.slow
def test_two_sessions_in_different_languages_do_not_leak():
    ko, en = (AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=120) for _ in range(2))
    ko.query_params["lang"] = "ko"
    ko.run()
    en.run()
    ko.run()  # again, after the English session ran in the same process
    assert [h.value for h in ko.header][0] == "모델 카드"
    assert [h.value for h in en.header][0] == "Model card"
    assert not any(HANGUL.search(t) for t in visible_texts(en) if "한국어" not in t)


@pytest.mark.slow
def test_lang_round_trips_through_the_share_link():
    at = run("dashboard.py", lang="ko", image="3613")
    (code,) = at.sidebar.code
    query = dict(pair.split("=", 1) for pair in code.value.split("?", 1)[1].split("&"))
    assert query["lang"] == "ko" and query["image"] == "3613"
    again = run("dashboard.py", **query)
    assert again.header[0].value == "모델 카드"
    assert again.segmented_control(key="lang_switch").value == "ko"


@pytest.mark.slow
def test_the_sidebar_switch_changes_the_language_and_english_links_stay_as_they_were():
    at = run("dashboard.py")
    assert at.header[0].value == "Model card" and "lang" not in at.query_params
    at.segmented_control(key="lang_switch").set_value("ko").run()
    assert not at.exception
    assert at.header[0].value == "모델 카드" and at.query_params["lang"] == "ko"


@pytest.mark.slow
def test_an_unknown_lang_is_reported_in_one_line_and_english_kept():
    at = run("dashboard.py", lang="xx")
    (warning,) = [w.value for w in at.warning]
    assert "lang=xx" in warning and "\n" not in warning
    assert at.header[0].value == "Model card"


# --- Decks ----------------------------------------------------------------------------------------

def test_a_deck_keeps_its_language_and_korean_titles_and_notes():
    deck = Deck((Slide("Block 1: strokes", "Feature_maps", {"image": "3613", "lang": "ko"}, "Say this.",
                       "블록 1: 획", "이렇게 말하세요."),), "A deck", "덱", "ko")
    again = parse_deck(dump_deck(deck).encode())
    assert again == deck
    assert again.slide(1).title_in("ko") == "블록 1: 획" and again.slide(1).title_in("en") == "Block 1: strokes"
    assert again.slide(1).notes_in("ko") == "이렇게 말하세요." and again.title_in("ko") == "덱"


def test_a_deck_with_an_unknown_language_is_refused_in_one_line():
    from data.deck import DeckError

    with pytest.raises(DeckError, match="lang") as err:
        parse_deck(b'lang = "xx"\n[[slide]]\npage = "Home"\n')
    assert "\n" not in str(err.value)


def test_the_shipped_deck_has_korean_titles_and_notes_for_every_slide():
    from data.deck import load_default_deck

    deck = load_default_deck()
    assert HANGUL.search(deck.title_in("ko"))
    for slide in deck.slides:
        assert HANGUL.search(slide.title_in("ko")), slide.title
        assert not slide.notes or HANGUL.search(slide.notes_in("ko")), slide.title


@pytest.mark.slow
def test_a_view_added_in_korean_records_its_language_in_the_deck():
    at = run("dashboard.py", lang="ko", image="3613")
    at.button(key="lecture_add").click().run()
    from ui.lecture import DECK_KEY

    deck = at.session_state[DECK_KEY]
    assert deck.slides[-1].state.get("lang") == "ko"
    assert parse_deck(dump_deck(deck).encode()).slides[-1].state["lang"] == "ko"


# --- Slides ---------------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_korean_slide_renders_hangul_with_no_missing_glyphs():
    from matplotlib import font_manager

    at = run("dashboard.py", lang="ko", image="3613")
    build = at.session_state["_export_export_home"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = build()
    glyphs = [str(w.message) for w in caught if "Glyph" in str(w.message) or "missing from" in str(w.message)]
    assert glyphs == []
    assert Image.open(io.BytesIO(png)).size == (1920, 1080)
    found = font_manager.findfont(font_manager.FontProperties(family="NanumGothic"), fallback_to_default=False)
    assert found.endswith("NanumGothic.ttf")


def test_the_navigation_css_constant_is_what_the_catalog_gives():
    from ui.i18n import NAV_CSS_KO, _nav_css

    assert NAV_CSS_KO == _nav_css("ko")
    assert 'content: "특징 맵"' in NAV_CSS_KO


# --- Channel names in both languages --------------------------------------------------------------

def test_every_starter_name_has_a_korean_name():
    from model.names import load_names, starter_path, starter_translation_path

    checkpoint = PROJECT / "model" / "checkpoint.pt"
    starter, ko = load_names(starter_path(checkpoint)), load_names(starter_translation_path(checkpoint, "ko"))
    assert {layer: set(chans) for layer, chans in ko.items()} == {layer: set(chans) for layer, chans in starter.items()}
    assert all(HANGUL.search(name) for chans in ko.values() for name in chans.values())


def test_a_starter_name_is_shown_translated_and_a_typed_name_as_typed():
    from model.names import names_in, stored_name

    starter, ko = {"b": {"1": "dog face", "2": "cat face"}}, {"b": {"1": "개 얼굴", "2": "고양이 얼굴"}}
    names = {"b": {"1": "dog face", "2": "whiskers", "3": "grass"}}
    assert names_in(names, starter, ko) == {"b": {"1": "개 얼굴", "2": "whiskers", "3": "grass"}}
    assert stored_name("개 얼굴", "b", 1, starter, ko) == "dog face"
    assert stored_name("whiskers", "b", 2, starter, ko) == "whiskers"


@pytest.mark.slow
def test_a_korean_session_shows_korean_starter_names_and_saves_over_them(page_env):
    import shutil

    from model.names import load_names, names_path, starter_path, starter_translation_path

    checkpoint = PROJECT / "model" / "checkpoint.pt"
    for path in (starter_path(checkpoint), starter_translation_path(checkpoint, "ko")):
        shutil.copyfile(path, page_env.parent / path.name.replace(checkpoint.stem, page_env.stem, 1))
    ko = load_names(starter_translation_path(checkpoint, "ko"))["block3.relu3"]
    at = run("pages/2_Semantic_map.py", lang="ko", channel="116")
    assert at.text_input(key="sm_name").value == ko["116"] == "풀밭의 동물"
    assert ko["116"] in " ".join(visible_texts(at))
    at.text_input(key="sm_name").set_value("풀밭 위 동물")
    at.button(key="sm_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert load_names(names_path(page_env))["block3.relu3"]["116"] == "풀밭 위 동물"
    english = run("pages/2_Semantic_map.py", lang="en", channel="17")
    assert english.text_input(key="sm_name").value == "dog face"


# --- Errors of the data layer, said in the session's language -------------------------------------

def test_deck_upload_and_download_errors_read_in_korean_and_stay_english_in_english():
    from data.deck import DeckError
    from data.download import Progress
    from data.uploads import UploadError, decode_upload
    from locales import message_in

    with pytest.raises(DeckError) as deck_err:
        parse_deck(b'[[slide]]\ntitle = 3\npage = "Home"\n')
    assert str(deck_err.value) == "slide 1's title must be text in quotes, not int"
    assert message_in(deck_err.value, "ko") == "슬라이드 1의 title는 따옴표 안의 텍스트여야 합니다 (int가 아니라)"
    with pytest.raises(UploadError) as upload_err:
        decode_upload(b"", "empty.png")
    assert str(upload_err.value) == "The file is empty (0 bytes); upload a PNG, JPEG, WebP or GIF photo."
    assert message_in(upload_err.value, "ko") == (
        "파일이 비어 있습니다 (0바이트). PNG, JPEG, WebP 또는 GIF 사진을 올리세요.")
    assert message_in(ValueError("plain"), "ko") == "plain"
    progress = Progress("download", 2 * 2**20, 4 * 2**20, 30.0, "example.org")
    assert progress.text("ko") == "2.0 / 4.0 MB · 약 30초 남음" and progress.text() == "2.0 / 4.0 MB · about 30 s left"

