"""What an answer is about, as chips: metric, breakdown, filters, period, currency.

The app shows them above every answer, so "VAT collected in Germany in 2025" says Germany and VAT
(and the period's time zone, and the currency) without opening the SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.core.answer import Answer, Period
from app.core.plan import Filter
from app.semantic.describe import OP_WORDS, filter_values, measure_text
from app.semantic.format import as_noun, format_day, format_span
from app.semantic.model import SemanticModel

ChipKind = Literal["metric", "breakdown", "filter", "period", "currency"]


@dataclass(frozen=True)
class Chip:
    """One fact of an answer's reading, shown as a chip."""

    kind: ChipKind
    text: str


def answer_chips(answer: Answer, model: SemanticModel) -> tuple[Chip, ...]:
    """The chips of an answered question, in reading order (none for an answer without a plan)."""
    plan = answer.plan
    if plan is None:
        return ()
    chips = [Chip("metric", measure_text(plan, model))]
    dims = [model.dimensions[d].label for d in plan.dimensions if d in model.dimensions]
    if plan.grain or dims:
        words = [plan.grain] if plan.grain else []
        chips.append(Chip("breakdown", "By " + " and ".join([*words, *map(as_noun, dims)])))
    chips += [Chip("filter", filter_chip(f, model)) for f in plan.filters]
    if answer.period is not None:
        chips.append(Chip("period", period_chip(answer.period)))
    if plan.by_currency:
        chips.append(Chip("currency", "Per original currency"))
    elif answer.currency and any(c.kind == "money" for c in answer.columns):
        chips.append(Chip("currency", answer.currency.upper()))
    return tuple(chips)


def filter_chip(f: Filter, model: SemanticModel) -> str:
    """A filter as a chip: "Tax country: Germany", "Card brand: not Visa", "Amount: over 1,000"."""
    dim = model.dimensions.get(f.dimension)
    label = dim.label if dim is not None else f.dimension.replace("_", " ").capitalize()
    if f.op in ("eq", "in"):
        return f"{label}: {filter_values(f)}"
    if f.op in ("neq", "not_in"):
        return f"{label}: not {filter_values(f).replace(' nor ', ' or ')}"
    return f"{label}: {OP_WORDS[f.op]} {filter_values(f)}"


def period_chip(period: Period) -> str:
    """The period with its time zone: "2025 (America/New_York)", "This year, 1 Jan – 5 Jul 2025".

    A balance is at a point: "At the end of 30 Jun 2025 (America/New_York)".
    """
    if period.point is not None:
        return f"At the end of {format_day(period.point)} ({period.timezone})"
    span = format_span(period.start, period.end)
    label = period.label.strip()
    if label and label.lower() != span.lower():
        span = f"{label[:1].upper()}{label[1:]}, {span}"
    return f"{span} ({period.timezone})"
