"""Every text the app translates, read from the code; ``python -m locales.extract`` lists those
missing from (or no longer used in) ``locales/ko.toml``, ready to paste and translate.

A text is found where its English is written as the first argument of ``tr``, ``translate`` or
``known`` or ``Phrase`` (a literal string, implicit concatenation included).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from locales import catalog, fields

PROJECT = Path(__file__).resolve().parent.parent
SOURCES = ("dashboard.py", "pages", "ui", "render", "explain", "data", "model")
CALLS = {"tr", "translate", "known", "Phrase"}


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def texts_in(path: Path) -> dict[str, str]:
    """{English text: "file:line"} of every translated text in ``path``."""
    found = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if (isinstance(node, ast.Call) and _name(node.func) in CALLS and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.setdefault(node.args[0].value, f"{path.relative_to(PROJECT)}:{node.lineno}")
    return found


def source_texts() -> dict[str, str]:
    found: dict[str, str] = {}
    for source in SOURCES:
        root = PROJECT / source
        for path in sorted([root] if root.is_file() else root.rglob("*.py")):
            for text, where in texts_in(path).items():
                found.setdefault(text, where)
    return found


def main() -> int:
    texts = source_texts()
    ko = catalog("ko")
    missing = [t for t in texts if t not in ko]
    unused = [t for t in ko if t not in texts]
    bad = [t for t in texts if t in ko and fields(t) != fields(ko[t])]
    for text in missing:
        print(f"# {texts[text]}\n{_toml(text)} = \"\"")
    for text in unused:
        print(f"# unused: {_toml(text)}")
    for text in bad:
        print(f"# placeholders differ: {_toml(text)}")
    print(f"# {len(texts)} texts, {len(missing)} missing, {len(unused)} unused, {len(bad)} with other placeholders",
          file=sys.stderr)
    return 1 if missing or unused or bad else 0


def _toml(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)


if __name__ == "__main__":
    raise SystemExit(main())
