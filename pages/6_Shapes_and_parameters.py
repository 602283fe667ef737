"""Shapes and parameters: the N×C×H×W calculator, pooling, receptive fields, architectures and what
1×1 and stacked 3×3 convolutions save (lecture §3, §4, §5, §7). The maths lives in explain.shapes."""

from functools import partial

import pandas as pd
import streamlit as st

from explain.activations import format_shape, output_shapes
from explain.shapes import (
    DEFAULT_PRESET,
    POOL_EXAMPLE,
    POOL_KINDS,
    PRESETS,
    LayerSpec,
    ShapeError,
    apply_chain,
    architecture_rows,
    bottleneck,
    bottleneck_rows,
    chain_rows,
    describe,
    field_rows,
    model_receptive_fields,
    pool_example,
    receptive_field_rule,
    stack_rows,
    stacked_3x3,
    what_a_position_sees,
)
from render.common import bar_figure, panel_figure, wrap
from render.convolution import grid_figure
from render.shapes import pooling_slide, shape_flow_figure
from render.slide import footer_text
from ui import headings
from ui.i18n import lang, tr, translator
from ui.lecture import lecture_bar
from ui.present import (
    explain,
    export_button,
    fill_screen,
    fit,
    presentation_toggle,
    presenting,
    share_link,
    tuck_away,
)
from ui.resources import load_or_stop, reference_architectures_counted
from ui.state import url_part, url_widget
from ui.text import literal

st.set_page_config(page_title=tr("Shapes and parameters"), layout="wide")

MAX_LAYERS = 4
NUMBERS = "{:,}"

ctx = load_or_stop(need_data=False)  # the checkpoint only: no test image is shown here
presentation_toggle()
lecture_bar()


def _table(rows: list[dict], numeric: tuple[str, ...]) -> None:
    """``rows`` (column names in English, from explain.shapes) as a table, its columns translated."""
    frame = pd.DataFrame(rows)
    numbers = {tr(c): NUMBERS for c in numeric if c in frame}
    st.table(frame.rename(columns=tr).style.format(numbers), hide_index=True)


headings.title(tr("Shapes and parameters"))
explain(tr("Every tensor in a CNN is **N×C×H×W**: N images, C channels (feature maps), H rows, W columns. "
           "A filter always has as many channels as its input; its height and width are your choice; "
           "one filter makes one feature map (lecture §3)."))

PARTS = ("calculator", "pooling", "fields", "architectures")
part = PARTS.index(url_part(PARTS))  # a slide's section: the ones before it are tucked away when presenting

# --- 1. The calculator ----------------------------------------------------------------------
tucked = tuck_away(tr("1. The N×C×H×W calculator"), when=part > 0, icon=":material/calculate:")
headings.header(tr("1. The N×C×H×W calculator"))
explain(tr("The shapes below come from real PyTorch layers (`nn.Conv2d`, `nn.MaxPool2d`, `nn.AvgPool2d`) "
           "run on an empty *meta* tensor; parameters are counted on the layer itself."))

_LAYER_KEYS = ("f", "k", "p", "s", "pool", "ps", "pst")


def _layer_values(spec: LayerSpec) -> tuple:
    return (spec.filters, spec.kernel, spec.padding, spec.stride, spec.pool, spec.pool_size, spec.pool_stride)


def _preset_values(preset) -> dict:
    """Every calculator widget's value for ``preset`` (layers beyond the preset's: 8 filters 3×3,
    padding 1)."""
    values = {"sh_preset": preset.label, **{f"sh_{k}": v for k, v in zip("NCHW", preset.input_shape)},
              "sh_layers": len(preset.layers)}
    for i in range(MAX_LAYERS):
        spec = preset.layers[i] if i < len(preset.layers) else LayerSpec(8, 3, padding=1)
        values.update({f"sh_{key}{i}": v for key, v in zip(_LAYER_KEYS, _layer_values(spec))})
    return values


