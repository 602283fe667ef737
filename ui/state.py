"""One current image for all pages (a test image or the user's own photo), and page state
mirrored in the URL.

A link such as ``?image=1234&layer=block3.conv3&channel=17`` reopens the same view. A value
in the URL wins when it is new (a bookmark, an edited link); otherwise the session's own
state is kept, so switching pages (which drops the query string) loses nothing. Bad values
are ignored with a visible notice.

An uploaded photo lives only in this browser session (``st.session_state[UPLOAD_KEY]``, an
:class:`data.uploads.UploadedImage`); it is never written to disk and never put in a link:
while it is current the URL keeps the last test image's number, and the sidebar says so.
Tests may put an ``UploadedImage`` under ``UPLOAD_KEY`` and ``SOURCE_KEY = PHOTO`` before a
run; that is exactly the state a real upload leaves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from data.uploads import EXTENSIONS, MAX_BYTES, UploadedImage, UploadError, decode_upload
from explain.browse import mark
from locales import known
from render.common import display_pixels, thumbnail
from ui import i18n
from ui.resources import Context
from ui.text import code, literal

IMAGE_KEY = "current_image"  # official test index of the current (or last) test image
UPLOAD_KEY = "uploaded_image"  # the session's UploadedImage, if any
SOURCE_KEY = "image_source"  # TEST or PHOTO: which of the two is current
TEST, PHOTO = known("Test image"), known("Your photo")
NO_LABEL = known("no label (your photo)")
_SEEN_FILE = "_upload_seen_file"  # file_id of the uploader's file already decoded
_UPLOAD_ERROR = "_upload_error"  # (file_id, message) of a refused file
_LAST_URL = "_last_url_values"
MAX_PARAM_LENGTH = 64


def _notice(param: str, raw: str, why: str) -> None:
    # The value goes inside a Markdown code span, shown literally (ui.text.code copes with
    # backticks; line breaks become spaces).
    flat = " ".join(raw.split())
    shown = flat if len(flat) <= 40 else flat[:40] + "…"
    st.warning(i18n.tr("Ignored {value} in the link: {why}.", value=code(f"{param}={shown}"), why=i18n.tr(why)),
               icon="⚠️")


def _url_value(param: str) -> str | None:
    """The URL's value for ``param`` if it is new since this session last wrote the URL."""
    raw = st.query_params.get(param)
    if raw is None:
        return None
    last = st.session_state.setdefault(_LAST_URL, {})
    if last.get(param) == raw:
        return None
    last[param] = raw
    return raw


def adopt_url_value(param: str, state_key: str, parse: Callable[[str], Any], why: str) -> bool:
    """Copy a new, valid URL value into ``st.session_state[state_key]``; warn about a bad one.
    True if a value was adopted."""
    raw = _url_value(param)
    if raw is None:
        return False
    if len(raw) > MAX_PARAM_LENGTH:
        _notice(param, raw, known("the value is too long"))
        return False
    try:
        value = parse(raw)
    except (ValueError, TypeError, KeyError):
        _notice(param, raw, why)
        return False
    st.session_state[state_key] = value
    return True


def write_url(**values: Any) -> None:
    """Mirror the page's state in the URL (and remember it, so it is not re-adopted)."""
    last = st.session_state.setdefault(_LAST_URL, {})
    for key, value in values.items():
        text = str(value)
        last[key] = text
        if st.query_params.get(key) != text:
            st.query_params[key] = text


def drop_url(*keys: str) -> None:
    """Remove ``keys`` from the URL (and forget them, so a later link with them is adopted)."""
    last = st.session_state.setdefault(_LAST_URL, {})
    for key in keys:
        last.pop(key, None)
        if key in st.query_params:
            del st.query_params[key]


def url_state(key: str, default: Any, *, param: str | None = None, parse: Callable[[str], Any] | None = None,
              why: str = "", valid: Callable[[Any], bool] | None = None) -> Any:
    """The value a :func:`url_widget` starts from, for a page that needs it before drawing the
    widget (e.g. Previous/Next buttons above a slider): a new valid URL value for ``param``, else
    the value kept for ``key``, else ``default`` (also when the kept value is no longer ``valid``)."""
    if param is not None:
        adopt_url_value(param, key, parse or str, why)
    if key not in st.session_state or (valid is not None and not valid(st.session_state[key])):
        st.session_state[key] = default
    return st.session_state[key]


