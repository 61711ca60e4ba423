"""The LLM agent: the only module that imports LangChain.

It answers the questions the deterministic engine cannot plan. First it asks the model for a
`QueryPlan` through structured output, so the engine's compiler, guard and executor are reused;
when no plan fits, the model may write one raw SELECT through the `run_sql` tool. Guard rejections
and DuckDB errors go back to the model for a bounded number of corrections; an exhausted budget is
a `CannotAnswer`, never a guess. Every model failure (timeouts, 429s after the client's retries,
5xx, malformed output) is raised as `LlmUnavailable` so the router can fall back to the engine.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    convert_to_openai_messages,
)
from pydantic import ValidationError

from app.agent.briefing import first_messages
from app.agent.parts import (
    PREVIEW_ROWS,
    AgentDecision,
    args_text,
    describe,
    exhausted,
    history,
    out_of_tool_calls,
    short,
)
from app.agent.prompts import load_prompt, prompt_hashes
from app.agent.tokens import count_messages, estimate_cost
from app.core.answer import Answer, LlmUsage, Step
from app.core.errors import AssistantError, LlmUnavailable
from app.core.plan import CannotAnswer, QueryPlan
from app.core.request import Request
from app.core.settings import Settings
from app.explain.prose import check_numbers, period_numbers
from app.pipeline.assistant import Assistant
from app.pipeline.rawsql import answer_result
from app.run.warehouse import Result
from tools import TOOLS, SqlToolResult, ToolContext, ToolSpec, tool_schemas, tool_spec
from tools.run_sql import preview

log = logging.getLogger(__name__)

# The tools the agent binds: the registry in `tools`, by name (specs derived at import).
TOOL_SPECS: dict[str, ToolSpec] = {spec.name: spec for spec in map(tool_spec, TOOLS)}


def chat_model(settings: Settings) -> BaseChatModel:
    """The configured OpenAI-compatible chat model (temperature 0, limits from settings)."""
    from langchain_openai import ChatOpenAI

    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
    return ChatOpenAI(
        model=settings.llm_model,
        base_url=settings.llm_base_url,
        api_key=key,
        temperature=0,
        timeout=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        stream_usage=True,
    )


@dataclass
class _Usage:
    model: str
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, messages: Sequence[BaseMessage], reply: BaseMessage) -> None:
        self.calls += 1
        meta = getattr(reply, "usage_metadata", None)
        if meta:
            self.prompt_tokens += int(meta.get("input_tokens", 0))
            self.completion_tokens += int(meta.get("output_tokens", 0))
            return
        self.prompt_tokens += count_messages(_openai(messages), self.model)
        self.completion_tokens += count_messages(_openai([reply]), self.model) - 3

    def report(self) -> LlmUsage:
        return LlmUsage(
            model=self.model,
            calls=self.calls,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            cost_usd=estimate_cost(self.model, self.prompt_tokens, self.completion_tokens),
            prompts=prompt_hashes(),
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

    # ------------------------------------------------------------------ public API
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
        question, as_of = request.question, request.as_of
        account = self.assistant.session.account(request)
        conversation = request.conversation
        info = self.assistant.session.account_info(account)
        if info is None:
            yield AgentRun(refusal=CannotAnswer(reason=f"Unknown account {account}."))
            return
        usage = _Usage(self.model_name)
        messages: list[BaseMessage] = _to_messages(
            first_messages(
                question,
                model=self.assistant.model,
                as_of=as_of,
                account=account,
                timezone=info.timezone,
                currency=info.currency,
                budget_tokens=self.settings.llm_context_token_budget,
            )
        )
        if conversation is not None and conversation.answers:
            messages.insert(1, HumanMessage(history(conversation)))
        corrections = 0
        result: Answer | CannotAnswer | None = None
        wants_sql = False
        while result is None and not wants_sql:
            yield Step(kind="model", text="Planning with the semantic model…")
            decision, error = self._decide(messages, usage)
            if decision is None:
                corrections += 1
                if corrections > self.settings.llm_correction_budget:
                    raise LlmUnavailable(f"the model's output did not match the schema: {error}")
                messages.append(HumanMessage(f"Your reply did not match the schema: {error}"))
                continue
            if decision.action == "cannot_answer":
                result = CannotAnswer(
                    reason=decision.reason or "The data cannot answer this question.",
                    reason_class="out_of_scope",
                )
            elif decision.action == "sql" or decision.plan is None:
                wants_sql = True
            else:
                answer = self._answer_plan(decision.plan, request)
                yield Step(kind="tool_result", text=answer.headline, sql=answer.sql)
                if answer.status == "answered":
                    result = answer
                else:
                    corrections += 1
                    if corrections > self.settings.llm_correction_budget:
                        result = exhausted(corrections)
                    else:
                        messages.append(
                            HumanMessage(
                                "That plan failed: "
                                f"{answer.error or answer.headline}. Fix the plan, or choose "
                                "action 'sql' if no plan can express the question."
                            )
                        )
        if wants_sql:
            sql_result = yield from self._sql_loop(question, messages, usage, as_of, account)
            if isinstance(sql_result, CannotAnswer):
                result = sql_result
            else:
                assert sql_result.result is not None and sql_result.sql is not None
                result = answer_result(
                    self.assistant.session,
                    sql_result.result,
                    sql_result.sql,
                    request,
                    backend=f"llm:{self.model_name}",
                )
        if isinstance(result, Answer):
            explained = yield from self._explain(result, usage)
            report = usage.report()
            yield AgentRun(answer=explained.model_copy(update={"llm": report}), usage=report)
        else:
            yield AgentRun(refusal=result, usage=usage.report())

    def explain(self, answer: Answer, on_step: Callable[[Step], None] | None = None) -> Answer:
        """The answer with model-written prose, kept only if every number in it checks out."""
        usage = _Usage(self.model_name)
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

    # ------------------------------------------------------------------ phases
    def _decide(
        self, messages: list[BaseMessage], usage: _Usage
    ) -> tuple[AgentDecision | None, str]:
        structured = self.model.with_structured_output(AgentDecision, include_raw=True)
        out = self._call(lambda: structured.invoke(messages))
        raw = out.get("raw") if isinstance(out, dict) else None
        if isinstance(raw, BaseMessage):
            usage.add(messages, raw)
            messages.append(_plain(raw))
        parsed = out.get("parsed") if isinstance(out, dict) else None
        if isinstance(parsed, AgentDecision):
            return parsed, ""
        if isinstance(parsed, dict):
            try:
                return AgentDecision.model_validate(parsed), ""
            except ValidationError as err:
                return None, short(err)
        failure = out.get("parsing_error") if isinstance(out, dict) else None
        return None, short(failure) if failure else "no structured reply"

    def _answer_plan(self, plan: QueryPlan, request: Request) -> Answer:
        unknown = [m for m in plan.metrics if m not in self.assistant.model.metrics]
        if unknown:
            return Answer(
                status="error",
                question=request.question,
                error=f"unknown metric(s) {', '.join(unknown)}; use lookup names from the context",
            )
        return self.assistant.answer_plan(plan, request, backend=f"llm:{self.model_name}")

    def _sql_loop(
        self,
        question: str,
        messages: list[BaseMessage],
        usage: _Usage,
        as_of: date,
        account: str,
    ) -> Generator[Step, None, SqlToolResult | CannotAnswer]:
        ctx = ToolContext(
            session=self.assistant.session,
            account=account,
            as_of=as_of,
            preview_rows=PREVIEW_ROWS,
        )
        messages.append(HumanMessage(load_prompt("sql_fallback").render(question=question)))
        bound = self.model.bind_tools(tool_schemas(TOOLS))
        tool_calls = corrections = 0
        last_ok: SqlToolResult | None = None
        while True:
            yield Step(kind="model", text="Writing SQL…")
            reply = self._stream_reply(bound, messages, usage)
            for text in reply.partial:
                yield Step(kind="text", text=text)
            ai = reply.message
            messages.append(ai)
            calls = list(ai.tool_calls)
            bad = list(getattr(ai, "invalid_tool_calls", []) or [])
            if not calls and not bad:
                if last_ok is not None:
                    return last_ok
                corrections += 1
                if corrections > self.settings.llm_correction_budget:
                    return exhausted(corrections)
                messages.append(HumanMessage("Call run_sql with one SELECT that answers it."))
                continue
            for call in bad:
                tool_calls += 1
                corrections += 1
                messages.append(
                    ToolMessage(
                        f"Invalid tool arguments ({call.get('error') or 'not JSON'}); send "
                        "valid JSON arguments.",
                        tool_call_id=str(call.get("id") or "invalid"),
                    )
                )
            for call in calls:
                tool_calls += 1
                if tool_calls > self.settings.llm_tool_call_budget:
                    return out_of_tool_calls(self.settings.llm_tool_call_budget)
                yield Step(
                    kind="tool_call",
                    text=f"{call['name']}({args_text(call['args'])})",
                    sql=call["args"].get("sql") if call["name"] == "run_sql" else None,
                )
                text, sql_result = self._run_tool(ctx, call["name"], call["args"])
                if sql_result is not None:
                    if sql_result.ok:
                        last_ok = sql_result
                    else:
                        corrections += 1
                yield Step(kind="tool_result", text=text.splitlines()[0] if text else "")
                messages.append(ToolMessage(text, tool_call_id=str(call.get("id") or call["name"])))
            if corrections > self.settings.llm_correction_budget:
                return exhausted(corrections)
            if tool_calls >= self.settings.llm_tool_call_budget:
                return last_ok or out_of_tool_calls(self.settings.llm_tool_call_budget)

    def _run_tool(
        self, ctx: ToolContext, name: str, args: dict[str, Any]
    ) -> tuple[str, SqlToolResult | None]:
        spec = TOOL_SPECS.get(name)
        if spec is None:
            return f"Unknown tool {name!r}; use one of {', '.join(TOOL_SPECS)}.", None
        try:
            out = spec.call(ctx, args)
        except ValidationError as err:
            return f"Invalid arguments for {name}: {short(err)}", None
        if isinstance(out, SqlToolResult):
            return out.text, out
        return str(out), None

    def _explain(self, answer: Answer, usage: _Usage) -> Generator[Step, None, Answer]:
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
        try:
            reply = self._stream_reply(self.model, messages, usage)
        except LlmUnavailable as err:
            log.warning("LLM explanation skipped: %s", err)
            return answer
        text = reply.message.text.strip()
        if text and check_numbers(
            text, answer.columns, answer.rows, period_numbers(answer.period, answer.as_of)
        ):
            return answer.model_copy(update={"explanation": text, "numbers_verified": True})
        log.warning("LLM explanation replaced: a number is not in the result (%r)", text[:200])
        notice = (
            "The AI-written explanation cited a number not in the result; showing the "
            "checked explanation instead."
        )
        return answer.model_copy(update={"notices": [*answer.notices, notice]})

    # ------------------------------------------------------------------ model calls
    def _call(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except AssistantError:
            raise
        except Exception as err:  # the model boundary: any client failure means "unavailable"
            raise LlmUnavailable(describe(err)) from err

    def _stream_reply(self, model: Any, messages: list[BaseMessage], usage: _Usage) -> _Reply:
        def consume() -> _Reply:
            acc: AIMessageChunk | None = None
            partial: list[str] = []
            for chunk in model.stream(messages):
                acc = chunk if acc is None else acc + chunk
                if isinstance(chunk.content, str) and chunk.content:
                    partial.append(chunk.content)
            if acc is None:
                raise LlmUnavailable("the model sent an empty reply")
            msg = AIMessage(
                content=acc.content,
                tool_calls=acc.tool_calls,
                invalid_tool_calls=acc.invalid_tool_calls,
                usage_metadata=acc.usage_metadata,
                id=acc.id,
            )
            return _Reply(msg, ["".join(partial)] if partial else [])

        reply: _Reply = self._call(consume)
        usage.add(messages, reply.message)
        return reply


@dataclass
class _Reply:
    message: AIMessage
    partial: list[str]


def _to_messages(raw: list[dict[str, str]]) -> list[BaseMessage]:
    out: list[BaseMessage] = []
    for m in raw:
        out.append(
            SystemMessage(m["content"]) if m["role"] == "system" else HumanMessage(m["content"])
        )
    return out


def _plain(raw: BaseMessage) -> BaseMessage:
    """The structured reply as conversation history (tool calls answered to keep it valid)."""
    if isinstance(raw, AIMessage) and raw.tool_calls:
        return AIMessage(content=json.dumps([c["args"] for c in raw.tool_calls], default=str))
    return AIMessage(content=raw.text or "")


def _openai(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    return list(convert_to_openai_messages(list(messages)))


def _as_result(answer: Answer) -> Result:
    """An answer's table in the shape the tool preview reads (column kinds as types)."""
    return Result(
        columns=tuple(c.name for c in answer.columns),
        types=tuple(c.kind for c in answer.columns),
        rows=tuple(tuple(r) for r in answer.rows),
        truncated=answer.truncated,
        elapsed_ms=0.0,
    )
