"""The architecture as a table: layer, type, output shape for one image, parameters.

Plain rows, not a DataFrame: the home page shows this table and importing pandas would add
0.2–0.4 s to the dashboard's first render (python -m bench).
"""

from __future__ import annotations


def architecture_table(model) -> list[dict]:
    """One row per layer of a LectureCNN (torch is imported here, not by markdown_table's users)."""
    from explain.activations import format_shape, layers, output_shapes

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
    return rows


def markdown_table(rows: list[dict]) -> str:
    """Rows with the same keys as a Markdown table (``|`` in values escaped)."""
    if not rows:
        return ""
    keys = list(rows[0])

    def cell(value) -> str:
        return (f"{value:,}" if isinstance(value, int) else str(value)).replace("|", "\\|")

    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(cell(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)
