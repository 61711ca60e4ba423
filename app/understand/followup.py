"""Follow-up questions: edit the previous plan ("and by country?", "what about last year?")."""

from __future__ import annotations

import re
from datetime import timedelta

from app.core.plan import Assumption, QueryPlan, Ranking, TimeRange
from app.understand.reading import Reading

_INSTEAD = re.compile(r"\binstead\b", re.I)
_CHART = re.compile(r"\b(?:chart|graph|plot)\b", re.I)
_BAR = re.compile(r"\bbar\b", re.I)
_LINE = re.compile(r"\bline\b", re.I)


def edit_plan(r: Reading, prev: QueryPlan) -> QueryPlan:
    """Return the previous plan edited by what the follow-up question changes."""
    text = r.text
    new_dims = list(prev.dimensions)
    if r.dimensions:
        added = [d for d in r.dimensions if d not in new_dims]
        new_dims = list(r.dimensions) if _INSTEAD.search(text) else [*new_dims, *added]
    # "in US dollars?": a currency to report in (no currency filter read) converts every amount
    converts = r.currency is not None and all(f.dimension != "currency" for f in r.filters)
    if converts:
        new_dims = [d for d in new_dims if d != "currency"]
    replaced = {f.dimension for f in r.filters}
    new_filters = (*(f for f in prev.filters if f.dimension not in replaced), *r.filters)
    time = r.range if r.range is not None else prev.time
    if r.point is not None:
        time = TimeRange(start=r.point, end=r.point + timedelta(days=1), label=f"as of {r.point}")
    ranking = prev.ranking
    if r.ranking_n is not None and new_dims:
        metric = (r.metrics or prev.metrics)[0]
        ranking = Ranking(metric=metric, n=r.ranking_n, direction=r.direction)
    chart = prev.chart
    no_chart: tuple[Assumption, ...] = ()
    if _CHART.search(text):
        chart = "bar" if _BAR.search(text) else "line" if _LINE.search(text) else chart
        if chart == "auto" and prev.grain is None and not new_dims:
            no_chart = (
                Assumption(key="chart_single_number", text="A single number has no chart."),
            )
    notes = tuple(a for a in prev.assumptions if not a.key.endswith("_definition"))
    grain = r.grain if r.grain is not None else (None if r.point is not None else prev.grain)
    if r.why and r.grain is None:  # "why did it drop in March?": March against February
        grain = None
    return prev.model_copy(
        update={
            "metrics": r.metrics or prev.metrics,
            # a statistic stays until the follow-up names another one or a metric
            "aggregate": r.aggregate or (None if r.metrics else prev.aggregate),
            "dimensions": tuple(new_dims),
            "filters": new_filters,
            "time": time,
            "grain": grain,
            "comparison": r.comparison if r.comparison is not None else prev.comparison,
            "ranking": ranking,
            "currency": r.currency or prev.currency,
            "by_currency": "currency" in new_dims or (prev.by_currency and not converts),
            "chart": chart,
            "assumptions": (*r.assumptions, *no_chart, *notes),
        }
    )
