"""Per currency everywhere: one row per original currency, amounts never converted.

Flows, stocks (MRR), ratios (refund rate: both parts in the row's currency) and ARPU, alone or
beside the previous period or the same period last year. Each answer is compared with a query
written by hand from the metric definitions on the demo warehouse (exact Decimal money).
"""

from datetime import date
from decimal import Decimal
from typing import Any

from app.core.answer import Answer
from app.core.plan import QueryPlan
from app.core.request import Request
from app.pipeline.assistant import Assistant
from app.semantic.model import semantic_model
from app.sql.compile import CompileContext, compile_plan

AS_OF = date(2025, 12, 31)
HOME = "acct_demo_01"  # reports in USD, New York time
LOCAL = "timezone('America/New_York', {t} AT TIME ZONE 'UTC')"


def _ask(assistant: Assistant, question: str) -> Answer:
    answer = assistant.ask(Request(question, as_of=AS_OF, account=HOME))
    assert answer.status == "answered", (question, answer.error, answer.refusal)
    return answer


def _rows(assistant: Assistant, sql: str) -> list[list[Any]]:
    rows = [list(row) for row in assistant.session.run_sql(sql, HOME).rows]
    assert rows, "the hand-written query returns no rows: it checks nothing"
    return rows


def _plan_rows(assistant: Assistant, plan: QueryPlan) -> list[list[Any]]:
    info = assistant.session.account_info(HOME)
    assert info is not None
    ctx = CompileContext(account=info, as_of=AS_OF, model=semantic_model())
    compiled = compile_plan(plan, ctx)
    assert compiled.currency is None, "per currency must not convert"
    return [list(r) for r in assistant.session.run_sql(compiled.expression, HOME).rows]


def _within(column: str, start: str, end: str) -> str:
    local = LOCAL.format(t=column)
    return f"{local} >= TIMESTAMP '{start}' AND {local} < TIMESTAMP '{end}'"


def _by_currency(rows: list[list[Any]]) -> dict[str, list[Any]]:
    return {r[0]: r[1:] for r in rows}


def test_gross_volume_per_currency_beside_the_previous_month(assistant: Assistant) -> None:
    # Once a Binder Error: the outer SELECT read an unqualified `currency` beside c and p.
    answer = _ask(assistant, "Gross volume per currency in March 2025 vs the previous month")
    march = _within("created", "2025-03-01", "2025-04-01")
    february = _within("created", "2025-02-01", "2025-03-01")
    want = _rows(
        assistant,
        f"""
        SELECT currency,
               CAST(0.01 * sum(amount) FILTER (WHERE {march}) AS DECIMAL(18, 2)),
               CAST(0.01 * sum(amount) FILTER (WHERE {february}) AS DECIMAL(18, 2))
        FROM charges WHERE status = 'succeeded'
        GROUP BY currency
        """,
    )
    names = [c.name for c in answer.columns]
    assert names[:4] == ["currency", "gross_volume", "gross_volume_previous", "gross_volume_change"]
    assert answer.currency is None
    got = _by_currency(answer.rows)
    assert set(got) == {r[0] for r in want}
    for currency, now, before in want:
        assert got[currency][:3] == [now, before, now - before], currency
        assert isinstance(got[currency][0], Decimal)
