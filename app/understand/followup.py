"""Follow-up questions: edit the previous plan ("and by country?", "what about last year?")."""

from __future__ import annotations

import re
from datetime import date, timedelta

from app.core.plan import Assumption, Comparison, Filter, QueryPlan, Ranking, TimeRange
from app.semantic.model import SemanticModel

WHY = re.compile(
    r"\bwhy\b.*\b(drop|dropped|fall|fell|decrease|decreased|decline|declined|down|increase|"
    r"increased|rise|rose|grow|grew|jump|jumped|spike|spiked|change|changed|go\s+up|went\s+up)\b",
    re.I,
)


def why_metrics(
    metrics: list[str], previous: QueryPlan | None, model: SemanticModel
) -> tuple[list[str], bool, Assumption]:
    """'Why did it drop?': the metrics plus their components, and the assumption saying so."""
    base = metrics or (list(previous.metrics) if previous else [])
    drivers = [d for m in base for d in model.metrics[m].drivers]
    note = Assumption(
        key="why_change",
        text="'Why' is answered from the data: the change against the previous period"
        + (" and its components" if drivers else "")
        + "; causes outside this data are not known.",
    )
    return (list(dict.fromkeys([*base, *drivers])) if drivers else metrics), bool(drivers), note


def edit_plan(
    text: str,
    prev: QueryPlan,
    metrics: list[str],
    dims: list[str],
    filters: list[Filter],
    trange: TimeRange | None,
    point: date | None,
    grain: object,
    n: int | None,
    direction: str,
    comparison: Comparison | None,
    currency: str | None,
    assumptions: list[Assumption],
) -> QueryPlan:
    """Return the previous plan edited by what the follow-up question changes."""
    instead = bool(re.search(r"\binstead\b", text, re.I))
    new_dims = list(prev.dimensions)
    if dims:
        new_dims = dims if instead else [*new_dims, *[d for d in dims if d not in new_dims]]
    new_filters = [f for f in prev.filters if f.dimension not in {x.dimension for x in filters}]
    new_filters += filters
    time = trange if trange is not None else prev.time
    if point is not None:
        time = TimeRange(start=point, end=point + timedelta(days=1), label=f"as of {point}")
    ranking = prev.ranking
    if n is not None and new_dims:
        ranking = Ranking(metric=(metrics or list(prev.metrics))[0], n=n, direction=direction)
    chart = prev.chart
    if re.search(r"\bchart|graph|plot\b", text, re.I):
        chart = (
            "bar"
            if re.search(r"\bbar\b", text, re.I)
            else ("line" if re.search(r"\bline\b", text, re.I) else chart)
        )
        if chart == "auto" and prev.grain is None and not new_dims:
            assumptions.append(
                Assumption(key="chart_single_number", text="A single number has no chart.")
            )
    notes = [a for a in prev.assumptions if not a.key.endswith("_definition")]
    return prev.model_copy(
        update={
            "metrics": tuple(metrics) if metrics else prev.metrics,
            "dimensions": tuple(new_dims),
            "filters": tuple(new_filters),
            "time": time,
            "grain": grain if grain is not None else (None if point is not None else prev.grain),
            "comparison": comparison if comparison is not None else prev.comparison,
            "ranking": ranking,
            "currency": currency or prev.currency,
            "by_currency": "currency" in new_dims or prev.by_currency,
            "chart": chart,
            "assumptions": tuple(assumptions + notes),
        }
    )
