"""Headlines that cannot mislead: when rows add up, per metric kind, and on the demo warehouse.

The rule lives in app/explain/headline.py; tests/test_headline_shapes.py checks every answer of
the eval suite against it.
"""

from datetime import date
from decimal import Decimal

import pytest

from app.core.answer import Answer, Column
from app.core.plan import Aggregate, Filter, QueryPlan, Ranking, TimeRange
from app.core.request import Request
from app.explain.headline import (
    TOTAL,
    UNKNOWN,
    Summing,
    no_total,
    shown_table,
    summing,
    totals,
)
from app.explain.numbers import answer_numbers, check_numbers
from app.explain.prose import explain
from app.pipeline.assistant import Assistant
from app.semantic.load import semantic_model

MODEL = semantic_model()
YEAR = TimeRange(start=date(2025, 1, 1), end=date(2026, 1, 1))
AS_OF = Request("q", as_of=date(2025, 12, 31), account="acct_demo_01")


def why(metric: str, *dims: str, grain: str | None = None, **kw: object) -> str:
    """Why the metric's rows do not add up in a plan with these parts ('' when they do)."""
    plan = QueryPlan(metrics=(metric,), dimensions=dims, grain=grain, **kw)
    return summing(plan, MODEL).reason(metric)


@pytest.mark.parametrize(
    ("metric", "dims", "grain"),
    [
        ("gross_volume", ("card_brand",), None),  # a flow, across groups
        ("gross_volume", (), "month"),  # a flow, over time
        ("charges_count", ("customer_country",), "month"),
        ("mrr", ("plan",), None),  # a stock at one point, across groups
        ("amount_due", ("ar_aging",), None),  # a snapshot at one point
        ("active_customers", ("customer_country",), None),  # one country per customer
        ("movement_new_customers", ("customer_country",), None),
        ("movement_new_mrr", (), "month"),  # a movement's amount adds over months
        ("taxable_sales", ("customer_country",), None),  # above the line item: once each
        ("reverse_charge_sales", ("customer_vat_number",), None),  # rolled up: one row each
        ("tax_collected", ("tax_jurisdiction",), None),  # its own amount on each jurisdiction
    ],
)
def test_metrics_that_add_up(metric: str, dims: tuple[str, ...], grain: str | None) -> None:
    assert why(metric, *dims, grain=grain) == ""


@pytest.mark.parametrize(
    ("metric", "dims", "grain", "words"),
    [
        ("refund_rate", ("customer_country",), None, "a ratio"),
        ("refund_rate", (), "month", "a ratio"),
        ("arpu", ("plan",), None, "a ratio"),  # money, but per customer
        ("subscriber_churn_rate", (), "month", "a ratio"),
        ("mrr", (), "month", "a balance at a point in time"),
        ("amount_due", ("customer",), "month", "a balance at a point in time"),
        ("active_customers", ("plan",), None, "customers are counted once each"),
        ("active_subscriptions", ("plan",), None, "subscriptions are counted once each"),
        ("movement_new_customers", (), "month", "customers are counted once per period"),
        ("taxable_sales", ("tax_jurisdiction",), None, "one tax transaction item counts in each"),
    ],
)
def test_metrics_that_do_not_add_up(
    metric: str, dims: tuple[str, ...], grain: str | None, words: str
) -> None:
    assert words in why(metric, *dims, grain=grain)


def test_statistics_and_distinct_counts_do_not_add_up() -> None:
    median = Aggregate(func="median", measure="charge_amount")
    assert "a median" in why("gross_volume", "card_brand", aggregate=median)
    distinct = Aggregate(func="count_distinct", measure="paying_customer")
    assert "a distinct count" in why("charges_count", "card_brand", aggregate=distinct)
    plan = QueryPlan(metrics=("gross_volume",), dimensions=("currency",), aggregate=median)
    assert "a median" in summing(plan, MODEL).reason("median_charge_amount")  # its own column


