"""Loading the checkpoint, the test images and the test-set predictions, once per server.

Where things come from is decided only by the person who starts the server:
``streamlit run dashboard.py -- --checkpoint PATH --data DIR`` or the environment
variables ``CIFAR10_CHECKPOINT`` and ``CIFAR10_ROOT``. Nothing a browser user types is
used as a path. Without a data set the pages offer to download it (:mod:`ui.first_launch`);
``-- --download`` or ``CIFAR10_DOWNLOAD=1`` starts that download on the first page load.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import streamlit as st

from data.cifar10 import CifarSplit, DatasetError, DatasetNotFound, load_split, resolve_root
from data.files import cache_dir
from locales import known, translate
from model.card import DEFAULT_CHECKPOINT, CheckpointCard, CheckpointError, read_card, write_card
from ui import i18n
from ui.text import code, literal

log = logging.getLogger("cifar10_explainer")


def _tune_malloc(arenas: int = 2) -> None:
    """glibc gives each busy thread its own heap ("arena", up to 8 per core); Streamlit's script
    threads, torch and the warm-up then keep freed memory in many heaps. Two arenas took the
    server's peak after every page from ~1285 to ~1010 MB (python -m bench, peak_rss_mb, same run).
    Same as MALLOC_ARENA_MAX=2, but also for a plain ``streamlit run``.

    And a fixed mmap threshold of 256 KB: glibc otherwise raises it after the first large array is
    freed (up to 32 MB), so later activations and figures come from the heap and their memory
    stays there; mapped, it goes back to the system when freed. Peak after every page, twice
    each way in one session: 870 and 916 MB without it, 849 and 852 MB with it."""
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
        libc.mallopt(-3, 256 * 1024)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):  # not glibc (musl, ...): nothing to tune
        pass


_tune_malloc()

SHOWN_SKIPPED = 5  # unusable data-set files listed by name in the warning
_YES = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    checkpoint: Path
    data_root: Path
    download: bool = False  # fetch the data set without waiting for a click (unattended set-up)


def settings() -> Settings:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--checkpoint")
    parser.add_argument("--data")
    parser.add_argument("--download", action="store_true")
    args, _ = parser.parse_known_args(sys.argv[1:])
    checkpoint = args.checkpoint or os.environ.get("CIFAR10_CHECKPOINT") or DEFAULT_CHECKPOINT
    download = args.download or os.environ.get("CIFAR10_DOWNLOAD", "").strip().lower() in _YES
    return Settings(Path(checkpoint).expanduser(), resolve_root(args.data), download)


@st.cache_resource(show_spinner=False)  # the callers say "Loading the trained network…"
def _checkpoint(path: str, mtime_ns: int):
    import torch

    from model.checkpoint import load_checkpoint

    # One thread for torch in the server. A click computes one image (a few ms); with two threads,
    # on two cores shared with the browser and the other sessions, torch's second thread is often
    # descheduled and the first waits for it at every layer: Prediction heatmaps' click to drawn
    # (python -m bench --only-clicks) p50 356 → 264–275 ms, 1×1 weights 300 → 251–276 ms, the same
    # run. Whole-test-set passes (the warm-up, in the background) are slower for it.
    torch.set_num_threads(1)
    return load_checkpoint(path)


@st.cache_resource(show_spinner=False)
def _card(path: str, mtime_ns: int) -> CheckpointCard:
    """The checkpoint's card (metadata and layer table) from the disk cache, so the home page
    needs no torch; on a miss the checkpoint is loaded and validated, and its card written."""
    card = read_card(path, cache_dir())
    if card is not None:
        return card
    with st.spinner(i18n.tr("Loading the trained network…")):
        ckpt = _checkpoint(path, mtime_ns)  # raises CheckpointError for a bad file
    from explain.home import architecture_table

    return write_card(ckpt.path, ckpt.sha256, ckpt.meta, architecture_table(ckpt.model), cache_dir())


def import_torch_in_background() -> None:
    """After a page that did not need torch (the home page, from the card and the caches),
    import it in a background thread so the first visit to another page does not wait ~2.5 s."""
    import sys
    import threading

    if "model.checkpoint" in sys.modules:
        return

    def work() -> None:
        try:
            import explain.activations  # noqa: F401  (torch, torchvision-free layer helpers)
            import model.checkpoint  # noqa: F401
        except Exception:  # pragma: no cover - the page that needs it will report the error
            log.exception("background import of torch failed")

    threading.Thread(target=work, name="import-torch", daemon=True).start()


@st.cache_resource(show_spinner=False)  # load_or_stop says "Reading the CIFAR-10 test images…"
def _test_split(root: str) -> CifarSplit:
    return load_split(root, "test")


# The background warm-up and a page's first visit compute the same test-set results into the same
# disk caches: one at a time, so whoever comes second reads the other's files instead of computing.
_TESTSET_LOCK = threading.Lock()


@st.cache_resource(show_spinner=False)
def _predictions(sha: str, root: str, _ctx: Context, _split: CifarSplit):
    from explain.testset import predictions, stored_predictions
    from model.inference import shipped_predictions_path

    # Finished files are read without the lock: a first launch's home page waited behind the warm-up's
    # pass over all layers (it holds the lock ~12 s) for predictions that were already on disk (20 s
    # to the first page instead of 7, depending on which thread came first).
    stored = stored_predictions(_split.images, _split.labels, _split.indices, sha, cache_dir(),
                                shipped=shipped_predictions_path(_ctx.settings.checkpoint))
    if stored is not None:
        return stored
    bar = st.progress(0.0, text=i18n.tr("Classifying the 10,000 test images (once per checkpoint)…"))
    language = i18n.lang()
    try:
        with _TESTSET_LOCK:
            return predictions(lambda: _ctx.model, _split.images, _split.labels, _split.indices,
                               _ctx.card.meta, sha, cache_dir(),
                               progress=lambda done, total: bar.progress(
                                   done / total, text=translate("Classifying test images: {done:,}/{total:,}",
                                                                language, done=done, total=total)),
                               shipped=shipped_predictions_path(_ctx.settings.checkpoint))
    finally:
        bar.empty()


@st.cache_resource(show_spinner=False)
def _channel_scores(sha: str, root: str, layer: str, _checkpoint, _split: CifarSplit):
    from explain.testset import cached_channel_scores

    bar = st.progress(0.0, text=i18n.tr("Scoring {layer} channels on every test image (once)…", layer=layer))
    language = i18n.lang()
    try:
        with _TESTSET_LOCK:  # after a running warm-up pass this reads its file
            return cached_channel_scores(_checkpoint.model, _split.images, _split.labels, _checkpoint.meta,
                                         layer, sha, cache_dir(),
                                         progress=lambda d, t: bar.progress(
                                             d / t, text=translate("Scoring {layer}: {d:,}/{t:,}", language,
                                                                   layer=layer, d=d, t=t)))
    finally:
        bar.empty()


@st.cache_resource(show_spinner=False, max_entries=32)
def _concepts(sha: str, root: str, layer: str, k: int, _checkpoint, _split: CifarSplit):
    from explain.concepts import FIT_IMAGES, cached_concepts

    with st.spinner(i18n.tr("Finding {k} concepts of {layer} by NMF over {count:,} test images (once; up to half a "
                       "minute)…", k=k, layer=layer, count=FIT_IMAGES)):
        return cached_concepts(_checkpoint.model, _split.images, _split.labels, tuple(_split.classes),
                               _checkpoint.meta, layer, k, sha, cache_dir())


@st.cache_resource(show_spinner=False, max_entries=32)
def _maximised(sha: str, layer: str, _checkpoint):
    from explain.maximise import cached_maximised

    bar = st.progress(0.0, text=i18n.tr("Optimising an input for every channel of {layer} (once)…", layer=layer))
    language = i18n.lang()
    try:
        return cached_maximised(_checkpoint.model, _checkpoint.meta, layer, sha, cache_dir(),
                                progress=lambda d, t: bar.progress(
                                    d / t, text=translate("{layer}: step {d}/{t}", language, layer=layer, d=d, t=t)))
    finally:
        bar.empty()


@st.cache_data(max_entries=64, show_spinner=False)  # Context.activations_of says what it does
def _activations(sha: str, root: str, key: str, _pixels, _ctx: Context) -> dict:
    """Every layer's C×H×W output for one 32×32 image (keyed on checkpoint, data set, image key)."""
    from explain.feature_maps import image_activations

    return {k: v[0] for k, v in image_activations(_ctx.model, _pixels, _ctx.card.meta).items()}


