"""Statistics over single rows (QueryPlan.aggregate), a flow's time parts, and unrecorded columns.

Reading: what the engine plans for each phrasing, and what it leaves alone (ARPU, rates, ranking
words). Answers: asked end to end through `Assistant.ask` on the demo warehouse and compared with
a query written by hand (money exact, Decimal). The SQL shapes are pinned by the golden cases in
tests/fixtures/compile/aggregate.sql.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from app.core.answer import Answer
from app.core.plan import Aggregate, Filter, QueryPlan
from app.core.request import Request
from app.pipeline.assistant import Assistant
from app.understand import plan_question, read_question
from tests.engine_support import ctx

AS_OF = date(2025, 7, 15)
HOME = "acct_demo_01"  # reports in USD, New York time
LOCAL = "timezone('America/New_York', created AT TIME ZONE 'UTC')"
IN_2025_H1 = f"{LOCAL} >= TIMESTAMP '2025-01-01' AND {LOCAL} < TIMESTAMP '2025-07-01'"


def _plan(question: str, previous: QueryPlan | None = None) -> QueryPlan:
    plan = plan_question(question, ctx(previous))
    assert isinstance(plan, QueryPlan), plan
    return plan


def _ask(assistant: Assistant, question: str) -> Answer:
    return assistant.ask(Request(question, as_of=AS_OF, account=HOME))


def _rows(assistant: Assistant, sql: str) -> list[list[Any]]:
    rows = [list(row) for row in assistant.session.run_sql(sql, HOME).rows]
    assert rows, "the hand-written query returns no rows: it checks nothing"
    return rows


# ---------------------------------------------------------------- reading


@pytest.mark.parametrize(
    ("question", "aggregate", "metric"),
    [
        (
            "What was the median amount of successful USD charges in 2025?",
            Aggregate(func="median", measure="charge_amount"),
            "charges_count",
        ),
        ("Average refund amount in 2025", Aggregate(func="avg", measure="refund_amount"), None),
        ("mean invoice total last month", Aggregate(func="avg", measure="invoice_total"), None),
        (
            "p90 charge size last quarter",
            Aggregate(func="percentile", measure="charge_amount", p=0.9),
            None,
        ),
        (
            "95th percentile of invoice totals in 2025",
            Aggregate(func="percentile", measure="invoice_total", p=0.95),
            None,
        ),
        ("largest single charge in 2025", Aggregate(func="max", measure="charge_amount"), None),
        ("minimum dispute amount this year", Aggregate(func="min", measure="dispute_amount"), None),
        ("average refund last month", Aggregate(func="avg", measure="refund_amount"), None),
        (
            "How many distinct customers paid us in 2025?",
            Aggregate(func="count_distinct", measure="paying_customer"),
            "charges_count",
        ),
        (
            "how many customers paid us last quarter",
            Aggregate(func="count_distinct", measure="paying_customer"),
            None,
        ),
    ],
)
def test_a_statistic_and_its_measure_are_read(
    question: str, aggregate: Aggregate, metric: str | None
) -> None:
    plan = _plan(question)
    assert plan.aggregate == aggregate
    if metric:
        assert plan.metrics == (metric,)
    assert plan.listing is None and plan.ranking is None


def test_the_words_a_statistic_consumes_are_blanked() -> None:
    r = read_question("What was the median amount of successful USD charges in 2025?", ctx())
    assert "median" not in r.masked and "amount" not in r.masked and "charges" not in r.masked
    assert set(r.filters) == {
        Filter(dimension="charge_status", values=("succeeded",)),
        Filter(dimension="currency", values=("usd",)),
    }
    assert read_question("How many distinct customers paid us in 2025?", ctx()).masked.split() == [
        "?"
    ]


@pytest.mark.parametrize(
    ("question", "metric"),
    [
        ("average revenue per user last month", "arpu"),
        ("What is our average revenue per customer?", "arpu"),
        ("what was the average tax rate in 2025", "effective_tax_rate"),
        ("average refund rate in 2025", "refund_rate"),
        ("How many customers do we have?", "active_customers"),
        ("top 5 customers by gross volume last quarter", "gross_volume"),
    ],
)
def test_metrics_whose_names_hold_a_statistic_word_stay_metrics(question: str, metric: str) -> None:
    plan = _plan(question)
    assert plan.aggregate is None and plan.metrics == (metric,)


@pytest.mark.parametrize(
    "question",
    ["mean time to pay invoices", "average monthly MRR in 2025", "average daily gross volume"],
)
def test_a_statistic_word_before_no_measure_reads_nothing(question: str) -> None:
    r = read_question(question, ctx())
    assert r.aggregate is None
    assert re.search(r"\b(mean|average)\b", r.masked)  # left for the ignored-words check


def test_typical_is_read_as_the_median_and_said() -> None:
    plan = _plan("typical ticket size by card brand last quarter")
    assert plan.aggregate == Aggregate(func="median", measure="charge_amount")
    assert plan.dimensions == ("card_brand",)
    assert "typical_median" in {a.key for a in plan.assumptions}


def test_a_follow_up_keeps_or_replaces_the_statistic() -> None:
    first = _plan("average charge amount last quarter")
    median = _plan("and the median?", first)
    assert median.aggregate == Aggregate(func="median", measure="charge_amount")
    by_month = _plan("and by month?", median)
    assert by_month.aggregate == median.aggregate and by_month.grain == "month"
    assert _plan("and gross volume?", median).aggregate is None


def test_percentile_needs_p_and_only_percentile_takes_it() -> None:
    with pytest.raises(ValidationError):
        Aggregate(func="percentile", measure="charge_amount")
    with pytest.raises(ValidationError):
        Aggregate(func="median", measure="charge_amount", p=0.5)


def test_which_weekday_ranks_all_seven() -> None:
    plan = _plan("Which weekday had the most successful charges in 2025?")
    assert plan.metrics == ("charges_count",) and plan.dimensions == ("weekday",)
    assert plan.ranking is not None and (plan.ranking.direction, plan.ranking.n) == ("top", 7)
    fewest = _plan("Which hour had the fewest charges in 2025?")
    assert fewest.dimensions == ("hour_of_day",)
    assert fewest.ranking is not None and (fewest.ranking.direction, fewest.ranking.n) == (
        "bottom",
        24,
    )


def test_day_of_the_week_is_the_weekday_not_a_daily_series() -> None:
    plan = _plan("Successful charges by day of the week in 2025")
    assert plan.dimensions == ("weekday",) and plan.grain is None
    assert _plan("Successful charges by hour of day in 2025").dimensions == ("hour_of_day",)


# ---------------------------------------------------------------- answers


def test_median_of_usd_charges(assistant: Assistant) -> None:
    answer = _ask(assistant, "What was the median amount of successful USD charges in 2025?")
    assert answer.status == "answered" and answer.currency == "usd"
    want = _rows(
        assistant,
        f"""WITH usd AS (
          SELECT amount, row_number() OVER (ORDER BY amount) AS i, count(*) OVER () AS n
          FROM charges WHERE status = 'succeeded' AND currency = 'usd'
            AND {LOCAL} >= TIMESTAMP '2025-01-01' AND {LOCAL} < TIMESTAMP '2026-01-01')
        SELECT (min(amount) + max(amount) + 1) // 2 FROM usd
        WHERE i IN ((n + 1) // 2, (n + 2) // 2)""",
    )
    assert answer.rows == [[Decimal(want[0][0]) / 100]]
    assert isinstance(answer.rows[0][0], Decimal)
    assert answer.headline == f"${answer.rows[0][0]:,.2f}"


