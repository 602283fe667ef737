"""Every intermediate output of the lecture network, by its ``named_modules()`` name.

The network is a chain of ``nn.Sequential`` blocks, so running it child by child gives
every layer's output in one forward pass with no hooks left behind and without importing
torchvision's FX machinery (which costs seconds at start-up on this machine).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from model.network import LectureCNN

BLOCK_NAMES = ("block1", "block2", "block3")


@dataclass(frozen=True)
class LayerInfo:
    name: str  # e.g. "block3.conv3"
    block: str  # e.g. "block3", or "head"
    kind: str  # "conv", "bn", "relu", "pool", "gap", "linear"
    module: nn.Module

    @property
    def is_one_by_one(self) -> bool:
        return isinstance(self.module, nn.Conv2d) and self.module.kernel_size == (1, 1)


_KINDS = ((nn.Conv2d, "conv"), (nn.BatchNorm2d, "bn"), (nn.ReLU, "relu"), (nn.MaxPool2d, "pool"),
          (nn.AdaptiveAvgPool2d, "gap"), (nn.Flatten, "flatten"), (nn.Linear, "linear"))


def _kind(module: nn.Module) -> str:
    for cls, kind in _KINDS:
        if isinstance(module, cls):
            return kind
    return type(module).__name__.lower()


def layers(model: LectureCNN) -> list[LayerInfo]:
    """All layers in forward order, convolutions to classifier."""
    out = []
    for block in BLOCK_NAMES:
        for child, module in getattr(model, block).named_children():
            out.append(LayerInfo(f"{block}.{child}", block, _kind(module), module))
    for child in ("gap", "flatten", "classifier"):
        module = getattr(model, child)
        out.append(LayerInfo(child, "head", _kind(module), module))
    return out


def map_layers(model: LectureCNN) -> list[LayerInfo]:
    """Layers whose output is a stack of 2-D feature maps (everything inside the blocks)."""
    return [info for info in layers(model) if info.block in BLOCK_NAMES]


def check_layer(model: LectureCNN, name: str, *, maps_only: bool = True) -> LayerInfo:
    """The layer called ``name``; ``ValueError`` listing the valid names otherwise."""
    candidates = map_layers(model) if maps_only else layers(model)
    for info in candidates:
        if info.name == name:
            return info
    valid = ", ".join(i.name for i in candidates)
    raise ValueError(f"unknown layer {name!r}; valid layers are: {valid}")


def modules_up_to(model: LectureCNN, name: str) -> list[nn.Module]:
    """The modules that map the input to layer ``name``'s output, in order (``name``'s included):
    run them one after the other to stop the forward pass there. ``ValueError`` for an unknown name."""
    check_layer(model, name)
    chain = []
    for info in layers(model):
        chain.append(info.module)
        if info.name == name:
            break
    return chain


@torch.inference_mode()
def all_activations(model: LectureCNN, x: torch.Tensor,
                    only: tuple[str, ...] | None = None) -> dict[str, torch.Tensor]:
    """Output of every layer for input ``x`` (N×3×32×32), plus ``"input"`` and ``"logits"``; or,
    with ``only``, just those map layers' outputs, the pass stopped at the last of them (a batch
    keeps no more than it needs).

    The model must be in eval mode (the cached model always is); it is not changed.
    """
    if model.training:
        raise ValueError("all_activations needs the model in eval mode (BatchNorm statistics)")
    if only is not None:
        wanted = {check_layer(model, name).name for name in only}
        acts: dict[str, torch.Tensor] = {}
        h = x
        for info in layers(model):
            h = info.module(h)
            if info.name in wanted:
                acts[info.name] = h
                if len(acts) == len(wanted):
                    break
        return acts
    acts = {"input": x}
    h = x
    for info in layers(model):
        h = info.module(h)
        acts[info.name] = h
    acts["logits"] = h
    return acts


def output_shapes(model: LectureCNN, image_size: int = 32) -> dict[str, tuple[int, ...]]:
    """N×C×H×W (or N×F) of every layer for one image."""
    acts = all_activations(model, torch.zeros(1, 3, image_size, image_size))
    return {k: tuple(v.shape) for k, v in acts.items() if k not in ("input", "logits")}


def format_shape(shape: tuple[int, ...]) -> str:
    return "×".join(str(s) for s in shape)
