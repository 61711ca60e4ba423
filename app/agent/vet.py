"""Checks on what a model wrote before anyone sees it: its plan before it runs, its prose after.

A model plan runs only with known names and a non-empty period that our time parser read in the
question (the model's own period label is replaced by ours). Model-written text (assumptions,
refusal reasons, the explanation) is kept only when its numbers, dates and names are in the
result, the period or the question (`app.explain.claims`); otherwise it is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.agent.periods import Periods
from app.core.answer import Answer
from app.core.plan import Assumption, QueryPlan
from app.explain.claims import unsupported
from app.semantic.model import SemanticModel


class PlanProblem(ValueError):
    """A model plan that must not run, with the reason the model is told."""


def _unknown(names: Sequence[str], known: object) -> list[str]:
    return [n for n in names if n not in known]  # type: ignore[operator]


def check_plan(plan: QueryPlan, model: SemanticModel, periods: Periods) -> QueryPlan:
    """The plan with our period label, or PlanProblem naming what is wrong with it."""
    problems: list[str] = []
    if bad := _unknown(plan.metrics, model.metrics):
        problems.append(f"unknown metric(s) {', '.join(bad)}")
    if bad := _unknown(plan.dimensions, model.dimensions):
        problems.append(f"unknown dimension(s) {', '.join(bad)}")
    spec = model.lists.get(plan.listing) if plan.listing else None
    if plan.listing and spec is None:
        problems.append(f"unknown list {plan.listing}")
    columns = {c.name for c in spec.columns} if spec else set()
    filter_names = set(model.dimensions) | ({"state"} | columns if spec else set())
    if bad := _unknown([f.dimension for f in plan.filters], filter_names):
        problems.append(f"unknown filter dimension(s) {', '.join(bad)}")
    named = [*plan.columns, *(x.column for x in (plan.order, plan.per_group) if x is not None)]
    if spec is None and named:
        problems.append("columns, order and per_group need a list")
    elif bad := [c for c in named if c not in columns and c.split(".")[0] not in model.lists]:
        problems.append(f"unknown column(s) {', '.join(bad)} of list {plan.listing}")
    if plan.aggregate and plan.aggregate.measure not in model.measures:
        problems.append(f"unknown row measure {plan.aggregate.measure}")
    if plan.time is not None and plan.time.end <= plan.time.start:
        problems.append(f"the period {plan.time.start} to {plan.time.end} is empty")
    choice = periods.matching(plan.time)
    if choice is None and not problems:
        problems.append(f"the period must be one the question names: {periods.text}")
    if problems:
        raise PlanProblem("; ".join(problems))
    assert choice is not None
    if choice.range is None:
        return plan
    return plan.model_copy(update={"time": choice.range})


def checked_assumptions(answer: Answer, model_keys: set[str]) -> tuple[Answer, int]:
    """The answer without model-written assumptions whose claims the result does not support."""
    kept: list[Assumption] = []
    dropped = 0
    for a in answer.assumptions:
        if a.key in model_keys and unsupported(a.text, answer):
            dropped += 1
            continue
        kept.append(a)
    return answer.model_copy(update={"assumptions": kept}), dropped


def checked_reason(reason: str, question: str, fallback: str) -> str:
    """A model's refusal reason, unless it states a number, date or name the question does not."""
    empty = Answer(status="refused", question=question)
    return fallback if unsupported(reason, empty) else reason