@st.cache_data(max_entries=64, show_spinner=False)
def _probabilities(sha: str, root: str, key: str, _pixels, _ctx: Context):
    """Class probabilities (softmax of the logits) for one 32×32 image."""
    from model.inference import predict_logits, softmax

    meta = _ctx.card.meta
    return softmax(predict_logits(_ctx.model, _pixels[None], meta["mean"], meta["std"]))[0]


@dataclass(frozen=True)
class Context:
    """Everything a page needs; built by :func:`load_or_stop`.

    ``card`` (metadata, layer table, hash) needs no torch; ``checkpoint`` and ``model`` load the
    network (and torch) on first use, so a page that only shows cached numbers never does.
    ``split`` is None only for a page that asked for no data set (``load_or_stop(need_data=False)``)
    when there is none."""

    card: CheckpointCard
    split: CifarSplit | None
    settings: Settings
    checkpoint_mtime_ns: int

    @cached_property  # writes past the frozen dataclass, once per Context (one per script run)
    def checkpoint(self):
        with st.spinner(i18n.tr("Loading the trained network…")):  # in the session's language
            return _checkpoint(str(self.card.path), self.checkpoint_mtime_ns)

    @property
    def model(self):
        return self.checkpoint.model

    @property
    def classes(self) -> tuple[str, ...]:
        return self.card.classes

    def predictions(self):
        return _predictions(self.card.sha256, str(self.settings.data_root), self, self.split)

    def activations_of(self, key: str, pixels) -> dict:
        """{layer name: C×H×W numpy array} for uint8 32×32×3 ``pixels``, cached under ``key``
        (a test image's "test-<index>" or an upload's key: the same key must mean the same pixels)."""
        with st.spinner(i18n.tr("Running the image through the network…")):
            self.checkpoint  # noqa: B018 - loaded here, not inside the cached function below
            return _activations(self.card.sha256, str(self.settings.data_root), key, pixels, self)

    def probabilities_of(self, key: str, pixels, test_index: int | None = None):
        """Class probabilities for one image: a test image's come from the test-set predictions
        (the very numbers the other views show), others are computed once per ``key``."""
        if test_index is not None:
            return self.predictions().probabilities[self.split.position_of(test_index)]
        return _probabilities(self.card.sha256, str(self.settings.data_root), key, pixels, self)

    def channel_scores(self, layer: str):
        return _channel_scores(self.card.sha256, str(self.settings.data_root), layer,
                               self.checkpoint, self.split)

    def maximised(self, layer: str):
        """The maximising input of every channel of ``layer`` (explain.maximise), once per layer."""
        return _maximised(self.card.sha256, layer, self.checkpoint)

    def maximised_ready(self, layer: str) -> bool:
        """Are they on disk already (no waiting)?"""
        from explain.maximise import cache_path

        return cache_path(self.card.sha256, layer, cache_dir()).is_file()

    def concepts(self, layer: str, k: int):
        """The ``k`` NMF concepts of ``layer`` (explain.concepts), once per checkpoint, layer and k."""
        return _concepts(self.card.sha256, str(self.settings.data_root), layer, int(k), self.checkpoint,
                         self.split)


