"""A tiny page for AppTests of ui/present.py (no model, no data)."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from render.slide import ImagePanel, slide_png
from ui.present import explain, export_button, fit, presentation_toggle, share_link
from ui.state import parse_choice, url_widget

presentation_toggle()
st.title("Test page")
explain("This sentence explains the page.")
layer = url_widget(st.selectbox, "Layer", options=["a", "b"], key="layer", default="a", param="layer",
                   parse=parse_choice(["a", "b"]), why="a or b")

st.plotly_chart(fit(go.Figure(layout=dict(height=300, font=dict(size=18)))), key="chart")
red = np.zeros((32, 32, 3), np.uint8)
red[..., 0] = 255
export_button("test.png", lambda: slide_png(f"Layer {layer}", [ImagePanel("red", red)]), key="test_export")
share_link()
