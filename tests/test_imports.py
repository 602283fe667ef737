"""The app's modules never import each other in a circle at module level.

Streamlit runs each session's page in its own thread. When two threads import, for the first time,
two modules that import each other (or a package whose __init__ imports its own modules), each can
hold one module's import lock while waiting for the other's: Python raises _DeadlockError and the
page shows it. A class opening the link at once on a fresh server did that (tests/browser/test_load:
three of twenty sessions on the playground, `data` ↔ `data.cifar10` ↔ `data.files`). A cycle that
is needed is broken by importing inside the function that uses it.
"""

from __future__ import annotations

import ast

from tests.conftest import PROJECT

PACKAGES = ("data", "explain", "locales", "model", "render", "ui", "deploy")


def _modules() -> dict[str, object]:
    out = {}
    for package in PACKAGES:
        for path in (PROJECT / package).rglob("*.py"):
            parts = path.relative_to(PROJECT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def _top_level_imports(tree: ast.Module) -> list[tuple[str, list[str]]]:
    """(module, names) of the imports that run when the module is imported: at its top level and in
    top-level if/try blocks, not inside functions or classes."""
    found, todo = [], list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, (ast.If, ast.Try)):
            todo += node.body + node.orelse + getattr(node, "finalbody", [])
            todo += [n for handler in getattr(node, "handlers", []) for n in handler.body]
    return found


def import_graph() -> dict[str, set[str]]:
    """Module → the app's modules it needs first (what it imports, and its own package)."""
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        needs = set()
        for module, names in _top_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
            wanted = [module] + [f"{module}.{n}" for n in names]
            for target in wanted:
                parts = target.split(".")
                needs |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)} & modules.keys()
        if "." in name:
            needs.add(name.rsplit(".", 1)[0])  # a module's package is imported before it
        needs.discard(name)
        graph[name] = needs
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected parts with more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_checker_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    assert "data" in import_graph()["data.uploads"]  # a module needs its package


def test_no_import_cycles_among_the_apps_modules():
    assert cycles(import_graph()) == []
