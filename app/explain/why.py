"""'Why did it drop?': check the question's premise, then bridge the change driver by driver.

A "why" answer compares a period with the one before. Its first sentence says whether the
metric moved the way the question says ("MRR did not drop in March 2025; it rose 6.5% …"),
computed exactly (Decimal) from the result's current, previous and change columns. When the
semantic model gives the metric `drivers` (MRR: new, expansion, contraction, churn), the change
is bridged from the previous value to the current one through each driver, signed by the
model's `lowering`; what the drivers do not explain (converted amounts: exchange rates) is its
own step, so the bridge always ends on the figure shown. Every number is checked like all prose.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from app.core.answer import BridgeStep, Column, Period
from app.explain.numbers import check_numbers, period_numbers, q
from app.semantic.format import as_noun, format_change, format_span, format_value
from app.semantic.model import SemanticModel

Direction = Literal["up", "down"]
FX_STEP = "Exchange rates"
OTHER_STEP = "Other changes"


@dataclass(frozen=True)
class Claim:
    """What a 'why' question takes for granted: the metric went `direction` (`verb`: "drop")."""

    direction: Direction | None  # None: "why did it change?" claims no direction
    verb: str = "change"


@dataclass(frozen=True)
class Why:
    """The premise sentence (the headline), the explanation and the bridge of the change."""

    headline: str
    explanation: str
    numbers_verified: bool
    bridge: list[BridgeStep] = field(default_factory=list)


def explain_why(
    columns: Sequence[Column],
    row: Sequence[Any],
    *,
    metric: str,
    model: SemanticModel,
    claim: Claim,
    period: Period,
    compared: Period,
    converted: bool,
) -> Why | None:
    """The premise check and driver bridge of `metric` in a one-row comparison (None: no change)."""
    names = [c.name for c in columns]
    if not {metric, f"{metric}_previous", f"{metric}_change"} <= set(names):
        return None
    col = columns[names.index(metric)]
    cur, prev, change = (
        _dec(row[names.index(n)]) for n in (metric, f"{metric}_previous", f"{metric}_change")
    )
    if cur is None or prev is None or change is None:
        return None
    label = model.metrics[metric].label if metric in model.metrics else col.label or metric
    now, before = format_span(period.start, period.end), format_span(compared.start, compared.end)
    derived = [*period_numbers(period, None), *period_numbers(compared, None)]
    pct = None if prev == 0 else change / abs(prev) * 100
    if pct is not None:
        derived.append(q(abs(pct), "0.1"))
    moved = _moved(change, pct, col, before, prev, cur)
    went: Direction | None = "up" if change > 0 else "down" if change < 0 else None
    if claim.direction is not None and claim.direction != went:
        headline = f"{label} did not {claim.verb} in {now}; it {moved}."
    else:
        headline = f"{label} {moved.replace(' from ', f' in {now} from ', 1)}."
    bridge, text = _bridge(columns, row, metric, model, col, change, converted)
    if bridge:
        derived += [abs(s.amount) for s in bridge]
    explanation = f"{headline} {text}".strip()
    return Why(
        headline=headline,
        explanation=explanation,
        numbers_verified=check_numbers(explanation, columns, [row], derived),
        bridge=[
            BridgeStep(label=before, amount=prev, kind="start"),
            *bridge,
            BridgeStep(label=now, amount=cur, kind="end"),
        ]
        if bridge
        else [],
    )


def _moved(
    change: Decimal, pct: Decimal | None, col: Column, before: str, prev: Decimal, cur: Decimal
) -> str:
    """'rose 6.5% from February 2025 ($28,713.61 to $30,566.12)', or 'was unchanged …'."""
    if change == 0:
        return f"was unchanged from {before}, at {format_value(cur, col)}"
    verb = "rose" if change > 0 else "fell"
    size = f"{q(abs(pct), '0.1')}%" if pct is not None else format_value(abs(change), col)
    return f"{verb} {size} from {before} ({format_value(prev, col)} to {format_value(cur, col)})"


def _bridge(
    columns: Sequence[Column],
    row: Sequence[Any],
    metric: str,
    model: SemanticModel,
    col: Column,
    change: Decimal,
    converted: bool,
) -> tuple[list[BridgeStep], str]:
    """The change driver by driver (signed), the unexplained rest, and the sentence saying so."""
    m = model.metrics.get(metric)
    names = [c.name for c in columns]
    if m is None or not m.drivers or not all(d in names for d in m.drivers):
        return [], ""
    steps: list[BridgeStep] = []
    shifts: list[tuple[Decimal, str, str]] = []
    for d in m.drivers:
        sign = -1 if d in m.lowering else 1
        amount = (_dec(row[names.index(d)]) or Decimal(0)) * sign
        steps.append(BridgeStep(label=model.metrics[d].label, amount=amount))
        if f"{d}_change" in names and f"{d}_previous" in names:
            moved = _dec(row[names.index(f"{d}_change")]) or Decimal(0)
            was = format_value(row[names.index(f"{d}_previous")], col)
            shifts.append(
                (
                    moved,
                    model.metrics[d].label,
                    f"{was} to {format_value(row[names.index(d)], col)}",
                )
            )
    rest = change - sum((s.amount for s in steps), Decimal(0))
    if rest:
        steps.append(BridgeStep(label=FX_STEP if converted else OTHER_STEP, amount=rest))
    parts = ", ".join(f"{as_noun(s.label)} {format_change(s.amount, col)}" for s in steps)
    text = f"The change, driver by driver: {parts}."
    if rest and converted:
        text += (
            " Exchange rates: balances are converted at each period end's rate, movements at "
            "each day's rate."
        )
    if shifts and any(s[0] for s in shifts):
        moved, name, span = max(shifts, key=lambda s: abs(s[0]))
        text += (
            f" The biggest shift from the previous period: {as_noun(name)}, "
            f"{'up' if moved > 0 else 'down'} {format_value(abs(moved), col)} ({span})."
        )
    return steps, text


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
