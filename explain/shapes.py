"""Shapes and parameter counts (lecture §3, §4, §5, §7): an N×C×H×W calculator built on real
PyTorch layers, pooling on a tiny example, receptive fields, reference architectures, and what
GoogLeNet's 1×1 and VGG's stacked 3×3 convolutions save. No Streamlit here.

Shapes are read from real ``nn.Conv2d`` / pooling layers run on the ``meta`` device (shapes
without memory or arithmetic), so the calculator is PyTorch itself; the formula is shown beside
it and the tests check that the two agree.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass
from importlib.metadata import version
from itertools import pairwise
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from data.files import PROJECT_ROOT, atomic_write
from explain.activations import format_shape
from explain.convolution import formula_text, output_size
from explain.one_by_one import ConvCost
from locales import known, translate

POOL_KINDS = (known("none"), known("max"), known("average"))


# --- 1. The N×C×H×W calculator ------------------------------------------------------------

@dataclass(frozen=True)
class LayerSpec:
    """One convolution (``filters`` square ``kernel``×``kernel`` filters), optionally followed by
    pooling (``pool`` in POOL_KINDS, window ``pool_size``, step ``pool_stride``)."""

    filters: int
    kernel: int
    padding: int = 0
    stride: int = 1
    pool: str = "none"
    pool_size: int = 2
    pool_stride: int = 2


@dataclass(frozen=True)
class LayerResult:
    spec: LayerSpec
    input_shape: tuple[int, int, int, int]  # N×C×H×W into the convolution
    conv_shape: tuple[int, int, int, int]  # N×F×H'×W' out of the convolution
    output_shape: tuple[int, int, int, int]  # after pooling (= conv_shape without pooling)
    weight_shape: tuple[int, int, int, int]  # F×C×k×k
    biases: int
    parameters: int  # counted on the real layer: sum(p.numel())

    @property
    def weights(self) -> int:
        return int(np.prod(self.weight_shape))

    @property
    def multiply_adds(self) -> int:
        """F·C·k·k·H_out·W_out·N: one multiply-add per weight per output position per image."""
        n, _, h, w = self.conv_shape
        return self.weights * h * w * n

    def formulas(self, lang: str = "en") -> list[str]:
        """The output-size formula with this layer's numbers (height; width too if different)."""
        _, _, h, w = self.input_shape
        s = self.spec
        both = translate("H and W", lang)
        sides = [(both, h)] if h == w else [("H", h), ("W", w)]
        lines = [translate("{side}: conv {formula}", lang, side=name,
                           formula=formula_text(n, s.kernel, s.padding, s.stride)) for name, n in sides]
        if s.pool != "none":
            _, _, ch, cw = self.conv_shape
            pooled = [(both, ch)] if ch == cw else [("H", ch), ("W", cw)]
            lines += [translate("{side}: pool {formula}", lang, side=name,
                                formula=formula_text(n, s.pool_size, 0, s.pool_stride)) for name, n in pooled]
        return lines


class ShapeError(ValueError):
    """A combination of sizes no layer can compute; the message says what to change."""


def shape_problem(input_shape: tuple[int, int, int, int], spec: LayerSpec) -> str | None:
    """A sentence saying why ``spec`` cannot be applied to ``input_shape``, or None if it can."""
    n, c, h, w = input_shape
    named = {"N (batch size)": n, "C (channels)": c, "H (height)": h, "W (width)": w,
             "the number of filters": spec.filters, "the kernel size": spec.kernel, "the stride": spec.stride}
    for name, value in named.items():
        if value < 1:
            return f"{name} is {value}: it must be at least 1."
    if spec.padding < 0:
        return f"The padding is {spec.padding}: it must be 0 or more."
    if spec.kernel > min(h, w) + 2 * spec.padding:
        return (f"The {spec.kernel}×{spec.kernel} kernel is larger than the padded input "
                f"({h + 2 * spec.padding}×{w + 2 * spec.padding} = {h}×{w} plus padding {spec.padding} "
                "on each side), so it fits nowhere: make the kernel smaller or the padding larger.")
    if spec.pool not in POOL_KINDS:
        return f"Unknown pooling {spec.pool!r}: choose one of {', '.join(POOL_KINDS)}."
    if spec.pool != "none":
        if spec.pool_size < 1 or spec.pool_stride < 1:
            return "The pooling size and stride must be at least 1."
        ch = output_size(h, spec.kernel, spec.padding, spec.stride)
        cw = output_size(w, spec.kernel, spec.padding, spec.stride)
        if spec.pool_size > min(ch, cw):
            return (f"The {spec.pool_size}×{spec.pool_size} pooling window is larger than the "
                    f"convolution's {ch}×{cw} output: make the window smaller or drop the pooling.")
    return None


