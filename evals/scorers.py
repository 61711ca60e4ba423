"""Scorers: small pure checks of an Answer against a case, and the case status they add up to.

Statuses: `pass`; `wrong` (a response of the expected kind that is wrong: a wrong result, plan,
prose number or assumption, a guard-rejected prediction, the other non-answer outcome, a wrong
refusal class); `missed` (refused or clarified when an answer was expected); `hallucinated`
(answered when a refusal or clarification was expected); `error` (the run itself failed: an
execution error or timeout, a reference that does not run, an invalid case).

Reason codes are EVALS.md 5.7's, plus extensions for failures 5.7 does not name:
`plan_mismatch`, `wrong_refusal_class`, `wrong_outcome` (refused when a clarification was
expected or the reverse), `choices_missing` (a clarification without an expected choice),
`empty_result` (empty = empty without `empty: true`, from `compare.py`), and the run errors
`invalid_case`, `reference_error`, `reference_empty` and `backend_error` (see `evals/run.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Protocol

from app.core.plan import Assumption, CannotAnswer, NeedsClarification, QueryPlan
from evals.cases import Case, PlanFilter
from evals.compare import Diff, Table
from evals.compare import result_matches as compare_results

Status = Literal["pass", "wrong", "missed", "hallucinated", "error"]
_REFUSING = ("refused", "rejected")  # `rejected`: the guard stopped it; nothing was shown
# The planner's finer refusal classes, folded into the four a case can name.
_CASE_CLASS = {"unknown_metric": "out_of_scope", "empty_question": "out_of_scope"}
_CASE_CLASS["too_long"] = "hostile_input"


class AnswerLike(Protocol):
    """The parts of `app.core.answer.Answer` the scorers read."""

    @property
    def status(self) -> str: ...  # noqa: D102
    @property
    def plan(self) -> QueryPlan | None: ...  # noqa: D102
    @property
    def assumptions(self) -> Sequence[Assumption]: ...  # noqa: D102
    @property
    def numbers_verified(self) -> bool: ...  # noqa: D102
    @property
    def refusal(self) -> CannotAnswer | None: ...  # noqa: D102
    @property
    def clarification(self) -> NeedsClarification | None: ...  # noqa: D102
    @property
    def columns(self) -> Sequence[Any]: ...  # noqa: D102  (objects with a `.name`)
    @property
    def rows(self) -> Sequence[Sequence[Any]]: ...  # noqa: D102
    @property
    def error(self) -> str | None: ...  # noqa: D102


class Verdict(Protocol):
    """Anything with `ok` and a reason code: a `Score`, or a `compare.Match`."""

    @property
    def ok(self) -> bool: ...  # noqa: D102
    @property
    def reason(self) -> str | None: ...  # noqa: D102


@dataclass(frozen=True)
class Score:
    """One scorer's verdict: ok, a reason code when not, a line for the report, the first diff."""

    ok: bool
    reason: str | None = None
    detail: str = ""
    diff: Diff | None = None
    extra_columns: tuple[str, ...] = ()


Scorer = Callable[[Case, AnswerLike], Score]
SCORERS: dict[str, Scorer] = {}


def scorer(function: Scorer) -> Scorer:
    """Register a scorer under its function name (the name cases list in `scorers`)."""
    SCORERS[function.__name__] = function
    return function


def _same(value: Any) -> str:
    """Normalise a filter value: numbers by value ('1000' = 1000 = Decimal('1000.00'))."""
    try:
        return str(Decimal(str(value)).normalize())
    except InvalidOperation:
        return str(value)


