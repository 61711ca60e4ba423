"""Every plan shape the engine produces, from the eval suite: its headline checked by rule.

Each eval case's answer on the demo warehouse is classified by its plan and result (one total,
a series, a breakdown, per currency, ranked, …) and its headline checked against the result:
a Total is the exact sum of the column (and, asked again without the breakdown, the same figure
up to the cents of per-row currency conversion); a latest point is the last row's; anything
else states no single figure of the rows. The answers come from the session's eval runner, so
running this with tests/test_eval_cases.py costs the suite once.
"""

import re
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import pytest

from app.core.answer import Answer
from app.core.request import Request
from app.explain.headline import summing
from app.semantic.format import format_bucket, format_value
from app.semantic.load import semantic_model
from evals.run import Runner
from tests.eval_corpus import CASES

FIGURES = ("money", "count", "ratio")


@pytest.fixture(scope="module")
def answered(eval_runner: Runner) -> Iterator[list[tuple[str, Answer]]]:
    """(case name, demo answer) of every eval case the engine answers with a plan, not a list."""
    out = []
    for case in CASES:
        if "demo" not in case.warehouses or case.expected.outcome != "answer":
            continue
        answer = eval_runner.result(case).answers.get("demo")
        if answer and answer.status == "answered" and answer.plan and not answer.plan.listing:
            out.append((case.name, answer))
    yield out


def shape(answer: Answer) -> str:
    """The plan shape of an answer, from its plan and result (independent of the headline)."""
    assert answer.plan is not None
    names = [c.name for c in answer.columns]
    labels = [c for c in answer.columns if c.kind == "label" and not c.name.endswith("_id")]
    currencies = {r[names.index("currency")] for r in answer.rows} if "currency" in names else set()
    rule = summing(answer.plan, semantic_model())
    first = next(c for c in answer.columns if c.kind in FIGURES)
    adds = not rule.reason(first.name) and not rule.partial and not answer.truncated
    if not answer.rows:
        return "empty"
    if len(answer.rows) == 1 and not labels and "period" not in names:
        return "one total"
    if len(currencies) > 1:
        return "per currency"
    if len(answer.rows) == 1:
        return "one row"
    if "period" in names and not labels:
        return "series total" if adds else "series latest"
    if rule.ranked is not None:
        return "ranked"
    return "breakdown total" if adds else "breakdown sentence"


def _first(answer: Answer) -> int:
    return next(i for i, c in enumerate(answer.columns) if c.kind in FIGURES)


def _fmt(answer: Answer, value: object, row: int = 0) -> str:
    """A figure of the first metric as shown, in the currency of the row it is from."""
    names = [c.name for c in answer.columns]
    cur = str(answer.rows[row][names.index("currency")]) if "currency" in names else None
    return format_value(value, answer.columns[_first(answer)], cur)


def _states(text: str, figure: str) -> bool:
    """Whether the text states the figure (as a whole number, not a digit of a longer one)."""
    return re.search(rf"(?<![\w.,]){re.escape(figure)}(?![\w.]|,\d)", text) is not None


def _sum(answer: Answer) -> Decimal | int:
    i = _first(answer)
    values = [r[i] for r in answer.rows if r[i] is not None]
    if all(isinstance(v, int) for v in values):
        return sum(values)
    return sum((Decimal(str(v)) for v in values), Decimal(0))


def test_every_shape_is_covered(answered: list[tuple[str, Answer]]) -> None:
    seen = Counter(shape(a) for _, a in answered)
    floor = {
        "one total": 50,
        "series total": 15,
        "series latest": 5,
        "breakdown total": 30,
        "breakdown sentence": 3,
        "ranked": 5,
        "per currency": 5,
        "one row": 1,
    }
    assert {k: seen[k] for k in floor if seen[k] < floor[k]} == {}, seen


def test_headlines_follow_the_rule(answered: list[tuple[str, Answer]]) -> None:
    failures = []
    for name, answer in answered:
        try:
            check(answer)
        except AssertionError as err:
            failures.append(f"{name} [{shape(answer)}] {answer.headline!r}: {err}")
    assert not failures, "\n".join(failures)


