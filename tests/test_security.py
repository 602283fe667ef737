"""Security checks of issue 5.

(a) Raw HTML reaches the browser only from constant strings in the code, or from the few HTML
    builders in render/ that escape every text they insert (SAFE_HTML_BUILDERS, each checked with
    markup in all its text), never from anything a user typed, uploaded or put in a link (an AST
    scan of every project module).
(b) Nothing a browser user types reaches the file system as a path: the checkpoint and data
    set come from the command line or the environment only, and the channel-names file is
    always the one beside the checkpoint.
(c) Uploaded photos are decoded in memory and never written to disk.
"""

from __future__ import annotations

import ast
import builtins
import io
import os
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import PROJECT

SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".cache", ".pytest_cache"}


def project_modules() -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(PROJECT):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")]
        found += [Path(dirpath) / f for f in filenames if f.endswith(".py")]
    return sorted(found)


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


# --- (a) raw HTML only from constants -------------------------------------------------------

def module_constants(tree: ast.Module) -> set[str]:
    """Names bound exactly once in the whole module (no later rebinding in a function, loop or
    `global`), at module level, to a constant string expression."""
    stores: dict[str, int] = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            stores[n.id] = stores.get(n.id, 0) + 1
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            values[node.target.id] = node.value
    constants: set[str] = set()
    changed = True
    while changed:  # constants may be built from earlier constants
        changed = False
        for name, value in values.items():
            if name not in constants and stores.get(name) == 1 and is_constant(value, constants):
                constants.add(name)
                changed = True
    return constants


