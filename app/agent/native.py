"""Native mode: the decision through structured output, then the SQL loop through tool calls.

For models with working tool calls. The decision (plan, sql or cannot_answer) uses the capped
`AgentDecision` schema; a plan is checked (`app.agent.vet`) and runs through the shared
pipeline; "sql" starts a tool loop over `tools.TOOLS`. A call the model wrote as JSON text in
`content` (or a fenced SELECT) is taken as the call it means; a reply with neither gets the
instruction once, never twice; a failing query sent again ends the run.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from dataclasses import replace
from datetime import date
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from pydantic import ValidationError

from app.agent.calls import Run, Usage, check_length, content_tool_call, guarded, stream_reply
from app.agent.draft import capped
from app.agent.parts import (
    PREVIEW_ROWS,
    AgentDecision,
    args_text,
    exhausted,
    no_query,
    out_of_tool_calls,
    repeated,
    short,
)
from app.agent.periods import Periods
from app.agent.prompts import load_prompt
from app.agent.readback import Demands, demands_of, plan_gaps, sql_gaps
from app.agent.vet import PlanProblem, check_plan, checked_reason
from app.core.answer import Answer, Step
from app.core.errors import LlmUnavailable
from app.core.plan import CannotAnswer, QueryPlan
from app.core.request import Request
from app.pipeline.rawsql import answer_result
from tools import TOOLS, SqlToolResult, ToolContext, ToolSpec, tool_schemas, tool_spec

# The tools the agent binds: the registry in `tools`, by name (specs derived at import).
TOOL_SPECS: dict[str, ToolSpec] = {spec.name: spec for spec in map(tool_spec, TOOLS)}
ASK_FOR_SQL = "Call run_sql with one SELECT that answers it."
# The decision schema with a cap on every list and string (QueryPlan has none of its own).
DECISION_SCHEMA = capped(AgentDecision.model_json_schema())


class NativeSteps(Run):
    """One question in native mode: tool calls, then the plan or the SQL loop."""

    demands: Demands = Demands()  # what the question needs (set when a run starts)

    def run(
        self, request: Request, messages: list[BaseMessage], periods: Periods, account: str
    ) -> Generator[Step, None, Answer | CannotAnswer]:
        """Decide, then answer with the plan or the SQL loop, or refuse."""
        usage = self.usage
        corrections = 0
        self.demands = demands_of(request.question, self.assistant, account, request.as_of)
        while True:
            yield Step(kind="model", text="Planning with the semantic model…")
            decision, error = self._decide(messages, usage)
            if decision is None:
                corrections += 1
                if corrections > self.settings.llm_correction_budget:
                    raise LlmUnavailable(f"the model's output did not match the schema: {error}")
                messages.append(HumanMessage(f"Your reply did not match the schema: {error}"))
                continue
            if decision.action == "cannot_answer":
                reason = decision.reason or "The data cannot answer this question."
                return CannotAnswer(
                    reason=checked_reason(reason, request.question, _NO_REASON),
                    reason_class="out_of_scope",
                )
            if decision.action == "sql" or decision.plan is None:
                break
            answer = self._answer_plan(decision.plan, request, periods)
            yield Step(kind="tool_result", text=answer.headline, sql=answer.sql)
            if answer.status == "answered":
                return answer
            corrections += 1
            if corrections > self.settings.llm_correction_budget:
                return exhausted(corrections, ran=answer.sql is not None)
            messages.append(
                HumanMessage(
                    f"That plan failed: {answer.error or answer.headline}. Fix the plan, or "
                    "choose action 'sql' if no plan can express the question."
                )
            )
        sql_result = yield from self._sql_loop(
            request.question, messages, usage, request.as_of, account
        )
        if isinstance(sql_result, CannotAnswer):
            return sql_result
        assert sql_result.result is not None and sql_result.sql is not None
        return answer_result(
            self.assistant.session, sql_result.result, sql_result.sql, request, backend=self.backend
        )

    def _decide(
        self, messages: list[BaseMessage], usage: Usage
    ) -> tuple[AgentDecision | None, str]:
        structured = self.model.with_structured_output(DECISION_SCHEMA, include_raw=True)
        out = guarded(lambda: structured.invoke(messages), self.settings.llm_max_output_tokens)
        raw = out.get("raw") if isinstance(out, dict) else None
        if isinstance(raw, BaseMessage):
            usage.add(messages, raw)
            check_length(raw, self.settings.llm_max_output_tokens)
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

    def _answer_plan(self, plan: QueryPlan, request: Request, periods: Periods) -> Answer:
        try:
            plan = check_plan(plan, self.assistant.model, periods)
        except PlanProblem as err:
            return Answer(status="error", question=request.question, error=str(err))
        gap = plan_gaps(plan, self.demands, self.assistant.model)
        if gap is not None:  # it would run and answer another question
            return Answer(status="error", question=request.question, error=f"not run: {gap}")
        return self.assistant.answer_plan(plan, request, backend=self.backend)

    def _sql_loop(
        self,
        question: str,
        messages: list[BaseMessage],
        usage: Usage,
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
        asked = False
        last_ok: SqlToolResult | None = None
        failed: set[str] = set()
        while True:
            yield Step(kind="model", text="Writing SQL…")
            reply = stream_reply(bound, messages, usage, self.settings.llm_max_output_tokens)
            for text in reply.partial:
                yield Step(kind="text", text=text)
            ai = _with_text_calls(reply.message)
            messages.append(ai)
            calls = list(ai.tool_calls)
            bad = list(getattr(ai, "invalid_tool_calls", []) or [])
            if not calls and not bad:
                if last_ok is not None:
                    return last_ok
                if asked:  # never send an instruction the model has already answered
                    return no_query(instruction_sent=True)
                asked = True
                messages.append(HumanMessage(ASK_FOR_SQL))
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
                sql = call["args"].get("sql") if call["name"] == "run_sql" else None
                if sql is not None and str(sql).strip() in failed:
                    return repeated("failing query")
                yield Step(
                    kind="tool_call", text=f"{call['name']}({args_text(call['args'])})", sql=sql
                )
                text, sql_result = self._run_tool(ctx, call["name"], call["args"])
                gap = sql_gaps(str(sql), self.demands) if sql_result and sql_result.ok else None
                if gap is not None:  # it ran (guarded), and answers another question: not shown
                    sql_result = replace(sql_result, ok=False) if sql_result else None
                    text = f"Result not used: that SELECT does not answer the question: {gap}."
                if sql_result is not None:
                    if sql_result.ok:
                        last_ok = sql_result
                    else:
                        corrections += 1
                        failed.add(str(sql).strip())
                yield Step(kind="tool_result", text=text.splitlines()[0] if text else "")
                messages.append(ToolMessage(text, tool_call_id=str(call.get("id") or call["name"])))
            if corrections > self.settings.llm_correction_budget:
                return exhausted(corrections, ran=last_ok is not None or bool(failed))
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


_NO_REASON = "The data cannot answer this question."


def _with_text_calls(message: AIMessage) -> AIMessage:
    """The reply with a tool call it wrote as JSON text in `content` made a real tool call."""
    if message.tool_calls or message.invalid_tool_calls or not message.text:
        return message
    found = content_tool_call(message.text, list(TOOL_SPECS))
    if found is None:
        return message
    name, args = found
    call = {"name": name, "args": args, "id": f"text_call_{abs(hash(message.text)) % 10**8}"}
    return AIMessage(content="", tool_calls=[call], usage_metadata=message.usage_metadata)


def _plain(raw: BaseMessage) -> BaseMessage:
    """The structured reply as conversation history (tool calls answered to keep it valid)."""
    if isinstance(raw, AIMessage) and raw.tool_calls:
        return AIMessage(content=json.dumps([c["args"] for c in raw.tool_calls], default=str))
    return AIMessage(content=raw.text or "")
