"""Feature maps of one image: every layer's output, channel orderings and what a layer sees.

The lecture's reading of the three blocks: block 1 detects strokes, block 2 parts, and
block 3 says what is where. The receptive field (how many input pixels one position of a
layer can see) makes that concrete: 5×5 pixels after block 1's convolutions, 14×14 after
block 2's, 32×32 after block 3's: as wide as the image, but centred on each position, so no
single position sees the whole image (:func:`explain.shapes.what_a_position_sees` words it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explain.activations import all_activations, map_layers
from explain.shapes import model_receptive_fields, what_a_position_sees
from locales import known, translate
from model.inference import to_tensor
from model.network import LectureCNN

# Orderings of a layer's channels for the grid; the value is the statistic sorted on.
SORTS = {known("channel index"): None, known("mean activation"): "mean", known("max activation"): "max"}

BLOCK_NOTES = {
    "block1": known("**Block 1 — strokes.** Each position sees only a small patch of pixels, so its "
              "channels answer simple questions: is there an edge at this angle, a colour blob, a stripe?"),
    "block2": known("**Block 2 — parts.** Channels combine block 1's strokes into parts and textures "
              "(an eye, a wheel, fur, a leg) over a larger window of the image."),
    "block3": known("**Block 3 — what is where.** Each position now draws on a window nearly as wide as the image "
              "or wider, centred on itself; a channel lighting up says *this* kind of thing is *here*. The "
              "classifier just averages these maps."),
}

KIND_NOTES = {
    "conv": known("the convolution's output: weighted sums of the previous maps, negative and positive"),
    "bn": known("the output after BatchNorm: each channel shifted and scaled to a comparable range"),
    "relu": known("the output after ReLU: negative values set to zero, only what each channel detects remains"),
    "pool": known("the output after 2×2 max pooling: half the height and width, the strongest value of each "
                  "2×2 square kept"),
}


def image_activations(model: LectureCNN, images: np.ndarray, meta: dict,
                      only: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
    """Output of every map layer (float32 N×C×H×W numpy) for uint8 N×32×32×3 (or one H×W×3) images,
    or of the layers named in ``only`` (a batch's copies of every layer are ~1.5 MB per image).

    One forward pass; the model is only read (it must be in eval mode, as the loaded one is).
    """
    acts = all_activations(model, to_tensor(images, meta["mean"], meta["std"]), only=only)
    names = only if only is not None else [info.name for info in map_layers(model)]
    return {name: acts[name].float().numpy().copy() for name in names}


def channel_order(maps: np.ndarray, by: str) -> np.ndarray:
    """Channel indices of C×H×W ``maps`` in display order for sort ``by`` (a key of SORTS).

    "mean"/"max" sort from largest to smallest; ties keep the lower channel first.
    """
    m = np.asarray(maps)
    if m.ndim != 3:
        raise ValueError(f"maps must be C×H×W, got shape {m.shape}")
    if by not in SORTS:
        raise ValueError(f"unknown sort {by!r}; choose one of {', '.join(SORTS)}")
    stat = SORTS[by]
    if stat is None:
        return np.arange(m.shape[0])
    values = m.mean(axis=(1, 2)) if stat == "mean" else m.max(axis=(1, 2))
    return np.argsort(-values.astype(np.float64), kind="stable")


@dataclass(frozen=True)
class ChannelPick:
    """The channel enlarged by default, and why."""

    channel: int
    inside: float  # its mean activation inside the map, away from the border ring
    border: float  # its mean activation on the border ring (nan when the map has no inside)
    ring: int  # width of the border ring in positions (0: the map is too small to have one)

    @property
    def reason(self) -> str:
        return self.reason_in("en")

    def reason_in(self, lang: str) -> str:
        if not self.ring:
            return translate("Channel {channel} was picked for you: the largest mean response ({inside:.2f}).",
                             lang, channel=self.channel, inside=self.inside)
        return translate("Channel {channel} was picked for you: its mean inside the map ({inside:.2f}) is the most "
                         "above its mean on the {ring}-position border ({border:.2f}), where the zero padding shows.",
                         lang, channel=self.channel, inside=self.inside, ring=self.ring, border=self.border)


def border_ring(side: int) -> int:
    """Width of the border ring set apart when picking a channel: an eighth of the side, at least
    one position, none for maps of 2×2 or less (nothing would be left inside)."""
    return 0 if side <= 2 else max(1, side // 8)


def telling_channel(maps: np.ndarray) -> ChannelPick:
    """The channel to enlarge first: the one whose mean activation inside the map exceeds its mean
    on the border ring by the most (ties: the lower channel).

    Why not the strongest single activation: in the early layers that is often on the zero-padded
    border (a bright stripe along an edge of the map, not the dog); a channel that responds
    uniformly everywhere (a colour or brightness detector) scores 0 here. Measured on the real
    checkpoint with test dogs #12, #16, #24, #31, this picks outlines, heads and legs.
    """
    m = np.asarray(maps, dtype=np.float64)
    if m.ndim != 3:
        raise ValueError(f"maps must be C×H×W, got shape {m.shape}")
    ring = border_ring(min(m.shape[1], m.shape[2]))
    if not ring:
        means = m.mean(axis=(1, 2))
        best = int(np.argmax(means))
        return ChannelPick(best, float(means[best]), float("nan"), 0)
    inside = m[:, ring:-ring, ring:-ring].mean(axis=(1, 2))
    edge = np.ones(m.shape[1:], dtype=bool)
    edge[ring:-ring, ring:-ring] = False
    border = m[:, edge].mean(axis=1)
    best = int(np.argmax(inside - border))  # argmax keeps the first of equal scores
    return ChannelPick(best, float(inside[best]), float(border[best]), ring)


def grid_shape(count: int, width: int = 900, largest_tile: int = 160) -> tuple[int, int]:
    """(columns, figure height in pixels) for a grid of ``count`` channel tiles about ``width`` wide.

    Up to 32 channels go 8 to a row (big tiles for the projector), more go 16 to a row.
    """
    if count < 1:
        raise ValueError(f"need at least one channel, got {count}")
    columns = min(count, 8 if count <= 32 else 16)
    rows = -(-count // columns)
    return columns, 80 + rows * min(width // columns, largest_tile)


def screen_grid(count: int, title_rows: float = 1.3) -> tuple[int, float]:
    """(columns, width / height) for ``count`` square tiles filling a screen-wide figure in
    presentation mode: fewer columns than :func:`grid_shape` (8 up to 32 channels, 12 up to 64,
    16 beyond), so that a 16:9 screen's height is used; ``title_rows`` tiles' worth of height hold
    the title."""
    if count < 1:
        raise ValueError(f"need at least one channel, got {count}")
    columns = min(count, 8 if count <= 32 else 12 if count <= 64 else 16)
    return columns, columns / (-(-count // columns) + title_rows)


def layer_label(name: str, shape: tuple[int, ...]) -> str:
    """"block2.relu3", (1, 64, 16, 16) → "block2 · relu3 — 1×64×16×16"."""
    block, _, layer = name.partition(".")
    shown = f"{block} · {layer}" if layer else block
    return f"{shown} — {'×'.join(str(s) for s in shape)}"


def layer_note(model: LectureCNN, name: str, image_size: int = 32, lang: str = "en") -> str:
    """One or two sentences on what layer ``name`` shows, for the page."""
    info = next((i for i in map_layers(model) if i.name == name), None)
    if info is None:
        raise ValueError(f"unknown layer {name!r}")
    field = next(row for row in model_receptive_fields(model, image_size) if row.layer == name)
    kind = translate(KIND_NOTES.get(info.kind, info.kind), lang)
    return translate("{block} `{name}` shows {kind}; each position sees {sees}.", lang,
                     block=translate(BLOCK_NOTES[info.block], lang), name=name, kind=kind,
                     sees=what_a_position_sees(field, image_size, lang))


@dataclass(frozen=True)
class FeatureMapsView:
    """The Feature maps view of one image: every channel of one layer in display order, and one
    channel enlarged. Its figures and its slide take this one object."""

    layer: str
    maps: np.ndarray       # C×H×W: the layer's output for the image
    order: np.ndarray      # channel indices in display order
    sort: str              # a key of SORTS
    channel: int           # the enlarged channel
    per_channel_scale: bool

    @property
    def shape(self) -> tuple[int, ...]:
        """The layer's N×C×H×W output shape (N = 1 image)."""
        return (1, *self.maps.shape)

    @property
    def one(self) -> np.ndarray:
        """The enlarged channel's H×W map."""
        return self.maps[self.channel]

    @property
    def rank(self) -> int:
        """Where the enlarged channel stands in the display order (1 = first)."""
        return int(np.flatnonzero(self.order == self.channel)[0]) + 1

    @property
    def signed(self) -> bool:
        """Does the enlarged map have negative values (before a ReLU)?"""
        return float(self.one.min()) < 0


def feature_maps_view(maps: np.ndarray, layer: str, sort: str, channel: int,
                      per_channel_scale: bool) -> FeatureMapsView:
    """Order ``maps`` (C×H×W of ``layer``) by ``sort`` and pick ``channel`` to enlarge."""
    m = np.asarray(maps)
    if not 0 <= channel < m.shape[0]:
        raise ValueError(f"{layer} has channels 0–{m.shape[0] - 1}, not {channel}")
    return FeatureMapsView(layer, m, channel_order(m, sort), sort, int(channel), bool(per_channel_scale))
