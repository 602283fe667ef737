"""Bad input, fed to the real pages (AppTest): a broken data set, a bad checkpoint, bad links.

Every case must end with a clear message in the page (what happened, what to do), no
traceback, and an app that still works once the input is fixed. Data sets here are tiny
trees in tmp_path (tests.conftest.write_image_folder); every cache goes to tmp_path too.
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.conftest import PROJECT, shown, write_image_folder

HOME = "dashboard.py"
TRACEBACK_WORDS = ("Traceback", 'File "', "Error(s) in loading")


def run(page: str = HOME, query: dict | None = None) -> AppTest:
    if page == HOME:
        at = AppTest.from_file(str(PROJECT / HOME), default_timeout=240)
    else:  # pages are opened through the app, as in the other page tests
        at = AppTest.from_file(str(PROJECT / HOME), default_timeout=240).switch_page(page)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def texts(elements) -> str:
    """The elements' text as the reader sees it (Markdown escapes removed)."""
    return shown("\n".join(e.value for e in elements))


def assert_no_traceback(at: AppTest) -> None:
    assert not at.exception
    shown = texts(at.error) + texts(at.warning) + texts(at.info)
    assert not any(word in shown for word in TRACEBACK_WORDS), shown


@pytest.fixture
def caches(tmp_path, monkeypatch):
    """Every cache this test fills lives in tmp_path, never in data/.cache."""
    monkeypatch.setenv("CIFAR10_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def tiny_env(tmp_path, monkeypatch, caches, frozen_checkpoint):
    """A good 20-image test split (2 per class) and the frozen checkpoint (never written to)."""
    root = tmp_path / "cifar"
    write_image_folder(root, splits=("test",))
    monkeypatch.setenv("CIFAR10_ROOT", str(root))
    monkeypatch.setenv("CIFAR10_CHECKPOINT", str(frozen_checkpoint.path))
    return root


def renders_normally(at: AppTest) -> bool:
    return (not at.exception and not at.error
            and any(h.value.startswith("Current image: test #") for h in at.subheader))


# --- Data set -------------------------------------------------------------------------------

def _break_data(root, case: str) -> None:
    shutil.rmtree(root)
    if case == "missing":
        return
    root.mkdir()
    if case == "empty":
        return
    write_image_folder(root, splits=("test",))
    if case == "class_missing":
        shutil.rmtree(root / "test" / "frog")
    elif case in ("all_broken", "all_wrong_size"):
        for path in (root / "test").glob("*/*.png"):
            if case == "all_broken":
                path.write_text("not an image")
            else:
                Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(path)


@pytest.mark.parametrize("case, expected", [
    ("missing", "does not exist"),
    ("empty", "no test/ folder and no cifar-10-batches-py/"),
])
def test_no_data_set_at_all_offers_the_download_and_the_app_recovers(tiny_env, case, expected):
    root = tiny_env
    _break_data(root, case)
    at = run()
    assert_no_traceback(at)
    assert [t.value for t in at.title] == ["CIFAR-10 is not on this machine yet"]
    assert at.button(key="download_cifar10").label.startswith("Download CIFAR-10")
    assert expected in texts(at.caption) and "CIFAR10_ROOT" in texts(at.markdown)  # what to do instead
    assert not at.metric
    shutil.rmtree(root, ignore_errors=True)
    write_image_folder(root, splits=("test",))
    at.run()
    assert renders_normally(at), texts(at.error)


@pytest.mark.parametrize("case, expected", [
    ("class_missing", "has no folder for class(es) frog; CIFAR-10 needs all ten"),
    ("all_broken", "None of the 20 image files"),
    ("all_wrong_size", "is 64×64 pixels, CIFAR-10 images are 32×32"),
])
def test_unusable_data_set_is_explained_and_the_app_recovers(tiny_env, case, expected):
    root = tiny_env
    _break_data(root, case)
    at = run()
    assert_no_traceback(at)
    error = texts(at.error)
    assert "The CIFAR-10 test images could not be loaded." in error
    assert expected in error
    assert "CIFAR10_ROOT" in error and "CIFAR10_ROOT" in texts(at.info)  # what to do
    assert not at.metric  # nothing half-drawn below the message
    # Fixed on disk: the next rerun of the same session works (errors are not cached).
    shutil.rmtree(root, ignore_errors=True)
    write_image_folder(root, splits=("test",))
    at.run()
    assert renders_normally(at), texts(at.error)


def test_unreadable_files_are_listed_and_the_rest_is_used(tiny_env):
    dog = tiny_env / "test" / "dog"
    (dog / "00050.png").write_text("a text file with an image's name")
    (dog / "00051.png").write_bytes(b"")
    (dog / "00052.png").mkdir()  # unreadable as a file (tests run as root: chmod 000 would not block)
    os.symlink(tiny_env / "nowhere.png", dog / "00053.png")
    good = next((tiny_env / "test" / "cat").iterdir()).read_bytes()
    (dog / "00054.png").write_bytes(good[: len(good) // 2])  # truncated PNG
    for n in (60, 61):
        (tiny_env / "test" / "truck" / f"000{n}.png").write_bytes(os.urandom(300))
    at = run()
    assert_no_traceback(at)
    assert renders_normally(at)
    warning = texts(at.warning)
    assert "**7 file(s) in the data set could not be used** and are left out; " \
           "the pages use the other 20 test images." in warning
    for name, reason in [("00050.png", "it is not a PNG or JPEG file"),
                         ("00051.png", "the file is empty (0 bytes)"),
                         ("00052.png", "it is a folder, not an image file"),
                         ("00053.png", "it is a link to a file that does not exist"),
                         ("00054.png", "the file is damaged")]:
        assert f"{dog / name}: cannot be read" in warning and reason in warning
    assert "… and 2 more" in warning
    assert "replace them with 32×32 PNG or JPEG images (or delete them) and restart" in warning
    # The sidebar browses exactly the 20 good images.
    picker = at.number_input(key="image_picker")
    assert (picker.min, picker.max) == (0, 19)


def test_a_file_without_read_permission_is_named(tiny_env, monkeypatch):
    locked = tiny_env / "test" / "ship" / "00080.png"
    shutil.copyfile(next((tiny_env / "test" / "cat").iterdir()), locked)
    if os.geteuid() != 0:
        locked.chmod(0)
    else:  # root reads every file whatever its mode: make the open fail as it would for a user
        import PIL.Image

        real_open = PIL.Image.open

        def refusing_open(fp, *args, **kwargs):
            if str(fp) == str(locked):
                raise PermissionError(13, "Permission denied", str(fp))
            return real_open(fp, *args, **kwargs)

        monkeypatch.setattr(PIL.Image, "open", refusing_open)
    at = run()
    assert_no_traceback(at)
    assert renders_normally(at)
    assert f"{locked}: cannot be read: permission denied" in texts(at.warning)


def test_images_of_the_wrong_size_are_named_with_their_size(tiny_env):
    cat = tiny_env / "test" / "cat"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(cat / "00070.png")
    Image.fromarray(np.zeros((31, 32, 3), np.uint8)).save(cat / "00071.png")  # 32 wide, 31 high
    at = run()
    assert_no_traceback(at)
    assert renders_normally(at)
    warning = texts(at.warning)
    assert "**2 file(s) in the data set could not be used**" in warning
    assert f"{cat / '00070.png'}: is 64×64 pixels, CIFAR-10 images are 32×32" in warning
    assert f"{cat / '00071.png'}: is 32×31 pixels, CIFAR-10 images are 32×32" in warning
    assert "more" not in warning


def test_a_class_without_images_is_named(tiny_env):
    for path in (tiny_env / "test" / "frog").iterdir():
        path.unlink()
    at = run()
    assert_no_traceback(at)
    assert renders_normally(at)
    assert "**The data set has no usable test image of class frog**, so its accuracy cannot be " \
           "measured. Put its images in the data set's folder `test/frog/`" in texts(at.warning)
    assert at.number_input(key="image_picker").max == 19  # the 18 others keep their numbers


# --- Checkpoint -----------------------------------------------------------------------------

class _RunsCode:
    """Pickles to "call os.system(...)": loading it without weights_only would run the command."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _meta(**changes):
    from model.network import ARCHITECTURE, CIFAR10_CLASSES

    meta = {"architecture": ARCHITECTURE, "classes": list(CIFAR10_CLASSES),
            "mean": [0.49, 0.48, 0.45], "std": [0.25, 0.24, 0.26], "epochs": 1}
    meta.update(changes)
    return meta


def _write_bad_checkpoint(path, kind: str, good) -> None:
    from model.checkpoint import FORMAT, save_checkpoint
    from model.network import build_model

    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "folder":
        path.mkdir()
    elif kind == "truncated":
        path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif kind == "text":
        path.write_text("This is a text file, not a checkpoint.\n")
    elif kind == "random":
        path.write_bytes(np.random.default_rng(0).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    elif kind in ("resnet18", "resnet18_as_ours"):
        from torchvision.models import resnet18

        state = resnet18(num_classes=10).state_dict()
        torch.save(state if kind == "resnet18" else {"format": FORMAT, "meta": _meta(), "state_dict": state},
                   path)
    elif kind == "runs_code":
        torch.save({"format": FORMAT, "meta": _meta(), "state_dict": _RunsCode(path.parent / "RAN")}, path)
    elif kind == "runs_code_plain_pickle":
        import pickle

        with open(path, "wb") as f:
            pickle.dump({"format": FORMAT, "meta": _RunsCode(path.parent / "RAN")}, f, protocol=2)
    elif kind == "wider_first_layer":  # the lecture network with 64 instead of 32 first filters
        state = build_model().state_dict()
        state["block1.conv1.weight"] = torch.zeros(64, 3, 3, 3)
        state["block1.conv1.bias"] = torch.zeros(64)
        torch.save({"format": FORMAT, "meta": _meta(), "state_dict": state}, path)
    elif kind == "five_outputs":
        save_checkpoint(path, build_model(num_classes=5), _meta())  # meta says 10 classes
    elif kind == "nan_weights":
        model = build_model()
        with torch.no_grad():
            model.classifier.weight[0, 0] = float("nan")
        save_checkpoint(path, model, _meta())
    else:  # metadata that disagrees with the weights or is malformed
        meta = {"other_architecture": _meta(architecture="resnet18"),
                "mean_of_two": _meta(mean=[0.5, 0.5]),
                "std_of_four": _meta(std=[0.2, 0.2, 0.2, 0.2]),
                "std_nan": _meta(std=[0.2, float("nan"), 0.2]),
                "no_mean": {k: v for k, v in _meta().items() if k != "mean"},
                "other_classes": _meta(classes=[f"kind{k}" for k in range(10)])}[kind]
        torch.save({"format": FORMAT, "meta": meta, "state_dict": build_model().state_dict()}, path)


@pytest.mark.parametrize("kind, expected", [
    ("missing", "checkpoint not found"),
    ("empty", "checkpoint is empty (0 bytes)"),
    ("folder", "checkpoint is not a file"),
    ("truncated", "is not a readable PyTorch checkpoint: the file is truncated or damaged"),
    ("text", "is not a readable PyTorch checkpoint: the file is not a saved PyTorch checkpoint"),
    ("random", "is not a readable PyTorch checkpoint: the file is not a saved PyTorch checkpoint"),
    ("resnet18", "is not a checkpoint of this project"),
    ("resnet18_as_ours", "weights do not fit lecture-cnn-v1 with 10 classes"),
    ("runs_code", "holds Python objects other than tensors and plain values"),
    ("runs_code_plain_pickle", "so it was refused without running anything"),
    ("wider_first_layer", "2 have another shape (e.g. block1.conv1.weight: 64×3×3×3 in the file, "
                          "32×3×3×3 in the network); the file was saved from a different network"),
    ("five_outputs", "the metadata lists 10 classes but the classifier has 5 outputs"),
    ("nan_weights", "weights contain NaN or infinite values"),
    ("other_architecture", "holds architecture 'resnet18'; this dashboard explains 'lecture-cnn-v1'"),
    ("mean_of_two", "metadata 'mean' must be three numbers (R, G, B), not [0.5, 0.5]"),
    ("std_of_four", "metadata 'std' must be three numbers (R, G, B)"),
    ("std_nan", "metadata 'std' must be three numbers (R, G, B), not [0.2, nan, 0.2]"),
    ("no_mean", "metadata lacks mean"),
])
def test_bad_checkpoint_is_explained_and_the_app_recovers(tiny_env, tmp_path, monkeypatch,
                                                          frozen_checkpoint, kind, expected):
    good = frozen_checkpoint.path
    path = tmp_path / "bad" / "checkpoint.pt"
    path.parent.mkdir()
    if kind != "missing":
        _write_bad_checkpoint(path, kind, good)
    monkeypatch.setenv("CIFAR10_CHECKPOINT", str(path))
    at = run()
    assert_no_traceback(at)
    error = texts(at.error)
    assert error.startswith("**The trained network could not be loaded.**")
    assert expected in error and str(path) in error
    assert "\n" not in error  # one line, no stack
    assert "CIFAR10_CHECKPOINT" in texts(at.info) and "python -m model.train" in texts(at.info)
    assert not at.metric
    assert not (tmp_path / "bad" / "RAN").exists()  # the pickled command never ran
    # Replaced by a good checkpoint: the same session works on the next rerun.
    if path.is_dir():
        path.rmdir()
    shutil.copyfile(good, path)
    at.run()
    assert renders_normally(at), texts(at.error)


def test_checkpoint_classes_that_differ_from_the_data_set_are_explained(tiny_env, tmp_path, monkeypatch):
    path = tmp_path / "other_classes.pt"
    _write_bad_checkpoint(path, "other_classes", None)
    monkeypatch.setenv("CIFAR10_CHECKPOINT", str(path))
    at = run()
    assert_no_traceback(at)
    assert ("**The checkpoint and the data set name different classes.** The network was trained on "
            "kind0, kind1") in texts(at.error)
    assert "data set has airplane, automobile" in texts(at.error)
    assert "python -m model.train" in texts(at.error)
    assert not at.metric


# --- URL parameters -------------------------------------------------------------------------
# Each run feeds one kind of bad value to every parameter the page reads, plus parameters no
# page knows. Every bad value gets its own notice; the page falls back to its defaults, which
# are computed here from the network, and writes sane values back into the URL.

PAGE_PARAMS = {  # page: {URL parameter: the widget (key) it sets; the image's is the sidebar picker}
    HOME: {"image": "image_picker"},
    "pages/1_Feature_maps.py": {"image": "image_picker", "layer": "fm_layer", "channel": "fm_channel"},
    "pages/2_Semantic_map.py": {"image": "image_picker", "layer": "sm_layer", "channel": "sm_channel"},
    "pages/3_1x1_weights.py": {"image": "image_picker", "layer": "ob_layer", "channel": "ob_channel"},
    "pages/4_Prediction_heatmaps.py": {"image": "image_picker", "class": "hm_class", "method": "hm_method",
                                       "view": "hm_view"},
}
LONG = 10_000
BAD_VALUES = {
    "out of range": {"image": "10000", "layer": "block9.conv9", "channel": "100000", "class": "horses",
                     "method": "gradcam", "view": "everything"},
    "negative": {"image": "-1", "layer": "-1", "channel": "-1", "class": "-1", "method": "-1", "view": "-1"},
    "not a number or name": {"image": "abc", "layer": "../../etc/passwd", "channel": "1.5", "class": "Cat",
                             "method": "<b>cam</b>", "view": "Gallery"},
    "very long": {"image": "7" * LONG, "layer": "block3.relu3" * (LONG // 12), "channel": "1" * LONG,
                  "class": "cat" * (LONG // 3), "method": "<script>" * (LONG // 8), "view": "maps" * (LONG // 4)},
    "empty": dict.fromkeys(("image", "layer", "channel", "class", "method", "view"), ""),
    # A repeated parameter counts by its last value (here a bad one).
    "repeated": {"image": ["12", "twelve"], "layer": ["block3.conv3", "conv3"], "channel": ["5", "five"],
                 "class": ["dog", "dogs"], "method": ["cam", "CAM"], "view": ["gallery", "galery"]},
}
UNKNOWN = {"foo": "bar", "checkpoint": "/etc/passwd", "data": "/", "Image": "5", "x" * 100: "y" * LONG}


@pytest.fixture(scope="module")
def defaults(frozen_checkpoint, test_split):
    """What each page shows for test image 0 when the link says nothing usable."""
    from explain.feature_maps import image_activations, telling_channel
    from explain.gallery import GALLERY_METHODS
    from explain.one_by_one import one_by_one_layers
    from explain.semantic import argmax_channel_map

    ckpt = frozen_checkpoint
    acts = {k: v[0] for k, v in image_activations(ckpt.model, test_split.images[:1], ckpt.meta).items()}
    with torch.no_grad():
        from model.inference import predict_logits
        predicted = int(predict_logits(ckpt.model, test_split.images[:1], ckpt.meta["mean"],
                                       ckpt.meta["std"]).argmax(1)[0])
    return {
        "pages/1_Feature_maps.py": {"fm_layer": "block1.relu1",
                                    "fm_channel": telling_channel(acts["block1.relu1"]).channel},
        "pages/2_Semantic_map.py": {"sm_layer": "block3.relu3",
                                    "sm_channel": argmax_channel_map(acts["block3.relu3"]).shares[0][0]},
        "pages/3_1x1_weights.py": {"ob_layer": one_by_one_layers(ckpt.model)[-1].name, "ob_channel": 0},
        "pages/4_Prediction_heatmaps.py": {"hm_class": ckpt.classes[predicted],
                                           "hm_method": next(iter(GALLERY_METHODS)), "hm_view": "maps"},
    }


def widget_value(at: AppTest, key: str):
    """A widget's value; for a tab's state or a widget in a closed tab, the value kept for it."""
    for kind in ("selectbox", "number_input", "radio"):
        found = [w for w in getattr(at, kind) if w.key == key]
        if found:
            return found[0].value
    return at.session_state[key]


def url(at: AppTest, key: str):
    value = at.query_params.get(key)
    return value[-1] if isinstance(value, list) else value


@pytest.mark.parametrize("kind", list(BAD_VALUES))
@pytest.mark.parametrize("page", list(PAGE_PARAMS))
def test_bad_url_values_get_a_notice_and_the_page_uses_defaults(page_env, defaults, page, kind):
    params = PAGE_PARAMS[page]
    query = {p: BAD_VALUES[kind][p] for p in params}
    if kind == "very long":
        query.update(UNKNOWN)
    at = run(page, query)
    assert_no_traceback(at)
    notices = [w.value for w in at.warning]
    for p in params:
        assert any(n.startswith(f"Ignored `{p}=") for n in notices), (p, notices)
    assert len(notices) == len(params)  # unknown parameter names are ignored without a word
    assert all(len(n) < 200 for n in notices)  # a 10,000-character value is cut in the notice
    if kind == "very long":
        assert all("the value is too long" in n for n in notices)
    # Sane defaults, and the URL now says so.
    assert at.number_input(key="image_picker").value == 0 and url(at, "image") == "0"
    for p, key in params.items():
        if p != "image":
            assert widget_value(at, key) == defaults[page][key], key
            assert url(at, p) == str(defaults[page][key]), p
    if page == HOME:
        assert any(h.value.startswith("Current image: test #0") for h in at.subheader)


def test_a_bad_link_after_browsing_keeps_the_session_state(page_env):
    """A bad value arriving later (an edited link) is ignored; what the user chose stays."""
    at = run("pages/1_Feature_maps.py", {"image": "12", "layer": "block3.conv3", "channel": "5"})
    assert not at.warning
    at.query_params.update({"image": "99999", "layer": "nope", "channel": "500"})
    at.run()
    assert_no_traceback(at)
    assert len(at.warning) == 3
    assert at.number_input(key="image_picker").value == 12
    assert widget_value(at, "fm_layer") == "block3.conv3" and widget_value(at, "fm_channel") == 5
    assert (url(at, "image"), url(at, "layer"), url(at, "channel")) == ("12", "block3.conv3", "5")


def test_markup_in_a_url_value_stays_text_in_the_notice(page_env):
    at = run("pages/1_Feature_maps.py", {"layer": "x` [log in here](http://evil.example) `",
                                         "channel": "1\n\n# Your session expired"})
    assert_no_traceback(at)
    assert len(at.warning) == 2
    from ui.text import code

    notices = [w.value for w in at.warning]
    # Each value stays inside one code span (shown literally, backticks included; a longer fence
    # than any run inside), with no line break that could start a heading or a new paragraph.
    assert notices[0].startswith("Ignored " + code("layer=x` [log in here](http://evil.example) `") + " in")
    assert notices[1].startswith("Ignored " + code("channel=1 # Your session expired") + " in")
    assert not any("\n" in n for n in notices)


# --- Channel names (Semantic map page) ------------------------------------------------------
SEMANTIC = "pages/2_Semantic_map.py"
# Only text-like elements are rendered as markdown; a name must never reach one of them.
MARKDOWN_ELEMENTS = ("markdown", "caption", "success", "warning", "info", "error", "title", "header",
                     "subheader")


def legend(at: AppTest):
    return at.dataframe[0].value


def save_name(at: AppTest, name: str) -> AppTest:
    # set_value, not input(): input() refuses text beyond max_chars as the browser does, but a
    # hand-made client can send anything, so the server side is tested with what arrives.
    at.text_input(key="sm_name").set_value(name)
    return at.button(key="sm_save").click().run()


def test_a_too_long_name_is_cut_to_the_maximum(page_env):
    import json

    from model.names import MAX_NAME_LENGTH, load_names, names_path
    from tests.test_page_feature_maps import charts

    at = run(SEMANTIC)
    channel = at.selectbox(key="sm_channel").value
    # The browser's field stops at the maximum and shows a "n/40" counter ...
    assert at.text_input(key="sm_name").max_chars == MAX_NAME_LENGTH
    # ... and whatever a hand-made client sends is cut to it before it is saved.
    save_name(at, "wheel " * 20)
    assert_no_traceback(at)
    kept = ("wheel " * 20)[:MAX_NAME_LENGTH]
    assert load_names(names_path(page_env)) == {"block3.relu3": {str(channel): kept}}
    assert f"Saved the name of channel {channel} of block3.relu3" in texts(at.success)
    assert at.text_input(key="sm_name").value == kept
    # A hand-edited file with a 5,000-character name: cut on reading; the map cell shortens it.
    names_path(page_env).write_text(json.dumps({"block3.relu3": {str(channel): "x" * 5000}}))
    at.run()
    assert_no_traceback(at)
    table = legend(at)
    assert table.loc[table["channel"] == f"#{channel}", "name"].tolist() == ["x" * MAX_NAME_LENGTH]
    # Two lines of six characters at most in a region label (issue 11).
    assert "xxxxxx<br>xxxxx…" in {a["text"] for a in charts(at)["sm_map"]["layout"]["annotations"]}


def test_markup_in_a_name_is_shown_as_text_everywhere(page_env):
    from tests.test_page_feature_maps import charts

    name = "[x](http://e.vil) **b** <img src=x>"
    at = run(SEMANTIC)
    channel = at.selectbox(key="sm_channel").value
    save_name(at, name)
    assert_no_traceback(at)
    table = legend(at)
    assert table.loc[table["channel"] == f"#{channel}", "name"].tolist() == [name]  # a plain-text cell
    option = at.selectbox(key="sm_channel").options[0]  # options are plain text
    assert option.startswith(f"{channel} — “{name}” — wins")
    cells = {a["text"] for a in charts(at)["sm_map"]["layout"]["annotations"]}
    assert "[x](ht<br>tp://…" in cells  # two short lines to fit the cell, shown literally
    spec = str(charts(at)["sm_map"])
    assert "<img" not in spec and "**b** &lt;img src=x&gt;" not in spec  # Plotly gets escaped text
    for kind in MARKDOWN_ELEMENTS:
        for element in getattr(at, kind):
            assert "e.vil" not in element.value and "<img" not in element.value, (kind, element.value)


@pytest.mark.parametrize("content, reason", [
    ("{not json", "is corrupt (Expecting property name"),
    ("", "is corrupt (Expecting value"),
    ("[1, 2]", "is corrupt (top level is not an object)"),
    ('{"block3.relu3": "ear"}', "is corrupt (entry 'block3.relu3' is not an object)"),
    ('{"block3.relu3": {"five": "ear"}}', "is corrupt (bad channel entry 'block3.relu3'/'five')"),
    (b"\xff\xfe\x00\x81 not utf-8", "could not read channel names from"),
    (None, "could not read channel names from"),  # a folder where the file should be
])
def test_a_broken_names_file_is_a_warning_and_the_next_save_starts_afresh(page_env, content, reason):
    from model.names import load_names, names_path

    path = names_path(page_env)
    if content is None:
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    at = run(SEMANTIC)
    assert_no_traceback(at)
    warning = texts(at.warning)
    assert warning.startswith("Channel names are not shown:") and reason in warning
    assert f"saving a name starts a new file and keeps this one beside it, renamed to {path.name}.corrupt-" \
           in warning
    assert (legend(at)["name"] == "").all()
    channel = at.selectbox(key="sm_channel").value
    save_name(at, "ear")
    assert_no_traceback(at)
    assert not at.warning
    assert load_names(path) == {"block3.relu3": {str(channel): "ear"}}
    assert len(list(path.parent.glob(f"{path.name}.corrupt-*"))) == 1  # the broken one is kept
    assert legend(at).loc[legend(at)["channel"] == f"#{channel}", "name"].tolist() == ["ear"]


def test_names_file_deleted_while_the_app_runs(page_env):
    from model.names import load_names, names_path

    path = names_path(page_env)
    at = run(SEMANTIC)
    channel = at.selectbox(key="sm_channel").value
    save_name(at, "ear")
    assert "ear" in legend(at)["name"].tolist()
    path.unlink()
    at.run()  # any rerun, e.g. a click
    assert_no_traceback(at)
    assert not at.warning and (legend(at)["name"] == "").all()
    assert at.selectbox(key="sm_channel").value == channel  # the session keeps its place
    save_name(at, "wheel")
    assert_no_traceback(at)
    assert load_names(path) == {"block3.relu3": {str(channel): "wheel"}}
