"""Shared fixtures: the real data set beside the checkout and the committed checkpoint."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

PROJECT = Path(__file__).resolve().parent.parent
# No background warm-up (ui.resources) in the tests' AppTests and servers unless a test asks for
# it: it would compute over the whole test set beside every test. tests/test_warm_up.py turns it on.
os.environ.setdefault("CIFAR10_WARMUP", "0")
CHECKPOINT = PROJECT / "model" / "checkpoint.pt"


def shared_root() -> Path:
    env = os.environ.get("CIFAR10_ROOT")
    return Path(env) if env else PROJECT.parent / "shared" / "cifar10"


@pytest.fixture(scope="session")
def cifar_root() -> Path:
    root = shared_root()
    if not (root / "test").is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the real CIFAR-10 image folder at {root}")
        pytest.skip(f"no CIFAR-10 image folder at {root}")
    return root


@pytest.fixture(scope="session")
def test_split(cifar_root):
    from data.cifar10 import load_split

    return load_split(cifar_root, "test")


@pytest.fixture(scope="session")
def checkpoint():
    from model.checkpoint import load_checkpoint

    return load_checkpoint(CHECKPOINT)


def write_image_folder(root: Path, per_class: int = 2, size=(32, 32), seed: int = 0,
                       splits=("train", "test")) -> dict[tuple[str, int], np.ndarray]:
    """A tiny CIFAR-10-shaped tree with numbered PNGs; returns {(split, index): pixels}."""
    from PIL import Image

    from data.cifar10 import CIFAR10_CLASSES

    rng = np.random.default_rng(seed)
    written = {}
    for split in splits:
        index = 0
        for name in CIFAR10_CLASSES:
            d = root / split / name
            d.mkdir(parents=True, exist_ok=True)
            for _ in range(per_class):
                px = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
                # Reverse numbering inside the tree so the loader must sort by file name.
                official = 10 * per_class - 1 - index
                Image.fromarray(px).save(d / f"{official:05d}.png")
                written[(split, official)] = px
                index += 1
    return written


@pytest.fixture
def tiny_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR10_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "cifar"
    pixels = write_image_folder(root)
    return root, pixels


# A snapshot of the checkpoint for the page tests: numbers stay fixed even if a training run
# rewrites model/checkpoint.pt meanwhile, and a test that saves channel names writes beside
# its own copy, never beside the committed checkpoint.
_FROZEN: dict[str, object] = {}


@pytest.fixture(scope="session")
def frozen_checkpoint(tmp_path_factory):
    """One snapshot of model/checkpoint.pt for the whole session."""
    if "path" not in _FROZEN:
        path = tmp_path_factory.mktemp("frozen") / "checkpoint.pt"
        shutil.copyfile(CHECKPOINT, path)
        from model.checkpoint import load_checkpoint

        _FROZEN["path"] = path
        _FROZEN["checkpoint"] = load_checkpoint(path)
    return _FROZEN["checkpoint"]


@dataclass(frozen=True)
class Reference:
    """The frozen checkpoint's results on every test image, as the tests expect them."""

    logits: np.ndarray  # float32 N×K
    probabilities: np.ndarray  # float32 N×K, softmax of the logits
    predicted: np.ndarray  # int64 N
    confidence: np.ndarray  # float32 N, the largest probability
    correct: np.ndarray  # bool N
    labels: np.ndarray  # int64 N (true class)
    indices: np.ndarray  # int64 N (official test index)
    relu3_max: np.ndarray  # float32 N×128: each block3.relu3 channel's maximum over the 8×8 positions


