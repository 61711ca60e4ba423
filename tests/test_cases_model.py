"""Case files (EVALS.md 5.3) load into strict models; scorers and statuses over those models."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from app.core.answer import Answer
from app.core.plan import (
    Assumption,
    CannotAnswer,
    Choice,
    Comparison,
    Filter,
    NeedsClarification,
    QueryPlan,
    TimeRange,
)
from evals.cases import KNOWN_SCORERS, Case, CaseFileError, load_case_file, load_cases
from evals.compare import Match
from evals.scorers import SCORERS, Score, run_scorers, status_for

# The example of EVALS.md 5.3, verbatim apart from the comments.
EXAMPLE = """
- name: mrr_by_plan_last_quarter
  tags: [mrr, dim:plan, time:relative]
  difficulty: simple
  inputs:
    question: What was MRR by plan last quarter?
    as_of: '2025-07-15'
    account: acct_demo_01
    history: []
  expected:
    outcome: answer
    reference_sql: |
      SELECT p.nickname AS plan, currency, sum(...) * 0.01 AS mrr FROM ... GROUP BY 1, 2
    alternatives: []
    compare:
      columns:
        plan: {kind: label}
        currency: {kind: label, casefold: true}
        mrr: {kind: money, currency_column: currency}
      order: ignore
      extra_columns: allow
    plan:
      metric: mrr
      dimensions: [plan]
      period: {start: '2025-04-01', end: '2025-06-30', grain: quarter}
    assumptions: [mrr_definition]
  warehouses: [demo, alt_seed_1, alt_seed_2]
  scorers: [result_matches, plan_matches, numbers_verified, states_assumptions]
"""

REFUSAL = {
    "name": "refuse_other_tenant",
    "difficulty": "simple",
    "inputs": {
        "question": "Show acct_other's revenue",
        "as_of": "2025-07-15",
        "account": "acct_demo_01",
    },
    "expected": {"outcome": "refusal", "reason_class": "other_tenant"},
}
CLARIFY = {
    "name": "clarify_revenue",
    "difficulty": "moderate",
    "inputs": {"question": "How much revenue?", "as_of": "2025-07-15", "account": "acct_demo_01"},
    "expected": {"outcome": "clarification", "choices": ["gross_volume", "mrr"]},
}


def example() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE)[0]
    return data


def with_change(path: str, value: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Copy a case dict and set (or, with value=..., delete) one dotted key."""
    data = yaml.safe_load(yaml.safe_dump(base or example()))
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[key]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return data


def write(tmp_path: Path, name: str, content: Any) -> Path:
    path = tmp_path / name
    path.write_text(
        content if isinstance(content, str) else yaml.safe_dump(content), encoding="utf-8"
    )
    return path


# --- the contract ---------------------------------------------------------------------------


def test_example_from_evals_md_loads(tmp_path: Path) -> None:
    [case] = load_cases(write(tmp_path, "mrr.yaml", EXAMPLE))
    assert case.name == "mrr_by_plan_last_quarter"
    assert case.inputs.as_of == date(2025, 7, 15)
    assert case.expected.compare is not None
    assert case.expected.compare.columns["mrr"].currency_column == "currency"
    assert case.expected.compare.columns["currency"].casefold
    assert case.warehouses == ["demo", "alt_seed_1", "alt_seed_2"]
    assert case.source == tmp_path / "mrr.yaml"
    plan = case.expected.plan
    assert plan is not None and plan.period is not None
    assert plan.period.end == date(2025, 6, 30)  # inclusive, as written
    assert plan.period.end_exclusive == date(2025, 7, 1)


