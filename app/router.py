"""Route a question: pasted SQL to the guard, the engine first, the LLM agent when it can't."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.core.answer import Answer, Step
from app.core.errors import AssistantError, LlmUnavailable
from app.core.plan import CannotAnswer
from app.core.request import Request
from app.core.settings import Settings
from app.pipeline.assistant import Assistant
from app.pipeline.rawsql import answer_sql
from app.understand.screen import SUGGESTIONS

if TYPE_CHECKING:
    from app.agent.loop import Agent

log = logging.getLogger(__name__)

_PASTED_SQL = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)
# Functions and literals that only Trino (Stripe Sigma) spells this way.
_TRINO = re.compile(
    r"\b(from_unixtime|to_unixtime|approx_percentile|format_datetime|date_format|date_parse|"
    r"element_at|cardinality|try_cast|date_add|date_diff)\s*\(|\btimestamp\s+'",
    re.IGNORECASE,
)
# Refusals the LLM may take over: the engine did not understand, not "must not answer".
_HANDOFF = frozenset({"out_of_scope", "unknown_metric", "unread_words"})
_LOW_CONFIDENCE = 0.5


def is_pasted_sql(text: str) -> bool:
    """Whether the user pasted a SELECT (or WITH … SELECT) instead of asking in words."""
    return bool(_PASTED_SQL.match(text))


class Router:
    """One entry point for every front end: CLI, chat app, reporting-page panels, evals."""

    def __init__(
        self,
        settings: Settings,
        assistant: Assistant | None = None,
        agent: Agent | None = None,
        *,
        engine_only: bool = False,
    ) -> None:
        """Use the given assistant (and agent); build the agent lazily when an LLM is set."""
        self.settings = settings
        self.assistant = assistant or Assistant(settings)
        self._agent = agent
        self._engine_only = engine_only

    @property
    def llm_enabled(self) -> bool:
        """Whether questions the engine can't plan go to an LLM."""
        if self._engine_only:
            return False
        return self._agent is not None or self.settings.llm_configured

    def llm_status(self) -> str:
        """One line for the UI: engine only, or which model is configured."""
        if not self.llm_enabled:
            return "Engine only (no LLM configured)"
        where = self.settings.llm_base_url or "api.openai.com"
        return f"Engine + LLM {self.settings.llm_model} ({where})"

    def agent(self) -> Agent | None:
        """The LLM agent, built on first use (None when no LLM is configured)."""
        if self._agent is None and self.llm_enabled:
            from app.agent.loop import Agent

            self._agent = Agent(self.settings, self.assistant)
        return self._agent

    def ask(self, request: Request, on_step: Callable[[Step], None] | None = None) -> Answer:
        """Answer with the engine, the agent, or the guard for pasted SQL; never raises.

        The final answer joins the request's conversation here, and only here.
        """
        answer = self._answer(request, on_step)
        if request.conversation is not None:
            request.conversation.add(
                answer, keep=self.settings.max_conversation_turns, page=request.page
            )
        return answer

    def _answer(self, request: Request, on_step: Callable[[Step], None] | None) -> Answer:
        question = request.question
        if is_pasted_sql(question) and len(question) <= self.settings.max_question_chars:
            dialect = "trino" if _TRINO.search(question) else "duckdb"
            return answer_sql(
                self.assistant.session,
                question,
                request,
                read_dialect=dialect,
                backend=f"sql ({dialect})",
            )
        answer = self.assistant.ask(request)
        agent = self.agent() if self._hand_off(answer) else None
        if agent is None:
            if answer.status == "answered" and self.llm_enabled:
                return self._explain(answer, on_step)
            return answer
        return self._ask_agent(agent, request, answer, on_step)

    def _hand_off(self, answer: Answer) -> bool:
        if not self.llm_enabled:
            return False
        if answer.status == "refused" and answer.refusal is not None:
            return answer.refusal.reason_class in _HANDOFF
        return (
            answer.status == "answered"
            and answer.plan is not None
            and answer.plan.confidence < _LOW_CONFIDENCE
        )

    def _ask_agent(
        self,
        agent: Agent,
        request: Request,
        engine_answer: Answer,
        on_step: Callable[[Step], None] | None,
    ) -> Answer:
        try:
            run = agent.run(request, on_step=on_step)
        except LlmUnavailable as err:
            log.warning("LLM unavailable, falling back to the engine: %s", err)
            return _unavailable(engine_answer, str(err))
        except AssistantError as err:
            log.warning("agent failed: %s", err)
            return _unavailable(engine_answer, type(err).__name__)
        if run.answer is not None:
            return run.answer
        refusal = run.refusal or CannotAnswer(reason="The AI assistant could not answer this.")
        suggestions = (
            list(refusal.suggestions) or list(engine_answer.suggestions) or list(SUGGESTIONS[:3])
        )
        return Answer(
            status="refused",
            question=request.question,
            account=self.assistant.session.account(request),
            as_of=request.as_of,
            headline=refusal.reason,
            refusal=refusal.model_copy(update={"suggestions": tuple(suggestions)}),
            suggestions=suggestions,
            backend=f"llm:{self.settings.llm_model}",
            llm=run.usage,
        )

    def _explain(self, answer: Answer, on_step: Callable[[Step], None] | None) -> Answer:
        """The answer with LLM-written prose when `llm_explain` is on and the prose checks out."""
        if not self.settings.llm_explain:
            return answer
        agent = self.agent()
        if agent is None:
            return answer
        try:
            return agent.explain(answer, on_step=on_step)
        except AssistantError as err:
            log.warning("LLM explanation unavailable: %s", err)
            return answer


def _unavailable(engine_answer: Answer, why: str) -> Answer:
    notice = (
        f"The AI assistant is unavailable right now ({why}); here is what I can answer without it."
    )
    update: dict[str, Any] = {"notices": [*engine_answer.notices, notice]}
    if not engine_answer.suggestions:
        update["suggestions"] = list(SUGGESTIONS[:3])
    return engine_answer.model_copy(update=update)
