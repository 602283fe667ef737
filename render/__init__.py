"""Figures (Plotly, Vega-Lite) and slides (matplotlib) of each view; no Streamlit here."""