def check(answer: Answer) -> None:
    """One answer's headline against its result, by the rule for its shape."""
    kind, i = shape(answer), _first(answer)
    figures = {_fmt(answer, r[i], n) for n, r in enumerate(answer.rows) if r[i] is not None}
    assert answer.numbers_verified, "the explanation's numbers are the result's"
    if kind == "empty":
        assert answer.headline == "No data" and answer.value is None and answer.total is None
    elif kind == "one total":
        assert answer.value == answer.rows[0][i] and answer.total is None
        assert _fmt(answer, answer.value) in answer.headline
    elif kind in ("series total", "breakdown total"):
        total = _sum(answer)
        assert answer.total is not None and answer.total[i] == total == answer.value
        assert (
            answer.headline.startswith("Total") and f": {_fmt(answer, total)} " in answer.headline
        )
        if kind == "breakdown total" and all(Decimal(str(r[i] or 0)) >= 0 for r in answer.rows):
            assert len(answer.shares) == len(answer.rows)
            assert abs(sum(s or 0 for s in answer.shares) - 1) < Decimal("1e-20")
    elif kind == "series latest":
        names = [c.name for c in answer.columns]
        last = [r for r in answer.rows if r[i] is not None][-1]
        bucket = format_bucket(
            last[names.index("period")], answer.plan.grain if answer.plan else None
        )
        assert answer.value == last[i]
        assert answer.total is None or answer.total[i] is None
        assert answer.headline == f"{_fmt(answer, last[i])} (latest, {bucket})"
    elif kind == "one row":
        assert answer.value == answer.rows[0][i] and _fmt(answer, answer.value) in answer.headline
    else:  # a sentence: no figure of the rows passed off as the answer's
        assert answer.value is None and (answer.total is None or answer.total[i] is None)
        if kind == "per currency" and len(answer.rows) <= 8 and "·" in answer.headline:
            assert all(f in answer.headline for f in figures)  # every currency, each named
        else:  # a ranking names its size from the plan ("the top 3"), which is no row's figure
            text = re.sub(r"(top|bottom) \d+", "", answer.headline)
            assert not [f for f in figures if _states(text, f)], "a row's figure"


def test_a_total_is_the_figure_asked_without_the_breakdown(
    answered: list[tuple[str, Answer]], eval_runner: Runner
) -> None:
    """Asked again without its dimensions and grain, the plan gives the Total (up to the cents
    that per-row currency conversion rounds)."""
    assistant = eval_runner.assistant("demo")
    checked = 0
    for name, answer in answered:
        if shape(answer) not in ("series total", "breakdown total") or answer.plan is None:
            continue
        plan = answer.plan.model_copy(update={"dimensions": (), "grain": None, "chart": "auto"})
        if plan.comparison is not None:
            plan = plan.model_copy(update={"comparison": None})
        assert answer.as_of is not None and answer.account is not None
        whole = assistant.answer_plan(
            plan, Request(name, as_of=answer.as_of, account=answer.account)
        )
        assert whole.status == "answered", (name, whole.headline)
        assert answer.total is not None
        metric = [c.name for c in whole.columns].index(answer.columns[_first(answer)].name)
        got = Decimal(str(answer.total[_first(answer)]))
        want = Decimal(str(whole.rows[0][metric]))
        converted = "total_of_converted_rows" in {a.key for a in answer.assumptions}
        slack = max(Decimal(1), abs(want) / 100_000) if converted else Decimal(0)
        assert abs(got - want) <= slack, (name, got, want)
        checked += 1
    assert checked >= 40


def test_the_shape_check_rejects_a_one_row_headline(answered: list[tuple[str, Answer]]) -> None:
    """The old headline of a breakdown (its top row) fails the check: the test can fail."""
    answer = next(a for _, a in answered if shape(a) == "breakdown total")
    i = _first(answer)
    label = next(j for j, c in enumerate(answer.columns) if c.kind == "label")
    top = answer.rows[0]
    old = answer.model_copy(
        update={"headline": f"{top[label]}: {_fmt(answer, top[i])}", "value": top[i]}
    )
    with pytest.raises(AssertionError):
        check(old)
