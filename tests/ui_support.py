"""Helpers for the AppTest tests: open the app on the demo warehouse, read what it shows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app.ui.chat import ChatState

MAIN = Path(__file__).resolve().parent.parent / "app" / "ui" / "main.py"
LLM_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LEDGERLENS_LLM_API_KEY", "LEDGERLENS_LLM_BASE_URL")


@pytest.fixture(autouse=True, scope="module")
def release_app_caches(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the module's app state in a temporary file; close the app's caches afterwards.

    The app keeps conversations in the `state_path` file: never the user's in a test. And
    st.cache_resource lives for the whole process; left open, the app's DuckDB connection would
    stop later tests from opening the same file with another configuration.
    """
    state = tmp_path_factory.mktemp("state") / "state.sqlite3"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LEDGERLENS_STATE_PATH", str(state))
        yield
    st.cache_data.clear()
    st.cache_resource.clear()


def open_app(monkeypatch: pytest.MonkeyPatch, warehouse: Path, **settings: object) -> AppTest:
    """Run the app once on `warehouse` (engine only; `settings` become LEDGERLENS_* variables)."""
    monkeypatch.setenv("LEDGERLENS_WAREHOUSE_PATH", str(warehouse))
    for name in LLM_ENV:
        monkeypatch.delenv(name, raising=False)
    for key, value in settings.items():
        monkeypatch.setenv(f"LEDGERLENS_{key.upper()}", str(value))
    at = AppTest.from_file(str(MAIN), default_timeout=60)
    return at.run()


def plain(markdown: str) -> str:
    """The text a user sees for escaped Markdown (backslash escapes removed)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def ask(at: AppTest, question: str, key: str = "ask-input") -> AppTest:
    """Type a question into a chat input and run the app."""
    return at.chat_input(key=key).set_value(question).run()


def chat(at: AppTest, key: str = "ask") -> ChatState:
    """The chat state behind the Ask page (or a page panel: key="panel:revenue")."""
    state = at.session_state[f"chat:{key}"]
    assert isinstance(state, ChatState)
    return state


def texts(at: AppTest) -> list[str]:
    """Every Markdown, caption, alert and metric string of the page, as rendered source."""
    out = [m.value for m in at.markdown] + [c.value for c in at.caption]
    out += [e.value for e in at.error] + [w.value for w in at.warning] + [i.value for i in at.info]
    out += [m.label for m in at.metric] + [m.value for m in at.metric]
    out += [b.label for b in at.button]
    return out


def assert_no_failure(at: AppTest) -> None:
    """No exception and no error box on the page."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