def url_widget(widget: Callable[..., Any], label: str, *, key: str, default: Any, param: str | None = None,
               parse: Callable[[str], Any] | None = None, why: str = "",
               valid: Callable[[Any], bool] | None = None, to_url: Callable[[Any], str] = str,
               **kwargs: Any) -> Any:
    """Draw ``widget(label, key=key, **kwargs)`` (e.g. ``st.selectbox`` or a column's ``radio``) as
    the one kind of widget every page uses: kept across pages and while hidden by Streamlit's own
    ``persist_state="session"``, starting at ``default`` (and back to it when the kept value is no
    longer ``valid``, e.g. channel 100 after switching to a 64-channel layer), and, with ``param``,
    mirrored in the URL: a new URL value that ``parse`` accepts wins (a bad one is ignored with a
    notice saying ``why``), and the widget's value is written back as ``to_url(value)``.
    Returns the widget's value."""
    url_state(key, default, param=param, parse=parse, why=why, valid=valid)
    value = widget(label, key=key, persist_state="session", **kwargs)
    if param is not None:
        write_url(**{param: to_url(value)})
    return value


def url_tabs(labels: Mapping[str, str], *, key: str, param: str, why: str) -> dict[str, Any]:
    """``st.tabs`` whose open tab is kept like a :func:`url_widget`'s value: under ``key`` (its slug,
    a key of ``labels``, which maps slugs to the shown labels; the first is the default) and in the
    URL as ``param`` (a bad value is ignored with a notice saying ``why``). Returns slug → tab.

    A page draws only the open tab's content (``if tabs[slug].open``): a click in one tab then does
    not make the browser redraw the other (heat-map page: a new image 192 -> 172 ms)."""
    slugs = list(labels)
    slug = url_state(key, slugs[0], param=param, parse=parse_choice(slugs), why=why)
    shown = f"{key}_tab"  # the tabs' own state: a label, in the session's language
    st.session_state[shown] = labels[slug]

    def switched() -> None:
        st.session_state[key] = next((s for s, label in labels.items() if label == st.session_state[shown]),
                                     slugs[0])

    tabs = st.tabs(list(labels.values()), key=shown, on_change=switched)
    write_url(**{param: slug})
    return dict(zip(slugs, tabs))


