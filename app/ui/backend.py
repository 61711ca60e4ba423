"""The UI's one door to the backend: the cached router/assistant, questions, plans, lookups.

Every page calls these functions and nothing else of the core's query path: questions go through
the router (engine, LLM agent, pasted SQL), page plans through the assistant. Plan results are
cached by (plan, warehouse path and modification time, account, as-of date).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import streamlit as st

from app.core.answer import Answer
from app.core.conversation import Conversation, PageContext
from app.core.errors import AssistantError
from app.core.plan import QueryPlan
from app.core.request import Request
from app.core.settings import Settings, load_settings
from app.llm.local import use_local_llm
from app.pipeline.assistant import Assistant
from app.router import Router
from app.store import AppStore, StoreError

log = logging.getLogger(__name__)

StepCallback = Callable[[Any], None]


@dataclass(frozen=True)
class AccountRow:
    """A merchant account as the sidebar lists it."""

    id: str
    name: str
    currency: str
    timezone: str


def settings() -> Settings:
    """Settings from the environment (cheap; read on every run so tests can change them).

    With LEDGERLENS_LLM=local the agent is pointed at the local model server, started if it is not
    running (`make run LLM=local` starts it before the app, so this only checks it answers).
    """
    return use_local_llm(load_settings())


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return -1.0


def _key(s: Settings) -> str:
    # SecretStr dumps masked, so the key never holds the API key itself.
    return f"{s.model_dump_json()}|{_mtime(s.warehouse_path)}"


def now() -> datetime:
    """The time of a user's action, read here at the UI edge and passed down as `at`."""
    return datetime.now(UTC)  # allowed-clock: UI edge


def _close(assistant: Assistant) -> None:
    assistant.session.close()


def _close_store(store: AppStore) -> None:
    store.db.close()


@st.cache_resource(show_spinner=False, max_entries=4, on_release=_close_store)
def _store(path: str, warehouse: str) -> AppStore:
    try:
        return AppStore(Path(path), warehouse=Path(warehouse))
    except (OSError, sqlite3.Error) as err:  # e.g. a read-only folder: the user's to fix
        raise StoreError(f"The app-state file {path} cannot be opened: {err}") from err


def get_store(s: Settings | None = None) -> AppStore:
    """The app-state store at the `state_path` setting (raises StoreError when unusable)."""
    s = s or settings()
    return _store(str(s.state_path), str(s.warehouse_path))


def _store_or_none(s: Settings) -> AppStore | None:
    try:
        return get_store(s)
    except StoreError as err:  # answers still work; nothing is kept (the sidebar says why)
        log.warning("app-state store unavailable: %s", err)
        return None


@st.cache_resource(show_spinner=False, max_entries=4, on_release=_close)
def _assistant(key: str, _settings: Settings) -> Assistant:
    return Assistant(_settings, store=_store_or_none(_settings))


def get_assistant(s: Settings | None = None) -> Assistant:
    """The shared read-only assistant (raises WarehouseMissing when there is no warehouse)."""
    s = s or settings()
    return _assistant(_key(s), s)


@st.cache_resource(show_spinner=False, max_entries=4)
def _router(key: str, _settings: Settings) -> Router:
    return Router(_settings, get_assistant(_settings))


def get_router(s: Settings | None = None) -> Router:
    """The shared Router (engine first, LLM agent when configured, pasted SQL to the guard)."""
    s = s or settings()
    get_assistant(s)  # a missing warehouse fails here, before any router is built
    return _router(_key(s), s)


def answer(
    question: str,
    *,
    as_of: date,
    account: str,
    conversation: Conversation,
    currency: str | None = None,
    page: PageContext | None = None,
    on_step: StepCallback | None = None,
) -> Answer:
    """Answer a chat question through the router, in the chosen reporting currency."""
    request = Request(
        question,
        as_of=as_of,
        account=account,
        currency=currency,
        page=page,
        conversation=conversation,
    )
    return get_router().ask(request, on_step=on_step)


def run_plan(plan: QueryPlan, *, as_of: date, account: str) -> Answer:
    """Answer a reporting page's plan through the assistant's plan path (cached)."""
    s = settings()
    return _cached_plan(
        plan.model_dump_json(), as_of, account, str(s.warehouse_path), _mtime(s.warehouse_path)
    )


@st.cache_data(show_spinner=False, max_entries=512)
def _cached_plan(plan_json: str, as_of: date, account: str, path: str, mtime: float) -> Answer:
    plan = QueryPlan.model_validate_json(plan_json)
    try:
        return get_assistant().answer_plan(plan, Request("", as_of=as_of, account=account))
    except AssistantError as err:  # e.g. the account lookup itself failed
        return Answer(
            status="error",
            question="",
            account=account,
            as_of=as_of,
            error=str(err),
            headline="Something went wrong answering this.",
            plan=plan,
        )


def accounts() -> list[AccountRow]:
    """Every merchant account in the warehouse, through the guarded path."""
    s = settings()
    return _accounts(str(s.warehouse_path), _mtime(s.warehouse_path))


@st.cache_data(show_spinner=False, max_entries=8)
def _accounts(path: str, mtime: float) -> list[AccountRow]:
    res = get_assistant().session.run_sql(
        "SELECT id, business_profile_name, default_currency, settings_dashboard_timezone "
        "FROM accounts ORDER BY id",
        None,
    )
    return [AccountRow(str(r[0]), str(r[1] or r[0]), str(r[2]), str(r[3])) for r in res.rows]


def latest_date(account: str) -> date | None:
    """Date of the account's latest loaded data (the default as-of date), None if it has none."""
    s = settings()
    return _latest(account, str(s.warehouse_path), _mtime(s.warehouse_path))


@st.cache_data(show_spinner=False, max_entries=64)
def _latest(account: str, path: str, mtime: float) -> date | None:
    fresh = get_assistant().session.freshness(account)
    return fresh.date() if fresh else None


def llm_status() -> str:
    """One line for the sidebar: engine only, or which LLM is configured."""
    return get_router().llm_status()


def llm_enabled() -> bool:
    """Whether questions may go to an LLM agent (then its steps are streamed)."""
    return get_router().llm_enabled
