"""The few pipeline calls the benchmark children make, for today's layout and the flat one before.

`benchmarks/bench_engine.py` and `bench_sql.py` run their children against an older code tree
(`git archive` of `--baseline-ref`) beside today's; the package layout and the ask() signature
changed in between (issue 13), so the children reach the pipeline through this one adapter.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass
class AppApi:
    """Types and calls of whichever `app` is importable."""

    Settings: Any
    QueryPlan: Any
    AssistantError: Any
    CompileContext: Any
    compile_plan: Any
    EngineContext: Any
    plan_question: Any
    lexicon_for: Any
    assistant: Any
    session: Any
    _ask: Any
    _conversation: Any

    def conversation(self, previous: Any = None) -> Any:
        """A new conversation whose first follow-up edits `previous`."""
        return self._conversation(previous=previous)

    def ask(self, question: str, as_of: date, account: str, conversation: Any) -> Any:
        """Answer through the engine, keeping the conversation as users' questions do."""
        return self._ask(question, as_of, account, conversation)


def _module(*names: str) -> Any:
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError(f"none of {names}")


def load(settings_kwargs: dict[str, Any]) -> AppApi:
    """Open the assistant of the importable `app` with these settings."""
    core_settings = _module("app.core.settings", "app.settings")
    settings = core_settings.Settings(**settings_kwargs)
    plan = _module("app.core.plan", "app.plan")
    errors = _module("app.core.errors", "app.errors")
    compiler = _module("app.sql.compile", "app.compiler")
    engine = _module("app.understand.engine", "app.engine")
    lexicon = _module("app.understand.lexicon", "app.lexicon")
    pipeline = _module("app.pipeline.assistant", "app.assistant")
    assistant = pipeline.Assistant(settings)
    try:  # today: a Request through the router, which owns the conversation
        request = importlib.import_module("app.core.request")
        conversation = importlib.import_module("app.core.conversation").Conversation
        router = importlib.import_module("app.router").Router(settings, assistant, engine_only=True)

        def ask(question: str, as_of: date, account: str, conv: Any) -> Any:
            req = request.Request(question, as_of=as_of, account=account, conversation=conv)
            return router.ask(req)

        session = assistant.session
    except ImportError:  # before: Assistant.ask(question, as_of=…, conversation=…)
        conversation = pipeline.Conversation

        def ask(question: str, as_of: date, account: str, conv: Any) -> Any:
            return assistant.ask(question, as_of=as_of, account=account, conversation=conv)

        session = assistant
    return AppApi(
        Settings=core_settings.Settings,
        QueryPlan=plan.QueryPlan,
        AssistantError=errors.AssistantError,
        CompileContext=compiler.CompileContext,
        compile_plan=compiler.compile_plan,
        EngineContext=engine.EngineContext,
        plan_question=engine.plan_question,
        lexicon_for=lexicon.lexicon_for,
        assistant=assistant,
        session=session,
        _ask=ask,
        _conversation=conversation,
    )
