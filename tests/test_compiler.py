from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from typing import get_args

import pytest
import sqlglot
from sqlglot import exp

from app.core.errors import CompileError
from app.core.plan import Comparison, Filter, QueryPlan, Ranking, TimeRange
from app.pipeline.assistant import Assistant
from app.semantic.catalog import warehouse_tables
from app.semantic.load import semantic_model
from app.semantic.model import Metric
from app.sql.compile import AccountInfo, CompileContext, compile_plan
from app.sql.compile.compiler import COMPILERS
from app.sql.compile.sqlbuild import fragment, literal
from app.sql.compile.state import Aggregation

CTX = CompileContext(
    account=AccountInfo("acct_demo_01", "America/New_York", "usd"),
    as_of=date(2025, 7, 15),
    model=semantic_model(),
)
Q2 = TimeRange(start=date(2025, 4, 1), end=date(2025, 7, 1))


def test_dimension_that_would_multiply_rows_is_refused() -> None:
    # invoices -> line items is one-to-many: a plan breakdown of invoice totals would double count
    with pytest.raises(CompileError, match="multiplying rows"):
        compile_plan(QueryPlan(metrics=("invoiced_amount",), dimensions=("plan",), time=Q2), CTX)
    with pytest.raises(CompileError, match="multiplying rows"):
        compile_plan(
            QueryPlan(metrics=("refunds_amount",), dimensions=("tax_jurisdiction",), time=Q2), CTX
        )


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (QueryPlan(metrics=("amount_due",), time=Q2, grain="month"), "known only as of now"),
        (QueryPlan(metrics=("subscriber_churn_rate",), dimensions=("plan",)), "single total"),
        (QueryPlan(metrics=("recognized_revenue",), time=Q2, grain="day"), "booked monthly"),
        (QueryPlan(metrics=("gross_volume",), dimensions=("colour",)), "unknown dimension"),
        (QueryPlan(metrics=("happiness",)), "unknown metric"),
        (QueryPlan(metrics=("gross_volume",), listing="widgets"), "cannot list"),
        (
            QueryPlan(metrics=("gross_volume",), listing="payouts", columns=("colour",)),
            "no column 'colour'",
        ),
    ],
)
def test_plans_the_compiler_cannot_answer_are_refused(plan: QueryPlan, message: str) -> None:
    with pytest.raises(CompileError, match=message):
        compile_plan(plan, CTX)


def _rows(assistant: Assistant, plan: QueryPlan) -> tuple[tuple[object, ...], ...]:
    return assistant.session.run_sql(compile_plan(plan, CTX).expression, "acct_demo_01").rows


def test_joins_follow_only_many_to_one_edges(assistant: Assistant) -> None:
    # refunds -> charges -> customers: every join is a child's key to its parent's id (an edge of
    # joins.yaml), so the breakdown neither repeats nor drops a refund: per currency, the
    # countries add up to the total exactly, and the countries' counts to the count.
    plan = QueryPlan(metrics=("refunds_amount",), dimensions=("customer_country",), time=Q2)
    expr = compile_plan(plan, CTX).expression
    edges = {(j.from_, j.column, j.to) for j in CTX.model.joins}
    tables = {t.alias_or_name: t.name for t in expr.find_all(exp.Table)}
    joined = []
    for join in expr.find_all(exp.Join):
        table = join.this
        if not isinstance(table, exp.Table) or table.name not in warehouse_tables():
            continue  # a join of the query's own CTEs (conversion, keys)
        on = join.args["on"]
        assert isinstance(on, exp.EQ), on.sql("duckdb")
        child, parent = on.this, on.expression
        assert isinstance(child, exp.Column) and isinstance(parent, exp.Column)
        assert parent.name == "id" and tables[parent.table] == table.name, on.sql("duckdb")
        assert (tables[child.table], child.name, table.name) in edges, on.sql("duckdb")
        joined.append(table.name)
    assert sorted(joined) == ["charges", "customers"]

    by_country = _rows(assistant, plan.model_copy(update={"by_currency": True}))
    totals = _rows(assistant, plan.model_copy(update={"by_currency": True, "dimensions": ()}))
    summed: Counter[object] = Counter()
    for _country, currency, amount in by_country:
        summed[currency] += amount
    assert len(by_country) > len(totals) > 1
    assert summed == Counter({currency: amount for currency, amount in totals})

    counts = QueryPlan(metrics=("refunds_count",), dimensions=("customer_country",), time=Q2)
    (total_count,) = _rows(assistant, counts.model_copy(update={"dimensions": ()}))[0]
    assert sum(n for _, n in _rows(assistant, counts)) == total_count > 0


def test_user_values_enter_only_as_escaped_literals(assistant: Assistant) -> None:
    hostile = "x') OR 1=1 --"
    plan = QueryPlan(
        metrics=("gross_volume",),
        time=Q2,
        filters=(Filter(dimension="customer_country", values=(hostile,)),),
    )
    expr = compile_plan(plan, CTX).expression
    literals = [lit.this for lit in expr.find_all(exp.Literal)]
    assert hostile in literals  # kept whole, as one string literal
    # ... and still one literal once rendered and read back: the quote was escaped, not closed
    rendered = sqlglot.parse_one(expr.sql("duckdb"), read="duckdb")
    (country,) = [i for i in rendered.find_all(exp.In) if i.this.name == "address_country"]
    assert country.expressions == [exp.Literal.string(hostile)]
    # the value filters rows instead of widening the query: no customer is in that country
    assert _rows(assistant, plan) == ((Decimal("0.00"),),)
    assert _rows(assistant, plan.model_copy(update={"filters": ()}))[0][0] > 0