def _filter_problems(expected: Mapping[str, Any], plan: QueryPlan) -> list[str]:
    family = {"eq": "in", "in": "in", "neq": "not_in", "not_in": "not_in"}
    got = {f.dimension: f for f in plan.filters}
    problems = [f"unexpected filter on {d}" for d in sorted(set(got) - set(expected))]
    for dimension, spec in expected.items():
        values = spec if isinstance(spec, list) else [spec]
        rule = spec if isinstance(spec, PlanFilter) else PlanFilter(op="in", values=values)
        actual = got.get(dimension)
        if actual is None:
            problems.append(f"missing filter on {dimension}")
            continue
        same_op = family.get(actual.op, actual.op) == family.get(rule.op, rule.op)
        if not same_op or sorted(map(_same, actual.values)) != sorted(map(_same, rule.values)):
            want, have = f"{rule.op} {rule.values}", f"{actual.op} {list(actual.values)}"
            problems.append(f"filter on {dimension}: expected {want}, got {have}")
    return problems


def answer_table(answer: AnswerLike) -> Table:
    """The Answer's result as a comparable table (canonical column names, rows)."""
    return Table([c.name for c in answer.columns], [tuple(row) for row in answer.rows])


def result_matches(
    case: Case, answer: AnswerLike, references: Sequence[Table], *, by_name: bool = False
) -> Score:
    """Compare the Answer's table with the reference or any alternative (EVALS.md 5.4).

    `references` are the executed reference and alternatives, in the case's order; on failure the
    Score carries the first reference's reason and first differing cell. A reference that cannot be
    compared raises `compare.CaseError` (a case problem, not a wrong answer).
    """
    compare = case.expected.compare
    if compare is None or not references:
        raise ValueError(f"case {case.name}: result_matches needs compare rules and a reference")
    predicted = answer_table(answer)
    first: Score | None = None
    for number, reference in enumerate(references):
        match = compare_results(
            reference, predicted, compare, allow_empty=case.expected.empty, by_name=by_name
        )
        if by_name and match.reason == "missing_column":  # say what the values do, too
            by_value = compare_results(
                reference, predicted, compare, allow_empty=case.expected.empty
            )
            names = f"columns {list(predicted.columns)} do not carry the reference's names"
            match = replace(
                by_value,
                ok=False,
                reason=by_value.reason or "missing_column",
                detail=f"{names}; " + (by_value.detail or "the values match"),
            )
        which = "the reference" if number == 0 else f"alternative {number}"
        if match.ok:
            detail = f"matches {which}" + (
                f"; extra columns {match.extra_columns}" if match.extra_columns else ""
            )
            return Score(True, detail=detail, extra_columns=tuple(match.extra_columns))
        first = first or Score(False, match.reason, match.detail, match.first_diff)
    assert first is not None
    return first


@scorer
def plan_matches(case: Case, answer: AnswerLike) -> Score:
    """Check the keys written under expected.plan against the Answer's QueryPlan."""
    expected, plan = case.expected.plan, answer.plan
    if expected is None:
        return Score(True, detail="no plan expectation")
    if plan is None:
        return Score(False, "plan_mismatch", "the answer carries no plan")
    given = expected.model_fields_set
    checks: dict[str, tuple[Any, Any]] = {
        "metric": ([expected.metric], list(plan.metrics)),
        "metrics": (sorted(expected.metrics or []), sorted(plan.metrics)),
        "dimensions": (sorted(expected.dimensions or []), sorted(plan.dimensions)),
        "grain": (expected.grain, plan.grain),
        "comparison": (expected.comparison, plan.comparison and plan.comparison.kind),
        "ranking": (expected.ranking, plan.ranking),
        "listing": (expected.listing, plan.listing),
        "limit": (expected.limit, plan.limit),
        "currency": (expected.currency, plan.currency),
        "by_currency": (expected.by_currency, plan.by_currency),
    }
    if "period" in given:
        period, time = expected.period, plan.time
        want = period and (period.start, period.end_exclusive)
        checks["period [start, end)"] = (want, time and (time.start, time.end))
        given = given | {"period [start, end)"}
    problems = [
        f"{k}: expected {e}, got {g}" for k, (e, g) in checks.items() if k in given and e != g
    ]
    if expected.filters is not None or "filters" in given:
        problems += _filter_problems(expected.filters or {}, plan)
    if problems:
        return Score(False, "plan_mismatch", "; ".join(problems))
    return Score(True, detail=f"plan matches on {', '.join(sorted(given))}")


