"""Interpretation maths for the dashboard. Plain torch/numpy: never imports Streamlit."""