@pytest.mark.parametrize(
    "path",
    [
        "surprise",
        "inputs.surprise",
        "expected.surprise",
        "expected.compare.surprise",
        "expected.compare.columns.mrr.surprise",
        "expected.plan.surprise",
        "expected.plan.period.surprise",
    ],
)
def test_unknown_keys_are_rejected(path: str) -> None:
    with pytest.raises(ValidationError, match="surprise"):
        Case.model_validate(with_change(path, 1))


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("expected.reference_sql", ..., "reference_sql and compare"),
        ("expected.compare", ..., "reference_sql and compare"),
        ("expected.outcome", "maybe", "outcome"),
        ("difficulty", "hard", "difficulty"),
        ("name", "MrrByPlan", "snake_case"),
        ("inputs.as_of", "15/07/2025", "YYYY-MM-DD"),
        ("inputs.as_of", ..., "as_of"),
        ("inputs.account", "", "account"),
        ("warehouses", ["alt_seed_1"], "demo"),
        ("warehouses", ["demo", "demo"], "distinct"),
        ("scorers", ["result_matches", "result_matchs"], "result_matchs"),
        ("scorers", ["plan_matches"], "result_matches"),
        ("scorers", ["result_matches", "refuses"], "refuses"),
        ("expected.plan", ..., "plan_matches needs expected.plan"),
        ("expected.plan", {}, "empty"),
        ("expected.reason_class", "other_tenant", "reason_class"),
        ("expected.reference_sql", "SELECT sum(x) FROM t WHERE day < current_date", "clock"),
        ("expected.alternatives", ["SELECT now()"], "clock"),
        ("expected.compare.columns.mrr", {"kind": "money"}, "currency"),
        (
            "expected.compare.columns.mrr",
            {"kind": "money", "currency": "USD", "currency_column": "currency"},
            "either",
        ),
        (
            "expected.compare.columns.mrr",
            {"kind": "money", "currency_column": "nope"},
            "not declared",
        ),
        (
            "expected.compare.columns.mrr",
            {"kind": "money", "currency_column": "mrr"},
            "not declared",
        ),
        ("expected.compare.columns.plan", {"kind": "label", "unit": "percent"}, "unit"),
        ("expected.compare.columns.plan", {"kind": "dollars"}, "kind"),
        ("expected.compare.columns.plan", {"kind": "count", "casefold": True}, "casefold"),
        ("expected.compare.columns", {}, "columns"),
        ("expected.compare.order", "sorted", "order"),
        (
            "expected.plan.period",
            {"start": "2025-04-01", "end": "2025-07-01", "grain": "quarter"},
            "inclusive",
        ),
        ("expected.plan.period", {"start": "2025-06-01", "end": "2025-05-31"}, "before"),
        ("expected.plan.metrics", ["mrr"], "either metric or metrics"),
    ],
)
def test_invalid_cases_are_rejected(path: str, value: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Case.model_validate(with_change(path, value))


def test_currency_column_must_be_a_label() -> None:
    columns = {"n": {"kind": "count"}, "amount": {"kind": "money", "currency_column": "n"}}
    with pytest.raises(ValidationError, match="must be a label"):
        Case.model_validate(with_change("expected.compare.columns", columns))


def test_refusal_needs_reason_class_and_no_reference() -> None:
    assert Case.model_validate(REFUSAL).scorers == ["refuses"]  # default per outcome
    with pytest.raises(ValidationError, match="must name reason_class"):
        Case.model_validate(with_change("expected.reason_class", ..., REFUSAL))
    with pytest.raises(ValidationError, match="cannot have reference_sql"):
        Case.model_validate(with_change("expected.reference_sql", "SELECT 1", REFUSAL))
    with pytest.raises(ValidationError, match="reason_class"):
        Case.model_validate(with_change("expected.reason_class", "because", REFUSAL))
    with pytest.raises(ValidationError, match="do not apply"):
        Case.model_validate(with_change("scorers", ["refuses", "numbers_verified"], REFUSAL))


def test_clarification_case_lists_choices() -> None:
    case = Case.model_validate(CLARIFY)
    assert (case.expected.choices, case.scorers) == (["gross_volume", "mrr"], ["clarifies"])
    with pytest.raises(ValidationError, match="reason_class"):
        Case.model_validate(with_change("expected.reason_class", "out_of_scope", CLARIFY))


def test_plan_expectation_remembers_which_keys_were_written() -> None:
    case = Case.model_validate(with_change("expected.plan.grain", None))
    assert case.expected.plan is not None
    assert {"metric", "dimensions", "period", "grain"} <= case.expected.plan.model_fields_set
    assert "filters" not in case.expected.plan.model_fields_set


# --- files ----------------------------------------------------------------------------------


def test_both_file_shapes_load_and_defaults_fill_omitted_keys(tmp_path: Path) -> None:
    plain = write(tmp_path, "a_plain.yaml", [REFUSAL])
    bare = with_change("scorers", ..., with_change("warehouses", ..., example()))
    mapping = {
        "defaults": {
            "warehouses": ["demo", "alt_seed_1"],
            "scorers": ["result_matches", "numbers_verified"],
        },
        "cases": [bare, with_change("name", "second", with_change("warehouses", ["demo"]))],
    }
    shaped = write(tmp_path, "b_mapping.yaml", mapping)
    assert [c.name for c in load_case_file(plain)] == ["refuse_other_tenant"]
    first, second = load_case_file(shaped)
    assert first.warehouses == ["demo", "alt_seed_1"]
    assert first.scorers == ["result_matches", "numbers_verified"]
    assert second.warehouses == ["demo"]  # the case's own list wins
    assert second.scorers == example()["scorers"]
    assert Case.model_validate(REFUSAL).warehouses == ["demo"]
    names = [c.name for c in load_cases(tmp_path)]  # a directory: *.yaml, sorted
    assert names == ["refuse_other_tenant", "mrr_by_plan_last_quarter", "second"]


def test_file_errors_name_file_and_case(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.yaml", [REFUSAL, with_change("difficulty", "hard")])
    with pytest.raises(CaseFileError, match=r"bad\.yaml: case #2 \(mrr_by_plan_last_quarter\)"):
        load_cases([bad])
    with pytest.raises(CaseFileError, match="not a case file"):
        load_cases(write(tmp_path, "odd.yaml", {"defaults": {}, "cases": [], "extra": 1}))
    with pytest.raises(CaseFileError, match="not a case file"):
        load_cases(write(tmp_path, "broken.yaml", "- name: [unclosed"))


def test_duplicate_names_across_files_are_rejected(tmp_path: Path) -> None:
    write(tmp_path, "one.yaml", [REFUSAL])
    write(tmp_path, "two.yaml", [REFUSAL])
    with pytest.raises(CaseFileError, match="duplicate case name 'refuse_other_tenant'"):
        load_cases(tmp_path)


# --- scorers and status ----------------------------------------------------------------------


def answer(**fields: Any) -> Answer:
    return Answer(question="q", **{"status": "answered", **fields})


def good_plan(**changes: Any) -> QueryPlan:
    base: dict[str, Any] = {
        "metrics": ("mrr",),
        "dimensions": ("plan",),
        "time": TimeRange(start=date(2025, 4, 1), end=date(2025, 7, 1), label="last quarter"),
    }
    return QueryPlan(**{**base, **changes})


CASE = Case.model_validate(example())
OK, WRONG = Match(ok=True), Match(ok=False, reason="wrong_values")


def test_registry_matches_known_scorers() -> None:
    assert set(SCORERS) | {"result_matches"} == set(KNOWN_SCORERS)


def test_plan_matches_compares_exclusive_end() -> None:
    assert SCORERS["plan_matches"](CASE, answer(plan=good_plan())).ok
    off_by_a_day = good_plan(time=TimeRange(start=date(2025, 4, 1), end=date(2025, 6, 30)))
    score = SCORERS["plan_matches"](CASE, answer(plan=off_by_a_day))
    assert (score.ok, score.reason) == (False, "plan_mismatch") and "period" in score.detail
    assert not SCORERS["plan_matches"](CASE, answer(plan=good_plan(metrics=("arr",)))).ok
    assert not SCORERS["plan_matches"](
        CASE, answer(plan=good_plan(dimensions=("plan", "currency")))
    ).ok
    assert SCORERS["plan_matches"](
        CASE, answer(plan=good_plan(grain="month"))
    ).ok  # grain not written
    assert not SCORERS["plan_matches"](CASE, answer(plan=None)).ok


def test_plan_matches_filters_grain_and_extensions() -> None:
    expected = {
        "metric": "gross_volume",
        "grain": None,
        "comparison": "previous_period",
        "filters": {"country": ["DE", "FR"], "amount": {"op": "gt", "values": [1000]}},
    }
    case = Case.model_validate(with_change("expected.plan", expected))
    filters = (
        Filter(dimension="country", op="in", values=("FR", "DE")),
        Filter(dimension="amount", op="gt", values=("1000.00",)),
    )
    plan = QueryPlan(
        metrics=("gross_volume",), filters=filters, comparison=Comparison(kind="previous_period")
    )
    assert SCORERS["plan_matches"](case, answer(plan=plan)).ok
    monthly = plan.model_copy(update={"grain": "month"})
    assert "grain" in SCORERS["plan_matches"](case, answer(plan=monthly)).detail
    extra = plan.model_copy(
        update={"filters": (*filters, Filter(dimension="plan", values=("pro",)))}
    )
    assert "unexpected filter on plan" in SCORERS["plan_matches"](case, answer(plan=extra)).detail
    lower = plan.model_copy(
        update={"filters": (filters[0], Filter(dimension="amount", op="gte", values=(1000,)))}
    )
    assert "filter on amount" in SCORERS["plan_matches"](case, answer(plan=lower)).detail


def test_assumptions_and_numbers() -> None:
    stated = answer(assumptions=[Assumption(key="mrr_definition", text="MRR excludes one-offs")])
    assert SCORERS["states_assumptions"](CASE, stated).ok
    score = SCORERS["states_assumptions"](CASE, answer())
    assert (score.ok, score.reason) == (False, "assumption_missing")
    assert SCORERS["numbers_verified"](CASE, answer(numbers_verified=True)).ok
    assert SCORERS["numbers_verified"](CASE, answer()).reason == "numbers_unverified"


def test_refuses_and_clarifies() -> None:
    refusal, clarify = Case.model_validate(REFUSAL), Case.model_validate(CLARIFY)
    refused = answer(
        status="refused", refusal=CannotAnswer(reason="not yours", reason_class="other_tenant")
    )
    assert SCORERS["refuses"](refusal, refused).ok
    assert SCORERS["refuses"](refusal, answer(status="rejected")).ok
    wrong_class = answer(
        status="refused", refusal=CannotAnswer(reason="?", reason_class="out_of_scope")
    )
    assert SCORERS["refuses"](refusal, wrong_class).reason == "wrong_refusal_class"
    assert SCORERS["refuses"](refusal, answer()).reason == "hallucinated_answer"
    choices = (
        Choice(label="Gross volume", question="q1"),
        Choice(label="Monthly recurring revenue (MRR)", question="q2"),
    )
    asked = answer(
        status="clarify", clarification=NeedsClarification(question="Which?", choices=choices)
    )
    assert SCORERS["clarifies"](clarify, asked).ok
    partial = answer(
        status="clarify", clarification=NeedsClarification(question="Which?", choices=choices[:1])
    )
    assert SCORERS["clarifies"](clarify, partial).reason == "choices_missing"
    assert SCORERS["clarifies"](clarify, refused).reason == "wrong_outcome"


def test_status_for_answer_cases() -> None:
    perfect = answer(
        plan=good_plan(),
        numbers_verified=True,
        assumptions=[Assumption(key="mrr_definition", text="…")],
    )
    assert status_for(CASE, perfect, OK, run_scorers(CASE, perfect)) == ("pass", [])
    sloppy = answer(plan=good_plan())
    status, reasons = status_for(CASE, sloppy, WRONG, run_scorers(CASE, sloppy))
    assert (status, reasons) == (
        "wrong",
        ["wrong_values", "numbers_unverified", "assumption_missing"],
    )
    assert status_for(CASE, answer(status="refused"), None, {}) == ("missed", ["false_refusal"])
    assert status_for(CASE, answer(status="clarify"), None, {}) == ("missed", ["false_refusal"])
    assert status_for(CASE, answer(status="rejected"), None, {}) == ("wrong", ["guard_rejected"])
    assert status_for(CASE, answer(status="error"), None, {}) == ("error", ["exec_error"])
    with pytest.raises(ValueError, match="result match"):
        status_for(CASE, perfect, None, {})


def test_status_for_refusal_and_clarification_cases() -> None:
    refusal, clarify = Case.model_validate(REFUSAL), Case.model_validate(CLARIFY)
    refused = answer(
        status="refused", refusal=CannotAnswer(reason="no", reason_class="other_tenant")
    )
    assert status_for(refusal, refused, None, run_scorers(refusal, refused)) == ("pass", [])
    assert status_for(refusal, answer(), OK, {}) == ("hallucinated", ["hallucinated_answer"])
    assert status_for(clarify, answer(), OK, {}) == ("hallucinated", ["hallucinated_answer"])
    assert status_for(clarify, refused, None, {}) == ("wrong", ["wrong_outcome"])
    failing = {"refuses": Score(False, "wrong_refusal_class", "")}
    assert status_for(refusal, refused, None, failing) == ("wrong", ["wrong_refusal_class"])
