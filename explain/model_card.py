"""The architecture as a table: layer, type, output shape for one image, parameters."""

from __future__ import annotations

import pandas as pd

from explain.activations import format_shape, layers, output_shapes
from model.network import LectureCNN


def architecture_table(model: LectureCNN) -> pd.DataFrame:
    shapes = output_shapes(model)
    rows = []
    for info in layers(model):
        if info.kind == "flatten":
            continue
        m = info.module
        if info.kind == "conv":
            kind = f"Conv2d {m.kernel_size[0]}×{m.kernel_size[1]}, {m.in_channels}→{m.out_channels}"
        elif info.kind == "pool":
            kind = f"MaxPool2d {m.kernel_size}×{m.kernel_size}"
        elif info.kind == "linear":
            kind = f"Linear {m.in_features}→{m.out_features}"
        else:
            kind = type(m).__name__
        rows.append({
            "layer": info.name,
            "type": kind,
            "output (N×C×H×W)": format_shape(shapes[info.name]),
            "parameters": sum(p.numel() for p in m.parameters(recurse=False)),
        })
    return pd.DataFrame(rows)
