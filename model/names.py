"""Channel names ("ear", "grass") kept in a JSON file beside the checkpoint.

Every change is read-modify-write under an exclusive file lock and written atomically
(temporary file + rename), so two browser sessions naming different channels never lose
each other's names, and a reader never sees half a file. A corrupt file is set aside (kept
as ``*.corrupt``) rather than silently overwritten.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
import unicodedata
from pathlib import Path

from data.files import atomic_write
from locales import Phrase

MAX_NAME_LENGTH = 40


class NamesFileError(Exception):
    """The names file could not be read; the message says what happened to it."""


class NameConflict(Exception):
    """Somebody else changed this channel's name after the caller last read it."""

    def __init__(self, current: str):
        super().__init__(current)
        self.current = current


def names_path(checkpoint_path: str | os.PathLike) -> Path:
    p = Path(checkpoint_path)
    return p.with_name(p.stem + ".channel_names.json")


def starter_path(checkpoint_path: str | os.PathLike) -> Path:
    """The read-only starter names shipped (committed) with a checkpoint: names a person gave the
    channels after looking at their top images. The shared, editable names file starts as a copy."""
    p = Path(checkpoint_path)
    return p.with_name(p.stem + ".starter_names.json")


def starter_translation_path(checkpoint_path: str | os.PathLike, lang: str) -> Path:
    """The starter names in another language (``checkpoint.starter_names.ko.json``), same layout."""
    p = Path(checkpoint_path)
    return p.with_name(f"{p.stem}.starter_names.{lang}.json")


def names_in(names: dict[str, dict[str, str]], starter: dict[str, dict[str, str]],
             translated: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """``names`` with every name that is still the shipped starter name shown as its translation;
    a name somebody typed is shown as typed."""
    return {layer: {ch: translated.get(layer, {}).get(ch, name) if name == starter.get(layer, {}).get(ch) else name
                    for ch, name in chans.items()} for layer, chans in names.items()}


def starter_names(checkpoint_path: str | os.PathLike, lang: str) -> tuple[dict, dict]:
    """(the starter names shipped with the checkpoint, their translation into ``lang``); both empty
    when either file is missing or broken (names are then shown as stored)."""
    try:
        return load_names(starter_path(checkpoint_path)), load_names(starter_translation_path(checkpoint_path, lang))
    except NamesFileError:
        return {}, {}


def stored_name(shown: str, layer: str, channel: int, starter: dict[str, dict[str, str]],
                translated: dict[str, dict[str, str]]) -> str:
    """The name as stored of a name shown by :func:`names_in` (the starter name of its translation)."""
    ch = str(int(channel))
    if shown and shown == translated.get(layer, {}).get(ch):
        return starter.get(layer, {}).get(ch, shown)
    return shown


def concept_names_path(checkpoint_path: str | os.PathLike) -> Path:
    """Names of NMF concepts (explain.concepts), beside the checkpoint like the channel names and
    kept by the same functions (:func:`load_names`, :func:`set_name`, with its conflict protection);
    their "layer" entries are :func:`concept_key`s, since concept j of one fit is not concept j of
    another k, layer or checkpoint."""
    p = Path(checkpoint_path)
    return p.with_name(p.stem + ".concept_names.json")


def concept_key(sha256: str, layer: str, k: int) -> str:
    """The entry of one factorisation in the concept names file: checkpoint (first 12 hex digits of
    its SHA-256), layer and k, e.g. "3fa2c01b9e4d/block3.relu3/k=6"."""
    return f"{sha256[:12]}/{layer}/k={int(k)}"


def seed_names(path: str | os.PathLike, starter: str | os.PathLike) -> bool:
    """If there is no names file at ``path`` yet, start it as a copy of the ``starter`` names (under
    the lock, so two sessions seed once). Afterwards the starter file is never read again for it:
    a lecturer's edits and clearings in the shared file stand. True if the file was seeded."""
    path, starter = Path(path), Path(starter)
    if path.exists() or not starter.is_file():
        return False
    try:
        names = load_names(starter)
    except NamesFileError:
        return False  # a broken starter file is no reason to stop the page
    with _locked(path):
        if path.exists():
            return False
        with atomic_write(path) as tmp:
            tmp.write_text(json.dumps(names, indent=1, sort_keys=True, ensure_ascii=False), encoding="utf-8")
    return True


def clean_name(name: str) -> str:
    """Printable text only, single-spaced, at most MAX_NAME_LENGTH characters."""
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in str(name))
    return " ".join(text.split())[:MAX_NAME_LENGTH]


def _parse(raw: str) -> dict[str, dict[str, str]]:
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("top level is not an object")
    out: dict[str, dict[str, str]] = {}
    for layer, channels in data.items():
        if not isinstance(channels, dict):
            raise ValueError(f"entry {layer!r} is not an object")
        for ch, name in channels.items():
            if not str(ch).isdigit() or not isinstance(name, str):
                raise ValueError(f"bad channel entry {layer!r}/{ch!r}")
            if clean_name(name):
                out.setdefault(str(layer), {})[str(int(ch))] = clean_name(name)
    return out


def load_names(path: str | os.PathLike) -> dict[str, dict[str, str]]:
    """{layer: {channel (as str): name}}; empty if there is no file. Raises NamesFileError."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise NamesFileError(Phrase("could not read channel names from {path} ({why}); {fix}", path=path,
                                    why=_short(exc), fix=_fix(path))) from None
    try:
        return _parse(raw)
    except (ValueError, json.JSONDecodeError) as exc:
        raise NamesFileError(Phrase("channel names file {path} is corrupt ({why}); {fix}", path=path,
                                    why=_short(exc), fix=_fix(path))) from None


def _fix(path: Path) -> Phrase:
    return Phrase("saving a name starts a new file and keeps this one beside it, renamed to {name}.corrupt-TIME",
                  name=path.name)


def _short(exc: Exception, limit: int = 120) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[:limit] + "…"


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def set_name(path: str | os.PathLike, layer: str, channel: int, name: str,
             expected: str | None = None) -> dict[str, dict[str, str]]:
    """Set (or, with an empty name, remove) one channel's name; returns all names after it.

    With ``expected`` (the name the caller saw, "" for none) nothing is written when another name
    than that one is stored: :class:`NameConflict` carries it. Two browser sessions share the
    names file, so a session whose field is out of date cannot wipe or overwrite another's name
    (where no name is stored any more, e.g. the file was deleted, the write goes ahead).
    """
    path = Path(path)
    with _locked(path):
        try:
            names = load_names(path)
        except NamesFileError:
            # Keep the broken file for inspection instead of overwriting it silently.
            os.replace(path, path.with_name(f"{path.name}.corrupt-{int(time.time())}"))
            names = {}
        current = names.get(layer, {}).get(str(int(channel)), "")
        if expected is not None and current and current != clean_name(expected):
            raise NameConflict(current)
        cleaned = clean_name(name)
        layer_names = names.setdefault(layer, {})
        if cleaned:
            layer_names[str(int(channel))] = cleaned
        else:
            layer_names.pop(str(int(channel)), None)
        if not layer_names:
            names.pop(layer, None)
        with atomic_write(path) as tmp:
            tmp.write_text(json.dumps(names, indent=1, sort_keys=True, ensure_ascii=False), encoding="utf-8")
    return names
