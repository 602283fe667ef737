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

MAX_NAME_LENGTH = 40


class NamesFileError(Exception):
    """The names file could not be read; the message says what happened to it."""


def names_path(checkpoint_path: str | os.PathLike) -> Path:
    p = Path(checkpoint_path)
    return p.with_name(p.stem + ".channel_names.json")


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
        raise NamesFileError(f"could not read channel names from {path}: {exc}") from None
    try:
        return _parse(raw)
    except (ValueError, json.JSONDecodeError) as exc:
        raise NamesFileError(f"channel names file {path} is corrupt ({exc})") from None


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def set_name(path: str | os.PathLike, layer: str, channel: int, name: str) -> dict[str, dict[str, str]]:
    """Set (or, with an empty name, remove) one channel's name; returns all names after it."""
    path = Path(path)
    with _locked(path):
        try:
            names = load_names(path)
        except NamesFileError:
            # Keep the broken file for inspection instead of overwriting it silently.
            os.replace(path, path.with_name(f"{path.name}.corrupt-{int(time.time())}"))
            names = {}
        cleaned = clean_name(name)
        layer_names = names.setdefault(layer, {})
        if cleaned:
            layer_names[str(int(channel))] = cleaned
        else:
            layer_names.pop(str(int(channel)), None)
        if not layer_names:
            names.pop(layer, None)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(names, indent=1, sort_keys=True, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    return names
