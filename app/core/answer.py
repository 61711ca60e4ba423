"""Answer: everything shown to the user for one question, as one typed value."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.plan import Assumption, CannotAnswer, NeedsClarification, QueryPlan

Status = Literal["answered", "clarify", "refused", "rejected", "error"]
ColumnKind = Literal["money", "count", "ratio", "label", "date", "number"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Column(_Model):
    """A result column with the kind that decides how it is compared and formatted."""

    name: str
    kind: ColumnKind = "label"
    currency: str | None = None
    label: str = ""


class ChartSpec(_Model):
    """How to draw the result: line for time series, bar for breakdowns."""

    type: Literal["line", "bar", "waterfall"]
    x: str
    y: list[str]
    color: str | None = None


class BridgeStep(_Model):
    """One bar of a change's bridge: the start value, a driver's signed amount, or the end value."""

    label: str
    amount: Decimal
    kind: Literal["start", "change", "end"] = "change"


class Definition(_Model):
    """A metric definition shown to the user."""

    metric: str
    label: str
    definition: str


class Period(_Model):
    """The exact half-open range the answer covers."""

    start: date
    end: date
    timezone: str
    label: str = ""
    point: date | None = Field(None, description="For balances: the day whose end is measured.")

    @property
    def text(self) -> str:
        """Render the range as `start ≤ t < end (tz)`, or the balance's point in time."""
        if self.point is not None:
            return f"at the end of {self.point.isoformat()} ({self.timezone})"
        return f"{self.start.isoformat()} ≤ t < {self.end.isoformat()} ({self.timezone})"


class Timings(_Model):
    """Milliseconds spent per stage, measured in-process."""

    understand_ms: float = 0.0
    compile_ms: float = 0.0
    guard_ms: float = 0.0
    execute_ms: float = 0.0
    explain_ms: float = 0.0
    total_ms: float = 0.0


class Step(_Model):
    """One visible step of the LLM agent, streamed to the UI while it works."""

    kind: Literal["model", "tool_call", "tool_result", "text", "notice"]
    text: str
    sql: str | None = None


class LlmUsage(_Model):
    """What the LLM path cost for one answer: calls, tokens, estimated price, prompt versions."""

    model: str
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = Field(
        0, description="Prompt tokens the server reused from its prompt cache (when it says)."
    )
    cost_usd: Decimal | None = Field(None, description="Estimate from the dated price table.")
    prompts: dict[str, str] = Field(
        default_factory=dict, description="Prompt name → sha256 of the prompts used."
    )
    replayed: str | None = Field(None, description="Provenance when replayed from a cassette.")
    tool_mode: str = Field("", description="native or json, and why (the `llm_tool_mode` setting).")


class VerifiedBy(_Model):
    """The verified answer a question matched: who vouched for it, when, and whether it still holds.

    `stale` says why it no longer holds (the semantic model or the warehouse schema changed since);
    a stale verification is shown as such and earns no badge.
    """

    id: int
    question: str
    by: str
    at: datetime
    stale: str | None = None

    @property
    def note(self) -> str:
        """The badge line, or the line saying why the badge is withheld."""
        if self.stale is None:
            return f"Verified by {self.by} on {self.at.date().isoformat()}."
        return (
            f"Not verified: {self.by} verified this question on {self.at.date().isoformat()}, "
            f"but {self.stale} since; it needs verifying again."
        )


class Answer(_Model):
    """The result of ask(): headline, table, chart, SQL, definitions, assumptions, explanation.

    Built once and never changed (frozen): a variant is a `model_copy(update=...)`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Status
    question: str
    headline: str = ""
    value: Decimal | int | float | None = None
    columns: list[Column] = Field(default_factory=list)
    rows: list[list[Any]] = Field(default_factory=list)
    truncated: bool = False
    total: list[Any] | None = Field(
        None,
        description="The Total row, one cell per column (None where a column has no total), when "
        "the rows add up to the whole; never one of `rows`.",
    )
    shares: list[Decimal | None] = Field(
        default_factory=list,
        description="Each row's exact share of the first metric's total (a breakdown whose metric "
        "adds up and has no negative rows); empty otherwise.",
    )
    chart: ChartSpec | None = None
    bridge: list[BridgeStep] = Field(
        default_factory=list,
        description="A 'why' answer's change from the previous period to this one, driver by "
        "driver (start, signed changes, end); the waterfall chart draws it.",
    )
    sql: str | None = None
    plan: QueryPlan | None = None
    definitions: list[Definition] = Field(default_factory=list)
    period: Period | None = None
    currency: str | None = None
    filters: list[str] = Field(default_factory=list)
    assumptions: list[Assumption] = Field(default_factory=list)
    explanation: str = ""
    numbers_verified: bool = False
    backend: str = "engine"
    account: str | None = None
    as_of: date | None = None
    freshness: datetime | None = None
    timings: Timings = Field(default_factory=Timings)
    clarification: NeedsClarification | None = None
    refusal: CannotAnswer | None = None
    suggestions: list[str] = Field(default_factory=list)
    error: str | None = None
    notices: list[str] = Field(
        default_factory=list, description="One-line notes for the user (fallbacks, limits)."
    )
    read_back: str = Field(
        "",
        description="How the question was read, in one line: measures, breakdown, filters, "
        "period, currency.",
    )
    ignored: list[str] = Field(
        default_factory=list, description="Words of the question the answer did not use."
    )
    llm: LlmUsage | None = None
    verified: VerifiedBy | None = Field(
        None, description="The verified answer this one was matched to (stale: no badge)."
    )
