"""LangChain's own SQL agent as an eval backend: the peer the live benchmark sets beside ours.

Built the way LangChain's v1 tutorial ("Build a SQL agent") builds one: `SQLDatabase` over the
database, `SQLDatabaseToolkit(db=db, llm=model).get_tools()` (list tables, table schema, query
checker, run query) and `langchain.agents.create_agent(model, tools, system_prompt=...)`, with the
toolkit's own SQL agent prompt (`SQL_PREFIX`, top_k 5 as the tutorial sets) plus the tutorial's
"look at the tables first, then the schemas" instruction. Two additions, both given to our agent
too: the question's as-of date in the system prompt, and the same output cap and tool-call budget.

`SQLDatabase` cannot reflect a DuckDB 2.0 file (duckdb-engine), so the case's account is mirrored
from the warehouse into SQLite: every base table (views excluded, as SQLDatabase does by default)
with that account's rows only, so the peer is tenant-scoped by its data as ours is by its guard.

Scoring goes through the same Runner and scorers as ours: the peer's answer table is the result of
the last query it ran without error, re-run on the mirror for typed values; it counts as an
answer when such a query ran and the agent's final message is not empty, as a refusal otherwise.
"""

from __future__ import annotations

import hashlib
import threading
import time
import warnings
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app.core.answer import Answer, Column, LlmUsage
from app.core.conversation import Conversation
from app.core.settings import Settings
from app.ingest.fixture import read_only
from app.pipeline.assistant import Assistant
from app.semantic.catalog import warehouse_catalog
from evals.run import Ask

SQLITE_TYPES: dict[str, Any] = {
    "VARCHAR": sa.String,
    "BIGINT": sa.BigInteger,
    "DOUBLE": sa.Float,
    "BOOLEAN": sa.Boolean,
    "TIMESTAMP": sa.DateTime,
}
TOP_K = 5  # the tutorial's value
FIRST_LOOK = (
    "Begin by listing the tables in the database to see what you can query; do not skip this "
    "step. Then fetch the schema of the most relevant tables."
)
QUERY_TOOL = "sql_db_query"
_MIRROR_LOCK = threading.Lock()


def mirror_account(warehouse: Path, account: str, folder: Path) -> Path:
    """A SQLite copy of one account's rows of every base table (built once per warehouse file)."""
    stamp = hashlib.sha256(f"{warehouse.resolve()}:{warehouse.stat().st_mtime_ns}".encode())
    target = folder / f"peer-{warehouse.stem}-{account}-{stamp.hexdigest()[:12]}.sqlite"
    with _MIRROR_LOCK:
        if target.exists():
            return target
        folder.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        engine = sa.create_engine(f"sqlite:///{partial}")
        meta = sa.MetaData()
        catalog = {n: t for n, t in warehouse_catalog().items() if not t.view_of}
        tables = {
            name: sa.Table(
                name,
                meta,
                *(sa.Column(c.name, SQLITE_TYPES.get(c.type, sa.String)) for c in info.columns),
            )
            for name, info in catalog.items()
        }
        meta.create_all(engine)
        with read_only(warehouse) as source, engine.begin() as out:
            for name, info in catalog.items():
                names = [c.name for c in info.columns]
                cols = ", ".join(f'"{n}"' for n in names)
                rows = source.execute(
                    f'SELECT {cols} FROM "{name}" WHERE merchant_id = ?', [account]
                ).fetchall()
                if rows:
                    out.execute(
                        tables[name].insert(), [dict(zip(names, r, strict=True)) for r in rows]
                    )
        engine.dispose()
        partial.rename(target)
        return target


def chat_model(settings: Settings) -> Any:
    """The same OpenAI-compatible model our agent uses, with the same output cap, no retries."""
    from app.agent.loop import chat_model as agent_chat_model

    return agent_chat_model(settings.model_copy(update={"llm_max_retries": 0}))