def is_constant(node: ast.expr, constants: set[str]) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.Name):
        return node.id in constants
    if isinstance(node, ast.JoinedStr):
        return all(isinstance(v, ast.Constant)
                   or (isinstance(v, ast.FormattedValue) and is_constant(v.value, constants))
                   for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return is_constant(node.left, constants) and is_constant(node.right, constants)
    return False


def _raw_html_calls(tree: ast.Module):
    """(call, description) for st.html / components.html / anything with unsafe_allow_html on."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        unsafe = [kw for kw in node.keywords if kw.arg == "unsafe_allow_html"
                  and not (isinstance(kw.value, ast.Constant) and kw.value.value is False)]
        if name in ("html", "iframe") and isinstance(func, ast.Attribute) or unsafe:
            yield node, ast.unparse(func)


# Functions whose HTML may be shown: they build it from numbers and escape every text they put in
# (render.common.text); test_html_builders_escape_every_text checks each with markup in all its text.
SAFE_HTML_BUILDERS = {"legend_html", "top_classes_html", "class_means_html", "selectivity_html"}


def _built_safely(node: ast.expr) -> bool:
    func = node.func if isinstance(node, ast.Call) else None
    return (isinstance(func, ast.Name) and func.id in SAFE_HTML_BUILDERS
            or isinstance(func, ast.Attribute) and func.attr in SAFE_HTML_BUILDERS)


def unsafe_html_uses(tree: ast.Module, filename: str = "<module>") -> list[str]:
    """Every raw-HTML call whose content is not a constant string or a SAFE_HTML_BUILDERS call,
    as 'file:line: call'."""
    constants = module_constants(tree)
    problems = []
    for call, what in _raw_html_calls(tree):
        args = list(call.args) + [kw.value for kw in call.keywords
                                  if kw.arg not in ("unsafe_allow_html", "width", "height", "scrolling",
                                                    "help", "key", "tab_index")]
        if any(kw.arg == "unsafe_allow_html" and not isinstance(kw.value, ast.Constant)
               for kw in call.keywords):
            problems.append(f"{filename}:{call.lineno}: {what}(…, unsafe_allow_html=<not a constant>)")
        for arg in args:
            if not is_constant(arg, constants) and not _built_safely(arg):
                problems.append(f"{filename}:{call.lineno}: {what}({ast.unparse(arg)[:60]})")
    return problems


def test_the_html_checker_catches_user_text():
    """The scanner itself: constants pass, anything computed is reported."""
    source = '''
import streamlit as st
import streamlit.components.v1 as components
CSS = "<style>h1 {color: red}</style>"
WRAPPED = f"<div>{CSS}</div>" + "<hr>"
name = st.text_input("name")
st.markdown(CSS, unsafe_allow_html=True)
st.html(WRAPPED)
st.markdown(name)
st.markdown(f"<b>{name}</b>", unsafe_allow_html=True)
st.html(name)
components.html("<p>" + name + "</p>", height=40)
st.write(CSS, name, unsafe_allow_html=True)
FLAG = True
st.caption("<i>x</i>", unsafe_allow_html=FLAG)
'''
    problems = unsafe_html_uses(ast.parse(source))
    assert [p.split(": ", 1)[1] for p in problems] == [
        "st.markdown(f'<b>{name}</b>')",
        "st.html(name)",
        "components.html('<p>' + name + '</p>')",
        "st.write(name)",
        "st.caption(…, unsafe_allow_html=<not a constant>)",
    ]


def test_a_rebound_module_name_is_not_a_constant():
    source = '''
import streamlit as st
CSS = "<style></style>"
def theme(colour):
    global CSS
    CSS = f"<style>h1 {{color: {colour}}}</style>"
st.html(CSS)
'''
    assert unsafe_html_uses(ast.parse(source)) == ["<module>:7: st.html(CSS)"]


def test_html_builders_escape_every_text():
    from render.atlas import class_means_html, selectivity_html
    from render.common import legend_html
    from render.heatmaps import top_classes_html
    from tests.test_render import hand_made_atlas

    bad = '<img src=x onerror="alert(1)">'
    names = (bad, bad + "2", "c")
    bars = [top_classes_html([(0, 0.9), (1, 0.1)], names, 0, bad + "<br>" + bad),
            class_means_html(hand_made_atlas(bad), names), selectivity_html(hand_made_atlas(bad), names)]
    for html in [legend_html(bad, -1.0, 1.0), *bars]:
        assert "<img" not in html and "&lt;img src=x onerror=" in html
    for html in bars:  # hover texts stand inside an attribute: their quotes are escaped too
        assert 'title="&lt;img src=x onerror=&quot;alert(1)&quot;&gt;' in html
    assert {"legend_html", "top_classes_html", "class_means_html", "selectivity_html"} == SAFE_HTML_BUILDERS
    # and the scanner accepts exactly those calls
    source = 'import streamlit as st\nst.html(legend_html(t, 0, 1))\nst.html(make_html(t))\n'
    assert [p.split(": ", 1)[1] for p in unsafe_html_uses(ast.parse(source))] == ["st.html(make_html(t))"]


def test_raw_html_in_the_project_comes_only_from_constants():
    problems, uses = [], 0
    for path in project_modules():
        tree = parse(path)
        uses += len(list(_raw_html_calls(tree)))
        problems += unsafe_html_uses(tree, str(path.relative_to(PROJECT)))
    assert not problems, "raw HTML built from non-constant values:\n" + "\n".join(problems)
    assert uses >= 1  # ui/present.py's constant CSS is seen by the scan (it is not vacuous)


# --- (b) no path from the browser -----------------------------------------------------------

def test_settings_come_only_from_the_command_line_and_the_environment(monkeypatch, tmp_path):
    import sys

    from ui import resources

    monkeypatch.setenv("CIFAR10_CHECKPOINT", str(tmp_path / "env.pt"))
    monkeypatch.setenv("CIFAR10_ROOT", str(tmp_path / "env_data"))
    monkeypatch.setattr(sys, "argv", ["streamlit"])
    assert resources.settings() == resources.Settings(tmp_path / "env.pt", tmp_path / "env_data")
    monkeypatch.setattr(sys, "argv", ["x", "--checkpoint", str(tmp_path / "cli.pt"), "--data", "d"])
    assert resources.settings() == resources.Settings(tmp_path / "cli.pt", Path("d"))
    # The module that decides where files come from never looks at the browser's link.
    source = (PROJECT / "ui" / "resources.py").read_text(encoding="utf-8")
    assert "query_params" not in source and "session_state" not in source


def test_paths_in_the_link_are_ignored(page_env, frozen_checkpoint, cifar_root, tmp_path):
    """?checkpoint=/etc/passwd&data=/ … : the page still loads the configured checkpoint and data."""
    bait = tmp_path / "bait.pt"
    bait.write_text("not a checkpoint")
    at = AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=240)
    for key, value in {"checkpoint": "/etc/passwd", "data": "/", "CIFAR10_ROOT": "/",
                       "CIFAR10_CHECKPOINT": str(bait), "root": "../../..", "path": str(bait)}.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception and not at.error
    from ui.resources import settings
    assert settings().checkpoint == page_env and settings().data_root == cifar_root
    # The model card is the configured checkpoint's: its parameter count and accuracy are shown.
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Parameters"] == "310,250"
    assert metrics["Test accuracy (top-1)"] == f"{frozen_checkpoint.meta['test_top1']:.2%}"


def _calls(tree: ast.Module, name: str) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)
            and (getattr(n.func, "id", None) == name or getattr(n.func, "attr", None) == name)]


def test_the_names_file_path_is_derived_only_from_the_checkpoint_path():
    """Every names-file call in the app gets the file from names_path(<checkpoint>.path) or
    names_path(<card>.path) (or concept_names_path(…), for concept names): the card's path is the
    checkpoint's (model/card.py)."""
    makers = ("names_path", "concept_names_path")
    checked = 0
    for path in project_modules():
        if "tests" in path.relative_to(PROJECT).parts:
            continue
        tree = parse(path)
        derived = {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign)
                   for t in n.targets if isinstance(t, ast.Name)
                   and isinstance(n.value, ast.Call) and getattr(n.value.func, "id", "") in makers}
        for call in [c for maker in makers for c in _calls(tree, maker)]:
            if path.name == "names.py":
                continue
            assert len(call.args) == 1 and ast.unparse(call.args[0]).endswith(("checkpoint.path", "card.path")), \
                f"{path}:{call.lineno}: {ast.unparse(call)}"
            checked += 1
        for func in ("load_names", "set_name"):
            for call in _calls(tree, func):
                if path.name == "names.py":
                    continue
                first = call.args[0]
                assert isinstance(first, ast.Name) and first.id in derived, \
                    f"{path}:{call.lineno}: {ast.unparse(call)}"
                checked += 1
    assert checked >= 3  # names_path, load_names and set_name in ui/channel_names.py (both naming pages)


