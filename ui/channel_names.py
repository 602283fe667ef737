"""The shared channel (and NMF concept) names on a page: read them (channel names start from the
names shipped with the checkpoint) and save one, with model.names' protection against overwriting
another browser's name. Used by the Semantic map and the Channel atlas."""

from __future__ import annotations

import streamlit as st

from locales import DEFAULT
from model.names import (
    NameConflict,
    NamesFileError,
    concept_key,
    concept_names_path,
    load_names,
    names_in,
    names_path,
    seed_names,
    set_name,
    starter_names,
    starter_path,
    stored_name,
)
from ui.i18n import lang, said, tr
from ui.resources import Context
from ui.text import literal


def load_channel_names(ctx: Context) -> dict[str, dict[str, str]]:
    """{layer: {"17": name}} from the names file beside the checkpoint; a broken file is a warning
    in the page and no names."""
    names_file = names_path(ctx.card.path)  # never from the browser (tests/test_security.py)
    seed_names(names_file, starter_path(ctx.card.path))  # the names shipped with the checkpoint
    try:
        names = load_names(names_file)
    except NamesFileError as exc:
        st.warning(tr("Channel names are not shown: {error}", error=literal(said(exc))))
        return {}
    return names_in(names, *starter_names(ctx.card.path, lang())) if lang() != DEFAULT else names


def load_concept_names(ctx: Context, layer: str, k: int) -> dict[int, str]:
    """{concept: name} of the ``k`` concepts of ``layer`` for this checkpoint; a broken file is a
    warning in the page and no names."""
    concept_file = concept_names_path(ctx.card.path)  # never from the browser (tests/test_security.py)
    try:
        names = load_names(concept_file)
    except NamesFileError as exc:
        st.warning(tr("Concept names are not shown: {error}", error=literal(said(exc))))
        return {}
    return {int(j): name for j, name in names.get(concept_key(ctx.card.sha256, layer, k), {}).items()}


def save_channel_name(ctx: Context, layer: str, channel: int, typed: str, prefix: str, where: str = "") -> None:
    """Form callback: save ``typed`` as the name of ``channel`` of ``layer`` unless another browser
    changed it since this page showed it (``_<prefix>_name_seen``). The field ``<prefix>_name``
    then shows the name as stored, and ``_<prefix>_message`` holds ("success"|"error", text) for the
    page to show; ``where`` ends the success text (e.g. " (see the legend)")."""
    _save(ctx, False, layer, channel, typed, prefix, tr("channel {channel} of {layer}", channel=channel, layer=layer),
          where)


def save_concept_name(ctx: Context, layer: str, k: int, concept: int, typed: str, prefix: str,
                      where: str = "") -> None:
    """Form callback like :func:`save_channel_name`, for concept ``concept`` of ``layer``'s k concepts."""
    _save(ctx, True, concept_key(ctx.card.sha256, layer, k), concept, typed, prefix,
          tr("concept C{concept} of {layer} (k={k})", concept=concept, layer=layer, k=k), where)


def _save(ctx: Context, concepts: bool, key: str, index: int, typed: str, prefix: str, what: str,
          where: str) -> None:
    field, seen, message = f"{prefix}_name", f"_{prefix}_name_seen", f"_{prefix}_message"
    names_file = names_path(ctx.card.path)
    expected = st.session_state.get(seen, "")
    if concepts:
        names_file = concept_names_path(ctx.card.path)
    else:  # the page showed a starter name translated: it was read as the starter name
        expected = stored_name(expected, key, index, *starter_names(ctx.card.path, lang()))
    try:
        saved = set_name(names_file, key, index, typed, expected=expected)
    except NameConflict as exc:
        st.session_state[field] = st.session_state[seen] = exc.current
        theirs = f"“{literal(exc.current)}”" if exc.current else tr("no name")
        st.session_state[message] = (
            "error", tr("Not saved: {what} was given {theirs} in another browser meanwhile. The field now "
                        "shows it; change it and save again.", what=what, theirs=theirs))
        return
    except OSError as exc:
        st.session_state[message] = ("error", tr("The name could not be saved: {error}", error=literal(exc)))
        return
    name = saved.get(key, {}).get(str(index), "")
    st.session_state[field] = st.session_state[seen] = name  # as stored (cleaned)
    done = (tr("Saved the name of {what}{where}.", what=what, where=where) if name
            else tr("Removed the name of {what}{where}.", what=what, where=where))
    st.session_state[message] = ("success", done)