@scorer
def refuses(case: Case, answer: AnswerLike) -> Score:
    """Check the answer refused, for the expected reason class when it names one."""
    if answer.status not in _REFUSING:
        reason = "hallucinated_answer" if answer.status == "answered" else "wrong_outcome"
        return Score(False, reason, f"expected a refusal, got status {answer.status!r}")
    if answer.refusal is None:
        return Score(True, detail=f"{answer.status} without a reason class")
    got = _CASE_CLASS.get(answer.refusal.reason_class, answer.refusal.reason_class)
    if got != case.expected.reason_class:
        detail = f"refused as {answer.refusal.reason_class}, expected {case.expected.reason_class}"
        return Score(False, "wrong_refusal_class", detail)
    return Score(True, detail=f"refused as {got}")


def _token(text: str) -> str:
    return "_" + re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_") + "_"


@scorer
def clarifies(case: Case, answer: AnswerLike) -> Score:
    """Check the answer asks to clarify and offers every expected choice (by metric name)."""
    if answer.status != "clarify" or answer.clarification is None:
        reason = "hallucinated_answer" if answer.status == "answered" else "wrong_outcome"
        return Score(False, reason, f"expected a clarification, got status {answer.status!r}")
    labels = [_token(c.label) for c in answer.clarification.choices]
    missing = [m for m in case.expected.choices if not any(_token(m) in x for x in labels)]
    if missing:
        return Score(False, "choices_missing", f"choices lack {missing}; offered {labels}")
    return Score(True, detail=f"offers {len(labels)} choices")


@scorer
def numbers_verified(case: Case, answer: AnswerLike) -> Score:
    """Check every number in the explanation was found in the result (Answer.numbers_verified)."""
    if answer.numbers_verified is True:
        return Score(True, detail="every number in the prose is in the result")
    return Score(False, "numbers_unverified", "the explanation quotes a number not in the result")


@scorer
def states_assumptions(case: Case, answer: AnswerLike) -> Score:
    """Check every assumption key the case expects is among the Answer's assumptions."""
    stated = {a.key for a in answer.assumptions}
    missing = [key for key in case.expected.assumptions if key not in stated]
    if missing:
        return Score(False, "assumption_missing", f"missing {missing}; stated {sorted(stated)}")
    return Score(True, detail=f"states {sorted(stated)}")


def run_scorers(case: Case, answer: AnswerLike) -> dict[str, Score]:
    """Run the case's scorers except result_matches (which needs executed tables)."""
    return {name: SCORERS[name](case, answer) for name in case.scorers if name in SCORERS}


def error_reason(answer: AnswerLike) -> str:
    """Reason code of an Answer with status `error`: `timeout` or `exec_error`."""
    # QueryTimeout's message names the setting that limits it; the Answer keeps only the text.
    return "timeout" if "query_timeout_ms" in (answer.error or "") else "exec_error"


def status_for(
    case: Case, answer: AnswerLike, result_match: Verdict | None, scores: Mapping[str, Score]
) -> tuple[Status, list[str]]:
    """Combine the outcome, the result match and the scores into (status, reason codes)."""
    outcome, status = case.expected.outcome, answer.status
    if status == "error":
        return "error", [error_reason(answer)]
    if outcome == "answer":
        if status == "rejected":
            return "wrong", ["guard_rejected"]
        if status != "answered":
            return "missed", ["false_refusal"]
        if result_match is None:
            raise ValueError(f"case {case.name}: an answered case needs its result match")
        found: list[str] = [] if result_match.ok else [result_match.reason or "wrong_values"]
    elif status == "answered":
        return "hallucinated", ["hallucinated_answer"]
    else:
        check = refuses if outcome == "refusal" else clarifies
        verdict = scores.get(check.__name__) or check(case, answer)
        found = [] if verdict.ok else [verdict.reason or "wrong_outcome"]
    found += [s.reason or name for name, s in scores.items() if not s.ok]
    reasons = list(dict.fromkeys(found))
    return ("pass", []) if not reasons else ("wrong", reasons)