WARMUP_ENV = "CIFAR10_WARMUP"  # "0" turns the background warm-up off (the test suite does)


@dataclass
class WarmUp:
    """Progress of the background warm-up (one per server process), read by every sidebar."""

    steps: tuple[str, ...] = (known("test-set predictions"), known("channel scores of every layer"),
                              known("the architectures"))
    done: int = 0
    started: float = field(default_factory=time.perf_counter)
    seconds: float | None = None  # set when it has finished
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.seconds is not None


def freeze_long_lived() -> None:
    """Move every object alive now (torch, plotly, the model, the test set, the caches) out of the
    garbage collector's sight. Streamlit runs a full collection after every script run
    (``runner.postScriptGC``); over these ~millions of long-lived objects it cost ~140 ms of CPU
    per run, holding the GIL while the server's event loop waited to send the run's messages.
    Afterwards a full collection walks only what the sessions created since (gc.freeze)."""
    gc.collect()
    gc.freeze()


def _lower_priority() -> None:
    """This (background) thread yields the CPU to the pages' script threads."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass


def warm_up(status: WarmUp, sha: str, card: CheckpointCard, split: CifarSplit, checkpoint: str,
            mtime_ns: int, cache: Path) -> None:
    """Compute, into the disk caches the pages read, what a page's first visit would wait for:
    the test-set predictions (home, gallery, heat maps), every map layer's channel scores
    (semantic map, channel atlas; one pass over the test set for all layers) and the reference
    architectures' counts (Shapes)."""
    from explain.testset import predictions, warm_channel_scores
    from model.inference import shipped_predictions_path

    _lower_priority()  # pages first

    def model():
        return _checkpoint(checkpoint, mtime_ns).model

    try:
        with _TESTSET_LOCK:
            predictions(model, split.images, split.labels, split.indices, card.meta, sha, cache,
                        shipped=shipped_predictions_path(checkpoint))
        status.done = 1
        from explain.activations import map_layers

        names = [info.name for info in map_layers(model())]
        with _TESTSET_LOCK:
            warm_channel_scores(model, split.images, split.labels, card.meta, names, sha, cache)
        status.done = 2
        reference_architectures_counted()  # the Shapes page's table (a child process, then the cache folder)
        status.done = 3
    except Exception as exc:  # the pages compute what they need themselves, and say why if they fail
        log.exception("background warm-up failed")
        status.error = str(exc) or type(exc).__name__
    finally:
        freeze_long_lived()
        status.seconds = time.perf_counter() - status.started
        print(f"warm-up: finished in {status.seconds:.1f} s" + (f" ({status.error})" if status.error else ""),
              file=sys.stderr, flush=True)  # python -m bench reads this line (warmup_s)


