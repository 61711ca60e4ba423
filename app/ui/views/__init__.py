"""Pages of the Streamlit app, run by st.navigation in app/ui/main.py."""
