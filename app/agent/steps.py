"""JSON mode: every step of the agent is one reply constrained by the action schema.

For models without native tool calls (most models people run locally). Each request carries
`response_format` with `app.agent.draft.action_schema`, so every reply parses: a plan (compiled,
guarded and run by the shared pipeline), one SELECT (through the `run_sql` tool), a lookup
(metric, table or column values, fed back), or a refusal. Earlier steps are not replayed as a
chat (a small model copies its own last reply): what they found or why they failed goes in one
message after the question, with the real columns of the tables a failed SELECT read. A step
the model already took is never taken again (the run ends in a refusal), and the step and
correction budgets end in a refusal, never a guess.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage
from sqlglot import exp, parse_one
from sqlglot.errors import ParseError

from app.agent.calls import Run, invoke, json_object
from app.agent.draft import LOOKUP_TOOLS, action_schema, plan_from_draft
from app.agent.parts import PREVIEW_ROWS, exhausted, out_of_tool_calls, repeated, short
from app.agent.periods import Periods
from app.agent.readback import Demands, demands_of, plan_gaps, sql_gaps
from app.agent.vet import PlanProblem, checked_reason
from app.core.answer import Answer, Step
from app.core.plan import CannotAnswer
from app.core.request import Request
from app.pipeline.rawsql import answer_result
from app.semantic.catalog import is_tenant_column, warehouse_catalog
from tools import ToolContext, describe_table, lookup_metric, run_sql, sample_values

NO_REASON = "The AI assistant found no way to answer this from the data."
RESAMPLE_TEMPERATURE = 0.7  # the one changed retry of a step the model repeated at temperature 0


class JsonSteps(Run):
    """One question in JSON mode: one constrained action per step."""

    def run(
        self, request: Request, messages: list[BaseMessage], periods: Periods, account: str
    ) -> Generator[Step, None, Answer | CannotAnswer]:
        """Take steps until an answer or a refusal."""
        schema = action_schema(self.assistant.model, periods)
        bound = self.model.bind(
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "agent_step", "schema": schema},
            }
        )
        ctx = ToolContext(
            session=self.assistant.session,
            account=account,
            as_of=request.as_of,
            preview_rows=PREVIEW_ROWS,
        )
        demands = demands_of(request.question, self.assistant, account, request.as_of)
        taken: set[str] = set()
        notes: list[str] = []
        corrections = ran = 0
        resampled = False
        limit = self.settings.llm_max_output_tokens
        for _ in range(self.settings.llm_tool_call_budget):
            yield Step(kind="model", text="Choosing the next step…")
            sent = [*messages, HumanMessage(_notes(notes))] if notes else messages
            reply = invoke(bound, sent, self.usage, limit)
            action = json_object(reply.text)
            key = json.dumps(action, sort_keys=True)
            if key in taken and not resampled:  # greedy decoding repeats itself: sample once
                resampled = True
                yield Step(kind="notice", text="The model repeated a step; asking once more.")
                hot = bound.bind(temperature=RESAMPLE_TEMPERATURE)
                reply = invoke(hot, sent, self.usage, limit)
                action = json_object(reply.text)
                key = json.dumps(action, sort_keys=True)
            if key in taken:
                return repeated(str(action.get("action")) if isinstance(action, dict) else "reply")
            taken.add(key)
            if not isinstance(action, dict) or action.get("action") not in _ACTIONS:
                corrections += 1
                if corrections > self.settings.llm_correction_budget:
                    return exhausted(corrections, ran=ran > 0)
                notes.append(_NOT_AN_ACTION)
                continue
            kind = action["action"]
            if kind == "cannot_answer":
                reason = str(action.get("reason") or NO_REASON)
                return CannotAnswer(reason=checked_reason(reason, request.question, NO_REASON))
            if kind == "lookup":
                text = self._lookup(ctx, action)
                yield Step(kind="tool_call", text=f"{action.get('tool')}({action.get('name')!r})")
                yield Step(kind="tool_result", text=text.splitlines()[0] if text else "")
                notes.append(f"You looked up {action.get('name')!r}:\n{text}")
                continue
            outcome = yield from self._run(kind, action, request, periods, ctx, demands)
            if isinstance(outcome, Answer):
                return outcome
            ran += outcome.ran
            corrections += 1
            if corrections > self.settings.llm_correction_budget:
                return exhausted(corrections, ran=ran > 0)
            notes.append(f"You sent {_brief(action)}. {outcome.text}")
        return out_of_tool_calls(self.settings.llm_tool_call_budget)

    def _run(
        self,
        kind: str,
        action: dict[str, Any],
        request: Request,
        periods: Periods,
        ctx: ToolContext,
        demands: Demands,
    ) -> Generator[Step, None, Answer | _Failed]:
        """Run a plan or a SELECT: the Answer, or the error text to feed back."""
        if kind == "sql":
            sql = str(action.get("sql") or "")
            yield Step(kind="tool_call", text="run_sql", sql=sql)
            result = run_sql(ctx, sql)  # the guard first: whatever it refuses never runs
            yield Step(kind="tool_result", text=result.text.splitlines()[0] if result.text else "")
            if not result.ok or result.result is None or result.sql is None:
                hint = columns_hint(sql) if result.sql is not None else ""
                return _Failed(f"That SELECT failed: {short(result.text)}{hint}", True)
            gap = sql_gaps(sql, demands)
            if gap is not None:  # it ran, and answers another question: not shown
                yield Step(kind="notice", text=f"Result not used: {gap}.")
                return _Failed(f"That SELECT does not answer the question: {gap}.", ran=True)
            return answer_result(
                self.assistant.session, result.result, result.sql, request, backend=self.backend
            )
        try:
            plan = plan_from_draft(action.get("plan") or {}, self.assistant.model, periods)
        except PlanProblem as err:
            yield Step(kind="notice", text=f"Plan refused before running: {err}")
            return _Failed(f"That plan is not valid: {err}.", ran=False)
        gap = plan_gaps(plan, demands, self.assistant.model)
        if gap is not None:  # it would run and answer another question
            yield Step(kind="notice", text=f"Plan refused before running: {gap}.")
            return _Failed(f"That plan does not answer the question: {gap}.", ran=False)
        answer = self.assistant.answer_plan(plan, request, backend=self.backend)
        yield Step(kind="tool_result", text=answer.headline, sql=answer.sql)
        if answer.status == "answered":
            return answer
        return _Failed(f"The plan failed: {short(answer.error or answer.headline)}.", ran=True)

    def _lookup(self, ctx: ToolContext, action: dict[str, Any]) -> str:
        tool, name = action.get("tool"), str(action.get("name") or "")
        if tool == "lookup_metric":
            return lookup_metric(ctx, name)
        if tool == "describe_table":
            return describe_table(ctx, name)
        if tool == "sample_values":
            return sample_values(ctx, name, str(action.get("column") or ""))
        return f"Unknown lookup {tool!r}; use one of {', '.join(LOOKUP_TOOLS)}."


_ACTIONS = ("plan", "sql", "lookup", "cannot_answer")
_KEEP_NOTES = 3  # the most recent results and failures sent back; older ones are dropped


def _notes(notes: list[str]) -> str:
    """What the earlier steps found, as one message after the question (the prefix stays)."""
    recent = "\n\n".join(notes[-_KEEP_NOTES:])
    return f"Earlier steps for this question:\n{recent}\n\nSend a different next step."


def _brief(action: dict[str, Any]) -> str:
    if action.get("action") == "sql":
        return f"this SELECT: {action.get('sql')}"
    return f"this {action.get('action')}: {json.dumps(action.get('plan') or action)}"


_NOT_AN_ACTION = (
    'Your reply was not one JSON action. Reply with {"action": ...} as the schema says.'
)


def columns_hint(sql: str) -> str:
    """The real columns of the tables a failed SELECT reads, so a small model stops guessing."""
    try:
        tables = {t.name.lower() for t in parse_one(sql, read="duckdb").find_all(exp.Table)}
    except ParseError:
        return ""
    catalog = warehouse_catalog()
    lines = [
        f"Columns of {name}: "
        + ", ".join(c.name for c in catalog[name].columns if not is_tenant_column(c.name))
        for name in sorted(tables & set(catalog))
    ]
    return ("\n" + "\n".join(lines)) if lines else ""


@dataclass(frozen=True)
class _Failed:
    text: str
    ran: bool