def _pool_module(spec: LayerSpec) -> nn.Module | None:
    if spec.pool == "max":
        return nn.MaxPool2d(spec.pool_size, spec.pool_stride)
    if spec.pool == "average":
        return nn.AvgPool2d(spec.pool_size, spec.pool_stride)
    return None


def output_shape(layer: nn.Module, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The N×C×H×W shape ``layer`` (a convolution or pooling, possibly built on the meta device)
    gives an input of ``input_shape``, from PyTorch's own kernels run on an empty batch on the CPU:
    nothing computed, nothing allocated. (A forward pass on the meta device would do the same but
    loads torch's symbolic-shape machinery and sympy, ~36 MB the server then keeps.)"""
    n, c, h, w = (int(v) for v in input_shape)
    empty = torch.empty(0, c, h, w)
    if isinstance(layer, nn.Conv2d):  # one filter per group stands for all: the channel count is known
        probe = torch.empty(layer.groups, c // layer.groups, *layer.kernel_size)
        out = F.conv2d(empty, probe, stride=layer.stride, padding=layer.padding, dilation=layer.dilation,
                       groups=layer.groups)
        return (n, layer.out_channels, *out.shape[2:])
    return (n, *layer(empty).shape[1:])


def apply_layer(input_shape: tuple[int, int, int, int], spec: LayerSpec) -> LayerResult:
    """A real ``nn.Conv2d`` (and pooling) for ``input_shape``: its weights' shapes and the output
    shapes PyTorch gives (:func:`output_shape`)."""
    problem = shape_problem(input_shape, spec)
    if problem:
        raise ShapeError(problem)
    n, c, h, w = (int(v) for v in input_shape)
    with torch.device("meta"):  # the weights' shapes, nothing allocated
        conv = nn.Conv2d(c, spec.filters, spec.kernel, stride=spec.stride, padding=spec.padding)
    pool = _pool_module(spec)
    y = output_shape(conv, (n, c, h, w))
    z = output_shape(pool, y) if pool is not None else y
    return LayerResult(spec, (n, c, h, w), y, z, tuple(conv.weight.shape),
                       conv.bias.numel(), sum(p.numel() for p in conv.parameters()))


def apply_chain(input_shape: tuple[int, int, int, int], specs: list[LayerSpec]) -> list[LayerResult]:
    """Each layer applied to the previous one's output; ShapeError names the failing layer."""
    results: list[LayerResult] = []
    shape = tuple(input_shape)
    for i, spec in enumerate(specs, start=1):
        try:
            results.append(apply_layer(shape, spec))
        except ShapeError as e:
            where = f"Layer {i} (input {format_shape(shape)})"
            raise ShapeError(f"{where}: {e}") from None
        shape = results[-1].output_shape
    return results


def chain_rows(results: list[LayerResult], lang: str = "en") -> list[dict]:
    """One table row per layer of the chain (column names in English: the page translates them)."""
    rows = []
    for i, r in enumerate(results, start=1):
        s = r.spec
        pool = (translate("none", lang) if s.pool == "none" else
                translate("{kind} {size}×{size}, stride {stride}", lang, kind=translate(s.pool, lang),
                          size=s.pool_size, stride=s.pool_stride))
        rows.append({
            known("layer"): i,
            known("input (N×C×H×W)"): format_shape(r.input_shape),
            known("convolution"): translate("{filters} filters {k}×{k}, padding {padding}, stride {stride}", lang,
                                            filters=s.filters, k=s.kernel, padding=s.padding, stride=s.stride),
            known("pooling"): pool,
            known("output (N×C×H×W)"): format_shape(r.output_shape),
            known("weight (F×C×k×k)"): format_shape(r.weight_shape),
            known("biases"): r.biases,
            known("parameters"): r.parameters,
            known("multiply-adds"): r.multiply_adds,
        })
    return rows


@dataclass(frozen=True)
class Preset:
    label: str
    input_shape: tuple[int, int, int, int]
    layers: tuple[LayerSpec, ...]
    note: str


PRESETS: dict[str, Preset] = {p.label: p for p in (
    Preset(known("Lecture exercise: 3×7×7, ten then twenty 3×3 filters"), (1, 3, 7, 7),
           (LayerSpec(10, 3), LayerSpec(20, 3)),
           known("A 3×3 kernel without padding trims 2: 7 → 5 → 3. The filter's channel count is "
                 "dictated by its input: 3, then 10.")),
    Preset(known("Same exercise with a batch of 32"), (32, 3, 7, 7), (LayerSpec(10, 3), LayerSpec(20, 3)),
           known("N only travels along: the weight shapes and parameter counts do not change with the batch "
                 "size; the multiply-adds grow 32 times.")),
    Preset(known("CIFAR-10 batch 32×3×32×32 (this network's block 1)"), (32, 3, 32, 32),
           (LayerSpec(32, 3, padding=1), LayerSpec(32, 3, padding=1, pool="max")),
           known("Padding 1 keeps 32×32; the 2×2 max pooling halves height and width and keeps the 32 channels.")),
    Preset(known("1×1 convolution: 28×28×192 → 32 filters of 1×1×192"), (1, 192, 28, 28), (LayerSpec(32, 1),),
           known("A 1×1 convolution changes the channel count and keeps height and width (lecture §4).")),
)}
DEFAULT_PRESET = next(iter(PRESETS))


# --- 2. Pooling on a small example --------------------------------------------------------

POOL_EXAMPLE = np.array([
    [[1, 3, 2, 0],
     [5, 6, 1, 2],
     [7, 2, 9, 4],
     [0, 1, 3, 8]],
    [[0, 2, 4, 6],
     [2, 0, 6, 4],
     [1, 1, 0, 0],
     [3, 3, 0, 8]],
], dtype=np.float32)  # 2 channels × 4 × 4


@dataclass(frozen=True)
class Pooled:
    maximum: np.ndarray  # C×2×2: 2×2 max pooling, stride 2
    average: np.ndarray  # C×2×2: 2×2 average pooling, stride 2
    global_average: np.ndarray  # C: global average pooling, one number per channel


def pool_example(x: np.ndarray = POOL_EXAMPLE) -> Pooled:
    """``x`` (C×H×W) through 2×2 max pooling, 2×2 average pooling and global average pooling."""
    import torch.nn.functional as F

    t = torch.as_tensor(np.asarray(x, dtype=np.float32))[None]
    return Pooled(F.max_pool2d(t, 2)[0].numpy(), F.avg_pool2d(t, 2)[0].numpy(),
                  F.adaptive_avg_pool2d(t, 1)[0, :, 0, 0].numpy())


# --- 3. Receptive fields ------------------------------------------------------------------

def _pair(v) -> int:
    """Square kernels, strides and paddings only (the lecture's layers): the first value."""
    return int(v[0]) if isinstance(v, tuple) else int(v)


@dataclass(frozen=True)
class FieldRow:
    layer: str
    kind: str
    output_side: int  # H = W of the output
    receptive_field: int  # side of the input square one output pixel sees
    jump: int  # input pixels between neighbouring output pixels (product of the strides)
    start: float = 0.0  # input row (= column) at the centre of output position 0's window

    def covers(self, i: int) -> tuple[int, int]:
        """First and last input row (or column) in the window of output position ``i``. Values
        below 0 or past the image's last pixel are zero padding: the window is centred on its
        position, so near the border part of it hangs over the edge."""
        centre = self.start + self.jump * i
        half = (self.receptive_field - 1) / 2
        return round(centre - half), round(centre + half)

    def covers_text(self) -> str:
        """The window of position i as a formula, e.g. "4i − 14 … 4i + 17"."""
        low, high = self.covers(0)

        def term(offset: int) -> str:
            var = "i" if self.jump == 1 else f"{self.jump}i"
            return var if offset == 0 else f"{var} {'+' if offset > 0 else '−'} {abs(offset)}"

        return f"{term(low)} … {term(high)}"


def receptive_fields(named_modules: list[tuple[str, nn.Module]], image_size: int) -> list[FieldRow]:
    """Receptive field, jump, window centre and output side after each layer of a chain of 2-D
    layers.

    For Conv2d, MaxPool2d and AvgPool2d (kernel k, stride s, padding p, dilation d): every window
    adds (k − 1)·d·jump to the field (a 2×2 pooling adds 1·jump, as a 3×3 convolution adds 2·jump),
    the centre of position 0 moves by ((k − 1)·d/2 − p)·jump, then the jump is multiplied by s.
    Global (adaptive) pooling to 1×1 sees the whole map; other layers (BatchNorm, ReLU, …) change
    nothing.
    """
    rf, jump, side, start = 1, 1, image_size, 0.0
    rows = []
    for name, m in named_modules:
        if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k, s, p = _pair(m.kernel_size), _pair(m.stride), _pair(m.padding)
            d = _pair(getattr(m, "dilation", 1))
            rf += (k - 1) * d * jump
            start += ((k - 1) * d / 2 - p) * jump
            side = (side + 2 * p - d * (k - 1) - 1) // s + 1
            jump *= s
        elif isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
            if _pair(m.output_size) != 1:
                raise ValueError(f"{name}: only global pooling (output 1×1) is supported")
            rf += (side - 1) * jump
            start += (side - 1) / 2 * jump
            jump *= side
            side = 1
        elif isinstance(m, (nn.Flatten, nn.Linear)):
            break
        rows.append(FieldRow(name, type(m).__name__, side, rf, jump, start))
    return rows


def model_receptive_fields(model, image_size: int = 32) -> list[FieldRow]:
    """Every layer of the lecture network up to global average pooling."""
    from explain.activations import layers

    return receptive_fields([(info.name, info.module) for info in layers(model)], image_size)


def what_a_position_sees(row: FieldRow, image_size: int = 32, lang: str = "en") -> str:
    """What one position of the layer in ``row`` sees of the ``image_size``×``image_size`` input,
    in words a lecturer can repeat: the one wording of the app (Feature maps and Shapes pages).

    A field as wide as the image is not the image: each window is centred on its own position,
    so near the border part of it lies on the zero padding, and it may be that no single window
    covers the whole image (block3.conv2: position i covers 4i − 14 … 4i + 17)."""
    n, rf = image_size, row.receptive_field
    if row.output_side == 1:
        return translate("the whole {n}×{n} image: its single position pools every position of the layer "
                         "before it", lang, n=n)
    window = translate("input rows and columns {covers}", lang, covers=row.covers_text())
    whole = [i for i in range(row.output_side) if row.covers(i)[0] <= 0 and row.covers(i)[1] >= n - 1]
    if rf < n:
        return translate("a {rf}×{rf}-pixel window of the input (position i covers {window})", lang, rf=rf,
                         window=window)
    size = (translate("as wide as the image", lang) if rf == n
            else translate("wider than the {n}×{n} image", lang, n=n))
    if not whole:
        sees = translate("no single position sees the whole image", lang)
    elif len(whole) == row.output_side:
        sees = translate("every position covers the whole image, part of it on the padding", lang)
    else:
        sees = translate("only {count} of the {side} positions in a row cover every column", lang,
                         count=len(whole), side=row.output_side)
    return translate("a {rf}×{rf}-pixel window, {size} but centred on the position (position i covers {window}): "
                     "near the border, part of it is zero padding, and {sees}", lang, rf=rf, size=size,
                     window=window, sees=sees)


def receptive_field_rule(fields: list[FieldRow], lang: str = "en") -> str:
    """How the receptive field grows, with this chain's own pooling steps as examples
    (the lecture network: 5 → 6, 14 → 16, 32 → 36)."""
    steps = [f"{before.receptive_field} → {row.receptive_field}" for before, row in pairwise(fields)
             if row.kind in ("MaxPool2d", "AvgPool2d")]
    examples = translate(" ({steps} here)", lang, steps=", ".join(steps)) if steps else ""
    return translate("How many input pixels (a square of that side) one output pixel of a layer can see. Every "
                     "window adds (k − 1)·jump, the jump being the input distance between neighbouring output "
                     "pixels: a 3×3 convolution adds 2·jump, a 1×1 convolution nothing, and a 2×2 pooling adds "
                     "1·jump{examples} before its stride of 2 doubles the jump. Conv–pool–conv–pool: maps get "
                     "smaller and more numerous, and one deep pixel sees a wide area of the image.", lang,
                     examples=examples)


def field_rows(fields: list[FieldRow], channels: dict[str, int], image_size: int = 32,
               lang: str = "en") -> list[dict]:
    """Table rows; ``channels`` maps a layer name to its output channel count (column names in
    English: the page translates them)."""
    rows = []
    for f in fields:
        rf = f"{f.receptive_field}×{f.receptive_field}"
        if f.output_side == 1:
            rf += translate(" (whole image)", lang)
        elif f.receptive_field == image_size:
            rf += translate(" (as wide as the image)", lang)
        elif f.receptive_field > image_size:
            rf += translate(" (wider than the image)", lang)
        rows.append({known("layer"): f.layer, known("type"): f.kind,
                     known("output (C×H×W)"): f"{channels[f.layer]}×{f.output_side}×{f.output_side}",
                     known("receptive field"): rf, known("jump (pixels)"): f.jump,
                     known("position i sees rows/columns"): (translate("all", lang) if f.output_side == 1
                                                             else f.covers_text())})
    return rows


# --- 4. Reference architectures -----------------------------------------------------------

class LeNet5(nn.Module):
    """LeNet-5 as it is usually rebuilt today, on 1×32×32: conv 6@5×5, average pooling, conv 16@5×5
    (every map sees all six maps before it), average pooling, fully connected 120, 84, 10.

    Not LeCun et al.'s 1998 network (see :func:`lenet5_1998_parameters`): there each C3 map sees
    only 3, 4 or 6 of the S2 maps, and each subsampling map has a trainable weight and bias."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2),
            nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(),
            nn.Linear(84, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


# LeCun et al. 1998, Table I: how many of the six S2 maps each of the 16 C3 maps is connected to.
LENET5_C3_INPUTS = (3,) * 6 + (4,) * 9 + (6,)


def lenet5_1998_parameters() -> dict[str, int]:
    """Trainable parameters of LeCun et al.'s 1998 LeNet-5, layer by layer (the paper: "60,000").

    C1: 6 filters 5×5 + bias; S2 and S4: one trainable coefficient and one bias per map; C3: a 5×5
    filter per connection of Table I + a bias per map; C5, F6: full; the output's RBF units have
    fixed, hand-chosen parameters, so they do not count."""
    return {"C1": 6 * (25 + 1), "S2": 6 * 2, "C3": 25 * sum(LENET5_C3_INPUTS) + 16, "S4": 16 * 2,
            "C5": 120 * (16 * 25 + 1), "F6": 84 * (120 + 1)}


def alexnet_2012() -> nn.Module:
    """Krizhevsky et al.'s 2012 AlexNet for counting (built on the meta device by the caller): 96,
    256, 384, 384, 256 convolution channels; the network was split over two GPUs, so convolutions
    2, 4 and 5 only see the half of the maps on their own GPU (``groups=2``); fully connected 4096,
    4096, 1000. torchvision's ``alexnet`` is the one-GPU variant (64, 192, 384, 256, 256)."""
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Flatten(), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(), nn.Linear(4096, 4096), nn.ReLU(),
        nn.Linear(4096, 1000))


# Szegedy et al. 2014, Table 1: input channels, #1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj.
GOOGLENET_INCEPTIONS = {
    "3a": (192, 64, 96, 128, 16, 32, 32), "3b": (256, 128, 128, 192, 32, 96, 64),
    "4a": (480, 192, 96, 208, 16, 48, 64), "4b": (512, 160, 112, 224, 24, 64, 64),
    "4c": (512, 128, 128, 256, 24, 64, 64), "4d": (512, 112, 144, 288, 32, 64, 64),
    "4e": (528, 256, 160, 320, 32, 128, 128), "5a": (832, 256, 160, 320, 32, 128, 128),
    "5b": (832, 384, 192, 384, 48, 128, 128),
}


def googlenet_2014(aux_logits: bool = False) -> nn.Module:
    """The layers of Szegedy et al.'s 2014 GoogLeNet (Table 1), for counting: real 5×5 convolutions,
    biases, no BatchNorm (torchvision's ``googlenet`` adds BatchNorm and uses a 3×3 convolution in
    the "5×5" branch). Pooling, local response normalisation and dropout have no parameters."""
    def inception(c_in, a, b_red, b, c_red, c, d):
        return nn.ModuleList([nn.Conv2d(c_in, a, 1), nn.Conv2d(c_in, b_red, 1), nn.Conv2d(b_red, b, 3, padding=1),
                              nn.Conv2d(c_in, c_red, 1), nn.Conv2d(c_red, c, 5, padding=2), nn.Conv2d(c_in, d, 1)])

    def auxiliary(c_in):  # average pooling 5×5/3 → 4×4, 1×1 conv to 128, fc 1024, fc 1000
        return nn.ModuleList([nn.Conv2d(c_in, 128, 1), nn.Linear(128 * 4 * 4, 1024), nn.Linear(1024, 1000)])

    layers = nn.ModuleDict({"conv1": nn.Conv2d(3, 64, 7, stride=2, padding=3), "conv2_reduce": nn.Conv2d(64, 64, 1),
                            "conv2": nn.Conv2d(64, 192, 3, padding=1),
                            **{name: inception(*row) for name, row in GOOGLENET_INCEPTIONS.items()},
                            "fc": nn.Linear(1024, 1000)})
    if aux_logits:
        layers.update({"aux1": auxiliary(512), "aux2": auxiliary(528)})
    return layers


@dataclass(frozen=True)
class ArchitectureInfo:
    name: str
    parameters: int
    conv_layers: int
    linear_layers: int
    input_shape: str
    note: str
    variant: str = ""  # which version of the network the count is of
    original: int | None = None  # the original network's parameters, where the counted one differs
    original_variant: str = ""  # what the original network was


NOTES = {  # English source texts (the page shows them translated)
    "LeNet-5": known("1998, postal codes: two convolution layers with pooling, then fully connected "
                     "layers (120, 84 and 10 units)."),
    "AlexNet": known("2012: deeper, about 60 million parameters, ImageNet's 1.2 million images, ReLU, "
                     "dropout; the original was split over two GPUs."),
    "VGG-16": known("Only 3×3 convolutions and 2×2 max pooling: stacked small filters widen the receptive "
                    "field with fewer parameters than one large filter. Most parameters are in the "
                    "fully connected layers."),
    "GoogLeNet": known("22 layers of inception blocks; 1×1 convolutions before the 3×3 and 5×5 ones cut "
                       "parameters and computation."),
    known("GoogLeNet + auxiliary classifiers"): known("The two auxiliary classifiers help training and are "
                                                      "dropped at test time."),
    known("This network"): known("Blocks of 2, 3 and 3 convolutions (32, 64, 128 maps), 1×1 convolutions ending "
                                 "blocks 2 and 3, global average pooling and one linear layer."),
}

TORCHVISION_GOOGLENET = known("torchvision's: BatchNorm after every convolution, a 3×3 convolution in the “5×5” "
                              "branch")
ORIGINAL_GOOGLENET = known("Szegedy et al. 2014: real 5×5 convolutions, no BatchNorm")
VARIANTS = {  # name: (the variant counted, the original network where it differs)
    "LeNet-5": (known("today's usual rebuild: every C3 map sees all S2 maps, plain average pooling"),
                known("LeCun et al. 1998: C3 maps see 3, 4 or 6 S2 maps; trainable subsampling")),
    "AlexNet": (known("torchvision's one-GPU variant: 64, 192, 384, 256, 256 convolution channels"),
                known("Krizhevsky et al. 2012, two GPUs: 96, 256, 384, 384, 256 channels, layers 2, 4, 5 split")),
    "VGG-16": (known("torchvision's: configuration D of the paper"), ""),
    "GoogLeNet": (TORCHVISION_GOOGLENET, ORIGINAL_GOOGLENET),
    "GoogLeNet + auxiliary classifiers": (TORCHVISION_GOOGLENET, ORIGINAL_GOOGLENET),
    "This network": (known("the trained checkpoint"), ""),
}


def describe(name: str, model: nn.Module, input_shape: str, original: int | None = None) -> ArchitectureInfo:
    modules = list(model.modules())
    variant, original_variant = VARIANTS.get(name, ("", ""))
    return ArchitectureInfo(name, sum(p.numel() for p in model.parameters()),
                            sum(isinstance(m, nn.Conv2d) for m in modules),
                            sum(isinstance(m, nn.Linear) for m in modules), input_shape, NOTES.get(name, ""),
                            variant, original, original_variant if original is not None else "")


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def reference_architectures() -> list[ArchitectureInfo]:
    """LeNet-5 and torchvision's AlexNet, VGG-16 and GoogLeNet (with and without the auxiliary
    classifiers), built with no weights on the meta device: counted, never allocated or downloaded.
    Where the counted network differs from the one in the paper, the paper's is counted too."""
    import torchvision.models as tvm  # slow import: only here

    with torch.device("meta"):
        built = [
            ("LeNet-5", LeNet5(), "1×32×32", sum(lenet5_1998_parameters().values())),
            ("AlexNet", tvm.alexnet(weights=None), "3×224×224", parameter_count(alexnet_2012())),
            ("VGG-16", tvm.vgg16(weights=None), "3×224×224", None),
            ("GoogLeNet", tvm.googlenet(weights=None, aux_logits=False, init_weights=False), "3×224×224",
             parameter_count(googlenet_2014())),
            ("GoogLeNet + auxiliary classifiers",
             tvm.googlenet(weights=None, aux_logits=True, init_weights=False), "3×224×224",
             parameter_count(googlenet_2014(aux_logits=True))),
        ]
    return [describe(name, model, shape, original) for name, model, shape, original in built]


def reference_architectures_apart(cache: Path, timeout: float = 600) -> list[ArchitectureInfo]:
    """:func:`reference_architectures`, counted in a child Python process and kept in ``cache``
    (one JSON file per torch and torchvision version). Importing torchvision loads its operators and
    Triton: ~160 MB that the server would keep for its whole life to count five networks once.
    Raises RuntimeError with the child's last words if it fails."""
    path = Path(cache) / f"architectures-torch{version('torch')}-torchvision{version('torchvision')}.json"
    try:
        return [ArchitectureInfo(**row) for row in json.loads(path.read_text())]
    except (OSError, ValueError, TypeError):  # not counted yet, or an old or broken file: count again
        pass
    try:
        done = subprocess.run([sys.executable, "-m", "explain.shapes"], cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"counting the reference architectures failed: {exc}") from exc
    if done.returncode != 0:
        raise RuntimeError(f"counting the reference architectures failed: {done.stderr.strip()[-500:]}")
    rows = json.loads(done.stdout)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as tmp:
            tmp.write_text(json.dumps(rows))
    except OSError:  # a read-only cache: counted again next time
        pass
    return [ArchitectureInfo(**row) for row in rows]


def architecture_rows(infos: list[ArchitectureInfo], lang: str = "en") -> list[dict]:
    """One row per network: the variant counted beside the original's count where they differ
    (column names in English: the page translates them)."""
    return [{known("network"): translate(i.name, lang), known("variant counted"): translate(i.variant, lang),
             known("input"): i.input_shape, known("parameters"): i.parameters,
             known("original network"): (f"{i.original:,} ({translate(i.original_variant, lang)})"
                                         if i.original is not None else translate("the same", lang)),
             known("conv layers"): i.conv_layers, known("fully connected layers"): i.linear_layers,
             known("note"): translate(i.note, lang)}
            for i in infos]


# --- 5. GoogLeNet's 1×1 bottleneck --------------------------------------------------------

@dataclass(frozen=True)
class Bottleneck:
    direct: ConvCost  # k×k straight from C_in to C_out
    reduce: ConvCost  # 1×1 from C_in to the bottleneck width
    after: ConvCost  # k×k from the bottleneck width to C_out

    @property
    def weights(self) -> int:
        return self.reduce.weights + self.after.weights

    @property
    def parameters(self) -> int:
        return self.reduce.parameters + self.after.parameters

    @property
    def multiply_adds(self) -> int:
        return self.reduce.multiply_adds + self.after.multiply_adds


def bottleneck(c_in: int = 192, c_out: int = 32, width: int = 16, kernel: int = 5,
               side: int = 28) -> Bottleneck:
    """The lecture's example by default: 28×28×192 → 5×5 conv to 32 maps, directly or via 1×1 to 16."""
    return Bottleneck(ConvCost(kernel, c_in, c_out, side, side), ConvCost(1, c_in, width, side, side),
                      ConvCost(kernel, width, c_out, side, side))


def bottleneck_rows(b: Bottleneck, lang: str = "en") -> list[dict]:
    """The two ways as table rows (column names in English: the page translates them)."""
    d, r, a = b.direct, b.reduce, b.after
    k = d.kernel
    way, layers, weights = known("way"), known("layers"), known("weights")
    parameters, multiply_adds = known("parameters (with biases)"), known("multiply-adds")
    return [
        {way: translate("direct {k}×{k}", lang, k=k), layers: f"{d.c_out} × {k}×{k}×{d.c_in}",
         weights: d.weights, parameters: d.parameters, multiply_adds: d.multiply_adds},
        {way: translate("1×1 to {width}, then {k}×{k}", lang, width=r.c_out, k=k),
         layers: translate("{width} × 1×1×{c_in}, then {c_out} × {k}×{k}×{width}", lang, width=r.c_out,
                           c_in=r.c_in, c_out=a.c_out, k=k),
         weights: b.weights, parameters: b.parameters, multiply_adds: b.multiply_adds},
    ]


# --- 6. VGG: stacked 3×3 against one large filter -------------------------------------------

@dataclass(frozen=True)
class Stack:
    layers: int  # how many 3×3 convolutions
    channels: int  # C in and out of every layer
    receptive_field: int  # of the stack, from real layers
    stacked_weights: int  # layers · 9 · C²
    single_kernel: int  # the one filter with the same receptive field
    single_weights: int  # single_kernel² · C²


def stacked_3x3(layers: int, channels: int) -> Stack:
    """``layers`` 3×3 convolutions (C→C, padding 1) against one filter with the same receptive field."""
    if layers < 1 or channels < 1:
        raise ValueError("need at least one layer and one channel")
    with torch.device("meta"):
        convs = [nn.Conv2d(channels, channels, 3, padding=1, bias=False) for _ in range(layers)]
    fields = receptive_fields([(f"conv{i}", c) for i, c in enumerate(convs, 1)], image_size=64)
    rf = fields[-1].receptive_field
    stacked = sum(p.numel() for c in convs for p in c.parameters())
    single = ConvCost(rf, channels, channels, 1, 1).weights
    return Stack(layers, channels, rf, stacked, rf, single)


def stack_rows(stacks: list[Stack], lang: str = "en") -> list[dict]:
    """Table rows (column names in English: the page translates them)."""
    rows = []
    for s in stacks:
        rows.append({known("receptive field"): f"{s.receptive_field}×{s.receptive_field}",
                     known("stacked 3×3"): f"{s.layers} × 3×3: {s.layers}·9·C² = {s.stacked_weights:,}",
                     known("one large filter"): translate("one {k}×{k}: {square}·C² = {weights:,}", lang,
                                                          k=s.single_kernel, square=s.single_kernel ** 2,
                                                          weights=s.single_weights),
                     known("saving"): translate("{saving:.0%} fewer weights", lang,
                                                saving=1 - s.stacked_weights / s.single_weights)})
    return rows



# --- Why convolution (lecture §1) ------------------------------------------------------------

@dataclass(frozen=True)
class DenseVsConv:
    """One fully connected layer and one convolution with the same input and output shape."""

    input_shape: tuple[int, int, int]     # C×H×W
    output_shape: tuple[int, int, int]    # filters×H×W (the convolution is padded to keep H×W)
    dense_parameters: int
    conv_parameters: int
    dense_inputs_per_output: int          # every input value
    conv_inputs_per_output: int           # a k×k neighbourhood over all C channels
    conv_positions: int                   # H×W positions sharing the same weights


def dense_vs_conv(channels: int = 3, size: int = 32, filters: int = 32, kernel: int = 3) -> DenseVsConv:
    """Counted on real layers built on the meta device (nothing allocated)."""
    with torch.device("meta"):
        conv = nn.Conv2d(channels, filters, kernel, padding=kernel // 2)
    out = output_shape(conv, (1, channels, size, size))[1:]
    with torch.device("meta"):
        dense = nn.Linear(channels * size * size, int(np.prod(out)))
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    return DenseVsConv((channels, size, size), tuple(int(n) for n in out), count(dense), count(conv),
                       channels * size * size, channels * kernel * kernel, int(out[1] * out[2]))


if __name__ == "__main__":  # reference_architectures_apart's child: the counts as JSON on stdout
    print(json.dumps([asdict(info) for info in reference_architectures()]))
