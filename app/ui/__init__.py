"""Streamlit UI: the chat page and the reporting pages; the only package that imports streamlit."""
