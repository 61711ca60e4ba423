"""The parts of an Answer the pipeline assembles: notices, assumptions, refusals, failures."""

from __future__ import annotations

import time
from typing import Any, Literal

from app.core.answer import Answer, Column, Timings
from app.core.plan import Assumption, CannotAnswer, QueryPlan
from app.run.warehouse import Result
from app.semantic.model import SemanticModel
from app.sql.compile import AccountInfo, Compiled


def row_cap_notices(result: Result) -> list[str]:
    """The notice shown when the `max_rows` setting cut the result (else none)."""
    if not result.truncated:
        return []
    return [
        f"Showing {len(result.rows):,} rows of more; the rest is cut by the `max_rows` setting."
    ]


def total_notes(total: list[Any] | None, compiled: Compiled) -> list[Assumption]:
    """Why a Total row of converted money may be cents off the same figure asked unbroken."""
    money = [v for c, v in zip(compiled.columns, total or [], strict=False) if c.kind == "money"]
    if not compiled.uses_rates or not any(v is not None for v in money):
        return []
    text = (
        "The Total row adds the rows as shown; each row is converted per day and rounded to the "
        "cent, so the total can differ by a few cents from the same figure asked without the "
        "breakdown."
    )
    return [Assumption(key="total_of_converted_rows", text=text)]


def total_timings(timings: Timings, t0: float) -> Timings:
    """The timings with the total since ``t0``."""
    return timings.model_copy(update={"total_ms": ms_since(t0)})


def refused(refusal: CannotAnswer, base: dict[str, Any], timings: Timings) -> Answer:
    """The Answer of a refusal, with its suggestions."""
    return Answer(
        status="refused",
        refusal=refusal,
        headline=refusal.reason,
        suggestions=list(refusal.suggestions),
        timings=timings,
        **base,
    )


def failed(
    status: Literal["rejected", "error"],
    err: Exception,
    plan: QueryPlan,
    headline: str,
    base: dict[str, Any],
    sql: str | None,
    timings: Timings,
    t0: float,
) -> Answer:
    """The Answer of a plan whose query was rejected or failed, with the error."""
    return Answer(
        status=status,
        error=str(err),
        plan=plan,
        headline=headline,
        sql=sql,
        timings=total_timings(timings, t0),
        **base,
    )


def result_columns(cols: list[Column], result: Result) -> list[Column]:
    """The compiled columns, or plain labels when the result's columns differ from them."""
    if [c.name for c in cols] == list(result.columns):
        return cols
    return [Column(name=n, kind="label") for n in result.columns]


def answer_assumptions(
    plan: QueryPlan,
    notes: list[Assumption],
    period: Any,
    currency: str | None,
    info: AccountInfo,
    model: SemanticModel,
) -> list[Assumption]:
    """The plan's and compiler's notes, each metric's definition, the period and currency."""
    out: dict[str, Assumption] = {}
    for a in [*plan.assumptions, *notes]:
        out.setdefault(a.key, a)
    for m in plan.metrics if not plan.listing else ():
        out.setdefault(
            f"{m}_definition", Assumption(key=f"{m}_definition", text=model.metrics[m].definition)
        )
    if period is not None:
        out["period"] = Assumption(key="period", text=f"Period: {period.text}.")
    if currency and not plan.listing:
        money = any(
            model.metrics[m].unit == "money" or model.metrics[m].aggregation == "ratio"
            for m in plan.metrics
        )
        if money:
            out["reporting_currency"] = Assumption(
                key="reporting_currency",
                text=f"Amounts in {currency.upper()}; other currencies converted per day with the "
                "previous day's rate (exchange_rates_from_usd).",
            )
    elif not plan.listing:
        out["by_currency"] = Assumption(
            key="by_currency", text="Amounts kept in their original currencies."
        )
    return list(out.values())


def ms_since(t0: float) -> float:
    """Milliseconds since a perf_counter reading."""
    return round((time.perf_counter() - t0) * 1000, 3)
