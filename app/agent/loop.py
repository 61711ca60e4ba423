"""The LLM agent: with its mode modules, the only code that imports LangChain.

It answers the questions the deterministic engine cannot plan, in one of two modes
(`app.agent.mode`). Native: it asks the model for a `QueryPlan` through structured output, so the
engine's compiler, guard and executor are reused; when no plan fits, the model may write one raw
SELECT through the `run_sql` tool (a call written as JSON text in `content` is accepted too).
JSON (models without tool calls): every step is one schema-constrained reply (`app.agent.steps`).
Either way a model plan is checked before it runs (`app.agent.vet`), guard rejections and DuckDB
errors go back to the model for a bounded number of corrections, an instruction the model already
answered is never sent again, and an exhausted budget or a reply cut at `llm_max_output_tokens` is
a `CannotAnswer`, never a guess. Every client failure (timeouts, 429s after the client's retries,
5xx) is raised as `LlmUnavailable` so the router can fall back to the engine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from app.agent.briefing import first_messages, system_message
from app.agent.calls import LengthCut, Usage, stream_reply
from app.agent.mode import tool_mode
from app.agent.native import NativeSteps
from app.agent.parts import (
    PREVIEW_ROWS,
    history,
    length_cut,
)
from app.agent.periods import resolve_periods
from app.agent.prompts import load_prompt
from app.agent.steps import JsonSteps
from app.agent.vet import checked_assumptions
from app.core.answer import Answer, LlmUsage, Step
from app.core.errors import LlmUnavailable
from app.core.plan import CannotAnswer
from app.core.request import Request
from app.core.settings import Settings
from app.explain.claims import unsupported
from app.pipeline.assistant import Assistant
from app.run.warehouse import Result
from app.understand.screen import screen_question
from tools.run_sql import preview

log = logging.getLogger(__name__)

EXPLAIN_TOKENS = 300  # 2-4 sentences; the explanation's own cap, below llm_max_output_tokens


def chat_model(settings: Settings) -> BaseChatModel:
    """The configured OpenAI-compatible chat model (temperature 0, limits from settings)."""
    from langchain_openai import ChatOpenAI

    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
    return ChatOpenAI(
        model=settings.llm_model,
        base_url=settings.llm_base_url,
        api_key=key,
        temperature=0,
        max_tokens=settings.llm_max_output_tokens,
        timeout=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        stream_usage=True,
    )


@dataclass
class AgentRun:
    """The outcome of one agent run: an Answer or a refusal, with usage and the steps taken."""

    answer: Answer | None = None
    refusal: CannotAnswer | None = None
    usage: LlmUsage | None = None
    steps: list[Step] = field(default_factory=list)


class Agent:
    """Answers one question with an LLM over the shared compiler, guard and executor."""

    def __init__(
        self, settings: Settings, assistant: Assistant, model: BaseChatModel | None = None
    ) -> None:
        """Use the given chat model, or build the configured OpenAI-compatible one."""
        self.settings = settings
        self.assistant = assistant
        self.model = model if model is not None else chat_model(settings)
        self.model_name = settings.llm_model
        self.mode = tool_mode(settings)
        self.backend = f"llm:{self.model_name}"

    # ------------------------------------------------------------------ public API
    def warm_up(self, account: str) -> int:
        """Send the stable system prefix once so a local server's prompt cache holds it.

        Every question's first request starts with the same system message (rules, the step
        guide, the semantic model summary: about 2,000 tokens); a model on two CPU cores takes
        over a minute to read it. Read once here, at start, each question pays only its own part.
        Returns the prompt tokens the server read (0, and nothing sent, for an unknown account:
        the app could answer none of its questions).
        """
        if self.assistant.session.account_info(account) is None:
            return 0
        system = system_message(
            self.assistant.model, self.settings.llm_context_token_budget, self.mode.mode
        )
        usage = Usage(self.model_name, tool_mode=self.mode.text)
        messages = [SystemMessage(system), HumanMessage("Warm-up: reply {}.")]
        reply = self.model.bind(max_tokens=1).invoke(messages)  # cut at one token on purpose
        usage.add(messages, reply)
        return usage.report().prompt_tokens

    def run(self, request: Request, on_step: Callable[[Step], None] | None = None) -> AgentRun:
        """Run the agent to completion, reporting each step to `on_step`."""
        outcome = AgentRun()
        for item in self.stream(request):
            if isinstance(item, Step):
                outcome.steps.append(item)
                if on_step is not None:
                    on_step(item)
            else:
                outcome.answer, outcome.refusal, outcome.usage = (
                    item.answer,
                    item.refusal,
                    item.usage,
                )
        return outcome

    def stream(self, request: Request) -> Iterator[Step | AgentRun]:
        """Yield the agent's steps as they happen, then one final AgentRun."""
        account = self.assistant.session.account(request)
        info = self.assistant.session.account_info(account)
        if info is None:
            yield AgentRun(refusal=CannotAnswer(reason=f"Unknown account {account}."))
            return
        screened = screen_question(request.question, account)
        if (
            screened is not None
        ):  # a write, an injection or another account: the model never sees it
            yield AgentRun(refusal=screened)
            return
        usage = Usage(self.model_name, tool_mode=self.mode.text)
        periods = resolve_periods(
            request.question, request.as_of, self.settings.fiscal_year_start_month
        )
        messages: list[BaseMessage] = _to_messages(
            first_messages(
                request.question,
                model=self.assistant.model,
                as_of=request.as_of,
                account=account,
                timezone=info.timezone,
                currency=info.currency,
                budget_tokens=self.settings.llm_context_token_budget,
                mode=self.mode.mode,
                periods=periods,
            )
        )
        if request.conversation is not None and request.conversation.answers:
            messages.insert(1, HumanMessage(history(request.conversation)))
        try:
            if self.mode.mode == "json":
                steps = JsonSteps(self.model, self.assistant, self.settings, usage, self.backend)
                result = yield from steps.run(request, messages, periods, account)
            else:
                native = NativeSteps(self.model, self.assistant, self.settings, usage, self.backend)
                result = yield from native.run(request, messages, periods, account)
        except LengthCut as cut:
            yield Step(kind="notice", text=f"The model's reply was cut: {cut}")
            result = length_cut(cut.limit)
        if isinstance(result, Answer):
            checked = self._checked(result, messages)
            explained = yield from self._explain(checked, usage)
            report = usage.report()
            yield AgentRun(answer=explained.model_copy(update={"llm": report}), usage=report)
        else:
            yield AgentRun(refusal=result, usage=usage.report())

    def explain(self, answer: Answer, on_step: Callable[[Step], None] | None = None) -> Answer:
        """The answer with model-written prose, kept only if its claims check out."""
        usage = Usage(self.model_name, tool_mode=self.mode.text)
        steps = self._explain(answer, usage)
        while True:
            try:
                step = next(steps)
            except StopIteration as done:
                explained: Answer = done.value
                break
            if on_step is not None:
                on_step(step)
        return explained.model_copy(update={"llm": usage.report()}) if usage.calls else explained

    # ------------------------------------------------------------------ checks and prose
    def _checked(self, answer: Answer, messages: list[BaseMessage]) -> Answer:
        """The answer without model-written assumptions its result does not support."""
        keys = {a.key for a in answer.plan.assumptions} if answer.plan else set()
        checked, dropped = checked_assumptions(answer, keys)
        if not dropped:
            return checked
        log.warning("dropped %d model-written assumption(s) the result does not support", dropped)
        notice = "An AI-written assumption stated something not in the result and was left out."
        return checked.model_copy(update={"notices": [*checked.notices, notice]})

    def _explain(self, answer: Answer, usage: Usage) -> Generator[Step, None, Answer]:
        if not self.settings.llm_explain or answer.status != "answered" or not answer.rows:
            return answer
        prompt = load_prompt("explain").render(
            question=answer.question,
            plan=answer.plan.model_dump_json(exclude_defaults=True) if answer.plan else "raw SQL",
            table=preview(_as_result(answer), PREVIEW_ROWS),
            assumptions="\n".join(f"- {a.text}" for a in answer.assumptions) or "- none",
        )
        messages: list[BaseMessage] = [HumanMessage(prompt)]
        yield Step(kind="model", text="Writing the explanation…")
        limit = min(EXPLAIN_TOKENS, self.settings.llm_max_output_tokens)
        try:
            reply = stream_reply(self.model.bind(max_tokens=limit), messages, usage, limit)
        except LlmUnavailable as err:
            log.warning("LLM explanation skipped: %s", err)
            return answer
        except LengthCut:
            notice = "The AI-written explanation was cut at its length limit; it is left out."
            return answer.model_copy(update={"notices": [*answer.notices, notice]})
        text = reply.message.text.strip()
        claims = unsupported(text, answer) if text else ["nothing"]
        if not claims:
            return answer.model_copy(update={"explanation": text, "numbers_verified": True})
        log.warning("LLM explanation replaced: %s not in the result (%r)", claims, text[:200])
        notice = (
            "The AI-written explanation cited a number, date or name not in the result; showing "
            "the checked explanation instead."
        )
        return answer.model_copy(update={"notices": [*answer.notices, notice]})


def _to_messages(raw: list[dict[str, str]]) -> list[BaseMessage]:
    out: list[BaseMessage] = []
    for m in raw:
        out.append(
            SystemMessage(m["content"]) if m["role"] == "system" else HumanMessage(m["content"])
        )
    return out


def _as_result(answer: Answer) -> Result:
    """An answer's table in the shape the tool preview reads (column kinds as types)."""
    return Result(
        columns=tuple(c.name for c in answer.columns),
        types=tuple(c.kind for c in answer.columns),
        rows=tuple(tuple(r) for r in answer.rows),
        truncated=answer.truncated,
        elapsed_ms=0.0,
    )
