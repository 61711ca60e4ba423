"""The agent's LangChain-free parts: its decision schema and its texts (tools are in `tools`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.conversation import Conversation
from app.core.plan import CannotAnswer, QueryPlan

PREVIEW_ROWS = 20


class AgentDecision(BaseModel):
    """What the model decided for a question: a plan, raw SQL instead, or a refusal."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["plan", "sql", "cannot_answer"] = Field(
        description="'plan' when the question fits the semantic metrics, 'sql' when it needs a "
        "raw SELECT, 'cannot_answer' when the data cannot answer it."
    )
    plan: QueryPlan | None = Field(None, description="The plan, when action is 'plan'.")
    reason: str = Field(
        "", description="Why SQL is needed, or why the question cannot be answered."
    )


def history(conversation: Conversation) -> str:
    """The last turns of the conversation, compact, for a follow-up sent to the model."""
    lines = ["Earlier in this conversation (most recent last):"]
    for a in conversation.answers[-3:]:
        lines.append(f"- Q: {a.question[:300]} → {a.status}: {a.headline[:200]}")
        if a.plan is not None:
            lines.append(f"  plan: {a.plan.model_dump_json(exclude_defaults=True)[:600]}")
    return "\n".join(lines)


def args_text(args: dict[str, Any]) -> str:
    """A tool call's arguments, shortened for the step shown to the user."""
    text = ", ".join(f"{k}={v!r}" for k, v in args.items())
    return text if len(text) <= 300 else text[:297] + "…"


def short(err: object) -> str:
    """An error on one line, at most 400 characters, for the model."""
    text = str(err).replace("\n", " ")
    return text if len(text) <= 400 else text[:397] + "…"


def describe(err: Exception) -> str:
    """A client failure as the user sees it: its kind and HTTP status, never its payload."""
    name = type(err).__name__
    status = getattr(err, "status_code", None)
    return f"{name} (HTTP {status})" if status else name


def exhausted(corrections: int, *, ran: bool = True) -> CannotAnswer:
    """The refusal when the model used up its corrections (`ran`: whether any query ran)."""
    what = "a working query" if ran else "a query that could run (none ran)"
    return CannotAnswer(
        reason=f"The AI assistant could not write {what} after {corrections - 1} "
        "corrections (the `llm_correction_budget` setting), so there is no answer rather than "
        "a guess.",
        reason_class="out_of_scope",
    )


def no_query(instruction_sent: bool) -> CannotAnswer:
    """The refusal when the model answered in prose instead of writing a query."""
    again = " even when asked once more" if instruction_sent else ""
    return CannotAnswer(
        reason=f"The AI model replied in prose instead of writing a query{again}, so no query "
        "ran and there is no answer rather than a guess.",
        reason_class="out_of_scope",
    )


def length_cut(limit: int) -> CannotAnswer:
    """The refusal when a reply stopped at the output token limit."""
    return CannotAnswer(
        reason=f"The AI model's reply was cut at its output limit ({limit} tokens, the "
        "`llm_max_output_tokens` setting) before it was complete, so there is no answer rather "
        "than a guess. A narrower question may fit.",
        reason_class="out_of_scope",
    )


def repeated(what: str) -> CannotAnswer:
    """The refusal when the model sent a step it had already taken."""
    return CannotAnswer(
        reason=f"The AI model repeated a step it had already taken (the same {what}), so it "
        "was stopped there: there is no answer rather than a guess.",
        reason_class="out_of_scope",
    )


def out_of_tool_calls(budget: int) -> CannotAnswer:
    """The refusal when the model used up its tool calls."""
    return CannotAnswer(
        reason=f"The AI assistant used its {budget} tool calls (the `llm_tool_call_budget` "
        "setting) without an answer.",
        reason_class="out_of_scope",
    )
