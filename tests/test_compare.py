"""result_matches: every rule of EVALS.md 5.4, the known money traps, and properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal as D
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evals import compare as compare_module
from evals.cases import Compare
from evals.compare import CaseError, Table, minor_unit, result_matches


def rules(**columns: Any) -> Compare:
    """Build a Compare from column=kind or column={rule...} keywords."""
    spec = {n: {"kind": r} if isinstance(r, str) else r for n, r in columns.items()}
    return Compare.model_validate({"columns": spec})


def table(columns: str, *rows: tuple[Any, ...]) -> Table:
    return Table(columns.split(), list(rows))


def run_sql(sql: str) -> Table:
    cursor = duckdb.connect().execute(sql)
    names = [d[0] for d in cursor.description]
    return Table(names, cursor.fetchall(), [str(d[1]) for d in cursor.description])


MRR = rules(
    plan="label",
    currency={"kind": "label", "casefold": True},
    mrr={"kind": "money", "currency_column": "currency"},
)
MRR_REF = table(
    "plan currency mrr",
    ("pro", "usd", D("1234.56")),
    ("basic", "usd", D("99.00")),
    ("pro", "jpy", D("15000")),
)


# --- money ---------------------------------------------------------------------------------


def test_money_decimal_with_trailing_zeros_equals_reference() -> None:
    pred = table(
        "plan currency mrr", *[(p, c.upper(), m + D("0.0000")) for p, c, m in MRR_REF.rows]
    )
    assert result_matches(MRR_REF, pred, MRR).ok


def test_money_decimal_with_extra_digits_is_not_rounded() -> None:
    ref = table("amount", (D("1234.56"),))
    match = result_matches(
        ref, table("amount", (D("1234.56001"),)), rules(amount={"kind": "money", "currency": "USD"})
    )
    assert (match.ok, match.reason) == (False, "wrong_values")
    assert match.first_diff is not None and match.first_diff.actual == D("1234.56001")


@pytest.mark.parametrize("value", [1234.56, 1234.5599999999999, 0.1 * 12345.6, D("1234.560")])
def test_money_float_noise_passes(value: Any) -> None:
    ref = table("amount", (D("1234.56"),))
    assert result_matches(
        ref, table("amount", (value,)), rules(amount={"kind": "money", "currency": "EUR"})
    ).ok


@pytest.mark.parametrize("value", [1234.00, 1234, 1234.57, D("1234.57"), 1234.555, 1234.5600001])
def test_money_truncation_and_off_by_a_cent_fail(value: Any) -> None:
    ref = table("tax_collected", (D("1234.56"),))
    match = result_matches(
        ref, table("x", (value,)), rules(tax_collected={"kind": "money", "currency": "EUR"})
    )
    assert match.reason == "wrong_values"
    assert match.first_diff is not None
    assert (match.first_diff.row, match.first_diff.column) == (0, "tax_collected")
    assert (match.first_diff.expected, match.first_diff.actual, match.first_diff.currency) == (
        D("1234.56"),
        value,
        "EUR",
    )
    assert "expected 1234.56 EUR" in match.detail


def test_integer_division_trap_in_duckdb() -> None:
    reference = run_sql("SELECT 123456 * 0.01 AS amount")  # DECIMAL
    compare = rules(amount={"kind": "money", "currency": "USD"})
    assert not result_matches(reference, run_sql("SELECT 123456 // 100 AS amount"), compare).ok
    assert result_matches(reference, run_sql("SELECT 123456 / 100 AS amount"), compare).ok  # DOUBLE
    assert result_matches(
        reference, run_sql("SELECT sum(x) / 100 FROM range(123457) t(x) WHERE x = 123456"), compare
    ).ok


def test_currency_per_row_from_currency_column_with_zero_decimal() -> None:
    ok = table("c p m", ("USD", "pro", 1234.56), ("USD", "basic", 99.0), ("JPY", "pro", 15000.0))
    assert result_matches(MRR_REF, ok, MRR).ok
    swapped = table(
        "c p m", ("JPY", "pro", 1234.56), ("USD", "basic", 99.0), ("USD", "pro", 15000.0)
    )
    assert result_matches(MRR_REF, swapped, MRR).reason == "wrong_values"
    divided = table("c p m", ("USD", "pro", 1234.56), ("USD", "basic", 99.0), ("JPY", "pro", 150.0))
    match = result_matches(MRR_REF, divided, MRR)  # JPY wrongly divided by 100
    assert match.first_diff is not None and match.first_diff.currency == "JPY"


def test_reference_not_exact_at_currency_minor_unit_is_a_case_error() -> None:
    ref = table("currency amount", ("JPY", D("1234.56")))
    compare = rules(currency="label", amount={"kind": "money", "currency_column": "currency"})
    with pytest.raises(CaseError, match="0 places"):
        result_matches(ref, ref, compare)


def test_scale_overrides_minor_unit() -> None:
    ref = table("arpu", (D("12.3457"),))
    arpu = rules(arpu={"kind": "money", "currency": "USD", "scale": 4})
    assert result_matches(ref, table("a", (12.3457,)), arpu).ok
    assert not result_matches(ref, table("a", (12.34567,)), arpu).ok
    with pytest.raises(CaseError, match="scale"):
        result_matches(ref, ref, rules(arpu={"kind": "money", "currency": "USD"}))


def test_minor_units() -> None:
    assert [minor_unit(c) for c in ("USD", "jpy", "KRW", "xof", "BHD", None)] == [2, 0, 0, 0, 3, 2]


def test_money_never_matches_a_string_column() -> None:
    ref = table("amount", (D("1.00"),))
    match = result_matches(
        ref, table("amount", ("1.00",)), rules(amount={"kind": "money", "currency": "USD"})
    )
    assert match.reason == "missing_column"


# --- bags, NULLs, columns ----------------------------------------------------------------


def test_duplicated_row_fails_although_sets_are_equal() -> None:
    ref = table("plan amount", ("pro", D("10.00")), ("basic", D("5.00")))
    pred = table("plan amount", ("pro", D("10.00")), ("basic", D("5.00")), ("pro", D("10.00")))
    assert set(ref.rows) == set(pred.rows)
    match = result_matches(
        ref, pred, rules(plan="label", amount={"kind": "money", "currency": "USD"})
    )
    assert match.reason == "row_count"
    assert match.first_diff is not None and match.first_diff.actual == ("pro", D("10.00"))


def test_same_row_count_different_multiplicities_fails() -> None:
    ref = table("k n", ("a", 1), ("a", 1), ("b", 2))
    pred = table("k n", ("a", 1), ("b", 2), ("b", 2))
    assert result_matches(ref, pred, rules(k="label", n="count")).reason == "wrong_values"


def test_line_item_join_double_counting_in_duckdb() -> None:
    setup = (
        "WITH invoices(id, amount) AS (VALUES (1, 100), (2, 250)), "
        "lines(invoice_id, n) AS (VALUES (1, 1), (1, 2), (2, 1)) "
    )
    reference = run_sql(setup + "SELECT sum(amount) * 0.01 AS total FROM invoices")
    wrong = run_sql(
        setup + "SELECT sum(amount) * 0.01 AS total FROM invoices JOIN lines ON id = invoice_id"
    )
    match = result_matches(reference, wrong, rules(total={"kind": "money", "currency": "USD"}))
    assert match.reason == "wrong_values"
    assert match.first_diff is not None
    assert (match.first_diff.expected, match.first_diff.actual) == (D("3.50"), D("4.50"))


@pytest.mark.parametrize("kind", ["money", "count", "ratio", "label", "date"])
def test_null_equals_only_null(kind: str) -> None:
    rule = {"kind": kind, "currency": "USD"} if kind == "money" else kind
    zero = {"money": D(0), "count": 0, "ratio": 0.0, "label": "", "date": "1970-01-01"}[kind]
    ref = table("k v", ("a", None), ("b", None))
    compare = rules(k="label", v=rule)
    assert result_matches(ref, table("k v", ("a", None), ("b", None)), compare).ok
    match = result_matches(ref, table("k v", ("a", zero), ("b", None)), compare)
    assert not match.ok and match.first_diff is not None and match.first_diff.expected is None


def test_columns_matched_by_value_not_name_nor_position() -> None:
    ref = table("plan currency mrr", ("pro", "usd", D("10.00")), ("basic", "usd", D("5.00")))
    pred = table("x_mrr y_plan z_cur", (5.0, "basic", "USD"), (10.0, "pro", "USD"))
    match = result_matches(ref, pred, MRR)
    assert match.ok and match.mapping == {"plan": 1, "currency": 2, "mrr": 0}


def test_extra_columns_allowed_and_listed_or_forbidden() -> None:
    ref = table("plan n", ("pro", 3), ("basic", 4))
    pred = table("n customers plan", (3, 7, "pro"), (4, 8, "basic"))
    allowed = result_matches(ref, pred, rules(plan="label", n="count"))
    assert allowed.ok and allowed.extra_columns == ["customers"]
    strict = Compare.model_validate(
        {"columns": {"plan": {"kind": "label"}, "n": {"kind": "count"}}, "extra_columns": "forbid"}
    )
    forbidden = result_matches(ref, pred, strict)
    assert (forbidden.ok, forbidden.reason, forbidden.extra_columns) == (
        False,
        "extra_column_forbidden",
        ["customers"],
    )


def test_rows_stay_aligned_across_columns() -> None:
    ref = table("plan n", ("pro", 1), ("basic", 2))
    pred = table("plan n", ("pro", 2), ("basic", 1))  # each column alone matches
    match = result_matches(ref, pred, rules(plan="label", n="count"))
    assert match.reason == "wrong_values"
    assert match.first_diff is not None and match.first_diff.column in ("plan", "n")


def test_identical_value_columns_are_assigned_distinctly() -> None:
    ref = table("a b", (1, 1), (2, 2))
    assert (
        result_matches(ref, table("only", (1,), (2,)), rules(a="count", b="count")).reason
        == "missing_column"
    )
    match = result_matches(ref, table("x y", (1, 1), (2, 2)), rules(a="count", b="count"))
    assert match.ok and sorted(match.mapping.values()) == [0, 1]


def test_missing_column() -> None:
    match = result_matches(MRR_REF, table("plan mrr", ("pro", 1.0)), MRR)
    assert match.reason == "missing_column" and not match.ok


def test_compare_columns_must_name_reference_columns() -> None:
    with pytest.raises(CaseError):
        result_matches(table("a b", (1, 2)), table("a b", (1, 2)), rules(a="count"))


def test_by_name_requires_canonical_names() -> None:
    ref = table("plan n", ("pro", 3))
    assert result_matches(
        ref, table("plan n", ("pro", 3)), rules(plan="label", n="count"), by_name=True
    ).ok
    renamed = table("plan customers", ("pro", 3))
    assert (
        result_matches(ref, renamed, rules(plan="label", n="count"), by_name=True).reason
        == "missing_column"
    )


def test_types_constrain_all_null_columns() -> None:
    ref = table("amount", (None,))
    compare = rules(amount={"kind": "money", "currency": "USD"})
    assert result_matches(ref, Table(["a"], [(None,)], ["DECIMAL(18,2)"]), compare).ok
    assert (
        result_matches(ref, Table(["a"], [(None,)], ["VARCHAR"]), compare).reason
        == "missing_column"
    )


def test_search_cap_reports_wrong_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compare_module, "SEARCH_CAP", 0)
    match = result_matches(table("n", (1,)), table("n", (1,)), rules(n="count"))
    assert match.reason == "wrong_values" and "assignments" in match.detail


# --- other kinds ---------------------------------------------------------------------------


def test_counts_are_exact() -> None:
    ref = table("n", (5,), (7,))
    assert result_matches(ref, table("n", (D("5"),), (7.0,)), rules(n="count")).ok
    assert (
        result_matches(ref, table("n", (5.5,), (7,)), rules(n="integer")).reason == "wrong_values"
    )
    assert (
        result_matches(ref, table("n", (True,), (7,)), rules(n="count")).reason == "missing_column"
    )


def test_ratio_tolerance_and_unit_mismatch() -> None:
    ref = table("plan refund_rate", ("pro", 0.0525), ("basic", 0.1))
    compare = rules(plan="label", refund_rate="ratio")
    assert result_matches(ref, table("p r", ("pro", 0.0525004), ("basic", D("0.1"))), compare).ok
    assert (
        result_matches(ref, table("p r", ("pro", 0.0526), ("basic", 0.1)), compare).reason
        == "wrong_values"
    )
    percent = result_matches(ref, table("p r", ("pro", 5.25), ("basic", 10.0)), compare)
    assert percent.reason == "unit_mismatch"
    assert percent.first_diff is not None and percent.first_diff.actual in (5.25, 10.0)
    as_percent = rules(plan="label", refund_rate={"kind": "percent", "tolerance": 0.01})
    ref_pct = table("plan refund_rate", ("pro", 5.25), ("basic", 10.0))
    assert result_matches(ref_pct, table("p r", ("pro", 5.254), ("basic", 10.0)), as_percent).ok
    assert (
        result_matches(ref_pct, table("p r", ("pro", 0.0525), ("basic", 0.1)), as_percent).reason
        == "unit_mismatch"
    )


def test_ratio_rows_with_several_tolerant_columns() -> None:
    ref = table("k a b", ("x", 0.1, 0.2), ("x", 0.1000004, 0.3))
    pred = table("k a b", ("x", 0.1000001, 0.3), ("x", 0.1, 0.2))
    assert result_matches(ref, pred, rules(k="label", a="ratio", b="ratio")).ok


def test_ratio_nan_equals_only_nan() -> None:
    ref = table("r", (float("nan"),))
    assert result_matches(ref, table("r", (float("nan"),)), rules(r="ratio")).ok
    assert not result_matches(ref, table("r", (0.0,)), rules(r="ratio")).ok


def test_dates_normalise_iso() -> None:
    ref = table("month", (date(2025, 4, 1),), (date(2025, 5, 1),))
    compare = rules(month="date")
    assert result_matches(ref, table("m", (datetime(2025, 4, 1),), ("2025-05-01",)), compare).ok
    assert not result_matches(
        ref, table("m", (datetime(2025, 4, 1, 12),), ("2025-05-01",)), compare
    ).ok
    assert not result_matches(ref, table("m", ("2025-04-02",), ("2025-05-01",)), compare).ok


def test_timestamps_compare_in_utc() -> None:
    ref = table("at", (datetime(2025, 1, 1, 10, 0, tzinfo=UTC),))
    berlin = timezone(timedelta(hours=1))
    compare = rules(at="timestamp")
    assert result_matches(
        ref, table("t", (datetime(2025, 1, 1, 11, 0, tzinfo=berlin),)), compare
    ).ok
    assert result_matches(
        ref, table("t", (datetime(2025, 1, 1, 10, 0),)), compare
    ).ok  # naive = UTC
    assert result_matches(ref, table("t", ("2025-01-01T10:00:00Z",)), compare).ok
    assert not result_matches(
        ref, table("t", (datetime(2025, 1, 1, 10, 0, tzinfo=berlin),)), compare
    ).ok
    duck = run_sql("SELECT TIMESTAMPTZ '2025-01-01 12:00:00+02' AS at")
    assert result_matches(ref, duck, compare).ok


def test_labels_exact_casefold_and_numbers() -> None:
    ref = table("currency", ("usd",), ("EUR",))
    assert not result_matches(ref, table("c", ("USD",), ("EUR",)), rules(currency="label")).ok
    assert result_matches(
        ref, table("c", ("USD",), ("eur",)), rules(currency={"kind": "label", "casefold": True})
    ).ok
    years = table("year", (2025,), ("2024",))
    assert result_matches(years, table("y", ("2025",), (2024,)), rules(year="label")).ok
    assert result_matches(years, table("y", (D("2025"),), (2024.0,)), rules(year="label")).ok
    words = table("plan", ("pro",))
    assert result_matches(words, table("p", (1,)), rules(plan="label")).reason == "missing_column"


# --- order and emptiness -------------------------------------------------------------------


def test_strict_order() -> None:
    ref = table("customer revenue", ("acme", D("300.00")), ("zeta", D("200.00")))
    pred = table("customer revenue", ("zeta", 200.0), ("acme", 300.0))
    loose = rules(customer="label", revenue={"kind": "money", "currency": "USD"})
    strict = loose.model_copy(update={"order": "strict"})
    assert result_matches(ref, pred, loose).ok
    match = result_matches(ref, pred, strict)
    assert match.reason == "order_mismatch"
    assert match.first_diff is not None and (match.first_diff.row, match.first_diff.expected) == (
        0,
        "acme",
    )
    assert result_matches(ref, table("c r", ("acme", 300.0), ("zeta", 200.0)), strict).ok


def test_strict_order_finds_the_mapping_that_keeps_order() -> None:
    ref = table("a b", (1, 2), (2, 1))  # swapping a and b gives the same bag
    strict = Compare.model_validate(
        {"columns": {"a": {"kind": "count"}, "b": {"kind": "count"}}, "order": "strict"}
    )
    assert result_matches(ref, table("x y", (2, 1), (1, 2)), strict).ok


def test_empty_results() -> None:
    ref = table("plan n")
    compare = rules(plan="label", n="count")
    assert result_matches(ref, table("plan n"), compare, allow_empty=True).ok
    assert result_matches(ref, table("plan n"), compare).reason == "empty_result"
    assert (
        result_matches(ref, table("plan n", ("pro", 1)), compare, allow_empty=True).reason
        == "row_count"
    )
    assert (
        result_matches(
            table("plan n", ("pro", 1)), table("plan n"), compare, allow_empty=True
        ).reason
        == "row_count"
    )


# --- properties ----------------------------------------------------------------------------

CURRENCIES = ("USD", "EUR", "JPY", "KRW")
WORDS = st.text(alphabet="abcdefgh", min_size=1, max_size=4)


@st.composite
def money_tables(draw: st.DrawFn) -> tuple[Table, Compare]:
    n_rows = draw(st.integers(1, 8))
    n_money = draw(st.integers(1, 3))
    rows = []
    for _ in range(n_rows):
        currency = draw(st.sampled_from(CURRENCIES))
        exponent = minor_unit(currency)
        amounts = [D(draw(st.integers(-(10**9), 10**9))).scaleb(-exponent) for _ in range(n_money)]
        rows.append((draw(WORDS), currency, draw(st.integers(0, 5)), *amounts))
    names = ["label", "currency", "count", *[f"m{i}" for i in range(n_money)]]
    spec: dict[str, Any] = {"label": "label", "currency": "label", "count": "count"}
    spec |= {f"m{i}": {"kind": "money", "currency_column": "currency"} for i in range(n_money)}
    return Table(names, rows), rules(**spec)


@settings(max_examples=150, deadline=None)
@given(money_tables(), st.randoms(use_true_random=False))
def test_any_permutation_of_rows_and_columns_matches(case: tuple[Table, Compare], rnd: Any) -> None:
    ref, compare = case
    order = list(range(len(ref.columns)))
    rnd.shuffle(order)
    rows = [tuple(row[j] for j in order) for row in ref.rows]
    rnd.shuffle(rows)
    pred = Table([f"c{j}" for j in order], rows)
    match = result_matches(ref, pred, compare)
    assert match.ok, match.detail


@settings(max_examples=150, deadline=None)
@given(money_tables(), st.data())
def test_one_minor_unit_off_in_any_money_cell_never_matches(
    case: tuple[Table, Compare], data: st.DataObject
) -> None:
    ref, compare = case
    money = [i for i, name in enumerate(ref.columns) if name.startswith("m")]
    r = data.draw(st.integers(0, len(ref.rows) - 1))
    c = data.draw(st.sampled_from(money))
    sign = data.draw(st.sampled_from([-1, 1]))
    rows = [list(row) for row in ref.rows]
    rows[r][c] += sign * D(1).scaleb(-minor_unit(rows[r][1]))
    as_float = data.draw(st.booleans())
    pred = Table(
        ref.columns,
        [tuple(float(v) if as_float and isinstance(v, D) else v for v in row) for row in rows],
    )
    match = result_matches(ref, pred, compare)
    assert not match.ok and match.reason == "wrong_values"
    assert match.first_diff is not None and match.first_diff.column is not None