def _apply_preset() -> None:
    for key, value in _preset_values(PRESETS[st.session_state["sh_preset"]]).items():
        if key != "sh_preset":
            st.session_state[key] = value


# Every widget below is kept across pages and while hidden (a layer beyond the chain's length) by
# url_widget (Streamlit's persist_state); these are their first values.
DEFAULTS = {**_preset_values(PRESETS[DEFAULT_PRESET]), "sh_width": 16, "sh_vgg_c": 64}


def kept(widget, label: str, key: str, **kwargs):
    return url_widget(widget, label, key=key, default=DEFAULTS[key], **kwargs)


flow = st.container()  # presenting: the drawn shapes first, the numbers tucked away under them
numbers = tuck_away(tr("The numbers"), when=part == 0, icon=":material/tune:")
kept(st.selectbox, tr("Example from the lecture"), "sh_preset", options=list(PRESETS), on_change=_apply_preset,
     help=tr("Fills in every number below; change any of them afterwards."), format_func=translator())
preset = PRESETS[st.session_state["sh_preset"]]

headings.subheader(tr("Input"))
cols = st.columns(5)
labels = {"N": tr("N (images in the batch)"), "C": tr("C (channels)"), "H": tr("H (height)"), "W": tr("W (width)")}
limits = {"N": 1024, "C": 4096, "H": 1024, "W": 1024}
shape = tuple(int(kept(col.number_input, labels[k], f"sh_{k}", min_value=0, max_value=limits[k], step=1))
              for col, k in zip(cols, "NCHW"))
count = int(kept(cols[4].number_input, tr("Layers in the chain"), "sh_layers", min_value=1, max_value=MAX_LAYERS,
                 step=1, help=tr("Each layer is applied to the previous one's output.")))

specs = []
for i in range(count):
    st.markdown(tr("**Layer {number}**", number=i + 1) + (tr(" (input: the output above)") if i else ""))
    c = st.columns(7)
    f = kept(c[0].number_input, tr("Filters F"), f"sh_f{i}", min_value=0, max_value=4096, step=1)
    k = kept(c[1].number_input, tr("Kernel k (k×k)"), f"sh_k{i}", min_value=0, max_value=31, step=1)
    p = kept(c[2].number_input, tr("Padding p"), f"sh_p{i}", min_value=0, max_value=15, step=1)
    s = kept(c[3].number_input, tr("Stride s"), f"sh_s{i}", min_value=0, max_value=8, step=1)
    pool = kept(c[4].selectbox, tr("Pooling after it"), f"sh_pool{i}", options=POOL_KINDS, format_func=translator())
    ps = kept(c[5].number_input, tr("Pool size"), f"sh_ps{i}", min_value=0, max_value=16, step=1,
              disabled=pool == "none")
    pst = kept(c[6].number_input, tr("Pool stride"), f"sh_pst{i}", min_value=0, max_value=16, step=1,
               disabled=pool == "none")
    specs.append(LayerSpec(int(f), int(k), int(p), int(s), pool, int(ps), int(pst)))

try:
    results = apply_chain(shape, specs)
except ShapeError as e:
    results = None
    st.error(tr("These sizes do not work. {problem} Change the numbers above, or pick an example from the list.",
                problem=literal(e)))