def parse_choice(options: Sequence[str]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in options:
            raise ValueError(raw)
        return raw
    return parse


def parse_int_in(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw.strip())
        if not low <= value <= high:
            raise ValueError(raw)
        return value
    return parse


@dataclass(frozen=True, eq=False)
class CurrentImage:
    """The image every page shows: a test image or the user's photo."""

    key: str                      # "test-1234" or "upload-<sha256 of the file>": cache key for results
    pixels: np.ndarray            # uint8 32×32×3, exactly what the network gets
    title: str                    # "test #1234 (cat)" / "your photo: house.jpg"
    truth: int | None             # true class index; None for a photo (nobody labelled it)
    test_index: int | None        # official test index; None for a photo
    upload: UploadedImage | None = None

    @property
    def is_upload(self) -> bool:
        return self.upload is not None

    @property
    def name(self) -> str:
        """Short name for running text: "test #1234" or "your photo"."""
        return i18n.tr("your photo") if self.test_index is None else i18n.tr("test #{index}", index=self.test_index)

    @property
    def long_name(self) -> str:
        """For headings: "test image #1234" or "your photo (house.jpg)"."""
        return (i18n.tr("your photo ({name})", name=self.upload.name) if self.upload
                else i18n.tr("test image #{index}", index=self.test_index))

    def truth_name(self, classes: Sequence[str]) -> str:
        return i18n.tr(NO_LABEL) if self.truth is None else i18n.cls(classes[self.truth])

    def verdict(self, classes: Sequence[str], probabilities: np.ndarray, say_truth: bool = True) -> str:
        """The one line (Markdown) that says what the network made of this image, everywhere:
        "true cat · :red[✗ predicted dog (61%)]" (without "true cat · " where a caption already
        says it), or for a photo "predicted dog (61%) · no true label"."""
        guess = int(np.argmax(probabilities))
        said = i18n.tr("predicted **{name}** ({p:.0%})", name=i18n.cls(classes[guess]), p=float(probabilities[guess]))
        if self.truth is None:
            return f"{said} · {i18n.tr('no true label')}"
        right = guess == self.truth
        truth = i18n.tr("true **{name}** · ", name=i18n.cls(classes[self.truth])) if say_truth else ""
        return f"{truth}:{'green' if right else 'red'}[{mark(right)} {said}]"


def image_index_parser(ctx: Context) -> tuple[Callable[[str], int], int, int]:
    """(parse, lowest, highest): ``parse`` reads a URL's test-image index and refuses one that the
    test set does not have (ValueError)."""
    indices = ctx.split.indices

    def parse(raw: str) -> int:
        value = int(raw.strip())
        if ctx.split.position_of(value) is None:
            raise ValueError(raw)
        return value

    return parse, int(indices.min()), int(indices.max())


def current_test_index(ctx: Context) -> int:
    """The current (or last) test image's official index, adopted from the URL if new and valid.
    A new ``image=`` in the URL also makes the test image current again."""
    parse, lo, hi = image_index_parser(ctx)
    if adopt_url_value("image", IMAGE_KEY, parse, i18n.tr("test images are numbered {lo}–{hi}", lo=lo, hi=hi)):
        st.session_state[SOURCE_KEY] = TEST
    if IMAGE_KEY not in st.session_state or ctx.split.position_of(st.session_state[IMAGE_KEY]) is None:
        st.session_state[IMAGE_KEY] = lo
    return int(st.session_state[IMAGE_KEY])


def set_current_image(index: int) -> None:
    """Make test image ``index`` current (e.g. a "Show" button)."""
    st.session_state[IMAGE_KEY] = int(index)
    st.session_state[SOURCE_KEY] = TEST


def set_uploaded_image(upload: UploadedImage) -> None:
    """Make the user's photo current (kept for this session only)."""
    st.session_state[UPLOAD_KEY] = upload
    st.session_state[SOURCE_KEY] = PHOTO


def from_test_set(ctx: Context, index: int) -> CurrentImage:
    pos = ctx.split.position_of(index)
    truth = int(ctx.split.labels[pos])
    title = i18n.tr("test #{index} ({name})", index=index, name=i18n.cls(ctx.classes[truth]))
    return CurrentImage(f"test-{index}", ctx.split.images[pos], title,
                        truth, int(index))


def from_photo(upload: UploadedImage) -> CurrentImage:
    return CurrentImage(upload.key, upload.pixels, i18n.tr("your photo: {name}", name=upload.name), None, None,
                        upload)


def current_image(ctx: Context) -> CurrentImage:
    """The current image without drawing anything (the sidebar draws the controls)."""
    index = current_test_index(ctx)
    upload = st.session_state.get(UPLOAD_KEY)
    if st.session_state.get(SOURCE_KEY) == PHOTO and isinstance(upload, UploadedImage):
        return from_photo(upload)
    return from_test_set(ctx, index)


def _take_upload(file) -> None:
    """Decode a file new in the uploader: it becomes current, or its error is kept to show."""
    if file is None or st.session_state.get(_SEEN_FILE) == file.file_id:
        return
    st.session_state[_SEEN_FILE] = file.file_id
    st.session_state.pop(_UPLOAD_ERROR, None)
    try:
        with st.spinner(i18n.tr("Reading your photo…")):
            set_uploaded_image(decode_upload(file.getvalue(), file.name))
    except UploadError as exc:
        st.session_state[_UPLOAD_ERROR] = (file.file_id, i18n.said(exc))


def _forget_upload() -> None:
    st.session_state.pop(UPLOAD_KEY, None)
    st.session_state[SOURCE_KEY] = TEST


def image_sidebar(ctx: Context) -> CurrentImage:
    """Sidebar controls for the current image (shared by every page); returns it."""
    index = current_test_index(ctx)
    indices = ctx.split.indices
    bar = st.sidebar

    with bar.expander(i18n.tr("Your photo (upload)"), expanded=st.session_state.get(SOURCE_KEY) == PHOTO):
        file = st.file_uploader(i18n.tr("Your own photo"), type=list(EXTENSIONS), key="photo_uploader",
                                max_upload_size=MAX_BYTES // (1024 * 1024),  # the browser refuses more
                                help=i18n.tr("PNG, JPEG, WebP or GIF, up to 20 MB. The network sees its centre "
                                             "square at 32×32 pixels. Kept only in this browser session."))
        _take_upload(file)
        error = st.session_state.get(_UPLOAD_ERROR)
        if error and file is not None and error[0] == file.file_id:
            st.error(i18n.tr("This file cannot be used: {reason}", reason=literal(error[1])))
        kept = st.session_state.get(UPLOAD_KEY)
        if isinstance(kept, UploadedImage):
            if file is None:  # the uploader forgets its file on another page; the photo is still here
                shown = ("" if st.session_state.get(SOURCE_KEY) == PHOTO
                         else i18n.tr(" (not shown now: choose “Your photo” below)"))
                st.caption(i18n.tr("Current photo: {name}{shown}. Upload another file to replace it.",
                                   name=code(kept.name), shown=shown))
            st.button(i18n.tr("Remove my photo"), key="photo_forget", on_click=_forget_upload,
                      help=i18n.tr("Forget the photo; the test image becomes current again."))

    upload = st.session_state.get(UPLOAD_KEY)
    if isinstance(upload, UploadedImage):
        if st.session_state.get(SOURCE_KEY) not in (TEST, PHOTO):
            st.session_state[SOURCE_KEY] = TEST
        st.session_state["image_source_picker"] = st.session_state[SOURCE_KEY]

        def switched() -> None:
            st.session_state[SOURCE_KEY] = st.session_state["image_source_picker"]

        bar.radio(i18n.tr("Current image"), (TEST, PHOTO), key="image_source_picker", on_change=switched,
                  horizontal=True, help=i18n.tr("Every page shows this image."), format_func=i18n.translator())

    st.session_state["image_picker"] = index

    def changed() -> None:
        value = int(st.session_state["image_picker"])
        if ctx.split.position_of(value) is not None:
            set_current_image(value)

    bar.number_input(i18n.tr("Test image #"), min_value=int(indices.min()), max_value=int(indices.max()),
                     step=1, key="image_picker", on_change=changed,
                     help=i18n.tr("Official CIFAR-10 test index; every page shows this image."))
    current = current_image(ctx)
    probabilities = ctx.probabilities_of(current.key, current.pixels, current.test_index)
    if current.is_upload:
        up = current.upload
        thumb = thumbnail(up.original, 160)  # any aspect ratio: a 4000×20 banner is a 160×1 strip
        bar.image(thumb, caption=i18n.tr("Your photo: {name} ({w:,}×{h:,})", name=up.name, w=up.size[0], h=up.size[1]),
                  width=thumb.shape[1], output_format="PNG")
        bar.image(display_pixels(current.pixels), width=160, output_format="PNG",
                  caption=i18n.tr("As the network sees it: centre square, 32×32 pixels"))
        bar.markdown(current.verdict(ctx.classes, probabilities))
        for note in up.notes:
            bar.caption(i18n.tr("Note: {note}.", note=note.in_lang(i18n.lang())))
        bar.caption(i18n.tr("Your photo stays in this browser session: it is not saved, and links to this page "
                            "cannot include it (the link's `image={index}` opens test image #{index}).", index=index))
    else:
        bar.image(display_pixels(current.pixels),
                  caption=i18n.tr("#{index}: true {name}", index=index, name=i18n.cls(ctx.classes[current.truth])),
                  width=160, output_format="PNG")
        bar.markdown(current.verdict(ctx.classes, probabilities, say_truth=False))  # the caption says it
    write_url(image=index)
    return current




COMPARE_KEY = "compare_image"  # the second image of a side-by-side comparison (URL compare=N)
PART_KEY = "_slide_part"  # the section of a page a slide is about (URL part=)
SLIDE_SCOPED = {"compare": COMPARE_KEY, "part": PART_KEY}  # URL parameter: state kept only by the slide naming it


def url_part(parts: Sequence[str]) -> str:
    """The page section a lecture slide is about (URL ``part=``, one of ``parts``; the first by
    default, and then not written into the URL). In presentation mode the page tucks the sections
    before it away (:func:`ui.present.tuck_away`), so its figures are on the first screen."""
    part = url_state(PART_KEY, parts[0], param="part", parse=parse_choice(parts),
                     why=f"use part={', '.join(parts)}", valid=lambda value: value in parts)
    if part != parts[0] or "part" in st.query_params:
        write_url(part=part)
    return part


def comparison_label(ctx: Context, shown: CurrentImage) -> str:
    """The title line of an image in a side-by-side comparison: "#3: true cat, predicted dog (61%)"."""
    p = ctx.probabilities_of(shown.key, shown.pixels, shown.test_index)
    guess = int(p.argmax())
    return i18n.tr("#{index}: true {truth}, predicted {guess} ({p:.0%})", index=shown.test_index,
                   truth=shown.truth_name(ctx.classes), guess=i18n.cls(ctx.classes[guess]), p=p[guess])


def compare_sidebar(ctx: Context) -> CurrentImage | None:
    """Sidebar "Compare with test image #" (URL ``compare=N``): a second test image shown beside
    the current one, or None when the box is empty."""
    parse, lo, hi = image_index_parser(ctx)
    url_state(COMPARE_KEY, None, param="compare", parse=parse,
              why=i18n.tr("test images are numbered {lo}–{hi}", lo=lo, hi=hi))
    value = st.sidebar.number_input(i18n.tr("Compare with test image # ({lo}–{hi})", lo=lo, hi=hi),
                                    min_value=lo, max_value=hi, value=None, step=1, key=COMPARE_KEY,
                                    placeholder=i18n.tr("none"),
                                    help=i18n.tr("A second image beside the current one, on the same colour "
                                                 "scale. Empty: no comparison."))
    if value is None:  # cleared: out of the URL, but remembered, so the same link value is not re-adopted
        if "compare" in st.query_params:
            del st.query_params["compare"]
        return None
    write_url(compare=int(value))
    return from_test_set(ctx, int(value))
