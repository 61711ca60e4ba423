"""Rollups: every eval case answered the same with them on and off; stale ones never read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlglot import exp

from app.core.errors import SemanticModelError
from app.core.request import Request
from app.core.settings import Settings
from app.pipeline.assistant import Assistant
from app.pipeline.session import Session
from app.semantic.checks import check_rollups
from app.semantic.load import semantic_model
from app.semantic.rollups import Rollup, additive
from app.sql.compile.rollups import build_select, fingerprint, source_tables
from data.build import table_row_counts
from data.rollups import build_rollups
from evals.run import Runner
from tests._warehouse_fixtures import TINY_END, build_tiny
from tests.eval_corpus import CASES

# Everything an answer says; not how it was computed (sql, timings) nor when (freshness).
_COMPARED = {
    *("status", "headline", "value", "columns", "rows", "truncated", "total", "shares", "chart"),
    *("bridge", "plan", "definitions", "period", "currency", "filters", "assumptions"),
    *("explanation", "numbers_verified", "clarification", "refusal", "suggestions", "error"),
    *("notices", "read_back", "ignored"),
}


def _typed(value: Any) -> Any:
    """The value with the Python type of every leaf beside it (Decimal 1 and int 1 differ)."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_typed(v) for v in value]
    return (type(value).__name__, value)


def _said(answer: Any) -> Any:
    return _typed(answer.model_dump(include=_COMPARED))


@pytest.fixture(scope="module")
def facts_runner() -> Iterator[Runner]:
    runner = Runner(Settings(rollups=False))
    yield runner
    runner.close()


def test_every_eval_case_answers_the_same_from_rollups_and_facts(
    eval_runner: Runner, facts_runner: Runner
) -> None:
    read_rollups, differ = 0, []
    for case in CASES:
        on, off = eval_runner.result(case), facts_runner.result(case)
        assert on.answers.keys() == off.answers.keys(), case.name
        for wh, answer in on.answers.items():
            assert "rollup_" not in (off.answers[wh].sql or ""), f"{case.name}: rollups are off"
            read_rollups += "rollup_" in (answer.sql or "")
            if _said(answer) != _said(off.answers[wh]):
                differ.append(f"{case.name} [{wh}]")
        if on.status != off.status:
            differ.append(f"{case.name}: {on.status} with rollups, {off.status} without")
    assert not differ, f"answers differ with rollups on and off: {differ}"
    assert read_rollups >= 40, f"only {read_rollups} answers read a rollup: the test proves little"


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return build_tiny(tmp_path / "tiny.duckdb", seed=11, customers=120, months=6)


ACCOUNT = "acct_demo_01"


def _fresh(path: Path, **settings: Any) -> frozenset[str]:
    session = Session(Settings(warehouse_path=path, **settings))
    try:
        return session.fresh_rollups(ACCOUNT)
    finally:
        session.close()


def test_a_built_warehouse_has_fresh_rollups_and_the_switch_turns_them_off(tiny: Path) -> None:
    assert _fresh(tiny) == set(semantic_model().rollups)
    assert _fresh(tiny, rollups=False) == frozenset()


def _gross_volume_sql(path: Path) -> str:
    question = Request("gross volume last month", as_of=TINY_END, account=ACCOUNT)
    assistant = Assistant(Settings(warehouse_path=path))
    try:
        answer = assistant.ask(question)
    finally:
        assistant.session.close()
    assert answer.status == "answered"
    return answer.sql or ""


def test_a_rollup_whose_facts_changed_is_not_read_until_rebuilt(tiny: Path) -> None:
    assert "rollup_payments_daily" in _gross_volume_sql(tiny)
    conn = duckdb.connect(str(tiny))
    conn.execute(
        "DELETE FROM charges WHERE id = (SELECT min(id) FROM charges WHERE merchant_id = ?)",
        [ACCOUNT],
    )
    conn.close()
    stale = _fresh(tiny)
    assert "payments_daily" not in stale
    assert "balance_daily" in stale  # its facts did not change
    assert "rollup_" not in _gross_volume_sql(tiny)
    conn = duckdb.connect(str(tiny))
    build_rollups(conn)
    conn.close()
    assert _fresh(tiny) == set(semantic_model().rollups)