@pytest.fixture(scope="session")
def reference_predictions(frozen_checkpoint, test_split) -> Reference:
    """The 10,000 test images through the frozen checkpoint once per session, for every test
    that checks a page's test-set numbers (accuracy, confusion counts, galleries, dataset
    examples). Computed here with plain torch, not with model.inference, explain.testset or
    ui.resources (the code under test) and never read from the app's disk cache; the
    block3.relu3 maxima come from a forward hook in the same pass."""
    import torch

    model = frozen_checkpoint.model
    was_training = model.training
    model.eval()
    mean = torch.tensor(frozen_checkpoint.meta["mean"], dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(frozen_checkpoint.meta["std"], dtype=torch.float32).view(1, 3, 1, 1)
    logits, relu3 = [], []
    hook = model.block3.relu3.register_forward_hook(
        lambda module, inputs, output: relu3.append(output.amax(dim=(2, 3)).float().numpy()))
    try:
        with torch.inference_mode():
            for start in range(0, len(test_split.images), 250):
                x = torch.from_numpy(test_split.images[start:start + 250]).permute(0, 3, 1, 2).float() / 255.0
                x = ((x - mean) / std).contiguous(memory_format=torch.channels_last)
                logits.append(model(x).float().numpy())
    finally:
        hook.remove()
        model.train(was_training)
    logits = np.concatenate(logits)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities = e / e.sum(axis=1, keepdims=True)
    predicted = logits.argmax(axis=1)
    return Reference(logits, probabilities, predicted, probabilities.max(axis=1),
                     predicted == test_split.labels, test_split.labels, test_split.indices,
                     np.concatenate(relu3))


@pytest.fixture
def page_env(cifar_root, frozen_checkpoint, tmp_path, monkeypatch):
    """Environment for one test: its own copy of the frozen checkpoint (names file beside it)."""
    path = tmp_path / "checkpoint.pt"
    shutil.copyfile(frozen_checkpoint.path, path)
    monkeypatch.setenv("CIFAR10_ROOT", str(cifar_root))
    monkeypatch.setenv("CIFAR10_CHECKPOINT", str(path))
    return path




@pytest.fixture(scope="session")
def acts_of(frozen_checkpoint, test_split):
    """Every layer's output for a test image, computed in the test, not by the page."""
    from explain.feature_maps import image_activations

    def get(index: int) -> dict[str, np.ndarray]:
        pos = test_split.position_of(index)
        return {k: v[0] for k, v in image_activations(frozen_checkpoint.model, test_split.images[pos],
                                                      frozen_checkpoint.meta).items()}
    return get


def shown(markdown: str) -> str:
    """Markdown source as the reader sees its text: without the backslashes that ``ui.text.literal``
    puts before punctuation (other markup, such as ``**bold**``, is left as it is)."""
    import re

    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def plotly_charts(at) -> dict[str, dict]:
    """{key: Plotly JSON spec} of every chart an AppTest run drew."""
    import json

    return {el.key: json.loads(el.proto.spec) for el in at.get("plotly_chart")}


@pytest.fixture
def media_files(monkeypatch) -> dict[str, bytes]:
    """Every file an AppTest run stored for st.image (and the like), by the URL the page shows it
    at: AppTest drops its media storage when a run ends, so the bytes are kept as they are stored."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    files: dict[str, bytes] = {}
    store = MemoryMediaFileStorage.load_and_get_id

    def keep(self, path_or_data, mimetype, kind, filename=None):
        file_id = store(self, path_or_data, mimetype, kind, filename)
        files[self.get_url(file_id)] = self.get_file(file_id).content
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return files


def vega_charts(at) -> list[tuple[dict, list[dict]]]:
    """(Vega-Lite spec, data rows) of every st.vega_lite_chart an AppTest run drew, in page order.
    Streamlit moves a spec's inline data into an Arrow table; the rows are read back from it."""
    import json

    import pyarrow as pa

    out = []
    for el in at.get("vega_lite_chart"):
        table = pa.ipc.open_stream(el.proto.data.data).read_all() if el.proto.data.data else None
        out.append((json.loads(el.proto.spec), table.to_pylist() if table is not None else []))
    return out


def plotly_array(value) -> np.ndarray:
    """A data array from a Plotly JSON spec (plain list, or typed array: dtype + base64 + shape)."""
    if isinstance(value, dict):
        import base64

        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return flat.reshape([int(n) for n in value["shape"].split(",")]) if "shape" in value else flat
    return np.asarray(value, dtype=np.float64)


def random_eval_model(seed: int = 0):
    """The lecture network with seeded random weights in eval mode, with non-trivial BatchNorm
    statistics so eval mode differs from identity: for maths checked against hand-made numbers."""
    import torch
    from torch import nn

    from model.network import build_model

    torch.manual_seed(seed)
    model = build_model().eval()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    return model


def run_in_own_loop(coro):
    """asyncio.run in a thread of its own: an earlier test (Playwright, AppTest) may leave an event
    loop running in this one, and asyncio.run refuses to start inside it. Returns its value or
    re-raises its exception here."""
    import asyncio
    import threading

    outcome = {}

    def target():
        try:
            outcome["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def mosaic_panels(z) -> list[np.ndarray]:
    """The panels of a mosaic heat map (render.common.tile: panels apart by all-NaN rows and
    columns), row by row, found from the NaN gaps alone."""
    z = plotly_array(z).astype(np.float64)

    def runs(filled: np.ndarray) -> list[tuple[int, int]]:
        edges = np.flatnonzero(np.diff(np.concatenate([[0], filled.astype(int), [0]])))
        return list(zip(edges[::2], edges[1::2]))

    panels = []
    for r0, r1 in runs(~np.isnan(z).all(axis=1)):
        band = z[r0:r1]
        panels += [band[:, c0:c1] for c0, c1 in runs(~np.isnan(band).all(axis=0))]
    return panels


def bars_shown(at) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every block of HTML bars on the page (render.common.bars_html), as the reader sees it: its
    title (lines joined by a space) and its rows' (label, written value), in order."""
    import html
    import re

    blocks = []
    for h in at.get("html"):
        body = h.proto.body
        if "grid-template-columns" not in body:
            continue
        title = re.search(r"font-weight:600[^>]*>(.*?)</div>", body).group(1).replace("<br>", " ")
        rows = re.findall(r"<span>([^<]*)</span><span[^>]*><span title=[^>]*></span></span>"
                          r"<span[^>]*>([^<]*)</span>", body)
        blocks.append((html.unescape(title), [(html.unescape(name), html.unescape(v)) for name, v in rows]))
    return blocks


def top_classes_shown(at) -> tuple[str, list[tuple[str, float]]]:
    """(title, [(class, probability), ...]) of the heat-map page's top-5 block (render.heatmaps.
    top_classes_html), as the reader sees it: the classes in order and their written percentages."""
    (block,) = bars_shown(at)
    title, rows = block
    return title, [(name, float(v.rstrip("%")) / 100) for name, v in rows]
