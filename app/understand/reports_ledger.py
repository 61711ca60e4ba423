"""Statements: finance reports of a fixed shape named in the question, and their plan.

"Deferred revenue roll-forward for last month — opening balance, additions, …", "the October
2023 P&L by ledger account", "revenue waterfall for Q2 billings", "reconcile last month's tax on
invoices against Stripe Tax". A statement of data/semantic/statements.yaml is read when one of
its words is in the question; the words naming its columns, and "per currency" (a statement is
per original currency), are then used too and blanked. Anything else the other readers find
(a metric, a breakdown, a filter, a comparison, a conversion) cannot be added to a statement's
fixed shape: the plan refuses and says so, rather than answering without it.
"""

from __future__ import annotations

import re
from datetime import timedelta

from app.core.plan import Assumption, CannotAnswer, PlanResult, QueryPlan, TimeRange
from app.semantic.model import SemanticModel
from app.semantic.statements import Statement
from app.understand.phrases import PhraseTable
from app.understand.reading import EngineContext, Reading, amend, blank, blank_all

# "per currency", "in each currency", "for every currency and …": a statement's rows already are.
_PER_CURRENCY = re.compile(
    r"\b(?:(?:in|per|by|for|and)\s+(?:each|every|the|its|their|original)?\s*(?:original\s+)?"
    r"currenc(?:y|ies)|each\s+currency|per\s+original\s+currency)\b",
    re.I,
)
_WITH: dict[tuple[str, str], PhraseTable] = {}
_TABLES: dict[str, tuple[tuple[Statement, PhraseTable, PhraseTable], ...]] = {}


def _tables(model: SemanticModel) -> tuple[tuple[Statement, PhraseTable, PhraseTable], ...]:
    """Each statement with the phrase tables of its words and column words (per model)."""
    if model.sha256 not in _TABLES:
        _TABLES[model.sha256] = tuple(
            (s, PhraseTable(list(s.words)), PhraseTable(list(s.column_words)))
            for s in model.statements.values()
        )
    return _TABLES[model.sha256]


def read_statement(r: Reading, ctx: EngineContext) -> Reading:
    """Read a statement named in the question; blank its words, its column words and currency."""
    found = [
        (spans[0], s, columns)
        for s, words, columns in _tables(ctx.model)
        if (spans := words.spans(r.masked)) and _beside(s, r.masked)
    ]
    if not found:
        return r
    _, statement, columns = min(found, key=lambda f: (f[0][0], -f[0][1]))
    masked = r.masked
    for s, words, _ in _tables(ctx.model):
        if s.name == statement.name:
            for start, end in words.spans(masked):
                masked = blank(masked, start, end)
    for start, end in columns.spans(masked):
        masked = blank(masked, start, end)
    return amend(r, statement=statement.name, masked=blank_all(masked, _PER_CURRENCY))


def _beside(s: Statement, text: str) -> bool:
    """Whether a statement that needs a companion phrase ("number of invoices") has one."""
    if not s.with_words:
        return True
    key = ("with", s.name)
    if key not in _WITH:
        _WITH[key] = PhraseTable(list(s.with_words))
    return bool(_WITH[key].spans(text))


def statement_plan(r: Reading, ctx: EngineContext) -> PlanResult:
    """The plan of a statement question, or a refusal naming what the statement cannot take."""
    s = ctx.model.statements[r.statement or ""]
    extra = _extras(r, ctx.model, s)
    if extra:
        return CannotAnswer(
            reason=f"The {_noun(s.label)} has a fixed shape (per original currency, over one "
            f"period), so I can't add {' or '.join(extra)} to it.",
            reason_class="out_of_scope",
            suggestions=(_suggestion(s),),
        )
    if r.range is not None and r.range.start > ctx.as_of:
        return CannotAnswer(
            reason="I report what happened up to the as-of date; I don't forecast.",
            reason_class="future_forecast",
            suggestions=(_suggestion(s),),
        )
    trange = r.range
    if r.point is not None and trange is None:
        trange = TimeRange(start=r.point, end=r.point + timedelta(days=1), label=f"as of {r.point}")
    assumptions = [Assumption(key=f"{s.name}_definition", text=s.definition)]
    if trange is None:
        what = "the as-of day" if s.period == "as_of" else "the as-of month to date"
        text = f"No period was asked: {s.label} covers {what}."
        assumptions.append(Assumption(key="default_period", text=text))
    return QueryPlan(
        metrics=s.metrics,
        statement=s.name,
        time=trange,
        by_currency=True,
        assumptions=tuple(assumptions),
    )


def _extras(r: Reading, model: SemanticModel, s: Statement) -> list[str]:
    """What else the question asks that a statement cannot take, in words."""
    out: list[str] = []
    metrics = [model.metrics[m].label.lower() for m in r.metrics if m not in s.metrics]
    if metrics:
        out.append(", ".join(metrics))
    dims = [d for d in r.dimensions if d != "currency"]
    if dims:
        out.append("a breakdown by " + ", ".join(model.dimensions[d].label.lower() for d in dims))
    if r.filters or r.threshold is not None:
        out.append("a filter")
    if r.comparison is not None:
        out.append("a comparison")
    if r.currency is not None:
        out.append(f"a conversion to {r.currency.upper()}")
    if r.grain is not None and r.grain not in s.grains:
        out.append(f"a {r.grain}ly series")
    if r.listing or r.aggregate is not None or r.ranking_n is not None:
        out.append("a list or ranking")
    return out


def _noun(label: str) -> str:
    """A label inside a sentence: "income statement", but "AR aging report" keeps its acronym."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def _suggestion(s: Statement) -> str:
    """The statement asked plainly, as a question the engine answers."""
    return s.label if s.period == "as_of" else f"{s.label} for last month"