def test_layer_and_name_text_cannot_move_the_names_file(tmp_path):
    from model.names import load_names, names_path, set_name

    home = tmp_path / "a" / "b"
    home.mkdir(parents=True)
    checkpoint = home / "checkpoint.pt"
    path = names_path(checkpoint)
    assert path == home / "checkpoint.channel_names.json"
    before = {p for p in tmp_path.rglob("*")}
    set_name(path, "../../../evil", 3, "../../x/y")
    set_name(path, "/etc/passwd", 4, "/etc/shadow")
    set_name(path, "block3.relu3", 5, "..\\..\\win")
    created = {p for p in tmp_path.rglob("*")} - before
    assert created == {path, path.with_name(path.name + ".lock")}
    assert load_names(path) == {"../../../evil": {"3": "../../x/y"}, "/etc/passwd": {"4": "/etc/shadow"},
                                "block3.relu3": {"5": "..\\..\\win"}}


def test_the_semantic_map_writes_names_only_beside_the_checkpoint(page_env):
    from model.names import load_names, names_path

    outside = page_env.parent.parent
    before = set(outside.rglob("*"))
    at = AppTest.from_file(str(PROJECT / "dashboard.py"), default_timeout=240)
    at.switch_page("pages/2_Semantic_map.py")
    at.query_params["layer"] = "../../../../tmp/evil"  # refused: not a layer of the network
    at.run()
    assert not at.exception
    assert any("Ignored `layer=" in w.value for w in at.warning)
    at.text_input(key="sm_name").set_value("../../../../tmp/evil.json")
    at.button(key="sm_save").click().run()
    assert not at.exception
    created = set(outside.rglob("*")) - before
    path = names_path(page_env)
    assert created == {path, path.with_name(path.name + ".lock")}
    channel = at.selectbox(key="sm_channel").value
    assert load_names(path) == {"block3.relu3": {str(channel): "../../../../tmp/evil.json"}}


# --- (c) uploads stay in memory -------------------------------------------------------------

UPLOAD_MODULES = ("data/uploads.py",)
# Calls that create, change or move files: os/shutil/tempfile functions by name, and methods
# (pathlib, numpy, pandas) that only exist to write.
MODULE_WRITERS = {"os": {"open", "replace", "rename", "renames", "link", "symlink", "makedirs", "mkdir",
                         "write", "mkfifo", "truncate"},
                  "shutil": {"copy", "copy2", "copyfile", "copytree", "move"},
                  "tempfile": {"mkstemp", "mkdtemp", "NamedTemporaryFile", "TemporaryFile",
                               "SpooledTemporaryFile", "TemporaryDirectory"},
                  "np": {"save", "savez", "savez_compressed", "savetxt"}}