numbers.close()
if results:
    final = results[-1]
    stages = [(tr("input"), shape)] + [(tr("layer {number}", number=i), r.output_shape)
                                       for i, r in enumerate(results, start=1)]
    flow.plotly_chart(fit(shape_flow_figure(stages, lang())), width="stretch", key="sh_flow")
    m = st.columns(4)
    m[0].metric(tr("Input"), format_shape(shape))
    m[1].metric(tr("Output"), format_shape(final.output_shape))
    m[2].metric(tr("Parameters (all layers)"), f"{sum(r.parameters for r in results):,}")
    m[3].metric(tr("Multiply-adds (all layers)"), f"{sum(r.multiply_adds for r in results):,}")
    for i, r in enumerate(results, start=1):
        st.markdown(tr("#### Layer {number}: {before} → {after}", number=i, before=format_shape(r.input_shape),
                       after=format_shape(r.output_shape)))
        st.markdown(tr("Weight **{shape}** (F×C×k×k) = {weights:,} weights, + {biases:,} biases = **{parameters:,} "
                       "parameters**; multiply-adds F·C·k·k·H_out·W_out·N = {product} = **{multiply_adds:,}**",
                       shape=format_shape(r.weight_shape), weights=r.weights, biases=r.biases,
                       parameters=r.parameters, multiply_adds=r.multiply_adds,
                       product=f"{'·'.join(str(v) for v in r.weight_shape)}·{r.conv_shape[2]}·{r.conv_shape[3]}·"
                               f"{r.conv_shape[0]}"))
        st.markdown("  \n".join(r.formulas(lang())))  # body-size text: inline code is too small for a projector
    _table(chain_rows(results, lang()), ("biases", "parameters", "multiply-adds"))
    explain(tr(preset.note) + tr(" Pooling has no parameters."), caption=True)

tucked.close()

# --- 2. Pooling -----------------------------------------------------------------------------
tucked = tuck_away(tr("2. Pooling keeps the channels"), when=part > 1, icon=":material/grid_on:")
headings.header(tr("2. Pooling keeps the channels"))
explain(tr("Max pooling: each 2×2 region elects its largest value. Average pooling: the region mixes. "
           "Pooling works on every channel separately, so the channel count does not change "
           "(2 channels in, 2 out). Global average pooling averages the whole map: **one number per channel** "
           "(lecture §5)."))
pooled = pool_example()
panels = [(tr("Input 2×4×4"), POOL_EXAMPLE), (tr("2×2 max pooling → 2×2×2"), pooled.maximum),
          (tr("2×2 average pooling → 2×2×2"), pooled.average),
          (tr("Global average pooling → 2×1×1"), pooled.global_average[:, None, None])]
top = float(POOL_EXAMPLE.max())
if presenting():  # one figure: a row per channel, a column per stage, one cell size throughout
    grid_rows = [[grid_figure(maps[ch], (wrap(title, 15) + "<br>" if ch == 0 else "") + tr("channel {number}",
                                                                                           number=ch + 1),
                              limit=top, signed=False) for title, maps in panels]
                 for ch in range(POOL_EXAMPLE.shape[0])]
    fill_screen(panel_figure(grid_rows, [4, 2, 2, 2], gap=0.05, row_gap=0.1), "sh_pool_grid", ratio=1.7)
for j, (col, (title, maps)) in enumerate(zip(st.columns(4), panels) if not presenting() else ()):
    col.markdown(f"**{title}**")
    for ch in range(maps.shape[0]):
        side = maps.shape[1]
        col.plotly_chart(fit(grid_figure(maps[ch], tr("channel {number} ({side}×{side})", number=ch + 1, side=side),
                                         limit=top,
                                         signed=False, height=120 + 60 * side)),
                         width="stretch", key=f"sh_pool_{j}_{ch}")
pooling_footer = footer_text(ctx.card.meta.get("architecture", "?"), ctx.card.sha256,
                             tr("the lecture's pooling example (§5)"))
export_button("pooling.png", partial(pooling_slide, panels, top, pooling_footer, lang()), key="export_shapes")

tucked.close()

# --- 3. Receptive fields --------------------------------------------------------------------
tucked = tuck_away(tr("3. Receptive fields"), when=part > 2, icon=":material/bar_chart:")
headings.header(tr("3. Receptive field of every layer of this network"))
shapes = output_shapes(ctx.model)
fields = [f for f in model_receptive_fields(ctx.model)
          if f.kind in ("Conv2d", "MaxPool2d", "AdaptiveAvgPool2d")]
explain(receptive_field_rule(fields, lang()))
field_table = field_rows(fields, {name: s[1] for name, s in shapes.items()}, lang=lang())
_table(field_table, ("jump (pixels)",))
st.plotly_chart(fit(bar_figure([f.layer for f in fields], [f.receptive_field for f in fields],
                               tr("Receptive field side (pixels)"), tr("layer"), tr("pixels"), height=420)),
                width="stretch", key="sh_fields")
