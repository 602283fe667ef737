"""A tiny page for AppTests of ui/present.py (no model, no data)."""

import numpy as np
import streamlit as st

from render.slide import ImagePanel, slide_png
from ui.present import explain, export_button, fit, presentation_toggle, share_link
from ui.state import adopt_url_value, keep_widget_value, parse_choice, write_url

presentation_toggle()
st.title("Test page")
explain("This sentence explains the page.")
keep_widget_value("layer", "a")
adopt_url_value("layer", "layer", parse_choice(["a", "b"]), "a or b")
layer = st.selectbox("Layer", ["a", "b"], key="layer")
st.session_state["_kept_layer"] = layer
write_url(layer=layer)
import plotly.graph_objects as go  # noqa: E402

st.plotly_chart(fit(go.Figure(layout=dict(height=300, font=dict(size=18)))), key="chart")
red = np.zeros((32, 32, 3), np.uint8)
red[..., 0] = 255
export_button("test.png", lambda: slide_png(f"Layer {layer}", [ImagePanel("red", red)]), key="test_export")
share_link()