def test_a_top_n_or_a_cut_result_is_not_the_whole() -> None:
    cols = [Column(name="customer", kind="label"), Column(name="gross_volume", kind="money")]
    rows = [["a", Decimal("2")], ["b", Decimal("1")]]
    top = summing(
        QueryPlan(metrics=("gross_volume",), dimensions=("customer",), ranking=Ranking(
            metric="gross_volume", n=2)),
        MODEL,
    )  # fmt: skip
    assert top.reason("gross_volume") == ""  # the metric adds up; these rows are not all of it
    assert "the top 2" in no_total(top, "gross_volume", cols, rows, truncated=False)
    plain = summing(QueryPlan(metrics=("gross_volume",), dimensions=("customer",)), MODEL)
    assert no_total(plain, "gross_volume", cols, rows, truncated=False) == ""
    assert "row limit" in no_total(plain, "gross_volume", cols, rows, truncated=True)
    assert totals(plain, cols, rows, truncated=True, breakdown=True) is None


def test_several_currencies_do_not_add_up() -> None:
    cols = [
        Column(name="currency", kind="label"),
        Column(name="gross_volume", kind="money"),
    ]
    rule = Summing({"gross_volume": ""})
    assert "currencies" in no_total(rule, "gross_volume", cols, [["usd", 1], ["eur", 2]], False)
    assert totals(rule, cols, [["usd", 1], ["eur", 2]], truncated=False, breakdown=True) is None
    one = totals(rule, cols, [["eur", Decimal("1")], ["eur", Decimal("2")]], truncated=False,
                 breakdown=True)  # fmt: skip
    assert one is not None and one.row == [None, Decimal("3")]


def test_a_pasted_query_has_no_total() -> None:
    cols = [Column(name="x", kind="label"), Column(name="amount", kind="money")]
    assert UNKNOWN.reason("amount")
    assert totals(UNKNOWN, cols, [["a", 1], ["b", 2]], truncated=False, breakdown=True) is None


def test_totals_are_exact_and_shares_are_exact_ratios() -> None:
    cols = [
        Column(name="plan", kind="label"),
        Column(name="mrr", kind="money", currency="usd"),
        Column(name="mrr_previous", kind="money", currency="usd"),
        Column(name="mrr_change", kind="money", currency="usd"),
        Column(name="mrr_change_pct", kind="ratio"),
        Column(name="active_subscriptions", kind="count"),
    ]
    rows = [
        ["a", Decimal("0.10"), Decimal("0.05"), Decimal("0.05"), 1.0, 3],
        ["b", Decimal("0.20"), Decimal("0.25"), Decimal("-0.05"), -0.2, 4],
    ]
    rule = Summing({"mrr": "", "active_subscriptions": "counted once each"})
    found = totals(rule, cols, rows, truncated=False, breakdown=True)
    assert found is not None
    # Money sums in Decimal (0.1 + 0.2 is 0.30 exactly), the change in percent is the totals'
    # own, and a count that does not add up has no total.
    assert found.row == [None, Decimal("0.30"), Decimal("0.30"), Decimal("0.00"), Decimal(0), None]
    assert found.shares == [Decimal(1) / 3, Decimal(2) / 3]
    assert isinstance(found.shares[0], Decimal) and sum(found.shares) == 1
    counts = totals(Summing({"n": ""}), [Column(name="k"), Column(name="n", kind="count")],
                    [["a", 3], ["b", 4]], truncated=False, breakdown=False)  # fmt: skip
    assert counts is not None and counts.row == [None, 7] and isinstance(counts.row[1], int)
    assert counts.shares == []  # time buckets have no shares