def test_an_average_without_a_currency_is_one_row_per_currency(assistant: Assistant) -> None:
    answer = _ask(assistant, "Average refund amount in the first half of 2025")
    assert answer.status == "answered" and answer.currency is None
    want = _rows(
        assistant,
        f"""SELECT currency, sum(amount), count(*) FROM refunds
        WHERE status = 'succeeded' AND coalesce(reason, '') <> 'partial_capture' AND {IN_2025_H1}
        GROUP BY currency ORDER BY currency""",
    )
    half_up = [
        [c, (Decimal(s) / n).quantize(Decimal(1), rounding="ROUND_HALF_UP") / 100]
        for c, s, n in want
    ]
    assert answer.rows == half_up
    assert all(isinstance(v, Decimal) for _, v in answer.rows)
    assert "aggregate_currency" in {a.key for a in answer.assumptions}
    parts = answer.headline.split(" · ")
    assert [p.split(" ")[0] for p in parts] == [c.upper() for c, _ in answer.rows]  # ISO codes
    assert answer.numbers_verified


def test_an_average_converted_to_usd_converts_each_row(assistant: Assistant) -> None:
    answer = _ask(assistant, "average refund amount in the first half of 2025 converted to USD")
    assert answer.currency == "usd"
    want = _rows(
        assistant,
        f"""WITH r AS (
          SELECT CASE WHEN currency = 'usd' THEN amount
            ELSE round(amount / CAST(json_extract_string(fx.buy_currency_exchange_rates,
                                      '$.' || currency) AS DOUBLE)
                 * CAST(json_extract_string(fx.buy_currency_exchange_rates, '$.usd') AS DOUBLE))
            END AS minor
          FROM refunds LEFT JOIN exchange_rates_from_usd AS fx
            ON CAST(fx.date AS DATE) = CAST(refunds.created AS DATE) - 1
          WHERE status = 'succeeded' AND coalesce(reason, '') <> 'partial_capture'
            AND {IN_2025_H1})
        SELECT CAST(sum(minor) AS HUGEINT), count(*) FROM r""",
    )
    total, n = want[0]
    assert answer.rows == [[(Decimal(total) / n).quantize(Decimal(1), "ROUND_HALF_UP") / 100]]