@st.cache_resource(show_spinner=False)
def _warm_up(sha: str, root: str, cache: str, checkpoint: str, mtime_ns: int, _card: CheckpointCard,
             _split: CifarSplit) -> WarmUp:
    """Start the warm-up once per server process (and checkpoint, data set, cache folder)."""
    status = WarmUp()
    threading.Thread(target=warm_up, args=(status, sha, _card, _split, checkpoint, mtime_ns, Path(cache)),
                     name="warm-up", daemon=True).start()
    return status


@st.cache_resource(show_spinner=False)
def reference_architectures_counted():
    """LeNet-5, AlexNet, VGG-16 and GoogLeNet counted once (explain.shapes builds them on the meta
    device in a child process, so torchvision never loads into the server, and keeps the counts in
    the cache folder): the Shapes page and a deck's warm-up share it."""
    from explain.shapes import reference_architectures_apart

    return reference_architectures_apart(cache_dir())


def warm_deck(status: WarmUp, ctx: Context, images: tuple[int, ...], architectures: bool) -> None:
    """Compute what a deck's slides need before they are played: every test image's maps (all
    layers, the Feature maps, Semantic map and 1×1 pages' input) and, if a slide shows them, the
    reference architectures. Into the same caches the pages read, so stepping finds them there."""
    _lower_priority()  # the slide being played first
    try:
        for index in images:
            ctx.activations_of(f"test-{index}", ctx.split.images[ctx.split.position_of(index)])
        status.done = 1
        if architectures:
            reference_architectures_counted()
        status.done = 2
    except Exception as exc:  # each page computes what it needs itself, and says why if it fails
        log.exception("deck warm-up failed")
        status.error = str(exc) or type(exc).__name__
    finally:
        status.seconds = time.perf_counter() - status.started


@st.cache_resource(show_spinner=False)
def _deck_warm_up(sha: str, root: str, images: tuple[int, ...], architectures: bool, _ctx: Context) -> WarmUp:
    """Start a deck's warm-up once per process, checkpoint, data set and set of needs."""
    status = WarmUp(steps=("the deck's test images", "the architectures"))
    threading.Thread(target=warm_deck, args=(status, _ctx, images, architectures), name="deck-warm-up",
                     daemon=True).start()
    return status