def test_the_number_check_accepts_the_total_and_shares_and_nothing_else() -> None:
    cols = [
        Column(name="card_brand", kind="label", label="Card brand"),
        Column(name="gross_volume", kind="money", currency="usd", label="Gross volume"),
    ]
    rows = [["Visa", Decimal("300.00")], ["MasterCard", Decimal("100.00")]]
    ex = explain(cols, rows, metric_labels={}, period=None, truncated=False,
                 rule=Summing({"gross_volume": ""}))  # fmt: skip
    assert ex.headline == "Total: $400.00 across 2 card brands"
    assert "totals $400.00" in ex.explanation and "(75.00% of the total)" in ex.explanation
    assert ex.numbers_verified and ex.total == [None, Decimal("400.00")]
    answer = Answer(status="answered", question="q", columns=cols, rows=rows, total=ex.total,
                    shares=ex.shares)  # fmt: skip
    derived = answer_numbers(answer)
    assert check_numbers("Visa is 75% of $400.00; MasterCard 25%.", cols, rows, derived)
    assert not check_numbers("The total is $401.00.", cols, rows, derived)
    assert not check_numbers("Visa is 74% of the total.", cols, rows, derived)
    # A ratio has no total: its sum is no number the prose may use.
    rates = [Column(name="card_brand"), Column(name="refund_rate", kind="ratio")]
    rate_rows = [["Visa", Decimal("0.02")], ["MasterCard", Decimal("0.03")]]
    ex = explain(rates, rate_rows, metric_labels={}, period=None, truncated=False,
                 rule=Summing({"refund_rate": "a ratio does not add up across rows"}))  # fmt: skip
    assert ex.total is None and ex.value is None and "No total: a ratio" in ex.explanation
    assert not check_numbers("Together 5.00%.", rates, rate_rows, ex.shares)


def test_the_table_shown_has_a_share_column_and_a_total_row() -> None:
    cols = [Column(name="plan", kind="label"), Column(name="mrr", kind="money", currency="usd")]
    rows: list[list[object]] = [["a", Decimal("1")], ["b", Decimal("3")]]
    shares: list[Decimal | None] = [Decimal("0.25"), Decimal("0.75")]
    answer = Answer(status="answered", question="q", columns=cols, rows=rows,
                    total=[None, Decimal("4")], shares=shares)  # fmt: skip
    shown = shown_table(answer)
    assert [c.name for c in shown.columns] == ["plan", "mrr", "share"]
    assert shown.rows == [
        ["a", Decimal("1"), Decimal("0.25")],
        ["b", Decimal("3"), Decimal("0.75")],
    ]
    assert shown.total == [TOTAL, Decimal("4"), Decimal(1)]
    assert answer.rows == rows  # the eval suite compares rows: never a total among them


def _sum(answer: Answer, metric: str) -> Decimal:
    i = [c.name for c in answer.columns].index(metric)
    return sum((Decimal(str(r[i])) for r in answer.rows if r[i] is not None), Decimal(0))


def test_where_the_rule_says_rows_add_up_they_add_up_to_the_whole(assistant: Assistant) -> None:
    """The unbroken figure equals the total of the rows (counts, and money kept in one currency)."""
    usd = {"currency": "usd", "filters": (Filter(dimension="currency", values=("usd",)),)}
    eur = {"currency": "eur", "filters": (Filter(dimension="currency", values=("eur",)),)}
    for metric, dim, extra in [
        ("charges_count", "card_brand", {"time": YEAR}),
        ("active_customers", "customer_country", {}),
        ("gross_volume", "card_brand", {"time": YEAR, **usd}),
        ("reverse_charge_sales", "customer_vat_number", {"time": YEAR, **eur}),
    ]:
        whole = assistant.answer_plan(QueryPlan(metrics=(metric,), **extra), AS_OF)
        parts = assistant.answer_plan(
            QueryPlan(metrics=(metric,), dimensions=(dim,), **extra),
            AS_OF,
        )
        assert parts.total is not None and parts.value == _sum(parts, metric) > 0, metric
        assert parts.value == whole.value, (metric, dim)
        assert parts.headline.startswith("Total: ")


def test_where_the_rule_says_they_do_not_the_rows_count_twice(assistant: Assistant) -> None:
    """Customers with two plans, line items taxed in two jurisdictions: the rows sum to more."""
    for metric, dim, extra in [
        ("active_customers", "plan", {}),
        ("taxable_sales", "tax_jurisdiction", {"time": YEAR}),
    ]:
        whole = assistant.answer_plan(QueryPlan(metrics=(metric,), **extra), AS_OF)
        parts = assistant.answer_plan(
            QueryPlan(metrics=(metric,), dimensions=(dim,), **extra),
            AS_OF,
        )
        assert isinstance(whole.value, int | Decimal)
        assert _sum(parts, metric) > whole.value, (metric, dim)
        assert parts.total is None and parts.value is None and parts.shares == []
        assert "No total" in parts.explanation
