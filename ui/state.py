"""One current image for all pages, and page state mirrored in the URL.

A link such as ``?image=1234&layer=block3.conv3&channel=17`` reopens the same view. A value
in the URL wins when it is new (a bookmark, an edited link); otherwise the session's own
state is kept, so switching pages (which drops the query string) loses nothing. Bad values
are ignored with a visible notice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import streamlit as st

from explain.browse import mark
from ui.resources import Context

IMAGE_KEY = "current_image"  # official test index of the current image
_LAST_URL = "_last_url_values"
MAX_PARAM_LENGTH = 64


def _notice(param: str, raw: str, why: str) -> None:
    shown = raw if len(raw) <= 40 else raw[:40] + "…"
    st.warning(f"Ignored `{param}={shown}` in the link: {why}.", icon="⚠️")


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


def adopt_url_value(param: str, state_key: str, parse: Callable[[str], Any], why: str) -> None:
    """Copy a new, valid URL value into ``st.session_state[state_key]``; warn about a bad one."""
    raw = _url_value(param)
    if raw is None:
        return
    if len(raw) > MAX_PARAM_LENGTH:
        _notice(param, raw, "the value is too long")
        return
    try:
        value = parse(raw)
    except (ValueError, TypeError, KeyError):
        _notice(param, raw, why)
        return
    st.session_state[state_key] = value


def write_url(**values: Any) -> None:
    """Mirror the page's state in the URL (and remember it, so it is not re-adopted)."""
    last = st.session_state.setdefault(_LAST_URL, {})
    for key, value in values.items():
        text = str(value)
        last[key] = text
        if st.query_params.get(key) != text:
            st.query_params[key] = text


def keep_widget_value(key: str, default: Any) -> None:
    """Streamlit drops a widget's value when another page is shown; restore the copy kept
    under ``_kept_<key>`` (pages store it after rendering), else ``default``."""
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(f"_kept_{key}", default)


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


def current_image(ctx: Context) -> int:
    """The current image's official test index, adopted from the URL if new and valid."""
    indices = ctx.split.indices
    lo, hi = int(indices.min()), int(indices.max())

    def parse(raw: str) -> int:
        value = int(raw.strip())
        if ctx.split.position_of(value) is None:
            raise ValueError(raw)
        return value

    adopt_url_value("image", IMAGE_KEY, parse, f"test images are numbered {lo}–{hi}")
    if IMAGE_KEY not in st.session_state or ctx.split.position_of(st.session_state[IMAGE_KEY]) is None:
        st.session_state[IMAGE_KEY] = lo
    return int(st.session_state[IMAGE_KEY])


def set_current_image(index: int) -> None:
    st.session_state[IMAGE_KEY] = int(index)


def image_sidebar(ctx: Context) -> int:
    """Sidebar control for the current image (shared by every page); returns its index."""
    index = current_image(ctx)
    indices = ctx.split.indices
    st.session_state["image_picker"] = index

    def changed() -> None:
        value = int(st.session_state["image_picker"])
        if ctx.split.position_of(value) is not None:
            set_current_image(value)

    st.sidebar.number_input("Test image #", min_value=int(indices.min()), max_value=int(indices.max()),
                            step=1, key="image_picker", on_change=changed,
                            help="Official CIFAR-10 test index; every page shows this image.")
    index = current_image(ctx)
    pos = ctx.split.position_of(index)
    label = ctx.classes[int(ctx.split.labels[pos])]
    preds = ctx.predictions()
    guess = ctx.classes[int(preds.predicted[pos])]
    conf = float(preds.confidence[pos])
    st.sidebar.image(image_pixels(ctx, index), caption=f"#{index}: true {label}", width=160,
                     output_format="PNG")
    colour = "green" if guess == label else "red"
    st.sidebar.markdown(f":{colour}[{mark(guess == label)} predicted **{guess}** ({conf:.0%})]")
    write_url(image=index)
    return index


def image_pixels(ctx: Context, index: int, size: int = 256) -> np.ndarray:
    """The image upscaled with nearest-neighbour (pixels stay honest)."""
    from explain.figures import upscale

    img = ctx.split.images[ctx.split.position_of(index)]
    return upscale(img, max(1, size // img.shape[0]))