def test_a_warehouse_without_rollups_is_answered_from_the_facts(tiny: Path) -> None:
    conn = duckdb.connect(str(tiny))
    conn.execute("DROP TABLE rollup_builds")
    conn.close()
    assert _fresh(tiny) == frozenset()


def test_rollups_are_per_account_and_the_guard_scopes_them(tiny: Path) -> None:
    conn = duckdb.connect(str(tiny), read_only=True)
    assert "rollup_payments_daily" not in table_row_counts(conn)  # facts only
    accounts = conn.execute(
        "SELECT DISTINCT merchant_id FROM rollup_payments_daily ORDER BY 1"
    ).fetchall()
    conn.close()
    assert len(accounts) > 1
    session = Session(Settings(warehouse_path=tiny))
    try:
        res = session.run_sql("SELECT DISTINCT merchant_id FROM rollup_payments_daily", ACCOUNT)
    finally:
        session.close()
    assert res.rows == ((ACCOUNT,),)


def test_rollups_serve_only_metrics_that_re_sum() -> None:
    model = semantic_model()
    assert additive("sum(a) + sum(CASE WHEN b THEN -c ELSE 0 END)") and additive("count(*)")
    assert not additive("count(DISTINCT a)") and not additive("max(a)")
    for bad in (
        Rollup(name="x", metrics=("disputes_count",)),  # count(DISTINCT ...)
        Rollup(name="x", metrics=("taxable_sales", "tax_collected")),  # once per key, and not
        Rollup(name="x", metrics=("active_subscriptions",)),  # a count of entities
        Rollup(name="x", metrics=("amount_due",)),  # a snapshot
        Rollup(name="x", metrics=("gross_volume", "net_volume")),  # two tables
        Rollup(name="x", metrics=("gross_volume",), dimensions=("weekday",)),  # local time
    ):
        with pytest.raises(SemanticModelError):
            check_rollups(model.model_copy(update={"rollups": {"x": bad}}))


def test_the_fingerprint_counts_every_table_a_rollup_reads() -> None:
    model = semantic_model()
    for r in model.rollups.values():
        select = build_select(model, r)
        ctes = {c.alias for c in select.find_all(exp.CTE)}  # named subqueries, not tables
        read = {t.name for t in select.find_all(exp.Table)} - ctes
        assert source_tables(model, r) == sorted(read), r.name


def test_a_changed_metric_definition_makes_its_rollups_stale() -> None:
    model = semantic_model()
    gross = model.metrics["gross_volume"]
    changed = gross.model_copy(update={"where": ("charges.status = 'failed'",)})
    other = model.model_copy(update={"metrics": {**model.metrics, "gross_volume": changed}})
    other = other.model_copy(update={"sha256": "changed"})
    counts = {"charges": 10, "accounts": 1}
    payments, refunds = model.rollups["payments_daily"], model.rollups["refunds_daily"]
    assert fingerprint(model, payments, counts) != fingerprint(other, payments, counts)
    assert fingerprint(model, refunds, counts) == fingerprint(other, refunds, counts)
    assert fingerprint(model, payments, counts) != fingerprint(model, payments, {"charges": 11})


def test_a_rollup_is_sorted_by_account_and_day_for_pruning() -> None:
    model = semantic_model()
    sql = build_select(model, model.rollups["revenue_customer_daily"]).sql("duckdb")
    assert sql.endswith("ORDER BY merchant_id, local_day")
    assert "customers.merchant_id = revenue_recognition_debits_and_credits.merchant_id" in sql


def _charges(path: Path) -> int:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        return int(conn.execute("SELECT count(*) FROM charges").fetchone()[0])
    finally:
        conn.close()


def _import_one_deletion(path: Path, commit: bool) -> None:
    conn = duckdb.connect(str(path))
    conn.execute("BEGIN TRANSACTION")
    conn.execute(
        "DELETE FROM charges WHERE id = (SELECT min(id) FROM charges WHERE merchant_id = ?)",
        [ACCOUNT],
    )
    build_rollups(conn, own_transaction=False)
    conn.execute("COMMIT" if commit else "ROLLBACK")
    conn.close()