WRITING_METHODS = {"write_bytes", "write_text", "touch", "symlink_to", "hardlink_to", "tofile", "to_csv",
                   "to_parquet", "to_pickle", "imwrite"}


def upload_handling_modules() -> list[Path]:
    """data/uploads.py and every module that receives a file from st.file_uploader."""
    found = {PROJECT / m for m in UPLOAD_MODULES if (PROJECT / m).exists()}
    for path in project_modules():
        if "tests" not in path.relative_to(PROJECT).parts and "file_uploader" in path.read_text("utf-8"):
            found.add(path)
    return sorted(found)


def file_writes(tree: ast.Module) -> list[str]:
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = getattr(func, "attr", None) or getattr(func, "id", None)
        owner = getattr(func.value, "id", None) if isinstance(func, ast.Attribute) else None
        if owner in MODULE_WRITERS:
            bad = name in MODULE_WRITERS[owner]
        elif name in WRITING_METHODS:
            bad = True
        elif name == "open" and owner is None:  # the builtin: only read modes are fine
            mode = node.args[1] if len(node.args) > 1 else next(
                (kw.value for kw in node.keywords if kw.arg == "mode"), None)
            read_only = isinstance(mode, ast.Constant) and set(str(mode.value)) <= set("rbt")
            bad = mode is not None and not read_only
        elif name == "save" and isinstance(func, ast.Attribute):  # PIL: only into an in-memory buffer
            bad = not (node.args and isinstance(node.args[0], ast.Name | ast.Call)
                       and "str" not in ast.unparse(node.args[0]) and "Path" not in ast.unparse(node.args[0]))
        else:
            bad = False
        if bad:
            out.append(f"{node.lineno}: {ast.unparse(node)[:80]}")
    return out


def test_the_file_write_checker_catches_writes():
    source = """
import os, shutil, tempfile
import numpy as np
from pathlib import Path
image.save(buf, format="PNG")
image.save(io.BytesIO(), format="PNG")
text.replace("a", "b")
arrays.copy()
open(name, "rb")
image.save("/tmp/x.png")
image.save(Path(upload.name))
open(upload.name, "wb")
Path(name).write_bytes(data)
os.replace(a, b)
shutil.copyfile(a, b)
tempfile.NamedTemporaryFile()
np.save("x.npy", arr)
"""
    assert [w.split(": ", 1)[0] for w in file_writes(ast.parse(source))] == [
        str(n) for n in range(10, 18)]


def test_upload_code_never_writes_files():
    modules = upload_handling_modules()
    if not modules:
        pytest.skip("no upload code yet (data/uploads.py)")
    problems = {str(p.relative_to(PROJECT)): file_writes(parse(p)) for p in modules}
    assert not {k: v for k, v in problems.items() if v}, problems
    assert PROJECT / "data" / "uploads.py" in modules


def test_decoding_an_upload_writes_nothing(tmp_path, monkeypatch):
    """Behaviour, not just source: every open() in write mode during decoding is recorded."""
    uploads = pytest.importorskip("data.uploads")
    from PIL import Image

    writes = []
    real_open = builtins.open

    def watching_open(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+"):
            writes.append(str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", watching_open)
    monkeypatch.setattr(io, "open", watching_open)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    rng = np.random.default_rng(0)
    frames = [Image.fromarray(rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)) for _ in range(3)]
    files = {}
    for fmt, name in (("PNG", "photo.png"), ("JPEG", "photo.jpg"), ("GIF", "anim.gif")):
        buf = io.BytesIO()
        if fmt == "GIF":
            frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
        else:
            frames[0].save(buf, format=fmt)
        files[name] = buf.getvalue()
    for name, data in files.items():
        uploads.decode_upload(data, name)
    for bad in (b"", b"not an image", files["photo.png"][:100]):
        with pytest.raises(uploads.UploadError):
            uploads.decode_upload(bad, "broken.png")
    assert writes == []
    assert list(tmp_path.iterdir()) == []
