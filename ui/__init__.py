"""Streamlit glue shared by the pages: cached resources, the current image, URL state."""
