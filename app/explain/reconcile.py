"""Reconciliation notes: related figures that should add up, the exact difference and why.

The semantic model says which figures should add up to a metric (`reconciles`: net volume is
gross volume − refunds − disputes − Stripe fees; net new MRR is the change in MRR) and why they
can differ. Where the figures shown do not add up, the note gives the difference, computed
exactly (Decimal) from those figures, and the model's reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.core.answer import Column
from app.semantic.format import as_noun, format_change, format_value
from app.semantic.model import SemanticModel


@dataclass(frozen=True)
class Note:
    """A metric whose related figures do not add up to it: the difference and the note."""

    metric: str
    expected: Decimal  # what the parts add up to
    actual: Decimal
    text: str

    @property
    def difference(self) -> Decimal:
        """The metric minus what its parts add up to."""
        return self.actual - self.expected


def reconcile(columns: Sequence[Column], row: Sequence[Any], model: SemanticModel) -> list[Note]:
    """The notes for one row of figures (a page's KPIs): each metric whose parts do not add up."""
    names = [c.name for c in columns]
    notes = []
    for m in model.metrics.values():
        rec = m.reconciles
        if rec is None or m.name not in names or not all(p in names for _, p in rec.terms):
            continue
        cells = [row[names.index(p)] for _, p in rec.terms]
        if row[names.index(m.name)] is None or any(v is None for v in cells):
            continue
        actual = Decimal(str(row[names.index(m.name)]))
        expected = sum(
            (sign * Decimal(str(v)) for (sign, _), v in zip(rec.terms, cells, strict=True)),
            Decimal(0),
        )
        if actual == expected:
            continue
        col = columns[names.index(m.name)]
        parts = _parts(rec.terms, model)
        verb = "comes" if len(rec.terms) == 1 else "come"
        text = (
            f"{parts} {verb} to {format_value(expected, col)}, but {as_noun(m.label)} is "
            f"{format_value(actual, col)} "
            f"({format_change(actual - expected, col)}): {rec.gap}."
        )
        notes.append(Note(m.name, expected, actual, text[0].upper() + text[1:]))
    return notes


def _parts(terms: Sequence[tuple[int, str]], model: SemanticModel) -> str:
    """The parts as a formula of labels: "Gross volume − Refunds − … − Stripe fees"."""
    out = ""
    for i, (sign, name) in enumerate(terms):
        metric = model.metrics[name.removesuffix("_change")]
        label = metric.label if not name.endswith("_change") else f"the change in {metric.label}"
        out += label if i == 0 else f" {'−' if sign < 0 else '+'} {label}"
    return out