def test_an_importer_can_write_facts_and_rollups_in_one_transaction(tiny: Path) -> None:
    before = _charges(tiny)
    _import_one_deletion(tiny, commit=False)  # a failed import: facts and rollups as they were
    assert _charges(tiny) == before
    assert _fresh(tiny) == set(semantic_model().rollups)
    _import_one_deletion(tiny, commit=True)
    assert _charges(tiny) == before - 1
    assert _fresh(tiny) == set(semantic_model().rollups)  # restamped with the facts


@pytest.fixture(scope="module")
def tiny_shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny(tmp_path_factory.mktemp("shapes") / "tiny.duckdb", seed=11, customers=120)


# Shapes the eval cases barely cover, each with the rollups it must read (none: the facts).
_SHAPES = (
    ("effective tax rate last quarter", {"rollup_tax_daily", "rollup_tax_sales_daily"}),
    ("taxable sales by tax country last quarter", {"rollup_tax_sales_country_daily"}),
    # A line counts once per state, and no rollup holds taxable sales by state: the facts.
    ("taxable sales by US state last quarter", set()),
    # Once per line among the filtered rows: no rollup group is that (the country one is per
    # country, but a filter is no split), so the facts.
    ("taxable sales in Canada last quarter", set()),
    ("MRR by plan by month", {"rollup_mrr_plan_daily"}),
    ("ARR by billing interval", {"rollup_mrr_plan_daily"}),
    ("MRR for monthly plans by plan", {"rollup_mrr_plan_daily"}),
    ("MRR by customer country", set()),  # not the item's price: the facts
    (
        "refund rate by country last quarter",
        {"rollup_refunds_country_daily", "rollup_payments_country_daily"},
    ),
    ("discounts given by month", {"rollup_discounts_daily"}),
    ("tax collected by country and tax type last quarter", {"rollup_tax_daily"}),
)


@pytest.mark.parametrize(("question", "read"), _SHAPES)
def test_a_shape_reads_the_rollups_that_hold_it_and_answers_as_the_facts(
    tiny_shared: Path, question: str, read: set[str]
) -> None:
    request = Request(question, as_of=TINY_END, account=ACCOUNT)
    answers = []
    for on in (True, False):
        assistant = Assistant(Settings(warehouse_path=tiny_shared, rollups=on))
        try:
            answers.append(assistant.ask(request))
        finally:
            assistant.session.close()
    on_answer, off_answer = answers
    assert on_answer.status == "answered", on_answer.refusal
    tables = {
        t.name for t in exp.maybe_parse(on_answer.sql or "", dialect="duckdb").find_all(exp.Table)
    }
    assert {t for t in tables if t.startswith("rollup_")} == read
    assert _said(on_answer) == _said(off_answer)


# A ranking of one whole year reads the ranked rollup's first rows; any other ranking does not.
_RANKINGS = (
    ("top 10 customers by revenue in 2025", True),
    ("bottom 5 customers by recognized revenue in 2025", True),
    ("top 10 customers by revenue in the first half of 2025", False),  # not a whole year
    ("top 10 customers by revenue in 2025 in EUR", False),  # not the account's currency
    ("top 150 customers by revenue in 2025", False),  # more than the 100 ranked ahead
)


@pytest.mark.parametrize(("question", "ranked"), _RANKINGS)
def test_a_ranking_of_a_whole_year_reads_its_first_keys_ranked_ahead(
    tiny_shared: Path, question: str, ranked: bool
) -> None:
    year_end = date(TINY_END.year, 12, 31)  # 2025 whole, though the tiny data end in June
    request = Request(question, as_of=year_end, account=ACCOUNT)
    answers = []
    for on in (True, False):
        assistant = Assistant(Settings(warehouse_path=tiny_shared, rollups=on))
        try:
            answers.append(assistant.ask(request))
        finally:
            assistant.session.close()
    on_answer, off_answer = answers
    assert on_answer.status == "answered", on_answer.refusal
    assert ("rollup_revenue_customer_ranked" in (on_answer.sql or "")) is ranked
    assert _said(on_answer) == _said(off_answer)