def test_money_is_exact_decimal_and_converted(assistant: Assistant, demo_path) -> None:
    plan = QueryPlan(metrics=("gross_volume",), time=Q2)
    compiled = compile_plan(plan, CTX)
    res = assistant.session.run_sql(compiled.expression, "acct_demo_01")
    (value,) = res.rows[0]
    assert isinstance(value, Decimal) and value.as_tuple().exponent == -2
    per_currency = compile_plan(plan.model_copy(update={"by_currency": True}), CTX)
    rows = assistant.session.run_sql(per_currency.expression, "acct_demo_01").rows
    usd = next(v for c, v in rows if c == "usd")
    assert len(rows) > 1 and value > usd  # other currencies were converted and added


def test_series_has_one_row_per_bucket_up_to_as_of(assistant: Assistant) -> None:
    plan = QueryPlan(
        metrics=("mrr",),
        time=TimeRange(start=date(2025, 1, 1), end=date(2026, 1, 1)),
        grain="month",
    )
    res = assistant.session.run_sql(compile_plan(plan, CTX).expression, "acct_demo_01")
    assert [r[0] for r in res.rows] == [date(2025, m, 1) for m in range(1, 8)]


@pytest.mark.parametrize(
    "metrics",
    [
        ("gross_volume", "refund_rate"),  # a metric beside a ratio built on it
        ("mrr", "arpu", "active_customers"),  # a stock beside a ratio of it and its denominator
        ("payment_success_rate", "failed_payment_rate"),  # two ratios, one denominator
        ("revenue_churn_rate", "net_revenue_retention"),  # one denominator read at the start
    ],
)
def test_a_part_shared_by_metrics_is_compiled_once(
    assistant: Assistant, metrics: tuple[str, ...]
) -> None:
    plan = QueryPlan(metrics=metrics, time=Q2)
    expression = compile_plan(plan, CTX).expression
    assert isinstance(expression, exp.Query)
    names = [cte.alias for cte in expression.ctes]
    assert len(names) == len(set(names)), Counter(names).most_common(3)
    alone = [_rows(assistant, QueryPlan(metrics=(m,), time=Q2))[0][0] for m in metrics]
    assert list(_rows(assistant, plan)[0]) == alone


def test_every_metric_kind_has_a_compiler() -> None:
    kinds = set(get_args(Metric.model_fields["aggregation"].annotation))
    assert set(COMPILERS) == kinds == set(get_args(Aggregation))


def test_model_fragment_tokens_become_fresh_literal_nodes() -> None:
    end = literal(datetime(2025, 7, 16, 4))
    first = fragment("invoices.due_date < @as_of_end", as_of_end=end)
    second = fragment("invoices.due_date < @as_of_end", as_of_end=end)
    assert first.sql("duckdb") == ("invoices.due_date < CAST('2025-07-16 04:00:00' AS TIMESTAMP)")
    assert first == second and first is not second
    assert first.expression is not end and second.expression is not end  # copies, never shared
    with pytest.raises(ValueError, match="unbound token"):
        fragment("invoices.due_date < @as_of_end")


@pytest.mark.parametrize(
    "plan",
    [
        QueryPlan(
            metrics=("gross_volume", "refund_rate"),
            dimensions=("card_brand",),
            time=Q2,
            comparison=Comparison(kind="previous_period"),
            ranking=Ranking(metric="refund_rate", n=3, direction="bottom"),
        ),
        QueryPlan(metrics=("mrr",), dimensions=("plan",), grain="month", time=Q2, by_currency=True),
        QueryPlan(metrics=("subscriber_churn_rate",), time=Q2),
        QueryPlan(
            metrics=("gross_volume",),
            dimensions=("payment_method_type",),
            filters=(Filter(dimension="card_brand", op="not_in", values=("Visa", "Amex")),),
            grain="month",
            time=Q2,
            ranking=Ranking(metric="gross_volume", n=2),
        ),
        QueryPlan(
            metrics=("gross_volume",),
            listing="invoices",
            filters=(Filter(dimension="amount", op="gt", values=(Decimal(1000),), currency="eur"),),
        ),
    ],
)
def test_compiled_tree_shares_no_node(plan: QueryPlan) -> None:
    # every node is its children's only parent: a node reused in two places would be rewritten
    # in both by the guard's and the Spark dialect's transforms
    expression = compile_plan(plan, CTX).expression
    nodes = list(expression.walk())
    assert len({id(n) for n in nodes}) == len(nodes)
    for node in nodes:
        for child in node.iter_expressions():
            assert child.parent is node
    assert not list(expression.find_all(exp.Placeholder))


def test_no_clock_in_core_modules() -> None:
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parent.parent
    pattern = re.compile(r"date\.today\(\)|datetime\.now\(|datetime\.utcnow\(|current_date|now\(\)")
    for folder in ("app", "tools", "evals", "data"):
        for f in (root / folder).rglob("*.py"):
            if f.name == "cli.py" or "ui" in f.parts:
                continue
            for line in f.read_text().splitlines():
                if "allowed-clock" not in line:
                    assert not pattern.search(line), f"clock read in {f}: {line}"