first_wide = next(f for f in fields if f.receptive_field >= 32)
explain(tr("At {layer}, one position sees {sees}. Global average pooling ({last}) sees {last_sees}.",
           layer=first_wide.layer, sees=what_a_position_sees(first_wide, lang=lang()), last=fields[-1].layer,
           last_sees=what_a_position_sees(fields[-1], lang=lang())), caption=True)

tucked.close()

# --- 4. Architectures -----------------------------------------------------------------------
headings.header(tr("4. Architectures from the lecture"))
with st.spinner(tr("Counting the parameters of AlexNet, VGG-16 and GoogLeNet…")):
    try:
        references = reference_architectures_counted()
    except RuntimeError as exc:
        st.warning(tr("**AlexNet, VGG-16 and GoogLeNet could not be counted**, so only this network is shown. {why}",
                      why=literal(str(exc))))
        references = []
infos = references + [describe("This network", ctx.model, "3×32×32")]
chart, table = (st.container(), st.container())  # presenting: the chart first, the table below it
if not presenting():
    table, chart = chart, table
with table:
    _table([{k: v for k, v in row.items() if k != "note" or not presenting()}
            for row in architecture_rows(infos, lang())],
           ("parameters",))
explain(tr("Counted on the models themselves, built without weights (nothing downloaded): LeNet-5 as it is "
           "usually rebuilt today and torchvision's AlexNet, VGG-16 and GoogLeNet. Where that is not the network "
           "of the paper, the paper's network is counted too (“original network”). GoogLeNet is shown without "
           "and with its two auxiliary classifiers, which are only used in training."), caption=True,
        container=table)
chart.plotly_chart(fit(bar_figure([tr(i.name) for i in infos], [i.parameters for i in infos],
                                  tr("Parameters (log scale)"), tr("network"), tr("parameters"), height=460)
                    .update_yaxes(type="log", dtick=1)), width="stretch", key="sh_architectures")

# --- 5. GoogLeNet's 1×1 -----------------------------------------------------------------------
headings.header(tr("5. What GoogLeNet's 1×1 convolutions save"))
kept(st.columns([1, 3])[0].number_input, tr("Maps after the 1×1 (bottleneck width)"), "sh_width", min_value=1,
     max_value=192, step=1)
b = bottleneck(width=int(st.session_state["sh_width"]))
explain(tr("The lecture's example: 28×28×192 → 28×28×32 with 5×5 filters, directly or through a 1×1 "
           "convolution to {width} maps first. Multiply-adds for one image, 'same' padding.", width=b.reduce.c_out))
_table(bottleneck_rows(b, lang()), ("weights", "parameters (with biases)", "multiply-adds"))
c1, c2 = st.columns(2)
c1.metric(tr("Weights"), f"{b.weights:,}", tr("{change:+.0%} against direct", change=b.weights / b.direct.weights - 1),
          delta_color="inverse")
c2.metric(tr("Multiply-adds"), f"{b.multiply_adds:,}",
          tr("{change:+.0%} against direct", change=b.multiply_adds / b.direct.multiply_adds - 1),
          delta_color="inverse")

# --- 6. VGG ---------------------------------------------------------------------------------
headings.header(tr("6. VGG: stacked 3×3 against one large filter"))
kept(st.columns([1, 3])[0].number_input, tr("Channels C (in and out of every layer)"), "sh_vgg_c", min_value=1,
     max_value=1024, step=1)
c = int(st.session_state["sh_vgg_c"])
explain(tr("Two 3×3 layers see a 5×5 square, three see 7×7, with fewer weights than one 5×5 or 7×7 "
           "filter, and with a ReLU between them (lecture §7). Weights only, no biases."))
_table(stack_rows([stacked_3x3(2, c), stacked_3x3(3, c)], lang()), ())

share_link()