def _community() -> Any:
    """langchain_community, whose import warns that the package is being sunset (the tutorial
    still builds its SQL agent from it); the warning is silenced for this import only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import langchain_community.agent_toolkits as toolkits
        import langchain_community.agent_toolkits.sql.prompt as prompt
        import langchain_community.utilities as utilities
    return toolkits, prompt, utilities


def system_prompt(dialect: str, as_of: date) -> str:
    """The toolkit's SQL agent prompt, the tutorial's first-look step, and the as-of date."""
    prefix: str = _community()[1].SQL_PREFIX
    return (
        prefix.format(dialect=dialect, top_k=TOP_K)
        + "\n"
        + FIRST_LOOK
        + f"\nToday's date is {as_of.isoformat()}."
    )


def _usage(messages: list[Any], model: str) -> LlmUsage:
    calls = prompt = completion = cached = 0
    for m in messages:
        meta = getattr(m, "usage_metadata", None)
        if not meta:
            continue
        calls += 1
        prompt += int(meta.get("input_tokens", 0))
        completion += int(meta.get("output_tokens", 0))
        cached += int((meta.get("input_token_details") or {}).get("cache_read", 0) or 0)
    return LlmUsage(
        model=model,
        calls=calls,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cached_tokens=cached,
        tool_mode="native (LangChain create_agent)",
    )


def last_good_query(messages: list[Any]) -> str | None:
    """The SQL of the last query tool call whose result was not an error."""
    calls = {
        c["id"]: c["args"].get("query")
        for m in messages
        for c in getattr(m, "tool_calls", None) or []
        if c.get("name") == QUERY_TOOL
    }
    for m in reversed(messages):
        call_id = getattr(m, "tool_call_id", None)
        text = str(getattr(m, "content", ""))
        if call_id in calls and calls[call_id] and not text.startswith("Error"):
            return str(calls[call_id])
    return None


def langchain_backend(settings: Settings, folder: Path, budget: int | None = None) -> Any:
    """A Runner backend that asks LangChain's SQL agent over a SQLite mirror of the account."""
    from langchain.agents import create_agent

    toolkits, _, utilities = _community()
    SQLDatabaseToolkit, SQLDatabase = toolkits.SQLDatabaseToolkit, utilities.SQLDatabase
    model = chat_model(settings)
    steps = 2 * (budget or settings.llm_tool_call_budget) + 1  # a model turn and a tool turn each

    def backend(assistant: Assistant) -> Ask:
        warehouse = assistant.settings.warehouse_path

        def ask(question: str, as_of: date, account: str, conversation: Conversation) -> Answer:
            path = mirror_account(warehouse, account, folder)
            engine = sa.create_engine(f"sqlite:///{path}")
            db = SQLDatabase(engine)
            tools = SQLDatabaseToolkit(db=db, llm=model).get_tools()
            agent = create_agent(model, tools, system_prompt=system_prompt(db.dialect, as_of))
            started = time.perf_counter()
            problem = None
            try:
                state = agent.invoke(
                    {"messages": [{"role": "user", "content": question}]},
                    {"recursion_limit": steps},
                )
                messages = list(state["messages"])
            except Exception as exc:  # the recursion limit, a length cut, a server error
                messages, problem = [], f"{type(exc).__name__}: {exc}"
            elapsed = (time.perf_counter() - started) * 1000
            usage = _usage(messages, settings.llm_model)
            final = str(messages[-1].content).strip() if messages else ""
            sql = last_good_query(messages)
            base = {
                "question": question,
                "account": account,
                "as_of": as_of,
                "backend": f"langchain:{settings.llm_model}",
                "llm": usage,
                "sql": sql,
            }
            try:
                if sql is None or not final:
                    why = problem or final or "no query ran"
                    return Answer(status="refused", headline=why[:300], **base)
                with engine.connect() as conn:
                    result = conn.execute(sa.text(sql))
                    names = result.keys()  # SQLAlchemy's result keys, not a dict's
                    columns = [Column(name=str(k)) for k in names]
                    rows = [list(r) for r in result.fetchall()]
                return Answer(
                    status="answered",
                    headline=final[:300],
                    columns=columns,
                    rows=rows,
                    explanation=final,
                    **base,
                ).model_copy(update={"timings": _timings(elapsed)})
            finally:
                engine.dispose()

        return ask

    return backend


def _timings(total_ms: float) -> Any:
    from app.core.answer import Timings

    return Timings(total_ms=total_ms)
