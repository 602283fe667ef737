"""The layering rules a newcomer relies on, checked rather than promised (README, Layout).

pages → ui → render → explain → model → data, with locales/ (the catalog) under all of them: maths,
model and data code never import a UI or plotting library, and render never imports Streamlit. The
check reads every module's imports with ``ast`` (top-level and inside functions), so a lazy import cannot slip through.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
UI_AND_PLOTTING = {"streamlit", "plotly", "altair", "matplotlib"}
FORBIDDEN = {
    "explain": UI_AND_PLOTTING | {"ui", "render", "pages"},
    "model": UI_AND_PLOTTING | {"ui", "render", "pages", "explain"},
    "data": UI_AND_PLOTTING | {"ui", "render", "pages", "explain", "model"},
    "render": {"streamlit", "ui", "pages"},
    # The catalog lookup is used by every layer, so it depends on none of them.
    "locales": UI_AND_PLOTTING | {"ui", "render", "pages", "explain", "model", "data"},
}


def imported_roots(path: Path) -> set[str]:
    """The top-level package of every module ``path`` imports, wherever the import stands."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def modules(package: str) -> list[Path]:
    return sorted((PROJECT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_packages_never_import_ui_or_plotting(package):
    found = {str(p.relative_to(PROJECT)): sorted(imported_roots(p) & FORBIDDEN[package])
             for p in modules(package)}
    assert modules(package), f"no modules under {package}/"
    assert not {k: v for k, v in found.items() if v}, found


def test_the_checker_sees_lazy_imports(tmp_path):
    # A rule that cannot fail proves nothing: an import inside a function must be caught too.
    sample = tmp_path / "sample.py"
    sample.write_text("import numpy\n\ndef f():\n    import streamlit as st\n    from plotly import graph_objects\n")
    assert imported_roots(sample) == {"numpy", "streamlit", "plotly"}


def test_each_page_has_its_maths_and_rendering_modules_named_like_it():
    # pages/3_1x1_weights.py ↔ explain/one_by_one.py ↔ render/one_by_one.py ↔ tests
    views = {"dashboard.py": "home", "pages/1_Feature_maps.py": "feature_maps",
             "pages/2_Semantic_map.py": "semantic", "pages/3_1x1_weights.py": "one_by_one",
             "pages/4_Prediction_heatmaps.py": "heatmaps", "pages/5_Convolution_playground.py": "convolution",
             "pages/6_Shapes_and_parameters.py": "shapes", "pages/8_Channel.py": "atlas"}
    for page, view in views.items():
        assert (PROJECT / page).is_file(), page
        assert (PROJECT / "explain" / f"{view}.py").is_file(), f"explain/{view}.py for {page}"
        assert (PROJECT / "render" / f"{view}.py").is_file(), f"render/{view}.py for {page}"
        roots = {f"{n.module}" for n in ast.walk(ast.parse((PROJECT / page).read_text(encoding="utf-8")))
                 if isinstance(n, ast.ImportFrom) and n.module}
        assert f"render.{view}" in roots, f"{page} takes its figures from render/{view}.py"


def test_every_module_imports_on_its_own():
    """Each module imports first in a fresh interpreter: no import cycle that only works when
    another module happens to be imported before it (ui.state ↔ ui.i18n once did)."""
    import subprocess
    import sys

    modules = sorted(".".join(p.relative_to(PROJECT).with_suffix("").parts)
                     for package in ("ui", "render", "explain", "model", "data", "locales")
                     for p in (PROJECT / package).glob("*.py") if p.name != "__init__.py")
    script = ("import importlib, subprocess, sys\n"
              "bad = []\n"
              "for m in sys.argv[1:]:\n"
              "    r = subprocess.run([sys.executable, '-c', 'import ' + m], capture_output=True, text=True)\n"
              "    if r.returncode:\n"
              "        bad.append((m, r.stderr.strip().splitlines()[-1:]))\n"
              "print(bad)\n")
    out = subprocess.run([sys.executable, "-c", script, *modules], capture_output=True, text=True, cwd=PROJECT,
                         timeout=600)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