def test_an_average_by_month_is_a_series_per_currency(assistant: Assistant) -> None:
    answer = _ask(assistant, "Average invoice total by month in the first half of 2025")
    assert [c.name for c in answer.columns] == ["period", "currency", "avg_invoice_total"]
    want = _rows(
        assistant,
        f"""SELECT CAST(date_trunc('month', timezone('America/New_York',
                    date AT TIME ZONE 'UTC')) AS DATE) AS period, currency,
                   CAST(round(avg(total)) AS HUGEINT) * 0.01
        FROM invoices WHERE status IN ('paid', 'open', 'uncollectible')
          AND {IN_2025_H1.replace("created", "date")}
        GROUP BY ALL ORDER BY period, currency""",
    )
    assert answer.rows == want


def test_distinct_paying_customers(assistant: Assistant) -> None:
    answer = _ask(assistant, "How many distinct customers paid us in the first half of 2025?")
    want = _rows(
        assistant,
        f"SELECT count(DISTINCT customer_id) FROM charges WHERE status = 'succeeded' "
        f"AND {IN_2025_H1}",
    )
    assert answer.rows == want and answer.headline == f"{want[0][0]:,}"


def test_a_statistic_over_no_rows_is_empty_not_zero(assistant: Assistant) -> None:
    answer = _ask(assistant, "Average invoice total of JPY invoices in 2025")  # a filter
    assert answer.status == "answered" and answer.rows == [[None]]


def test_which_weekday_shows_the_whole_week_most_first(assistant: Assistant) -> None:
    answer = _ask(
        assistant, "Which weekday had the most successful charges in the first half of 2025?"
    )
    want = _rows(
        assistant,
        f"""SELECT isodow({LOCAL}), dayname({LOCAL}), count(*) AS n FROM charges
        WHERE status = 'succeeded' AND {IN_2025_H1} GROUP BY ALL ORDER BY n DESC, 1""",
    )
    assert answer.rows == want and len(want) == 7
    # A ranking's headline names its leader, without passing one row's figure off as the answer.
    assert answer.headline == f"{want[0][1]} leads the top 7 weekdays by successful charges"


def test_charges_by_hour_of_day_in_local_time(assistant: Assistant) -> None:
    answer = _ask(assistant, "Successful charges by hour of day in the first half of 2025")
    rows = _rows(
        assistant,
        f"""SELECT hour({LOCAL}), count(*) FROM charges
        WHERE status = 'succeeded' AND {IN_2025_H1} GROUP BY ALL""",
    )
    want = {f"{h:02d}:00": n for h, n in rows}
    assert {h: n for h, n in answer.rows} == want


def test_a_time_part_of_a_balance_is_refused(assistant: Assistant) -> None:
    answer = _ask(assistant, "MRR by weekday")
    assert answer.status == "refused" and "splits flows" in answer.headline


def test_a_filter_on_an_unrecorded_column_says_the_data_does_not_record_it(
    assistant: Assistant,
) -> None:
    answer = _ask(assistant, "How many of our charges used Apple Pay?")
    assert answer.status == "refused" and not answer.rows
    assert answer.headline.startswith("The data does not record the wallet")
    assert "Apple Pay" in answer.headline
    share = _ask(assistant, "What share of our charges used Apple Pay?")
    assert share.status == "refused" and "'share'" in share.headline  # never a list of charges
    split = _ask(assistant, "Successful charges by wallet last quarter")
    assert split.status == "answered" and [r[0] for r in split.rows] == [None]
    assert any("does not record the wallet" in n for n in split.notices)


def test_a_statistic_filtered_outside_its_rows_says_so_instead_of_no_data(
    assistant: Assistant,
) -> None:
    """Charge amounts cover successful charges: the median of failed ones is not 'no data'."""
    failed = assistant.ask(
        Request("What was the median amount of failed charges in 2025?", as_of=AS_OF, account=HOME)
    )
    assert failed.status == "refused" and "can't be filtered by charge status failed" in (
        failed.headline
    )
    same = _ask(assistant, "What was the median amount of successful USD charges in 2025?")
    assert same.status == "answered" and same.value is not None