def prepare_deck(images: tuple[int, ...], architectures: bool) -> WarmUp | None:
    """Start computing, in the background, what a deck's slides need (see :func:`warm_deck`); the
    test images that are not in this data set are left to their slide, which says so. Writes
    nothing on the page: None when the checkpoint or data set cannot be loaded (the slide's own
    page says why) or the warm-up is turned off (``CIFAR10_WARMUP=0``)."""
    if os.environ.get(WARMUP_ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    cfg = settings()
    try:
        mtime = cfg.checkpoint.stat().st_mtime_ns
        ctx = Context(_card(str(cfg.checkpoint), mtime), _test_split(str(cfg.data_root)), cfg, mtime)
    except (OSError, CheckpointError, DatasetError):
        return None
    known_images = tuple(sorted(i for i in set(images) if ctx.split.position_of(i) is not None))
    return _deck_warm_up(ctx.card.sha256, str(ctx.settings.data_root), known_images, architectures, ctx)


def warm_up_status(status: WarmUp) -> None:
    """The sidebar's line about the warm-up: "Preparing … 1/2" (updated every 2 s) until it has
    finished, then nothing on the next page; an error is said once, in a line."""
    if status.finished and not status.error:
        return
    language = i18n.lang()  # read once, outside the fragment's reruns

    @st.fragment(run_every=None if status.finished else 2)
    def line() -> None:
        if status.error:
            st.caption(translate("Background preparation stopped ({why}); each page computes what it needs on its "
                                 "first visit.", language, why=literal(status.error)))
        elif status.finished:
            st.caption(translate("✓ Ready: every page's test-set results are computed.", language))
        else:
            step = translate(status.steps[min(status.done, len(status.steps) - 1)], language)
            st.caption(translate("Preparing the pages in the background… {done}/{steps} ({step})", language,
                                 done=status.done, steps=len(status.steps), step=step))

    with st.sidebar:
        line()


def load_or_stop(*, need_data: bool = True) -> Context:
    """Load the shared resources, or explain in the page what is missing and stop.

    Without a data set, a page that needs one offers to download it (and stops); a page that
    can do without (``need_data=False``) gets a Context whose ``split`` is None."""
    cfg = settings()
    from ui.failover import failover_notice

    failover_notice()
    try:
        mtime = cfg.checkpoint.stat().st_mtime_ns if cfg.checkpoint.exists() else 0
        card = _card(str(cfg.checkpoint), mtime)
    except CheckpointError as exc:
        st.error(i18n.tr("**The trained network could not be loaded.** {why}", why=literal(i18n.said(exc))))
        st.info(i18n.tr("Start the dashboard with a checkpoint made by `python -m model.train`: "
                   "`streamlit run dashboard.py -- --checkpoint PATH` or set `CIFAR10_CHECKPOINT`."))
        st.stop()
    try:
        with st.spinner(i18n.tr("Reading the CIFAR-10 test images…")):
            split = _test_split(str(cfg.data_root))
    except DatasetError as exc:
        if not need_data:
            st.sidebar.info(i18n.tr("No CIFAR-10 test images yet: the home page offers to download them. This page "
                               "works without them.") if isinstance(exc, DatasetNotFound) else
                            i18n.tr("The CIFAR-10 test images could not be loaded (the home page says why). This page "
                               "works without them."))
            return Context(card, None, cfg, mtime)
        if isinstance(exc, DatasetNotFound):
            from ui.first_launch import offer_download

            offer_download(cfg.data_root, exc, auto=cfg.download)  # stops the page
        st.error(i18n.tr("**The CIFAR-10 test images could not be loaded.** {why}", why=literal(i18n.said(exc))))
        st.info(i18n.tr("Fix or remove the files named above, or start the dashboard with "
                   "`streamlit run dashboard.py -- --data DIR` (or set `CIFAR10_ROOT`) pointing at a good copy."))
        st.stop()
    if tuple(split.classes) != card.classes:
        st.error(i18n.tr("**The checkpoint and the data set name different classes.** The network was trained on "
                    "{trained}; the data set has {found}. Start the dashboard with a checkpoint trained on this "
                    "data set (`python -m model.train`) or with the data set the checkpoint was trained on.",
                    trained=literal(", ".join(card.classes)), found=literal(", ".join(split.classes))))
        st.stop()
    if split.skipped:
        listed = "\n".join(f"- {literal(s)}" for s in split.skipped[:SHOWN_SKIPPED])
        more = len(split.skipped) - SHOWN_SKIPPED
        st.warning(i18n.tr("**{count:,} file(s) in the data set could not be used** and are left out; the pages use "
                      "the other {used:,} test images.", count=len(split.skipped), used=len(split))
                   + f"\n\n{listed}"
                   + (i18n.tr("\n- … and {more:,} more", more=more) if more > 0 else "")
                   + "\n\n" + i18n.tr("To use them, replace them with 32×32 PNG or JPEG images (or delete them) and "
                                  "restart the dashboard."))
    empty = [c for k, c in enumerate(split.classes) if not (split.labels == k).any()]
    if empty:
        st.warning(i18n.tr("**The data set has no usable test image of class {classes}**, so its accuracy cannot be "
                      "measured. Put its images in the data set's folder {folder} (one folder per class) and "
                      "restart the dashboard.", classes=literal(", ".join(empty)), folder=code(f"test/{empty[0]}/")))
    if os.environ.get(WARMUP_ENV, "1").strip().lower() not in ("0", "false", "no", "off"):
        warm_up_status(_warm_up(card.sha256, str(cfg.data_root), str(cache_dir()), str(cfg.checkpoint), mtime,
                                card, split))
    return Context(card, split, cfg, mtime)
