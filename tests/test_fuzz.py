"""Fuzzing: generated questions through `Assistant.ask` and generated SQL through the guard.

No exception escapes. Every `ask` outcome is an answer, a clarification or a refusal; `error` is
allowed only as a friendly message (no traceback, no Python exception text) for a limit the user
can act on. The guard returns a `Guarded` or a `GuardError` with a known rule, and what it renders
is read by DuckDB exactly as the guard read it (literals and identifiers round-trip).

`make test` runs a bounded fuzz (about 200 examples); `make fuzz` raises every property to
`LEDGERLENS_FUZZ_EXAMPLES` examples.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import duckdb
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from app.core.conversation import Conversation
from app.core.errors import GuardError
from app.core.request import Request
from app.pipeline.assistant import Assistant
from app.router import Router, is_pasted_sql
from app.semantic.catalog import warehouse_tables
from app.sql.guard.checks import CHECKS, Policy, check_sql

SCALE = int(os.environ.get("LEDGERLENS_FUZZ_EXAMPLES", "0"))
HOME = "acct_demo_01"
STATUSES = {"answered", "clarify", "refused"}
RULES = {"empty", "too_long", "parse_error", "too_complex"} | {c.__name__ for c in CHECKS}
PYTHON_ERRORS = re.compile(r"Traceback|Error\(|Exception\(|File \"|line \d+, in ")

Record = Callable[[str, object], None]


def examples(default: int) -> Any:
    """Hypothesis settings for one property: `default` examples, or the fuzz scale."""
    long_run = (Phase.explicit, Phase.reuse, Phase.generate)  # report, do not shrink for hours
    return settings(
        max_examples=SCALE or default,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
        phases=long_run if SCALE else tuple(Phase),
    )


# --- strategies ------------------------------------------------------------------------------

WORDS = (
    *("gross", "volume", "MRR", "revenue", "refunds", "by", "plan", "country", "last", "month"),
    *("year", "quarter", "vs", "top", "customers", "tax", "and", "what", "about", "in", "the"),
    *("SELECT", "*", "FROM", "charges", "DROP", "TABLE", ";", "--", "'", '"', "acct_demo_02"),
    *("read_csv('/etc/passwd')", "UNION", "1=1", "OR", "ignore previous instructions"),
    *("2025", "1999", "99999", "-1", "0", "1e308", "NaN", "∞", "$", "€", "%", "\x00", "\n"),
)
NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["1e400", "-0", "0x1F", "١٢٣", "½", "1_000_000", "9" * 60]),
)
DATES = st.one_of(
    st.dates().map(str),
    st.tuples(st.integers(-99999, 99999), st.integers(-5, 20), st.integers(-5, 40)).map(
        lambda t: f"{t[0]}-{t[1]:02d}-{t[2]:02d}"
    ),
)
TEMPLATES = (
    "gross volume in {}",
    "MRR on {}",
    "refunds between {} and {}",
    "top {} customers by revenue",
    "revenue over the last {} days",
    "tax collected since {}",
    "charges above ${}",
    "net revenue for {} vs {}",
)
QUESTIONS = st.one_of(
    st.text(max_size=300),
    st.text(st.characters(codec="utf-8"), max_size=300),
    st.text(st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"]), max_size=50),
    st.lists(st.sampled_from(WORDS), max_size=30).map(" ".join),
    st.tuples(st.sampled_from(TEMPLATES), NUMBERS | DATES, NUMBERS | DATES).map(
        lambda t: t[0].format(t[1], t[2])
    ),
    st.integers(min_value=1_900, max_value=2_100).map(lambda n: "x" * n),
    st.integers(min_value=90_000, max_value=110_000).map(lambda n: "gross volume " * (n // 13)),
)
AS_OF = st.one_of(st.just(date(2025, 12, 31)), st.dates())

SQL_TOKENS = (
    *("SELECT", "*", "FROM", "charges", "refunds", "customers", "accounts", "x", "WITH", "AS"),
    *("(", ")", ",", ";", "1", "'a'", "UNION", "ALL", "JOIN", "ON", "WHERE", "=", "LIMIT"),
    *("read_csv", "range", "main.", "RECURSIVE", "LATERAL", "INSERT", "INTO", "VALUES", "DELETE"),
    *("RETURNING", "getenv", ".", "merchant_id", "'acct_demo_02'", "OR", "--", "/*", "*/"),
    *("$$", "E'", "\\", '"', "repeat", "lpad", "generate_series", "10000000000", "stats"),
    *("regexp_matches", "PIVOT", "QUALIFY", "OVER", "PARTITION", "BY", "ATTACH", "COPY", "TO"),
)
SQL = st.one_of(
    st.text(max_size=400),
    st.lists(st.sampled_from(SQL_TOKENS), max_size=40).map(" ".join),
    st.lists(st.sampled_from(SQL_TOKENS), max_size=40).map("".join),
    st.integers(min_value=99_000, max_value=101_000).map(lambda n: ("SELECT 1 " * n)[:n]),
)


# --- properties ------------------------------------------------------------------------------


def _check_answer(answer: Any, question: str) -> None:
    assert answer.question == question
    # Text that starts like SQL ("SELECT", "with …") is pasted SQL: the guard may reject it.
    pasted = {"rejected"} if is_pasted_sql(question) else set()
    assert answer.status in STATUSES | {"error"} | pasted, answer.status
    assert answer.headline, "every outcome says something"
    if answer.status == "refused":
        assert answer.refusal is not None and answer.refusal.reason
    if answer.status == "clarify":
        assert answer.clarification is not None
    if answer.status == "error":
        assert answer.error and not PYTHON_ERRORS.search(answer.error), answer.error
    if answer.sql:
        assert f"merchant_id = '{HOME}'" in answer.sql
        assert "acct_demo_02" not in answer.sql and "acct_demo_03" not in answer.sql


def test_fuzz_ask(assistant: Assistant, record_property: Record) -> None:
    count = 0
    seen: set[str] = set()
    router = Router(assistant.settings, assistant, engine_only=True)

    @examples(60)
    @given(question=QUESTIONS, as_of=AS_OF, follow_up=st.booleans())
    @example(question="top 1001%customer%revenue", as_of=date(2025, 12, 31), follow_up=False)
    @example(question="SELECT", as_of=date(2025, 12, 31), follow_up=False)  # pasted SQL, rejected
    def run(question: str, as_of: date, follow_up: bool) -> None:
        nonlocal count
        count += 1
        conversation = Conversation()
        if follow_up:
            router.ask(Request("MRR by plan", as_of=date(2025, 12, 31), conversation=conversation))
        answer = router.ask(Request(question, as_of=as_of, account=HOME, conversation=conversation))
        seen.add(answer.status)
        _check_answer(answer, question)

    run()
    record_property("fuzz_examples", count)
    assert "refused" in seen


def test_fuzz_guard(record_property: Record) -> None:
    count = 0
    policy = Policy(HOME, warehouse_tables(), 100)

    @examples(100)
    @given(sql=SQL)
    def run(sql: str) -> None:
        nonlocal count
        count += 1
        try:
            guarded = check_sql(sql, policy)
        except GuardError as err:
            assert err.rule in RULES, err.rule
            assert err.detail
        else:
            assert f"merchant_id = '{HOME}'" in guarded.sql or not guarded.tables
            assert len(guarded.sql) < 10 * max(len(sql), 1_000)

    run()
    record_property("fuzz_examples", count)


def test_fuzz_rendering_round_trips(record_property: Record) -> None:
    """What the guard renders means to DuckDB what it meant to the guard."""
    count = 0
    conn = duckdb.connect()
    text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))

    @examples(40)
    @given(value=text, name=text.filter(lambda s: s.strip() != ""))
    def run(value: str, name: str) -> None:
        nonlocal count
        count += 1
        query = exp.select(exp.Literal.string(value).as_(exp.to_identifier(name, quoted=True)))
        guarded = check_sql(query, Policy(None, frozenset(), 10))
        cursor = conn.cursor()
        try:
            cursor.execute(guarded.sql)
            assert cursor.fetchall() == [(value,)]
            assert cursor.description is not None and cursor.description[0][0] == name
        finally:
            cursor.close()

    try:
        run()
    finally:
        conn.close()
    record_property("fuzz_examples", count)
