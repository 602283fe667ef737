"""The shared channel (and NMF concept) names on a page: read them (channel names start from the
names shipped with the checkpoint) and save one, with model.names' protection against overwriting
another browser's name. Used by the Semantic map and the Channel atlas."""

from __future__ import annotations

import streamlit as st

from model.names import (
    NameConflict,
    NamesFileError,
    concept_key,
    concept_names_path,
    load_names,
    names_path,
    seed_names,
    set_name,
    starter_path,
)
from ui.resources import Context
from ui.text import literal


def load_channel_names(ctx: Context) -> dict[str, dict[str, str]]:
    """{layer: {"17": name}} from the names file beside the checkpoint; a broken file is a warning
    in the page and no names."""
    names_file = names_path(ctx.card.path)  # never from the browser (tests/test_security.py)
    seed_names(names_file, starter_path(ctx.card.path))  # the names shipped with the checkpoint
    try:
        return load_names(names_file)
    except NamesFileError as exc:
        st.warning(f"Channel names are not shown: {literal(exc)}")
        return {}


def load_concept_names(ctx: Context, layer: str, k: int) -> dict[int, str]:
    """{concept: name} of the ``k`` concepts of ``layer`` for this checkpoint; a broken file is a
    warning in the page and no names."""
    concept_file = concept_names_path(ctx.card.path)  # never from the browser (tests/test_security.py)
    try:
        names = load_names(concept_file)
    except NamesFileError as exc:
        st.warning(f"Concept names are not shown: {literal(exc)}")
        return {}
    return {int(j): name for j, name in names.get(concept_key(ctx.card.sha256, layer, k), {}).items()}


def save_channel_name(ctx: Context, layer: str, channel: int, typed: str, prefix: str, where: str = "") -> None:
    """Form callback: save ``typed`` as the name of ``channel`` of ``layer`` unless another browser
    changed it since this page showed it (``_<prefix>_name_seen``). The field ``<prefix>_name``
    then shows the name as stored, and ``_<prefix>_message`` holds ("success"|"error", text) for the
    page to show; ``where`` ends the success text (e.g. " (see the legend)")."""
    _save(ctx, False, layer, channel, typed, prefix, f"channel {channel} of {layer}", where)


def save_concept_name(ctx: Context, layer: str, k: int, concept: int, typed: str, prefix: str,
                      where: str = "") -> None:
    """Form callback like :func:`save_channel_name`, for concept ``concept`` of ``layer``'s k concepts."""
    _save(ctx, True, concept_key(ctx.card.sha256, layer, k), concept, typed, prefix,
          f"concept C{concept} of {layer} (k={k})", where)


def _save(ctx: Context, concepts: bool, key: str, index: int, typed: str, prefix: str, what: str,
          where: str) -> None:
    field, seen, message = f"{prefix}_name", f"_{prefix}_name_seen", f"_{prefix}_message"
    names_file = names_path(ctx.card.path)
    if concepts:
        names_file = concept_names_path(ctx.card.path)
    try:
        saved = set_name(names_file, key, index, typed, expected=st.session_state.get(seen, ""))
    except NameConflict as exc:
        st.session_state[field] = st.session_state[seen] = exc.current
        theirs = f"“{literal(exc.current)}”" if exc.current else "no name"
        st.session_state[message] = (
            "error", f"Not saved: {what} was given {theirs} in another browser "
                     "meanwhile. The field now shows it; change it and save again.")
        return
    except OSError as exc:
        st.session_state[message] = ("error", f"The name could not be saved: {literal(exc)}")
        return
    name = saved.get(key, {}).get(str(index), "")
    st.session_state[field] = st.session_state[seen] = name  # as stored (cleaned)
    done = "Saved the name" if name else "Removed the name"
    st.session_state[message] = ("success", f"{done} of {what}{where}.")
