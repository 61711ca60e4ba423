"""A ratio planned beside one of its own parts compiles once and answers both as if asked alone.

A ratio compiles its numerator and denominator as metrics of their own; when the plan also lists
one of them (refund rate and refunds, ARPU and MRR), the part is compiled once and shared (a
duplicate CTE name was once reported). Every ratio metric of data/semantic/metrics.yaml is planned
with each of its parts, in both orders, as a total, by month, per currency and beside the previous
period; the executed rows of each metric must equal those of the metric planned alone.
"""

from datetime import date
from typing import Any

import pytest

from app.core.plan import Comparison, QueryPlan, TimeRange
from app.pipeline.assistant import Assistant
from app.semantic.load import semantic_model
from app.sql.compile import CompileContext, compile_plan

HOME = "acct_demo_01"
H1 = TimeRange(start=date(2025, 1, 1), end=date(2025, 7, 1))
MODEL = semantic_model()
PAIRS = [
    (m.name, part)
    for m in MODEL.metrics.values()
    if m.aggregation == "ratio"
    for part in (m.numerator, m.denominator)
]
SHAPES: dict[str, dict[str, Any]] = {
    "total": {},
    "by month": {"grain": "month"},
    "per currency": {"by_currency": True},
    "vs previous period": {"comparison": Comparison(kind="previous_period")},
}


def _answers(assistant: Assistant, plan: QueryPlan) -> dict[str, dict[tuple[Any, ...], Any]]:
    """Per output column of a metric: its value by the row's keys (period, currency)."""
    info = assistant.session.account_info(HOME)
    assert info is not None
    ctx = CompileContext(account=info, as_of=date(2025, 12, 31), model=MODEL)
    compiled = compile_plan(plan, ctx)
    rows = assistant.session.run_sql(compiled.expression, HOME).rows
    assert rows, plan
    names = [c.name for c in compiled.columns]
    keys = [i for i, c in enumerate(compiled.columns) if c.kind in ("date", "label")]
    out: dict[str, dict[tuple[Any, ...], Any]] = {}
    for i, name in enumerate(names):
        if i not in keys:
            out[name] = {tuple(row[k] for k in keys): row[i] for row in rows}
    return out


def test_every_ratio_metric_is_covered() -> None:
    ratios = {m.name for m in MODEL.metrics.values() if m.aggregation == "ratio"}
    assert {"refund_rate", "dispute_rate", "arpu"} <= ratios
    assert {r for r, _ in PAIRS} == ratios


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("ratio", "part"), PAIRS)
def test_a_ratio_beside_its_own_part_answers_both(
    assistant: Assistant, ratio: str, part: str, shape: str
) -> None:
    base = {"time": H1, **SHAPES[shape]}
    alone: dict[str, dict[tuple[Any, ...], Any]] = {}
    for name in (ratio, part):
        alone |= _answers(assistant, QueryPlan(metrics=(name,), **base))
    for order in ((ratio, part), (part, ratio)):
        together = _answers(assistant, QueryPlan(metrics=order, **base))
        assert together == alone, order
