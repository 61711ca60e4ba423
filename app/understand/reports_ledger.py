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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Vocab:
    """One statement's phrase tables: its words, their companions, co-occurring groups, columns."""

    statement: Statement
    words: PhraseTable
    companions: PhraseTable | None
    together: tuple[PhraseTable, ...]
    columns: PhraseTable

    def named(self, text: str) -> tuple[int, int] | None:
        """Where the question names the statement (None: it does not).

        By one of its words (beside a companion phrase when it needs one), or by a phrase of
        each `together` group ("tax on invoices" … "Stripe Tax").
        """
        spans = self.words.spans(text)
        if spans and (self.companions is None or self.companions.spans(text)):
            return spans[0]
        if not self.together:
            return None
        firsts = []
        for table in self.together:  # every group must be said: stop at the first one missing
            spans = table.spans(text)
            if not spans:
                return None
            firsts.append(spans[0])
        return min(firsts)

    def blanked(self, text: str, masked: str) -> str:
        """`masked` with the statement's words, groups and column words in `text` blanked.

        They are found in the whole question: a time phrase may hold a column's words
        ("recognized in each month" is also a monthly grain).
        """
        for table in (self.words, *self.together, self.columns):
            for start, end in table.spans(text):
                masked = blank(masked, start, end)
        return blank_all(masked, _PER_CURRENCY)


_VOCABS: dict[str, tuple[_Vocab, ...]] = {}


def _vocabs(model: SemanticModel) -> tuple[_Vocab, ...]:
    """Each statement's phrase tables (built once per model)."""
    if model.sha256 not in _VOCABS:
        _VOCABS[model.sha256] = tuple(
            _Vocab(
                statement=s,
                words=PhraseTable(list(s.words)),
                companions=PhraseTable(list(s.with_words)) if s.with_words else None,
                together=tuple(PhraseTable(list(group)) for group in s.together),
                columns=PhraseTable(list(s.column_words)),
            )
            for s in model.statements.values()
        )
    return _VOCABS[model.sha256]


def read_statement(r: Reading, ctx: EngineContext) -> Reading:
    """Read a statement named in the question; blank its words, its column words and currency."""
    found = [(at, v) for v in _vocabs(ctx.model) if (at := v.named(r.text)) is not None]
    if not found:
        return r
    _, vocab = min(found, key=lambda f: (f[0][0], -f[0][1]))
    return amend(r, statement=vocab.statement.name, masked=vocab.blanked(r.text, r.masked))


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
