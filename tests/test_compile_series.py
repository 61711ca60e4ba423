"""A series is generated in SQL: its statement has the size of the plan, not of its bucket count.

Two years of days once compiled to one literal row per day (108,010 characters for a daily stock
series with a breakdown, past the guard's size limit); the periods and stock points are now
`unnest(generate_series(...))` rows computed by DuckDB. These tests check the size, that the
generated points are the days the frame says, and the executed answer of a two-year daily MRR.
"""

from datetime import date, timedelta
from decimal import Decimal

import duckdb
import pytest

from app.core.plan import Comparison, QueryPlan, TimeRange
from app.pipeline.assistant import Assistant
from app.semantic.load import semantic_model
from app.sql.compile import AccountInfo, CompileContext, compile_plan
from app.sql.compile.compiler import COMPILERS
from app.sql.compile.points import points, points_cte
from app.sql.compile.state import CompileState
from app.sql.compile.timeframe import plan_frame

HOME = "acct_demo_01"
CTX = CompileContext(
    account=AccountInfo(HOME, "America/New_York", "usd"),
    as_of=date(2025, 12, 31),
    model=semantic_model(),
)
MONTH = TimeRange(start=date(2025, 11, 1), end=date(2025, 12, 1))
TWO_YEARS = TimeRange(start=date(2024, 1, 1), end=date(2026, 1, 1))


def _sql(plan: QueryPlan) -> str:
    return compile_plan(plan, CTX).expression.sql("duckdb")


@pytest.mark.parametrize(
    "shape",
    [
        {"metrics": ("mrr",)},
        {"metrics": ("mrr",), "dimensions": ("plan",)},
        {"metrics": ("active_customers",), "dimensions": ("customer_country",)},
        {"metrics": ("arpu", "mrr"), "by_currency": True},
        {"metrics": ("gross_volume",), "dimensions": ("card_brand",)},
        {"metrics": ("mrr",), "comparison": Comparison(kind="previous_period")},
    ],
    ids=lambda s: "+".join(s["metrics"]) + "/" + "/".join(s.get("dimensions", ())),
)
def test_a_two_year_daily_series_compiles_to_the_size_of_a_one_month_one(shape: dict) -> None:
    month = _sql(QueryPlan(time=MONTH, grain="day", **shape))
    years = _sql(QueryPlan(time=TWO_YEARS, grain="day", **shape))
    assert len(years) <= 1.05 * len(month), (len(month), len(years))


@pytest.mark.parametrize(
    ("trange", "grain", "comparison"),
    [
        (TWO_YEARS, "day", None),
        (TimeRange(start=date(2025, 3, 15), end=date(2025, 8, 10)), "month", None),
        (TimeRange(start=date(2025, 1, 1), end=date(2026, 1, 1)), "week", None),
        (TimeRange(start=date(2024, 2, 10), end=date(2026, 1, 1)), "quarter", "previous_period"),
        (TimeRange(start=date(2023, 6, 1), end=date(2027, 1, 1)), "year", None),
        (TimeRange(start=date(2025, 2, 1), end=date(2025, 5, 1)), "month", "same_period_last_year"),
    ],
)
@pytest.mark.parametrize("at", ["end", "start"])
def test_generated_points_are_the_frames_points(
    trange: TimeRange, grain: str, comparison: str | None, at: str
) -> None:
    compare = Comparison(kind=comparison) if comparison else None
    plan = QueryPlan(metrics=("mrr",), time=trange, grain=grain, comparison=compare)
    frame = plan_frame(plan, CTX.as_of, "America/New_York", [CTX.model.metrics["mrr"]])
    q = CompileState(ctx=CTX, plan=plan, frame=frame, target="usd", compilers=COMPILERS)
    name = points_cte(q, at)
    query = dict(q.ctes)[name]
    got = duckdb.sql(query.sql("duckdb")).fetchall()
    want = [(b.label, p) for b, p in zip(frame.buckets, points(q, at), strict=True)]
    assert got == want


def test_two_years_of_daily_mrr_are_the_ledger_total_each_day(assistant: Assistant) -> None:
    # The running total of the MRR ledger at the end of each local day, converted to USD with the
    # rate published that day, for 731 days: the same rows the per-day literals gave.
    plan = QueryPlan(metrics=("mrr",), time=TWO_YEARS, grain="day")
    got = assistant.session.run_sql(compile_plan(plan, CTX).expression, HOME).rows
    want = assistant.session.run_sql(
        """
        WITH days AS (
          SELECT CAST(unnest(generate_series(DATE '2024-01-01', DATE '2025-12-31', INTERVAL 1 DAY))
                      AS DATE) AS period
        ), balance AS (
          SELECT d.period, e.currency, sum(e.mrr_change) AS minor
          FROM days AS d
          JOIN subscription_item_change_events AS e
            ON CAST(e.local_event_timestamp AS DATE) <= d.period
          GROUP BY ALL
        )
        SELECT b.period,
               CAST(0.01 * sum(CASE WHEN b.currency = 'usd' THEN b.minor ELSE CAST(round(
                 b.minor * CAST(json_extract_string(fx.buy_currency_exchange_rates, '$.usd')
                                AS DOUBLE)
                 / CAST(json_extract_string(fx.buy_currency_exchange_rates, '$.' || b.currency)
                        AS DOUBLE)) AS BIGINT) END) AS DECIMAL(18, 2)) AS mrr
        FROM balance AS b
        LEFT JOIN exchange_rates_from_usd AS fx ON CAST(fx.date AS DATE) = b.period
        GROUP BY b.period
        ORDER BY b.period
        """,
        HOME,
    ).rows
    assert len(got) == 731
    assert [r[0] for r in got] == [date(2024, 1, 1) + timedelta(days=i) for i in range(731)]
    assert all(isinstance(r[1], Decimal) for r in got)
    assert list(got) == list(want)
